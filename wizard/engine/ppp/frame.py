"""PPP frame, control-protocol packet and option codecs (RFC 1661 sections 2, 5 and 6).

Frames arrive already de-framed by L2TP or PPTP-GRE, so there is no HDLC flag, byte stuffing or
FCS here: just the optional FF 03 address/control, the protocol field and the information.
Every parser raises only :class:`~wizard.engine.errors.ParseError` on malformed input.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from wizard.engine.buffer import Reader, Writer
from wizard.engine.errors import ParseError

# Protocol field values (IANA "PPP DLL Protocol Numbers").
PROTO_IPV4 = 0x0021
PROTO_IPV6 = 0x0057
PROTO_COMP = 0x00FD  # compressed datagram: MPPE packets
PROTO_IPCP = 0x8021
PROTO_IPV6CP = 0x8057
PROTO_CCP = 0x80FD
PROTO_LCP = 0xC021
PROTO_PAP = 0xC023
PROTO_LQR = 0xC025
PROTO_CHAP = 0xC223
PROTO_EAP = 0xC227

PROTOCOL_NAMES = {
    PROTO_IPV4: "IPv4",
    PROTO_IPV6: "IPv6",
    PROTO_COMP: "compressed datagram",
    PROTO_IPCP: "IPCP",
    PROTO_IPV6CP: "IPV6CP",
    PROTO_CCP: "CCP",
    PROTO_LCP: "LCP",
    PROTO_PAP: "PAP",
    PROTO_LQR: "LQR",
    PROTO_CHAP: "CHAP",
    PROTO_EAP: "EAP",
}

# Control protocol codes (RFC 1661 section 5, RFC 1962 for 14/15).
CONF_REQ = 1
CONF_ACK = 2
CONF_NAK = 3
CONF_REJ = 4
TERM_REQ = 5
TERM_ACK = 6
CODE_REJ = 7
PROTO_REJ = 8
ECHO_REQ = 9
ECHO_REPLY = 10
DISCARD_REQ = 11
IDENTIFICATION = 12
TIME_REMAINING = 13
RESET_REQ = 14
RESET_ACK = 15

CP_HEADER_LENGTH = 4


def protocol_name(protocol: int) -> str:
    return PROTOCOL_NAMES.get(protocol, f"protocol 0x{protocol:04x}")


@dataclass(frozen=True, slots=True)
class Frame:
    """One PPP frame: protocol number and information field."""

    protocol: int
    information: bytes


def parse_frame(data: bytes) -> Frame:
    """Decode a frame, with or without FF 03 and with a 1- or 2-octet protocol field.

    A 1-octet (PFC-compressed) protocol is recognised by its odd first octet; accepting it even
    when PFC was not negotiated is harmless because the encoding is unambiguous.
    """
    n = len(data)
    pos = 0
    if n >= 1 and data[0] == 0xFF:
        if n < 2 or data[1] != 0x03:
            raise ParseError("PPP frame starts with address 0xFF but control is not 0x03")
        pos = 2
    if pos >= n:
        raise ParseError("PPP frame has no protocol field")
    first = data[pos]
    if first & 1:
        protocol = first
        pos += 1
    else:
        if pos + 2 > n:
            raise ParseError("PPP frame protocol field is truncated")
        protocol = (first << 8) | data[pos + 1]
        pos += 2
        if not protocol & 1:
            raise ParseError(f"PPP protocol field 0x{protocol:04x} is even")
    return Frame(protocol, bytes(data[pos:]))


def build_frame(protocol: int, information: bytes, *, acfc: bool = False, pfc: bool = False) -> bytes:
    """Encode a frame. ``acfc``/``pfc`` omit FF 03 / compress the protocol when negotiated."""
    if not 0 < protocol <= 0xFFFF or not protocol & 1:
        raise ValueError(f"invalid PPP protocol number 0x{protocol:04x}")
    head = b"" if acfc else b"\xff\x03"
    proto = bytes((protocol,)) if pfc and protocol < 0x100 else protocol.to_bytes(2, "big")
    return head + proto + information


@dataclass(frozen=True, slots=True)
class CPPacket:
    """A control-protocol packet (LCP, IPCP, CCP, ...): code, identifier and data."""

    code: int
    identifier: int
    data: bytes

    def encode(self) -> bytes:
        return build_cp_packet(self.code, self.identifier, self.data)


def parse_cp_packet(information: bytes) -> CPPacket:
    """Decode a control packet; octets past the Length field are padding and ignored."""
    r = Reader(information)
    code = r.u8()
    identifier = r.u8()
    length = r.u16()
    if length < CP_HEADER_LENGTH:
        raise ParseError(f"control packet length {length} is shorter than its header")
    if length - CP_HEADER_LENGTH > r.remaining:
        raise ParseError(f"control packet length {length} exceeds the {len(information)} octets received")
    return CPPacket(code, identifier, r.read(length - CP_HEADER_LENGTH))


def build_cp_packet(code: int, identifier: int, data: bytes) -> bytes:
    w = Writer().u8(code).u8(identifier).u16(CP_HEADER_LENGTH + len(data))
    return w.write(data).getvalue()


@dataclass(frozen=True, slots=True)
class Option:
    """A configuration option: type and value (the octets after type and length)."""

    type: int
    data: bytes

    def encode(self) -> bytes:
        if len(self.data) > 253:
            raise ValueError("option value is longer than 253 octets")
        return bytes((self.type, len(self.data) + 2)) + self.data


def parse_options(data: bytes) -> list[Option]:
    """Decode a configuration option list (RFC 1661 section 6)."""
    r = Reader(data)
    options: list[Option] = []
    while not r.eof():
        kind = r.u8()
        length = r.u8()
        if length < 2:
            raise ParseError(f"option {kind} has invalid length {length}")
        options.append(Option(kind, r.read(length - 2)))
    return options


def build_options(options: Iterable[Option]) -> bytes:
    return b"".join(o.encode() for o in options)
