"""SA lifetimes: soft and hard limits in bytes, packets, seconds and sequence numbers."""

from __future__ import annotations

import pytest

from tests.esp_packets import V4_INNER_A, V4_INNER_B, sa_pair, udp_packet
from wizard.engine.esp import (
    ExpiredSA,
    HardLifetimeExpired,
    Lifetime,
    SAExhausted,
    SoftLifetimeExpired,
)
from wizard.engine.esp.sa import SOFT_SEQUENCE_LIMIT

PACKET = udp_packet(V4_INNER_A, V4_INNER_B, 1, 2, bytes(72))  # 100 bytes


def drain(sa: object) -> list[object]:
    events = []
    while (event := sa.next_event()) is not None:  # type: ignore[attr-defined]
        events.append(event)
    return events


def test_byte_limits_raise_soft_then_hard_on_both_sides() -> None:
    out, inb = sa_pair(lifetime=Lifetime(soft_bytes=1000, hard_bytes=1500))
    for i in range(15):
        inb.decapsulate(out.encapsulate(PACKET, float(i)), float(i))
        if i == 8:
            assert not out.soft_expired
        if i == 9:
            assert out.soft_expired and not out.hard_expired
            assert drain(out) == [SoftLifetimeExpired(out.spi, "out", "bytes")]
    assert out.hard_expired and inb.hard_expired
    assert drain(out) == [HardLifetimeExpired(out.spi, "out", "bytes")]
    assert drain(inb) == [SoftLifetimeExpired(inb.spi, "in", "bytes"), HardLifetimeExpired(inb.spi, "in", "bytes")]
    with pytest.raises(SAExhausted) as exc:
        out.encapsulate(PACKET, 20.0)
    assert "rekeyed" in str(exc.value)
    assert out.lifetime_bytes == 1500 and out.lifetime_packets == 15


def test_inbound_drops_after_hard_expiry() -> None:
    out, inb = sa_pair(lifetime=Lifetime(hard_packets=2))
    late = [out.encapsulate(PACKET, 0.0) for _ in range(2)]
    other_out, _ = sa_pair()
    inb.decapsulate(late[0], 0.0)
    inb.decapsulate(late[1], 0.0)
    with pytest.raises(ExpiredSA):
        inb.decapsulate(other_out.encapsulate(PACKET, 0.0), 0.0)
    assert inb.stats.expired == 1


def test_time_limits_use_the_timer() -> None:
    out, inb = sa_pair(lifetime=Lifetime(soft_seconds=3600, hard_seconds=3960), now=100.0)
    assert out.get_timer() == 3700.0
    out.handle_timer(3699.9)
    assert drain(out) == []
    out.handle_timer(3700.0)
    assert drain(out) == [SoftLifetimeExpired(out.spi, "out", "seconds")]
    assert out.get_timer() == 4060.0
    out.encapsulate(PACKET, 4000.0)
    with pytest.raises(SAExhausted):
        out.encapsulate(PACKET, 4060.0)  # the hard limit is checked against the packet's own clock
    assert drain(out) == [HardLifetimeExpired(out.spi, "out", "seconds")]
    assert out.get_timer() is None
    with pytest.raises(ExpiredSA):
        inb.decapsulate(b"anything", 5000.0)
    assert [type(e) for e in drain(inb)] == [SoftLifetimeExpired, HardLifetimeExpired]


def test_hard_limit_reached_first_queues_soft_too() -> None:
    out, _ = sa_pair(lifetime=Lifetime(soft_packets=10, hard_packets=1))
    out.encapsulate(PACKET, 0.0)
    assert [type(e) for e in drain(out)] == [SoftLifetimeExpired, HardLifetimeExpired]


def test_32_bit_sequence_numbers_run_out() -> None:
    out, _ = sa_pair(initial_sequence=SOFT_SEQUENCE_LIMIT - 1)
    near_end, _ = sa_pair(initial_sequence=0xFFFFFFFE)
    out.encapsulate(PACKET, 0.0)
    assert drain(out) == []
    out.encapsulate(PACKET, 0.0)
    assert drain(out) == [SoftLifetimeExpired(out.spi, "out", "sequence numbers")]
    near_end.encapsulate(PACKET, 0.0)  # 0xFFFFFFFE
    near_end.encapsulate(PACKET, 0.0)  # 0xFFFFFFFF, the last one
    assert near_end.hard_expired
    with pytest.raises(SAExhausted):
        near_end.encapsulate(PACKET, 0.0)


def test_esn_continues_past_2_to_the_32() -> None:
    out, inb = sa_pair("aes128gcm16", None, esn=True, initial_sequence=0xFFFFFFFE)
    for _ in range(4):
        inb.decapsulate(out.encapsulate(PACKET, 0.0), 0.0)
    assert out.next_sequence == 0x100000002 and inb.highest_sequence == 0x100000001
    assert not out.soft_expired
