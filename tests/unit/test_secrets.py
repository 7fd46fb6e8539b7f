"""Secrets go to a secure keyring or nowhere."""

from __future__ import annotations

import pytest
from keyring.backends import chainer, fail, null

from tests.memory_keyring import MemoryKeyring
from wizard.profiles.errors import SecretsUnavailable
from wizard.profiles.model import Gateway, Profile, Protocol, SecretKind
from wizard.profiles.secrets import SecretStore, is_secure_backend, service_name

PROFILE = Profile(name="Office", protocol=Protocol.L2TP, gateways=(Gateway("vpn.example.com"),))


def test_set_get_delete_in_memory() -> None:
    backend = MemoryKeyring()
    store = SecretStore(backend)
    store.set(PROFILE, SecretKind.PASSWORD, "hunter2!")
    assert backend.entries == {(service_name(PROFILE.id), "password"): "hunter2!"}
    assert store.get(PROFILE, SecretKind.PASSWORD) == "hunter2!"
    store.delete_all(PROFILE)
    assert backend.entries == {}


def test_a_secret_the_profile_does_not_use_is_refused() -> None:
    with pytest.raises(ValueError, match="does not use a psk"):
        SecretStore(MemoryKeyring()).set(PROFILE, SecretKind.PSK, "x")


@pytest.mark.parametrize("backend", [fail.Keyring(), null.Keyring()])
def test_insecure_backends_are_refused(backend: object) -> None:
    store = SecretStore(backend)  # type: ignore[arg-type]
    assert not store.available
    assert store.get(PROFILE, SecretKind.PASSWORD) is None
    with pytest.raises(SecretsUnavailable, match="asked for every time"):
        store.set(PROFILE, SecretKind.PASSWORD, "hunter2!")


def test_plaintext_keyrings_alt_is_refused() -> None:
    plaintext = type("PlaintextKeyring", (MemoryKeyring,), {"__module__": "keyrings.alt.file"})()
    assert not is_secure_backend(plaintext)


def test_chainer_is_secure_only_if_every_member_is() -> None:
    class Chain(chainer.ChainerBackend):
        def __init__(self, members: list[object]) -> None:
            self._members = members

        @property
        def backends(self) -> list[object]:  # type: ignore[override]
            return self._members

    assert is_secure_backend(Chain([MemoryKeyring()]))  # type: ignore[arg-type]
    assert not is_secure_backend(Chain([MemoryKeyring(), fail.Keyring()]))  # type: ignore[arg-type]
    assert not is_secure_backend(Chain([]))  # type: ignore[arg-type]
