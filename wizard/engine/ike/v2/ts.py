"""IKEv2 traffic selectors: address and port ranges, narrowing (RFC 7296 §2.9), conversions.

Profiles and the ChildSA event use IKEv1's :class:`~wizard.engine.ike.v1.identities.TrafficSelector`
(a range, a protocol and one port or any); IKEv2 carries port ranges, so :class:`Selector` keeps them
while negotiating and converts at the edges.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from wizard.engine.errors import ParseError
from wizard.engine.ike.v1.identities import TrafficSelector
from wizard.engine.ike.v2.constants import TSType
from wizard.engine.ike.v2.messages import TSEntry, TSPayload

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _addr(version: int, value: int) -> IPAddress:
    return ipaddress.IPv4Address(value) if version == 4 else ipaddress.IPv6Address(value)


@dataclass(frozen=True)
class Selector:
    """Addresses ``start``-``end``, IP protocol (0 any) and ports ``start_port``-``end_port``."""

    start: IPAddress
    end: IPAddress
    protocol: int = 0
    start_port: int = 0
    end_port: int = 65535

    def __post_init__(self) -> None:
        if self.start.version != self.end.version or int(self.start) > int(self.end):
            raise ValueError(f"bad address range {self.start}-{self.end}")
        if not 0 <= self.start_port <= self.end_port <= 65535:
            raise ValueError(f"bad port range {self.start_port}-{self.end_port}")

    @property
    def version(self) -> int:
        return self.start.version

    @classmethod
    def any(cls, version: int = 4) -> Selector:
        bits = 32 if version == 4 else 128
        return cls(_addr(version, 0), _addr(version, (1 << bits) - 1))

    @classmethod
    def host(cls, addr: str | IPAddress) -> Selector:
        a = ipaddress.ip_address(addr)
        return cls(a, a)

    @classmethod
    def network(cls, net: str) -> Selector:
        n = ipaddress.ip_network(net, strict=False)
        return cls(n.network_address, n.broadcast_address)

    @classmethod
    def from_v1(cls, ts: TrafficSelector) -> Selector:
        sp, ep = (ts.port, ts.port) if ts.port else (0, 65535)
        return cls(ts.start, ts.end, ts.protocol, sp, ep)

    def to_v1(self) -> TrafficSelector:
        """One port or any: a port range other than a single port becomes 'any port'."""
        port = self.start_port if self.start_port == self.end_port else 0
        return TrafficSelector(self.start, self.end, self.protocol, port)

    def entry(self) -> TSEntry:
        kind = TSType.IPV4_ADDR_RANGE if self.version == 4 else TSType.IPV6_ADDR_RANGE
        return TSEntry(kind, self.protocol, self.start_port, self.end_port, self.start.packed, self.end.packed)

    @classmethod
    def from_entry(cls, e: TSEntry) -> Selector:
        start, end = ipaddress.ip_address(e.start), ipaddress.ip_address(e.end)
        try:
            return cls(start, end, e.protocol, e.start_port, e.end_port)
        except ValueError as exc:
            raise ParseError(f"traffic selector {start}-{end} ports {e.start_port}-{e.end_port}: {exc}") from exc

    def contains(self, other: Selector) -> bool:
        return (
            self.version == other.version
            and int(self.start) <= int(other.start)
            and int(other.end) <= int(self.end)
            and self.protocol in (0, other.protocol)
            and self.start_port <= other.start_port
            and other.end_port <= self.end_port
        )

    def intersect(self, other: Selector) -> Selector | None:
        if self.version != other.version:
            return None
        if self.protocol and other.protocol and self.protocol != other.protocol:
            return None
        lo, hi = max(int(self.start), int(other.start)), min(int(self.end), int(other.end))
        sp, ep = max(self.start_port, other.start_port), min(self.end_port, other.end_port)
        if lo > hi or sp > ep:
            return None
        return Selector(_addr(self.version, lo), _addr(self.version, hi), self.protocol or other.protocol, sp, ep)

    def __str__(self) -> str:
        v1 = self.to_v1()
        text = str(TrafficSelector(self.start, self.end))
        if self.protocol or v1.port:
            ports = "any" if (self.start_port, self.end_port) == (0, 65535) else (
                str(self.start_port) if self.start_port == self.end_port else f"{self.start_port}-{self.end_port}")
            text += f"[{self.protocol}/{ports}]"
        return text


def encode_ts(selectors: Sequence[Selector]) -> bytes:
    return TSPayload(tuple(s.entry() for s in selectors)).encode()


def decode_ts(data: bytes) -> tuple[Selector, ...]:
    return tuple(Selector.from_entry(e) for e in TSPayload.decode(data).selectors)


def narrow(proposed: Iterable[Selector], allowed: Iterable[Selector]) -> tuple[Selector, ...]:
    """The responder's answer: every non-empty intersection of what was proposed and what policy allows."""
    out: list[Selector] = []
    allowed = list(allowed)
    for p in proposed:
        for a in allowed:
            x = p.intersect(a)
            if x is not None and x not in out:
                out.append(x)
    return tuple(out)


def within(result: Iterable[Selector], proposed: Iterable[Selector]) -> bool:
    """The initiator's check: each selector the responder chose lies inside one we proposed."""
    proposed = list(proposed)
    return all(any(p.contains(r) for p in proposed) for r in result)


def describe(selectors: Iterable[Selector]) -> str:
    return ", ".join(str(s) for s in selectors) or "nothing"
