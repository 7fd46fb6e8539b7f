"""Gateway probe, L2TP and PPTP sides, sans-IO: the probes against our own LNS and PAC engines in memory
(simulated clock): an answer proves the protocol and the probe closes what it opened."""

from __future__ import annotations

import random
from collections.abc import Callable

from wizard.engine.l2tp import L2TPConfig, L2TPConnection, TunnelClosed, TunnelUp
from wizard.engine.pptp import ControlClosed, ControlConnected, PPTPControl
from wizard.engine.pptp.messages import StartControlConnectionReply
from wizard.probe.l2tp import L2tpProbe
from wizard.probe.pptp import PptpProbe
from wizard.probe.report import ProbeProtocol, ProtocolStatus


def rand(seed: int) -> Callable[[int], bytes]:
    rng = random.Random(seed)
    return lambda n: bytes(rng.getrandbits(8) for _ in range(n))


def run_l2tp(probe: L2tpProbe, lns: L2TPConnection | None, until: float = 10.0) -> float:
    """Drive both sides with a simulated clock; None as the LNS means nobody answers."""
    now = 0.0
    probe.start(now)
    while now < until:
        moved = True
        while moved:
            moved = False
            for data in probe.datagrams_to_send():
                moved = lns is not None
                if lns is not None:
                    lns.receive_datagram(data, now)
            for data in lns.datagrams_to_send() if lns is not None else []:
                moved = True
                probe.receive(data, now)
        if probe.done:
            break
        timers = [t for t in (probe.get_timer(), lns.get_timer() if lns else None) if t is not None]
        if not timers:
            break
        now = max(now, min(timers))
        probe.handle_timer(now)
        if lns is not None:
            lns.handle_timer(now)
    return now


def lns_events(lns: L2TPConnection) -> list[object]:
    out = []
    while (e := lns.next_event()) is not None:
        out.append(e)
    return out


def test_l2tp_answer_proves_l2tp_and_the_tunnel_is_closed_again() -> None:
    probe = L2tpProbe("192.0.2.1", timeout=2.0, random_bytes=rand(1))
    lns = L2TPConnection("lns", L2TPConfig(host_name="lns-1", vendor_name="Example", random_bytes=rand(2)))
    run_l2tp(probe, lns)
    result = probe.result(0.5)
    assert result.protocol is ProbeProtocol.L2TP and result.status is ProtocolStatus.ANSWERED
    assert (result.peer_name, result.vendor) == ("lns-1", "Example")
    assert result.detail == 'SCCRP from "lns-1" (vendor Example); tunnel closed again (StopCCN acknowledged)'
    events = lns_events(lns)
    assert any(isinstance(e, TunnelUp) for e in events)
    closed = [e for e in events if isinstance(e, TunnelClosed)]
    assert closed and closed[-1].by_peer  # the server saw our StopCCN


def test_l2tp_tunnel_secret_required_still_proves_l2tp() -> None:
    probe = L2tpProbe("192.0.2.1", timeout=2.0, random_bytes=rand(1))
    lns = L2TPConnection("lns", L2TPConfig(secret="s3cret", random_bytes=rand(2)))
    run_l2tp(probe, lns)
    result = probe.result(0.5)
    assert result.status is ProtocolStatus.ANSWERED and "tunnel secret" in result.detail


def test_l2tp_silence() -> None:
    probe = L2tpProbe("192.0.2.1", timeout=2.0, random_bytes=rand(1))
    end = run_l2tp(probe, None)
    result = probe.result(end)
    assert result.status is ProtocolStatus.SILENT and result.detail == "no answer to SCCRQ within 2 s"
    assert end <= 2.0 + 1e-9


def test_l2tp_give_up_keeps_the_first_verdict() -> None:
    probe = L2tpProbe("192.0.2.1", timeout=2.0)
    probe.start(0.0)
    probe.give_up(ProtocolStatus.CLOSED, "nothing listens on UDP 1701 (ICMP port unreachable)")
    probe.give_up(ProtocolStatus.SILENT, "later")
    assert probe.done and probe.result(0.1).status is ProtocolStatus.CLOSED


# --- PPTP -----------------------------------------------------------------------------------------


def run_pptp(probe: PptpProbe, pac: PPTPControl) -> list[object]:
    now = 0.0
    pac.connect(now)
    probe.start(now)
    for _ in range(10):
        data = probe.data_to_send()
        if data:
            pac.receive_data(data, now)
        back = pac.data_to_send()
        if back:
            probe.receive(back, now)
        if probe.done:
            break
    events = []
    while (e := pac.next_event()) is not None:
        events.append(e)
    return events


def test_pptp_reply_proves_pptp_and_the_control_connection_is_stopped_without_a_call() -> None:
    probe = PptpProbe(timeout=2.0)
    pac = PPTPControl("server")
    events = run_pptp(probe, pac)
    result = probe.result(0.2)
    assert result.status is ProtocolStatus.ANSWERED and probe.stopped_cleanly
    assert result.detail.startswith("Start-Control-Connection-Reply") and "(Stop-Reply received)" in result.detail
    assert any(isinstance(e, ControlConnected) for e in events)
    assert any(isinstance(e, ControlClosed) and e.by_peer for e in events)
    assert pac.peer_call_id is None  # no Outgoing-Call-Request ever reached the server


def test_pptp_refusal_still_proves_pptp() -> None:
    probe = PptpProbe(timeout=2.0)
    probe.start(0.0)
    probe.data_to_send()
    # Start-Control-Connection-Reply, result 2 (general error), RFC 2637 section 2.2.
    reply = StartControlConnectionReply(protocol_version=0x0100, result_code=2, error_code=0).encode()
    probe.receive(reply, 0.1)
    result = probe.result(0.1)
    assert result.status is ProtocolStatus.ANSWERED and result.detail.startswith("answered, but:")


def test_pptp_open_port_without_pptp() -> None:
    probe = PptpProbe(timeout=2.0)
    probe.start(0.0)
    assert probe.get_timer() == 2.0
    probe.handle_timer(2.0)
    result = probe.result(2.0)
    assert result.status is ProtocolStatus.SILENT and "no PPTP answer within 2 s" in result.detail
    other = PptpProbe(timeout=2.0)
    other.start(0.0)
    other.receive(b"HTTP/1.1 400 Bad Request\r\n\r\n", 0.1)
    other.connection_lost()
    assert other.result(0.2).status is ProtocolStatus.SILENT
