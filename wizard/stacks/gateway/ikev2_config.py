"""The ``ipsec`` section's IKEv2 keys: which client sign-ins the ``ikev2`` service accepts, and the
gateway's certificate.

Example (in the ``ipsec`` section, with ``"ikev2"`` in ``services``)::

    "ikev2_auth": ["psk", "cert", "eap"],
    "certificate_file": "gateway.pem",
    "private_key_file": "gateway.key",
    "ca_file": "ca.pem",
    "local_id": "192.0.2.1",
    "require_cookie": false

``psk``: the client and the gateway both prove themselves with the section's ``psk``. ``cert``: the
client signs with a certificate issued by a CA in ``ca_file``; the gateway signs with its own
certificate. ``eap``: EAP-MSCHAPv2 against the gateway's ``users``, the gateway signing with its
certificate (as Windows and macOS expect). Without ``ikev2_auth`` every method the other keys make
possible is accepted. ``local_id`` is the identity the gateway presents (default: the address the
client contacted); clients compare it with the server name they were given, and the certificate
must name it. Relative file names are read from the configuration file's directory. The private key
must not be encrypted (the gateway starts unattended) and is never printed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from wizard.engine.ike.v1.auth import identity_matches_certificate
from wizard.engine.ike.v1.identities import Identity

ClientAuth = Literal["psk", "cert", "eap"]
CLIENT_AUTH: tuple[ClientAuth, ...] = ("psk", "cert", "eap")
IKEV2_KEYS = {"ikev2_auth", "certificate_file", "private_key_file", "ca_file", "local_id", "require_cookie"}
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class Ikev2ConfigError(ValueError):
    """A mistake in one of the IKEv2 keys; ``field`` names it below the ``ipsec`` section."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


@dataclass(frozen=True)
class Ikev2Settings:
    """What the ``ikev2`` service needs besides the shared proposals: accepted sign-ins and the PKI."""

    client_auth: tuple[ClientAuth, ...]
    certificate: x509.Certificate | None = None
    certificate_chain: tuple[x509.Certificate, ...] = ()  # intermediates sent after the gateway's certificate
    private_key: PrivateKey | None = field(default=None, repr=False)
    ca_certificates: tuple[x509.Certificate, ...] = ()
    local_id: str | None = None
    require_cookie: bool = False

    def names(self, identity: str) -> bool:
        """Whether the gateway's certificate names ``identity`` (an address, host name or DN)."""
        return self.certificate is not None and identity_matches_certificate(Identity.parse(identity), self.certificate)


