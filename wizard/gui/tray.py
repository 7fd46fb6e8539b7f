"""The tray app: a state icon with a menu of every connection, notifications, and a window fallback.

``connection-wizard tray`` runs :func:`run_tray`. With a system tray (KDE, XFCE, GNOME with an
AppIndicator extension, or any XEmbed tray host) it shows a :class:`QSystemTrayIcon`; without one
(plain GNOME) a small :class:`StatusWindow` does the same job and shows notices inline. The menu
and the window are drawn from the same :class:`~wizard.gui.flow.sessions.MenuEntry` list.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QCursor
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSystemTrayIcon,
    QVBoxLayout,
    QWidget,
)

from wizard.gui.controller import AppController
from wizard.gui.flow.sessions import MenuEntry, Notice, TrayState
from wizard.gui.icons import app_icon, profile_state_icon, state_icon
from wizard.gui.qtcompat import emit
from wizard.gui.service import HelperService
from wizard.gui.theme import style_error
from wizard.profiles.store import ProfileStore

if TYPE_CHECKING:
    from wizard.profiles.secrets import SecretStore

NOTICE_MS = 6000
TRAY_POLL_MS = 1000
TRAY_POLLS = 60  # look for a late tray host during the first minute


def _signature(entries: list[MenuEntry]) -> list[tuple[str, str | None, str, bool]]:
    """What changes the menu's structure (titles alone are updated in place)."""
    return [(e.profile_id, e.action, e.action_label, e.enabled) for e in entries]


