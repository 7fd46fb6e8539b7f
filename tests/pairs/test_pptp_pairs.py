"""PPTP client against PPTP server in memory: control stream, call setup, GRE data, teardown.

The TCP stream is reliable but re-chunked at random (split and coalesced messages). GRE runs over
``LossyLink`` with loss, duplication and reordering; the clock is simulated.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import pytest

from tests.pairs.netsim import Impairment, LossyLink
from wizard.engine.pptp import (
    CallCleared,
    CallEstablished,
    ControlClosed,
    ControlConnected,
    EchoTimeout,
    Event,
    GREPacket,
    GRESession,
    PPPFrameReceived,
    PPTPConfig,
    PPTPControl,
)

CLIENT_CALL_ID = 0x1234
SERVER_CALL_ID = 0x0081


def drain_events(conn: PPTPControl | GRESession) -> list[Event]:
    out = []
    while (e := conn.next_event()) is not None:
        out.append(e)
    return out


class ChunkedPipe:
    """A reliable byte stream that delivers a random prefix of what is pending, in random pieces."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.pending = bytearray()
        self.cut = False

    def write(self, data: bytes) -> None:
        if not self.cut:
            self.pending += data

    def take(self, everything: bool = False) -> list[bytes]:
        if not self.pending:
            return []
        n = len(self.pending) if everything else self.rng.randint(1, len(self.pending))
        data, self.pending = bytes(self.pending[:n]), self.pending[n:]
        chunks = []
        while data:
            k = self.rng.choice([1, 2, 5, 11, 12, 13, 40, 156, 300])
            chunks.append(data[:k])
            data = data[k:]
        return chunks


@dataclass
class ControlPair:
    seed: int
    client_config: PPTPConfig = field(
        default_factory=lambda: PPTPConfig(call_id=CLIENT_CALL_ID, host_name="laptop", vendor="Microsoft")
    )
    server_config: PPTPConfig = field(
        default_factory=lambda: PPTPConfig(call_id=SERVER_CALL_ID, host_name="gateway", vendor="Wizard GW")
    )

    def __post_init__(self) -> None:
        rng = random.Random(self.seed)
        self.client = PPTPControl("client", self.client_config)
        self.server = PPTPControl("server", self.server_config)
        self.c2s = ChunkedPipe(rng)
        self.s2c = ChunkedPipe(rng)
        self.client_events: list[Event] = []
        self.server_events: list[Event] = []
        self.now = 0.0

    def pump(self) -> None:
        """Move bytes until both sides are quiet; partial deliveries make messages split and merge."""
        for _ in range(10_000):
            self.c2s.write(self.client.data_to_send())
            self.s2c.write(self.server.data_to_send())
            if not self.c2s.pending and not self.s2c.pending:
                break
            for chunk in self.c2s.take():
                self.server.receive_data(chunk, self.now)
            for chunk in self.s2c.take():
                self.client.receive_data(chunk, self.now)
        else:
            raise AssertionError("control stream never went quiet")
        self.client_events += drain_events(self.client)
        self.server_events += drain_events(self.server)

    def run_until(self, until: float) -> None:
        """Advance the simulated clock through both sides' timers."""
        self.pump()
        for _ in range(100_000):
            timers = [t for t in (self.client.get_timer(), self.server.get_timer()) if t is not None]
            if not timers or min(timers) > until:
                break
            self.now = max(self.now, min(timers))
            self.client.handle_timer(self.now)
            self.server.handle_timer(self.now)
            self.pump()
        else:
            raise AssertionError("timers never settled")
        self.now = max(self.now, until)

    def setup(self) -> None:
        self.server.connect(self.now)
        self.client.connect(self.now)
        self.pump()


@pytest.mark.parametrize("seed", range(8))
def test_control_connection_and_call_setup(seed: int) -> None:
    p = ControlPair(seed)
    p.setup()
    assert p.client_events == [
        ControlConnected("gateway", "Wizard GW", 1, peer_framing_capabilities=1, peer_bearer_capabilities=1),
        CallEstablished(CLIENT_CALL_ID, SERVER_CALL_ID, 100_000_000, 64, 0),
    ]
    assert p.server_events == [
        ControlConnected("laptop", "Microsoft", 1, peer_framing_capabilities=1, peer_bearer_capabilities=1),
        CallEstablished(SERVER_CALL_ID, CLIENT_CALL_ID, 100_000_000, 64, 0),
    ]
    assert p.client.stats.malformed == p.server.stats.malformed == 0
    assert p.client.stats.unexpected == p.server.stats.unexpected == 0


