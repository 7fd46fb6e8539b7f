"""PPP frame, control packet and option codecs."""

from __future__ import annotations

import pytest

from wizard.engine.errors import ParseError
from wizard.engine.ppp.frame import (
    PROTO_IPV4,
    PROTO_LCP,
    CPPacket,
    Frame,
    Option,
    build_cp_packet,
    build_frame,
    build_options,
    parse_cp_packet,
    parse_frame,
    parse_options,
    protocol_name,
)

# RFC 1661 section 5.1: an LCP Configure-Request, id 1, with MRU 1400 and magic 0x01020304,
# framed with address/control FF 03 and protocol C021 (octets written out by hand).
LCP_CONF_REQ_FRAME = bytes.fromhex("ff03c021" + "0101000e" + "01040578" + "050601020304")


def test_parse_rfc_example() -> None:
    frame = parse_frame(LCP_CONF_REQ_FRAME)
    assert frame.protocol == PROTO_LCP
    packet = parse_cp_packet(frame.information)
    assert packet == CPPacket(1, 1, bytes.fromhex("01040578050601020304"))
    assert parse_options(packet.data) == [Option(1, b"\x05\x78"), Option(5, b"\x01\x02\x03\x04")]
    assert build_frame(PROTO_LCP, build_cp_packet(1, 1, build_options(parse_options(packet.data)))) == (
        LCP_CONF_REQ_FRAME
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"\xff\x03\x00\x21abc", Frame(0x0021, b"abc")),  # full header
        (b"\x00\x21abc", Frame(0x0021, b"abc")),  # ACFC: no address/control
        (b"\x21abc", Frame(0x0021, b"abc")),  # ACFC and PFC
        (b"\xff\x03\x21abc", Frame(0x0021, b"abc")),  # PFC only
        (b"\xc0\x21", Frame(0xC021, b"")),  # empty information
    ],
)
def test_parse_frame_variants(raw: bytes, expected: Frame) -> None:
    assert parse_frame(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [b"", b"\xff", b"\xff\x03", b"\xff\x04\x00\x21", b"\x00", b"\x00\x20x", b"\xff\x03\xc0"],
)
def test_parse_frame_rejects_malformed(raw: bytes) -> None:
    with pytest.raises(ParseError):
        parse_frame(raw)


def test_build_frame_compression() -> None:
    assert build_frame(PROTO_IPV4, b"x") == b"\xff\x03\x00\x21x"
    assert build_frame(PROTO_IPV4, b"x", acfc=True) == b"\x00\x21x"
    assert build_frame(PROTO_IPV4, b"x", acfc=True, pfc=True) == b"\x21x"
    assert build_frame(PROTO_LCP, b"x", pfc=True) == b"\xff\x03\xc0\x21x"  # not compressible
    with pytest.raises(ValueError):
        build_frame(0x0020, b"")


def test_cp_packet_padding_is_ignored() -> None:
    assert parse_cp_packet(build_cp_packet(9, 3, b"abcd") + b"\x00\x00") == CPPacket(9, 3, b"abcd")


@pytest.mark.parametrize("raw", [b"", b"\x01\x01\x00", b"\x01\x01\x00\x03", b"\x01\x01\x00\x09abcd"])
def test_cp_packet_rejects_bad_lengths(raw: bytes) -> None:
    with pytest.raises(ParseError):
        parse_cp_packet(raw)


def test_options_roundtrip_and_errors() -> None:
    options = [Option(7, b""), Option(1, b"\x05\xdc"), Option(200, bytes(253))]
    assert parse_options(build_options(options)) == options
    for bad in (b"\x01", b"\x01\x01", b"\x01\x00", b"\x01\x05ab"):
        with pytest.raises(ParseError):
            parse_options(bad)
    with pytest.raises(ValueError):
        Option(1, bytes(254)).encode()


def test_protocol_names() -> None:
    assert protocol_name(PROTO_LCP) == "LCP"
    assert protocol_name(0x1234 | 1) == "protocol 0x1235"
