"""Render every wizard page, the tray menu, the fallback window and the connections window to PNGs.

Run under Xvfb for real fonts and window decorations-free grabs::

    xvfb-run -a -s "-screen 0 1280x1024x24" .venv/bin/python -m tests.gui.screenshots docs/screenshots

The session state is fed straight into the controller (no helper needed), so the pictures are the
same on every run. ``tests/gui/test_screenshots.py`` renders the same set into a temporary
directory (or ``$CW_SCREENSHOTS``) during the normal test run.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QApplication, QWidget

from tests.memory_keyring import MemoryKeyring
from wizard.gui.app import ensure_application
from wizard.gui.connections import ConnectionsWindow
from wizard.gui.controller import AppController
from wizard.gui.flow.importing import preview_import
from wizard.gui.importing import ImportDialog
from wizard.gui.new_connection import NewConnectionWizard
from wizard.gui.service import HelperService
from wizard.gui.tray import TrayApp
from wizard.profiles.codec import export_document
from wizard.profiles.model import (
    DNS,
    Auth,
    Gateway,
    KillSwitch,
    MppePolicy,
    PPPOptions,
    Profile,
    Protocol,
    Routing,
    SecretKind,
    TunnelMode,
)
from wizard.profiles.secrets import SecretStore
from wizard.profiles.store import ProfileStore

NOW = 1_700_000_000.0


def _settle(app: QApplication, rounds: int = 5) -> None:
    for _ in range(rounds):
        app.processEvents()
        time.sleep(0.02)


def _save(widget: QWidget, path: Path) -> Path:
    pixmap = widget.grab()
    if not pixmap.save(str(path)):
        raise RuntimeError(f"could not write {path}")
    return path


def demo_profiles() -> list[Profile]:
    return [
        Profile(
            name="Office",
            protocol=Protocol.L2TP_IPSEC,
            gateways=(Gateway("vpn.example.com", "Berlin"), Gateway("vpn2.example.com", "Hamburg")),
            auth=Auth(username="alice", secrets=(SecretKind.PASSWORD, SecretKind.PSK)),
            ppp=PPPOptions(mppe=MppePolicy.REFUSE),
            routing=Routing(mode=TunnelMode.SPLIT, routes=("10.0.0.0/8",)),
            dns=DNS(split_domains=("corp.example.com",)),
            kill_switch=KillSwitch(enabled=True),
        ),
        Profile(name="Lab (L2TP)", protocol=Protocol.L2TP, gateways=(Gateway("192.0.2.2"),), auth=Auth(username="alice"),
                ppp=PPPOptions(mppe=MppePolicy.ALLOW)),
        Profile(name="Old branch (PPTP)", protocol=Protocol.PPTP, gateways=(Gateway("198.51.100.7"),), auth=Auth(username="alice")),
    ]


def _state(session: dict[str, Any], state: str, message: str, **info: Any) -> dict[str, Any]:
    session.update(state=state, message=message, **info)
    return {"event": "state", "session": session["id"], "state": state, "message": message, "reason": "", "info": dict(session)}


def feed_connected_session(controller: AppController, profile: Profile) -> None:
    """A session that connected a minute ago, with two minutes of plausible traffic."""
    session: dict[str, Any] = {
        "id": "3f2a9c1d0b7e", "profile_id": profile.id, "name": profile.name, "protocol": profile.protocol.value,
        "state": "connecting", "message": "starting", "reason": "", "kill_switch": True, "negotiated": {},
        "counters": {"uptime": 0.0},
    }  # fmt: skip
    controller._on_available(True, "")
    controller.book.connect_requested(profile.id, NOW - 130)
    controller.book.connect_started(session)
    events = [
        {"event": "progress", "session": session["id"], "phase": "ike", "message": "IKE main mode with vpn.example.com (NAT-T)"},
        {"event": "progress", "session": session["id"], "phase": "l2tp", "message": "L2TP tunnel and session up"},
        {"event": "progress", "session": session["id"], "phase": "ppp-auth", "message": "signing in with MS-CHAPv2"},
    ]
    for i, event in enumerate(events):
        controller.book.apply_event(event, NOW - 128 + i)
    negotiated = {
        "protocol": "l2tp_ipsec", "gateway": "vpn.example.com (203.0.113.10)", "ike": "AES-256-GCM / PRF-SHA384 / ECP-384",
        "esp": "AES-256-GCM (UDP-encapsulated)", "authentication": "MS-CHAPv2", "encryption": "IPsec (MPPE not needed)",
        "address": "10.20.0.17", "peer address": "10.20.0.1", "dns": "10.20.0.53, 10.20.0.54", "mtu": "1400",
        "interface": "cw0",
    }  # fmt: skip
    controller.book.apply_event(_state(session, "connected", "connected", negotiated=negotiated), NOW - 125)
    total_in = total_out = 0.0
    for second in range(120):
        rate_in = 180_000 + 140_000 * ((second * 7) % 13) / 13 + (600_000 if 40 <= second < 55 else 0)
        rate_out = 25_000 + 20_000 * ((second * 5) % 11) / 11
        total_in += rate_in
        total_out += rate_out
        counters = {"uptime": 5.0 + second, "bytes_in": total_in, "bytes_out": total_out, "packets_in": total_in / 900,
                    "packets_out": total_out / 300, "dropped": 0, "rate_in": rate_in, "rate_out": rate_out}  # fmt: skip
        controller.book.apply_event({"event": "counters", "session": session["id"], "counters": counters}, NOW - 120 + second)
    controller.changed.emit()


def render_all(outdir: Path) -> list[Path]:
    app = ensure_application(["screenshots"])
    outdir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="cw-shots-"))
    store = ProfileStore(work / "config")
    keyring = SecretStore(MemoryKeyring())
    written: list[Path] = []

    # --- the wizard, page by page, with realistic answers and one visible problem per page ------
    wizard = NewConnectionWizard(store, keyring)
    wizard.show()
    _settle(app)
    written.append(_save(wizard, outdir / "wizard-1-type.png"))
    wizard.next()
    page = wizard.currentPage()
    book = work / "phonebook.json"
    book.write_text(json.dumps({"gateways": [
        {"host": "vpn.example.com", "label": "Berlin", "region": "EU"},
        {"host": "vpn-us.example.com", "label": "Boston", "region": "US"},
    ]}))  # fmt: skip
    page.load_phonebook_file(book)  # type: ignore[attr-defined]
    page.name.setText("Office")  # type: ignore[attr-defined]
    _settle(app)
    written.append(_save(wizard, outdir / "wizard-2-gateway.png"))
    page.host.setText("vpn.example")  # type: ignore[attr-defined]
    page.host.setText("vpn .example.com")  # type: ignore[attr-defined]
    _settle(app)
    written.append(_save(wizard, outdir / "wizard-2-gateway-error.png"))
    page.host.setText("vpn.example.com")  # type: ignore[attr-defined]
    wizard.next()
    page = wizard.currentPage()
    page.username.setText("alice")  # type: ignore[attr-defined]
    page.secret_edits[SecretKind.PASSWORD].setText("correct horse")  # type: ignore[attr-defined]
    page.secret_edits[SecretKind.PSK].setText("x")  # type: ignore[attr-defined]
    page.secret_edits[SecretKind.PSK].clear()  # type: ignore[attr-defined]
    _settle(app)
    written.append(_save(wizard, outdir / "wizard-3-signin.png"))
    page.secret_edits[SecretKind.PSK].setText("battery staple")  # type: ignore[attr-defined]
    wizard.next()
    page = wizard.currentPage()
    page.findChild(QWidget, "tunnel_split").click()  # type: ignore[union-attr]
    page.routes.setText("10.0.0.0/8, 172.16.0.0/12")  # type: ignore[attr-defined]
    page.ike.setText("aes256-sha256-modp2048, 3des-sha1-modp1024")  # type: ignore[attr-defined]
    _settle(app)
    written.append(_save(wizard, outdir / "wizard-4-options.png"))
    page.legacy.click()  # type: ignore[attr-defined]
    _settle(app)
    bar = page.scroll_area.verticalScrollBar()  # type: ignore[attr-defined]
    bar.setValue(bar.maximum())
    _settle(app)
    written.append(_save(wizard, outdir / "wizard-4-options-legacy.png"))
    page.legacy.click()  # type: ignore[attr-defined]
    page.ike.setText("aes256gcm16-prfsha384-ecp384, aes256-sha256-modp2048")  # type: ignore[attr-defined]
    wizard.next()
    wizard.currentPage().findChild(QWidget, "connect_now").click()  # type: ignore[union-attr]
    _settle(app)
    written.append(_save(wizard, outdir / "wizard-5-summary.png"))
    wizard.close()

    # --- import preview --------------------------------------------------------------------------
    pptp = demo_profiles()[2]
    exported = work / "branch-office.json"
    exported.write_text(json.dumps(export_document(pptp)))
    dialog = ImportDialog(preview_import(exported), store)
    dialog.show()
    _settle(app)
    written.append(_save(dialog, outdir / "import-preview.png"))
    dialog.close()

    # --- tray menu, fallback window and connections window with a live session -------------------
    for profile in demo_profiles():
        store.save(profile)
    service = HelperService(work / "no-helper.sock")  # never started: the state is fed in directly
    tray = TrayApp(store, service, keyring, use_tray=False)
    office = store.find("Office")
    feed_connected_session(tray.controller, office)
    failed = store.find("Lab (L2TP)")
    tray.controller.book.last_failure[failed.id] = "the server rejected the user name or password (MS-CHAPv2 failure, E=691)"
    tray.refresh()
    tray.menu.rebuild(force=True)
    tray.menu.popup(QPoint(40, 40))
    _settle(app)
    written.append(_save(tray.menu, outdir / "tray-menu.png"))
    tray.menu.hide()
    window = tray.window
    assert window is not None
    window.show_notice(tray.controller.book.set_available(True, "", NOW) or _connected_notice(office.name))
    window.refresh()
    window.adjustSize()
    _settle(app)
    written.append(_save(window, outdir / "tray-fallback-window.png"))

    connections = ConnectionsWindow(tray.controller, keyring)
    connections.select(office.id)
    connections.show()
    _settle(app)
    written.append(_save(connections, outdir / "connections-window.png"))
    connections.tabs.setCurrentIndex(1)
    _settle(app)
    written.append(_save(connections, outdir / "connections-parameters.png"))
    connections.tabs.setCurrentIndex(2)
    _settle(app)
    written.append(_save(connections, outdir / "connections-log.png"))
    tray.controller._on_available(False, "the Connection Wizard helper is not running (nothing answers on /run/connection-wizard/helper.sock).")
    connections.select(failed.id)
    connections.tabs.setCurrentIndex(0)
    _settle(app)
    written.append(_save(connections, outdir / "connections-service-unavailable.png"))
    connections.close()
    window.hide()
    return written


def _connected_notice(name: str) -> Any:
    from wizard.gui.flow.sessions import Notice, NoticeKind

    return Notice(NoticeKind.CONNECTED, f"Connected to {name}", "Your address is 10.20.0.17.")


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")
    for path in render_all(target):
        print(path)