@pytest.mark.parametrize("seed", range(4))
def test_client_hangs_up(seed: int) -> None:
    p = ControlPair(seed)
    p.setup()
    p.client_events.clear()
    p.server_events.clear()
    p.now = 30.0
    p.client.close(p.now, "you disconnected")
    p.pump()
    assert p.client_events == [CallCleared("you disconnected"), ControlClosed("you disconnected")]
    assert p.server_events == [
        CallCleared("the client hung up the call", by_peer=True),
        ControlClosed("the client closed the connection", by_peer=True),
    ]
    assert p.client.closed and p.server.closed
    assert p.client.get_timer() is None and p.server.get_timer() is None


@pytest.mark.parametrize("seed", range(4))
def test_server_shuts_down(seed: int) -> None:
    p = ControlPair(seed)
    p.setup()
    p.client_events.clear()
    p.server_events.clear()
    p.server.close(5.0, "the gateway is restarting")
    p.pump()
    reason = "the server ended the call: administrative shutdown"
    assert p.client_events == [CallCleared(reason, by_peer=True), ControlClosed(reason, by_peer=True)]
    assert p.server_events == [
        CallCleared("the gateway is restarting"),
        ControlClosed("the gateway is restarting"),
    ]
    assert p.client.closed and p.server.closed


def test_keepalive_keeps_an_idle_connection_up_then_detects_a_dead_peer() -> None:
    config = dict(echo_interval=10.0, echo_timeout=5.0)
    p = ControlPair(
        1,
        client_config=PPTPConfig(call_id=CLIENT_CALL_ID, **config),  # type: ignore[arg-type]
        server_config=PPTPConfig(call_id=SERVER_CALL_ID, **config),  # type: ignore[arg-type]
    )
    p.setup()
    p.run_until(100.0)
    assert not p.client.closed and not p.server.closed
    assert p.client.stats.echo_requests_sent + p.server.stats.echo_requests_sent >= 9
    assert p.server.stats.echo_requests_answered == p.client.stats.echo_requests_sent
    # the network dies: nothing gets through in either direction any more
    p.c2s.cut = p.s2c.cut = True
    p.run_until(200.0)
    for events in (p.client_events, p.server_events):
        timeouts = [e for e in events if isinstance(e, EchoTimeout)]
        assert timeouts == [EchoTimeout(5.0)]
        assert isinstance(events[-1], ControlClosed)
        assert "stopped answering keep-alive messages" in events[-1].reason
        assert isinstance(events[-2], CallCleared)
    assert p.client.closed and p.server.closed


# -- GRE ------------------------------------------------------------------------------------


@dataclass
class Tap:
    """What one direction of the GRE link carried, decoded by the test (independent of the session)."""

    sent_seq_by_payload: dict[bytes, int] = field(default_factory=dict)
    data_sent: int = 0
    acks_only_sent: int = 0
    arrivals: list[int] = field(default_factory=list)  # sequence numbers of data packets that arrived

    def on_send(self, datagram: bytes) -> None:
        p = GREPacket.decode(datagram)
        if p.seq is None:
            self.acks_only_sent += 1
        else:
            self.data_sent += 1
            self.sent_seq_by_payload[p.payload] = p.seq

    def on_arrival(self, datagram: bytes) -> None:
        p = GREPacket.decode(datagram)
        if p.seq is not None:
            self.arrivals.append(p.seq)


