"""Anti-replay window (RFC 4303 §3.4.3) and ESN high-bit inference (RFC 4303 App. A2)."""

from __future__ import annotations

import random

import pytest

from wizard.engine.esp import ReplayedPacket, ReplayWindow


def receive(window: ReplayWindow, seq_low: int) -> int:
    seq = window.infer(seq_low)
    window.check(seq)
    window.accept(seq)
    return seq


def test_in_order_duplicates_and_old_packets() -> None:
    w = ReplayWindow(64, esn=False)
    with pytest.raises(ReplayedPacket):
        w.check(0)  # sequence number 0 is never sent
    for seq in range(1, 100):
        receive(w, seq)
    assert w.highest == 99
    with pytest.raises(ReplayedPacket):
        w.check(99)
    with pytest.raises(ReplayedPacket):
        w.check(50)
    with pytest.raises(ReplayedPacket):
        w.check(35)  # 99 - 35 = 64: just left of a 64-packet window


def test_out_of_order_inside_the_window_is_accepted_once() -> None:
    w = ReplayWindow(1024, esn=False)
    receive(w, 2000)
    for seq in (1999, 977, 1500):
        receive(w, seq)
        with pytest.raises(ReplayedPacket):
            w.check(seq)
    with pytest.raises(ReplayedPacket):
        w.check(976)


def test_big_jump_clears_the_bitmap() -> None:
    w = ReplayWindow(32, esn=False)
    receive(w, 5)
    receive(w, 5 + 1000)
    receive(w, 1000)  # inside the new window and never seen
    with pytest.raises(ReplayedPacket):
        w.check(5)


def test_check_alone_does_not_move_the_window() -> None:
    w = ReplayWindow(32, esn=False)
    w.check(10)
    assert w.highest == 0
    receive(w, 10)


def test_matches_a_reference_set_under_random_arrival() -> None:
    rng = random.Random(4303)
    size = 128
    w = ReplayWindow(size, esn=False)  # with ESN a packet this old is read as the next 2^32 block
    seen: set[int] = set()
    highest = 0
    top = 0
    for _ in range(20000):
        top += rng.choice((0, 1, 1, 2))
        seq = max(1, top - rng.randrange(0, 200))
        fresh = seq not in seen and seq > highest - size
        try:
            got = receive(w, seq & 0xFFFFFFFF)
        except ReplayedPacket:
            assert not fresh
        else:
            assert fresh and got == seq
            seen.add(seq)
            highest = max(highest, seq)


@pytest.mark.parametrize(
    ("highest", "seq_low", "expected"),
    [
        # Case A (Tl >= W - 1): window inside one 2^32 block.
        ((5 << 32) | 5000, 5001, (5 << 32) | 5001),
        ((5 << 32) | 5000, 4000, (5 << 32) | 4000),
        ((5 << 32) | 5000, 100, (6 << 32) | 100),  # far below the window: must be the next block
        ((5 << 32) | 0xFFFFFFF0, 3, (6 << 32) | 3),  # rollover
        # Case B (Tl < W - 1): window straddles the block boundary.
        ((6 << 32) | 10, 0xFFFFFF00, (5 << 32) | 0xFFFFFF00),
        ((6 << 32) | 10, 20, (6 << 32) | 20),
        ((6 << 32) | 10, 5, (6 << 32) | 5),
    ],
)
def test_esn_inference(highest: int, seq_low: int, expected: int) -> None:
    w = ReplayWindow(1024, esn=True, highest=highest)
    assert w.infer(seq_low) == expected


def test_esn_rollover_stream() -> None:
    w = ReplayWindow(1024, esn=True, highest=0xFFFFFF00)
    for seq in range(0xFFFFFF01, 0x100000100):
        assert receive(w, seq & 0xFFFFFFFF) == seq
    assert w.highest == 0x1000000FF
    with pytest.raises(ReplayedPacket):
        receive(w, 0xFFFFFFF0)  # seen before the rollover


def test_esn_packet_from_before_the_sa_started() -> None:
    w = ReplayWindow(1024, esn=True)
    with pytest.raises(ReplayedPacket):
        w.infer(0xFFFFFFF0)
