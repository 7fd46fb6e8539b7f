"""Hand-built L2TPv2 messages, byte by byte from the RFC 2661 tables, decoded and re-encoded."""

from __future__ import annotations

import hashlib

from wizard.engine.l2tp import L2TPConfig, L2TPConnection
from wizard.engine.l2tp.avp import AVP, decode_avps, encode_avps, hide_value, reveal_value
from wizard.engine.l2tp.constants import AVPType, MessageType
from wizard.engine.l2tp.header import L2TPHeader, decode_header, encode_message
from wizard.engine.l2tp.messages import decode_control

# RFC 2661 section 3.1 header (T=1 L=1 S=1, Ver=2 -> 0xC802), Length, Tunnel ID 0, Session ID 0,
# Ns 0, Nr 0; then the SCCRQ AVPs of section 6.1 in the formats of section 4.4:
SCCRQ_VECTOR = bytes.fromhex(
    "c802 0059 0000 0000 0000 0000"
    "8008 0000 0000 0001"  # 4.4.1 Message Type = 1 (SCCRQ), M=1
    "8008 0000 0002 0100"  # 4.4.3 Protocol Version 1, Revision 0, M=1
    "800a 0000 0003 00000003"  # 4.4.3 Framing Capabilities: A (async) + S (sync), M=1
    "800a 0000 0004 00000000"  # 4.4.3 Bearer Capabilities: none (no dial-out), M=1
    "0008 0000 0006 0100"  # 4.4.3 Firmware Revision 0x0100, M=0
    "8009 0000 0007 6c6163"  # 4.4.3 Host Name "lac", M=1
    "0008 0000 0008 4357"  # 4.4.3 Vendor Name "CW", M=0
    "8008 0000 0009 1234"  # 4.4.3 Assigned Tunnel ID 0x1234, M=1
    "8008 0000 000a 0004"  # 4.4.3 Receive Window Size 4, M=1
)

# Section 5.8: a ZLB ACK is a control header with no AVPs (Length 12): tunnel 0x1234, Ns 3, Nr 2.
ZLB_VECTOR = bytes.fromhex("c802 000c 1234 0000 0003 0002")

# Section 3.1 data message with L, S and O bits (0x4a02): Length 0x14, tunnel 7, session 9,
# Ns 5, Nr 0, Offset Size 2 + 2 pad bytes, then the PPP frame ff 03 c0 21.
DATA_WITH_OFFSET_VECTOR = bytes.fromhex("4a02 0014 0007 0009 0005 0000 0002 0000 ff03c021")

# Section 4.4.2 StopCCN AVPs: Message Type 4, Assigned Tunnel ID 0x0102, Result Code 1 with
# error code 0 and message "bye".
STOPCCN_AVPS_VECTOR = bytes.fromhex("8008 0000 0000 0004 8008 0000 0009 0102 800d 0000 0001 0001 0000 627965")


def test_sccrq_vector_decodes_to_the_table_values() -> None:
    header, payload = decode_header(SCCRQ_VECTOR)
    assert header == L2TPHeader(is_control=True, tunnel_id=0, session_id=0, ns=0, nr=0, has_length=True)
    msg = decode_control(payload)
    assert msg is not None
    msg.validate()
    assert msg.msg_type == MessageType.SCCRQ
    assert msg.text(AVPType.HOST_NAME) == "lac"
    assert msg.text(AVPType.VENDOR_NAME) == "CW"
    assert msg.u16(AVPType.ASSIGNED_TUNNEL_ID) == 0x1234
    assert msg.u16(AVPType.RECEIVE_WINDOW_SIZE) == 4
    assert msg.u32(AVPType.FRAMING_CAPABILITIES) == 3
    assert msg.get(AVPType.FIRMWARE_REVISION) == AVP(AVPType.FIRMWARE_REVISION, b"\x01\x00", mandatory=False)
    assert msg.unknown_mandatory() is None and msg.missing() == []


def test_sccrq_vector_reencodes_byte_exact() -> None:
    header, payload = decode_header(SCCRQ_VECTOR)
    msg = decode_control(payload)
    assert msg is not None
    assert encode_message(header, msg.encode()) == SCCRQ_VECTOR


