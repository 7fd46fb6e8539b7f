"""Settings of an IKEv2 connection (client or gateway role), built by the stack from a profile."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from wizard.engine.ike.v1.identities import Identity, TrafficSelector
from wizard.engine.ike.v2.eap import EAP_METHODS

DEFAULT_IKE_PROPOSALS: tuple[str, ...] = (
    "aes256-sha256-modp2048", "aes128-sha256-modp2048", "aes256gcm16-aes128gcm16-prfsha256-ecp256-modp2048",
)  # fmt: skip
DEFAULT_ESP_PROPOSALS: tuple[str, ...] = ("aes256gcm16", "aes256-sha256", "aes128-sha256", "aes128-sha1")

AuthKind = Literal["psk", "cert", "eap"]


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ChildConfig:
    """The first Child SA (negotiated in IKE_AUTH) and its rekeys.

    Initiator: ``local_ts``/``remote_ts`` are proposed as TSi/TSr; empty means "any address" when a
    virtual address is requested (the gateway narrows TSi to it), else our own address, and "any" for
    TSr. Responder: what it allows; empty ``local_ts`` allows any, empty ``remote_ts`` allows the address
    it handed out (or the peer's own address). ``pfs_group`` (e.g. "modp2048") adds a key exchange to
    rekeys; otherwise the first DH group named in ``esp_proposals`` does.
    """

    mode: Literal["tunnel", "transport"] = "tunnel"
    local_ts: tuple[TrafficSelector, ...] = ()
    remote_ts: tuple[TrafficSelector, ...] = ()
    esp_proposals: tuple[str, ...] = DEFAULT_ESP_PROPOSALS
    pfs_group: str | None = None
    lifetime_seconds: int = 3600
    lifetime_kilobytes: int | None = None
    rekey_margin: float = 540.0


@dataclass(frozen=True)
class AddressLease:
    """What a gateway hands out in a CFG_REPLY (RFC 7296 §3.15.1)."""

    address: str | None = None
    netmask: str | None = None
    dns: tuple[str, ...] = ()
    address6: str | None = None  # "2001:db8::5/64"
    dns6: tuple[str, ...] = ()
    subnets: tuple[str, ...] = ()  # INTERNAL_IP4_SUBNET / INTERNAL_IP6_SUBNET: split-tunnel networks
    domain: str | None = None


@dataclass(frozen=True)
class IKEv2Config:
    """Everything an :class:`~wizard.engine.ike.v2.connection.IKEv2Connection` needs.

    ``auth`` is how this side proves itself: a pre-shared key, a certificate (RSA or ECDSA), or EAP
    (initiator only; the gateway then signs with its certificate, or uses only EAP when both sides allow
    RFC 5998, offered only when ``eap_only`` is set and no CA certificates are configured, since those mean
    the gateway must show a certificate). ``peer_auth`` is what the peer must use; None picks the usual pairing (PSK with PSK,
    certificates otherwise; a gateway with ``eap_users`` expects EAP). ``peer_id`` pins the peer's
    identity: set it to the server name the user typed, or any certificate from the same CA (naming some
    other host) is accepted. ``wall_clock`` is used for certificate validity only; ``random_bytes`` makes
    tests deterministic.
    """

    local_address: str
    peer_address: str
    local_port: int = 500
    peer_port: int = 500
    nat_t_port: int = 4500
    auth: AuthKind = "psk"
    peer_auth: AuthKind | None = None
    psk: bytes | str | None = field(default=None, repr=False)
    certificate: x509.Certificate | None = None
    certificate_chain: tuple[x509.Certificate, ...] = ()
    private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | None = field(default=None, repr=False)
    ca_certificates: tuple[x509.Certificate, ...] = ()
    local_id: str | None = None
    peer_id: str | None = None
    eap_username: str | None = None
    eap_password: str | None = field(default=None, repr=False)
    eap_methods: tuple[str, ...] = ("mschapv2", "md5")
    eap_only: bool = True
    eap_users: Mapping[str, str] | None = field(default=None, repr=False, compare=False)
    eap_server_name: str = "connection-wizard"
    ike_proposals: tuple[str, ...] = DEFAULT_IKE_PROPOSALS
    allow_legacy: bool = False
    child: ChildConfig | None = field(default_factory=ChildConfig)
    request_config: bool = True
    request_ipv6: bool = False
    lease_provider: Callable[[str], AddressLease | None] | None = field(default=None, repr=False, compare=False)
    nat_traversal: bool = True
    force_encapsulation: bool = False
    fragmentation: bool = True
    fragment_size: int = 1280
    mobike: bool = True
    signature_rfc7427: bool = True
    dpd_interval: float | None = 30.0
    retransmit_initial: float = 2.0
    retransmit_factor: float = 1.8
    retransmit_cap: float = 30.0
    max_retransmits: int = 5
    ike_lifetime: int = 10800
    ike_rekey_margin: float = 900.0
    rekey_linger: float = 3.0
    initial_contact: bool = True
    require_cookie: bool = False
    random_bytes: Callable[[int], bytes] = field(default=os.urandom, repr=False, compare=False)
    wall_clock: Callable[[], datetime] = field(default=_utc_now, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.auth == "psk" and not self.psk:
            raise ValueError("pre-shared key authentication needs a psk")
        if self.auth == "cert" and (self.certificate is None or self.private_key is None):
            raise ValueError("certificate authentication needs a certificate and its private key")
        if self.private_key is not None and not isinstance(self.private_key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise ValueError("IKEv2 signatures here support RSA and ECDSA keys")
        if self.auth == "eap" and (not self.eap_username or self.eap_password is None):
            raise ValueError("EAP authentication needs a user name and password")
        for m in self.eap_methods:
            if m not in EAP_METHODS:
                raise ValueError(f"unknown EAP method {m!r}; known: {', '.join(EAP_METHODS)}")
        if self.peer_auth == "eap" and not self.eap_users:
            raise ValueError("a gateway that expects EAP needs eap_users")
        if self.retransmit_initial <= 0 or self.retransmit_factor < 1 or self.max_retransmits < 0:
            raise ValueError("bad retransmission settings")
        if not self.ike_proposals:
            raise ValueError("at least one IKE proposal is needed")
        if self.fragment_size < 576:
            raise ValueError("fragment_size must be at least 576 bytes")
        for name in (self.local_id, self.peer_id):
            if name:
                Identity.parse(name)

    @property
    def psk_bytes(self) -> bytes:
        if self.psk is None:
            return b""
        return self.psk.encode("utf-8") if isinstance(self.psk, str) else bytes(self.psk)

    def expected_peer_auth(self, role: str) -> AuthKind:
        if self.peer_auth is not None:
            return self.peer_auth
        if role == "responder" and self.eap_users:
            return "eap"
        return "psk" if self.auth == "psk" else "cert"
