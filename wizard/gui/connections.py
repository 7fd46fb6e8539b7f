"""The connections window: every profile with its state, and the details of the selected one.

Left, the list (Enter or double-click connects or disconnects). Right, the selected connection:
live counters and a throughput graph, the parameters the gateway negotiated, and the session log
(redacted). The toolbar edits, duplicates, deletes, exports and imports profiles and copies a
redacted diagnostics report. A profile file dropped on the window is previewed and imported.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Callable
from pathlib import Path

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QSize, Qt, qVersion
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent, QFont, QFontDatabase, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from wizard.gui.controller import AppController
from wizard.gui.flow.diagnostics import diagnostics_report
from wizard.gui.flow.format import format_bytes, format_duration, format_rate
from wizard.gui.flow.importing import fresh_copy, preview_import, unused_name
from wizard.gui.flow.sessions import sentence
from wizard.gui.graph import ThroughputGraph
from wizard.gui.icons import app_icon, profile_state_icon
from wizard.gui.importing import ImportDialog, ask_for_profile_file, dropped_file, open_import_dialog
from wizard.gui.theme import style_error, style_warning
from wizard.profiles.codec import export_document
from wizard.profiles.errors import ProfileError
from wizard.profiles.model import Profile
from wizard.profiles.secrets import SecretStore
from wizard.profiles.store import atomic_write
from wizard.summary import describe_profile

PID_ROLE = Qt.ItemDataRole.UserRole
Confirm = Callable[[str, str], bool]
AskPath = Callable[[str], Path | None]


def _os_name() -> str:
    try:
        return platform.freedesktop_os_release().get("PRETTY_NAME", "?")
    except OSError:
        return "?"


class ConnectionsWindow(QMainWindow):
    def __init__(self, controller: AppController, secrets: SecretStore | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.store = controller.store
        self.secret_store = secrets or controller.secret_store
        self.confirm: Confirm = self._confirm_dialog
        self.ask_export_path: AskPath = self._export_dialog
        self.last_diagnostics = ""
        self._shown_parameters: list[tuple[str, str]] = []
        self.wizard: QWidget | None = None
        self.import_dialog: ImportDialog | None = None
        self.setObjectName("connectionsWindow")
        self.setWindowTitle(self.tr("Connections — Connection Wizard"))
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self._build_toolbar()
        central = QWidget()
        outer = QVBoxLayout(central)
        outer.addWidget(self._build_banner())
        splitter = QSplitter()
        splitter.setChildrenCollapsible(False)
        self.list = QListWidget()
        self.list.setObjectName("connectionList")
        self.list.setAccessibleName(self.tr("Connections"))
        self.list.setMinimumWidth(200)
        self.list.setIconSize(QSize(24, 24))
        self.list.setSpacing(3)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.currentItemChanged.connect(lambda *_: self._show_details())
        self.list.itemActivated.connect(lambda item: controller.toggle(item.data(PID_ROLE)))
        splitter.addWidget(self.list)
        splitter.addWidget(self._build_details())
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([240, 560])
        outer.addWidget(splitter, 1)
        self.setCentralWidget(central)
        self.statusBar().setObjectName("statusBar")
        controller.changed.connect(self.refresh)
        controller.profilesChanged.connect(self.refresh)
        self.resize(860, 560)
        self.refresh()

    # --- building --------------------------------------------------------------------------------

    def _build_toolbar(self) -> None:
        bar = QToolBar(self.tr("Actions"))
        bar.setObjectName("actions")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.addToolBar(bar)
        self.actions_by_name: dict[str, QAction] = {}
        for name, text, shortcut, slot in (
            ("new", self.tr("&New…"), QKeySequence.StandardKey.New, self.new_connection),
            ("import", self.tr("&Import…"), QKeySequence.StandardKey.Open, self.import_connection),
            ("edit", self.tr("&Edit…"), QKeySequence("Ctrl+E"), self.edit_selected),
            ("duplicate", self.tr("D&uplicate"), QKeySequence("Ctrl+D"), self.duplicate_selected),
            ("delete", self.tr("&Delete"), QKeySequence.StandardKey.Delete, self.delete_selected),
            ("export", self.tr("E&xport…"), QKeySequence("Ctrl+Shift+S"), self.export_selected),
            ("diagnostics", self.tr("&Copy diagnostics"), QKeySequence("Ctrl+Shift+C"), self.copy_diagnostics),
        ):
            action = QAction(text, self)
            action.setObjectName(name)
            action.setShortcut(QKeySequence(shortcut))
            action.triggered.connect(slot)
            bar.addAction(action)
            self.actions_by_name[name] = action
        self.actions_by_name["diagnostics"].setToolTip(
            self.tr("Copy a report for your support team (passwords, keys and your user name are removed)")
        )

    def _build_banner(self) -> QWidget:
        self.banner = QWidget()
        self.banner.setObjectName("serviceBanner")
        row = QHBoxLayout(self.banner)
        row.setContentsMargins(0, 0, 0, 0)
        self.banner_text = QLabel()
        self.banner_text.setObjectName("serviceBannerText")
        self.banner_text.setWordWrap(True)
        style_error(self.banner_text)
        retry = QPushButton(self.tr("&Try again"))
        retry.setObjectName("retryService")
        retry.clicked.connect(self.controller.service.reconnect_now)
        row.addWidget(self.banner_text, 1)
        row.addWidget(retry)
        return self.banner

    def _build_details(self) -> QWidget:
        self.details_stack = QStackedWidget()
        empty = QWidget()
        box = QVBoxLayout(empty)
        box.addStretch()
        hint = QLabel(self.tr("No connections yet.\nCreate one, or drop a connection file from your administrator here."))
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        box.addWidget(hint)
        create = QPushButton(self.tr("&New connection…"))
        create.setObjectName("emptyNew")
        create.clicked.connect(self.new_connection)
        box.addWidget(create, 0, Qt.AlignmentFlag.AlignCenter)
        box.addStretch()
        self.details_stack.addWidget(empty)

        details = QWidget()
        layout = QVBoxLayout(details)
        head = QHBoxLayout()
        titles = QVBoxLayout()
        self.title = QLabel()
        self.title.setObjectName("detailTitle")
        font = QFont(self.title.font())
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        self.title.setFont(font)
        self.subtitle = QLabel()
        self.subtitle.setObjectName("detailSubtitle")
        self.state = QLabel()
        self.state.setObjectName("detailState")
        self.state.setWordWrap(True)
        titles.addWidget(self.title)
        titles.addWidget(self.subtitle)
        titles.addWidget(self.state)
        self.weak = QLabel()
        self.weak.setObjectName("detailWeak")
        self.weak.setWordWrap(True)
        style_warning(self.weak)
        titles.addWidget(self.weak)
        head.addLayout(titles, 1)
        self.connect_button = QPushButton()
        self.connect_button.setObjectName("connectButton")
        self.connect_button.setMinimumWidth(120)
        self.connect_button.clicked.connect(self._toggle_selected)
        head.addWidget(self.connect_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(head)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("detailTabs")
        status = QWidget()
        form = QFormLayout(status)
        self.values: dict[str, QLabel] = {}
        for key, caption in (
            ("address", self.tr("Address:")),
            ("received", self.tr("Received:")),
            ("sent", self.tr("Sent:")),
            ("speed", self.tr("Speed:")),
            ("uptime", self.tr("Connected for:")),
        ):
            value = QLabel("–")
            value.setObjectName(f"value_{key}")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label = QLabel(caption)
            label.setBuddy(value)
            value.setAccessibleName(caption.rstrip(":"))
            form.addRow(label, value)
            self.values[key] = value
        self.graph = ThroughputGraph()
        self.graph.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        form.addRow(self.graph)
        self.tabs.addTab(status, self.tr("&Status"))

        params = QWidget()
        params_box = QVBoxLayout(params)
        self.parameters = QTableWidget(0, 2)
        self.parameters.setObjectName("parameters")
        self.parameters.setAccessibleName(self.tr("Negotiated parameters"))
        self.parameters.setHorizontalHeaderLabels([self.tr("Parameter"), self.tr("Value")])
        self.parameters.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.parameters.verticalHeader().setVisible(False)
        self.parameters.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        params_box.addWidget(self.parameters, 1)
        self.profile_text = QPlainTextEdit()
        self.profile_text.setObjectName("profileText")
        self.profile_text.setReadOnly(True)
        self.profile_text.setAccessibleName(self.tr("Connection settings"))
        self.profile_text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        params_box.addWidget(self.profile_text, 1)
        self.tabs.addTab(params, self.tr("&Parameters"))

        self.log_view = QPlainTextEdit()
        self.log_view.setObjectName("sessionLog")
        self.log_view.setReadOnly(True)
        self.log_view.setAccessibleName(self.tr("Session log"))
        self.log_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.tabs.addTab(self.log_view, self.tr("&Log"))
        layout.addWidget(self.tabs, 1)
        self.details_stack.addWidget(details)
        return self.details_stack

    # --- state -----------------------------------------------------------------------------------

    def selected_id(self) -> str:
        item = self.list.currentItem()
        return str(item.data(PID_ROLE)) if item is not None else ""

    def selected_profile(self) -> Profile | None:
        return self.controller.profile(self.selected_id())

    def select(self, profile_id: str) -> None:
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item is not None and item.data(PID_ROLE) == profile_id:
                self.list.setCurrentItem(item)
                return

    def refresh(self) -> None:
        book = self.controller.book
        self.banner.setVisible(not book.available)
        self.banner_text.setText(
            self.tr("The VPN service is unavailable: {reason} Connecting is not possible until it is back.").format(
                reason=(book.unavailable_reason or "").rstrip(".") + "."
            )
        )
        wanted = [(p.id, p.name) for p in book.profiles]
        current = self.selected_id()
        existing = [self.list.item(i).data(PID_ROLE) for i in range(self.list.count())]
        if existing != [pid for pid, _ in wanted]:
            self.list.blockSignals(True)
            self.list.clear()
            for pid, _name in wanted:
                item = QListWidgetItem()
                item.setData(PID_ROLE, pid)
                self.list.addItem(item)
            self.list.blockSignals(False)
            if wanted:
                ids = [pid for pid, _ in wanted]
                self.list.setCurrentRow(ids.index(current) if current in ids else 0)
        for row, (pid, name) in enumerate(wanted):
            item = self.list.item(row)
            if item is None:
                continue
            status = book.status_line(pid, short=True)
            item.setText(f"{name}\n{status}")
            item.setToolTip(sentence(book.status_line(pid)))
            item.setIcon(profile_state_icon(book.icon_state(pid)))
            item.setData(Qt.ItemDataRole.AccessibleTextRole, f"{name}, {book.status_line(pid)}")
        has = bool(wanted)
        for name in ("edit", "duplicate", "delete", "export", "diagnostics"):
            self.actions_by_name[name].setEnabled(has)
        self._show_details()

    def _show_details(self) -> None:
        profile = self.selected_profile()
        if profile is None:
            self.details_stack.setCurrentIndex(0)
            return
        self.details_stack.setCurrentIndex(1)
        book = self.controller.book
        state = book.profile_state(profile.id)
        session = book.session_for(profile.id) or {}
        counters = session.get("counters") or {}
        negotiated = session.get("negotiated") or {}
        self.title.setText(profile.name)
        self.subtitle.setText(f"{profile.protocol.label} · {profile.gateways[0].host}")
        self.state.setText(sentence(book.status_line(profile.id)))
        weaknesses = profile.weaknesses()
        self.weak.setText(self.tr("⚠ Weak security: {what}").format(what="; ".join(weaknesses)) if weaknesses else "")
        self.weak.setVisible(bool(weaknesses))
        if state == "failed" and session.get("kill_switch"):
            self.state.setText(self.state.text() + self.tr(" (traffic is blocked until you disconnect)"))
        labels = {
            "disconnected": self.tr("&Connect"),
            "connected": self.tr("&Disconnect"),
            "failed": self.tr("&Disconnect"),
            "connecting": self.tr("&Cancel"),
            "reconnecting": self.tr("&Cancel"),
        }
        self.connect_button.setText(labels.get(state, self.tr("Please wait…")))
        self.connect_button.setEnabled(state in labels and (state != "disconnected" or book.available))
        connected = state == "connected"
        self.values["address"].setText(str(negotiated.get("address", "–")) if connected else "–")
        self.values["received"].setText(
            f"{format_bytes(counters.get('bytes_in', 0))} ({counters.get('packets_in', 0):.0f} packets)" if connected else "–"
        )
        self.values["sent"].setText(
            f"{format_bytes(counters.get('bytes_out', 0))} ({counters.get('packets_out', 0):.0f} packets)" if connected else "–"
        )
        self.values["speed"].setText(
            f"↓ {format_rate(counters.get('rate_in', 0))}   ↑ {format_rate(counters.get('rate_out', 0))}" if connected else "–"
        )
        self.values["uptime"].setText(format_duration(counters.get("uptime", 0)) if connected else "–")
        self.graph.set_points(book.history.get(profile.id, []) if connected else [])
        rows = [(str(k), str(v)) for k, v in sorted(negotiated.items())]
        if rows != self._shown_parameters:  # counters tick every second; keep the table (and selection) still
            self._shown_parameters = rows
            self.parameters.setRowCount(len(rows))
            for row, (key, value) in enumerate(rows):
                self.parameters.setItem(row, 0, QTableWidgetItem(key))
                self.parameters.setItem(row, 1, QTableWidgetItem(value))
        description = describe_profile(profile)
        if self.profile_text.toPlainText() != description:
            self.profile_text.setPlainText(description)
        lines = [self._log_line(entry.time, entry.text, entry.error) for entry in book.logs.get(profile.id, [])]
        text = "\n".join(lines)
        if self.log_view.toPlainText() != text:
            self.log_view.setPlainText(text)
            self.log_view.verticalScrollBar().setValue(self.log_view.verticalScrollBar().maximum())

    @staticmethod
    def _log_line(when: float, text: str, error: bool) -> str:
        import time

        return f"{time.strftime('%H:%M:%S', time.localtime(when))}  {'ERROR  ' if error else ''}{text}"

    def _toggle_selected(self) -> None:
        if self.selected_id():
            self.controller.toggle(self.selected_id())

    def _say(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)

    # --- actions ---------------------------------------------------------------------------------

    def new_connection(self) -> None:
        self._open_wizard(None)

    def edit_selected(self) -> None:
        profile = self.selected_profile()
        if profile is not None:
            self._open_wizard(profile)

    def _open_wizard(self, editing: Profile | None) -> None:
        from wizard.gui.new_connection import NewConnectionWizard

        wizard = NewConnectionWizard(self.store, self.secret_store, editing=editing, parent=self)
        wizard.setWindowModality(Qt.WindowModality.WindowModal)
        wizard.profileSaved.connect(self._saved)
        self.wizard = wizard
        wizard.show()

    def _saved(self, profile_id: str, connect_now: bool) -> None:
        from wizard.gui.new_connection import NewConnectionWizard

        self.controller.reload_profiles()
        self.select(profile_id)
        self._say(self.tr("Saved."))
        if connect_now:
            wizard = self.wizard
            typed = wizard.take_secrets() if isinstance(wizard, NewConnectionWizard) else {}
            self.controller.connect_profile(profile_id, typed)

    def duplicate_selected(self) -> None:
        profile = self.selected_profile()
        if profile is None:
            return
        taken = [p.name for p in self.controller.book.profiles]
        copy = fresh_copy(profile, unused_name(self.tr("{name} (copy)").format(name=profile.name)[:100], taken))
        try:
            self.store.save(copy)
        except ProfileError as exc:
            self._say(str(exc))
            return
        self.controller.reload_profiles()
        self.select(copy.id)
        self._say(self.tr("Duplicated as “{name}”. Saved passwords are not copied; you will be asked.").format(name=copy.name))

    def delete_selected(self) -> None:
        profile = self.selected_profile()
        if profile is None:
            return
        if self.controller.book.profile_state(profile.id) != "disconnected":
            self._say(self.tr("Disconnect “{name}” before deleting it.").format(name=profile.name))
            return
        question = self.tr("Delete “{name}” and its saved passwords? This cannot be undone.").format(name=profile.name)
        if not self.confirm(self.tr("Delete connection"), question):
            return
        try:
            self.store.remove(profile)
        except ProfileError as exc:
            self._say(str(exc))
            return
        store = self.secret_store
        self.controller.service.run_blocking(lambda: store.delete_all(profile))
        self.controller.reload_profiles()
        self._say(self.tr("Deleted “{name}”.").format(name=profile.name))

    def export_selected(self) -> None:
        profile = self.selected_profile()
        if profile is None:
            return
        path = self.ask_export_path(f"{profile.name}.json")
        if path is None:
            return
        try:
            atomic_write(path.resolve(), (json.dumps(export_document(profile), indent=2) + "\n").encode(), mode=0o644)
        except OSError as exc:
            self._say(self.tr("Could not write {path}: {why}").format(path=path, why=exc.strerror))
            return
        self._say(self.tr("Exported to {path} (passwords and keys are never exported).").format(path=path))

    def import_connection(self, path: Path | None = None) -> None:
        if path is None:
            path = ask_for_profile_file(self)
            if path is None:
                return
        preview = preview_import(path, [p.name for p in self.controller.book.profiles])
        self.import_dialog = open_import_dialog(preview, self.store, self)
        self.import_dialog.imported.connect(self._imported)

    def _imported(self, profile_id: str) -> None:
        self.controller.reload_profiles()
        self.select(profile_id)
        self._say(self.tr("Imported. You will be asked for the password when you connect."))

    def copy_diagnostics(self) -> None:
        profile = self.selected_profile()
        if profile is None:
            return
        book = self.controller.book
        service = self.controller.service
        state = self.tr("available ({server})").format(server=service.server_info.get("server", "?"))
        if not book.available:
            state = self.tr("unavailable: {reason}").format(reason=book.unavailable_reason)
        report = diagnostics_report(
            profile,
            book.session_for(profile.id),
            book.logs.get(profile.id, []),
            service=state,
            versions={"Qt": qVersion(), "PySide6": pyside_version, "OS": _os_name()},
        )
        self.last_diagnostics = report
        QGuiApplication.clipboard().setText(report)
        self._say(self.tr("Diagnostics copied to the clipboard (passwords, keys and your user name removed)."))

    # --- dialogs (replaceable in tests) ----------------------------------------------------------

    def _confirm_dialog(self, title: str, question: str) -> bool:
        answer = QMessageBox.question(self, title, question)
        return answer == QMessageBox.StandardButton.Yes

    def _export_dialog(self, suggested: str) -> Path | None:
        name, _ = QFileDialog.getSaveFileName(self, self.tr("Export connection"), suggested, "JSON (*.json)")
        return Path(name) if name else None

    # --- drag and drop ---------------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_file(event) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        path = dropped_file(event)
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.import_connection(path)
