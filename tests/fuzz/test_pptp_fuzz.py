"""Hypothesis fuzzing of the PPTP parsers and of both connection objects' receive paths.

Parsers may only raise ParseError; PPTPControl.receive_data and GRESession.receive_packet never
raise at all, whatever arrives.
"""

from __future__ import annotations

import contextlib
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wizard.engine.errors import ParseError
from wizard.engine.pptp import GREPacket, GRESession, PPPFrameReceived, PPTPConfig, PPTPControl
from wizard.engine.pptp.messages import MESSAGE_CLASSES, ControlMessage, decode_message
from wizard.engine.pptp.stream import ControlStreamReassembler

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _field_strategy(kind: str, size: int) -> st.SearchStrategy[Any]:
    if kind == "str":
        return st.text(st.characters(min_codepoint=1, max_codepoint=0x7E), max_size=size)
    return st.integers(0, (1 << (8 * size)) - 1)


def _message_strategy(cls: type[ControlMessage]) -> st.SearchStrategy[ControlMessage]:
    fields = {f.name: _field_strategy(f.kind, f.size) for f in cls.FIELDS if f.kind in ("u8", "u16", "u32", "str")}
    return st.fixed_dictionaries(fields).map(lambda kw: cls(**kw))


messages = st.one_of([_message_strategy(cls) for cls in MESSAGE_CLASSES.values()])


@st.composite
def mutated(draw: st.DrawFn, base: st.SearchStrategy[bytes]) -> bytes:
    """A valid encoding with a few bytes flipped, cut short or extended."""
    data = bytearray(draw(base))
    for _ in range(draw(st.integers(0, 4))):
        if data:
            i = draw(st.integers(0, len(data) - 1))
            data[i] = draw(st.integers(0, 255))
    action = draw(st.sampled_from(["keep", "cut", "extend"]))
    if action == "cut":
        data = data[: draw(st.integers(0, len(data)))]
    elif action == "extend":
        data += draw(st.binary(max_size=16))
    return bytes(data)


# -- parsers --------------------------------------------------------------------------------


@FUZZ
@given(st.binary(max_size=300))
def test_control_parser_random_bytes(data: bytes) -> None:
    with contextlib.suppress(ParseError):
        decode_message(data)


@FUZZ
@given(mutated(messages.map(lambda m: m.encode())))
def test_control_parser_mutated_messages(data: bytes) -> None:
    try:
        message = decode_message(data)
    except ParseError:
        return
    # whatever decodes re-encodes to something that decodes to the same message
    assert decode_message(message.encode()) == message


@FUZZ
@given(messages)
def test_control_messages_round_trip(message: ControlMessage) -> None:
    wire = message.encode()
    assert len(wire) == type(message).wire_length()
    assert decode_message(wire) == message


gre_packets = st.builds(
    lambda call_id, payload, seq, ack: GREPacket(call_id, payload, seq if payload or seq is not None else None, ack),
    st.integers(0, 0xFFFF),
    st.binary(max_size=64),
    st.one_of(st.none(), st.integers(0, 0xFFFFFFFF)),
    st.one_of(st.none(), st.integers(0, 0xFFFFFFFF)),
).filter(lambda p: p.seq is not None or not p.payload)


@FUZZ
@given(st.binary(max_size=64))
def test_gre_parser_random_bytes(data: bytes) -> None:
    with contextlib.suppress(ParseError):
        GREPacket.decode(data)


@FUZZ
@given(mutated(gre_packets.map(lambda p: p.encode())))
def test_gre_parser_mutated_packets(data: bytes) -> None:
    try:
        packet = GREPacket.decode(data)
    except ParseError:
        return
    assert GREPacket.decode(packet.encode()) == packet


@FUZZ
@given(gre_packets)
def test_gre_round_trip(packet: GREPacket) -> None:
    assert GREPacket.decode(packet.encode()) == packet


