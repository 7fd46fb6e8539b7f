"""L2TPConnection against a hand-played peer: message contents, error paths, teardown rules."""

from __future__ import annotations

import hashlib
import itertools

import pytest

from wizard.engine.errors import LocalProtocolError
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
from wizard.engine.l2tp.avp import AVP, ResultCode
from wizard.engine.l2tp.constants import AVPType, CDNResult, GeneralError, MessageType, StopCCNResult
from wizard.engine.l2tp.header import L2TPHeader, control_header, decode_header, encode_message
from wizard.engine.l2tp.messages import ControlMessage, avp, decode_control, u16_avp, u32_avp

PEER_TID = 0x4444
PEER_SID = 0x5555


def counting_random() -> L2TPConfig:
    counter = itertools.count(1)
    return L2TPConfig(
        random_bytes=lambda n: bytes((next(counter) + i) % 256 for i in range(n)),
        peer_address="192.0.2.1",
        local_tunnel_id=0x1111,
    )


class Peer:
    """Plays the other end by hand: numbers its messages and decodes ours."""

    def __init__(self, conn: L2TPConnection, secret: bytes | None = None) -> None:
        self.conn = conn
        self.secret = secret
        self.ns = 0
        self.nr = 0
        self.now = 0.0

    def sent(self) -> list[tuple[L2TPHeader, ControlMessage | None, bytes]]:
        out = []
        for d in self.conn.datagrams_to_send():
            header, payload = decode_header(d)
            msg = decode_control(payload, self.secret) if header.is_control else None
            if header.is_control and msg is not None:
                self.nr = (header.ns or 0) + 1
            out.append((header, msg, payload))
        return out

    def messages(self) -> list[ControlMessage]:
        return [m for h, m, _ in self.sent() if m is not None]

    def send(self, msg_type: int, avps: list[AVP], session_id: int = 0, tunnel_id: int | None = None) -> None:
        body = ControlMessage.build(msg_type, avps).encode(self.secret, lambda n: b"\x07" * n)
        self.send_raw(body, session_id, tunnel_id)

    def send_raw(self, body: bytes, session_id: int = 0, tunnel_id: int | None = None) -> None:
        tid = self.conn.local_tunnel_id if tunnel_id is None else tunnel_id
        datagram = encode_message(control_header(tid, session_id, self.ns, self.nr), body)
        self.ns += 1
        self.conn.receive_datagram(datagram, self.now)

    def events(self) -> list[Event]:
        out = []
        while (e := self.conn.next_event()) is not None:
            out.append(e)
        return out


def sccrp_avps(*extra: AVP, framing: int = 3) -> list[AVP]:
    return [
        avp(AVPType.PROTOCOL_VERSION, b"\x01\x00"),
        u32_avp(AVPType.FRAMING_CAPABILITIES, framing),
        avp(AVPType.HOST_NAME, b"lns"),
        u16_avp(AVPType.ASSIGNED_TUNNEL_ID, PEER_TID),
        u16_avp(AVPType.RECEIVE_WINDOW_SIZE, 4),
        *extra,
    ]


def lac_up(config: L2TPConfig | None = None) -> tuple[L2TPConnection, Peer]:
    """A LAC whose tunnel and session are established against the scripted peer."""
    lac = L2TPConnection("lac", config or counting_random())
    peer = Peer(lac)
    lac.connect(0.0)
    peer.sent()
    peer.send(MessageType.SCCRP, sccrp_avps())
    peer.sent()
    session_id = next(iter(lac.sessions))
    peer.send(MessageType.ICRP, [u16_avp(AVPType.ASSIGNED_SESSION_ID, PEER_SID)], session_id=session_id)
    peer.sent()
    return lac, peer


def result_of(msg: ControlMessage) -> ResultCode | None:
    return msg.result_code()


# --- what the LAC sends --------------------------------------------------------------------------


