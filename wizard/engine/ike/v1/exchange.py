"""Bookkeeping shared by the IKEv1 connection's parts: states, outgoing datagrams, exchanges in flight,
child SA entries and the NO_PROPOSAL_CHOSEN diagnosis offers."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, auto
from typing import Literal

from wizard.engine.ike.v1 import xauth
from wizard.engine.ike.v1.constants import NotifyType
from wizard.engine.ike.v1.events import ChildSA
from wizard.engine.ike.v1.main_mode import MainMode
from wizard.engine.ike.v1.quick_mode import QuickMode
from wizard.engine.ike.v1.sa import IsakmpSA

Role = Literal["initiator", "responder"]
Phase1 = MainMode  # AggressiveMode subclasses MainMode

# Wider offers sent once after NO_PROPOSAL_CHOSEN, only to tell the user what the peer would accept.
PROBE_IKE_PROPOSALS = (
    "aes256-sha256-modp2048", "aes128-sha256-modp2048", "aes256-sha1-modp2048", "aes128-sha1-modp2048",
    "aes256-sha512-modp4096", "aes256-sha384-modp3072", "aes256-sha256-ecp256", "aes256-sha384-ecp384",
    "aes256-sha1-modp1536", "aes128-sha1-modp1536", "aes256-sha1-modp1024", "aes128-sha1-modp1024",
    "aes256-sha256-modp1024", "3des-sha1-modp1024", "3des-md5-modp1024", "3des-sha1-modp1536",
    "3des-sha1-modp2048", "aes128-md5-modp1024", "des-sha1-modp768", "des-md5-modp768", "3des-md5-modp768",
)  # fmt: skip
PROBE_ESP_PROPOSALS = (
    "aes256-sha256", "aes128-sha256", "aes256-sha1", "aes128-sha1", "aes256gcm16", "aes128gcm16",
    "aes256-sha512", "aes256-sha384", "3des-sha1", "3des-md5", "aes128-md5", "aes256-md5", "des-md5", "des-sha1",
)  # fmt: skip

PSK_ERROR_NOTIFIES = frozenset({NotifyType.INVALID_PAYLOAD_TYPE, NotifyType.PAYLOAD_MALFORMED,
                                NotifyType.INVALID_HASH_INFORMATION, NotifyType.AUTHENTICATION_FAILED})  # fmt: skip
XAUTH_WAIT = 30.0
EXCHANGE_LINGER = 120.0


class State(Enum):
    IDLE = auto()
    PHASE1 = auto()
    XAUTH = auto()
    MODE_CONFIG = auto()
    QUICK_MODE = auto()
    ESTABLISHED = auto()
    CLOSED = auto()


class Datagram(tuple[bytes, int]):
    """``(data, dest_port)``; ``source_port`` is the local socket to send from (500 or 4500)."""

    source_port: int

    def __new__(cls, data: bytes, dest_port: int, source_port: int) -> Datagram:
        obj = super().__new__(cls, (data, dest_port))
        obj.source_port = source_port
        return obj

    @property
    def data(self) -> bytes:
        return self[0]

    @property
    def dest_port(self) -> int:
        return self[1]


@dataclass
class Exchange:
    """One exchange (message id) on an ISAKMP SA: what we last sent, what we saw, retransmission state."""

    sa: IsakmpSA
    mid: int
    kind: str  # phase1 | quick | xauth_req | xauth_set | cfg | info | peer
    last_out: bytes | None = None
    last_in: bytes | None = None
    seen: set[bytes] = field(default_factory=set)
    waiting: bool = False
    next_at: float | None = None
    tries: int = 0
    finished_at: float | None = None
    quick: QuickMode | None = None
    phase1: Phase1 | None = None
    xauth_ok: bool = False
    rejected: list[str] = field(default_factory=list)
    xauth_user: str = ""
    initial: bool = False


@dataclass
class ChildEntry:
    """A child SA with its timers: rekey (only the side that negotiated it), hard expiry, deferred delete."""

    sa: ChildSA
    created: float
    ours: bool
    rekey_at: float | None
    expire_at: float | None
    delete_at: float | None = None
    replaced: bool = False
    rekeying: bool = False
    deleted: bool = False


@dataclass
class Probe:
    """A diagnostic wider offer after NO_PROPOSAL_CHOSEN, to tell the user what the peer would accept."""

    kind: str  # "ike" | "esp"
    offered: list[str]
    what: str
    sa: IsakmpSA | None = None
    mid: int = 0
    spi_in: bytes = b""
    pfs: str = ""


@dataclass
class XauthPending:
    """An XAUTH prompt waiting for :meth:`IKEv1Connection.submit_xauth`."""

    exchange: Exchange
    prompt: xauth.XauthPrompt