@dataclass
class GREPair:
    impairment: Impairment
    seed: int
    a: GRESession = field(init=False)
    b: GRESession = field(init=False)

    def __post_init__(self) -> None:
        call = CallEstablished(CLIENT_CALL_ID, SERVER_CALL_ID, 0, 64, 0)
        self.a = GRESession.from_call(call)
        self.b = GRESession(SERVER_CALL_ID, CLIENT_CALL_ID, peer_recv_window=64)
        self.ab = LossyLink(self.impairment, seed=self.seed)
        self.ba = LossyLink(self.impairment, seed=self.seed + 1000)
        self.tap_ab, self.tap_ba = Tap(), Tap()
        self.received_by_b: list[bytes] = []
        self.received_by_a: list[bytes] = []

    def run(self, sends: list[tuple[float, str, bytes]], until: float) -> None:
        """``sends`` is (time, 'a' or 'b', frame), sorted by time."""
        queue = list(sends)
        now = 0.0
        for _ in range(1_000_000):
            times = [
                queue[0][0] if queue else None,
                self.ab.next_arrival(),
                self.ba.next_arrival(),
                self.a.get_timer(),
                self.b.get_timer(),
            ]
            due = [t for t in times if t is not None]
            if not due or min(due) > until:
                break
            now = max(now, min(due))
            while queue and queue[0][0] <= now:
                _, who, frame = queue.pop(0)
                (self.a if who == "a" else self.b).send_ppp(frame, now)
            for d in self.ab.deliver(now):
                self.tap_ab.on_arrival(d)
                self.b.receive_packet(d, now)
            for d in self.ba.deliver(now):
                self.tap_ba.on_arrival(d)
                self.a.receive_packet(d, now)
            for s in (self.a, self.b):
                t = s.get_timer()
                if t is not None and t <= now:
                    s.handle_timer(now)
            for d in self.a.datagrams_to_send():
                self.tap_ab.on_send(d)
                self.ab.send(d, now)
            for d in self.b.datagrams_to_send():
                self.tap_ba.on_send(d)
                self.ba.send(d, now)
            self.received_by_b += [e.frame for e in drain_events(self.b) if isinstance(e, PPPFrameReceived)]
            self.received_by_a += [e.frame for e in drain_events(self.a) if isinstance(e, PPPFrameReceived)]
        else:
            raise AssertionError("simulation did not finish")


def check_direction(sender: GRESession, receiver: GRESession, tap: Tap, delivered: list[bytes]) -> None:
    """Everything the receiver counted must agree with what the link actually carried."""
    st = receiver.stats
    assert sender.stats.packets_sent == tap.data_sent
    assert sender.stats.acks_sent == tap.acks_only_sent
    # delivered in order, each at most once, and only frames that were sent
    seqs = [tap.sent_seq_by_payload[f] for f in delivered]
    assert seqs == sorted(set(seqs))
    assert st.frames_delivered == len(delivered)
    # every arrival is exactly one of: delivered, duplicate, too old
    assert st.packets_received == len(tap.arrivals)
    assert st.packets_received == st.frames_delivered + st.empty + st.duplicates + st.too_old
    assert st.duplicates <= len(tap.arrivals) - len(set(tap.arrivals))
    # in-order delivery where possible: whatever arrived in time was handed up
    late = set(tap.arrivals) - set(seqs)
    assert st.too_old >= len(late)
    if st.too_old == 0:
        assert set(seqs) == set(tap.arrivals)
        assert st.duplicates == len(tap.arrivals) - len(set(tap.arrivals))
    # every sequence number before the last delivered one was delivered or counted lost
    if seqs:
        assert st.lost == seqs[-1] + 1 - len(seqs)
    assert st.malformed == 0 and st.wrong_call_id == 0


ROUGH = Impairment(loss=0.2, duplicate=0.2, reorder=0.2)


@pytest.mark.parametrize("seed", range(6))
def test_gre_bidirectional_over_a_rough_link(seed: int) -> None:
    pair = GREPair(ROUGH, seed)
    sends = []
    for i in range(400):
        sends.append((i * 0.004, "a", b"a%05d" % i))
        if i % 3 == 0:
            sends.append((i * 0.004 + 0.001, "b", b"b%05d" % i))
    pair.run(sorted(sends), until=30.0)
    check_direction(pair.a, pair.b, pair.tap_ab, pair.received_by_b)
    check_direction(pair.b, pair.a, pair.tap_ba, pair.received_by_a)
    # the link really was rough, and the sessions noticed
    assert pair.ab.dropped > 0 and pair.ab.duplicated > 0
    assert pair.b.stats.lost > 0 and pair.b.stats.duplicates > 0 and pair.b.stats.out_of_order > 0
    # with 20% loss roughly 80% of a's frames get through; the window rarely shuts for long
    assert 0.6 * 400 < len(pair.received_by_b) < 0.95 * 400
    assert pair.a.stats.send_queue_drops < 0.05 * 400
    # nothing left hanging once the traffic stops
    assert pair.a.get_timer() is None and pair.b.get_timer() is None


