"""Drive the Qt New Connection wizard like a user, offscreen, and check what it stores."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QCheckBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QWidget,
    QWizard,
)
from pytestqt.qtbot import QtBot

from tests.memory_keyring import MemoryKeyring
from tests.unit.test_new_connection_flow import make_certificate
from wizard.gui.importing import ImportDialog
from wizard.gui.new_connection import NewConnectionWizard
from wizard.profiles.codec import export_document
from wizard.profiles.model import (
    AuthMethod,
    CredentialPolicy,
    Gateway,
    Profile,
    Protocol,
    SecretKind,
    TunnelMode,
)
from wizard.profiles.secrets import SecretStore
from wizard.profiles.store import ProfileStore


class PlaintextKeyring(MemoryKeyring):
    """Looks like a plaintext backend, so SecretStore must refuse it."""


PlaintextKeyring.__module__ = "keyrings.alt.file"


@pytest.fixture
def store(tmp_path: Path) -> ProfileStore:
    return ProfileStore(tmp_path / "config")


@pytest.fixture
def wizard(qtbot: QtBot, store: ProfileStore) -> NewConnectionWizard:
    window = NewConnectionWizard(store, SecretStore(MemoryKeyring()))
    qtbot.addWidget(window)
    window.show()
    return window


def find(wizard: NewConnectionWizard, cls: type, name: str) -> QWidget:
    widget = wizard.currentPage().findChild(cls, name)
    assert widget is not None, name
    return widget  # type: ignore[no-any-return]


def edit(wizard: NewConnectionWizard, name: str) -> QLineEdit:
    found = find(wizard, QLineEdit, name)
    assert isinstance(found, QLineEdit)
    return found


def click(wizard: NewConnectionWizard, cls: type, name: str) -> None:
    button = find(wizard, cls, name)
    assert isinstance(button, QAbstractButton) and button.isEnabled(), name
    button.click()


def type_into(qtbot: QtBot, wizard: NewConnectionWizard, name: str, text: str) -> None:
    field = edit(wizard, name)
    field.clear()
    qtbot.keyClicks(field, text)


def visible_errors(wizard: NewConnectionWizard) -> dict[str, str]:
    """Field error lines currently shown, keyed by the field's row."""
    found = {}
    for label in wizard.currentPage().findChildren(QLabel, "fieldError"):
        if label.isVisible() and label.text():
            parent = label.parentWidget()
            found[parent.objectName().removeprefix("row_") if parent else ""] = label.text()
    return found


def next_enabled(wizard: NewConnectionWizard) -> bool:
    return wizard.button(QWizard.WizardButton.NextButton).isEnabled()


def step(wizard: NewConnectionWizard) -> str:
    return wizard.currentPage().step  # type: ignore[attr-defined, no-any-return]


IPSEC = {Protocol.L2TP_IPSEC, Protocol.IKEV1_XAUTH, Protocol.IPSEC_TRANSPORT}


