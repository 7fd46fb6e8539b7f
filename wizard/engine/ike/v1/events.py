"""Events an :class:`~wizard.engine.ike.v1.connection.IKEv1Connection` reports to its driver/stack."""

from __future__ import annotations

from dataclasses import dataclass, field

from wizard.engine.crypto.suites import Cipher, Integrity
from wizard.engine.ike.v1.identities import TrafficSelector


@dataclass(frozen=True)
class Event:
    """Base class of all IKEv1 events."""


@dataclass(frozen=True)
class ChildSA:
    """A negotiated ESP SA pair, everything the stack needs to build the two ESP SAs.

    ``enc_key_*`` is the cipher's keying material as RFC 4106/3686 define it (key then salt);
    ``auth_key_*`` is empty for AEAD ciphers. ``*_in`` protect what we receive (SPI ``spi_in``, which we
    chose), ``*_out`` what we send. With ``encapsulated`` ESP rides in UDP between ``local_port`` and
    ``peer_port`` (RFC 3948); ``nat_oa_*`` are the original addresses the peer reported (transport mode).
    """

    spi_in: int
    spi_out: int
    cipher: Cipher
    integrity: Integrity | None
    enc_key_in: bytes = field(repr=False)
    enc_key_out: bytes = field(repr=False)
    auth_key_in: bytes = field(repr=False)
    auth_key_out: bytes = field(repr=False)
    mode: str  # "transport" | "tunnel"
    local_ts: TrafficSelector
    remote_ts: TrafficSelector
    local_address: str
    peer_address: str
    encapsulated: bool = False
    local_port: int = 500
    peer_port: int = 500
    lifetime_seconds: int | None = None
    lifetime_kilobytes: int | None = None
    pfs_group: int | None = None
    nat_oa_local: str | None = None
    nat_oa_peer: str | None = None


@dataclass(frozen=True)
class PhaseOneUp(Event):
    """The ISAKMP SA is authenticated. ``rekey`` is True for a replacement of an earlier one."""

    suite: str
    peer_id: str
    auth: str  # "psk" | "rsa" (+ "+xauth")
    cookie_i: bytes
    cookie_r: bytes
    nat_detected: bool = False
    rekey: bool = False
    aggressive: bool = False


@dataclass(frozen=True)
class NATDetected(Event):
    """A NAT sits on the path: move IKE (and ESP in UDP) to port 4500 with non-ESP-marker framing."""

    local_behind_nat: bool
    peer_behind_nat: bool
    port: int = 4500


@dataclass(frozen=True)
class XauthRequested(Event):
    """The gateway asks for a user name and password. Answer with ``submit_xauth`` unless configured."""

    message: str = ""
    answered_from_config: bool = False


@dataclass(frozen=True)
class XauthDone(Event):
    """XAUTH finished; on the server side ``username`` is who signed in (or tried to)."""

    success: bool
    username: str = ""
    message: str = ""


@dataclass(frozen=True)
class ModeConfigReceived(Event):
    """Mode Config handed us a virtual address (and DNS servers etc.)."""

    address: str | None
    netmask: str | None = None
    dns: tuple[str, ...] = ()
    nbns: tuple[str, ...] = ()
    domain: str | None = None
    split_include: tuple[str, ...] = ()
    banner: str | None = None
    address6: str | None = None
    dns6: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChildSAUp(Event):
    """A new IPsec SA pair is ready: install both directions."""

    sa: ChildSA


@dataclass(frozen=True)
class ChildSARekeyed(Event):
    """A replacement SA pair is ready: install ``new``, keep ``old`` inbound until ChildSADeleted."""

    old: ChildSA
    new: ChildSA


@dataclass(frozen=True)
class ChildSADeleted(Event):
    """Remove this SA pair (rekeyed away, expired, deleted by the peer or by close())."""

    sa: ChildSA
    reason: str
    by_peer: bool = False


@dataclass(frozen=True)
class PeerDead(Event):
    """Dead Peer Detection got no answer (RFC 3706)."""

    reason: str


@dataclass(frozen=True)
class ConnectionFailed(Event):
    """Negotiation or authentication failed; ``reason`` is a plain-language sentence for the UI."""

    reason: str
    notify: str | None = None


@dataclass(frozen=True)
class Closed(Event):
    """The connection is over (always the last event)."""

    reason: str
    by_peer: bool = False
