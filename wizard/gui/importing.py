"""Import a profile file: drop target support and the preview dialog.

Nothing is stored until the user has seen what the file creates (type, gateways, sign-in, routing,
weaknesses) and pressed Import. A taken name must be changed in the dialog first.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from wizard.gui.flow.importing import ImportPreview, fresh_copy, looks_importable, path_from_uri, unused_name
from wizard.gui.qtcompat import emit
from wizard.gui.theme import error_label, style_error, style_warning
from wizard.profiles.errors import ProfileError
from wizard.profiles.model import Profile
from wizard.profiles.store import ProfileStore

FILE_FILTER = "Connection profiles (*.json *.cwprofile);;All files (*)"


def dropped_file(event: QDragEnterEvent | QDropEvent) -> Path | None:
    """The one importable local file a drag carries, else None."""
    mime = event.mimeData()
    if not mime.hasUrls():
        return None
    paths = [path_from_uri(url.toString()) for url in mime.urls()]
    files = [p for p in paths if p is not None]
    if len(files) != 1 or not looks_importable(files[0]):
        return None
    return files[0]


class ImportDialog(QDialog):
    """Shows what importing one file would create; ``imported`` carries the new profile's id."""

    imported = Signal(str)

    def __init__(self, preview: ImportPreview, store: ProfileStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.preview = preview
        self.store = store
        self.profile: Profile | None = None
        self.setObjectName("importDialog")
        self.setWindowTitle(self.tr("Import a connection"))
        layout = QVBoxLayout(self)
        heading = QLabel(self.tr("From <b>{name}</b>").format(name=preview.path.name))
        heading.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(heading)

        self.text = QPlainTextEdit()
        self.text.setObjectName("importPreview")
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setAccessibleName(self.tr("What will be imported"))
        self.text.setPlainText(preview.description or preview.error)
        layout.addWidget(self.text)

        self.problem = error_label()
        self.problem.setObjectName("importError")
        if preview.error:
            self.problem.setText(preview.error)
            self.problem.setVisible(True)
        layout.addWidget(self.problem)
        if preview.warnings:
            weak = QLabel(self.tr("Weak security: ") + "; ".join(preview.warnings))
            weak.setObjectName("importWarnings")
            weak.setWordWrap(True)
            style_warning(weak)
            layout.addWidget(weak)

        form = QFormLayout()
        self.name = QLineEdit()
        self.name.setObjectName("importName")
        self.name.setAccessibleName(self.tr("Name of the imported connection"))
        self.name_error = error_label()
        taken = {p.name for p in store.load_all()[0]}
        if preview.profile is not None:
            self.name.setText(unused_name(preview.profile.name, taken) if preview.name_taken else preview.profile.name)
        caption = QLabel(self.tr("&Name:"))
        caption.setBuddy(self.name)
        form.addRow(caption, self.name)
        form.addRow("", self.name_error)
        if preview.name_taken:
            note = QLabel(self.tr("You already have a connection with this name, so the import gets a new one."))
            note.setWordWrap(True)
            form.addRow("", note)
        layout.addLayout(form)
        self.name.setEnabled(preview.ok)
        self.name.textChanged.connect(self._check_name)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.import_button = QPushButton(self.tr("&Import"))
        self.import_button.setObjectName("importAccept")
        self.import_button.setDefault(True)
        self.buttons.addButton(self.import_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._taken = taken
        self._check_name()
        (self.import_button if preview.ok else self.buttons.button(QDialogButtonBox.StandardButton.Cancel)).setFocus()
        self.resize(560, 420)

    def _check_name(self) -> None:
        name = self.name.text()
        problem = ""
        if self.preview.ok:
            if not name.strip() or name != name.strip() or len(name) > 100:
                problem = self.tr("Use 1 to 100 characters without spaces at either end.")
            elif name.casefold() in {n.casefold() for n in self._taken}:
                problem = self.tr("You already have a connection called “{name}”.").format(name=name)
        self.name_error.setText(problem)
        self.name_error.setVisible(bool(problem))
        self.import_button.setEnabled(self.preview.ok and not problem)

    def accept(self) -> None:
        if self.preview.profile is None or not self.import_button.isEnabled():
            return
        try:
            profile = fresh_copy(self.preview.profile, self.name.text())
            self.store.save(profile)
        except ProfileError as exc:
            self.problem.setText(str(exc))
            style_error(self.problem)
            self.problem.setVisible(True)
            return
        self.profile = profile
        emit(self.imported, profile.id)
        super().accept()


def open_import_dialog(preview: ImportPreview, store: ProfileStore, parent: QWidget | None) -> ImportDialog:
    """Show the preview window-modally without blocking; connect to ``imported``/``finished``."""
    dialog = ImportDialog(preview, store, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog


def ask_for_profile_file(parent: QWidget | None) -> Path | None:
    title = QCoreApplication.translate("ImportDialog", "Import a connection")
    name, _ = QFileDialog.getOpenFileName(parent, title, "", FILE_FILTER)
    return Path(name) if name else None
