"""Hypothesis: L2TP parsers raise only ParseError; a connection never raises on received bytes."""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wizard.engine.errors import ParseError
from wizard.engine.l2tp import L2TPConfig, L2TPConnection
from wizard.engine.l2tp.avp import decode_avps
from wizard.engine.l2tp.builders import challenge_response
from wizard.engine.l2tp.constants import AVPType, MessageType
from wizard.engine.l2tp.header import L2TPHeader, control_header, decode_header, encode_message
from wizard.engine.l2tp.messages import FIXED_SIZES, ControlMessage, avp, decode_control, u16_avp, u32_avp

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SECRET = b"fuzz-secret"
PEER_TID = 0x4444

avp_types = st.one_of(st.sampled_from([int(t) for t in AVPType]), st.integers(0, 0xFFFF))


@st.composite
def raw_avp(draw: st.DrawFn) -> bytes:
    value = draw(st.binary(max_size=24))
    flags = draw(st.sampled_from([0, 0x8000, 0x4000, 0xC000, 0x0400]))
    length = len(value) + 6 if draw(st.booleans()) else draw(st.integers(0, 0x3FF))
    vendor = 0 if draw(st.booleans()) else draw(st.integers(0, 0xFFFF))
    attr = draw(avp_types)
    return (flags | (length & 0x3FF)).to_bytes(2, "big") + vendor.to_bytes(2, "big") + attr.to_bytes(2, "big") + value


@st.composite
def plausible_avp(draw: st.DrawFn) -> bytes:
    """A known AVP with a value of the right size, so messages get past validation."""
    attr = draw(st.sampled_from([t for t in AVPType if t != AVPType.MESSAGE_TYPE]))
    size = FIXED_SIZES.get(attr)
    if attr == AVPType.RESULT_CODE:
        value = draw(st.sampled_from([b"\x00\x01", b"\x00\x02\x00\x08oops", b"\x00\x04"]))
    elif attr == AVPType.ASSIGNED_SESSION_ID:
        value = draw(st.sampled_from([0, 0x5555, 1])).to_bytes(2, "big")
    else:
        value = draw(st.binary(min_size=size or 1, max_size=size or 12))
    flags = 0x8000 if draw(st.integers(0, 19)) else 0xC000
    return (flags | (len(value) + 6)).to_bytes(2, "big") + b"\x00\x00" + int(attr).to_bytes(2, "big") + value


@st.composite
def avp_body(draw: st.DrawFn) -> bytes:
    msg_type = draw(st.one_of(st.sampled_from([int(t) for t in MessageType]), st.integers(0, 0xFFFF)))
    first = bytes.fromhex("8008 0000 0000") + msg_type.to_bytes(2, "big")
    parts = draw(st.lists(st.one_of(plausible_avp(), plausible_avp(), plausible_avp(), raw_avp()), max_size=6))
    rest = b"".join(parts)
    return first + rest if draw(st.integers(0, 9)) else rest


@given(st.binary(max_size=64))
@FUZZ
def test_header_parser_raises_only_parse_error(data: bytes) -> None:
    with contextlib.suppress(ParseError):
        decode_header(data)


@given(st.one_of(st.binary(max_size=96), avp_body()), st.sampled_from([None, SECRET]))
@FUZZ
def test_avp_and_message_parsers_raise_only_parse_error(data: bytes, secret: bytes | None) -> None:
    with contextlib.suppress(ParseError):
        decode_avps(data, secret)
    try:
        msg = decode_control(data, secret)
        if msg is not None:
            msg.validate()
            msg.result_code()
            _ = (msg.name, msg.unknown_mandatory(), msg.missing())
    except ParseError:
        pass