@pytest.mark.parametrize(
    "protocol", [Protocol.L2TP_IPSEC, Protocol.IKEV1_XAUTH, Protocol.IPSEC_TRANSPORT, Protocol.L2TP, Protocol.PPTP]
)
def test_every_connection_type_end_to_end(wizard: NewConnectionWizard, qtbot: QtBot, protocol: Protocol) -> None:
    click(wizard, QRadioButton, f"protocol_{protocol.value}")
    wizard.next()

    # Gateway: invalid input is named beside the field and blocks Next.
    assert step(wizard) == "gateway" and not next_enabled(wizard)
    assert "To continue" in find(wizard, QLabel, "pending").text()  # type: ignore[attr-defined]
    type_into(qtbot, wizard, "name", "Office")
    type_into(qtbot, wizard, "host", "not a host")
    assert "not a host name" in visible_errors(wizard)["host"]
    assert not next_enabled(wizard)
    type_into(qtbot, wizard, "host", "vpn.example.com")
    assert visible_errors(wizard) == {} and next_enabled(wizard)
    wizard.next()

    # Sign-in: every secret the type needs is a password field and is required (policy: save).
    assert step(wizard) == "signin" and not next_enabled(wizard)
    needed = wizard.flow.needed_secrets()
    if protocol is Protocol.IPSEC_TRANSPORT:
        assert not edit(wizard, "username").isVisibleTo(wizard)
    else:
        type_into(qtbot, wizard, "username", "alice")
    for kind in needed:
        field = edit(wizard, kind.value)
        assert field.isVisibleTo(wizard) and field.echoMode() is QLineEdit.EchoMode.Password
        qtbot.keyClicks(field, "x")
        field.clear()  # touched, then emptied: the problem shows beside the field
        assert "Enter the" in visible_errors(wizard)[kind.value]
        assert not next_enabled(wizard)
        qtbot.keyClicks(field, f"{kind.value}-value")
    assert not edit(wizard, SecretKind.KEY_PASSPHRASE.value).isVisibleTo(wizard)
    assert find(wizard, QWidget, "machineAuth").isVisibleTo(wizard) == (protocol in IPSEC)
    assert visible_errors(wizard) == {} and next_enabled(wizard)
    wizard.next()

    # Options: a bad route and (for IPsec) a legacy proposal are refused until fixed/allowed.
    assert step(wizard) == "options" and next_enabled(wizard)
    click(wizard, QRadioButton, "tunnel_split")
    type_into(qtbot, wizard, "routes", "10.0.0.0/8, 10.300.0.0/16")
    assert "10.300.0.0/16" in visible_errors(wizard)["routes"] and not next_enabled(wizard)
    type_into(qtbot, wizard, "routes", "10.0.0.0/8, 172.16.0.0/12")
    type_into(qtbot, wizard, "dns_servers", "10.0.0.53")
    click(wizard, QCheckBox, "kill_switch")
    legacy = find(wizard, QCheckBox, "allow_legacy")
    assert legacy.isVisibleTo(wizard) == (protocol in IPSEC)
    assert find(wizard, QComboBox, "mppe").isVisibleTo(wizard) == (protocol in (Protocol.L2TP, Protocol.PPTP))
    if protocol in IPSEC:
        type_into(qtbot, wizard, "ike_proposals", "3des-md5-modp1024")
        problem = visible_errors(wizard)["ike_proposals"]
        assert "3des" in problem and "legacy" in problem.lower() and not next_enabled(wizard)
        click(wizard, QCheckBox, "allow_legacy")
        assert "Sweet32" in find(wizard, QLabel, "legacyRisks").text()  # type: ignore[attr-defined]
    assert visible_errors(wizard) == {} and next_enabled(wizard)
    wizard.next()

    # Summary: the description, weaknesses, where secrets go; then Finish with "connect now".
    summary = find(wizard, QWidget, "summary").toPlainText()  # type: ignore[attr-defined]
    assert "vpn.example.com" in summary and "only 10.0.0.0/8, 172.16.0.0/12" in summary
    assert "saved in the system keyring" in summary
    assert "WEAK" in summary  # PPTP/L2TP by nature, the IPsec types by the legacy proposal
    click(wizard, QCheckBox, "connect_now")
    with qtbot.waitSignal(wizard.profileSaved) as saved:
        wizard.accept()

    stored = wizard.store.find("Office")
    assert saved.args == [stored.id, True]
    assert stored.protocol is protocol and stored.id == wizard.saved_profile_id
    assert stored.auth.username == ("" if protocol is Protocol.IPSEC_TRANSPORT else "alice")
    assert stored.routing.mode is TunnelMode.SPLIT and stored.kill_switch.enabled
    assert stored.dns.servers == ("10.0.0.53",)
    assert stored.crypto.allow_legacy == (protocol in IPSEC)
    for kind in needed:
        assert wizard.secret_store.get(stored, kind) == f"{kind.value}-value"
    assert not wizard.flow.secrets  # the wizard forgets secrets once they are stored


