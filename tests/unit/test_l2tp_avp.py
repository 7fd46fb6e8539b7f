"""AVP codec, hiding and control-message helpers (RFC 2661 sections 4.1-4.4)."""

from __future__ import annotations

import pytest

from wizard.engine.errors import ParseError
from wizard.engine.l2tp.avp import (
    AVP,
    H_BIT,
    M_BIT,
    HiddenAVPError,
    ProtocolVersion,
    Q931Cause,
    ResultCode,
    decode_avps,
    encode_avps,
)
from wizard.engine.l2tp.constants import AVPType, MessageType
from wizard.engine.l2tp.messages import ControlMessage, avp, decode_control, u16_avp

SECRET = b"tunnel-secret"


def test_m_bit_and_vendor_round_trip() -> None:
    avps = [
        AVP(AVPType.MESSAGE_TYPE, b"\x00\x06", mandatory=True),
        AVP(7, b"vendor stuff", mandatory=False, vendor_id=311),
    ]
    raw = encode_avps(avps)
    assert int.from_bytes(raw[:2], "big") & M_BIT
    assert raw[10:12] == (311).to_bytes(2, "big")
    assert decode_avps(raw) == avps
    assert not decode_avps(raw)[1].is_known


def test_reserved_bits_make_an_avp_unrecognised() -> None:
    raw = bytearray(encode_avps([AVP(AVPType.HOST_NAME, b"h", mandatory=True)]))
    raw[0] |= 0x04
    (item,) = decode_avps(bytes(raw))
    assert item.reserved == 1 and not item.is_known
    assert encode_avps([item]) == bytes(raw)


def test_rfc_mandatory_flags_used_by_builder() -> None:
    assert avp(AVPType.HOST_NAME, b"x").mandatory
    assert not avp(AVPType.VENDOR_NAME, b"x").mandatory
    assert not avp(AVPType.FIRMWARE_REVISION, b"\x00\x01").mandatory
    assert avp(AVPType.SEQUENCING_REQUIRED, b"").mandatory


def test_hidden_avp_inserts_random_vector_after_message_type() -> None:
    msg = ControlMessage.build(MessageType.ICRQ, [u16_avp(AVPType.ASSIGNED_SESSION_ID, 0xBEEF, hidden=True)])
    raw = msg.encode(SECRET, lambda n: b"\x42" * n)
    decoded = decode_avps(raw, SECRET)
    assert [a.attr_type for a in decoded] == [AVPType.MESSAGE_TYPE, AVPType.RANDOM_VECTOR, AVPType.ASSIGNED_SESSION_ID]
    assert decoded[1].value == b"\x42" * 16
    assert decoded[2].hidden and decoded[2].value == b"\xbe\xef"
    flags = int.from_bytes(raw[8 + 22 : 8 + 22 + 2], "big")
    assert flags & H_BIT and flags & M_BIT
    assert b"\xbe\xef" not in raw[8 + 22 :]


def test_each_hidden_avp_uses_the_most_recent_vector() -> None:
    avps = [
        AVP(AVPType.MESSAGE_TYPE, b"\x00\x0a", mandatory=True),
        AVP(AVPType.RANDOM_VECTOR, b"A" * 16, mandatory=True),
        AVP(AVPType.ASSIGNED_SESSION_ID, b"\x00\x01", mandatory=True, hidden=True),
        AVP(AVPType.RANDOM_VECTOR, b"B" * 7, mandatory=True),
        AVP(AVPType.CALL_SERIAL_NUMBER, b"\x00\x00\x00\x02", mandatory=True, hidden=True),
    ]
    assert decode_avps(encode_avps(avps, SECRET), SECRET) == avps


def test_wrong_secret_or_no_secret_is_a_hidden_avp_error() -> None:
    msg = ControlMessage.build(MessageType.ICRQ, [avp(AVPType.CALLING_NUMBER, b"12345", hidden=True)])
    raw = msg.encode(SECRET, lambda n: bytes(range(n)))
    with pytest.raises(HiddenAVPError):
        decode_avps(raw, None)
    with pytest.raises(ParseError):  # HiddenAVPError is a ParseError
        decode_avps(raw, b"other secret")