def test_sccrq_carries_what_xl2tpd_and_windows_send() -> None:
    lac = L2TPConnection("lac", L2TPConfig(host_name="laptop", local_tunnel_id=0x1111))
    lac.connect(0.0)
    ((header, msg, _),) = Peer(lac).sent()
    assert (header.tunnel_id, header.session_id, header.ns, header.nr) == (0, 0, 0, 0)
    assert msg is not None and msg.msg_type == MessageType.SCCRQ
    present = {a.attr_type: a for a in msg.avps}
    for attr in (
        AVPType.PROTOCOL_VERSION,
        AVPType.HOST_NAME,
        AVPType.FRAMING_CAPABILITIES,
        AVPType.BEARER_CAPABILITIES,
        AVPType.FIRMWARE_REVISION,
        AVPType.VENDOR_NAME,
        AVPType.ASSIGNED_TUNNEL_ID,
        AVPType.RECEIVE_WINDOW_SIZE,
    ):
        assert attr in present, attr
    assert msg.u32(AVPType.FRAMING_CAPABILITIES) == 3  # sync + async
    assert msg.text(AVPType.HOST_NAME) == "laptop"
    assert msg.u16(AVPType.ASSIGNED_TUNNEL_ID) == 0x1111
    assert not present[AVPType.VENDOR_NAME].mandatory and present[AVPType.HOST_NAME].mandatory
    assert AVPType.CHALLENGE not in present


def test_sccrq_has_challenge_with_secret() -> None:
    lac = L2TPConnection("lac", L2TPConfig(secret="s"))
    lac.connect(0.0)
    (msg,) = Peer(lac).messages()
    challenge = msg.raw(AVPType.CHALLENGE)
    assert challenge is not None and len(challenge) == 16


def test_icrq_and_iccn_contents() -> None:
    lac = L2TPConnection("lac", counting_random())
    peer = Peer(lac)
    lac.connect(0.0)
    peer.sent()
    peer.send(MessageType.SCCRP, sccrp_avps())
    sent = peer.sent()
    assert [m.msg_type for _, m, _ in sent if m] == [MessageType.SCCCN, MessageType.ICRQ]
    icrq_header, icrq, _ = sent[1]
    assert icrq is not None
    assert (icrq_header.tunnel_id, icrq_header.session_id) == (PEER_TID, 0)
    local_sid = icrq.u16(AVPType.ASSIGNED_SESSION_ID)
    assert local_sid in lac.sessions
    assert icrq.u32(AVPType.CALL_SERIAL_NUMBER) == 1
    assert icrq.u32(AVPType.BEARER_TYPE) == 0
    assert [type(e) for e in peer.events()] == [TunnelUp]

    assert local_sid is not None
    peer.send(MessageType.ICRP, [u16_avp(AVPType.ASSIGNED_SESSION_ID, PEER_SID)], session_id=local_sid)
    ((iccn_header, iccn, _),) = peer.sent()
    assert iccn is not None and iccn.msg_type == MessageType.ICCN
    assert (iccn_header.tunnel_id, iccn_header.session_id) == (PEER_TID, PEER_SID)
    assert iccn.u32(AVPType.TX_CONNECT_SPEED) == 100_000_000
    assert iccn.u32(AVPType.FRAMING_TYPE) == 1  # synchronous: the peer can do it
    assert not iccn.has(AVPType.SEQUENCING_REQUIRED)
    assert peer.events() == [SessionUp(local_sid, PEER_SID, False)]


def test_iccn_uses_async_framing_when_the_server_only_offers_async() -> None:
    lac = L2TPConnection("lac", counting_random())
    peer = Peer(lac)
    lac.connect(0.0)
    peer.sent()
    peer.send(MessageType.SCCRP, sccrp_avps(framing=2))
    peer.sent()
    peer.send(MessageType.ICRP, [u16_avp(AVPType.ASSIGNED_SESSION_ID, PEER_SID)], session_id=next(iter(lac.sessions)))
    (iccn,) = peer.messages()
    assert iccn.u32(AVPType.FRAMING_TYPE) == 2


def test_sequencing_required_is_requested_when_configured() -> None:
    cfg = L2TPConfig(data_sequencing=True, local_tunnel_id=9)
    lac = L2TPConnection("lac", cfg)
    peer = Peer(lac)
    lac.connect(0.0)
    peer.sent()
    peer.send(MessageType.SCCRP, sccrp_avps())
    peer.sent()
    peer.send(MessageType.ICRP, [u16_avp(AVPType.ASSIGNED_SESSION_ID, PEER_SID)], session_id=next(iter(lac.sessions)))
    (iccn,) = peer.messages()
    assert iccn.has(AVPType.SEQUENCING_REQUIRED)
    lac.send_ppp(b"\xff\x03x")
    ((h, _, _),) = peer.sent()
    assert h.ns == 0 and h.nr == 0


# --- unknown and malformed input -----------------------------------------------------------------


