"""PPTPControl against a scripted peer: each test plays the other side message by message."""

from __future__ import annotations

import pytest

from wizard.engine.errors import LocalProtocolError
from wizard.engine.pptp.control import CallState, ControlState, PPTPConfig, PPTPControl
from wizard.engine.pptp.events import (
    CallCleared,
    CallEstablished,
    ControlClosed,
    ControlConnected,
    EchoTimeout,
    Event,
    LinkInfoReceived,
    WanErrorReported,
)
from wizard.engine.pptp.messages import (
    CallClearRequest,
    CallDisconnectNotify,
    ControlMessage,
    EchoReply,
    EchoRequest,
    IncomingCallRequest,
    OutgoingCallReply,
    OutgoingCallRequest,
    SetLinkInfo,
    StartControlConnectionReply,
    StartControlConnectionRequest,
    StopControlConnectionReply,
    StopControlConnectionRequest,
    WanErrorNotify,
    decode_message,
)
from wizard.engine.pptp.stream import ControlStreamReassembler

CLIENT_CALL_ID = 0x4A3B
SERVER_CALL_ID = 0x80


def sent(conn: PPTPControl) -> list[ControlMessage]:
    r = ControlStreamReassembler()
    r.feed(conn.data_to_send())
    out = []
    while (raw := r.next_message()) is not None:
        out.append(decode_message(raw))
    return out


def events(conn: PPTPControl) -> list[Event]:
    out = []
    while (e := conn.next_event()) is not None:
        out.append(e)
    return out


def feed(conn: PPTPControl, *messages: ControlMessage, now: float = 0.0) -> None:
    conn.receive_data(b"".join(m.encode() for m in messages), now)


def client(**overrides: object) -> PPTPControl:
    config = PPTPConfig(call_id=CLIENT_CALL_ID, host_name="laptop", **overrides)  # type: ignore[arg-type]
    return PPTPControl("client", config)


def established_client(**overrides: object) -> PPTPControl:
    c = client(**overrides)
    c.connect(0.0)
    sent(c)
    feed(c, StartControlConnectionReply(host_name="gw", vendor_string="linux", firmware_revision=1))
    sent(c)
    feed(c, OutgoingCallReply(call_id=SERVER_CALL_ID, peer_call_id=CLIENT_CALL_ID, connect_speed=10_000_000))
    events(c)
    return c


# -- client ---------------------------------------------------------------------------------


def test_client_sends_windows_like_start_request_then_call_request() -> None:
    c = client()
    c.connect(0.0)
    (sccrq,) = sent(c)
    assert sccrq == StartControlConnectionRequest(
        protocol_version=0x0100,
        framing_capabilities=1,
        bearer_capabilities=1,
        maximum_channels=0,
        firmware_revision=1,
        host_name="laptop",
        vendor_string="Connection Wizard",
    )
    assert c.state is ControlState.WAIT_START_REPLY
    feed(c, StartControlConnectionReply(host_name="gw", vendor_string="linux", firmware_revision=7), now=0.5)
    assert events(c) == [
        ControlConnected("gw", "linux", 7, peer_framing_capabilities=1, peer_bearer_capabilities=1)
    ]
    (ocrq,) = sent(c)
    assert isinstance(ocrq, OutgoingCallRequest)
    assert (ocrq.call_id, ocrq.bearer_type, ocrq.framing_type) == (CLIENT_CALL_ID, 3, 3)
    assert (ocrq.packet_recv_window_size, ocrq.packet_processing_delay) == (64, 0)
    feed(c, OutgoingCallReply(call_id=SERVER_CALL_ID, peer_call_id=CLIENT_CALL_ID, connect_speed=64000))
    assert events(c) == [CallEstablished(CLIENT_CALL_ID, SERVER_CALL_ID, 64000, 64, 0)]
    assert c.call_state is CallState.ESTABLISHED
    assert c.peer_call_id == SERVER_CALL_ID


def test_client_start_refused_gives_plain_reason() -> None:
    c = client()
    c.connect(0.0)
    sent(c)
    feed(c, StartControlConnectionReply(result_code=4))
    assert events(c) == [
        ControlClosed(
            "the server refused the PPTP control connection: "
            "we are not authorised to open a control connection",
            by_peer=True,
        )
    ]
    assert c.closed and c.get_timer() is None