@FUZZ
@given(st.lists(st.binary(max_size=200), max_size=10))
def test_reassembler_random_chunks(chunks: list[bytes]) -> None:
    r = ControlStreamReassembler()
    try:
        for chunk in chunks:
            r.feed(chunk)
            while (message := r.next_message()) is not None:
                assert len(message) >= 12
    except ParseError:
        assert r.broken


# -- connection receive paths ---------------------------------------------------------------


def _drive(conn: PPTPControl, inputs: list[bytes], times: list[float]) -> None:
    now = 0.0
    for data, dt in zip(inputs, times, strict=False):
        now += dt
        conn.receive_data(data, now)
        conn.data_to_send()
        while conn.next_event() is not None:
            pass
        timer = conn.get_timer()
        if timer is not None and timer <= now + dt:
            conn.handle_timer(max(now, timer))


def _connection(role: str, stage: int) -> PPTPControl:
    """A connection in one of several states: fresh, mid-handshake, or with a call up."""
    c = PPTPControl("client", PPTPConfig(call_id=5, echo_interval=1.0, echo_timeout=1.0))
    s = PPTPControl("server", PPTPConfig(call_id=9, echo_interval=1.0, echo_timeout=1.0))
    s.connect(0.0)
    if stage >= 1:
        c.connect(0.0)
    for _ in range(stage):
        s.receive_data(c.data_to_send(), 0.0)
        c.receive_data(s.data_to_send(), 0.0)
    return c if role == "client" else s


roles = st.sampled_from(["client", "server"])
stages = st.integers(0, 3)
gaps = st.lists(st.floats(0.0, 3.0), min_size=10, max_size=10)


@FUZZ
@given(roles, stages, st.lists(st.binary(max_size=200), max_size=8), gaps)
def test_control_receive_random_bytes_never_raises(
    role: str, stage: int, inputs: list[bytes], times: list[float]
) -> None:
    _drive(_connection(role, stage), inputs, times)


@FUZZ
@given(
    roles,
    stages,
    st.lists(st.one_of(messages.map(lambda m: m.encode()), mutated(messages.map(lambda m: m.encode()))), max_size=8),
    gaps,
)
def test_control_receive_random_messages_never_raises(
    role: str, stage: int, inputs: list[bytes], times: list[float]
) -> None:
    conn = _connection(role, stage)
    _drive(conn, inputs, times)
    conn.close(100.0, "done")
    conn.handle_timer(1000.0)


data_packets_for_us = st.builds(
    lambda seq, ack, payload: GREPacket(7, payload, seq=seq, ack=ack).encode(),
    st.integers(0, 80) | st.integers(0, 0xFFFFFFFF),
    st.none() | st.integers(0, 40) | st.integers(0, 0xFFFFFFFF),
    st.binary(min_size=1, max_size=8),
)


@FUZZ
@given(
    st.lists(st.one_of(data_packets_for_us, st.binary(max_size=40), mutated(data_packets_for_us)), max_size=40),
    st.lists(st.floats(0.0, 0.2), min_size=40, max_size=40),
)
def test_gre_receive_never_raises_and_accounts_for_every_packet(packets: list[bytes], gaps: list[float]) -> None:
    s = GRESession(7, 8, recv_window=16, peer_recv_window=4)
    now = 0.0
    for i, (data, dt) in enumerate(zip(packets, gaps, strict=False)):
        now += dt
        s.receive_packet(data, now)
        if i % 3 == 0:
            s.send_ppp(b"x", now)
        timer = s.get_timer()
        if timer is not None and timer <= now:
            s.handle_timer(now)
        s.datagrams_to_send()
    s.handle_timer(now + 100.0)
    delivered = 0
    while (e := s.next_event()) is not None:
        assert isinstance(e, PPPFrameReceived)
        delivered += 1
    st_ = s.stats
    assert delivered == st_.frames_delivered
    assert st_.packets_received == st_.frames_delivered + st_.empty + st_.duplicates + st_.too_old
    assert st_.packets_received + st_.malformed + st_.wrong_call_id <= len(packets)