@pytest.mark.parametrize("seed", range(4))
def test_gre_one_way_traffic_is_acknowledged_by_standalone_acks(seed: int) -> None:
    pair = GREPair(ROUGH, seed)
    sends = [(i * 0.002, "a", b"a%05d" % i) for i in range(600)]
    pair.run(sends, until=30.0)
    check_direction(pair.a, pair.b, pair.tap_ab, pair.received_by_b)
    assert pair.b.stats.packets_sent == 0
    assert pair.b.stats.acks_sent > 0
    assert pair.a.stats.acks_received > 0
    # a lost ack while the window is full stalls the sender until the ack timeout (RFC 2637 §4.4);
    # frames queued meanwhile may overflow, but only a few
    assert pair.a.stats.send_queue_drops < 0.05 * 600
    assert len(pair.received_by_b) > 0.6 * 600


@pytest.mark.parametrize("seed", range(3))
def test_gre_clean_link_delivers_everything(seed: int) -> None:
    pair = GREPair(Impairment(min_delay=0.003, max_delay=0.003), seed)  # fixed delay: no reordering
    sends = [(i * 0.001, "ab"[i % 2], b"%d" % i) for i in range(500)]
    pair.run(sends, until=10.0)
    assert pair.received_by_b == [b"%d" % i for i in range(0, 500, 2)]
    assert pair.received_by_a == [b"%d" % i for i in range(1, 500, 2)]
    for s in (pair.a, pair.b):
        assert (s.stats.lost, s.stats.duplicates, s.stats.out_of_order, s.stats.ack_timeouts) == (0, 0, 0, 0)


def test_whole_call_control_then_gre_then_teardown() -> None:
    p = ControlPair(7)
    p.setup()
    (client_call,) = [e for e in p.client_events if isinstance(e, CallEstablished)]
    (server_call,) = [e for e in p.server_events if isinstance(e, CallEstablished)]
    client_gre = GRESession.from_call(client_call)
    server_gre = GRESession.from_call(server_call)
    link = LossyLink(ROUGH, seed=3)
    for i in range(50):
        client_gre.send_ppp(b"lcp%d" % i, i * 0.01)
        for d in client_gre.datagrams_to_send():
            link.send(d, i * 0.01)
        for d in link.deliver(i * 0.01):
            server_gre.receive_packet(d, i * 0.01)
    for d in link.deliver(5.0):
        server_gre.receive_packet(d, 5.0)
    server_gre.handle_timer(5.0)
    got = [e.frame for e in drain_events(server_gre) if isinstance(e, PPPFrameReceived)]
    assert got and got == sorted(set(got), key=lambda f: int(f[3:]))
    p.now = 6.0
    p.client.close(p.now, "you disconnected")
    p.pump()
    assert isinstance(p.client_events[-1], ControlClosed) and isinstance(p.server_events[-1], ControlClosed)
    client_gre.close()
    server_gre.close()


@pytest.mark.parametrize("seed", range(4))
def test_client_gives_up_while_the_call_is_being_set_up(seed: int) -> None:
    p = ControlPair(seed)
    p.server.connect(0.0)
    p.client.connect(0.0)
    # only the start request gets across before the user cancels
    p.server.receive_data(p.client.data_to_send(), 0.0)
    p.client.receive_data(p.server.data_to_send(), 0.0)  # start reply: the client sends its call request
    p.client.close(0.1, "you cancelled")  # call request and call-clear request cross the reply
    p.pump()
    p.run_until(60.0)
    assert p.client_events[-2:] == [CallCleared("you cancelled"), ControlClosed("you cancelled")]
    assert isinstance(p.server_events[-1], ControlClosed)
    assert p.server_events[-1].by_peer
    assert p.client.closed and p.server.closed
