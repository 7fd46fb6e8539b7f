"""L2TPv2 header codec (RFC 2661 section 3.1)."""

from __future__ import annotations

import pytest

from wizard.engine.errors import ParseError
from wizard.engine.l2tp.header import L2TPHeader, control_header, decode_header, encode_message


def test_control_round_trip_sets_t_l_s() -> None:
    raw = encode_message(control_header(0x1111, 0x2222, 7, 9), b"\x80\x08\x00\x00\x00\x00\x00\x06")
    assert raw[:2] == b"\xc8\x02"
    assert int.from_bytes(raw[2:4], "big") == len(raw)
    header, payload = decode_header(raw)
    assert header == control_header(0x1111, 0x2222, 7, 9)
    assert payload.endswith(b"\x00\x06")


@pytest.mark.parametrize("length_bit", [False, True])
@pytest.mark.parametrize("seq", [None, 42])
def test_data_round_trip(length_bit: bool, seq: int | None) -> None:
    header = L2TPHeader(
        is_control=False, tunnel_id=3, session_id=4, ns=seq, nr=None if seq is None else 0, has_length=length_bit
    )
    raw = encode_message(header, b"\xff\x03\xc0\x21")
    assert decode_header(raw) == (header, b"\xff\x03\xc0\x21")
    assert len(raw) == 6 + (2 if length_bit else 0) + (4 if seq is not None else 0) + 4


def test_priority_bit_round_trips() -> None:
    header = L2TPHeader(is_control=False, tunnel_id=1, session_id=2, priority=True)
    raw = encode_message(header, b"x")
    assert raw[0] & 0x01 == 1 and raw[1] == 0x02
    assert decode_header(raw)[0].priority


def test_reserved_bits_are_ignored_on_receive() -> None:
    raw = bytearray(encode_message(L2TPHeader(is_control=False, tunnel_id=1, session_id=2), b"abc"))
    raw[0] |= 0x34  # x bits in the first octet
    raw[1] |= 0xF0
    header, payload = decode_header(bytes(raw))
    assert (header.tunnel_id, header.session_id, payload) == (1, 2, b"abc")


def test_length_shorter_than_datagram_trims_trailing_bytes() -> None:
    raw = encode_message(control_header(1, 0, 0, 0)) + b"padding"
    header, payload = decode_header(raw)
    assert payload == b"" and header.tunnel_id == 1


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\xc8",
        b"\xc8\x03\x00\x0c\x00\x01\x00\x00\x00\x00\x00\x00",  # version 3
        b"\xc8\x01\x00\x0c\x00\x01\x00\x00\x00\x00\x00\x00",  # version 1 (L2F)
        b"\x88\x02\x00\x01\x00\x00\x00\x00\x00\x00",  # control without L
        b"\xc0\x02\x00\x08\x00\x01\x00\x00",  # control without S
        b"\xca\x02\x00\x0e\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00",  # control with O
        b"\xc8\x02\x00\x40\x00\x01\x00\x00\x00\x00\x00\x00",  # Length beyond datagram
        b"\xc8\x02\x00\x04\x00\x01\x00\x00\x00\x00\x00\x00",  # Length shorter than header
        b"\x02\x02\x00\x01\x00\x02\x00\x10\x00",  # offset pad runs off the end
        b"\x08\x02\x00\x01\x00\x02\x00",  # truncated Ns/Nr
    ],
)
def test_malformed_headers_raise_parse_error(raw: bytes) -> None:
    with pytest.raises(ParseError):
        decode_header(raw)


def test_encode_refuses_control_without_sequence() -> None:
    with pytest.raises(ValueError):
        encode_message(L2TPHeader(is_control=True, tunnel_id=1, session_id=0))
