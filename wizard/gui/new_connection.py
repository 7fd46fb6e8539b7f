"""Qt pages over :class:`~wizard.gui.flow.new_connection.NewConnectionFlow`.

The pages only show fields and errors; every rule lives in the flow. Each field has a label (for
screen readers) and an error line beside it that updates as the user types.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from wizard.gui.flow.new_connection import PROTOCOL_CHOICES, STEPS, NewConnectionFlow, secret_label
from wizard.profiles.errors import ProfileError
from wizard.profiles.model import SecretKind
from wizard.profiles.secrets import SecretStore
from wizard.profiles.store import ProfileStore
from wizard.summary import describe_profile

WEAK_STYLE = "color: #b00020; font-weight: bold;"


def _error_label() -> QLabel:
    label = QLabel()
    label.setObjectName("fieldError")
    label.setStyleSheet("color: #b00020;")
    label.setWordWrap(True)
    return label


class _FlowPage(QWizardPage):
    """A page that validates its step through the flow and shows each problem beside its field."""

    step = ""

    def __init__(self, flow: NewConnectionFlow) -> None:
        super().__init__()
        self.flow = flow
        self.error_labels: dict[str, QLabel] = {}
        self.touched: set[str] = set()  # errors show once the user has typed in a field

    def refresh(self) -> None:
        problems = self.flow.errors(self.step)
        for key, label in self.error_labels.items():
            shown = key in problems and key in self.touched
            label.setText(problems.get(key, "") if shown else "")
            label.setVisible(shown)
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return not self.flow.errors(self.step)

    def add_field(
        self,
        form: QFormLayout,
        key: str,
        label: str,
        placeholder: str = "",
        on_change: Callable[[str], None] | None = None,
        row: int = -1,
    ) -> QLineEdit:
        """A labelled line edit with its error line; ``on_change`` defaults to storing the answer."""
        edit = QLineEdit()
        edit.setObjectName(key)
        edit.setPlaceholderText(placeholder)
        edit.setAccessibleName(label.replace("&", "").rstrip(":"))
        if on_change is None:
            edit.setText(str(self.flow.answers.get(key, "")))
        store = on_change or (lambda text: self.flow.set(key, text))

        def changed(text: str) -> None:
            store(text)
            self.touched.add(key)
            self.refresh()

        edit.textChanged.connect(changed)
        caption = QLabel(label)
        caption.setBuddy(edit)
        column = QWidget()
        box = QVBoxLayout(column)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(edit)
        self.error_labels[key] = error = _error_label()
        box.addWidget(error)
        form.insertRow(row, caption, column)
        return edit

    def nextId(self) -> int:
        following = self.flow.next_step(self.step)
        return -1 if following is None else STEPS.index(following)


class TypePage(_FlowPage):
    step = "type"

    def __init__(self, flow: NewConnectionFlow) -> None:
        super().__init__(flow)
        self.setTitle(self.tr("What kind of connection?"))
        self.setSubTitle(
            self.tr("Ask your administrator if you are not sure. L2TP/IPsec works with most Windows servers.")
        )
        layout = QVBoxLayout(self)
        self.group = QButtonGroup(self)
        for index, (protocol, explanation) in enumerate(PROTOCOL_CHOICES):
            button = QRadioButton(protocol.label)
            button.setObjectName(f"protocol_{protocol.value}")
            button.setChecked(protocol is flow.protocol)
            button.setAccessibleDescription(explanation)
            self.group.addButton(button, index)
            note = QLabel(explanation)
            note.setWordWrap(True)
            note.setIndent(24)
            if protocol.value == "pptp":
                note.setStyleSheet(WEAK_STYLE)
            layout.addWidget(button)
            layout.addWidget(note)
        layout.addStretch()
        self.group.idToggled.connect(self._toggled)

    def _toggled(self, index: int, checked: bool) -> None:
        if checked:
            self.flow.set("protocol", PROTOCOL_CHOICES[index][0].value)


class GatewayPage(_FlowPage):
    step = "gateway"

    def __init__(self, flow: NewConnectionFlow) -> None:
        super().__init__(flow)
        self.setTitle(self.tr("Where do you connect to?"))
        self.setSubTitle(self.tr("The gateway is the server at your office, e.g. vpn.example.com."))
        form = QFormLayout(self)
        self.name = self.add_field(form, "name", self.tr("Connection &name:"), self.tr("e.g. Office"))
        self.host = self.add_field(form, "host", self.tr("&Gateway:"), self.tr("host name or IP address"))

    def initializePage(self) -> None:
        self.refresh()


class SignInPage(_FlowPage):
    step = "signin"

    def __init__(self, flow: NewConnectionFlow, secrets: SecretStore) -> None:
        super().__init__(flow)
        self.secret_store = secrets
        self.setTitle(self.tr("How do you sign in?"))
        self.setSubTitle(self.tr("Use the account and keys your administrator gave you."))
        self.form = QFormLayout(self)
        self.username = self.add_field(self.form, "username", self.tr("&User name:"), self.tr("e.g. alice"))
        self.secret_edits: dict[SecretKind, QLineEdit] = {}
        self.save = QCheckBox()
        self.save.setObjectName("save_password")
        self.save.setChecked(bool(flow.answers["save_password"]))
        self.save.toggled.connect(lambda on: self.flow.set("save_password", on))
        self.form.addRow(self.save)

    def _secret_setter(self, kind: SecretKind) -> Callable[[str], None]:
        return lambda text: self.flow.secrets.__setitem__(kind, text)

    def initializePage(self) -> None:
        for kind, edit in list(self.secret_edits.items()):
            row = edit.parentWidget()
            assert row is not None
            self.form.removeRow(row)
            del self.secret_edits[kind]
            self.error_labels.pop(kind.value, None)
        for kind in self.flow.needed_secrets():
            edit = self.add_field(
                self.form,
                kind.value,
                f"{secret_label(kind).capitalize()}:",
                on_change=self._secret_setter(kind),
                row=self.form.rowCount() - 1,
            )
            edit.setEchoMode(QLineEdit.EchoMode.Password)
            edit.setText(self.flow.secrets.get(kind, ""))
            self.secret_edits[kind] = edit
        if self.secret_store.available:
            self.save.setText(self.tr("Save the password in the system keyring"))
            self.save.setEnabled(True)
        else:
            self.save.setText(self.tr("No secure keyring found: you will be asked for the password each time"))
            self.save.setChecked(False)
            self.save.setEnabled(False)
        self.refresh()


class SummaryPage(_FlowPage):
    step = "summary"

    def __init__(self, flow: NewConnectionFlow) -> None:
        super().__init__(flow)
        self.setTitle(self.tr("Ready to create"))
        self.setSubTitle(self.tr("Check the details. You can change everything later."))
        layout = QVBoxLayout(self)
        self.text = QPlainTextEdit()
        self.text.setObjectName("summary")
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setAccessibleName(self.tr("Summary of the new connection"))
        self.problem = _error_label()
        layout.addWidget(self.text)
        layout.addWidget(self.problem)

    def initializePage(self) -> None:
        try:
            self.text.setPlainText(describe_profile(self.flow.profile()))
            self.problem.setText("")
        except ProfileError as exc:
            self.text.setPlainText("")
            self.problem.setText(str(exc))
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return not self.problem.text()


class NewConnectionWizard(QWizard):
    """The New Connection window; on Finish the profile is stored and its secrets saved."""

    def __init__(self, store: ProfileStore, secrets: SecretStore | None = None) -> None:
        super().__init__()
        self.store = store
        self.secret_store = secrets or SecretStore()
        self.flow = NewConnectionFlow()
        self.saved_profile_id: str | None = None
        self.setWindowTitle(self.tr("New Connection"))
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage)
        pages = (
            TypePage(self.flow),
            GatewayPage(self.flow),
            SignInPage(self.flow, self.secret_store),
            SummaryPage(self.flow),
        )
        for index, page in enumerate(pages):
            self.setPage(index, page)
        self.resize(620, 460)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)

    def accept(self) -> None:
        try:
            profile = self.flow.profile()
            self.store.save(profile)
            if profile.saved_secrets and self.secret_store.available:
                for kind in profile.saved_secrets:
                    if kind in self.flow.secrets:
                        self.secret_store.set(profile, kind, self.flow.secrets[kind])
        except ProfileError as exc:
            summary = self.page(STEPS.index("summary"))
            assert isinstance(summary, SummaryPage)
            summary.problem.setText(str(exc))
            return
        self.saved_profile_id = profile.id
        super().accept()