def test_client_rejects_other_protocol_version() -> None:
    c = client()
    c.connect(0.0)
    sent(c)
    feed(c, StartControlConnectionReply(protocol_version=0x0200))
    assert sent(c) == [StopControlConnectionRequest(reason=2)]
    feed(c, StopControlConnectionReply())
    assert events(c) == [ControlClosed("the server speaks PPTP version 2.0, not 1.0")]


def test_client_call_refused_busy() -> None:
    c = client()
    c.connect(0.0)
    feed(c, StartControlConnectionReply())
    sent(c)
    events(c)
    feed(c, OutgoingCallReply(call_id=0, peer_call_id=CLIENT_CALL_ID, result_code=4), now=1.0)
    reason = "the server refused the call: busy"
    assert events(c) == [CallCleared(reason, by_peer=True)]
    assert sent(c) == [StopControlConnectionRequest(reason=1)]
    feed(c, StopControlConnectionReply(), now=1.1)
    assert events(c) == [ControlClosed(reason, by_peer=True)]


def test_client_ignores_call_reply_for_another_call() -> None:
    c = client()
    c.connect(0.0)
    feed(c, StartControlConnectionReply())
    feed(c, OutgoingCallReply(call_id=1, peer_call_id=CLIENT_CALL_ID + 1))
    assert c.call_state is CallState.WAIT_REPLY
    assert c.stats.unexpected == 1


def test_client_start_reply_timeout() -> None:
    c = client(reply_timeout=20.0)
    c.connect(100.0)
    assert c.get_timer() == 120.0
    c.handle_timer(119.9)
    assert events(c) == []
    c.handle_timer(120.0)
    assert events(c) == [ControlClosed("the server did not answer the PPTP start request within 20 s")]


def test_client_call_reply_timeout_stops_connection() -> None:
    c = client(reply_timeout=5.0, stop_timeout=2.0)
    c.connect(0.0)
    feed(c, StartControlConnectionReply(), now=1.0)
    sent(c)
    events(c)
    assert c.get_timer() == 6.0
    c.handle_timer(6.0)
    reason = "the server did not answer the call request within 5 s"
    assert events(c) == [CallCleared(reason)]
    assert sent(c) == [StopControlConnectionRequest(reason=1)]
    assert c.get_timer() == 8.0
    c.handle_timer(8.0)  # no stop reply either
    assert events(c) == [ControlClosed(reason)]


def test_client_close_clears_call_then_stops() -> None:
    c = established_client()
    sent(c)
    c.close(10.0, "you disconnected")
    assert sent(c) == [CallClearRequest(call_id=CLIENT_CALL_ID)]
    assert c.call_state is CallState.WAIT_DISCONNECT
    c.close(10.1)  # a second close changes nothing
    assert sent(c) == []
    feed(c, CallDisconnectNotify(call_id=SERVER_CALL_ID, result_code=4), now=10.2)
    assert events(c) == [CallCleared("you disconnected")]
    assert sent(c) == [StopControlConnectionRequest(reason=1)]
    feed(c, StopControlConnectionReply(), now=10.3)
    assert events(c) == [ControlClosed("you disconnected")]


def test_client_close_without_disconnect_notify_goes_on_after_timeout() -> None:
    c = established_client(clear_timeout=3.0)
    sent(c)
    c.close(10.0, "bye")
    sent(c)
    c.handle_timer(13.0)
    assert events(c) == [CallCleared("bye")]
    assert sent(c) == [StopControlConnectionRequest(reason=1)]


def test_server_hangs_up_the_call() -> None:
    c = established_client()
    feed(c, CallDisconnectNotify(call_id=SERVER_CALL_ID, result_code=3, cause_code=16))
    reason = "the server ended the call: administrative shutdown (cause code 16)"
    assert events(c) == [CallCleared(reason, by_peer=True)]
    assert sent(c)[-1] == StopControlConnectionRequest(reason=1)
    feed(c, StopControlConnectionReply())
    assert events(c) == [ControlClosed(reason, by_peer=True)]


def test_disconnect_notify_for_another_call_is_ignored() -> None:
    c = established_client()
    feed(c, CallDisconnectNotify(call_id=SERVER_CALL_ID + 1, result_code=3))
    assert c.call_state is CallState.ESTABLISHED
    assert c.stats.unexpected == 1


