"""Events a :class:`~wizard.engine.ppp.connection.PPPConnection` hands to the stack driving it.

Frozen dataclasses, read with ``next_event()``; the stack turns them into network configuration and
status messages. Exactly one terminal event (:class:`ConnectionClosed` or :class:`ConnectionFailed`)
ends every connection that was started.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Phase(enum.Enum):
    """RFC 1661 section 3.2 link phases."""

    DEAD = "dead"
    ESTABLISH = "establish"
    AUTHENTICATE = "authenticate"
    NETWORK = "network"
    TERMINATE = "terminate"


@dataclass(frozen=True)
class Event:
    """Base class of all PPP events."""


@dataclass(frozen=True)
class PhaseChanged(Event):
    phase: Phase


@dataclass(frozen=True)
class LinkUp(Event):
    """LCP is open. ``mru`` is what we receive, ``peer_mru`` the largest frame we may send."""

    mru: int
    peer_mru: int
    auth_method: str | None


@dataclass(frozen=True)
class Authenticated(Event):
    """Authentication succeeded. ``method`` is a display name such as ``"MS-CHAPv2"``."""

    method: str
    username: str


@dataclass(frozen=True)
class NetworkUp(Event):
    """IPCP (and CCP when encryption is negotiated) are open: IP packets may flow.

    ``mtu`` is the peer's MRU (largest packet we may send); ``mppe`` describes the encryption of
    the link, e.g. ``"MPPE-128 stateless"``, or is None for an unencrypted link.
    """

    local_ipv4: str
    peer_ipv4: str | None
    dns: tuple[str, ...]
    local_ipv6_iid: bytes | None
    peer_ipv6_iid: bytes | None
    mru: int
    mtu: int
    auth_method: str | None
    mppe: str | None


@dataclass(frozen=True)
class IPv6Up(Event):
    """IPV6CP opened after :class:`NetworkUp` was already reported (a slow peer)."""

    local_ipv6_iid: bytes
    peer_ipv6_iid: bytes | None


@dataclass(frozen=True)
class NetworkDown(Event):
    """The peer renegotiated the link or IPCP: stop sending until the next :class:`NetworkUp`."""

    reason: str


@dataclass(frozen=True)
class IPPacketReceived(Event):
    """An IPv4 or IPv6 packet arrived (already decrypted when MPPE is on)."""

    packet: bytes


@dataclass(frozen=True)
class EchoTimeout(Event):
    """The peer stopped answering LCP Echo-Requests; the connection is being closed."""

    missed: int


@dataclass(frozen=True)
class ConnectionFailed(Event):
    """Terminal: the connection ended because something went wrong; ``reason`` is for the UI."""

    reason: str


@dataclass(frozen=True)
class ConnectionClosed(Event):
    """Terminal: the connection ended in an orderly way (we or the peer closed it)."""

    reason: str
