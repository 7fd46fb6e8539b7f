"""The ESP SAs of one IKEv1 peer: build them from a negotiated :class:`ChildSA`, protect and unprotect.

No sockets here: the owner sends what :meth:`EspSAs.protect` returns (raw IP protocol 50, or UDP
when :attr:`EspSAs.encapsulation` is set) and hands every received ESP payload to
:meth:`EspSAs.unprotect`. Rekeys are make-before-break: the new inbound SA is added first, the
outbound one switches at once, the old inbound one stays until IKE deletes it. Used by the client's
``IpsecChannel`` and by the gateway's ``IpsecPeer``.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from wizard.engine.errors import LocalProtocolError, ParseError
from wizard.engine.esp import Direction, Mode, SAConfig, SecurityAssociation, UdpEncapsulation, spi_of_payload
from wizard.engine.ike.v1.events import ChildSA


@dataclass
class EspCounters:
    packets_in: int = 0
    packets_out: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    dropped_in: int = 0
    dropped_out: int = 0


def sa_pair(child: ChildSA, now: float) -> tuple[SecurityAssociation, SecurityAssociation]:
    """(inbound, outbound) ESP SAs for a negotiated child SA."""
    mode = Mode.TRANSPORT if child.mode == "transport" else Mode.TUNNEL
    local, peer = ipaddress.ip_address(child.local_address), ipaddress.ip_address(child.peer_address)
    encapsulation = UdpEncapsulation(child.local_port, child.peer_port) if child.encapsulated else None

    def sa(direction: Direction, spi: int, enc_key: bytes, auth_key: bytes) -> SecurityAssociation:
        config = SAConfig(
            direction,
            spi,
            mode=mode,
            cipher=child.cipher,
            encryption_key=enc_key,
            integrity=child.integrity,
            integrity_key=auth_key,
            local_address=local,
            remote_address=peer,
            udp_encapsulation=encapsulation,
        )
        return SecurityAssociation(config, now)

    inbound = sa(Direction.IN, child.spi_in, child.enc_key_in, child.auth_key_in)
    outbound = sa(Direction.OUT, child.spi_out, child.enc_key_out, child.auth_key_out)
    return inbound, outbound


def describe_child(child: ChildSA) -> str:
    """One line for logs and the UI; never a key."""
    integrity = f"/{child.integrity.name}" if child.integrity is not None else ""
    pfs = f", PFS group {child.pfs_group}" if child.pfs_group else ""
    nat = ", UDP-encapsulated" if child.encapsulated else ""
    return (
        f"ESP {child.mode} {child.cipher.name}{integrity}{pfs}{nat}, "
        f"{child.remote_ts} <-> {child.local_ts}, SPIs {child.spi_in:08x}/{child.spi_out:08x}"
    )


class EspSAs:
    """Inbound SAs by SPI plus the current outbound SA of one peer."""

    def __init__(self) -> None:
        self.inbound: dict[int, SecurityAssociation] = {}
        self.outbound: SecurityAssociation | None = None
        self.child: ChildSA | None = None
        self.encapsulation: UdpEncapsulation | None = None
        self.counters = EspCounters()

    @property
    def up(self) -> bool:
        return self.outbound is not None

    def install(self, child: ChildSA, now: float) -> None:
        inbound, outbound = sa_pair(child, now)
        self.inbound[child.spi_in] = inbound
        self.outbound = outbound
        self.child = child
        self.encapsulation = UdpEncapsulation(child.local_port, child.peer_port) if child.encapsulated else None

    def add_inbound(self, child: ChildSA, now: float) -> None:
        """Accept the peer's new SA before we switch to it (IKEv2 rekey as responder, RFC 7296 §2.8)."""
        inbound, _ = sa_pair(child, now)
        self.inbound[child.spi_in] = inbound

    def remove(self, child: ChildSA) -> bool:
        """Forget a deleted pair; True when it was the one we were sending with (nothing left to send on)."""
        self.inbound.pop(child.spi_in, None)
        if self.child is not None and self.child.spi_out == child.spi_out:
            self.outbound = None
            self.child = None
            return True
        return False

    def protect(self, packet: bytes, now: float) -> bytes | None:
        """ESP bytes (SPI to ICV) for one IP packet; None (counted) without an SA or for a bad packet."""
        sa = self.outbound
        if sa is None:
            self.counters.dropped_out += 1
            return None
        try:
            esp = sa.encapsulate_payload(packet, now)
        except (ParseError, LocalProtocolError, ValueError):
            self.counters.dropped_out += 1
            return None
        self.counters.packets_out += 1
        self.counters.bytes_out += len(packet)
        return esp

    def unprotect(self, esp: bytes, now: float) -> bytes | None:
        """The IP packet inside; None (counted) for unknown SPIs, replays, forgeries and garbage."""
        try:
            sa = self.inbound.get(spi_of_payload(esp))
            if sa is None:
                self.counters.dropped_in += 1
                return None
            packet = sa.decapsulate_payload(esp, now)
        except ParseError:
            self.counters.dropped_in += 1
            return None
        self.counters.packets_in += 1
        self.counters.bytes_in += len(packet)
        return packet

    def owns(self, spi: int) -> bool:
        return spi in self.inbound
