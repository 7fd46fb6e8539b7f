"""Hand-built PPTP control messages and enhanced GRE headers, decoded and re-encoded.

Byte layouts follow RFC 2637 section 2 (control messages) and section 4.1 (enhanced GRE). Every
vector is written out field by field, independently of the codec under test.
"""

from __future__ import annotations

import pytest

from wizard.engine.errors import ParseError
from wizard.engine.pptp.constants import MessageType, result_text
from wizard.engine.pptp.gre import GREPacket, strip_ipv4_header
from wizard.engine.pptp.messages import (
    CallClearRequest,
    CallDisconnectNotify,
    ControlMessage,
    EchoReply,
    EchoRequest,
    IncomingCallConnected,
    IncomingCallReply,
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


def _header(length: int, control_type: int) -> bytes:
    # RFC 2637 §1.4: Length, PPTP Message Type (1 = control), Magic Cookie, Control Type, Reserved0
    return (
        length.to_bytes(2, "big")
        + b"\x00\x01"
        + bytes.fromhex("1a2b3c4d")
        + control_type.to_bytes(2, "big")
        + b"\x00\x00"
    )


def _pad(text: bytes, size: int) -> bytes:
    return text.ljust(size, b"\x00")


# RFC 2637 §2.1 Start-Control-Connection-Request, as a Windows client sends it (156 octets)
SCCRQ = (
    _header(156, 1)
    + bytes.fromhex("0100 0000")  # protocol version 1.0, reserved1
    + bytes.fromhex("00000001 00000001")  # framing caps: async; bearer caps: analog
    + bytes.fromhex("0000 0a28")  # maximum channels 0, firmware revision 2600
    + _pad(b"DESKTOP-1", 64)
    + _pad(b"Microsoft", 64)
)

# RFC 2637 §2.2 Start-Control-Connection-Reply from a pptpd-like PAC (156 octets)
SCCRP = (
    _header(156, 2)
    + bytes.fromhex("0100 01 00")  # version 1.0, result 1 (established), error 0
    + bytes.fromhex("00000001 00000001")
    + bytes.fromhex("0001 0001")  # maximum channels 1, firmware revision 1
    + _pad(b"local", 64)
    + _pad(b"linux", 64)
)

# RFC 2637 §2.3 Stop-Control-Connection-Request: reason 3 (local shutdown) (16 octets)
STOPCCRQ = _header(16, 3) + bytes.fromhex("03 00 0000")

# RFC 2637 §2.4 Stop-Control-Connection-Reply: result 1 (OK) (16 octets)
STOPCCRP = _header(16, 4) + bytes.fromhex("01 00 0000")

# RFC 2637 §2.5 Echo-Request, identifier 0xdeadbeef (16 octets)
ECHO_REQUEST = _header(16, 5) + bytes.fromhex("deadbeef")

# RFC 2637 §2.6 Echo-Reply, same identifier, result 1 (20 octets)
ECHO_REPLY = _header(20, 6) + bytes.fromhex("deadbeef 01 00 0000")

# RFC 2637 §2.7 Outgoing-Call-Request as a Windows client sends it (168 octets)
OCRQ = (
    _header(168, 7)
    + bytes.fromhex("4a3b 0001")  # call ID 0x4a3b, call serial number 1
    + bytes.fromhex("0000012c 05f5e100")  # min BPS 300, max BPS 100000000
    + bytes.fromhex("00000003 00000003")  # bearer type any, framing type any
    + bytes.fromhex("0040 0000")  # packet receive window 64, processing delay 0
    + bytes.fromhex("0003 0000")  # phone number length 3, reserved1
    + _pad(b"123", 64)
    + _pad(b"", 64)
)

# RFC 2637 §2.8 Outgoing-Call-Reply: connected (32 octets)
OCRP = (
    _header(32, 8)
    + bytes.fromhex("0080 4a3b")  # call ID 128 (PAC's), peer's call ID 0x4a3b
    + bytes.fromhex("01 00 0000")  # result 1 connected, error 0, cause 0
    + bytes.fromhex("05f5e100")  # connect speed 100000000
    + bytes.fromhex("0040 0000")  # window 64, processing delay 0
    + bytes.fromhex("00000000")  # physical channel ID
)

# RFC 2637 §2.8 Outgoing-Call-Reply: busy (result 4)
OCRP_BUSY = (
    _header(32, 8) + bytes.fromhex("0000 4a3b 04 00 0000 00000000 0000 0000 00000000")
)

# RFC 2637 §2.9 Incoming-Call-Request (220 octets)
ICRQ = (
    _header(220, 9)
    + bytes.fromhex("0009 0002")  # call ID 9, serial 2
    + bytes.fromhex("00000001 00000005")  # bearer analog, physical channel 5
    + bytes.fromhex("0004 0005")  # dialed number length 4, dialing number length 5
    + _pad(b"5551", 64)
    + _pad(b"98765", 64)
    + _pad(b"", 64)
)

# RFC 2637 §2.10 Incoming-Call-Reply (24 octets)
ICRP = _header(24, 10) + bytes.fromhex("0011 0009 01 00 0010 0002 0000")

# RFC 2637 §2.11 Incoming-Call-Connected (28 octets)
ICCN = _header(28, 11) + bytes.fromhex("0011 0000 0000e100 0020 0001 00000001")

# RFC 2637 §2.12 Call-Clear-Request (16 octets)
CCRQ = _header(16, 12) + bytes.fromhex("4a3b 0000")

# RFC 2637 §2.13 Call-Disconnect-Notify: result 3 (admin shutdown), cause 16 (148 octets)
CDN = _header(148, 13) + bytes.fromhex("0080 03 00 0010 0000") + _pad(b"rx 10 tx 12", 128)

# RFC 2637 §2.14 WAN-Error-Notify (40 octets)
WEN = _header(40, 14) + bytes.fromhex(
    "4a3b 0000 00000001 00000002 00000003 00000004 00000005 00000006"
)

# RFC 2637 §2.15 Set-Link-Info with Windows' ACCMs (24 octets)
SLI = _header(24, 15) + bytes.fromhex("0080 0000 ffffffff ffffffff")


EXPECTED: list[tuple[bytes, ControlMessage]] = [
    (
        SCCRQ,
        StartControlConnectionRequest(
            protocol_version=0x0100,
            framing_capabilities=1,
            bearer_capabilities=1,
            maximum_channels=0,
            firmware_revision=2600,
            host_name="DESKTOP-1",
            vendor_string="Microsoft",
        ),
    ),
    (
        SCCRP,
        StartControlConnectionReply(
            result_code=1,
            maximum_channels=1,
            firmware_revision=1,
            host_name="local",
            vendor_string="linux",
        ),
    ),
    (STOPCCRQ, StopControlConnectionRequest(reason=3)),
    (STOPCCRP, StopControlConnectionReply(result_code=1)),
    (ECHO_REQUEST, EchoRequest(identifier=0xDEADBEEF)),
    (ECHO_REPLY, EchoReply(identifier=0xDEADBEEF, result_code=1)),
    (
        OCRQ,
        OutgoingCallRequest(
            call_id=0x4A3B,
            call_serial_number=1,
            minimum_bps=300,
            maximum_bps=100_000_000,
            bearer_type=3,
            framing_type=3,
            packet_recv_window_size=64,
            packet_processing_delay=0,
            phone_number="123",
        ),
    ),
    (
        OCRP,
        OutgoingCallReply(
            call_id=128, peer_call_id=0x4A3B, result_code=1, connect_speed=100_000_000
        ),
    ),
    (OCRP_BUSY, OutgoingCallReply(call_id=0, peer_call_id=0x4A3B, result_code=4, packet_recv_window_size=0)),
    (
        ICRQ,
        IncomingCallRequest(
            call_id=9,
            call_serial_number=2,
            call_bearer_type=1,
            physical_channel_id=5,
            dialed_number="5551",
            dialing_number="98765",
        ),
    ),
    (
        ICRP,
        IncomingCallReply(
            call_id=0x11, peer_call_id=9, result_code=1, packet_recv_window_size=16, packet_transmit_delay=2
        ),
    ),
    (
        ICCN,
        IncomingCallConnected(
            peer_call_id=0x11,
            connect_speed=0xE100,
            packet_recv_window_size=32,
            packet_transmit_delay=1,
            framing_type=1,
        ),
    ),
    (CCRQ, CallClearRequest(call_id=0x4A3B)),
    (
        CDN,
        CallDisconnectNotify(call_id=128, result_code=3, cause_code=16, call_statistics="rx 10 tx 12"),
    ),
    (
        WEN,
        WanErrorNotify(
            peer_call_id=0x4A3B,
            crc_errors=1,
            framing_errors=2,
            hardware_overruns=3,
            buffer_overruns=4,
            timeout_errors=5,
            alignment_errors=6,
        ),
    ),
    (SLI, SetLinkInfo(peer_call_id=128, send_accm=0xFFFFFFFF, receive_accm=0xFFFFFFFF)),
]


@pytest.mark.parametrize(("wire", "message"), EXPECTED, ids=[type(m).__name__ for _, m in EXPECTED])
def test_control_message_decodes_and_reencodes(wire: bytes, message: ControlMessage) -> None:
    assert decode_message(wire) == message
    assert message.encode() == wire


def test_every_message_type_has_a_vector_with_the_rfc_length() -> None:
    lengths = {type(m).TYPE: len(w) for w, m in EXPECTED}
    assert set(lengths) == set(MessageType)
    assert lengths == {
        MessageType.START_CONTROL_CONNECTION_REQUEST: 156,
        MessageType.START_CONTROL_CONNECTION_REPLY: 156,
        MessageType.STOP_CONTROL_CONNECTION_REQUEST: 16,
        MessageType.STOP_CONTROL_CONNECTION_REPLY: 16,
        MessageType.ECHO_REQUEST: 16,
        MessageType.ECHO_REPLY: 20,
        MessageType.OUTGOING_CALL_REQUEST: 168,
        MessageType.OUTGOING_CALL_REPLY: 32,
        MessageType.INCOMING_CALL_REQUEST: 220,
        MessageType.INCOMING_CALL_REPLY: 24,
        MessageType.INCOMING_CALL_CONNECTED: 28,
        MessageType.CALL_CLEAR_REQUEST: 16,
        MessageType.CALL_DISCONNECT_NOTIFY: 148,
        MessageType.WAN_ERROR_NOTIFY: 40,
        MessageType.SET_LINK_INFO: 24,
    }


def test_bad_magic_cookie_is_a_parse_error() -> None:
    bad = ECHO_REQUEST[:4] + bytes.fromhex("1a2b3c4e") + ECHO_REQUEST[8:]
    with pytest.raises(ParseError, match="magic cookie"):
        decode_message(bad)


def test_management_message_type_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="not a control message"):
        decode_message(ECHO_REQUEST[:2] + b"\x00\x02" + ECHO_REQUEST[4:])


