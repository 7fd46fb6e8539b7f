"""Just enough IPv4/IPv6 to put ESP or AH into a packet and take it out again.

Transport mode edits the IP header in place (protocol/next header, length, checksum); tunnel mode builds
an outer header. IPv6 Hop-by-Hop and Routing headers stay in front of ESP/AH; other extension headers
are protected like payload.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from wizard.engine.errors import ParseError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

PROTO_HOPOPTS = 0
PROTO_IPIP = 4
PROTO_TCP = 6
PROTO_UDP = 17
PROTO_IPV6 = 41
PROTO_ROUTING = 43
PROTO_FRAGMENT = 44
PROTO_ESP = 50
PROTO_AH = 51
PROTO_ICMPV6 = 58
PROTO_NONE = 59

_CLEAR_EXTENSIONS = (PROTO_HOPOPTS, PROTO_ROUTING)
_MAX_V4_LENGTH = 0xFFFF


def ones_complement_sum(data: bytes) -> int:
    """The 16-bit one's complement sum (RFC 1071); 2^16 = 1 mod 0xFFFF makes one big-int mod do it."""
    if len(data) % 2:
        data += b"\x00"
    total = int.from_bytes(data, "big") % 0xFFFF
    return 0xFFFF if total == 0 and any(data) else total


def internet_checksum(data: bytes) -> int:
    return ~ones_complement_sum(data) & 0xFFFF


@dataclass(frozen=True)
class IPPacket:
    """A parsed packet: ``header`` is everything that stays in front of ESP/AH, ``payload`` the rest."""

    version: int
    header: bytes
    protocol: int  # the protocol/next header value that follows ``header``
    nh_offset: int  # where in ``header`` that value sits
    payload: bytes
    src: bytes
    dst: bytes

    @property
    def src_address(self) -> IPAddress:
        return ipaddress.ip_address(self.src)

    @property
    def dst_address(self) -> IPAddress:
        return ipaddress.ip_address(self.dst)

    @property
    def fragmented(self) -> bool:
        return self.version == 4 and (int.from_bytes(self.header[6:8], "big") & 0x3FFF) != 0

    @property
    def ecn(self) -> int:
        return self.header[1] & 3 if self.version == 4 else (self.header[1] >> 4) & 3

    @property
    def dscp_ecn(self) -> int:
        """IPv4 TOS / IPv6 traffic class."""
        if self.version == 4:
            return self.header[1]
        return ((self.header[0] & 0x0F) << 4) | (self.header[1] >> 4)


def parse_ip(packet: bytes, *, walk_extensions: bool = True) -> IPPacket:
    """Parse an IPv4 or IPv6 packet; trailing bytes beyond the IP length are dropped."""
    if not packet:
        raise ParseError("empty IP packet")
    version = packet[0] >> 4
    if version == 4:
        return _parse_v4(packet)
    if version == 6:
        return _parse_v6(packet, walk_extensions)
    raise ParseError(f"IP version {version} is neither 4 nor 6")


def _parse_v4(packet: bytes) -> IPPacket:
    if len(packet) < 20:
        raise ParseError(f"IPv4 packet of {len(packet)} bytes is shorter than its header")
    ihl = (packet[0] & 0x0F) * 4
    total = int.from_bytes(packet[2:4], "big")
    if ihl < 20 or total < ihl or total > len(packet):
        raise ParseError(f"IPv4 header length {ihl} / total length {total} do not fit {len(packet)} bytes")
    return IPPacket(4, packet[:ihl], packet[9], 9, packet[ihl:total], packet[12:16], packet[16:20])


def _parse_v6(packet: bytes, walk: bool) -> IPPacket:
    if len(packet) < 40:
        raise ParseError(f"IPv6 packet of {len(packet)} bytes is shorter than its header")
    plen = int.from_bytes(packet[4:6], "big")
    if plen == 0 or 40 + plen > len(packet):
        raise ParseError(f"IPv6 payload length {plen} does not fit {len(packet)} bytes (jumbograms unsupported)")
    end = 40 + plen
    nh_offset = 6
    offset = 40
    nh = packet[6]
    while walk and nh in _CLEAR_EXTENSIONS:
        if offset + 8 > end:
            raise ParseError("truncated IPv6 extension header")
        length = (packet[offset + 1] + 1) * 8
        if offset + length > end:
            raise ParseError("IPv6 extension header runs past the packet")
        nh_offset = offset
        nh = packet[offset]
        offset += length
    return IPPacket(6, packet[:offset], nh, nh_offset, packet[offset:end], packet[8:24], packet[24:40])