def test_our_lac_sends_exactly_the_vector() -> None:
    cfg = L2TPConfig(host_name="lac", vendor_name="CW", local_tunnel_id=0x1234, firmware_revision=0x0100)
    lac = L2TPConnection("lac", cfg)
    lac.connect(0.0)
    assert lac.datagrams_to_send() == [SCCRQ_VECTOR]


def test_zlb_vector() -> None:
    header, payload = decode_header(ZLB_VECTOR)
    assert (header.tunnel_id, header.ns, header.nr, payload) == (0x1234, 3, 2, b"")
    assert decode_control(payload) is None
    assert encode_message(header) == ZLB_VECTOR


def test_data_with_offset_vector() -> None:
    header, payload = decode_header(DATA_WITH_OFFSET_VECTOR)
    assert not header.is_control
    assert (header.tunnel_id, header.session_id, header.ns, header.offset_size) == (7, 9, 5, 2)
    assert payload == bytes.fromhex("ff03c021")
    assert encode_message(header, payload) == DATA_WITH_OFFSET_VECTOR


def test_stopccn_avps_vector() -> None:
    avps = decode_avps(STOPCCN_AVPS_VECTOR)
    msg = decode_control(STOPCCN_AVPS_VECTOR)
    assert msg is not None and msg.msg_type == MessageType.STOPCCN
    code = msg.result_code()
    assert code is not None and (code.result, code.error, code.message) == (1, 0, "bye")
    assert encode_avps(avps) == STOPCCN_AVPS_VECTOR


# Section 4.3 hidden AVP: Assigned Session ID 0x1a2b hidden with secret "secret" and Random Vector
# 00 01 .. 0f. Expected bytes computed straight from the section's formula:
# b1 = MD5(type(2 octets) + secret + RV), c1 = (orig length 0x0002 + value) xor b1.
HIDE_SECRET = b"secret"
HIDE_VECTOR = bytes(range(16))


def _expected_hidden(attr: int, plain: bytes) -> bytes:
    b1 = hashlib.md5(attr.to_bytes(2, "big") + HIDE_SECRET + HIDE_VECTOR).digest()
    sub = len(plain).to_bytes(2, "big") + plain
    out = bytes(p ^ k for p, k in zip(sub[:16], b1, strict=False))
    prev = out
    for start in range(16, len(sub), 16):
        key = hashlib.md5(HIDE_SECRET + prev).digest()
        block = bytes(p ^ k for p, k in zip(sub[start : start + 16], key, strict=False))
        out += block
        prev = block
    return out


def test_hidden_avp_matches_the_section_4_3_formula() -> None:
    hidden = hide_value(AVPType.ASSIGNED_SESSION_ID, b"\x1a\x2b", HIDE_SECRET, HIDE_VECTOR)
    assert hidden == _expected_hidden(AVPType.ASSIGNED_SESSION_ID, b"\x1a\x2b")
    assert reveal_value(AVPType.ASSIGNED_SESSION_ID, hidden, HIDE_SECRET, HIDE_VECTOR) == b"\x1a\x2b"


def test_hidden_multi_block_avp_round_trip_on_the_wire() -> None:
    host = b"a-rather-long-host-name.example.org"  # 37-byte subformat: three MD5 blocks
    avps = [
        AVP(AVPType.MESSAGE_TYPE, b"\x00\x0a", mandatory=True),
        AVP(AVPType.RANDOM_VECTOR, HIDE_VECTOR, mandatory=True),
        AVP(AVPType.CALLING_NUMBER, host, mandatory=True, hidden=True),
    ]
    wire = encode_avps(avps, HIDE_SECRET)
    hidden_value = wire[8 + 22 + 6 :]
    assert hidden_value == _expected_hidden(AVPType.CALLING_NUMBER, host)
    assert wire[8 + 22 : 8 + 22 + 2] == (0xC000 | (6 + len(hidden_value))).to_bytes(2, "big")
    assert decode_avps(wire, HIDE_SECRET) == avps
    assert encode_avps(decode_avps(wire, HIDE_SECRET), HIDE_SECRET) == wire
