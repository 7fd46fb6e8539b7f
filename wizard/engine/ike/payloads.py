"""ISAKMP/IKE message header, generic payload chain and data attributes, shared by IKEv1 and IKEv2.

The 28-byte header (RFC 2408 §3.1, RFC 7296 §3.1), the 4-byte generic payload header (RFC 2408 §3.2,
RFC 7296 §3.2) and the TV/TLV data attribute (RFC 2408 §3.3, RFC 7296 §3.3.5) have the same layout in
both versions; only flag meanings and payload bodies differ, so the bodies live in ``v1``/``v2``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum, IntFlag

from wizard.engine.buffer import Reader, Writer
from wizard.engine.errors import ParseError

HEADER_SIZE = 28
GENERIC_HEADER_SIZE = 4
SPI_SIZE = 8
MAX_MESSAGE_SIZE = 65535


class ExchangeType(IntEnum):
    """Exchange types of both versions (RFC 2408 §3.1, RFC 2409, RFC 7296 §3.1)."""

    BASE = 1
    IDENTITY_PROTECTION = 2  # IKEv1 Main Mode
    AUTHENTICATION_ONLY = 3
    AGGRESSIVE = 4
    INFORMATIONAL = 5
    TRANSACTION = 6  # Mode Config / XAUTH
    QUICK_MODE = 32
    NEW_GROUP_MODE = 33
    IKE_SA_INIT = 34
    IKE_AUTH = 35
    CREATE_CHILD_SA = 36
    INFORMATIONAL_V2 = 37


class V1Flags(IntFlag):
    ENCRYPTION = 0x01
    COMMIT = 0x02
    AUTHENTICATION_ONLY = 0x04


class V2Flags(IntFlag):
    INITIATOR = 0x08
    VERSION = 0x10
    RESPONSE = 0x20


@dataclass(frozen=True)
class Header:
    """The fixed ISAKMP/IKE header; ``length`` is the whole message including the header."""

    spi_i: bytes
    spi_r: bytes
    next_payload: int
    exchange_type: int
    flags: int
    message_id: int
    length: int = 0
    major_version: int = 1
    minor_version: int = 0

    def encode(self) -> bytes:
        if len(self.spi_i) != SPI_SIZE or len(self.spi_r) != SPI_SIZE:
            raise ValueError("IKE SPIs (cookies) are 8 bytes")
        version = (self.major_version & 0x0F) << 4 | (self.minor_version & 0x0F)
        w = Writer().write(self.spi_i).write(self.spi_r)
        w.u8(self.next_payload).u8(version).u8(self.exchange_type).u8(self.flags)
        return w.u32(self.message_id).u32(self.length).getvalue()


def decode_header(data: bytes) -> Header:
    """Parse the fixed header; the length field must cover the header and not exceed the datagram."""
    r = Reader(data)
    spi_i, spi_r = r.read(SPI_SIZE), r.read(SPI_SIZE)
    next_payload, version, exchange, flags = r.u8(), r.u8(), r.u8(), r.u8()
    message_id, length = r.u32(), r.u32()
    if length < HEADER_SIZE:
        raise ParseError(f"IKE header length {length} is shorter than the header")
    if length > len(data):
        raise ParseError(f"IKE header length {length} exceeds the datagram ({len(data)} bytes)")
    return Header(spi_i, spi_r, next_payload, exchange, flags, message_id, length, version >> 4, version & 0x0F)


@dataclass(frozen=True)
class Payload:
    """One payload of a chain: its type, body (without the generic header) and the critical bit."""

    type: int
    body: bytes
    critical: bool = False

    @property
    def raw_length(self) -> int:
        return GENERIC_HEADER_SIZE + len(self.body)


@dataclass(frozen=True)
class Chain:
    """A decoded payload chain; ``next_after`` is the next-payload value of a stop payload (IKEv2 SK)."""

    payloads: tuple[Payload, ...]
    trailing: int = 0
    next_after: int = 0
    spans: tuple[tuple[int, int], ...] = ()

    @property
    def end(self) -> int:
        """Offset just after the last payload (where padding, if any, starts)."""
        return self.spans[-1][1] if self.spans else 0


def decode_chain(
    first_type: int,
    data: bytes,
    *,
    stop_types: frozenset[int] = frozenset(),
    allow_trailing: bool = False,
    max_payloads: int = 64,
) -> Chain:
    """Walk a payload chain starting with ``first_type``.

    Stops after a payload whose type is in ``stop_types`` (IKEv2's encrypted payload must be last; its
    next-payload field names the first inner payload). Bytes after the last payload are an error
    unless ``allow_trailing`` (IKEv1 encryption padding).
    """
    r = Reader(data)
    payloads: list[Payload] = []
    spans: list[tuple[int, int]] = []
    current = first_type
    while current != 0:
        if len(payloads) >= max_payloads:
            raise ParseError(f"more than {max_payloads} payloads in one message")
        start = r.position
        nxt, flags, length = r.u8(), r.u8(), r.u16()
        if length < GENERIC_HEADER_SIZE:
            raise ParseError(f"payload type {current} has length {length}, below the generic header size")
        body = r.read(length - GENERIC_HEADER_SIZE)
        payloads.append(Payload(current, body, bool(flags & 0x80)))
        spans.append((start, r.position))
        if current in stop_types:
            return Chain(tuple(payloads), r.remaining, nxt, tuple(spans))
        current = nxt
    if r.remaining and not allow_trailing:
        raise ParseError(f"{r.remaining} bytes after the last payload")
    return Chain(tuple(payloads), r.remaining, 0, tuple(spans))


def encode_chain(payloads: Sequence[Payload], *, next_after_last: int = 0) -> tuple[int, bytes]:
    """Encode payloads into a chain; returns (first payload type, bytes)."""
    w = Writer()
    for i, p in enumerate(payloads):
        nxt = payloads[i + 1].type if i + 1 < len(payloads) else next_after_last
        if p.raw_length > 0xFFFF:
            raise ValueError(f"payload type {p.type} is too long ({p.raw_length} bytes)")
        w.u8(nxt).u8(0x80 if p.critical else 0).u16(p.raw_length).write(p.body)
    return (payloads[0].type if payloads else next_after_last), w.getvalue()


def encode_payload_raw(payload: Payload, next_type: int) -> bytes:
    """One payload with its generic header, as hashed by IKEv1 Quick Mode (HASH(1) covers headers)."""
    return Writer().u8(next_type).u8(0x80 if payload.critical else 0).u16(payload.raw_length).write(payload.body).getvalue()


# --- data attributes (TV and TLV) ---------------------------------------------------------------

AF_TV = 0x8000


@dataclass(frozen=True)
class Attribute:
    """A data attribute; ``basic`` attributes are TV (16-bit value in the header), others TLV."""

    type: int
    value: bytes
    basic: bool = False

    @classmethod
    def tv(cls, type_: int, value: int) -> Attribute:
        if not 0 <= value <= 0xFFFF:
            raise ValueError(f"basic attribute {type_} value {value} does not fit 16 bits")
        return cls(type_, value.to_bytes(2, "big"), True)

    @classmethod
    def tlv(cls, type_: int, value: bytes) -> Attribute:
        return cls(type_, bytes(value), False)

    @classmethod
    def number(cls, type_: int, value: int) -> Attribute:
        """TV when the number fits 16 bits, else a TLV of the shortest big-endian form (RFC 2408 §3.3)."""
        if 0 <= value <= 0xFFFF:
            return cls.tv(type_, value)
        return cls.tlv(type_, value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))

    @property
    def int_value(self) -> int:
        return int.from_bytes(self.value, "big") if self.value else 0

    def encode(self) -> bytes:
        if not 0 <= self.type <= 0x7FFF:
            raise ValueError(f"attribute type {self.type} does not fit 15 bits")
        if self.basic:
            if len(self.value) != 2:
                raise ValueError("a basic attribute carries exactly 2 bytes")
            return Writer().u16(AF_TV | self.type).write(self.value).getvalue()
        if len(self.value) > 0xFFFF:
            raise ValueError("attribute value too long")
        return Writer().u16(self.type).u16(len(self.value)).write(self.value).getvalue()


def decode_attributes(data: bytes, *, max_count: int = 256) -> list[Attribute]:
    """Decode a run of attributes filling ``data`` exactly."""
    r = Reader(data)
    out: list[Attribute] = []
    while not r.eof():
        if len(out) >= max_count:
            raise ParseError(f"more than {max_count} attributes")
        word = r.u16()
        if word & AF_TV:
            out.append(Attribute(word & 0x7FFF, r.read(2), True))
        else:
            length = r.u16()
            out.append(Attribute(word, r.read(length), False))
    return out


def encode_attributes(attributes: Iterable[Attribute]) -> bytes:
    return b"".join(a.encode() for a in attributes)
