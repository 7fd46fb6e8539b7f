"""Events an :class:`~wizard.engine.ike.v2.connection.IKEv2Connection` reports to its driver/stack.

The child SA and lifecycle events are IKEv1's own classes, so a stack handles both versions with one
code path; the IKEv2-only events subclass the same :class:`Event` base. ``ConfigReceived`` is IKEv1's
``ModeConfigReceived`` (same fields: the configuration payload's CFG_REPLY).
"""

from __future__ import annotations

from dataclasses import dataclass

from wizard.engine.ike.v1 import events as v1
from wizard.engine.ike.v1.events import (
    ChildSADeleted,
    ChildSARekeyed,
    ChildSAUp,
    Closed,
    ConnectionFailed,
    Event,
    NATDetected,
    PeerDead,
)
from wizard.engine.ike.v1.identities import TrafficSelector

ConfigReceived = v1.ModeConfigReceived

__all__ = [
    "AddressesUpdated",
    "ChildSA",
    "ChildSADeleted",
    "ChildSAInboundReady",
    "ChildSARekeyed",
    "ChildSAUp",
    "Closed",
    "ConfigReceived",
    "ConnectionFailed",
    "Event",
    "IKESAUp",
    "NATDetected",
    "PeerDead",
]


@dataclass(frozen=True)
class ChildSA(v1.ChildSA):
    """IKEv1's ChildSA (everything to build the ESP SAs) plus every negotiated traffic selector.

    ``local_ts``/``remote_ts`` are the first of each list; IKEv2 may narrow to several networks.
    """

    local_ts_all: tuple[TrafficSelector, ...] = ()
    remote_ts_all: tuple[TrafficSelector, ...] = ()


@dataclass(frozen=True)
class IKESAUp(Event):
    """The IKE SA is authenticated (or, with ``rekey``, replaced by a rekeyed one)."""

    suite: str
    peer_id: str
    auth: str  # how this side authenticated: "psk", "cert", "eap" (+ method)
    peer_auth: str  # how the peer did: "psk", "RSA/SHA256 (RFC 7427)", "eap-mschapv2", ...
    spi_i: bytes
    spi_r: bytes
    nat_detected: bool = False
    rekey: bool = False
    eap_identity: str = ""
    fragmentation: bool = False
    mobike: bool = False


@dataclass(frozen=True)
class ChildSAInboundReady(Event):
    """(Rekey responder) install ``new``'s inbound SA now but keep sending on ``old``;
    :class:`ChildSARekeyed` for the same pair follows when the peer has switched (RFC 7296 §2.8)."""

    old: v1.ChildSA
    new: v1.ChildSA


@dataclass(frozen=True)
class AddressesUpdated(Event):
    """MOBIKE moved the SAs to new addresses (RFC 4555): re-point ESP at ``children`` (same keys)."""

    local_address: str
    local_port: int
    peer_address: str
    peer_port: int
    nat_detected: bool
    children: tuple[v1.ChildSA, ...]