def test_unknown_optional_avp_is_ignored() -> None:
    lac = L2TPConnection("lac", counting_random())
    peer = Peer(lac)
    lac.connect(0.0)
    peer.sent()
    peer.send(MessageType.SCCRP, sccrp_avps(AVP(200, b"??"), AVP(5, b"x", vendor_id=9)))
    assert lac.state is TunnelState.ESTABLISHED


@pytest.mark.parametrize(
    ("bad", "text"),
    [(AVP(200, b"??", mandatory=True), "attribute 200"), (AVP(5, b"x", mandatory=True, vendor_id=9), "vendor 9")],
)
def test_unknown_mandatory_avp_in_tunnel_message_tears_down_tunnel(bad: AVP, text: str) -> None:
    lac = L2TPConnection("lac", counting_random())
    peer = Peer(lac)
    lac.connect(0.0)
    peer.sent()
    peer.send(MessageType.SCCRP, sccrp_avps(bad))
    (stop,) = peer.messages()
    assert stop.msg_type == MessageType.STOPCCN
    code = result_of(stop)
    assert code is not None and (code.result, code.error) == (
        StopCCNResult.GENERAL_ERROR,
        GeneralError.UNKNOWN_MANDATORY_AVP,
    )
    (closed,) = peer.events()
    assert isinstance(closed, TunnelClosed) and text in closed.reason and "SCCRP" in closed.reason
    assert lac.state is TunnelState.CLOSING


def test_unknown_mandatory_avp_in_session_message_closes_the_session() -> None:
    lac = L2TPConnection("lac", L2TPConfig(local_tunnel_id=3, close_tunnel_with_session=False))
    peer = Peer(lac)
    lac.connect(0.0)
    peer.sent()
    peer.send(MessageType.SCCRP, sccrp_avps())
    peer.sent()
    peer.events()
    sid = next(iter(lac.sessions))
    peer.send(
        MessageType.ICRP,
        [u16_avp(AVPType.ASSIGNED_SESSION_ID, PEER_SID), AVP(300, b"", mandatory=True)],
        session_id=sid,
    )
    (cdn,) = peer.messages()
    assert cdn.msg_type == MessageType.CDN
    code = result_of(cdn)
    assert code is not None and (code.result, code.error) == (
        CDNResult.GENERAL_ERROR,
        GeneralError.UNKNOWN_MANDATORY_AVP,
    )
    (closed,) = peer.events()
    assert isinstance(closed, SessionClosed) and "attribute 300" in closed.reason
    assert lac.state is TunnelState.ESTABLISHED and not lac.sessions


def test_unknown_message_type_with_m_bit_closes_tunnel_without_is_ignored() -> None:
    lac, peer = lac_up()
    peer.events()
    peer.send_raw(ControlMessage((AVP(AVPType.MESSAGE_TYPE, b"\x00\x63", mandatory=False),)).encode())
    assert lac.state is TunnelState.ESTABLISHED and lac.stats.ignored_messages == 1
    peer.send(99, [])
    (stop,) = peer.messages()
    assert stop.msg_type == MessageType.STOPCCN
    (closed,) = [e for e in peer.events() if isinstance(e, TunnelClosed)]
    assert "message type 99" in closed.reason


def test_hidden_avp_without_secret_gives_a_clear_reason() -> None:
    lac = L2TPConnection("lac", counting_random())
    peer = Peer(lac, secret=b"server-only")
    lac.connect(0.0)
    peer.sent()
    peer.send(MessageType.SCCRP, sccrp_avps(avp(AVPType.CALLING_NUMBER, b"1", hidden=True)))
    closed = [e for e in peer.events() if isinstance(e, TunnelClosed)]
    assert closed and "hidden attributes" in closed[0].reason and "no tunnel secret is configured" in closed[0].reason


def test_wrong_length_known_avp_is_a_malformed_message_with_stopccn() -> None:
    lac = L2TPConnection("lac", counting_random())
    peer = Peer(lac)
    lac.connect(0.0)
    peer.sent()
    peer.send(MessageType.SCCRP, sccrp_avps(avp(AVPType.RECEIVE_WINDOW_SIZE, b"\x00\x00\x04")))
    (stop,) = peer.messages()
    code = result_of(stop)
    assert code is not None and code.error == GeneralError.BAD_LENGTH
    (closed,) = peer.events()
    assert isinstance(closed, TunnelClosed) and "malformed" in closed.reason


