"""The connections window against the fake helper: list, details, live counters, actions."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication
from pytestqt.qtbot import QtBot

from tests.gui.fake_helper import ADDRESS, FakeHelper
from wizard.gui.connections import ConnectionsWindow
from wizard.gui.controller import AppController
from wizard.gui.new_connection import NewConnectionWizard
from wizard.gui.service import HelperService
from wizard.logsetup import register_secret
from wizard.profiles.codec import import_document
from wizard.profiles.model import Profile, SecretKind


@pytest.fixture
def window(
    qtbot: QtBot, controller: AppController, service: HelperService, fake_helper: FakeHelper, profiles: dict[str, Profile]
) -> ConnectionsWindow:
    controller.reload_profiles()  # the profiles fixture ran after the controller read the store
    win = ConnectionsWindow(controller)
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(service.sessionsReset, timeout=5000):
        service.start()
    return win


def texts(win: ConnectionsWindow) -> list[str]:
    return [win.list.item(i).text() for i in range(win.list.count())]  # type: ignore[union-attr]


def connect_office(qtbot: QtBot, win: ConnectionsWindow, profiles: dict[str, Profile]) -> None:
    win.select(profiles["Office"].id)
    qtbot.waitUntil(win.connect_button.isEnabled, timeout=5000)
    assert win.connect_button.text() == "&Connect"
    win.connect_button.click()
    qtbot.waitUntil(lambda: win.controller.book.profile_state(profiles["Office"].id) == "connected", timeout=5000)


def test_list_and_details(window: ConnectionsWindow, profiles: dict[str, Profile]) -> None:
    assert [t.split("\n")[0] for t in texts(window)] == ["Home", "Lab", "Office"]
    assert all("not connected" in t for t in texts(window))
    window.select(profiles["Lab"].id)
    assert window.title.text() == "Lab" and "192.0.2.2" in window.subtitle.text()
    assert "L2TP" in window.profile_text.toPlainText()
    assert not window.banner.isVisible()
    assert all(not action.shortcut().isEmpty() for action in window.actions_by_name.values())  # keyboard reachable


def test_live_counters_graph_parameters_and_log(
    qtbot: QtBot, window: ConnectionsWindow, fake_helper: FakeHelper, profiles: dict[str, Profile]
) -> None:
    connect_office(qtbot, window, profiles)
    assert window.connect_button.text() == "&Disconnect"
    assert window.values["address"].text() == ADDRESS
    sid = next(iter(fake_helper.sessions))
    for second in range(1, 4):
        fake_helper.counters(sid, uptime=float(second), bytes_in=3000 * second, packets_in=3 * second, rate_in=3000.0, rate_out=500.0)
    qtbot.waitUntil(lambda: window.values["uptime"].text() == "0:03", timeout=5000)
    assert window.values["received"].text() == "8.8 KiB (9 packets)"
    assert "24.0 kbit/s" in window.values["speed"].text()
    assert len(window.graph.points) == 3 and "24.0 kbit/s" in window.graph.accessibleDescription()
    params = {
        window.parameters.item(r, 0).text(): window.parameters.item(r, 1).text()  # type: ignore[union-attr]
        for r in range(window.parameters.rowCount())
    }
    assert params["encryption"] == "MPPE-128 stateless" and params["address"] == ADDRESS
    log = window.log_view.toPlainText()
    assert "opening the control connection" in log and "connected" in log
    assert "office-pw" not in log
    assert "connected for 0:03" in texts(window)[2]


def test_copy_diagnostics_is_redacted(qtbot: QtBot, window: ConnectionsWindow, fake_helper: FakeHelper, profiles: dict[str, Profile]) -> None:
    register_secret("office-pw")
    connect_office(qtbot, window, profiles)
    window.actions_by_name["diagnostics"].trigger()
    report = QGuiApplication.clipboard().text()
    assert report == window.last_diagnostics and "Connection Wizard diagnostics" in report
    assert "MPPE-128 stateless" in report and "fake-helper" in report
    assert "office-pw" not in report and "alice" not in report and "[user]" in report


def test_edit_duplicate_delete_export(
    qtbot: QtBot, window: ConnectionsWindow, tmp_path: Path, profiles: dict[str, Profile]
) -> None:
    home = profiles["Home"]
    window.select(home.id)
    window.actions_by_name["edit"].trigger()
    wizard = window.wizard
    assert isinstance(wizard, NewConnectionWizard) and wizard.flow.editing == home
    wizard.flow.answers["name"] = "Home office"
    wizard.accept()
    assert window.title.text() == "Home office" and window.store.find("Home office").id == home.id

    window.actions_by_name["duplicate"].trigger()
    assert window.title.text() == "Home office (copy)"
    copy = window.store.find("Home office (copy)")
    assert copy.id != home.id and "not copied" in window.statusBar().currentMessage()

    window.confirm = lambda title, question: False
    window.actions_by_name["delete"].trigger()
    assert window.store.find("Home office (copy)").id == copy.id
    window.confirm = lambda title, question: "Home office (copy)" in question
    window.actions_by_name["delete"].trigger()
    assert [t.split("\n")[0] for t in texts(window)] == ["Home office", "Lab", "Office"]

    target = tmp_path / "out" / "lab.json"
    target.parent.mkdir()
    window.select(profiles["Lab"].id)
    window.ask_export_path = lambda suggested: target
    window.actions_by_name["export"].trigger()
    exported = import_document(json.loads(target.read_text()))
    assert exported == profiles["Lab"] and "lab-pw" not in target.read_text()


def test_active_connection_cannot_be_deleted(qtbot: QtBot, window: ConnectionsWindow, profiles: dict[str, Profile]) -> None:
    connect_office(qtbot, window, profiles)
    window.confirm = lambda title, question: True
    window.actions_by_name["delete"].trigger()
    assert "Disconnect" in window.statusBar().currentMessage()
    assert window.store.find("Office")


def test_drop_a_file_on_the_window_imports_it(qtbot: QtBot, window: ConnectionsWindow, tmp_path: Path, profiles: dict[str, Profile]) -> None:
    target = tmp_path / "office.json"
    window.select(profiles["Office"].id)
    window.ask_export_path = lambda suggested: target
    window.actions_by_name["export"].trigger()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(target))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        enter = QDragEnterEvent(QPoint(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    window.dragEnterEvent(enter)
    assert enter.isAccepted()
    window.dropEvent(QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier))
    dialog = window.import_dialog
    assert dialog is not None and dialog.name.text() == "Office (2)"
    dialog.import_button.click()
    assert window.title.text() == "Office (2)"
    imported = window.store.find("Office (2)")
    assert imported.id != profiles["Office"].id
    assert window.controller.secret_store.get(imported, SecretKind.PASSWORD) is None


def test_banner_when_the_service_is_away(qtbot: QtBot, window: ConnectionsWindow, fake_helper: FakeHelper, profiles: dict[str, Profile]) -> None:
    fake_helper.stop()
    qtbot.waitUntil(window.banner.isVisible, timeout=5000)
    assert "unavailable" in window.banner_text.text()
    window.select(profiles["Office"].id)
    assert not window.connect_button.isEnabled()
    fake_helper.start()
    qtbot.waitUntil(lambda: not window.banner.isVisible(), timeout=5000)
    assert window.connect_button.isEnabled()
