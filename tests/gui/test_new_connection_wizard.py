"""Drive the Qt New Connection wizard like a user, offscreen, and check what it stores."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QLabel, QLineEdit, QRadioButton, QWizard
from pytestqt.qtbot import QtBot

from tests.memory_keyring import MemoryKeyring
from wizard.gui.new_connection import NewConnectionWizard
from wizard.profiles.model import Protocol, SecretKind
from wizard.profiles.secrets import SecretStore
from wizard.profiles.store import ProfileStore


@pytest.fixture
def wizard(qtbot: QtBot, tmp_path: Path) -> NewConnectionWizard:
    window = NewConnectionWizard(ProfileStore(tmp_path), SecretStore(MemoryKeyring()))
    qtbot.addWidget(window)
    window.show()
    return window


def _edit(wizard: NewConnectionWizard, name: str) -> QLineEdit:
    edit = wizard.currentPage().findChild(QLineEdit, name)
    assert edit is not None, name
    return edit


def _visible_errors(wizard: NewConnectionWizard) -> list[str]:
    return [
        label.text()
        for label in wizard.currentPage().findChildren(QLabel, "fieldError")
        if label.isVisible() and label.text()
    ]


def _next_enabled(wizard: NewConnectionWizard) -> bool:
    return wizard.button(QWizard.WizardButton.NextButton).isEnabled()


@pytest.mark.parametrize(
    "protocol", [Protocol.L2TP_IPSEC, Protocol.IKEV1_XAUTH, Protocol.IPSEC_TRANSPORT, Protocol.L2TP, Protocol.PPTP]
)
def test_every_connection_type_end_to_end(wizard: NewConnectionWizard, qtbot: QtBot, protocol: Protocol) -> None:
    button = wizard.currentPage().findChild(QRadioButton, f"protocol_{protocol.value}")
    assert button is not None
    button.click()
    wizard.next()

    # Gateway page: invalid input is named beside the field and blocks Next.
    assert not _next_enabled(wizard)
    qtbot.keyClicks(_edit(wizard, "name"), "Office")
    qtbot.keyClicks(_edit(wizard, "host"), "not a host")
    assert any("not a host name" in e for e in _visible_errors(wizard))
    assert not _next_enabled(wizard)
    _edit(wizard, "host").clear()
    qtbot.keyClicks(_edit(wizard, "host"), "vpn.example.com")
    assert _visible_errors(wizard) == [] and _next_enabled(wizard)
    wizard.next()

    # Sign-in page: every secret the protocol needs is a password field and is required.
    assert not _next_enabled(wizard)
    qtbot.keyClicks(_edit(wizard, "username"), "alice")
    needed = wizard.flow.needed_secrets()
    for kind in needed:
        edit = _edit(wizard, kind.value)
        assert edit.echoMode() is QLineEdit.EchoMode.Password
        assert not _next_enabled(wizard)
        qtbot.keyClicks(edit, f"{kind.value}-value")
    assert _next_enabled(wizard)
    wizard.next()

    summary = wizard.currentPage().findChild(object, "summary")
    assert "vpn.example.com" in summary.toPlainText()  # type: ignore[union-attr]
    if protocol is Protocol.PPTP:
        assert "WEAK" in summary.toPlainText()  # type: ignore[union-attr]
    wizard.accept()

    stored = wizard.store.find("Office")
    assert stored.protocol is protocol and stored.auth.username == "alice"
    assert stored.id == wizard.saved_profile_id
    for kind in needed:
        assert wizard.secret_store.get(stored, kind) == f"{kind.value}-value"
    assert SecretKind.KEY_PASSPHRASE not in needed


def test_duplicate_name_is_reported_on_finish(wizard: NewConnectionWizard, qtbot: QtBot) -> None:
    wizard.flow.answers.update(name="Office", host="10.0.0.1", username="a", protocol="l2tp")
    wizard.flow.secrets[SecretKind.PASSWORD] = "pw"
    wizard.store.save(wizard.flow.profile())
    for _ in range(3):
        wizard.next()
    wizard.accept()
    assert wizard.saved_profile_id is None
    assert "already exists" in " ".join(
        label.text() for label in wizard.currentPage().findChildren(QLabel, "fieldError")
    )