def test_certificate_sign_in_with_passphrase(wizard: NewConnectionWizard, qtbot: QtBot, tmp_path: Path) -> None:
    wizard.flow.answers.update(name="Cert VPN", host="192.0.2.10")
    wizard.next()
    wizard.next()
    type_into(qtbot, wizard, "username", "bob")
    click(wizard, QRadioButton, "machine_certificate")
    assert not edit(wizard, "psk").isVisibleTo(wizard)
    type_into(qtbot, wizard, "certificate_file", str(tmp_path / "missing.pem"))
    assert "no file" in visible_errors(wizard)["certificate_file"]
    cert = make_certificate(tmp_path / "bob.pem")
    type_into(qtbot, wizard, "certificate_file", str(cert))
    type_into(qtbot, wizard, "ca_file", str(tmp_path / "bob.key"))
    assert "no file" in visible_errors(wizard)["ca_file"]
    edit(wizard, "ca_file").clear()
    click(wizard, QCheckBox, "key_has_passphrase")
    assert edit(wizard, "key_passphrase").isVisibleTo(wizard) and not next_enabled(wizard)
    qtbot.keyClicks(edit(wizard, "key_passphrase"), "pp")
    qtbot.keyClicks(edit(wizard, "password"), "pw")
    assert next_enabled(wizard)
    wizard.next()
    wizard.next()
    wizard.accept()
    stored = wizard.store.find("Cert VPN")
    assert stored.auth.method is AuthMethod.CERTIFICATE and stored.auth.certificate_file == str(cert)
    assert wizard.secret_store.get(stored, SecretKind.KEY_PASSPHRASE) == "pp"


def test_username_only_policy_saves_no_secret(wizard: NewConnectionWizard, qtbot: QtBot) -> None:
    click(wizard, QRadioButton, "protocol_pptp")
    assert "Insecure" in find(wizard, QLabel, "note_pptp").text()  # type: ignore[attr-defined]
    wizard.next()
    type_into(qtbot, wizard, "name", "Old")
    type_into(qtbot, wizard, "host", "198.51.100.7")
    wizard.next()
    type_into(qtbot, wizard, "username", "carol")
    click(wizard, QRadioButton, "policy_username_only")
    assert next_enabled(wizard)  # the password will be asked when connecting
    assert "asked when you connect" in edit(wizard, "password").placeholderText()
    wizard.next()
    wizard.next()
    assert "asked each time you connect" in find(wizard, QWidget, "summary").toPlainText()  # type: ignore[attr-defined]
    wizard.accept()
    stored = wizard.store.find("Old")
    assert stored.credential_policy is CredentialPolicy.USERNAME_ONLY
    assert wizard.secret_store.get(stored, SecretKind.PASSWORD) is None


def test_without_a_secure_keyring_saving_is_disabled_and_explained(qtbot: QtBot, store: ProfileStore) -> None:
    wizard = NewConnectionWizard(store, SecretStore(PlaintextKeyring()))
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.flow.answers.update(name="Office", host="192.0.2.1")
    wizard.next()
    wizard.next()
    save = find(wizard, QRadioButton, "policy_save")
    assert not save.isEnabled() and not save.isChecked()  # type: ignore[attr-defined]
    assert find(wizard, QRadioButton, "policy_username_only").isChecked()  # type: ignore[attr-defined]
    assert "No secure keyring" in find(wizard, QLabel, "policyNote").text()  # type: ignore[attr-defined]
    type_into(qtbot, wizard, "username", "alice")
    assert next_enabled(wizard)


def test_gateway_page_phonebook_and_probe_button(wizard: NewConnectionWizard, qtbot: QtBot, tmp_path: Path) -> None:
    wizard.next()
    page = wizard.currentPage()
    check = find(wizard, QPushButton, "checkGateway")
    assert check.isEnabled() and "without signing in" in check.toolTip()
    bad = tmp_path / "bad.json"
    bad.write_text('{"gateways": ["no spaces allowed"]}')
    assert not page.load_phonebook_file(bad)  # type: ignore[attr-defined]
    assert "gateways[0].host" in find(wizard, QLabel, "phonebookError").text()  # type: ignore[attr-defined]
    book = tmp_path / "book.json"
    book.write_text(
        json.dumps(
            {
                "gateways": [
                    {"host": "vpn-ber.example.com", "label": "Berlin"},
                    {"host": "vpn-bos.example.com", "label": "Boston"},
                ]
            }
        )
    )
    assert page.load_phonebook_file(book)  # type: ignore[attr-defined]
    assert edit(wizard, "host").text() == "vpn-ber.example.com" and edit(wizard, "name").text() == "Berlin"
    combo = find(wizard, QComboBox, "phonebook")
    assert isinstance(combo, QComboBox) and combo.count() == 2
    combo.setCurrentIndex(1)
    combo.activated.emit(1)
    assert edit(wizard, "host").text() == "vpn-bos.example.com"
    assert find(wizard, QCheckBox, "use_phonebook").isVisibleTo(wizard)
    assert next_enabled(wizard)
    assert [g["host"] for g in wizard.flow.gateways()] == ["vpn-bos.example.com", "vpn-ber.example.com"]