def ikev2_settings_from_dict(
    obj: Mapping[str, Any],
    *,
    psk: bool,
    base: Path | None = None,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> Ikev2Settings:
    """Validate the IKEv2 keys of an ``ipsec`` section that serves ``ikev2``; ``psk``: the section has one."""
    certificate, chain, key = _own_certificate(obj, base, now())
    cas = _ca_certificates(obj, base)
    if cas and certificate is None:
        raise Ikev2ConfigError(
            "ca_file", "client certificates also need the gateway's own certificate_file and private_key_file"
        )
    possible: list[ClientAuth] = []
    if psk:
        possible.append("psk")
    if certificate is not None and cas:
        possible.append("cert")
    if certificate is not None:
        possible.append("eap")
    if "ikev2_auth" in obj:
        wanted = _client_auth(obj["ikev2_auth"])
        for i, kind in enumerate(wanted):
            if kind not in possible:
                raise Ikev2ConfigError(f"ikev2_auth[{i}]", _missing_for(kind))
    elif possible:
        wanted = tuple(possible)
    else:
        raise Ikev2ConfigError(
            "ikev2_auth", "the ikev2 service needs a psk, or certificate_file and private_key_file (and ca_file "
            "for client certificates)",
        )  # fmt: skip
    if certificate is not None and not any(k in wanted for k in ("cert", "eap")):
        raise Ikev2ConfigError("certificate_file", "is not used: ikev2_auth accepts neither cert nor eap")
    if cas and "cert" not in wanted:
        raise Ikev2ConfigError("ca_file", "is not used: ikev2_auth does not accept client certificates (cert)")
    local_id = obj.get("local_id")
    if local_id is not None:
        if not isinstance(local_id, str) or not local_id.strip() or not local_id.isprintable():
            raise Ikev2ConfigError("local_id", "must be an address, a host name or a distinguished name")
        try:
            Identity.parse(local_id)
        except ValueError as exc:
            raise Ikev2ConfigError("local_id", f"{local_id!r} is not an identity: {exc}") from None
    require_cookie = obj.get("require_cookie", False)
    if type(require_cookie) is not bool:
        raise Ikev2ConfigError("require_cookie", "must be true or false")
    settings = Ikev2Settings(tuple(wanted), certificate, chain, key, cas, local_id, require_cookie)
    if local_id is not None and certificate is not None and not settings.names(local_id):
        raise Ikev2ConfigError(
            "local_id", f"the certificate ({certificate.subject.rfc4514_string()}) does not name {local_id}; "
            "clients would refuse it",
        )  # fmt: skip
    return settings


def unused_keys(obj: Mapping[str, Any]) -> str | None:
    """The first IKEv2 key of a section that does not serve ``ikev2`` (a likely mistake), or None."""
    return next((key for key in sorted(IKEV2_KEYS) if key in obj), None)


def _missing_for(kind: ClientAuth) -> str:
    if kind == "psk":
        return "psk needs the section's psk"
    if kind == "cert":
        return "cert needs certificate_file, private_key_file and ca_file (the CA that issued the clients' certificates)"
    return "eap needs certificate_file and private_key_file: the gateway proves itself with a certificate"


def _client_auth(value: Any) -> tuple[ClientAuth, ...]:
    if not isinstance(value, list) or not value:
        raise Ikev2ConfigError("ikev2_auth", f"must be a non-empty JSON list of {', '.join(CLIENT_AUTH)}")
    out: list[ClientAuth] = []
    for i, item in enumerate(value):
        match = next((kind for kind in CLIENT_AUTH if kind == item), None)
        if match is None:
            raise Ikev2ConfigError(f"ikev2_auth[{i}]", f"{item!r} is not a method; choose from {', '.join(CLIENT_AUTH)}")
        if match in out:
            raise Ikev2ConfigError(f"ikev2_auth[{i}]", f"{match} is listed twice")
        out.append(match)
    return tuple(out)


def _path(obj: Mapping[str, Any], key: str, base: Path | None) -> Path | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise Ikev2ConfigError(key, "must be a file name")
    path = Path(value).expanduser()
    return path if path.is_absolute() or base is None else base / path


def _read(path: Path, key: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise Ikev2ConfigError(key, f"cannot read {str(path)!r}: {exc.strerror}") from None


def _certificates(path: Path, key: str) -> tuple[x509.Certificate, ...]:
    data = _read(path, key)
    try:
        certs = tuple(x509.load_pem_x509_certificates(data))
    except ValueError:
        certs = ()
    if not certs:
        raise Ikev2ConfigError(key, f"{str(path)!r} holds no PEM certificate")
    return certs


def _own_certificate(
    obj: Mapping[str, Any], base: Path | None, now: dt.datetime
) -> tuple[x509.Certificate | None, tuple[x509.Certificate, ...], PrivateKey | None]:
    cert_path, key_path = _path(obj, "certificate_file", base), _path(obj, "private_key_file", base)
    if cert_path is None and key_path is None:
        return None, (), None
    if cert_path is None:
        raise Ikev2ConfigError("certificate_file", "is required with private_key_file")
    if key_path is None:
        raise Ikev2ConfigError("private_key_file", "is required with certificate_file")
    certs = _certificates(cert_path, "certificate_file")
    leaf = certs[0]
    if leaf.not_valid_after_utc < now:
        raise Ikev2ConfigError("certificate_file", f"the certificate expired on {leaf.not_valid_after_utc:%Y-%m-%d}")
    data = _read(key_path, "private_key_file")
    try:
        key = serialization.load_pem_private_key(data, None)
    except TypeError:
        raise Ikev2ConfigError("private_key_file", "the key is encrypted; store it unencrypted (mode 0600)") from None
    except ValueError:
        raise Ikev2ConfigError("private_key_file", f"{str(key_path)!r} holds no PEM private key") from None
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise Ikev2ConfigError("private_key_file", "IKEv2 signatures here need an RSA or ECDSA key")
    spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if key.public_key().public_bytes(*spki) != leaf.public_key().public_bytes(*spki):
        raise Ikev2ConfigError("private_key_file", "does not belong to the certificate in certificate_file")
    return leaf, certs[1:], key


def _ca_certificates(obj: Mapping[str, Any], base: Path | None) -> tuple[x509.Certificate, ...]:
    path = _path(obj, "ca_file", base)
    return () if path is None else _certificates(path, "ca_file")
