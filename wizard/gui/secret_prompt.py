"""Ask for the secrets a connection needs but the keyring does not hold (never blocks the loop)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from wizard.gui.flow.new_connection import secret_label
from wizard.gui.qtcompat import emit
from wizard.profiles.model import Profile, SecretKind


class SecretPrompt(QDialog):
    """``answered(values, username)`` on Connect; ``finished`` with Rejected on Cancel."""

    answered = Signal(object, str)  # {secret kind value: text}, user name ("" when not asked)

    def __init__(self, profile: Profile, missing: list[SecretKind], ask_username: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("secretPrompt")
        self.setWindowTitle(self.tr("Connect {name}").format(name=profile.name))
        layout = QVBoxLayout(self)
        intro = QLabel(self.tr("{name} needs these to connect. They are sent to the VPN service only and not saved.").format(name=profile.name))
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        layout.addLayout(form)
        self.username: QLineEdit | None = None
        if ask_username:
            self.username = QLineEdit()
            self.username.setObjectName("username")
            self._row(form, self.tr("&User name:"), self.username)
        self.edits: dict[SecretKind, QLineEdit] = {}
        for kind in missing:
            edit = QLineEdit()
            edit.setObjectName(kind.value)
            edit.setEchoMode(QLineEdit.EchoMode.Password)
            self.edits[kind] = edit
            self._row(form, secret_label(kind).capitalize() + ":", edit)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText(self.tr("&Connect"))
        ok.setObjectName("promptConnect")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        for edit in self._fields():
            edit.textChanged.connect(self._check)
        self._check()
        fields = self._fields()
        if fields:
            fields[0].setFocus()

    def _row(self, form: QFormLayout, caption: str, edit: QLineEdit) -> None:
        label = QLabel(caption)
        label.setBuddy(edit)
        edit.setAccessibleName(caption.replace("&", "").rstrip(":"))
        form.addRow(label, edit)

    def _fields(self) -> list[QLineEdit]:
        return ([self.username] if self.username is not None else []) + list(self.edits.values())

    def _check(self) -> None:
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(all(edit.text() for edit in self._fields()))

    def accept(self) -> None:
        values = {kind.value: edit.text() for kind, edit in self.edits.items()}
        username = self.username.text().strip() if self.username is not None else ""
        for edit in self.edits.values():
            edit.clear()
        emit(self.answered, values, username)
        super().accept()


def open_secret_prompt(profile: Profile, missing: list[SecretKind], ask_username: bool, parent: QWidget | None) -> SecretPrompt:
    prompt = SecretPrompt(profile, missing, ask_username, parent)
    prompt.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    prompt.open()
    prompt.raise_()
    prompt.activateWindow()
    return prompt