def test_name_already_taken_is_said_while_typing(qtbot: QtBot, store: ProfileStore) -> None:
    store.save(Profile(name="Office", protocol=Protocol.L2TP, gateways=(Gateway("192.0.2.1"),)))
    wizard = NewConnectionWizard(store, SecretStore(MemoryKeyring()))
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.next()
    type_into(qtbot, wizard, "name", "office")
    assert "already have" in visible_errors(wizard)["name"]


def test_model_refusal_is_reported_on_finish(wizard: NewConnectionWizard) -> None:
    wizard.flow.answers.update(name="Office", host="10.0.0.1", username="a", protocol="l2tp")
    wizard.flow.secrets[SecretKind.PASSWORD] = "pw"
    wizard.store.save(wizard.flow.profile())  # someone else created it meanwhile
    for _ in range(4):
        wizard.next()
    wizard.accept()
    assert wizard.saved_profile_id is None
    assert "already exists" in " ".join(
        label.text() for label in wizard.currentPage().findChildren(QLabel, "fieldError")
    )


def test_editing_keeps_id_and_saved_secrets(qtbot: QtBot, store: ProfileStore) -> None:
    keyring = SecretStore(MemoryKeyring())
    original = Profile(name="Office", protocol=Protocol.L2TP, gateways=(Gateway("192.0.2.1"),))
    original = Profile(**{**original.__dict__, "auth": original.auth.__class__(username="alice")})
    store.save(original)
    keyring.set(original, SecretKind.PASSWORD, "old-pw")
    wizard = NewConnectionWizard(store, keyring, editing=original)
    qtbot.addWidget(wizard)
    wizard.show()
    assert wizard.windowTitle() == "Edit Connection"
    assert find(wizard, QRadioButton, "protocol_l2tp").isChecked()  # type: ignore[attr-defined]
    wizard.next()
    type_into(qtbot, wizard, "name", "Office (Berlin)")
    wizard.next()
    assert "keep the saved" in edit(wizard, "password").placeholderText() and next_enabled(wizard)
    wizard.next()
    spin = find(wizard, QSpinBox, "reconnect_attempts")
    assert isinstance(spin, QSpinBox)
    spin.setValue(7)
    wizard.next()
    wizard.accept()
    profiles, _ = store.load_all()
    assert [(p.id, p.name, p.reconnect.max_attempts) for p in profiles] == [(original.id, "Office (Berlin)", 7)]
    assert keyring.get(profiles[0], SecretKind.PASSWORD) == "old-pw"