def test_server_stops_the_control_connection() -> None:
    c = established_client()
    sent(c)
    feed(c, StopControlConnectionRequest(reason=3))
    reason = "the server closed the connection because it is shutting down"
    assert events(c) == [CallCleared(reason, by_peer=True), ControlClosed(reason, by_peer=True)]
    assert sent(c) == [StopControlConnectionReply(result_code=1)]
    feed(c, EchoRequest(identifier=1))  # nothing happens once closed
    assert sent(c) == [] and events(c) == []


def test_client_answers_echo_and_reports_wan_errors() -> None:
    c = established_client()
    sent(c)
    feed(c, EchoRequest(identifier=0x1234), WanErrorNotify(peer_call_id=CLIENT_CALL_ID, crc_errors=3))
    assert sent(c) == [EchoReply(identifier=0x1234, result_code=1)]
    assert events(c) == [WanErrorReported(3, 0, 0, 0, 0, 0)]


def test_set_link_info() -> None:
    c = established_client()
    sent(c)
    c.set_link_info(0, 0xFFFFFFFF)
    assert sent(c) == [SetLinkInfo(peer_call_id=SERVER_CALL_ID, send_accm=0, receive_accm=0xFFFFFFFF)]
    with pytest.raises(LocalProtocolError):
        client().set_link_info(0, 0)


def test_echo_keepalive_and_timeout() -> None:
    c = established_client(echo_interval=60.0, echo_timeout=30.0)
    sent(c)
    assert c.get_timer() == 60.0  # last message arrived at t=0
    feed(c, EchoReply(identifier=99), now=50.0)  # any message counts as life
    assert c.get_timer() == 110.0
    c.handle_timer(110.0)
    (echo,) = sent(c)
    assert isinstance(echo, EchoRequest)
    assert c.get_timer() == 140.0
    feed(c, EchoReply(identifier=echo.identifier), now=120.0)
    assert c.get_timer() == 180.0
    c.handle_timer(180.0)
    sent(c)
    c.handle_timer(209.0)
    assert events(c) == []
    c.handle_timer(210.0)
    reason = "the server stopped answering keep-alive messages (no echo reply in 30 s)"
    assert events(c) == [EchoTimeout(30.0), CallCleared(reason), ControlClosed(reason)]
    assert c.closed
    assert c.stats.echo_requests_sent == 2


def test_echo_can_be_disabled() -> None:
    c = established_client(echo_interval=None)
    assert c.get_timer() is None


def test_garbage_on_the_stream_closes_the_connection() -> None:
    c = established_client()
    c.receive_data(b"HTTP/1.1 400 Bad Request\r\n\r\n", 1.0)
    (cleared, closed) = events(c)
    assert isinstance(cleared, CallCleared) and isinstance(closed, ControlClosed)
    assert closed.reason.startswith("the server sent data that is not PPTP")
    assert c.stats.malformed == 1


def test_undecodable_message_with_good_framing_is_dropped_and_counted() -> None:
    c = established_client()
    wire = bytearray(EchoRequest(identifier=1).encode())
    wire[8:10] = (77).to_bytes(2, "big")  # unknown control message type
    c.receive_data(bytes(wire) + EchoRequest(identifier=2).encode(), 1.0)
    assert c.stats.malformed == 1
    assert sent(c)[-1] == EchoReply(identifier=2, result_code=1)
    assert c.state is ControlState.ESTABLISHED


def test_incoming_call_request_is_unexpected() -> None:
    c = established_client()
    feed(c, IncomingCallRequest(call_id=3))
    assert c.stats.unexpected == 1


def test_connect_twice_is_a_local_error() -> None:
    c = client()
    c.connect(0.0)
    with pytest.raises(LocalProtocolError):
        c.connect(1.0)


def test_bad_role() -> None:
    with pytest.raises(LocalProtocolError):
        PPTPControl("peer")  # type: ignore[arg-type]


# -- server ---------------------------------------------------------------------------------


def server(**overrides: object) -> PPTPControl:
    config = PPTPConfig(call_id=SERVER_CALL_ID, host_name="gw", **overrides)  # type: ignore[arg-type]
    return PPTPControl("server", config)


