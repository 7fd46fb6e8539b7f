"""Settings of an IKEv1 connection (client or gateway role), built by the stack from a profile."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from wizard.engine.ike.v1.identities import Identity, TrafficSelector

DEFAULT_IKE_PROPOSALS: tuple[str, ...] = ("aes256-sha256-modp2048", "aes128-sha256-modp2048", "aes128-sha1-modp2048")
DEFAULT_ESP_PROPOSALS: tuple[str, ...] = ("aes256-sha256", "aes128-sha256", "aes128-sha1")


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ChildConfig:
    """The IPsec SA Quick Mode negotiates.

    Initiator: ``local_ts``/``remote_ts`` are sent as IDci/IDcr; None means our own address (or the Mode
    Config virtual address) and the peer's address. Responder: the initiator's IDci must lie inside
    ``remote_ts`` (None: the peer's address or the address we handed out) and IDcr inside ``local_ts``
    (None: our address). ``pfs_group`` (e.g. "modp2048") forces PFS; otherwise the first DH group named
    in ``esp_proposals`` enables it.
    """

    mode: Literal["transport", "tunnel"] = "transport"
    local_ts: TrafficSelector | None = None
    remote_ts: TrafficSelector | None = None
    esp_proposals: tuple[str, ...] = DEFAULT_ESP_PROPOSALS
    pfs_group: str | None = None
    lifetime_seconds: int = 3600
    lifetime_kilobytes: int | None = None
    rekey_margin: float = 540.0
    send_ids: bool = True


@dataclass(frozen=True)
class ModeConfigLease:
    """What a gateway hands out in Mode Config."""

    address: str
    netmask: str | None = None
    dns: tuple[str, ...] = ()
    domain: str | None = None
    split_include: tuple[str, ...] = ()
    banner: str | None = None


@dataclass(frozen=True)
class IKEv1Config:
    """Everything an :class:`~wizard.engine.ike.v1.connection.IKEv1Connection` needs.

    Addresses are the ones this side sees (NAT-D hashes them; a NAT makes the two sides disagree).
    ``allow_legacy`` only shapes failure messages: the proposals themselves come from the profile's
    crypto policy. ``wall_clock`` is used for certificate validity only; ``random_bytes`` makes tests
    deterministic.
    """

    local_address: str
    peer_address: str
    local_port: int = 500
    peer_port: int = 500
    auth: Literal["psk", "rsa"] = "psk"
    psk: bytes | str | None = field(default=None, repr=False)
    certificate: x509.Certificate | None = None
    certificate_chain: tuple[x509.Certificate, ...] = ()
    private_key: rsa.RSAPrivateKey | None = field(default=None, repr=False)
    ca_certificates: tuple[x509.Certificate, ...] = ()
    local_id: str | None = None
    peer_id: str | None = None
    ike_proposals: tuple[str, ...] = DEFAULT_IKE_PROPOSALS
    allow_legacy: bool = False
    aggressive: bool = False
    ike_lifetime: int = 10800  # under strongSwan's 4 h, so we replace the ISAKMP SA before it reauthenticates
    ike_rekey_margin: float = 900.0
    child: ChildConfig | None = field(default_factory=ChildConfig)
    xauth: bool = False
    xauth_username: str | None = None
    xauth_password: str | None = field(default=None, repr=False)
    xauth_check: Callable[[str, str], bool] | None = field(default=None, repr=False, compare=False)
    mode_config: bool = False
    mode_config_provider: Callable[[str], ModeConfigLease | None] | None = field(default=None, repr=False, compare=False)
    nat_traversal: bool = True
    force_encapsulation: bool = False
    nat_t_port: int = 4500
    dpd_interval: float | None = 30.0
    dpd_retries: int = 5
    retransmit_initial: float = 2.0
    retransmit_factor: float = 1.8
    retransmit_cap: float = 30.0
    max_retransmits: int = 5
    initial_contact: bool = True
    probe_on_no_proposal: bool = True
    rekey_overlap: float = 10.0
    vendor_ids: tuple[bytes, ...] = ()
    random_bytes: Callable[[int], bytes] = field(default=os.urandom, repr=False, compare=False)
    wall_clock: Callable[[], datetime] = field(default=_utc_now, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.auth == "psk" and not self.psk:
            raise ValueError("pre-shared key authentication needs a psk")
        if self.auth == "rsa" and (self.certificate is None or self.private_key is None):
            raise ValueError("certificate authentication needs a certificate and its private key")
        if self.auth == "rsa" and not isinstance(self.private_key, rsa.RSAPrivateKey):
            raise ValueError("IKEv1 signature authentication here supports RSA keys only")
        if self.auth == "rsa" and self.aggressive:
            raise ValueError("aggressive mode is only supported with a pre-shared key")
        if self.retransmit_initial <= 0 or self.retransmit_factor < 1 or self.max_retransmits < 0:
            raise ValueError("bad retransmission settings")
        if not self.ike_proposals:
            raise ValueError("at least one IKE proposal is needed")
        for name in (self.local_id, self.peer_id):
            if name:
                Identity.parse(name)  # raises ValueError for an unusable identity

    @property
    def psk_bytes(self) -> bytes:
        if self.psk is None:
            return b""
        return self.psk.encode("utf-8") if isinstance(self.psk, str) else bytes(self.psk)
