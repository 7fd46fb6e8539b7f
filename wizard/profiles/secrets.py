"""Profile secrets in the OS keyring, and only there.

Each profile gets its own keyring service (``connection-wizard/<profile id>``) and each secret kind
is one entry in it. Backends that keep secrets in plaintext (keyrings.alt's file backends) or that
store nothing (``fail``, ``null``) are refused: then :class:`SecretStore` says so and the caller asks
for secrets every time instead of writing them anywhere.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

import keyring
import keyring.backend
import keyring.errors
from keyring.backends import chainer

from wizard.profiles.errors import SecretsUnavailable
from wizard.profiles.model import Profile, SecretKind

SERVICE_PREFIX = "connection-wizard/"

_INSECURE_MODULES = ("keyrings.alt", "keyring.backends.fail", "keyring.backends.null")


def service_name(profile_id: str) -> str:
    return SERVICE_PREFIX + profile_id


def is_secure_backend(backend: keyring.backend.KeyringBackend) -> bool:
    """True when ``backend`` (or every backend a chainer would use) keeps secrets encrypted."""
    if isinstance(backend, chainer.ChainerBackend):
        backends = list(backend.backends)
        return bool(backends) and all(is_secure_backend(b) for b in backends)
    module = type(backend).__module__
    return not module.startswith(_INSECURE_MODULES)


def describe_backend(backend: keyring.backend.KeyringBackend) -> str:
    return f"{type(backend).__module__}.{type(backend).__name__}"


class SecretStore:
    """Reads and writes one profile's secrets; never logs or returns them in error messages."""

    def __init__(self, backend: keyring.backend.KeyringBackend | None = None) -> None:
        self.backend = backend if backend is not None else keyring.get_keyring()

    @property
    def available(self) -> bool:
        return is_secure_backend(self.backend)

    def unavailable_reason(self) -> str:
        return (
            f"no secure keyring is available (found {describe_backend(self.backend)}); "
            "secrets will be asked for every time you connect. Install and unlock a Secret Service "
            "keyring such as GNOME Keyring or KWallet to save them."
        )

    def _require(self) -> None:
        if not self.available:
            raise SecretsUnavailable(self.unavailable_reason())

    def set(self, profile: Profile, kind: SecretKind, value: str) -> None:
        self._require()
        if kind not in profile.auth.secrets:
            raise ValueError(f"profile {profile.name!r} does not use a {kind.value} secret")
        try:
            self.backend.set_password(service_name(profile.id), kind.value, value)
        except keyring.errors.KeyringError as exc:
            raise SecretsUnavailable(f"the keyring refused to save the {kind.value}: {type(exc).__name__}") from None

    def get(self, profile: Profile, kind: SecretKind) -> str | None:
        if not self.available:
            return None
        try:
            return self.backend.get_password(service_name(profile.id), kind.value)
        except keyring.errors.KeyringError:
            return None

    def delete_all(self, profile: Profile, kinds: Iterable[SecretKind] = tuple(SecretKind)) -> None:
        """Remove every saved secret of ``profile`` (missing entries are fine)."""
        if not self.available:
            return
        for kind in kinds:
            with contextlib.suppress(keyring.errors.PasswordDeleteError):
                self.backend.delete_password(service_name(profile.id), kind.value)