def test_protocol_version_mismatch() -> None:
    lac = L2TPConnection("lac", counting_random())
    peer = Peer(lac)
    lac.connect(0.0)
    peer.sent()
    avps = sccrp_avps()
    avps[0] = avp(AVPType.PROTOCOL_VERSION, b"\x02\x00")
    peer.send(MessageType.SCCRP, avps)
    (stop,) = peer.messages()
    code = result_of(stop)
    assert code is not None and code.result == StopCCNResult.BAD_PROTOCOL_VERSION


def test_garbage_wrong_tunnel_and_unknown_session_are_counted() -> None:
    lac, peer = lac_up()
    lac.receive_datagram(b"\x00", 1.0)
    lac.receive_datagram(b"\xc8\x02\x00\x0c\x00", 1.0)
    lac.receive_datagram(encode_message(control_header(0x9999, 0, 0, 0)), 1.0)
    lac.receive_datagram(encode_message(L2TPHeader(False, lac.local_tunnel_id, 0x7777), b"\xff\x03"), 1.0)
    # a well-formed header whose AVP body is broken: dropped without consuming a sequence number
    lac.receive_datagram(encode_message(control_header(lac.local_tunnel_id, 0, peer.ns, peer.nr), b"\x80\x07"), 1.0)
    assert lac.stats.malformed_dropped == 3
    assert lac.stats.wrong_tunnel_dropped == 1
    assert lac.stats.unknown_session_dropped == 1
    assert lac.state is TunnelState.ESTABLISHED
    peer.send(MessageType.HELLO, [])  # the next in-sequence message is still accepted
    assert lac.stats.control_received == 3


# --- API misuse ----------------------------------------------------------------------------------


def test_api_misuse_raises_local_protocol_error() -> None:
    lac = L2TPConnection("lac", counting_random())
    with pytest.raises(LocalProtocolError):
        lac.send_ppp(b"x")
    lac.connect(0.0)
    with pytest.raises(LocalProtocolError):
        lac.connect(0.0)
    with pytest.raises(LocalProtocolError):
        L2TPConnection("lns").connect(0.0)
    with pytest.raises(ValueError):
        L2TPConnection("pptp")  # type: ignore[arg-type]


# --- data ----------------------------------------------------------------------------------------


def test_data_with_offset_and_sequence_from_lns() -> None:
    lac, peer = lac_up()
    sid = next(iter(lac.sessions))
    peer.events()
    hdr = L2TPHeader(False, lac.local_tunnel_id, sid, ns=10, nr=0, offset_size=3)
    lac.receive_datagram(encode_message(hdr, b"\xff\x03one"), 2.0)
    late = L2TPHeader(False, lac.local_tunnel_id, sid, ns=9, nr=0)
    lac.receive_datagram(encode_message(late, b"\xff\x03late"), 2.0)
    assert peer.events() == [PPPFrameReceived(b"\xff\x03one", sid)]
    assert lac.stats.data_out_of_order_dropped == 1
    lac.send_ppp(b"\xff\x03up")
    ((h, _, payload),) = peer.sent()
    assert (h.tunnel_id, h.session_id, h.ns, payload) == (PEER_TID, PEER_SID, 0, b"\xff\x03up")
    # the LNS turns sequencing off again: the LAC follows
    lac.receive_datagram(encode_message(L2TPHeader(False, lac.local_tunnel_id, sid), b"\xff\x03two"), 2.1)
    lac.send_ppp(b"\xff\x03up")
    ((h, _, _),) = peer.sent()
    assert h.ns is None


def test_oversized_frame_is_a_local_error() -> None:
    lac, _ = lac_up()
    with pytest.raises(LocalProtocolError):
        lac.send_ppp(bytes(70000))


# --- teardown by the peer ------------------------------------------------------------------------


def test_stopccn_is_acked_at_once_and_lingers_for_retransmissions() -> None:
    lac, peer = lac_up(L2TPConfig(local_tunnel_id=5, stop_linger=10.0, peer_address="192.0.2.1"))
    peer.events()
    peer.now = 3.0
    stop_avps = [u16_avp(AVPType.ASSIGNED_TUNNEL_ID, PEER_TID), avp(AVPType.RESULT_CODE, ResultCode(6).encode())]
    peer.send(MessageType.STOPCCN, stop_avps)
    ((h, msg, _),) = peer.sent()
    assert msg is None and h.nr == peer.ns  # immediate ZLB
    events = peer.events()
    assert isinstance(events[0], SessionClosed) and events[0].by_peer
    assert events[-1] == TunnelClosed(
        "the L2TP server at 192.0.2.1 closed the tunnel: it is shutting down", by_peer=True, result_code=6
    )
    peer.ns -= 1  # the peer missed our ack and retransmits
    peer.send(MessageType.STOPCCN, stop_avps)
    assert len(peer.sent()) == 1 and peer.events() == []
    assert lac.get_timer() == 13.0
    lac.handle_timer(13.0)
    assert lac.finished and lac.get_timer() is None


