"""TunDevice against a real kernel: packets the kernel routes in come out of the fd, and back."""

from __future__ import annotations

import asyncio
import socket
import struct

import pytest
from pyroute2 import AsyncIPRoute

from tests.net.conftest import NsPair, ip
from wizard.net import netns
from wizard.net.tun import TunDevice

pytestmark = pytest.mark.root

LOCAL, PEER = "10.9.0.2", "10.9.0.1"


def checksum(data: bytes) -> int:
    data += bytes(len(data) % 2)
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ipv4(src: str, dst: str, proto: int, payload: bytes) -> bytes:
    header = struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, 64, proto, 0,
        socket.inet_aton(src), socket.inet_aton(dst),
    )  # fmt: skip
    return header[:10] + struct.pack("!H", checksum(header)) + header[12:] + payload


def udp(src: str, dst: str, sport: int, dport: int, data: bytes) -> bytes:
    length = 8 + len(data)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 17, length)
    head = struct.pack("!HHHH", sport, dport, length, 0)
    csum = checksum(pseudo + head + data) or 0xFFFF
    return ipv4(src, dst, 17, struct.pack("!HHHH", sport, dport, length, csum) + data)


async def configure(tun: TunDevice) -> None:
    async with AsyncIPRoute() as ipr:
        await ipr.link("set", index=tun.ifindex, state="up")
        await ipr.addr("add", index=tun.ifindex, local=LOCAL, address=PEER, prefixlen=32)


def test_device_lives_and_dies_with_the_fd(ns_pair: NsPair) -> None:
    with netns.entered(ns_pair.a):
        tun = TunDevice.create("cwtest%d")
        assert tun.name.startswith("cwtest") and tun.name != "cwtest%d"
        assert tun.ifindex > 0
        assert tun.name in ip("-n", ns_pair.a, "link", "show")
        assert tun.read() is None  # non-blocking: nothing queued
        tun.close()
        tun.close()  # idempotent
        assert tun.closed
        with pytest.raises(OSError):
            socket.if_nametoindex(tun.name)
        with pytest.raises(ValueError):
            tun.read()
    with pytest.raises(ValueError):
        TunDevice.create("x" * 16)


def test_kernel_traffic_comes_out_of_the_fd(ns_pair: NsPair) -> None:
    """A UDP datagram a local socket sends to the peer is read from the TUN as one IPv4 packet."""

    async def body() -> bytes:
        with TunDevice.create("cwtest%d") as tun:
            await configure(tun)
            got: asyncio.Queue[bytes] = asyncio.Queue()
            tun.start_reading(got.put_nowait)
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.sendto(b"into the tunnel", (PEER, 9999))
                while True:  # skip anything else the kernel sends (e.g. IPv6 router solicitations)
                    packet = await asyncio.wait_for(got.get(), 5)
                    if packet[0] >> 4 == 4 and packet[9] == 17:
                        break
            tun.stop_reading()
            assert tun.stats.rx_packets >= 1
            return packet

    with netns.entered(ns_pair.a):
        packet = asyncio.run(body())
    assert socket.inet_ntoa(packet[12:16]) == LOCAL and socket.inet_ntoa(packet[16:20]) == PEER
    header_len = (packet[0] & 15) * 4
    assert struct.unpack("!H", packet[header_len + 2 : header_len + 4])[0] == 9999
    assert packet[header_len + 8 :] == b"into the tunnel"


def test_written_packets_reach_the_kernel(ns_pair: NsPair) -> None:
    """A UDP packet written to the fd arrives at a local socket; an ICMP echo written gets a reply."""

    async def body() -> tuple[bytes, bytes]:
        with TunDevice.create("cwtest%d") as tun:
            await configure(tun)
            got: asyncio.Queue[bytes] = asyncio.Queue()
            tun.start_reading(got.put_nowait)
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.bind((LOCAL, 0))
                s.setblocking(False)
                port = s.getsockname()[1]
                assert tun.write(udp(PEER, LOCAL, 4242, port, b"out of the tunnel"))
                data = await asyncio.wait_for(asyncio.get_running_loop().sock_recv(s, 100), 5)
            echo = struct.pack("!BBHHH", 8, 0, 0, 0x77, 1) + b"ping"
            echo = echo[:2] + struct.pack("!H", checksum(echo)) + echo[4:]
            assert tun.write(ipv4(PEER, LOCAL, 1, echo))
            while True:
                packet = await asyncio.wait_for(got.get(), 5)
                if packet[0] >> 4 == 4 and packet[9] == 1:
                    break
            assert tun.stats.tx_packets == 2 and tun.stats.tx_dropped == 0
            return data, packet

    with netns.entered(ns_pair.a):
        data, reply = asyncio.run(body())
    assert data == b"out of the tunnel"
    assert socket.inet_ntoa(reply[16:20]) == PEER
    icmp = reply[(reply[0] & 15) * 4 :]
    assert icmp[0] == 0 and icmp[4:6] == b"\x00\x77" and icmp[8:] == b"ping"  # echo reply to ours


def test_bad_writes_are_dropped_and_counted(ns_pair: NsPair) -> None:
    with netns.entered(ns_pair.a), TunDevice.create("cwtest%d") as tun:
        assert not tun.write(udp(PEER, LOCAL, 1, 2, b"x"))  # link down: EIO
        asyncio.run(configure(tun))
        assert not tun.write(b"\x00" * 20)  # neither IPv4 nor IPv6: EINVAL
        assert tun.stats.tx_dropped == 2 and tun.stats.tx_packets == 0