def test_server_accepts_start_and_call() -> None:
    s = server(connect_speed=1_000_000)
    s.connect(0.0)
    feed(s, StartControlConnectionRequest(host_name="DESKTOP", vendor_string="Microsoft", firmware_revision=2600))
    (sccrp,) = sent(s)
    assert isinstance(sccrp, StartControlConnectionReply)
    assert (sccrp.result_code, sccrp.host_name) == (1, "gw")
    assert events(s) == [
        ControlConnected("DESKTOP", "Microsoft", 2600, peer_framing_capabilities=1, peer_bearer_capabilities=1)
    ]
    feed(s, OutgoingCallRequest(call_id=CLIENT_CALL_ID, packet_recv_window_size=16, packet_processing_delay=1))
    assert sent(s) == [
        OutgoingCallReply(
            call_id=SERVER_CALL_ID,
            peer_call_id=CLIENT_CALL_ID,
            result_code=1,
            connect_speed=1_000_000,
            packet_recv_window_size=64,
        )
    ]
    assert events(s) == [CallEstablished(SERVER_CALL_ID, CLIENT_CALL_ID, 1_000_000, 16, 1)]


def test_server_refuses_call_before_start() -> None:
    s = server()
    feed(s, OutgoingCallRequest(call_id=1))
    (ocrp,) = sent(s)
    assert isinstance(ocrp, OutgoingCallReply)
    assert (ocrp.result_code, ocrp.error_code) == (2, 1)


def test_server_refuses_second_call() -> None:
    s = server()
    feed(s, StartControlConnectionRequest(), OutgoingCallRequest(call_id=1), OutgoingCallRequest(call_id=2))
    replies = [m for m in sent(s) if isinstance(m, OutgoingCallReply)]
    assert [(r.result_code, r.error_code) for r in replies] == [(1, 0), (2, 4)]


def test_server_refuses_other_version() -> None:
    s = server()
    feed(s, StartControlConnectionRequest(protocol_version=0x0101))
    (sccrp,) = sent(s)
    assert isinstance(sccrp, StartControlConnectionReply) and sccrp.result_code == 5
    assert events(s) == [ControlClosed("the client asked for PPTP version 1.1; only version 1.0 is supported")]


def test_server_waits_for_start_request_with_timeout() -> None:
    s = server(reply_timeout=10.0)
    s.connect(5.0)
    assert s.get_timer() == 15.0
    s.handle_timer(15.0)
    assert events(s) == [ControlClosed("the client sent no PPTP start request within 10 s")]


def test_server_answers_call_clear_and_link_info() -> None:
    s = server()
    feed(s, StartControlConnectionRequest(), OutgoingCallRequest(call_id=CLIENT_CALL_ID))
    sent(s)
    events(s)
    feed(s, SetLinkInfo(peer_call_id=SERVER_CALL_ID, send_accm=0, receive_accm=0))
    assert events(s) == [LinkInfoReceived(0, 0)]
    feed(s, CallClearRequest(call_id=CLIENT_CALL_ID))
    assert sent(s) == [CallDisconnectNotify(call_id=SERVER_CALL_ID, result_code=4)]
    assert events(s) == [CallCleared("the client hung up the call", by_peer=True)]
    assert s.call_state is CallState.IDLE
    feed(s, StopControlConnectionRequest(reason=1))
    assert sent(s) == [StopControlConnectionReply(result_code=1)]
    assert events(s) == [ControlClosed("the client closed the connection", by_peer=True)]


def test_server_close_sends_disconnect_notify_then_stop() -> None:
    s = server()
    feed(s, StartControlConnectionRequest(), OutgoingCallRequest(call_id=CLIENT_CALL_ID))
    sent(s)
    events(s)
    s.close(3.0, "the gateway is shutting down")
    assert sent(s) == [
        CallDisconnectNotify(call_id=SERVER_CALL_ID, result_code=3),
        StopControlConnectionRequest(reason=1),
    ]
    assert events(s) == [CallCleared("the gateway is shutting down")]
    feed(s, StopControlConnectionReply())
    assert events(s) == [ControlClosed("the gateway is shutting down")]


def test_server_ignores_client_only_messages() -> None:
    s = server()
    feed(s, StartControlConnectionRequest(), StartControlConnectionReply(), OutgoingCallReply())
    assert s.stats.unexpected == 2
