"""The control stream reassembler: arbitrary TCP chunking in, whole messages out."""

from __future__ import annotations

import random

import pytest

from wizard.engine.errors import ParseError
from wizard.engine.pptp.messages import (
    EchoReply,
    EchoRequest,
    OutgoingCallRequest,
    StartControlConnectionRequest,
    decode_message,
)
from wizard.engine.pptp.stream import ControlStreamReassembler

MESSAGES = [
    StartControlConnectionRequest(host_name="a"),
    EchoRequest(identifier=1),
    OutgoingCallRequest(call_id=5),
    EchoReply(identifier=1),
]
STREAM = b"".join(m.encode() for m in MESSAGES)


def _drain(r: ControlStreamReassembler) -> list[bytes]:
    out = []
    while (m := r.next_message()) is not None:
        out.append(m)
    return out


@pytest.mark.parametrize("seed", range(20))
def test_random_chunking_yields_the_same_messages(seed: int) -> None:
    rng = random.Random(seed)
    r = ControlStreamReassembler()
    got: list[bytes] = []
    pos = 0
    while pos < len(STREAM):
        n = rng.choice([1, 2, 3, 7, 16, 100, 400])
        r.feed(STREAM[pos : pos + n])
        pos += n
        got += _drain(r)
    assert [decode_message(m) for m in got] == MESSAGES
    assert r.buffered == 0


def test_byte_by_byte_returns_nothing_until_complete() -> None:
    r = ControlStreamReassembler()
    wire = EchoRequest(identifier=9).encode()
    for b in wire[:-1]:
        r.feed(bytes([b]))
        assert r.next_message() is None
    r.feed(wire[-1:])
    assert r.next_message() == wire


def test_bad_magic_cookie_breaks_the_stream_for_good() -> None:
    r = ControlStreamReassembler()
    good = EchoRequest(identifier=1).encode()
    bad = good[:4] + b"\x00\x00\x00\x00" + good[8:]
    r.feed(good + bad)
    assert r.next_message() == good
    with pytest.raises(ParseError, match="magic cookie"):
        r.next_message()
    assert r.broken
    r.feed(good)
    with pytest.raises(ParseError):
        r.next_message()


def test_bad_cookie_is_detected_before_the_whole_message_arrives() -> None:
    r = ControlStreamReassembler()
    r.feed(b"\x00\x9c\x00\x01HTTP")
    with pytest.raises(ParseError):
        r.next_message()


@pytest.mark.parametrize("length", [0, 11, 1025, 0xFFFF])
def test_implausible_length_breaks_the_stream(length: int) -> None:
    r = ControlStreamReassembler()
    r.feed(length.to_bytes(2, "big") + b"\x00\x01")
    with pytest.raises(ParseError, match="length"):
        r.next_message()


def test_one_huge_chunk_of_many_messages() -> None:
    r = ControlStreamReassembler()
    r.feed(STREAM * 500)  # ~180 kB in one read
    assert len(_drain(r)) == len(MESSAGES) * 500
    assert r.buffered == 0
