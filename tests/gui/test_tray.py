"""Tray logic through signals, against the fake helper: states, menu per profile, notifications."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QLabel, QPushButton
from pytestqt.qtbot import QtBot

from tests.gui.fake_helper import ADDRESS, FakeHelper
from wizard.gui.flow.sessions import NoticeKind, TrayState
from wizard.gui.icons import state_icon
from wizard.gui.service import HelperService
from wizard.gui.tray import TrayApp
from wizard.helper.rpc import ConnectParams, DisconnectParams
from wizard.profiles.model import Profile
from wizard.profiles.secrets import SecretStore
from wizard.profiles.store import ProfileStore

E691 = "the server rejected the user name or password (MS-CHAPv2 failure, E=691)"


def make_app(store: ProfileStore, service: HelperService, keyring: SecretStore, use_tray: bool) -> TrayApp:
    app = TrayApp(store, service, keyring, use_tray=use_tray)
    asked: list[tuple[str, list[str]]] = []

    def ask(profile, missing, ask_user, done):  # type: ignore[no-untyped-def]
        asked.append((profile.name, [k.value for k in missing]))
        done({k.value: f"typed-{k.value}" for k in missing}, "")

    app.controller.ask_secrets = ask
    app.asked = asked  # type: ignore[attr-defined]
    return app


@pytest.fixture
def tray(
    qtbot: QtBot,
    store: ProfileStore,
    service: HelperService,
    keyring: SecretStore,
    fake_helper: FakeHelper,
    profiles: dict[str, Profile],
) -> Iterator[TrayApp]:
    app = make_app(store, service, keyring, use_tray=True)
    with qtbot.waitSignal(service.sessionsReset, timeout=5000):
        service.start()
    qtbot.waitUntil(lambda: app.controller.book.available, timeout=5000)
    yield app
    if app.connections is not None:
        app.connections.close()
    app.menu.deleteLater()


def kinds(app: TrayApp) -> list[NoticeKind]:
    return [n.kind for n in app.notices]


def trigger(app: TrayApp, name: str) -> None:
    app.menu.rebuild()
    action = app.menu.profile_actions()[name]
    assert action.isEnabled(), name
    action.trigger()


def icon_is(app: TrayApp, state: TrayState) -> bool:
    assert app.tray is not None
    return app.controller.book.overall_state() is state and app.tray.icon().cacheKey() == state_icon(state).cacheKey()


def test_menu_lists_every_profile(tray: TrayApp, profiles: dict[str, Profile]) -> None:
    actions = tray.menu.profile_actions()
    for profile in profiles.values():
        assert actions[f"connect:{profile.id}"].text() == profile.name
    assert {"newConnection", "openConnections", "quit", "header"} <= set(actions)
    assert "not connected" in actions["header"].text()
    assert icon_is(tray, TrayState.DISCONNECTED)


def test_connect_from_menu_uses_keyring_and_shows_connected(
    qtbot: QtBot, tray: TrayApp, fake_helper: FakeHelper, profiles: dict[str, Profile]
) -> None:
    office = profiles["Office"]
    trigger(tray, f"connect:{office.id}")
    assert tray.controller.book.profile_state(office.id) == "starting" and icon_is(tray, TrayState.CONNECTING)
    qtbot.waitUntil(lambda: tray.controller.book.profile_state(office.id) == "connected", timeout=5000)
    assert icon_is(tray, TrayState.CONNECTED)
    request = next(p for m, p in fake_helper.requests if m == "connect")
    assert isinstance(request, ConnectParams) and request.secrets == {"password": "office-pw"}
    assert tray.asked == []  # type: ignore[attr-defined]
    assert kinds(tray) == [NoticeKind.CONNECTED] and ADDRESS in tray.notices[0].body

    sid = next(iter(fake_helper.sessions))
    fake_helper.counters(sid, uptime=75.0, bytes_in=5 * 2**20, bytes_out=2048, rate_in=1000.0)
    qtbot.waitUntil(lambda: "5.0 MiB" in (tray.tray.toolTip() if tray.tray else ""), timeout=5000)
    tip = tray.tray.toolTip() if tray.tray else ""
    assert "Office: connected for 1:15" in tip and ADDRESS in tip and "2.0 KiB" in tip

    tray.menu.rebuild()
    actions = tray.menu.profile_actions()
    assert "connected for 1:15" in actions[f"title:{office.id}"].text()
    assert actions[f"disconnect:{office.id}"].text().strip() == "Disconnect"
    assert f"connect:{profiles['Home'].id}" in actions  # the others stay one click away

    trigger(tray, f"disconnect:{office.id}")
    qtbot.waitUntil(lambda: tray.controller.book.profile_state(office.id) == "disconnected", timeout=5000)
    assert any(isinstance(p, DisconnectParams) and p.session == sid for _, p in fake_helper.requests)
    assert kinds(tray) == [NoticeKind.CONNECTED]  # a disconnect you asked for is not news
    assert icon_is(tray, TrayState.DISCONNECTED)


def test_missing_password_is_asked_for(qtbot: QtBot, tray: TrayApp, fake_helper: FakeHelper, profiles: dict[str, Profile]) -> None:
    home = profiles["Home"]
    trigger(tray, f"connect:{home.id}")
    qtbot.waitUntil(lambda: tray.controller.book.profile_state(home.id) == "connected", timeout=5000)
    assert tray.asked == [("Home", ["password"])]  # type: ignore[attr-defined]
    request = next(p for m, p in fake_helper.requests if m == "connect")
    assert isinstance(request, ConnectParams) and request.secrets == {"password": "typed-password"}


def test_failure_notifies_with_the_plain_reason(
    qtbot: QtBot, tray: TrayApp, fake_helper: FakeHelper, profiles: dict[str, Profile]
) -> None:
    fake_helper.behaviour["bad"] = f"fail:{E691}"
    lab = profiles["Lab"]
    trigger(tray, f"connect:{lab.id}")
    qtbot.waitUntil(lambda: NoticeKind.FAILED in kinds(tray), timeout=5000)
    notice = tray.notices[-1]
    assert notice.title == "Could not connect Lab" and notice.body == E691
    assert icon_is(tray, TrayState.ERROR)
    assert E691 in tray.menu.profile_actions()[f"connect:{lab.id}"].text() or E691 in (tray.tray.toolTip() if tray.tray else "")
    log = [line.text for line in tray.controller.book.logs[lab.id]]
    assert any(E691 in line for line in log) and not any("lab-pw" in line for line in log)


def test_link_lost_reconnected_and_given_up(
    qtbot: QtBot, tray: TrayApp, fake_helper: FakeHelper, profiles: dict[str, Profile]
) -> None:
    office = profiles["Office"]
    trigger(tray, f"connect:{office.id}")
    qtbot.waitUntil(lambda: kinds(tray) == [NoticeKind.CONNECTED], timeout=5000)
    sid = next(iter(fake_helper.sessions))
    fake_helper.link_lost(sid)
    qtbot.waitUntil(lambda: NoticeKind.LOST in kinds(tray), timeout=5000)
    assert "no LCP echo replies" in tray.notices[-1].body and icon_is(tray, TrayState.CONNECTING)
    tray.menu.rebuild()
    assert tray.menu.profile_actions()[f"disconnect:{office.id}"].text().strip() == "Cancel"
    fake_helper.reconnected(sid)
    qtbot.waitUntil(lambda: NoticeKind.RECONNECTED in kinds(tray), timeout=5000)
    fake_helper.give_up(sid, "the gateway is unreachable; gave up after 5 reconnect attempts")
    qtbot.waitUntil(lambda: NoticeKind.DISCONNECTED in kinds(tray), timeout=5000)
    assert "gave up" in tray.notices[-1].body and icon_is(tray, TrayState.ERROR)
    assert kinds(tray) == [NoticeKind.CONNECTED, NoticeKind.LOST, NoticeKind.RECONNECTED, NoticeKind.DISCONNECTED]


def test_helper_restart_shows_unavailable_and_recovers(
    qtbot: QtBot, tray: TrayApp, fake_helper: FakeHelper, profiles: dict[str, Profile]
) -> None:
    office = profiles["Office"]
    trigger(tray, f"connect:{office.id}")
    qtbot.waitUntil(lambda: tray.controller.book.profile_state(office.id) == "connected", timeout=5000)
    fake_helper.stop()
    qtbot.waitUntil(lambda: NoticeKind.UNAVAILABLE in kinds(tray), timeout=5000)
    assert NoticeKind.DISCONNECTED in kinds(tray)  # the session died with the helper
    assert icon_is(tray, TrayState.ERROR)
    tray.menu.rebuild()
    actions = tray.menu.profile_actions()
    assert actions["header"].text() == "VPN service unavailable"
    assert not actions[f"connect:{office.id}"].isEnabled()
    assert "unavailable" in (tray.tray.toolTip() if tray.tray else "")
    fake_helper.start()
    qtbot.waitUntil(lambda: NoticeKind.AVAILABLE in kinds(tray), timeout=5000)
    trigger(tray, f"connect:{office.id}")
    qtbot.waitUntil(lambda: tray.controller.book.profile_state(office.id) == "connected", timeout=5000)


def test_new_connection_from_the_menu_can_connect_at_once(
    qtbot: QtBot, tray: TrayApp, fake_helper: FakeHelper
) -> None:
    trigger(tray, "newConnection")
    wizard = tray.wizard
    assert wizard is not None and wizard.isVisible()
    flow = wizard.flow  # type: ignore[attr-defined]
    flow.choose_protocol(flow.protocol.__class__("l2tp"))
    flow.answers.update(name="Fresh", host="192.0.2.77", username="dave", connect_now=True)
    flow.secrets[flow.needed_secrets()[0]] = "fresh-pw"
    wizard.accept()  # type: ignore[attr-defined]
    fresh = tray.store.find("Fresh")
    assert f"connect:{fresh.id}" in tray.menu.profile_actions() or tray.controller.book.profile_state(fresh.id) != "disconnected"
    qtbot.waitUntil(lambda: tray.controller.book.profile_state(fresh.id) == "connected", timeout=5000)
    request = [p for m, p in fake_helper.requests if m == "connect"][-1]
    assert isinstance(request, ConnectParams) and request.secrets == {"password": "fresh-pw"}


def test_connect_now_uses_what_was_typed_even_if_not_saved(qtbot: QtBot, tray: TrayApp, fake_helper: FakeHelper) -> None:
    trigger(tray, "newConnection")
    wizard = tray.wizard
    assert wizard is not None
    flow = wizard.flow  # type: ignore[attr-defined]
    flow.choose_protocol(flow.protocol.__class__("pptp"))
    flow.answers.update(name="Typed", host="192.0.2.78", username="erin", connect_now=True, credential_policy="username_only")
    flow.secrets[flow.needed_secrets()[0]] = "typed-once"
    wizard.accept()  # type: ignore[attr-defined]
    typed = tray.store.find("Typed")
    qtbot.waitUntil(lambda: tray.controller.book.profile_state(typed.id) == "connected", timeout=5000)
    assert tray.asked == []  # type: ignore[attr-defined]
    request = [p for m, p in fake_helper.requests if m == "connect"][-1]
    assert isinstance(request, ConnectParams) and request.secrets == {"password": "typed-once"}
    assert tray.controller.secret_store.get(typed, typed.auth.secrets[0]) is None  # used, not saved
    assert wizard.take_secrets() == {}  # type: ignore[attr-defined]


def test_open_connections_from_the_menu(tray: TrayApp, profiles: dict[str, Profile]) -> None:
    trigger(tray, "openConnections")
    assert tray.connections is not None and tray.connections.isVisible()


def test_window_fallback_without_a_system_tray(
    qtbot: QtBot,
    store: ProfileStore,
    service: HelperService,
    keyring: SecretStore,
    fake_helper: FakeHelper,
    profiles: dict[str, Profile],
) -> None:
    app = make_app(store, service, keyring, use_tray=False)
    assert app.tray is None and app.window is not None and app.window.isVisible()
    with qtbot.waitSignal(service.sessionsReset, timeout=5000):
        service.start()
    window = app.window
    office = profiles["Office"]

    def connect_button() -> QPushButton | None:
        button = window.findChild(QPushButton, f"connect:{office.id}")
        return button if isinstance(button, QPushButton) and button.isEnabled() else None

    qtbot.waitUntil(lambda: connect_button() is not None, timeout=5000)
    button = connect_button()
    assert button is not None
    button.click()
    qtbot.waitUntil(lambda: app.controller.book.profile_state(office.id) == "connected", timeout=5000)
    assert window.findChild(QPushButton, f"disconnect:{office.id}") is not None
    status = window.findChild(QLabel, f"status:{office.id}")
    assert isinstance(status, QLabel) and "connected for" in status.text()
    notice = window.findChild(QLabel, "notice")
    assert isinstance(notice, QLabel) and notice.isVisible() and "Connected to Office" in notice.text()
    overall = window.findChild(QLabel, "overallState")
    assert isinstance(overall, QLabel) and "Office: connected" in overall.text()
    window.close()  # closing the stand-in only minimises it: the app keeps running
    assert window.isVisible()
    app.quit()


def test_moves_to_a_tray_that_appears_after_start(
    qtbot: QtBot, store: ProfileStore, service: HelperService, keyring: SecretStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QSystemTrayIcon

    available = [False]
    monkeypatch.setattr(QSystemTrayIcon, "isSystemTrayAvailable", staticmethod(lambda: available[0]))
    app = TrayApp(store, service, keyring)
    assert app.tray is None and app.window is not None
    app._look_for_tray()
    assert app.tray is None and app.window is not None
    available[0] = True
    app._look_for_tray()
    assert app.tray is not None and app.window is None and not app._tray_watch.isActive()
    app.quit()
