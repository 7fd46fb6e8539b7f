"""GRESession: sequence numbers, acks, the reorder buffer and the send window, packet by packet."""

from __future__ import annotations

import pytest

from wizard.engine.errors import LocalProtocolError
from wizard.engine.pptp.events import CallEstablished, PPPFrameReceived
from wizard.engine.pptp.gre import GREPacket
from wizard.engine.pptp.gre_session import GRESession, seq_diff

LOCAL, PEER = 0x80, 0x4A3B


def frames(s: GRESession) -> list[bytes]:
    out = []
    while (e := s.next_event()) is not None:
        assert isinstance(e, PPPFrameReceived)
        out.append(e.frame)
    return out


def out(s: GRESession) -> list[GREPacket]:
    return [GREPacket.decode(d) for d in s.datagrams_to_send()]


def data(seq: int, payload: bytes | None = None, ack: int | None = None) -> bytes:
    return GREPacket(LOCAL, payload if payload is not None else b"f%d" % seq, seq=seq, ack=ack).encode()


def test_seq_diff_wraps() -> None:
    assert seq_diff(0, 0xFFFFFFFF) == 1
    assert seq_diff(0xFFFFFFFF, 0) == -1
    assert seq_diff(5, 3) == 2


def test_from_call() -> None:
    s = GRESession.from_call(CallEstablished(LOCAL, PEER, 1000, 8, 5), reorder_timeout=0.3)
    assert (s.local_call_id, s.peer_call_id, s.peer_recv_window, s.reorder_timeout) == (LOCAL, PEER, 8, 0.3)


def test_send_numbers_from_zero_and_addresses_the_peer_call_id() -> None:
    s = GRESession(LOCAL, PEER)
    s.send_ppp(b"a", 0.0)
    s.send_ppp(b"b", 0.0)
    assert out(s) == [GREPacket(PEER, b"a", seq=0), GREPacket(PEER, b"b", seq=1)]
    assert s.stats.packets_sent == 2


def test_ack_piggybacks_on_data() -> None:
    s = GRESession(LOCAL, PEER)
    s.receive_packet(data(0), 0.0)
    assert frames(s) == [b"f0"]
    assert s.get_timer() == pytest.approx(0.1)
    s.send_ppp(b"x", 0.05)
    assert out(s) == [GREPacket(PEER, b"x", seq=0, ack=0)]
    s.send_ppp(b"y", 0.06)  # nothing new to acknowledge
    assert out(s) == [GREPacket(PEER, b"y", seq=1)]
    assert s.stats.acks_sent == 0


def test_standalone_ack_after_delay() -> None:
    s = GRESession(LOCAL, PEER, ack_delay=0.2)
    s.receive_packet(data(0), 1.0)
    s.receive_packet(data(1), 1.1)
    assert s.get_timer() == pytest.approx(1.2)
    s.handle_timer(1.19)
    assert out(s) == []
    s.handle_timer(1.2)
    assert out(s) == [GREPacket(PEER, seq=None, ack=1)]
    assert s.stats.acks_sent == 1
    assert s.get_timer() is None


def test_quarter_window_triggers_immediate_ack() -> None:
    s = GRESession(LOCAL, PEER, recv_window=16)
    for i in range(3):
        s.receive_packet(data(i), 0.0)
    assert out(s) == []
    s.receive_packet(data(3), 0.0)
    assert out(s) == [GREPacket(PEER, seq=None, ack=3)]


def test_reordered_packet_is_held_and_delivered_in_order() -> None:
    s = GRESession(LOCAL, PEER)
    s.receive_packet(data(0), 0.0)
    s.receive_packet(data(2), 0.01)
    s.receive_packet(data(3), 0.02)
    assert frames(s) == [b"f0"]
    s.receive_packet(data(1), 0.03)
    assert frames(s) == [b"f1", b"f2", b"f3"]
    assert (s.stats.out_of_order, s.stats.lost, s.stats.frames_delivered) == (2, 0, 4)