def test_unknown_control_type_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="unknown control message type 16"):
        decode_message(_header(16, 16) + bytes(4))


def test_message_shorter_than_its_layout_is_a_parse_error() -> None:
    # an Outgoing-Call-Reply header that claims only 16 octets
    with pytest.raises(ParseError, match="needs 32"):
        decode_message(_header(16, 8) + bytes(4))


def test_length_field_must_match_the_message() -> None:
    with pytest.raises(ParseError, match="length field"):
        decode_message(ECHO_REQUEST + b"\x00")


def test_longer_message_keeps_known_fields() -> None:
    # a peer that appends octets after a known layout is tolerated; the extras are ignored
    wire = _header(24, 5) + bytes.fromhex("00000007") + bytes(8)
    assert decode_message(wire) == EchoRequest(identifier=7)


def test_non_utf8_host_name_decodes_as_latin1() -> None:
    wire = SCCRQ[:28] + _pad(b"caf\xe9", 64) + SCCRQ[92:]
    message = decode_message(wire)
    assert isinstance(message, StartControlConnectionRequest)
    assert message.host_name == "café"


def test_long_host_name_is_cut_on_a_character_boundary() -> None:
    wire = StartControlConnectionRequest(host_name="é" * 40).encode()
    assert len(wire) == 156
    assert wire[28:92] == ("é" * 32).encode()


