"""Reliable control delivery: window, back-off, acks, duplicates, reordering (RFC 2661 5.8)."""

from __future__ import annotations

from wizard.engine.l2tp.header import L2TPHeader, control_header, decode_header
from wizard.engine.l2tp.reliable import ReliableChannel, RetransmitPolicy, seq_distance
from wizard.engine.l2tp.stats import L2TPStats

BODY = b"\x80\x08\x00\x00\x00\x00\x00\x06"  # a HELLO


def make(window: int = 4, peer_window: int = 4, **policy: float) -> ReliableChannel:
    ch = ReliableChannel(RetransmitPolicy(**policy), window, L2TPStats())  # type: ignore[arg-type]
    ch.peer_tunnel_id = 0x77
    ch.peer_window = peer_window
    return ch


def headers(ch: ReliableChannel) -> list[L2TPHeader]:
    return [decode_header(d)[0] for d in ch.take_datagrams()]


def test_seq_distance_wraps() -> None:
    assert seq_distance(65535, 0) == 1
    assert seq_distance(3, 1) == 65534


def test_window_limits_messages_in_flight_and_acks_release_more() -> None:
    ch = make(peer_window=2)
    for _ in range(5):
        ch.send(BODY, 0, 0.0)
    assert [h.ns for h in headers(ch)] == [0, 1]
    ch.receive(control_header(0, 0, 0, 1), b"", 0.1)  # ZLB acking Ns 0
    assert [h.ns for h in headers(ch)] == [2]
    ch.receive(control_header(0, 0, 0, 5), b"", 0.2)  # acks beyond what was sent are ignored
    assert headers(ch) == []
    ch.receive(control_header(0, 0, 0, 3), b"", 0.3)
    assert [h.ns for h in headers(ch)] == [3, 4]


def test_exponential_backoff_with_cap_then_failure() -> None:
    ch = make(initial=1.0, cap=4.0, max_retransmits=4)
    ch.send(BODY, 0, 0.0)
    ch.take_datagrams()
    times = []
    while not ch.failed:
        t = ch.get_timer()
        assert t is not None
        ch.handle_timer(t)
        if ch.take_datagrams():
            times.append(t)
    assert times == [1.0, 3.0, 7.0, 11.0]  # waits 1, 2, 4, 4 (capped)
    assert ch.stats.retransmissions == 4
    assert ch.get_timer() is None  # gave up 4 s after the last try


def test_ack_resets_backoff() -> None:
    ch = make(initial=1.0, cap=8.0)
    ch.send(BODY, 0, 0.0)
    ch.send(BODY, 0, 0.0)
    ch.handle_timer(1.0)
    ch.handle_timer(3.0)
    assert ch.get_timer() == 7.0
    ch.receive(control_header(0, 0, 0, 1), b"", 3.5)
    assert ch.get_timer() == 4.5


def test_retransmission_carries_current_nr() -> None:
    ch = make()
    ch.send(BODY, 0, 0.0)
    ch.take_datagrams()
    ch.receive(control_header(0x77, 0, 0, 0), BODY, 0.5)  # peer's Ns 0, acks nothing
    ch.handle_timer(1.0)
    (h,) = headers(ch)
    assert (h.ns, h.nr) == (0, 1)


def test_in_order_delivery_and_delayed_zlb() -> None:
    ch = make(ack_delay=0.25)
    delivered = ch.receive(control_header(0x77, 0, 0, 0), BODY, 1.0)
    assert len(delivered) == 1 and ch.nr == 1
    assert ch.take_datagrams() == []
    assert ch.get_timer() == 1.25
    ch.handle_timer(1.25)
    (zlb,) = ch.take_datagrams()
    h, payload = decode_header(zlb)
    assert payload == b"" and (h.ns, h.nr, h.tunnel_id) == (0, 1, 0x77)
    assert ch.ns_next == 0  # a ZLB does not consume a sequence number


def test_reply_piggybacks_the_ack() -> None:
    ch = make()
    ch.receive(control_header(0x77, 0, 0, 0), BODY, 1.0)
    ch.send(BODY, 0, 1.01)
    (h,) = headers(ch)
    assert h.nr == 1
    assert ch.get_timer() == 2.01  # only the retransmission timer; no separate ZLB pending


def test_duplicate_is_acked_immediately_and_not_redelivered() -> None:
    ch = make()
    ch.receive(control_header(0x77, 0, 0, 0), BODY, 1.0)
    ch.handle_timer(2.0)
    ch.take_datagrams()
    assert ch.receive(control_header(0x77, 0, 0, 0), BODY, 3.0) == []
    (h,) = headers(ch)
    assert h.nr == 1
    assert ch.stats.duplicates_received == 1


def test_out_of_order_messages_are_queued_and_released_in_order() -> None:
    ch = make(window=4)
    assert ch.receive(control_header(0x77, 0, 2, 0), b"two" + BODY, 0.0) == []
    assert ch.receive(control_header(0x77, 0, 1, 0), b"one" + BODY, 0.0) == []
    assert ch.receive(control_header(0x77, 0, 9, 0), b"far" + BODY, 0.0) == []  # beyond our window
    got = ch.receive(control_header(0x77, 0, 0, 0), b"zero" + BODY, 0.0)
    assert [p[:4] for _, p in got] == [b"zero", b"one\x80", b"two\x80"]
    assert ch.nr == 3
    assert ch.stats.out_of_order_queued == 2 and ch.stats.out_of_window_dropped == 1


def test_sequence_numbers_wrap() -> None:
    ch = make()
    ch.ns_next = 65535
    ch.send(BODY, 0, 0.0)
    ch.send(BODY, 0, 0.0)
    assert [h.ns for h in headers(ch)] == [65535, 0]
    ch.receive(control_header(0, 0, 0, 1), b"", 0.1)
    assert not ch.has_outstanding