class TrayMenu(QMenu):
    """Header, one entry per profile (click connects; active ones show status and disconnect), actions."""

    newConnection = Signal()
    openConnections = Signal(str)  # profile id to select, or ""
    quitRequested = Signal()

    def __init__(self, controller: AppController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trayMenu")
        self.controller = controller
        self._signature: list[tuple[str, str | None, str, bool]] | None = None
        self._titles: dict[str, QAction] = {}
        self.setToolTipsVisible(True)
        self.header = self._new_header()
        self.rebuild()

    def _new_header(self) -> QAction:
        header = QAction(self)
        header.setObjectName("header")
        header.setEnabled(False)
        return header

    def _state_text(self, state: TrayState) -> str:
        return {
            TrayState.DISCONNECTED: self.tr("not connected"),
            TrayState.CONNECTING: self.tr("connecting…"),
            TrayState.CONNECTED: self.tr("connected"),
            TrayState.ERROR: self.tr("needs attention"),
        }[state]

    def profile_actions(self) -> dict[str, QAction]:
        return {a.objectName(): a for a in self.actions() if a.objectName()}

    def rebuild(self, force: bool = False) -> None:
        book = self.controller.book
        entries = book.menu_entries()
        state = book.overall_state()
        rebuild = force or _signature(entries) != self._signature
        if rebuild:
            self.clear()  # deletes the actions the menu owns, the header included
            self.header = self._new_header()
        if book.available:
            self.header.setText(self.tr("Connection Wizard: {state}").format(state=self._state_text(state)))
        else:
            self.header.setText(self.tr("VPN service unavailable"))
        self.header.setIcon(state_icon(state))
        if not rebuild:
            for entry in entries:
                action = self._titles.get(entry.profile_id)
                if action is not None:
                    action.setText(entry.title)
                    action.setToolTip(entry.detail)
                    action.setIcon(profile_state_icon(entry.state))
            return
        self._signature = _signature(entries)
        self._titles.clear()
        self.addAction(self.header)
        self.addSeparator()
        if not entries:
            empty = self.addAction(self.tr("No connections yet"))
            empty.setEnabled(False)
        for entry in entries:
            self._add_entry(entry)
        self.addSeparator()
        new = self.addAction(self.tr("&New connection…"))
        new.setObjectName("newConnection")
        new.triggered.connect(self.newConnection)
        open_ = self.addAction(self.tr("&Open connections…"))
        open_.setObjectName("openConnections")
        open_.triggered.connect(lambda: emit(self.openConnections, ""))
        self.addSeparator()
        quit_ = self.addAction(self.tr("&Quit"))
        quit_.setObjectName("quit")
        quit_.triggered.connect(self.quitRequested)

    def _add_entry(self, entry: MenuEntry) -> None:
        pid = entry.profile_id
        if entry.action == "connect":
            action = self.addAction(profile_state_icon(entry.state), entry.title)
            action.setObjectName(f"connect:{pid}")
            action.setToolTip(entry.detail if entry.detail != self.tr("not connected") else self.tr("Connect {name}").format(name=entry.name))
            action.setEnabled(entry.enabled)
            action.triggered.connect(lambda: self.controller.connect_profile(pid))
            self._titles[pid] = action
            return
        title = self.addAction(profile_state_icon(entry.state), entry.title)
        title.setObjectName(f"title:{pid}")
        title.setToolTip(entry.detail)
        title.triggered.connect(lambda: emit(self.openConnections, pid))
        self._titles[pid] = title
        if entry.action is not None:
            act = self.addAction("      " + entry.action_label)
            act.setObjectName(f"{entry.action}:{pid}")
            act.setEnabled(entry.enabled)
            act.triggered.connect(lambda: self.controller.disconnect_profile(pid))


class StatusWindow(QWidget):
    """The tray's stand-in when the desktop has no system tray: same entries, same actions."""

    def __init__(self, controller: AppController, menu: TrayMenu) -> None:
        super().__init__()
        self.controller = controller
        self.menu = menu
        self.setObjectName("statusWindow")
        self.setWindowTitle(self.tr("Connection Wizard"))
        self.setWindowIcon(app_icon())
        layout = QVBoxLayout(self)
        head = QHBoxLayout()
        self.icon = QLabel()
        self.icon.setAccessibleName(self.tr("Overall state"))
        self.state = QLabel()
        self.state.setObjectName("overallState")
        head.addWidget(self.icon)
        head.addWidget(self.state, 1)
        layout.addLayout(head)
        self.rows_box = QVBoxLayout()
        layout.addLayout(self.rows_box)
        self.notice = QLabel()
        self.notice.setObjectName("notice")
        self.notice.setWordWrap(True)
        self.notice.setVisible(False)
        layout.addWidget(self.notice)
        buttons = QHBoxLayout()
        for text, name, slot in (
            (self.tr("&New connection…"), "newConnection", lambda: emit(menu.newConnection)),
            (self.tr("&Open connections…"), "openConnections", lambda: emit(menu.openConnections, "")),
            (self.tr("&Quit"), "quit", lambda: emit(menu.quitRequested)),
        ):
            button = QPushButton(text)
            button.setObjectName(name)
            button.clicked.connect(slot)
            buttons.addWidget(button)
        layout.addLayout(buttons)
        self._rows: dict[str, tuple[QLabel, QLabel, QPushButton]] = {}
        self._signature: list[tuple[str, str | None, str, bool]] | None = None
        self._hide_notice = QTimer(self)
        self._hide_notice.setSingleShot(True)
        self._hide_notice.timeout.connect(lambda: self.notice.setVisible(False))
        self.refresh()
        self.setMinimumWidth(380)

    def refresh(self) -> None:
        book = self.controller.book
        state = book.overall_state()
        self.icon.setPixmap(state_icon(state).pixmap(32, 32))
        self.state.setText(book.tooltip())
        entries = book.menu_entries()
        if _signature(entries) != self._signature:
            self._signature = _signature(entries)
            self._build_rows(entries)
        for entry in entries:
            icon, text, _button = self._rows[entry.profile_id]
            icon.setPixmap(profile_state_icon(entry.state).pixmap(16, 16))
            text.setText(entry.title)
            text.setToolTip(entry.detail)

    def _build_rows(self, entries: list[MenuEntry]) -> None:
        while self.rows_box.count():
            item = self.rows_box.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.setParent(None)  # gone from findChild at once, freed later
                widget.deleteLater()
        self._rows.clear()
        for entry in entries:
            row = QWidget()
            line = QHBoxLayout(row)
            line.setContentsMargins(0, 0, 0, 0)
            icon, text = QLabel(), QLabel(entry.title)
            text.setObjectName(f"status:{entry.profile_id}")
            button = QPushButton(entry.action_label or self.tr("Wait…"))
            button.setObjectName(f"{entry.action or 'wait'}:{entry.profile_id}")
            button.setAccessibleName(f"{entry.action_label} {entry.name}")
            button.setEnabled(entry.enabled and entry.action is not None)
            pid = entry.profile_id
            button.clicked.connect(lambda _=False, pid=pid: self.controller.toggle(pid))
            line.addWidget(icon)
            line.addWidget(text, 1)
            line.addWidget(button)
            self.rows_box.addWidget(row)
            self._rows[pid] = (icon, text, button)
        if not entries:
            empty = QLabel(self.tr("No connections yet. Create one with “New connection…”."))
            self.rows_box.addWidget(empty)

    def show_notice(self, notice: Notice) -> None:
        self.notice.setText(f"<b>{notice.title}</b><br>{notice.body}" if notice.body else f"<b>{notice.title}</b>")
        if notice.is_error:
            style_error(self.notice)
        else:
            self.notice.setStyleSheet("")
        self.notice.setVisible(True)
        self._hide_notice.start(NOTICE_MS * 3)

    def closeEvent(self, event: QCloseEvent) -> None:
        # Closing the only window of a tray stand-in would leave nothing to quit with: minimise instead.
        event.ignore()
        self.showMinimized()


class TrayApp(QObject):
    """Composes the controller with a tray icon (or the window fallback) and the other windows."""

    def __init__(
        self,
        store: ProfileStore,
        service: HelperService,
        secrets: SecretStore | None = None,
        *,
        use_tray: bool | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.service = service
        self.controller = AppController(store, service, secrets, parent=self)
        self.menu = TrayMenu(self.controller)
        self.menu.newConnection.connect(self.new_connection)
        self.menu.openConnections.connect(self.open_connections)
        self.menu.quitRequested.connect(self.quit)
        self.menu.aboutToShow.connect(lambda: self.menu.rebuild())
        watch_for_tray = use_tray is None
        if use_tray is None:
            use_tray = QSystemTrayIcon.isSystemTrayAvailable()
        self.tray: QSystemTrayIcon | None = None
        self.window: StatusWindow | None = None
        if use_tray:
            self._show_tray_icon()
        else:
            self.window = StatusWindow(self.controller, self.menu)
            self.controller.prompt_parent = self.window
            self.window.show()
        # At login the panel may start after us: keep looking for a tray for a while, then move there.
        self._tray_watch = QTimer(self)
        self._tray_watch.setInterval(TRAY_POLL_MS)
        self._tray_polls = 0
        self._tray_watch.timeout.connect(self._look_for_tray)
        if watch_for_tray and not use_tray:
            self._tray_watch.start()
        self.connections: QWidget | None = None
        self.wizard: QWidget | None = None
        self.notices: list[Notice] = []
        self.controller.changed.connect(self.refresh)
        self.controller.notify.connect(self.show_notice)
        self.refresh()

    def _show_tray_icon(self) -> None:
        self.tray = QSystemTrayIcon(state_icon(self.controller.book.overall_state()), self)
        self.tray.setContextMenu(self.menu)
        self.tray.activated.connect(self._activated)
        self.tray.setToolTip(self.controller.book.tooltip())
        self.tray.show()

    def _look_for_tray(self) -> None:
        self._tray_polls += 1
        if QSystemTrayIcon.isSystemTrayAvailable():
            self._tray_watch.stop()
            self._show_tray_icon()
            if self.window is not None:
                self.window.hide()
                self.window.deleteLater()
                self.window = None
                self.controller.prompt_parent = None
        elif self._tray_polls >= TRAY_POLLS:
            self._tray_watch.stop()

    def refresh(self) -> None:
        book = self.controller.book
        if self.tray is not None:
            self.tray.setIcon(state_icon(book.overall_state()))
            self.tray.setToolTip(book.tooltip())
        if self.window is not None:
            self.window.refresh()
        self.menu.rebuild()

    def show_notice(self, notice: Notice) -> None:
        self.notices.append(notice)
        if self.tray is not None:
            icon = QSystemTrayIcon.MessageIcon.Warning if notice.is_error else QSystemTrayIcon.MessageIcon.Information
            self.tray.showMessage(notice.title, notice.body, icon, NOTICE_MS)
        if self.window is not None:
            self.window.show_notice(notice)

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.MiddleClick):
            self.menu.rebuild()
            self.menu.popup(QCursor.pos())

    def open_connections(self, profile_id: str = "") -> None:
        from wizard.gui.connections import ConnectionsWindow

        if self.connections is None:
            self.connections = ConnectionsWindow(self.controller)
        window = self.connections
        assert isinstance(window, ConnectionsWindow)
        if profile_id:
            window.select(profile_id)
        window.show()
        window.raise_()
        window.activateWindow()

    def new_connection(self) -> None:
        from wizard.gui.new_connection import NewConnectionWizard  # loaded on demand: start-up time

        if self.wizard is not None and self.wizard.isVisible():
            self.wizard.raise_()
            self.wizard.activateWindow()
            return
        wizard = NewConnectionWizard(self.store, self.controller.secret_store)
        wizard.profileSaved.connect(self._saved)
        self.wizard = wizard
        wizard.show()

    def _saved(self, profile_id: str, connect_now: bool) -> None:
        self.controller.reload_profiles()
        if connect_now:
            from wizard.gui.new_connection import NewConnectionWizard

            wizard = self.wizard
            typed = wizard.take_secrets() if isinstance(wizard, NewConnectionWizard) else {}
            self.controller.connect_profile(profile_id, typed)

    def quit(self) -> None:
        if self.tray is not None:
            self.tray.hide()
        self.service.stop()
        app = QApplication.instance()
        if app is not None:
            app.quit()


def run_tray(
    store: ProfileStore | None = None,
    socket_path: Path | None = None,
    *,
    argv: list[str] | None = None,
    force_window: bool = False,
    on_ready: Callable[[TrayApp], None] | None = None,
) -> int:
    """``connection-wizard tray``: run until Quit; returns the exit code."""
    from wizard.gui.app import ensure_application

    app = ensure_application(argv if argv is not None else sys.argv)
    app.setQuitOnLastWindowClosed(False)
    service = HelperService(socket_path)
    tray = TrayApp(store or ProfileStore(), service, use_tray=False if force_window else None)
    service.start()
    app.aboutToQuit.connect(service.stop)
    if on_ready is not None:
        QTimer.singleShot(0, lambda: on_ready(tray))
    return int(app.exec())

