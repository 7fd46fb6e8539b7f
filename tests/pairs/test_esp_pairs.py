"""Outbound SA -> lossy link -> inbound SA: loss, duplication and reordering, ESN rollover, rekeying.

The clock is simulated: one packet per millisecond, the link delivers what is due.
"""

from __future__ import annotations

import contextlib

import pytest

from tests.esp_packets import (
    V4_CLIENT,
    V4_INNER_A,
    V4_INNER_B,
    V4_SERVER,
    V6_INNER_A,
    V6_INNER_B,
    sa_pair,
    udp_packet,
)
from tests.pairs.netsim import Impairment, LossyLink
from wizard.engine.errors import ParseError
from wizard.engine.esp import (
    HardLifetimeExpired,
    Lifetime,
    Mode,
    SAProtocol,
    SecurityAssociation,
    SoftLifetimeExpired,
    UdpPayloadKind,
    classify_udp_payload,
    nat_keepalive,
)
from wizard.engine.esp.ip import parse_ip

IMPAIRED = Impairment(loss=0.2, duplicate=0.2, reorder=0.2, min_delay=0.001, max_delay=0.01, reorder_extra_delay=0.05)
STEP = 0.001


def packet(n: int, v6: bool = False, mode: Mode = Mode.TUNNEL) -> bytes:
    body = n.to_bytes(8, "big") + bytes(n % 200)
    if mode is Mode.TRANSPORT:
        return udp_packet(V4_CLIENT, V4_SERVER, 1701, 1701, body)
    if v6:
        return udp_packet(V6_INNER_A, V6_INNER_B, 4000, 5000, body)
    return udp_packet(V4_INNER_A, V4_INNER_B, 4000, 5000, body)


def packet_id(ip: bytes) -> int:
    offset = 40 if ip[0] >> 4 == 6 else 20
    return int.from_bytes(ip[offset + 8 : offset + 16], "big")


class Receiver:
    """An inbound SA behind a link; counts what arrives and what gets through."""

    def __init__(self, sa: SecurityAssociation) -> None:
        self.sas = {sa.spi: sa}
        self.delivered: list[int] = []
        self.arrivals = 0
        self.errors: list[type[ParseError]] = []

    def receive(self, wire: bytes, now: float) -> None:
        self.arrivals += 1
        outer = parse_ip(wire)
        at = 4 if outer.protocol == 51 else 0  # the SPI sits 4 bytes into AH, first in ESP
        sa = self.sas.get(int.from_bytes(outer.payload[at : at + 4], "big"))
        if sa is None:
            self.errors.append(ParseError)
            return
        try:
            self.delivered.append(packet_id(sa.decapsulate(wire, now)))
        except ParseError as exc:  # the SA counted it
            self.errors.append(type(exc))


def run(out: SecurityAssociation, receiver: Receiver, link: LossyLink, count: int, make: object) -> float:
    now = 0.0
    for n in range(count):
        now += STEP
        link.send(out.encapsulate(make(n), now), now)  # type: ignore[operator]
        for wire in link.deliver(now):
            receiver.receive(wire, now)
    now += 1.0
    for wire in link.deliver(now):
        receiver.receive(wire, now)
    return now


@pytest.mark.parametrize(
    ("enc", "integ", "mode", "v6", "protocol"),
    [
        ("aes256gcm16", None, Mode.TUNNEL, False, SAProtocol.ESP),
        ("aes128", "sha256", Mode.TUNNEL, True, SAProtocol.ESP),
        ("aes256ctr", "sha1", Mode.TRANSPORT, False, SAProtocol.ESP),
        ("3des", "sha1", Mode.TRANSPORT, False, SAProtocol.ESP),
        (None, "sha256", Mode.TUNNEL, True, SAProtocol.AH),
        (None, "sha1", Mode.TRANSPORT, False, SAProtocol.AH),
    ],
)
@pytest.mark.parametrize("seed", [1, 2])
def test_impaired_link_delivers_every_surviving_packet_once(
    enc: str | None, integ: str, mode: Mode, v6: bool, protocol: SAProtocol, seed: int
) -> None:
    out, inb = sa_pair(enc, integ, mode=mode, v6=v6, protocol=protocol)
    link = LossyLink(IMPAIRED, seed=seed)
    receiver = Receiver(inb)
    run(out, receiver, link, 2000, lambda n: packet(n, v6, mode))

    assert link.dropped > 300 and link.duplicated > 200  # the impairment really happened
    assert len(receiver.delivered) == len(set(receiver.delivered))  # nothing delivered twice
    assert len(receiver.delivered) == link.sent - link.dropped  # reordering stayed inside the window
    assert receiver.delivered != sorted(receiver.delivered)  # and it did reorder
    assert inb.stats.replayed == link.duplicated == receiver.arrivals - len(receiver.delivered)
    assert inb.stats.dropped == inb.stats.replayed
    assert inb.stats.packets == len(receiver.delivered)


