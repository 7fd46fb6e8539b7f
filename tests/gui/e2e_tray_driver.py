"""The GUI half of the end-to-end tray test, run as its own process on a real X display.

``python -m tests.gui.e2e_tray_driver SOCKET CONFIG_DIR OUT_DIR CLIENT_NETNS GATEWAY USER PASSWORD``

It starts the tray app against the real helper, creates a profile by typing into the New
Connection wizard, connects by clicking the profile in the tray menu (a real mouse click on the
popped-up menu), pings through the tunnel, reads the state, tooltip and counters, takes
screenshots of the whole screen (tray host included) and of the menu, disconnects from the menu,
and prints one JSON object with what it saw. The pytest side (``test_tray_e2e.py``) checks it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLineEdit, QRadioButton, QSystemTrayIcon, QWidget

from tests.memory_keyring import MemoryKeyring
from wizard.gui.app import ensure_application
from wizard.gui.flow.sessions import TrayState
from wizard.gui.icons import state_icon
from wizard.gui.new_connection import NewConnectionWizard
from wizard.gui.service import HelperService
from wizard.gui.tray import TrayApp
from wizard.profiles.secrets import SecretStore
from wizard.profiles.store import ProfileStore


def wait(app: QApplication, condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        app.processEvents()
        time.sleep(0.02)


def type_into(page: QWidget, name: str, text: str) -> None:
    edit = page.findChild(QLineEdit, name)
    assert isinstance(edit, QLineEdit), name
    edit.setFocus()
    QTest.keyClicks(edit, text)


def click_menu_action(app: QApplication, tray: TrayApp, name: str, shots: Path | None = None) -> None:
    """Pop the tray menu up under the icon and click the named entry with the mouse."""
    assert tray.tray is not None
    tray.menu.rebuild()
    where = tray.tray.geometry().bottomLeft() + QPoint(0, 2)
    tray.menu.popup(where)
    wait(app, tray.menu.isVisible, 5, "the tray menu")
    for _ in range(10):
        app.processEvents()
        time.sleep(0.02)
    if shots is not None:
        tray.menu.grab().save(str(shots))
        screen = app.primaryScreen()
        screen.grabWindow(0).save(str(shots.with_name(shots.stem.replace("tray-menu", "screen-menu") + ".png")))
    action = tray.menu.profile_actions()[name]
    QTest.mouseClick(tray.menu, Qt.MouseButton.LeftButton, pos=tray.menu.actionGeometry(action).center())
    wait(app, lambda: not tray.menu.isVisible(), 5, "the menu to close")


def main(argv: list[str]) -> int:
    socket_path, config_dir, out_dir, netns, gateway, user, password = argv
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    app = ensure_application(["e2e"])
    app.setQuitOnLastWindowClosed(False)
    store = ProfileStore(Path(config_dir))
    service = HelperService(Path(socket_path), retry_initial=0.1, retry_max=0.5)
    tray = TrayApp(store, service, SecretStore(MemoryKeyring()), use_tray=True)
    service.start()
    result: dict[str, Any] = {"system_tray": QSystemTrayIcon.isSystemTrayAvailable()}
    assert tray.tray is not None
    wait(app, lambda: tray.tray is not None and tray.tray.geometry().isValid() and tray.tray.geometry().width() > 0, 10, "the tray icon")
    result["tray_visible_after"] = round(time.monotonic() - started, 3)
    result["tray_geometry"] = list(tray.tray.geometry().getRect())
    wait(app, lambda: tray.controller.book.available, 10, "the helper")

    # Create the profile through the wizard, as a user would: New connection… from the tray menu.
    click_menu_action(app, tray, "newConnection")
    wizard = tray.wizard
    assert isinstance(wizard, NewConnectionWizard)
    wait(app, wizard.isVisible, 5, "the wizard")
    radio = wizard.currentPage().findChild(QRadioButton, "protocol_l2tp")
    assert isinstance(radio, QRadioButton)
    radio.click()
    wizard.next()
    type_into(wizard.currentPage(), "name", "Own gateway")
    type_into(wizard.currentPage(), "host", gateway)
    wizard.next()
    type_into(wizard.currentPage(), "username", user)
    type_into(wizard.currentPage(), "password", password)
    wizard.next()
    wizard.next()
    QApplication.processEvents()
    wizard.grab().save(str(out / "e2e-wizard-summary.png"))
    wizard.accept()
    profile = store.find("Own gateway")
    result["profile"] = {"id": profile.id, "protocol": profile.protocol.value, "host": profile.gateways[0].host}

    # Connect by clicking it in the tray menu.
    click_menu_action(app, tray, f"connect:{profile.id}")
    book = tray.controller.book
    wait(app, lambda: book.profile_state(profile.id) in ("connected", "disconnected") and profile.id not in book.starting, 60, "connected")
    result["state"] = book.profile_state(profile.id)
    if result["state"] != "connected":
        result["failure"] = book.last_failure.get(profile.id, "")
        result["log"] = [line.text for line in book.logs.get(profile.id, [])]
        print(json.dumps(result))
        return 1
    result["overall"] = book.overall_state().value
    result["icon_is_connected"] = tray.tray.icon().cacheKey() == state_icon(TrayState.CONNECTED).cacheKey()
    ping = subprocess.run(
        ["ip", "netns", "exec", netns, "ping", "-c", "5", "-i", "0.2", "-W", "2", "10.123.0.1"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    result["ping_ok"] = ping.returncode == 0

    def counted() -> bool:
        session = book.session_for(profile.id) or {}
        return float((session.get("counters") or {}).get("bytes_in", 0)) > 0

    wait(app, counted, 10, "counters")
    session = book.session_for(profile.id) or {}
    result["counters"] = session.get("counters")
    result["negotiated"] = session.get("negotiated")
    result["tooltip"] = tray.tray.toolTip()
    result["notices"] = [n.kind.value for n in tray.notices]
    tray.refresh()
    for _ in range(20):
        app.processEvents()
        time.sleep(0.02)
    screen = app.primaryScreen()
    screen.grabWindow(0).save(str(out / "e2e-screen-connected.png"))
    click_menu_action(app, tray, f"disconnect:{profile.id}", shots=out / "e2e-tray-menu-connected.png")
    wait(app, lambda: book.profile_state(profile.id) == "disconnected", 30, "disconnected")
    result["final_state"] = book.profile_state(profile.id)
    result["final_overall"] = book.overall_state().value
    result["notices"] = [n.kind.value for n in tray.notices]
    print(json.dumps(result))
    service.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
