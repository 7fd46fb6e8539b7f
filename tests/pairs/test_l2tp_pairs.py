"""LAC against LNS in memory over LossyLink with a simulated clock (no sockets, no sleeping)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace

import pytest

from tests.pairs.netsim import Impairment, LossyLink
from wizard.engine.l2tp import (
    Event,
    L2TPConfig,
    L2TPConnection,
    PPPFrameReceived,
    SessionClosed,
    SessionUp,
    TunnelClosed,
    TunnelState,
    TunnelUp,
)
from wizard.engine.l2tp.avp import H_BIT, decode_avps
from wizard.engine.l2tp.constants import AVPType, MessageType, StopCCNResult
from wizard.engine.l2tp.header import decode_header
from wizard.engine.l2tp.messages import decode_control

LOSSY = Impairment(loss=0.2, duplicate=0.1, reorder=0.2)


def seeded_config(seed: int, **kw: object) -> L2TPConfig:
    rng = random.Random(seed)
    return L2TPConfig(random_bytes=lambda n: bytes(rng.getrandbits(8) for _ in range(n)), **kw)  # type: ignore[arg-type]


@dataclass
class Pair:
    """Runs a LAC and an LNS against each other, recording events and wire traffic."""

    lac: L2TPConnection
    lns: L2TPConnection
    a2b: LossyLink
    b2a: LossyLink
    now: float = 0.0
    lac_events: list[Event] = field(default_factory=list)
    lns_events: list[Event] = field(default_factory=list)
    lac_wire: list[bytes] = field(default_factory=list)
    lns_wire: list[bytes] = field(default_factory=list)

    @classmethod
    def make(
        cls,
        seed: int = 1,
        impairment: Impairment | None = None,
        lac_cfg: L2TPConfig | None = None,
        lns_cfg: L2TPConfig | None = None,
    ) -> Pair:
        imp = impairment or Impairment()
        return cls(
            L2TPConnection("lac", lac_cfg or seeded_config(seed, peer_address="192.0.2.1")),
            L2TPConnection("lns", lns_cfg or seeded_config(seed + 7)),
            LossyLink(imp, seed=seed),
            LossyLink(imp, seed=seed + 1000),
        )

    def _pump(self) -> None:
        for d in self.lac.datagrams_to_send():
            self.lac_wire.append(d)
            self.a2b.send(d, self.now)
        for d in self.lns.datagrams_to_send():
            self.lns_wire.append(d)
            self.b2a.send(d, self.now)
        for conn, sink in ((self.lac, self.lac_events), (self.lns, self.lns_events)):
            while (event := conn.next_event()) is not None:
                sink.append(event)

    def step(self, until: float) -> bool:
        """Advance to the next thing that happens (not past ``until``); False when idle."""
        self._pump()
        times = [
            t
            for t in (self.lac.get_timer(), self.lns.get_timer(), self.a2b.next_arrival(), self.b2a.next_arrival())
            if t is not None
        ]
        if not times or min(times) > until:
            self.now = max(self.now, until)
            return False
        self.now = max(self.now, min(times))
        for d in self.a2b.deliver(self.now):
            self.lns.receive_datagram(d, self.now)
        for d in self.b2a.deliver(self.now):
            self.lac.receive_datagram(d, self.now)
        for conn in (self.lac, self.lns):
            t = conn.get_timer()
            if t is not None and t <= self.now:
                conn.handle_timer(self.now)
        self._pump()
        return True

    def run_until(self, done: object, limit: float = 300.0) -> None:
        """Step until ``done()`` is true or simulated time reaches ``limit``."""
        assert callable(done)
        while not done() and self.step(limit):
            pass
        self._pump()

    def run_for(self, seconds: float) -> None:
        end = self.now + seconds
        while self.step(end):
            pass

    def both_sessions_up(self) -> bool:
        return any(isinstance(e, SessionUp) for e in self.lac_events) and any(
            isinstance(e, SessionUp) for e in self.lns_events
        )

    def establish(self, limit: float = 300.0) -> None:
        self.lac.connect(self.now)
        self.run_until(self.both_sessions_up, limit)


def of_type(events: list[Event], kind: type) -> list:  # type: ignore[type-arg]
    return [e for e in events if isinstance(e, kind)]


def control_types(wire: list[bytes]) -> list[int]:
    out = []
    for d in wire:
        header, payload = decode_header(d)
        if header.is_control:
            msg = decode_control(payload, b"shared")
            out.append(-1 if msg is None else msg.msg_type)
    return out


# --- establishment ---------------------------------------------------------------------------------


def test_clean_establishment_matches_ids_and_orders_events() -> None:
    pair = Pair.make()
    pair.establish()
    lac_up = of_type(pair.lac_events, TunnelUp)[0]
    lns_up = of_type(pair.lns_events, TunnelUp)[0]
    assert lac_up.peer_tunnel_id == pair.lns.local_tunnel_id
    assert lns_up.peer_tunnel_id == pair.lac.local_tunnel_id
    assert lac_up.peer_host_name == "connection-wizard"
    lac_s = of_type(pair.lac_events, SessionUp)[0]
    lns_s = of_type(pair.lns_events, SessionUp)[0]
    assert (lac_s.session_id, lac_s.peer_session_id) == (lns_s.peer_session_id, lns_s.session_id)
    assert pair.lac_events.index(lac_up) < pair.lac_events.index(lac_s)
    assert control_types(pair.lac_wire)[:3] == [MessageType.SCCRQ, MessageType.SCCCN, MessageType.ICRQ]
    assert pair.lac.stats.retransmissions == 0 and pair.lns.stats.retransmissions == 0


@pytest.mark.parametrize("seed", range(12))
def test_lossy_establishment_converges_and_data_flows(seed: int) -> None:
    pair = Pair.make(
        seed,
        LOSSY,
        lac_cfg=seeded_config(seed, data_sequencing=True, peer_address="192.0.2.1"),
        lns_cfg=seeded_config(seed + 7),
    )
    pair.establish()
    assert pair.both_sessions_up(), (pair.lac_events, pair.lns_events)
    assert pair.lac.state is TunnelState.ESTABLISHED and pair.lns.state is TunnelState.ESTABLISHED
    for i in range(40):
        pair.lac.send_ppp(b"\xff\x03\xc0\x21" + i.to_bytes(2, "big"))
        pair.lns.send_ppp(b"\xff\x03\x80\x21" + i.to_bytes(2, "big"))
        pair.run_for(0.1)  # wider than the link's reorder delay, so sequencing rarely drops late frames
    pair.run_for(1.0)
    for events in (pair.lns_events, pair.lac_events):
        got = [int.from_bytes(e.frame[4:], "big") for e in of_type(events, PPPFrameReceived)]
        assert len(got) >= 20  # 20% loss; duplicates and late frames are dropped by sequencing
        assert got == sorted(set(got))
    # the control channel stayed healthy and nobody closed anything
    assert not of_type(pair.lac_events, TunnelClosed) and not of_type(pair.lns_events, TunnelClosed)


def test_lossy_link_actually_impairs_and_retransmissions_recover() -> None:
    retransmissions = dropped = duplicates = 0
    for seed in range(12):
        pair = Pair.make(seed, LOSSY)
        pair.establish()
        assert pair.both_sessions_up()
        retransmissions += pair.lac.stats.retransmissions + pair.lns.stats.retransmissions
        dropped += pair.a2b.dropped + pair.b2a.dropped
        duplicates += pair.lac.stats.duplicates_received + pair.lns.stats.duplicates_received
    assert retransmissions > 0 and dropped > 0 and duplicates > 0


def test_clean_data_flow_in_order_without_sequencing() -> None:
    pair = Pair.make()
    pair.establish()
    frames = [b"\xff\x03\x00\x21" + bytes([i]) * i for i in range(1, 30)]
    for f in frames:
        pair.lac.send_ppp(f)
        pair.lns.send_ppp(f[::-1])
        pair.run_for(0.01)  # the link's delay jitter is 1-5 ms; without sequencing order is the link's
    pair.run_for(0.5)
    assert [e.frame for e in of_type(pair.lns_events, PPPFrameReceived)] == frames
    assert [e.frame for e in of_type(pair.lac_events, PPPFrameReceived)] == [f[::-1] for f in frames]
    data = [decode_header(d)[0] for d in pair.lac_wire if not decode_header(d)[0].is_control]
    assert data and all(h.ns is None and h.has_length for h in data)


def test_lns_turns_on_sequencing_and_lac_follows() -> None:
    pair = Pair.make(lns_cfg=seeded_config(8, data_sequencing=True))
    pair.establish()
    pair.lns.send_ppp(b"\xff\x03hello")
    pair.run_for(0.1)
    pair.lac.send_ppp(b"\xff\x03reply")
    pair.run_for(0.1)
    lns_data = [decode_header(d)[0] for d in pair.lns_wire if not decode_header(d)[0].is_control]
    lac_data = [decode_header(d)[0] for d in pair.lac_wire if not decode_header(d)[0].is_control]
    assert [h.ns for h in lns_data] == [0]
    assert [h.ns for h in lac_data] == [0]
    assert [e.frame for e in of_type(pair.lns_events, PPPFrameReceived)] == [b"\xff\x03reply"]


def test_hidden_avps_with_matching_secret() -> None:
    pair = Pair.make(
        lac_cfg=seeded_config(1, secret="shared", hide_avps=True),
        lns_cfg=seeded_config(2, secret="shared", hide_avps=True),
    )
    pair.establish()
    assert pair.both_sessions_up()
    icrq = next(d for d in pair.lac_wire if control_types([d]) == [MessageType.ICRQ])
    raw = decode_header(icrq)[1]
    flags = [int.from_bytes(raw[i : i + 2], "big") for i in _avp_offsets(raw)]
    assert any(f & H_BIT for f in flags)
    assert AVPType.RANDOM_VECTOR in [a.attr_type for a in decode_avps(raw, b"shared")]


def _avp_offsets(raw: bytes) -> list[int]:
    offsets, pos = [], 0
    while pos < len(raw):
        offsets.append(pos)
        pos += int.from_bytes(raw[pos : pos + 2], "big") & 0x3FF
    return offsets


# --- teardown ------------------------------------------------------------------------------------


def test_lac_close_sends_stopccn_and_lns_reports_reason() -> None:
    pair = Pair.make()
    pair.establish()
    pair.lac.close(pair.now, "user pressed disconnect")
    pair.run_for(30.0)
    lac_closed = of_type(pair.lac_events, TunnelClosed)
    lns_closed = of_type(pair.lns_events, TunnelClosed)
    assert [e.reason for e in lac_closed] == ["user pressed disconnect"]
    assert len(lns_closed) == 1 and lns_closed[0].by_peer
    assert lns_closed[0].reason == "the L2TP client closed the tunnel: it closed the connection normally"
    assert lns_closed[0].result_code == StopCCNResult.GENERAL_CLEAR
    assert of_type(pair.lns_events, SessionClosed)[0].by_peer
    assert pair.lac.finished and pair.lns.finished
    assert pair.lac.stats.retransmissions == 0  # the StopCCN was acked


def test_lns_close_reaches_lac_with_server_address_in_reason() -> None:
    pair = Pair.make()
    pair.establish()
    pair.lns.close(pair.now, "maintenance")
    pair.run_for(30.0)
    closed = of_type(pair.lac_events, TunnelClosed)
    assert len(closed) == 1
    assert closed[0].reason.startswith("the L2TP server at 192.0.2.1 closed the tunnel")
    assert of_type(pair.lac_events, SessionClosed)[0].session_id == of_type(pair.lac_events, SessionUp)[0].session_id


def test_lossy_teardown_still_completes() -> None:
    for seed in range(6):
        pair = Pair.make(seed, LOSSY)
        pair.establish()
        pair.lac.close(pair.now)
        pair.run_for(60.0)
        assert of_type(pair.lns_events, TunnelClosed), seed
        assert pair.lac.finished and pair.lns.finished


def test_cdn_from_lns_closes_session_and_client_tunnel() -> None:
    pair = Pair.make()
    pair.establish()
    pair.lns.close_session(pair.now, reason="idle timeout")
    pair.run_for(30.0)
    s_closed = of_type(pair.lac_events, SessionClosed)
    assert len(s_closed) == 1 and s_closed[0].by_peer
    assert s_closed[0].reason == (
        "the L2TP server at 192.0.2.1 hung up the call: it disconnected the call for administrative reasons"
    )
    t_closed = of_type(pair.lac_events, TunnelClosed)
    assert t_closed and t_closed[0].reason == s_closed[0].reason and t_closed[0].result_code == 3
    assert of_type(pair.lns_events, TunnelClosed)[0].by_peer


def test_lac_close_session_keeps_tunnel_when_configured() -> None:
    pair = Pair.make(lac_cfg=seeded_config(1, close_tunnel_with_session=False))
    pair.establish()
    pair.lac.close_session(pair.now)
    pair.run_for(5.0)
    assert of_type(pair.lns_events, SessionClosed)[0].by_peer
    assert pair.lac.state is TunnelState.ESTABLISHED and pair.lns.state is TunnelState.ESTABLISHED
    pair.lac.open_session(pair.now)
    pair.run_for(5.0)
    assert len(of_type(pair.lns_events, SessionUp)) == 2


def test_lns_refusing_sessions_gives_a_reason() -> None:
    pair = Pair.make(lns_cfg=seeded_config(3, accept_sessions=False))
    pair.lac.connect(0.0)
    pair.run_for(10.0)
    closed = of_type(pair.lac_events, SessionClosed)
    assert len(closed) == 1
    assert "cannot accept calls of this kind" in closed[0].reason
    assert of_type(pair.lac_events, TunnelClosed)


# --- tunnel authentication -----------------------------------------------------------------------


def test_matching_secret_authenticates() -> None:
    pair = Pair.make(lac_cfg=seeded_config(1, secret="s3cret"), lns_cfg=seeded_config(2, secret=b"s3cret"))
    pair.establish()
    assert pair.both_sessions_up()


def test_secret_mismatch_fails_with_clear_reason_on_both_sides() -> None:
    pair = Pair.make(
        lac_cfg=seeded_config(1, secret="right", peer_address="vpn.example"), lns_cfg=seeded_config(2, secret="wrong")
    )
    pair.lac.connect(0.0)
    pair.run_for(30.0)
    lac_closed = of_type(pair.lac_events, TunnelClosed)
    assert [e.reason for e in lac_closed] == [
        "tunnel authentication failed: the L2TP server at vpn.example does not know the same tunnel secret"
    ]
    assert lac_closed[0].result_code == StopCCNResult.NOT_AUTHORIZED
    lns_closed = of_type(pair.lns_events, TunnelClosed)
    assert len(lns_closed) == 1 and lns_closed[0].result_code == StopCCNResult.NOT_AUTHORIZED
    assert "not authorised to open a tunnel (check the tunnel secret)" in lns_closed[0].reason
    assert not of_type(pair.lac_events, TunnelUp)


def test_server_requires_secret_client_has_none() -> None:
    pair = Pair.make(lns_cfg=seeded_config(2, secret="only-server"))
    pair.lac.connect(0.0)
    pair.run_for(30.0)
    reason = of_type(pair.lac_events, TunnelClosed)[0].reason
    assert reason == (
        "the L2TP server at 192.0.2.1 requires a tunnel secret (L2TP tunnel authentication), "
        "but none is configured in this profile"
    )


def test_client_has_secret_server_has_none() -> None:
    pair = Pair.make(lac_cfg=seeded_config(1, secret="only-client"))
    pair.lac.connect(0.0)
    pair.run_for(30.0)
    closed = of_type(pair.lac_events, TunnelClosed)
    assert len(closed) == 1 and closed[0].by_peer
    assert closed[0].result_code == StopCCNResult.NOT_AUTHORIZED
    assert "check the tunnel secret" in closed[0].reason


# --- dead peers ----------------------------------------------------------------------------------


def test_no_server_fails_after_retransmissions_with_address() -> None:
    pair = Pair.make(impairment=Impairment(loss=1.0))
    pair.lac.connect(0.0)
    pair.run_for(120.0)
    closed = of_type(pair.lac_events, TunnelClosed)
    assert [e.reason for e in closed] == ["no reply from the L2TP server at 192.0.2.1"]
    assert pair.lac.stats.retransmissions == 5
    # 1 + 2 + 4 + 8 + 8 + 8 seconds of back-off before giving up
    assert pair.lac.finished
    sccrqs = control_types(pair.lac_wire)
    assert sccrqs == [MessageType.SCCRQ] * 6


def test_server_dies_after_setup_detected_by_hello() -> None:
    pair = Pair.make(lac_cfg=seeded_config(1, hello_interval=20.0, peer_address="192.0.2.1"))
    pair.establish()
    pair.run_for(5.0)  # let the last acks through
    assert pair.lac.stats.retransmissions == 0
    up_at = pair.now
    pair.a2b.impairment = pair.b2a.impairment = Impairment(loss=1.0)
    pair.run_for(200.0)
    closed = of_type(pair.lac_events, TunnelClosed)
    assert len(closed) == 1
    assert closed[0].reason == (
        "the L2TP server at 192.0.2.1 stopped responding (keepalive and control messages went unanswered)"
    )
    assert pair.lac.stats.hellos_sent == 1
    assert of_type(pair.lac_events, SessionClosed)
    assert pair.lac.finished and pair.now > up_at + 20.0


def test_hello_keeps_an_idle_tunnel_alive() -> None:
    pair = Pair.make(lac_cfg=seeded_config(1, hello_interval=10.0), lns_cfg=seeded_config(2, hello_interval=15.0))
    pair.establish()
    pair.run_for(100.0)
    assert pair.lac.stats.hellos_sent >= 5
    assert pair.lac.state is TunnelState.ESTABLISHED and pair.lns.state is TunnelState.ESTABLISHED
    assert not of_type(pair.lac_events, TunnelClosed)


def test_hiding_without_secret_is_rejected_by_config() -> None:
    with pytest.raises(ValueError):
        replace(seeded_config(1), hide_avps=True)
