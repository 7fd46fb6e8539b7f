"""HelperService against the fake helper: availability, reconnecting after a restart, calls and events."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytestqt.qtbot import QtBot

from tests.gui.conftest import l2tp_profile
from tests.gui.fake_helper import FakeHelper
from wizard.gui.service import HelperService
from wizard.helper.rpc import ConnectParams


def test_no_helper_then_helper_appears(qtbot: QtBot, service: HelperService, socket_path: Path) -> None:
    with qtbot.waitSignal(service.availabilityChanged, timeout=5000) as down:
        service.start()
    assert down.args[0] is False and "not running" in down.args[1]
    helper = FakeHelper(socket_path)
    seen: list[tuple[bool, str]] = []
    service.availabilityChanged.connect(lambda ok, why: seen.append((ok, why)))
    try:
        with qtbot.waitSignal(service.sessionsReset, timeout=5000):
            helper.start()
        assert service.available and service.server_info["server"] == "fake-helper"
        assert seen[-1] == (True, "")
        assert helper.methods()[:2] == ["hello", "subscribe"]
    finally:
        helper.shutdown()


def test_calls_while_unavailable_fail_at_once(qtbot: QtBot, service: HelperService) -> None:
    with qtbot.waitSignal(service.availabilityChanged, timeout=5000):
        service.start()
    with qtbot.waitSignal(service.callFailed, timeout=5000) as failed:
        token = service.connect_profile(l2tp_profile("Office"), {"password": "pw"})
    assert failed.args[0] == token and failed.args[1] == "unavailable"


def test_connect_returns_at_once_and_answers_later(qtbot: QtBot, service: HelperService, fake_helper: FakeHelper) -> None:
    with qtbot.waitSignal(service.sessionsReset, timeout=5000):
        service.start()
    finished: list[tuple[int, Any]] = []
    events: list[dict[str, Any]] = []
    service.callFinished.connect(lambda token, result: finished.append((token, result)))
    service.eventReceived.connect(events.append)
    profile = l2tp_profile("Office")
    token = service.connect_profile(profile, {"password": "pw"})
    assert finished == []  # nothing is answered inside the call: the UI thread never waits
    qtbot.waitUntil(lambda: bool(finished), timeout=5000)
    assert finished[0][0] == token and finished[0][1]["state"] == "connecting"
    qtbot.waitUntil(lambda: any(e.get("state") == "connected" for e in events), timeout=5000)
    assert [e["event"] for e in events][:2] == ["progress", "state"]
    request = next(p for m, p in fake_helper.requests if m == "connect")
    assert isinstance(request, ConnectParams) and request.secrets == {"password": "pw"}
    assert request.profile == profile


def test_helper_error_reaches_the_caller(qtbot: QtBot, service: HelperService, fake_helper: FakeHelper) -> None:
    with qtbot.waitSignal(service.sessionsReset, timeout=5000):
        service.start()
    with qtbot.waitSignal(service.callFailed, timeout=5000) as failed:
        service.disconnect_session("nope")
    assert failed.args[1] == "not_found" and "no session 'nope'" in failed.args[2]


def test_survives_a_helper_restart(qtbot: QtBot, service: HelperService, fake_helper: FakeHelper) -> None:
    with qtbot.waitSignal(service.sessionsReset, timeout=5000):
        service.start()
    with qtbot.waitSignal(service.availabilityChanged, timeout=5000) as down:
        fake_helper.stop()
    assert down.args[0] is False and not service.available
    with qtbot.waitSignal(service.availabilityChanged, timeout=5000) as up:
        fake_helper.start()
    assert up.args[0] is True
    with qtbot.waitSignal(service.callFinished, timeout=5000) as status:
        service.status()
    assert status.args[1] == []
    assert fake_helper.methods().count("subscribe") == 2


def test_blocking_work_runs_off_the_ui_thread(qtbot: QtBot, service: HelperService) -> None:
    import threading

    service.start()
    with qtbot.waitSignal(service.callFinished, timeout=5000) as done:
        service.run_blocking(lambda: threading.current_thread().name)
    assert done.args[1] != threading.current_thread().name
    with qtbot.waitSignal(service.callFailed, timeout=5000) as failed:
        service.run_blocking(lambda: 1 / 0)
    assert "division" in failed.args[2]


def test_dropped_subscription_is_renewed(qtbot: QtBot, service: HelperService, fake_helper: FakeHelper) -> None:
    with qtbot.waitSignal(service.sessionsReset, timeout=5000):
        service.start()
    events: list[dict[str, Any]] = []
    service.eventReceived.connect(events.append)
    with qtbot.waitSignal(service.sessionsReset, timeout=5000):
        fake_helper.drop_subscription()
    assert fake_helper.methods().count("subscribe") == 2
    assert events == []  # the note is handled by the service, not passed on