def test_gap_is_given_up_after_reorder_timeout() -> None:
    s = GRESession(LOCAL, PEER, reorder_timeout=0.15, ack_delay=10.0)
    s.receive_packet(data(0), 0.0)
    s.receive_packet(data(3), 1.0)
    s.receive_packet(data(2), 1.05)
    assert frames(s) == [b"f0"]
    assert s.get_timer() == pytest.approx(1.15)
    s.handle_timer(1.149)
    assert frames(s) == []
    s.handle_timer(1.15)
    assert frames(s) == [b"f2", b"f3"]
    assert s.stats.lost == 1
    s.receive_packet(data(1), 1.2)  # the straggler is too late now
    assert frames(s) == []
    assert s.stats.too_old == 1


def test_duplicates_are_dropped() -> None:
    s = GRESession(LOCAL, PEER)
    s.receive_packet(data(0), 0.0)
    s.receive_packet(data(0), 0.0)  # already delivered
    s.receive_packet(data(2), 0.0)
    s.receive_packet(data(2), 0.0)  # already waiting in the buffer
    assert frames(s) == [b"f0"]
    assert s.stats.duplicates == 2


def test_jump_beyond_window_flushes_buffer_and_counts_loss() -> None:
    s = GRESession(LOCAL, PEER, recv_window=4)
    s.receive_packet(data(0), 0.0)
    s.receive_packet(data(2), 0.0)
    s.receive_packet(data(10), 0.0)  # window is 4: everything before 7 is given up
    assert frames(s) == [b"f0", b"f2"]
    assert s.stats.lost == 1 + 4  # 1, then 3..6
    for seq in (7, 8, 9):
        s.receive_packet(data(seq), 0.0)
    assert frames(s) == [b"f7", b"f8", b"f9", b"f10"]


def test_peer_that_does_not_start_at_zero_is_followed() -> None:
    s = GRESession(LOCAL, PEER)
    s.receive_packet(data(1_000_000), 0.0)
    s.receive_packet(data(1_000_001), 0.0)
    assert frames(s) == [b"f1000000", b"f1000001"]
    assert (s.stats.resyncs, s.stats.lost) == (1, 0)


def test_sequence_numbers_wrap() -> None:
    s = GRESession(LOCAL, PEER)
    seqs = [0xFFFFFFFE, 0xFFFFFFFF, 0, 1]
    s.receive_packet(data(seqs[0]), 0.0)
    s.receive_packet(data(seqs[2]), 0.0)
    s.receive_packet(data(seqs[1]), 0.0)
    s.receive_packet(data(seqs[3]), 0.0)
    assert frames(s) == [b"f%d" % q for q in seqs]
    assert s.stats.lost == 0


def test_sender_wraps_and_acks_wrap() -> None:
    s = GRESession(LOCAL, PEER, peer_recv_window=4)
    s._next_seq = 0xFFFFFFFE  # start near the end of the sequence space
    s._last_acked = 0xFFFFFFFD
    for _ in range(4):
        s.send_ppp(b"x", 0.0)
    assert [p.seq for p in out(s)] == [0xFFFFFFFE, 0xFFFFFFFF, 0, 1]
    assert s.in_flight == 4
    s.receive_packet(GREPacket(LOCAL, seq=None, ack=0).encode(), 0.01)
    assert s.in_flight == 1


def test_wrong_call_id_and_malformed_are_counted() -> None:
    s = GRESession(LOCAL, PEER)
    s.receive_packet(GREPacket(LOCAL + 1, b"x", seq=0).encode(), 0.0)
    s.receive_packet(b"\x00\x01\x02", 0.0)
    s.receive_packet(b"", 0.0)
    assert frames(s) == []
    assert (s.stats.wrong_call_id, s.stats.malformed) == (1, 2)


def test_send_window_queues_until_acked() -> None:
    s = GRESession(LOCAL, PEER, peer_recv_window=2)
    for i in range(5):
        s.send_ppp(b"%d" % i, 0.0)
    assert [p.seq for p in out(s)] == [0, 1]
    assert s.in_flight == 2
    s.receive_packet(GREPacket(LOCAL, seq=None, ack=0).encode(), 0.05)
    assert [p.payload for p in out(s)] == [b"2"]
    s.receive_packet(GREPacket(LOCAL, seq=None, ack=2).encode(), 0.06)
    assert [p.payload for p in out(s)] == [b"3", b"4"]
    assert s.stats.acks_received == 2


