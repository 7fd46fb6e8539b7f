"""Test helpers for ESP/AH: IP packets built independently of the engine, and matched SA pairs."""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Callable

from wizard.engine.crypto.suites import cipher, integrity
from wizard.engine.esp import (
    Direction,
    Lifetime,
    Mode,
    SAConfig,
    SAProtocol,
    SecurityAssociation,
    UdpEncapsulation,
)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

V4_CLIENT = ipaddress.ip_address("192.0.2.10")
V4_SERVER = ipaddress.ip_address("198.51.100.20")
V6_CLIENT = ipaddress.ip_address("2001:db8::10")
V6_SERVER = ipaddress.ip_address("2001:db8:1::20")
V4_INNER_A = ipaddress.ip_address("10.1.0.1")
V4_INNER_B = ipaddress.ip_address("10.2.0.1")
V6_INNER_A = ipaddress.ip_address("fd00:1::1")
V6_INNER_B = ipaddress.ip_address("fd00:2::1")


def checksum(data: bytes) -> int:
    """RFC 1071 the slow, obvious way (word by word), to check the engine's fast one."""
    if len(data) % 2:
        data += b"\x00"
    total = 0
    for i in range(0, len(data), 2):
        total += (data[i] << 8) | data[i + 1]
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ip_packet(
    src: IPAddress, dst: IPAddress, protocol: int, payload: bytes, *, ttl: int = 64, tos: int = 0, ident: int = 0x1234
) -> bytes:
    if src.version == 4:
        header = bytearray(20)
        header[0] = 0x45
        header[1] = tos
        header[2:4] = (20 + len(payload)).to_bytes(2, "big")
        header[4:6] = ident.to_bytes(2, "big")
        header[8] = ttl
        header[9] = protocol
        header[12:16] = src.packed
        header[16:20] = dst.packed
        header[10:12] = checksum(bytes(header)).to_bytes(2, "big")
        return bytes(header) + payload
    first = (6 << 28) | (tos << 20) | 0x12345
    return first.to_bytes(4, "big") + len(payload).to_bytes(2, "big") + bytes([protocol, ttl]) + src.packed + dst.packed + payload


def _pseudo(src: IPAddress, dst: IPAddress, protocol: int, length: int) -> bytes:
    if src.version == 4:
        return src.packed + dst.packed + bytes([0, protocol]) + length.to_bytes(2, "big")
    return src.packed + dst.packed + length.to_bytes(4, "big") + bytes([0, 0, 0, protocol])


def udp_packet(src: IPAddress, dst: IPAddress, sport: int, dport: int, payload: bytes, **kw: int) -> bytes:
    length = 8 + len(payload)
    header = sport.to_bytes(2, "big") + dport.to_bytes(2, "big") + length.to_bytes(2, "big")
    csum = checksum(_pseudo(src, dst, 17, length) + header + b"\x00\x00" + payload) or 0xFFFF
    return ip_packet(src, dst, 17, header + csum.to_bytes(2, "big") + payload, **kw)


def tcp_packet(src: IPAddress, dst: IPAddress, sport: int, dport: int, payload: bytes, seq: int = 1) -> bytes:
    header = bytearray(20)
    header[0:2] = sport.to_bytes(2, "big")
    header[2:4] = dport.to_bytes(2, "big")
    header[4:8] = seq.to_bytes(4, "big")
    header[12] = 5 << 4
    header[13] = 0x18  # PSH, ACK
    header[14:16] = (65535).to_bytes(2, "big")
    segment = bytes(header) + payload
    csum = checksum(_pseudo(src, dst, 6, len(segment)) + segment)
    header[16:18] = csum.to_bytes(2, "big")
    return ip_packet(src, dst, 6, bytes(header) + payload)


def l4_checksum_ok(packet: bytes) -> bool:
    """True when the TCP/UDP checksum of an IPv4/IPv6 packet (no extension headers) verifies."""
    if packet[0] >> 4 == 4:
        ihl = (packet[0] & 0x0F) * 4
        src, dst = ipaddress.ip_address(packet[12:16]), ipaddress.ip_address(packet[16:20])
        protocol, segment = packet[9], packet[ihl:]
    else:
        src, dst = ipaddress.ip_address(packet[8:24]), ipaddress.ip_address(packet[24:40])
        protocol, segment = packet[6], packet[40:]
    return checksum(_pseudo(src, dst, protocol, len(segment)) + segment) == 0


def seeded_random(seed: int = 1) -> Callable[[int], bytes]:
    rng = random.Random(seed)
    return lambda n: rng.randbytes(n)


def sa_pair(
    enc: str | None = "aes128",
    integ: str | None = "sha256",
    *,
    mode: Mode = Mode.TUNNEL,
    protocol: SAProtocol = SAProtocol.ESP,
    v6: bool = False,
    esn: bool = False,
    lifetime: Lifetime | None = None,
    udp: bool = False,
    replay_window: int = 1024,
    initial_sequence: int = 1,
    spi: int = 0xC0FFEE01,
    now: float = 0.0,
    seed: int = 7,
    **extra: object,
) -> tuple[SecurityAssociation, SecurityAssociation]:
    """An outbound SA on the client and the matching inbound SA on the server."""
    rng = random.Random(seed)
    c = cipher(enc) if enc else None
    i = integrity(integ) if integ and not (c and c.aead) else None
    client, server = (V6_CLIENT, V6_SERVER) if v6 else (V4_CLIENT, V4_SERVER)
    common: dict[str, object] = {
        "spi": spi,
        "protocol": protocol,
        "mode": mode,
        "cipher": c,
        "encryption_key": rng.randbytes(c.keymat_size) if c else b"",
        "integrity": i,
        "integrity_key": rng.randbytes(i.key_size) if i else b"",
        "esn": esn,
        "replay_window": replay_window,
        "lifetime": lifetime or Lifetime(),
        "udp_encapsulation": UdpEncapsulation() if udp else None,
        "initial_sequence": initial_sequence,
        **extra,
    }
    out = SecurityAssociation(
        SAConfig(Direction.OUT, local_address=client, remote_address=server, **common),  # type: ignore[arg-type]
        now,
        random_bytes=seeded_random(seed),
    )
    inbound = SecurityAssociation(
        SAConfig(Direction.IN, local_address=server, remote_address=client, **common),  # type: ignore[arg-type]
        now,
    )
    return out, inbound