def _drop(widget: QWidget, path: Path) -> tuple[bool, bool]:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    with warnings.catch_warnings():  # PySide marks the QPoint constructor deprecated; Qt 6 has no other
        warnings.simplefilter("ignore", DeprecationWarning)
        enter = QDragEnterEvent(
            QPoint(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
        )
    widget.dragEnterEvent(enter)  # type: ignore[attr-defined]
    drop = QDropEvent(
        QPointF(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    widget.dropEvent(drop)  # type: ignore[attr-defined]
    return enter.isAccepted(), drop.isAccepted()


def test_drop_a_profile_on_the_first_page_previews_and_imports(
    wizard: NewConnectionWizard, qtbot: QtBot, tmp_path: Path
) -> None:
    existing = Profile(name="Office", protocol=Protocol.PPTP, gateways=(Gateway("vpn.example.com"),))
    wizard.store.save(existing)
    wizard.flow.taken_names.add("Office")
    path = tmp_path / "office.json"
    path.write_text(json.dumps(export_document(existing)))
    assert _drop(wizard.currentPage(), path) == (True, True)
    dialog = wizard.import_dialog
    assert isinstance(dialog, ImportDialog) and dialog.isVisible()
    assert "vpn.example.com" in dialog.text.toPlainText()
    assert dialog.findChild(QLabel, "importWarnings") is not None  # PPTP is weak, and says so
    assert dialog.name.text() == "Office (2)" and dialog.import_button.isEnabled()
    dialog.name.setText("office")
    assert not dialog.import_button.isEnabled() and "already have" in dialog.name_error.text()
    dialog.name.setText("Office (2)")
    with qtbot.waitSignal(wizard.profileSaved):
        dialog.import_button.click()
    assert not wizard.isVisible()
    imported = wizard.store.find("Office (2)")
    assert imported.id == wizard.saved_profile_id and imported.id != existing.id


def test_dropping_a_bad_file_explains_and_imports_nothing(wizard: NewConnectionWizard, tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"name": "x"}')
    _drop(wizard.currentPage(), path)
    dialog = wizard.import_dialog
    assert dialog is not None and not dialog.import_button.isEnabled()
    assert "cannot be imported" in dialog.problem.text()
    dialog.reject()
    assert wizard.store.load_all()[0] == [] and wizard.isVisible()
    other = tmp_path / "notes.txt"
    other.write_text("x")
    assert _drop(wizard.currentPage(), other) == (False, False)


def test_every_field_is_labelled_and_reachable_by_keyboard(wizard: NewConnectionWizard, qtbot: QtBot) -> None:
    wizard.flow.answers.update(
        name="Office", host="vpn.example.com", username="alice", tunnel="split", routes="10.0.0.0/8"
    )
    wizard.flow.secrets.update({SecretKind.PASSWORD: "p", SecretKind.PSK: "k"})
    kinds = (QLineEdit, QCheckBox, QRadioButton, QComboBox, QSpinBox, QPushButton)
    for _ in range(5):
        page = wizard.currentPage()
        inputs = [
            w
            for cls in kinds
            for w in page.findChildren(cls)
            if w.isVisibleTo(wizard)
            and w.isEnabled()
            and w.parent() is not None
            and not isinstance(w.parent(), QSpinBox)
        ]
        assert inputs
        for widget in inputs:
            labelled = bool(widget.accessibleName()) or bool(getattr(widget, "text", lambda: "")())
            assert labelled, f"{page.objectName()}: {widget.objectName()} has no accessible name"
            if not isinstance(widget, QRadioButton):  # arrows move within a radio group
                assert widget.focusPolicy() & Qt.FocusPolicy.TabFocus, widget.objectName()
        radios = [w for w in inputs if isinstance(w, QRadioButton)]
        if radios:  # Qt lets Tab enter a radio group at one button (its first); arrows do the rest
            assert sum(bool(r.focusPolicy() & Qt.FocusPolicy.TabFocus) for r in radios) >= 1
        # Tab walks through every field of the page (radio groups count once, as in every Qt app).
        reached: set[QWidget] = set()
        start = inputs[0]
        start.setFocus()
        widget: QWidget | None = start
        for _step in range(200):
            assert widget is not None
            reached.add(widget)
            widget = widget.nextInFocusChain()
            if widget is start:
                break
        missing = [w.objectName() for w in inputs if w not in reached and not isinstance(w, QRadioButton)]
        assert missing == [], f"{page.objectName()}: not in the tab chain: {missing}"
        if wizard.currentPage().step != "summary":  # type: ignore[attr-defined]
            wizard.next()


def test_check_this_gateway_runs_the_probe_without_freezing(wizard: NewConnectionWizard, qtbot: QtBot) -> None:
    """Nothing listens on this machine's loopback: the probe says so, quickly, and the UI stays live."""
    wizard.next()
    type_into(qtbot, wizard, "name", "Office")
    type_into(qtbot, wizard, "host", "127.0.0.1")
    check = find(wizard, QPushButton, "checkGateway")
    qtbot.mouseClick(check, Qt.MouseButton.LeftButton)
    result = find(wizard, QLabel, "checkGatewayResult")
    assert not check.isEnabled() and "Checking 127.0.0.1" in result.text()  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: check.isEnabled(), timeout=20000)
    assert "did not answer any VPN protocol" in result.text()  # type: ignore[attr-defined]
