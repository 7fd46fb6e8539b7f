"""What every protocol stack looks like from above (the foreground runner and the helper daemon).

A stack composes sans-IO engines with ``wizard.net`` drivers for one connection attempt. It never
touches routes or DNS itself: when the link is up it hands :class:`NetworkSettings` to a
:class:`NetworkApplier` (the foreground runner applies them directly; the helper adds its journal,
DNS and kill switch). Progress and state go out through a :class:`StatusSink` callback as frozen
event objects, so the same stack serves a terminal, a socket client and a test.
"""

from __future__ import annotations

import abc
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from wizard.net.config import PolicyRouting


class StackError(Exception):
    """A connection attempt failed; ``reason`` is a plain-language sentence for the user."""

    def __init__(self, reason: str, phase: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.phase = phase


@dataclass(frozen=True)
class NetworkSettings:
    """What the link negotiated and what the profile asks for: enough to configure the TUN device."""

    ifname: str
    local_ipv4: str | None = None
    peer_ipv4: str | None = None
    local_ipv6: str | None = None
    peer_ipv6: str | None = None
    dns_servers: tuple[str, ...] = ()
    search_domains: tuple[str, ...] = ()
    split_dns_domains: tuple[str, ...] = ()
    mtu: int | None = None
    full_tunnel: bool = True
    routes: tuple[str, ...] = ()
    vpn_gateway: str | None = None  # its traffic must keep the old route
    policy: PolicyRouting | None = None  # host-to-host IPsec: ``routes`` live in a table behind a rule


@dataclass(frozen=True)
class Negotiated:
    """Negotiated parameters shown to the user (protocol, auth, encryption, addresses)."""

    protocol: str
    items: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict[str, str]:
        return dict(self.items)


# --- status events -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    phase: str  # e.g. "control", "tunnel", "ppp-lcp", "ppp-auth", "ppp-ncp", "network"
    message: str


@dataclass(frozen=True)
class Connected:
    negotiated: Negotiated
    settings: NetworkSettings


@dataclass(frozen=True)
class Disconnected:
    reason: str
    deliberate: bool  # the user asked; never reconnect after this


StatusEvent = Progress | Connected | Disconnected
StatusSink = Callable[[StatusEvent], None]


@dataclass
class Counters:
    """Traffic through the tunnel, as seen at the TUN device."""

    bytes_in: int = 0
    bytes_out: int = 0
    packets_in: int = 0
    packets_out: int = 0
    dropped: int = 0
    started: float = field(default_factory=time.monotonic)

    def note_in(self, size: int) -> None:
        self.bytes_in += size
        self.packets_in += 1

    def note_out(self, size: int) -> None:
        self.bytes_out += size
        self.packets_out += 1

    def snapshot(self) -> dict[str, float]:
        return {
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
            "packets_in": self.packets_in,
            "packets_out": self.packets_out,
            "dropped": self.dropped,
            "uptime": round(time.monotonic() - self.started, 1),
        }


class NetworkApplier(Protocol):
    """Applies (and later reverts) network settings for a connected stack."""

    async def apply(self, settings: NetworkSettings) -> None: ...

    async def revert(self) -> list[str]: ...


class VpnStack(abc.ABC):
    """One connection attempt: ``connect()`` until up, then ``wait_closed()`` until it ends."""

    def __init__(self, status: StatusSink) -> None:
        self.status = status
        self.counters = Counters()

    @abc.abstractmethod
    async def connect(self) -> Connected:
        """Bring the link up and the network configured; raise StackError with a reason on failure."""

    @abc.abstractmethod
    async def wait_closed(self) -> Disconnected:
        """Return when the link ends (peer closed, keepalive lost, transport died, or close())."""

    @abc.abstractmethod
    async def close(self, reason: str = "disconnected by the user") -> None:
        """Tear down politely (terminate requests, StopCCN...), release TUN and revert the network."""