def test_bogus_and_stale_acks_are_ignored() -> None:
    s = GRESession(LOCAL, PEER, peer_recv_window=2)
    s.send_ppp(b"a", 0.0)
    s.receive_packet(GREPacket(LOCAL, seq=None, ack=5).encode(), 0.0)  # never sent
    assert s.in_flight == 1
    s.receive_packet(GREPacket(LOCAL, seq=None, ack=0).encode(), 0.0)
    s.receive_packet(GREPacket(LOCAL, seq=None, ack=0).encode(), 0.0)  # stale
    assert (s.in_flight, s.stats.acks_received) == (0, 1)


def test_send_queue_is_bounded() -> None:
    s = GRESession(LOCAL, PEER, peer_recv_window=1, max_send_queue=2)
    for _ in range(5):
        s.send_ppp(b"x", 0.0)
    assert len(out(s)) == 1
    assert s.stats.send_queue_drops == 2


def test_ack_timeout_halves_window_and_backs_off() -> None:
    s = GRESession(LOCAL, PEER, peer_recv_window=8, initial_ack_timeout=1.0, max_ack_timeout=3.0)
    for _ in range(10):
        s.send_ppp(b"x", 0.0)
    assert len(out(s)) == 8
    assert s.get_timer() == pytest.approx(1.0)
    s.handle_timer(1.0)
    assert s.stats.ack_timeouts == 1
    assert s.send_window == 4
    assert s.ack_timeout == pytest.approx(2.0)
    assert len(out(s)) == 2  # the queue drained into the now-empty (smaller) window
    s.handle_timer(3.0)
    assert (s.send_window, s.ack_timeout) == (2, 3.0)
    # acks open the window again by the number of packets they acknowledge
    s.send_ppp(b"y", 3.5)
    s.send_ppp(b"z", 3.5)
    p1, p2 = out(s)
    assert p1.seq is not None and p2.seq is not None
    s.receive_packet(GREPacket(LOCAL, seq=None, ack=p1.seq).encode(), 3.6)
    assert s.send_window == 3
    s.receive_packet(GREPacket(LOCAL, seq=None, ack=p2.seq).encode(), 3.6)
    assert s.send_window == 4
    for _ in range(20):
        s.send_ppp(b"w", 4.0)
    ws = out(s)
    s.receive_packet(GREPacket(LOCAL, seq=None, ack=ws[-1].seq).encode(), 4.1)
    assert s.send_window == 8  # never beyond what the peer offered


def test_adaptive_ack_timeout_follows_rtt() -> None:
    s = GRESession(LOCAL, PEER, initial_ack_timeout=1.0, min_ack_timeout=0.01)
    for i in range(20):
        s.send_ppp(b"x", i * 1.0)
        s.receive_packet(GREPacket(LOCAL, seq=None, ack=i).encode(), i * 1.0 + 0.05)
    assert s.ack_timeout == pytest.approx(0.05, abs=0.02)


def test_flow_control_off_never_queues() -> None:
    s = GRESession(LOCAL, PEER, peer_recv_window=1, flow_control=False)
    for _ in range(5):
        s.send_ppp(b"x", 0.0)
    assert len(out(s)) == 5
    assert s.get_timer() is None


def test_empty_or_oversized_frame_and_closed_session() -> None:
    s = GRESession(LOCAL, PEER)
    with pytest.raises(LocalProtocolError):
        s.send_ppp(b"", 0.0)
    with pytest.raises(LocalProtocolError):
        s.send_ppp(bytes(65536), 0.0)
    s.close()
    with pytest.raises(LocalProtocolError):
        s.send_ppp(b"x", 0.0)
    s.receive_packet(data(0), 0.0)
    assert frames(s) == [] and s.get_timer() is None


def test_bad_call_id() -> None:
    with pytest.raises(LocalProtocolError):
        GRESession(70000, 1)


def test_an_empty_sequenced_packet_uses_its_number_but_delivers_no_frame() -> None:
    """Found by hypothesis: such a packet was counted as a delivered frame that never appeared."""
    session = GRESession(7, 8)
    session.receive_packet(bytes.fromhex("3001880b0000000700000000"), 0.0)
    assert session.next_event() is None
    assert (session.stats.frames_delivered, session.stats.empty, session.stats.packets_received) == (0, 1, 1)