def with_protocol(pkt: IPPacket, protocol: int, payload: bytes) -> bytes:
    """The same header carrying ``payload`` as ``protocol``: lengths and the IPv4 checksum fixed."""
    header = bytearray(pkt.header)
    header[pkt.nh_offset] = protocol
    if pkt.version == 4:
        total = len(header) + len(payload)
        if total > _MAX_V4_LENGTH:
            raise ParseError(f"IPv4 packet would be {total} bytes, over 65535")
        header[2:4] = total.to_bytes(2, "big")
        header[10:12] = b"\x00\x00"
        header[10:12] = internet_checksum(bytes(header)).to_bytes(2, "big")
    else:
        plen = len(header) - 40 + len(payload)
        if plen > 0xFFFF:
            raise ParseError(f"IPv6 payload would be {plen} bytes, over 65535")
        header[4:6] = plen.to_bytes(2, "big")
    return bytes(header) + payload


def build_outer(
    src: IPAddress, dst: IPAddress, protocol: int, payload: bytes, *, ident: int = 0, tos: int = 0, df: bool = False
) -> bytes:
    """A fresh outer header (tunnel mode, or UDP encapsulation) in front of ``payload``."""
    if src.version != dst.version:
        raise ValueError("tunnel endpoints must both be IPv4 or both IPv6")
    if src.version == 4:
        total = 20 + len(payload)
        if total > _MAX_V4_LENGTH:
            raise ParseError(f"IPv4 packet would be {total} bytes, over 65535")
        header = bytearray(20)
        header[0] = 0x45
        header[1] = tos
        header[2:4] = total.to_bytes(2, "big")
        header[4:6] = (ident & 0xFFFF).to_bytes(2, "big")
        header[6:8] = (0x4000 if df else 0).to_bytes(2, "big")
        header[8] = 64
        header[9] = protocol
        header[12:16] = src.packed
        header[16:20] = dst.packed
        header[10:12] = internet_checksum(bytes(header)).to_bytes(2, "big")
        return bytes(header) + payload
    if len(payload) > 0xFFFF:
        raise ParseError(f"IPv6 payload would be {len(payload)} bytes, over 65535")
    first = (6 << 28) | (tos << 20)
    return (
        first.to_bytes(4, "big")
        + len(payload).to_bytes(2, "big")
        + bytes([protocol, 64])
        + src.packed
        + dst.packed
        + payload
    )


def set_ecn_ce(packet: bytes) -> bytes:
    """Mark Congestion Experienced on an ECN-capable packet (RFC 6040 decapsulation, normal mode)."""
    out = bytearray(packet)
    if packet[0] >> 4 == 4:
        if out[1] & 3 in (1, 2):
            out[1] |= 3
            ihl = (out[0] & 0x0F) * 4
            out[10:12] = b"\x00\x00"
            out[10:12] = internet_checksum(bytes(out[:ihl])).to_bytes(2, "big")
    elif (out[1] >> 4) & 3 in (1, 2):
        out[1] |= 0x30
    return bytes(out)


_CHECKSUM_OFFSET = {PROTO_TCP: 16, PROTO_UDP: 6}


def fix_l4_checksum(packet: bytes) -> bytes:
    """Recompute the TCP/UDP (and ICMPv6) checksum against this packet's own addresses.

    After NAT the sender's checksum covers its private address, not the one we see (RFC 3948 §3.1.2).
    An IPv4 UDP checksum of zero means "none" and stays zero.
    """
    pkt = parse_ip(packet)
    if pkt.fragmented:
        return packet
    offset = _CHECKSUM_OFFSET.get(pkt.protocol)
    if pkt.version == 6 and pkt.protocol == PROTO_ICMPV6:
        offset = 2
    segment = pkt.payload
    if offset is None or len(segment) < offset + 2:
        return packet
    if pkt.version == 4 and pkt.protocol == PROTO_UDP and segment[6:8] == b"\x00\x00":
        return packet
    if pkt.version == 4:
        pseudo = pkt.src + pkt.dst + bytes([0, pkt.protocol]) + len(segment).to_bytes(2, "big")
    else:
        pseudo = pkt.src + pkt.dst + len(segment).to_bytes(4, "big") + bytes([0, 0, 0, pkt.protocol])
    zeroed = segment[:offset] + b"\x00\x00" + segment[offset + 2 :]
    checksum = internet_checksum(pseudo + zeroed)
    if checksum == 0 and pkt.protocol == PROTO_UDP:
        checksum = 0xFFFF
    fixed = segment[:offset] + checksum.to_bytes(2, "big") + segment[offset + 2 :]
    return packet[: len(pkt.header)] + fixed + packet[len(pkt.header) + len(segment) :]