def test_hidden_without_vector_is_an_error() -> None:
    raw = encode_avps([AVP(AVPType.MESSAGE_TYPE, b"\x00\x0a", mandatory=True)]) + bytes.fromhex("c008 0000 000e 1234")
    with pytest.raises(HiddenAVPError):
        decode_avps(raw, SECRET)


def test_message_type_and_random_vector_cannot_be_hidden() -> None:
    with pytest.raises(ValueError):
        encode_avps([AVP(AVPType.MESSAGE_TYPE, b"\x00\x01", mandatory=True, hidden=True)], SECRET, bytes)
    raw = bytes.fromhex("c008 0000 0000 0001")
    with pytest.raises(ParseError):
        decode_avps(raw, SECRET)


@pytest.mark.parametrize(
    "raw",
    [
        b"\x80",
        b"\x80\x05\x00\x00\x00\x00",  # length below the 6-byte header
        b"\x80\x09\x00\x00\x00\x07ab",  # value shorter than the length says
    ],
)
def test_malformed_avps(raw: bytes) -> None:
    with pytest.raises(ParseError):
        decode_avps(raw)


def test_result_code_variants() -> None:
    assert ResultCode.decode(b"\x00\x01") == ResultCode(1)
    assert ResultCode.decode(b"\x00\x02\x00\x08") == ResultCode(2, 8, "")
    assert ResultCode.decode(b"\x00\x02\x00\x06vendor says no") == ResultCode(2, 6, "vendor says no")
    assert ResultCode(4).encode() == b"\x00\x04"
    assert ResultCode(2, 8, "x").encode() == b"\x00\x02\x00\x08x"
    with pytest.raises(ParseError):
        ResultCode.decode(b"\x00\x02\x00")
    with pytest.raises(ParseError):
        ResultCode.decode(b"\x00")


def test_q931_and_protocol_version() -> None:
    assert Q931Cause.decode(Q931Cause(16, 0x45, "normal").encode()) == Q931Cause(16, 0x45, "normal")
    assert ProtocolVersion.decode(b"\x01\x00") == ProtocolVersion(1, 0)
    with pytest.raises(ParseError):
        Q931Cause.decode(b"\x00\x10")
    with pytest.raises(ParseError):
        ProtocolVersion.decode(b"\x01")


def test_control_message_must_start_with_message_type() -> None:
    with pytest.raises(ParseError):
        decode_control(encode_avps([AVP(AVPType.HOST_NAME, b"h", mandatory=True)]))
    with pytest.raises(ParseError):
        decode_control(encode_avps([AVP(AVPType.MESSAGE_TYPE, b"\x01", mandatory=True)]))


def test_validate_rejects_wrong_fixed_sizes() -> None:
    msg = ControlMessage.build(MessageType.SCCRQ, [avp(AVPType.ASSIGNED_TUNNEL_ID, b"\x00\x01\x02")])
    with pytest.raises(ParseError, match="ASSIGNED_TUNNEL_ID"):
        msg.validate()
    ok = ControlMessage.build(MessageType.SCCRQ, [AVP(99, b"\x00\x01\x02", mandatory=True)])
    ok.validate()  # unknown AVPs are not size-checked
    assert ok.unknown_mandatory() == AVP(99, b"\x00\x01\x02", mandatory=True)
    assert ok.missing() == [AVPType.PROTOCOL_VERSION, AVPType.ASSIGNED_TUNNEL_ID]


def test_unknown_optional_avp_is_not_reported() -> None:
    msg = ControlMessage.build(MessageType.HELLO, [AVP(200, b"", mandatory=False), AVP(1, b"xx", vendor_id=9)])
    assert msg.unknown_mandatory() is None
    assert msg.name == "HELLO"
    assert ControlMessage.build(77).name == "message type 77"