def test_result_text_is_plain_language() -> None:
    assert result_text(MessageType.OUTGOING_CALL_REPLY, 4) == "busy"
    assert result_text(MessageType.START_CONTROL_CONNECTION_REPLY, 2, 4) == (
        "general error (the peer has run out of resources, error 4)"
    )
    assert result_text(MessageType.CALL_DISCONNECT_NOTIFY, 3) == "administrative shutdown"
    assert result_text(MessageType.ECHO_REPLY, 9) == "unknown code 9"


# RFC 2637 §4.1 enhanced GRE: K and S set, A set, version 1, protocol 0x880b, payload length 4,
# call ID 0x0080, sequence 5, acknowledgement 3, PPP LCP-ish payload
GRE_DATA_WITH_ACK = bytes.fromhex("30 81 880b 0004 0080 00000005 00000003 c0210102")
# S set, no A: sequence 0 only
GRE_DATA_NO_ACK = bytes.fromhex("30 01 880b 0002 4a3b 00000000 ff03")
# acknowledgement only (S clear): the ack sits where the sequence number would be (pptpd does this)
GRE_ACK_ONLY = bytes.fromhex("20 81 880b 0000 4a3b fffffffe")


@pytest.mark.parametrize(
    ("wire", "packet"),
    [
        (GRE_DATA_WITH_ACK, GREPacket(call_id=0x80, payload=bytes.fromhex("c0210102"), seq=5, ack=3)),
        (GRE_DATA_NO_ACK, GREPacket(call_id=0x4A3B, payload=b"\xff\x03", seq=0)),
        (GRE_ACK_ONLY, GREPacket(call_id=0x4A3B, seq=None, ack=0xFFFFFFFE)),
    ],
)
def test_gre_header_variants(wire: bytes, packet: GREPacket) -> None:
    assert GREPacket.decode(wire) == packet
    assert packet.encode() == wire


