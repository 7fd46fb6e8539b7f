"""AH (RFC 4302): the ICV covers the IP header too, so mutable header fields are zeroed first.

IPv4: TOS, flags/fragment offset, TTL, checksum and mutable options (RFC 4302 App. A.1) are zeroed.
IPv6: traffic class, flow label and hop limit are zeroed; extension headers in front of AH are not
supported (we never send them, and refuse what we cannot verify).
"""

from __future__ import annotations

from dataclasses import dataclass

from wizard.engine.errors import ParseError
from wizard.engine.esp.ip import IPPacket

AH_FIXED = 12  # next header, payload len, reserved, SPI, sequence number

# RFC 4302 App. A.1: IPv4 options included in the ICV; every other option is zeroed.
_IMMUTABLE_V4_OPTIONS = frozenset({0, 1, 130, 133, 134, 148, 149})


def icv_field_size(icv_size: int, version: int) -> int:
    """The ICV field is padded so the AH header is a multiple of 4 (IPv4) or 8 (IPv6) bytes (RFC 4302 §2.6)."""
    align = 4 if version == 4 else 8
    return (-(AH_FIXED + icv_size) % align) + icv_size


def zero_mutable(header: bytes) -> bytes:
    """The IP header as it enters the ICV computation."""
    out = bytearray(header)
    if out[0] >> 4 == 4:
        out[1] = 0
        out[6:8] = b"\x00\x00"
        out[8] = 0
        out[10:12] = b"\x00\x00"
        _zero_v4_options(out)
    else:
        if len(out) != 40:
            raise ParseError("AH after IPv6 extension headers is not supported")
        out[0] &= 0xF0
        out[1:4] = b"\x00\x00\x00"
        out[7] = 0
    return bytes(out)


def _zero_v4_options(header: bytearray) -> None:
    i = 20
    end = len(header)
    while i < end:
        kind = header[i]
        if kind == 0:
            return
        if kind == 1:
            i += 1
            continue
        if i + 1 >= end or header[i + 1] < 2 or i + header[i + 1] > end:
            raise ParseError("malformed IPv4 option")
        length = header[i + 1]
        if kind not in _IMMUTABLE_V4_OPTIONS:
            header[i : i + length] = bytes(length)
        i += length


@dataclass(frozen=True)
class AHHeader:
    next_header: int
    length: int  # whole AH header including the ICV field
    spi: int
    seq_low: int
    icv_field: bytes


def parse_ah(data: bytes, icv_size: int, version: int) -> AHHeader:
    if len(data) < AH_FIXED:
        raise ParseError(f"AH header truncated ({len(data)} bytes)")
    length = (data[1] + 2) * 4
    if length != AH_FIXED + icv_field_size(icv_size, version) or length > len(data):
        raise ParseError(f"AH length {length} does not match a {icv_size}-byte ICV in {len(data)} bytes")
    return AHHeader(
        data[0],
        length,
        int.from_bytes(data[4:8], "big"),
        int.from_bytes(data[8:12], "big"),
        data[AH_FIXED:length],
    )


def ah_header(next_header: int, spi: int, seq_low: int, icv_field: bytes) -> bytes:
    length = AH_FIXED + len(icv_field)
    return (
        bytes([next_header, length // 4 - 2, 0, 0])
        + spi.to_bytes(4, "big")
        + seq_low.to_bytes(4, "big")
        + icv_field
    )


def icv_input(pkt: IPPacket, ah_length: int, seq_high: bytes) -> bytes:
    """Header with mutable fields zeroed, AH with its ICV field zeroed, payload, then the ESN high bits.

    ``pkt`` is the whole AH-protected packet: its payload starts with the AH header.
    """
    ah = pkt.payload
    return zero_mutable(pkt.header) + ah[:AH_FIXED] + bytes(ah_length - AH_FIXED) + ah[ah_length:] + seq_high