def test_small_window_drops_late_packets_as_replays() -> None:
    out, inb = sa_pair("aes128gcm16", None, replay_window=8)
    link = LossyLink(Impairment(reorder=0.3, reorder_extra_delay=0.05), seed=3)
    receiver = Receiver(inb)
    run(out, receiver, link, 1000, packet)
    assert inb.stats.replayed > 0
    assert len(receiver.delivered) + inb.stats.replayed == receiver.arrivals == 1000
    assert len(set(receiver.delivered)) == len(receiver.delivered)


def test_esn_rollover_over_an_impaired_link() -> None:
    start = (1 << 32) - 700
    out, inb = sa_pair("aes256gcm16", None, esn=True, initial_sequence=start)
    link = LossyLink(IMPAIRED, seed=5)
    receiver = Receiver(inb)
    run(out, receiver, link, 1500, packet)
    assert out.next_sequence == start + 1500
    assert inb.highest_sequence > 1 << 32
    assert len(receiver.delivered) == link.sent - link.dropped
    assert inb.stats.auth_failed == 0 and not out.soft_expired


def test_32_bit_sequence_space_ends_with_a_hard_event() -> None:
    out, inb = sa_pair("aes128", "sha1", initial_sequence=(1 << 32) - 50)
    receiver = Receiver(inb)
    link = LossyLink(Impairment(), seed=1)
    now = 0.0
    sent = 0
    while not out.hard_expired:
        now += STEP
        link.send(out.encapsulate(packet(sent), now), now)
        sent += 1
    for wire in link.deliver(now + 1):
        receiver.receive(wire, now + 1)
    assert sent == 50 and len(receiver.delivered) == 50
    events = []
    while (event := out.next_event()) is not None:
        events.append(event)
    assert [type(e) for e in events] == [SoftLifetimeExpired, HardLifetimeExpired]
    assert events[0].reason == "sequence numbers"


def test_rekey_on_soft_lifetime_loses_nothing() -> None:
    """Soft limit -> a new SA pair (new SPI) takes over while the old inbound SA drains reordered packets."""
    lifetime = Lifetime(soft_packets=300, hard_packets=450, soft_seconds=1.0, hard_seconds=1.5)
    link = LossyLink(Impairment(duplicate=0.1, reorder=0.2, reorder_extra_delay=0.03), seed=9)
    spi = 0x1000
    out, inb = sa_pair("aes256gcm16", None, lifetime=lifetime, spi=spi, seed=spi)
    receiver = Receiver(inb)
    rekeys = 0
    hard_seen: list[tuple[int, str]] = []
    now = 0.0
    for n in range(2000):
        now += STEP
        for sa in [out, *receiver.sas.values()]:
            timer = sa.get_timer()
            if timer is not None and timer <= now:
                sa.handle_timer(now)
        event = out.next_event()
        if isinstance(event, SoftLifetimeExpired):
            spi += 1
            out, new_in = sa_pair("aes256gcm16", None, lifetime=lifetime, spi=spi, seed=spi, now=now)
            receiver.sas[spi] = new_in
            rekeys += 1
        for old in list(receiver.sas.values()):
            while (e := old.next_event()) is not None:
                if isinstance(e, HardLifetimeExpired):
                    hard_seen.append((e.spi, e.reason))
                    del receiver.sas[e.spi]
        link.send(out.encapsulate(packet(n), now), now)
        for wire in link.deliver(now):
            receiver.receive(wire, now)
    for wire in link.deliver(now + 1):
        receiver.receive(wire, now + 1)
    assert rekeys >= 6
    assert hard_seen  # old inbound SAs died of old age after their traffic drained
    assert sorted(receiver.delivered) == list(range(2000))  # zero loss, no duplicates


@pytest.mark.parametrize("v6", [False, True])
def test_udp_encapsulated_payloads_with_keepalives_and_ike(v6: bool) -> None:
    """A driver on port 4500 sorts datagrams, then hands ESP bytes to the SA."""
    out, inb = sa_pair("aes128gcm16", None, udp=True, v6=v6)
    link = LossyLink(IMPAIRED, seed=11)
    delivered: list[int] = []
    ike: list[bytes] = []
    now = 0.0
    for n in range(500):
        now += STEP
        link.send(out.encapsulate_payload(packet(n, v6), now), now)
        if n % 50 == 0:
            link.send(nat_keepalive(), now)
            link.send(b"\x00\x00\x00\x00IKE" + bytes([n % 256]), now)
        for datagram in link.deliver(now):
            kind = classify_udp_payload(datagram)
            if kind is UdpPayloadKind.ESP:
                with contextlib.suppress(ParseError):  # counted by the SA
                    delivered.append(packet_id(inb.decapsulate_payload(datagram, now)))
            elif kind is UdpPayloadKind.IKE:
                ike.append(datagram[4:])
    assert len(set(delivered)) == len(delivered) > 300
    assert ike and all(m.startswith(b"IKE") for m in ike)
    assert inb.stats.replayed > 0 and inb.stats.dropped == inb.stats.replayed
