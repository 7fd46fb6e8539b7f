"""IPCP (RFC 1332) with the RFC 1877 DNS options, and the gateway's address pool.

The client asks for 0.0.0.0 and the DNS servers and takes what the server Naks back; the server
offers its own address and Naks the client towards the address it was given from the pool.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Sequence

from wizard.engine.ppp.frame import PROTO_IPCP, Option
from wizard.engine.ppp.fsm import ACK, REJECT, ControlProtocol, OptionVerdict, Timers, nak

OPT_IP_ADDRESSES = 1  # deprecated (RFC 1172)
OPT_IP_COMPRESSION = 2
OPT_IP_ADDRESS = 3
OPT_PRIMARY_DNS = 129
OPT_PRIMARY_NBNS = 130
OPT_SECONDARY_DNS = 131
OPT_SECONDARY_NBNS = 132

_ZERO = b"\x00\x00\x00\x00"


def _packed(address: str) -> bytes:
    return ipaddress.IPv4Address(address).packed


def _text(packed: bytes) -> str:
    return str(ipaddress.IPv4Address(packed))


class AddressPool:
    """IPv4 addresses a gateway hands to its clients, shared by all its connections."""

    def __init__(self, addresses: Iterable[str]) -> None:
        self._free = [str(ipaddress.IPv4Address(a)) for a in addresses]
        self._used: set[str] = set()

    @classmethod
    def from_range(cls, first: str, last: str) -> AddressPool:
        start, end = int(ipaddress.IPv4Address(first)), int(ipaddress.IPv4Address(last))
        if end < start:
            raise ValueError("address pool range is empty")
        return cls(str(ipaddress.IPv4Address(i)) for i in range(start, end + 1))

    def allocate(self) -> str | None:
        if not self._free:
            return None
        address = self._free.pop(0)
        self._used.add(address)
        return address

    def release(self, address: str) -> None:
        if address in self._used:
            self._used.discard(address)
            self._free.append(address)

    @property
    def available(self) -> int:
        return len(self._free)


class IPCP(ControlProtocol):
    protocol = PROTO_IPCP
    name = "IPCP"

    def __init__(
        self,
        send: Callable[[int, bytes], None],
        timers: Timers,
        *,
        role: str,
        request_dns: bool = True,
        local_address: str | None = None,
        dns_servers: Sequence[str] = (),
    ) -> None:
        super().__init__(send, timers)
        self.role = role
        self.request_dns = request_dns
        self.config_local = _packed(local_address) if local_address else None
        self.dns_servers = [_packed(d) for d in dns_servers][:2]
        self.assigned: bytes | None = None  # server: the address the client must take
        # Results.
        self.local_address: str | None = None
        self.peer_address: str | None = None
        self.dns: tuple[str, ...] = ()
        self._want: dict[int, bytes] = {}
        self.reset_options()

    def assign_peer_address(self, address: str) -> None:
        self.assigned = _packed(address)

    def reset_options(self) -> None:
        self._want = {}
        if self.role == "client":
            self._want[OPT_IP_ADDRESS] = self.config_local or _ZERO
            if self.request_dns:
                self._want[OPT_PRIMARY_DNS] = _ZERO
                self._want[OPT_SECONDARY_DNS] = _ZERO
        elif self.config_local is not None:
            self._want[OPT_IP_ADDRESS] = self.config_local

    def request_options(self) -> list[Option]:
        return [Option(kind, value) for kind, value in self._want.items()]

    def request_naked(self, options: Sequence[Option]) -> None:
        for option in options:
            known = option.type in self._want and len(option.data) == 4
            if known and self.role == "client" and option.data != _ZERO:
                self._want[option.type] = option.data

    def request_rejected(self, options: Sequence[Option]) -> None:
        for option in options:
            self._want.pop(option.type, None)

    def request_acked(self, options: Sequence[Option]) -> None:
        values = {o.type: o.data for o in options}
        address = values.get(OPT_IP_ADDRESS)
        self.local_address = _text(address) if address and address != _ZERO else None
        if self.role == "client":
            dns = [values.get(OPT_PRIMARY_DNS), values.get(OPT_SECONDARY_DNS)]
            self.dns = tuple(_text(d) for d in dns if d and d != _ZERO)

    def check_option(self, option: Option) -> OptionVerdict:
        if len(option.data) != 4:
            return REJECT
        if self.role == "client":
            # The server tells us its own address; it cannot ask us for one or for DNS.
            if option.type == OPT_IP_ADDRESS and option.data != _ZERO:
                return ACK
            return REJECT
        if option.type == OPT_IP_ADDRESS:
            if self.assigned is None:
                return REJECT
            return ACK if option.data == self.assigned else nak(Option(OPT_IP_ADDRESS, self.assigned))
        if option.type in (OPT_PRIMARY_DNS, OPT_SECONDARY_DNS):
            index = 0 if option.type == OPT_PRIMARY_DNS else 1
            if index >= len(self.dns_servers):
                return REJECT
            server = self.dns_servers[index]
            return ACK if option.data == server else nak(Option(option.type, server))
        return REJECT

    def missing_option_hints(self, present: set[int]) -> list[Option]:
        if self.role == "server" and self.assigned is not None and OPT_IP_ADDRESS not in present:
            return [Option(OPT_IP_ADDRESS, self.assigned)]  # RFC 1332 section 3.3
        return []

    def peer_request_acked(self, options: Sequence[Option]) -> None:
        self.peer_address = None
        for option in options:
            if option.type == OPT_IP_ADDRESS:
                self.peer_address = _text(option.data)
        if self.role == "server":
            self.dns = tuple(_text(d) for d in self.dns_servers)
