"""Enhanced GRE header codec (RFC 2637 section 4.1; IP protocol 47).

::

    byte 0: C R K S s Recur(3)     C, R, s and Recur are 0; K is 1; S set when a payload follows
    byte 1: A Flags(4) Ver(3)      A set when an acknowledgement number follows; Ver is 1
    Protocol Type 0x880B (PPP)
    Key: Payload Length (16) | Call ID (16)   -- the Call ID is the *receiver's* call ID
    Sequence Number (32, if S)
    Acknowledgement Number (32, if A)

Bytes handed to :func:`GREPacket.decode` start at the GRE header (no IP header).
"""

from __future__ import annotations

from dataclasses import dataclass

from wizard.engine.buffer import Reader, Writer
from wizard.engine.errors import ParseError

IP_PROTOCOL_GRE = 47
GRE_PROTOCOL_PPP = 0x880B
GRE_VERSION = 1

FLAG_C = 0x80
FLAG_R = 0x40
FLAG_K = 0x20
FLAG_S = 0x10
FLAG_STRICT_ROUTE = 0x08
RECUR_MASK = 0x07
FLAG_A = 0x80
FLAGS2_MASK = 0x78
VERSION_MASK = 0x07

HEADER_MIN = 8
HEADER_MAX = 16


@dataclass(frozen=True)
class GREPacket:
    """One enhanced GRE packet; ``seq`` is None for an acknowledgement-only packet."""

    call_id: int
    payload: bytes = b""
    seq: int | None = None
    ack: int | None = None

    def encode(self) -> bytes:
        if self.seq is None and self.payload:
            raise ValueError("a GRE packet with a payload needs a sequence number")
        flags = FLAG_K | (FLAG_S if self.seq is not None else 0)
        flags2 = GRE_VERSION | (FLAG_A if self.ack is not None else 0)
        w = Writer().u8(flags).u8(flags2).u16(GRE_PROTOCOL_PPP).u16(len(self.payload)).u16(self.call_id)
        if self.seq is not None:
            w.u32(self.seq)
        if self.ack is not None:
            w.u32(self.ack)
        return w.write(self.payload).getvalue()

    @classmethod
    def decode(cls, data: bytes) -> GREPacket:
        """Parse one packet; anything that is not PPTP's enhanced GRE raises ``ParseError``."""
        r = Reader(data)
        flags = r.u8()
        flags2 = r.u8()
        if flags & (FLAG_C | FLAG_R | FLAG_STRICT_ROUTE | RECUR_MASK):
            raise ParseError(f"GRE flags 0x{flags:02x}: checksum, routing or recursion set")
        if not flags & FLAG_K:
            raise ParseError("GRE key (payload length and call ID) missing")
        if flags2 & FLAGS2_MASK:
            raise ParseError(f"GRE reserved flags set (0x{flags2:02x})")
        if flags2 & VERSION_MASK != GRE_VERSION:
            raise ParseError(f"GRE version {flags2 & VERSION_MASK} is not enhanced GRE (1)")
        protocol = r.u16()
        if protocol != GRE_PROTOCOL_PPP:
            raise ParseError(f"GRE protocol 0x{protocol:04x} is not PPP (0x880b)")
        payload_length = r.u16()
        call_id = r.u16()
        seq = r.u32() if flags & FLAG_S else None
        ack = r.u32() if flags2 & FLAG_A else None
        if seq is None and payload_length:
            raise ParseError("GRE payload without a sequence number")
        # The IP layer may hand us padding after the payload: the length field is authoritative.
        payload = r.read(payload_length)
        return cls(call_id=call_id, payload=payload, seq=seq, ack=ack)


def strip_ipv4_header(packet: bytes) -> bytes:
    """The GRE packet inside an IPv4 datagram (raw IPPROTO_GRE sockets deliver the IP header too)."""
    r = Reader(packet)
    first = r.u8()
    if first >> 4 != 4:
        raise ParseError(f"IP version {first >> 4}, expected 4")
    header_length = (first & 0x0F) * 4
    if header_length < 20:
        raise ParseError(f"IPv4 header length {header_length} is below 20")
    r.u8()  # type of service
    total_length = r.u16()
    r.read(5)  # identification, flags, fragment offset, TTL
    protocol = r.u8()
    if protocol != IP_PROTOCOL_GRE:
        raise ParseError(f"IP protocol {protocol} is not GRE (47)")
    if not header_length <= total_length <= len(packet):
        raise ParseError(f"IPv4 total length {total_length} does not fit the {len(packet)}-octet packet")
    return packet[header_length:total_length]