def established_lac() -> tuple[L2TPConnection, int]:
    """A LAC with tunnel and session up against a scripted LNS; returns it and the next peer Ns."""
    lac = L2TPConnection("lac", L2TPConfig(local_tunnel_id=0x1111, secret=SECRET, random_bytes=lambda n: b"\x01" * n))
    lac.connect(0.0)
    sccrq = decode_control(decode_header(lac.datagrams_to_send()[0])[1])
    assert sccrq is not None
    challenge = sccrq.raw(AVPType.CHALLENGE)
    assert challenge is not None
    sccrp = ControlMessage.build(
        MessageType.SCCRP,
        [
            avp(AVPType.PROTOCOL_VERSION, b"\x01\x00"),
            u32_avp(AVPType.FRAMING_CAPABILITIES, 3),
            avp(AVPType.HOST_NAME, b"lns"),
            u16_avp(AVPType.ASSIGNED_TUNNEL_ID, PEER_TID),
            avp(AVPType.CHALLENGE_RESPONSE, challenge_response(2, SECRET, challenge)),
        ],
    )
    lac.receive_datagram(encode_message(control_header(0x1111, 0, 0, 1), sccrp.encode()), 0.1)
    sid = next(iter(lac.sessions))
    icrp = ControlMessage.build(MessageType.ICRP, [u16_avp(AVPType.ASSIGNED_SESSION_ID, 0x5555)])
    lac.receive_datagram(encode_message(control_header(0x1111, sid, 1, 3), icrp.encode()), 0.2)
    lac.datagrams_to_send()
    while lac.next_event() is not None:
        pass
    return lac, 2


@st.composite
def datagrams_for(draw: st.DrawFn, tunnel_id: int, next_ns: int, session_id: int = 0) -> bytes:
    kind = draw(st.sampled_from([0, 1, 2, 2, 2, 3]))
    if kind == 0:
        return draw(st.binary(max_size=80))
    if kind == 1:  # data message for the tunnel, random session and flags
        session = draw(st.sampled_from([session_id, draw(st.integers(0, 0xFFFF))]))
        seq = draw(st.one_of(st.none(), st.integers(0, 0xFFFF)))
        header = L2TPHeader(
            is_control=False,
            tunnel_id=tunnel_id,
            session_id=session,
            ns=seq,
            nr=None if seq is None else 0,
            has_length=draw(st.booleans()),
            offset_size=draw(st.one_of(st.none(), st.integers(0, 8))),
        )
        return encode_message(header, draw(st.binary(max_size=40)))
    ns = next_ns if draw(st.integers(0, 4)) else draw(st.integers(0, 0xFFFF))
    nr = draw(st.integers(0, 6))
    session = draw(st.sampled_from([0, session_id, draw(st.integers(0, 0xFFFF))]))
    body = draw(avp_body()) if kind == 2 else b""
    return encode_message(control_header(tunnel_id, session, ns, nr), body)


@given(st.data())
@FUZZ
def test_established_lac_never_raises_on_received_bytes(data: st.DataObject) -> None:
    lac, _ = established_lac()
    now = 1.0
    for _ in range(data.draw(st.integers(1, 5))):
        next_ns = lac._channel.nr  # aim most messages at the in-sequence slot so they are processed
        datagram = data.draw(datagrams_for(lac.local_tunnel_id, next_ns, next(iter(lac.sessions), 0)))
        lac.receive_datagram(datagram, now)
        now += 0.5
        timer = lac.get_timer()
        if timer is not None:
            lac.handle_timer(max(now, timer))
        assert all(isinstance(d, bytes) for d in lac.datagrams_to_send())
        while lac.next_event() is not None:
            pass


@given(st.lists(st.binary(max_size=80), min_size=1, max_size=4), st.sampled_from(["lac", "lns"]))
@FUZZ
def test_random_bytes_are_dropped_and_counted(blobs: list[bytes], role: str) -> None:
    conn = L2TPConnection(role, L2TPConfig(local_tunnel_id=0x1111))  # type: ignore[arg-type]
    if role == "lac":
        conn.connect(0.0)
    for blob in blobs:
        conn.receive_datagram(blob, 1.0)
    counted = conn.stats.malformed_dropped + conn.stats.wrong_tunnel_dropped + conn.stats.unknown_session_dropped
    handled = conn.stats.control_received + conn.stats.zlb_received
    assert counted + handled >= 1 or conn.finished


@given(st.data())
@FUZZ
def test_lns_never_raises_on_sccrq_like_input(data: st.DataObject) -> None:
    lns = L2TPConnection("lns", L2TPConfig(local_tunnel_id=0x2222, secret=data.draw(st.sampled_from([None, SECRET]))))
    for ns in range(data.draw(st.integers(1, 4))):
        body = data.draw(avp_body())
        lns.receive_datagram(encode_message(control_header(0, 0, ns, 0), body), float(ns))
        lns.handle_timer(float(ns) + 0.5)
        lns.datagrams_to_send()
        while lns.next_event() is not None:
            pass
