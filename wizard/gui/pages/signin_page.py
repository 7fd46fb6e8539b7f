"""Step 3: how the user (and, for IPsec, the computer) signs in, and what we keep.

The save policy says plainly where secrets go: the system keyring (encrypted, unlocked with the
login) or nowhere. Without a secure keyring the "save" choice is disabled and says why; we never
fall back to a file.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QRadioButton,
    QVBoxLayout,
)

from wizard.gui.flow.new_connection import MachineAuth, NewConnectionFlow, secret_label
from wizard.gui.pages.base import FlowPage, show_row
from wizard.gui.widgets import FilePicker, note_label
from wizard.profiles.model import CredentialPolicy, Protocol, SecretKind
from wizard.profiles.secrets import SecretStore

CERT_FILTER = "Certificates (*.pem *.crt *.cer *.der);;All files (*)"
KEY_FILTER = "Private keys (*.pem *.key);;All files (*)"


class SignInPage(FlowPage):
    step = "signin"

    def __init__(self, flow: NewConnectionFlow, secrets: SecretStore) -> None:
        super().__init__(flow)
        self.secret_store = secrets
        self.setTitle(self.tr("How do you sign in?"))
        self.setSubTitle(self.tr("Use the account and keys your administrator gave you."))
        layout = self.scrolling_body()
        self.form = form = QFormLayout()
        layout.addLayout(form)
        self.username = self.add_line(form, "username", self.tr("&User name:"), self.tr("e.g. alice"))

        self.machine_box = QGroupBox(self.tr("This computer proves itself with"))
        self.machine_box.setObjectName("machineAuth")
        machine = QVBoxLayout(self.machine_box)
        self.machine_group = QButtonGroup(self)
        for index, (value, text) in enumerate(
            ((MachineAuth.PSK, self.tr("a &pre-shared key (a password shared by everyone)")),
             (MachineAuth.CERTIFICATE, self.tr("a &certificate file")))
        ):  # fmt: skip
            button = QRadioButton(text)
            button.setObjectName(f"machine_{value.value}")
            button.setChecked(flow.machine_auth is value)
            self.machine_group.addButton(button, index)
            machine.addWidget(button)
        card = QRadioButton(self.tr("a smart card (coming in a later version)"))
        card.setObjectName("machine_smartcard")
        card.setEnabled(False)
        machine.addWidget(card)
        self.machine_group.idToggled.connect(self._machine_toggled)
        form.addRow(self.machine_box)

        self.secret_edits: dict[SecretKind, QLineEdit] = {}
        for kind, caption in (
            (SecretKind.PASSWORD, self.tr("Pass&word:")),
            (SecretKind.PSK, self.tr("Pre-shared &key:")),
        ):
            self.secret_edits[kind] = self.add_line(form, kind.value, caption, store=self._secret_setter(kind), password=True)

        self.certificate = self._file_row(form, "certificate_file", self.tr("Cer&tificate:"), CERT_FILTER)
        self.private_key = self._file_row(form, "private_key_file", self.tr("Private key (if separate):"), KEY_FILTER)
        self.ca_file = self._file_row(form, "ca_file", self.tr("Gateway's CA (optional):"), CERT_FILTER)
        self.has_passphrase = QCheckBox(self.tr("The private key is protected by a passphrase"))
        self.has_passphrase.setObjectName("key_has_passphrase")
        self.bind_check(self.has_passphrase, "key_has_passphrase", self._update_rows)
        form.addRow("", self.has_passphrase)
        self.secret_edits[SecretKind.KEY_PASSPHRASE] = self.add_line(
            form,
            SecretKind.KEY_PASSPHRASE.value,
            self.tr("Key pass&phrase:"),
            store=self._secret_setter(SecretKind.KEY_PASSPHRASE),
            password=True,
        )

        self.save_box = QGroupBox(self.tr("What should be remembered?"))
        self.save_box.setObjectName("savePolicy")
        save = QVBoxLayout(self.save_box)
        self.policy_group = QButtonGroup(self)
        self.policy_buttons: dict[CredentialPolicy, QRadioButton] = {}
        for index, (policy, text) in enumerate(
            (
                (CredentialPolicy.SAVE, self.tr("&Save the user name, password and keys in the system keyring")),
                (CredentialPolicy.USERNAME_ONLY, self.tr("Remember only the user &name; ask for the password each time")),
                (CredentialPolicy.NEVER, self.tr("Remember nothing; ask for &everything each time")),
            )
        ):
            button = QRadioButton(text)
            button.setObjectName(f"policy_{policy.value}")
            self.policy_group.addButton(button, index)
            self.policy_buttons[policy] = button
            save.addWidget(button)
        self.policy_note = note_label("")
        self.policy_note.setObjectName("policyNote")
        save.addWidget(self.policy_note)
        self.policy_group.idToggled.connect(self._policy_toggled)
        form.addRow(self.save_box)
        layout.addStretch()

    def _file_row(self, form: QFormLayout, key: str, caption: str, file_filter: str) -> FilePicker:
        picker = FilePicker(key, caption.replace("&", "").rstrip(":"), file_filter)
        picker.edit.setText(self.flow.answers[key])

        def changed(text: str) -> None:
            self.flow.set(key, text)
            self.touch(key)

        picker.edit.textChanged.connect(changed)
        self.add_row(form, key, caption, picker, focus=picker.edit)
        return picker

    def _secret_setter(self, kind: SecretKind) -> Callable[[str], None]:
        return lambda text: self.flow.secrets.__setitem__(kind, text)

    def _machine_toggled(self, index: int, checked: bool) -> None:
        if checked:
            self.flow.set("machine_auth", (MachineAuth.PSK, MachineAuth.CERTIFICATE)[index].value)
            self._update_rows()
            self.refresh()

    def _policy_toggled(self, index: int, checked: bool) -> None:
        if checked:
            self.flow.set("credential_policy", list(self.policy_buttons)[index].value)
            self._update_rows()
            self.refresh()

    def initializePage(self) -> None:
        available = self.secret_store.available
        self.flow.keyring_available = available
        save = self.policy_buttons[CredentialPolicy.SAVE]
        save.setEnabled(available)
        policy = self.flow.credential_policy
        self.policy_buttons[policy].setChecked(True)
        if available:
            self.policy_note.setText(
                self.tr(
                    "The keyring (GNOME Keyring or KWallet) keeps secrets encrypted and unlocks them when you log in. "
                    "Secrets are never written to the connection file."
                )
            )
        else:
            self.policy_note.setText(
                self.tr(
                    "No secure keyring is running, so nothing can be saved: you will be asked for the password "
                    "each time you connect. Install and unlock GNOME Keyring or KWallet to save it."
                )
            )
        self._update_rows()
        self.refresh()

    def _update_rows(self) -> None:
        flow = self.flow
        ipsec = flow.protocol.uses_ipsec
        cert = flow.uses_certificate
        needed = set(flow.needed_secrets())
        never = flow.credential_policy is CredentialPolicy.NEVER
        show_row(self.form, "username", flow.needs_username())
        self.username.setEnabled(not never)
        self.username.setPlaceholderText(self.tr("asked when you connect") if never else self.tr("e.g. alice"))
        self.form.setRowVisible(self.machine_box, ipsec)
        for kind, edit in self.secret_edits.items():
            show_row(self.form, kind.value, kind in needed)
            if kind in flow.saved_secret_kinds:
                edit.setPlaceholderText(self.tr("leave empty to keep the saved {what}").format(what=secret_label(kind)))
            elif not flow.secret_required(kind):
                edit.setPlaceholderText(self.tr("asked when you connect (optional now)"))
            else:
                edit.setPlaceholderText("")
        password_caption = self.tr("XAUTH pass&word:") if flow.protocol is Protocol.IKEV1_XAUTH else self.tr("Pass&word:")
        column = self.secret_edits[SecretKind.PASSWORD].parentWidget()
        label = self.form.labelForField(column) if column is not None else None
        if isinstance(label, QLabel):
            label.setText(password_caption)
            self.field_names[SecretKind.PASSWORD.value] = password_caption.replace("&", "").rstrip(":")
        for key in ("certificate_file", "private_key_file", "ca_file"):
            show_row(self.form, key, cert)
        self.form.setRowVisible(self.has_passphrase, cert)