def test_cdn_reason_includes_q931_cause() -> None:
    lac, peer = lac_up()
    peer.events()
    sid = next(iter(lac.sessions))
    peer.send(
        MessageType.CDN,
        [
            avp(AVPType.RESULT_CODE, ResultCode(CDNResult.BUSY).encode()),
            u16_avp(AVPType.ASSIGNED_SESSION_ID, PEER_SID),
            avp(AVPType.Q931_CAUSE_CODE, b"\x00\x11\x00user busy"),
        ],
        session_id=sid,
    )
    closed = peer.events()[0]
    assert isinstance(closed, SessionClosed)
    assert (
        closed.reason == "the L2TP server at 192.0.2.1 hung up the call: the line was busy (Q.931 cause 17: user busy)"
    )


def test_cdn_with_zero_session_id_is_matched_by_assigned_session_id() -> None:
    lac, peer = lac_up(L2TPConfig(local_tunnel_id=5, close_tunnel_with_session=False))
    peer.events()
    peer.send(
        MessageType.CDN,
        [avp(AVPType.RESULT_CODE, ResultCode(1).encode()), u16_avp(AVPType.ASSIGNED_SESSION_ID, PEER_SID)],
    )
    (closed,) = peer.events()
    assert isinstance(closed, SessionClosed) and closed.result_code == 1 and not lac.sessions


def test_session_setup_timeout() -> None:
    lac = L2TPConnection("lac", L2TPConfig(local_tunnel_id=5, setup_timeout=20.0, hello_interval=None))
    peer = Peer(lac)
    lac.connect(0.0)
    peer.sent()
    peer.send(MessageType.SCCRP, sccrp_avps())
    peer.sent()
    peer.send(MessageType.HELLO, [])  # acks the ICRQ but never answers it
    peer.events()
    t = lac.get_timer()
    while t is not None and t < 20.0:
        lac.handle_timer(t)
        t = lac.get_timer()
    assert t == 20.0
    lac.handle_timer(20.0)
    kinds = [m.msg_type for m in peer.messages()]
    assert MessageType.CDN in kinds
    closed = [e for e in peer.events() if isinstance(e, SessionClosed)]
    assert closed and "did not complete the call setup in time" in closed[0].reason


# --- the LNS side --------------------------------------------------------------------------------


def sccrq_avps(*extra: AVP) -> list[AVP]:
    return [
        avp(AVPType.PROTOCOL_VERSION, b"\x01\x00"),
        u32_avp(AVPType.FRAMING_CAPABILITIES, 3),
        avp(AVPType.HOST_NAME, b"win-client"),
        u16_avp(AVPType.ASSIGNED_TUNNEL_ID, PEER_TID),
        *extra,
    ]


def test_lns_answers_sccrq_with_challenge_response() -> None:
    lns = L2TPConnection("lns", L2TPConfig(secret="pw", local_tunnel_id=0x2222))
    peer = Peer(lns)
    challenge = b"0123456789abcdef"
    peer.send(MessageType.SCCRQ, sccrq_avps(avp(AVPType.CHALLENGE, challenge)), tunnel_id=0)
    ((h, sccrp, _),) = peer.sent()
    assert sccrp is not None and sccrp.msg_type == MessageType.SCCRP
    assert (h.tunnel_id, h.ns, h.nr) == (PEER_TID, 0, 1)
    assert sccrp.raw(AVPType.CHALLENGE_RESPONSE) == hashlib.md5(b"\x02pw" + challenge).digest()
    their = sccrp.raw(AVPType.CHALLENGE)
    assert their is not None
    assert lns.state is TunnelState.WAIT_CTL_CONN
    # a retransmitted SCCRQ (tunnel id 0 again) is acked, not answered twice
    peer.ns -= 1
    peer.send(MessageType.SCCRQ, sccrq_avps(avp(AVPType.CHALLENGE, challenge)), tunnel_id=0)
    ((h, zlb, _),) = peer.sent()
    assert zlb is None
    peer.send(MessageType.SCCCN, [avp(AVPType.CHALLENGE_RESPONSE, hashlib.md5(b"\x03pw" + their).digest())])
    assert lns.state is TunnelState.ESTABLISHED
    assert peer.events() == [TunnelUp("win-client", PEER_TID, 0x2222, "")]