def test_gre_trailing_padding_is_ignored() -> None:
    assert GREPacket.decode(GRE_DATA_NO_ACK + b"\x00\x00").payload == b"\xff\x03"


@pytest.mark.parametrize(
    ("wire", "why"),
    [
        (bytes.fromhex("30 00 880b 0002 4a3b 00000000 ff03"), "version 0"),  # plain GRE (RFC 2784)
        (bytes.fromhex("b0 01 880b 0002 4a3b 00000000 ff03"), "checksum"),  # C bit
        (bytes.fromhex("70 01 880b 0002 4a3b 00000000 ff03"), "routing"),  # R bit
        (bytes.fromhex("38 01 880b 0002 4a3b 00000000 ff03"), "recursion"),  # strict source route
        (bytes.fromhex("10 01 880b 0002 4a3b 00000000 ff03"), "key"),  # K missing
        (bytes.fromhex("30 09 880b 0002 4a3b 00000000 ff03"), "reserved flags"),
        (bytes.fromhex("30 01 0800 0002 4a3b 00000000 ff03"), "protocol"),  # IPv4, not PPP
        (bytes.fromhex("20 01 880b 0002 4a3b ff03"), "without a sequence number"),
        (bytes.fromhex("30 01 880b 0009 4a3b 00000000 ff03"), "truncated"),  # length beyond packet
        (bytes.fromhex("30 81 880b 0000 4a3b 000000"), "truncated"),  # header cut short
        (b"", "truncated"),
    ],
)
def test_gre_malformed_headers(wire: bytes, why: str) -> None:
    with pytest.raises(ParseError, match=why):
        GREPacket.decode(wire)


def test_gre_payload_needs_sequence_number_to_encode() -> None:
    with pytest.raises(ValueError):
        GREPacket(call_id=1, payload=b"x").encode()


# RFC 791 IPv4 header (20 octets, protocol 47) wrapping GRE_DATA_NO_ACK, as a raw socket returns it
IPV4_GRE = (
    bytes.fromhex("45 00 0022 1c46 4000 40 2f 0000 c0a80001 c0a80002")  # total length 34, proto 47
    + GRE_DATA_NO_ACK
)


def test_strip_ipv4_header() -> None:
    assert strip_ipv4_header(IPV4_GRE) == GRE_DATA_NO_ACK
    assert strip_ipv4_header(IPV4_GRE + b"\x00\x00") == GRE_DATA_NO_ACK  # link-layer padding
    with pytest.raises(ParseError, match="not GRE"):
        strip_ipv4_header(IPV4_GRE[:9] + b"\x11" + IPV4_GRE[10:])
    with pytest.raises(ParseError, match="version 6"):
        strip_ipv4_header(b"\x60" + IPV4_GRE[1:])
    with pytest.raises(ParseError, match="total length"):
        strip_ipv4_header(IPV4_GRE[:-1])
    with pytest.raises(ParseError):
        strip_ipv4_header(IPV4_GRE[:10])
