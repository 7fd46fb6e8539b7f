"""Bookkeeping of the IKEv2 connection: states, datagrams, IKE SAs, requests in flight, child entries."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum, auto
from typing import Any, Literal

from wizard.engine.crypto.suites import DHKey
from wizard.engine.ike.payloads import Payload
from wizard.engine.ike.v1.exchange import Datagram as V1Datagram
from wizard.engine.ike.v2.events import ChildSA
from wizard.engine.ike.v2.keys import IkeKeys
from wizard.engine.ike.v2.messages import SAPayload
from wizard.engine.ike.v2.proposals import IkeSuite
from wizard.engine.ike.v2.protect import Protector, Reassembly
from wizard.engine.ike.v2.ts import Selector

Role = Literal["initiator", "responder"]


class State(Enum):
    IDLE = auto()
    SA_INIT = auto()
    AUTH = auto()
    ESTABLISHED = auto()
    CLOSED = auto()


class Datagram(V1Datagram):
    """``(data, dest_port)`` like IKEv1's, plus ``source_port``, ``dest_address`` and ``source_address``.

    Data for the NAT-T port already begins with the non-ESP marker.
    """

    dest_address: str
    source_address: str

    def __new__(cls, data: bytes, dest_port: int, source_port: int, dest_address: str = "",
                source_address: str = "") -> Datagram:  # fmt: skip
        obj = super().__new__(cls, data, dest_port, source_port)
        assert isinstance(obj, Datagram)
        obj.dest_address = dest_address
        obj.source_address = source_address
        return obj


@dataclass
class Stats:
    """Counters (dropped packets are counted, never raised)."""

    received: int = 0
    sent: int = 0
    malformed_dropped: int = 0
    unknown_sa_dropped: int = 0
    unexpected_dropped: int = 0
    decrypt_failed: int = 0
    duplicates: int = 0
    responses_replayed: int = 0
    retransmissions: int = 0
    fragments_received: int = 0
    fragments_sent: int = 0
    liveness_checks: int = 0
    ike_rekeys: int = 0
    child_rekeys: int = 0


@dataclass
class IkeSA:
    """One IKE SA. ``initiator`` is True when this side was its original initiator (sets the I flag)."""

    spi_i: bytes
    spi_r: bytes
    initiator: bool
    suite: IkeSuite | None = None
    keys: IkeKeys | None = None
    out: Protector | None = None
    inp: Protector | None = None
    next_mid: int = 0  # our next request
    peer_mid: int = 0  # the peer's next request
    last_response: list[bytes] = field(default_factory=list)
    last_response_mid: int = -1
    last_response_to: tuple[str, int] | None = None
    reassembly: dict[tuple[bool, int], Reassembly] = field(default_factory=dict)
    established: bool = False
    established_at: float = 0.0
    deleted: bool = False
    rekey_started: bool = False
    ni: bytes = b""
    nr: bytes = b""
    init_request: bytes = b""
    init_response: bytes = b""

    @property
    def our_spi(self) -> bytes:
        return self.spi_i if self.initiator else self.spi_r

    def key(self) -> tuple[bytes, bytes]:
        return self.spi_i, self.spi_r


@dataclass
class Request:
    """Our request in flight (window size 1): what to resend, when, and who handles the answer."""

    sa: IkeSA
    mid: int
    exchange: int
    datagrams: list[bytes]
    on_response: Callable[[tuple[Payload, ...], float], None]
    on_timeout: Callable[[float], None]
    kind: str
    tries: int = 0
    next_at: float | None = None
    context: Any = None


@dataclass
class InitContext:
    """The initiator's IKE_SA_INIT in progress (kept across COOKIE and INVALID_KE_PAYLOAD retries)."""

    sa: IkeSA
    offered: SAPayload
    dh: DHKey
    group: int
    nonce: bytes
    cookie: bytes = b""
    cookie_tries: int = 0
    ke_tries: int = 0


@dataclass
class ChildEntry:
    """A child SA and its timers. ``replaced_by`` is its successor after a rekey."""

    sa: ChildSA
    created: float
    rekey_at: float | None
    expire_at: float | None
    local_ts: tuple[Selector, ...] = ()
    remote_ts: tuple[Selector, ...] = ()
    replaced_by: ChildEntry | None = None
    rekeying: bool = False
    deleted: bool = False
    delete_at: float | None = None  # emit ChildSADeleted then (a rekeyed-away SA lingers inbound)
    switch_at: float | None = None  # rekey responder: emit ChildSARekeyed then at the latest
    pending_switch: ChildEntry | None = None  # rekey responder: successor not yet announced for sending
    delete_reason: str = ""