def test_lns_without_tunnel_id_in_sccrq_refuses() -> None:
    lns = L2TPConnection("lns", L2TPConfig(local_tunnel_id=0x2222))
    peer = Peer(lns)
    peer.send(MessageType.SCCRQ, sccrq_avps()[:3], tunnel_id=0)
    (stop,) = peer.messages()
    assert stop.msg_type == MessageType.STOPCCN
    (closed,) = peer.events()
    assert isinstance(closed, TunnelClosed) and "did not assign a tunnel id" in closed.reason


def test_lns_ignores_non_sccrq_first_messages_for_other_tunnels() -> None:
    lns = L2TPConnection("lns", L2TPConfig(local_tunnel_id=0x2222))
    Peer(lns).send(MessageType.HELLO, [], tunnel_id=0x3333)
    assert lns.stats.wrong_tunnel_dropped == 1 and lns.state is TunnelState.IDLE


def test_lns_session_setup_and_sequencing_required() -> None:
    lns = L2TPConnection("lns", L2TPConfig(local_tunnel_id=0x2222))
    peer = Peer(lns)
    peer.send(MessageType.SCCRQ, sccrq_avps(), tunnel_id=0)
    peer.sent()
    peer.send(MessageType.SCCCN, [])
    peer.send(
        MessageType.ICRQ,
        [u16_avp(AVPType.ASSIGNED_SESSION_ID, PEER_SID), u32_avp(AVPType.CALL_SERIAL_NUMBER, 1)],
    )
    ((h, icrp, _),) = peer.sent()
    assert icrp is not None and icrp.msg_type == MessageType.ICRP and h.session_id == PEER_SID
    sid = icrp.u16(AVPType.ASSIGNED_SESSION_ID)
    assert sid is not None
    peer.send(
        MessageType.ICCN,
        [
            u32_avp(AVPType.TX_CONNECT_SPEED, 10**6),
            u32_avp(AVPType.FRAMING_TYPE, 1),
            avp(AVPType.SEQUENCING_REQUIRED, b""),
        ],
        session_id=sid,
    )
    assert peer.events()[-1] == SessionUp(sid, PEER_SID, True)
    lns.send_ppp(b"\xff\x03a")
    lns.send_ppp(b"\xff\x03b")
    assert [h.ns for h, _, _ in peer.sent() if not h.is_control] == [0, 1]


def test_stopccn_refusing_the_sccrq_is_acked_to_the_servers_tunnel() -> None:
    lac = L2TPConnection("lac", counting_random())
    peer = Peer(lac)
    lac.connect(0.0)
    peer.sent()
    refusal = [u16_avp(AVPType.ASSIGNED_TUNNEL_ID, PEER_TID), avp(AVPType.RESULT_CODE, ResultCode(4).encode())]
    peer.send(MessageType.STOPCCN, refusal)
    ((h, msg, _),) = peer.sent()
    assert msg is None and h.tunnel_id == PEER_TID
    (closed,) = peer.events()
    assert isinstance(closed, TunnelClosed) and closed.by_peer and closed.result_code == 4
    assert "check the tunnel secret" in closed.reason


def test_user_closing_the_only_call_closes_a_client_tunnel_too() -> None:
    lac, peer = lac_up()
    peer.events()
    lac.close_session(1.0, reason="bye")
    assert [m.msg_type for m in peer.messages()] == [MessageType.CDN, MessageType.STOPCCN]
    events = peer.events()
    assert [type(e) for e in events] == [SessionClosed, TunnelClosed]
    assert events[1] == TunnelClosed("bye", result_code=1)


def test_can_send_ppp_tracks_the_session() -> None:
    lac = L2TPConnection("lac", counting_random())
    assert not lac.can_send_ppp
    lac, _ = lac_up()
    assert lac.can_send_ppp
    lac.close(1.0)
    assert not lac.can_send_ppp
    with pytest.raises(LocalProtocolError):
        lac.send_ppp(b"\xff\x03")
