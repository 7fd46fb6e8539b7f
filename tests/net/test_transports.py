"""The socket drivers between two namespaces over veth: raw GRE, UDP and TCP round trips."""

from __future__ import annotations

import asyncio
from typing import cast

import pytest

from tests.net.conftest import NsPair
from wizard.net import netns
from wizard.net.errors import TransportError
from wizard.net.transports import IPPROTO_GRE, RawIpEndpoint, TcpStream, UdpEndpoint

pytestmark = pytest.mark.root

# Enhanced GRE (RFC 2637 4.1) header with key (call id 0x4242) and sequence number, then a payload.
GRE_PACKET = bytes.fromhex("3001880b0004424200000001") + b"LCP!"


def test_raw_gre_round_trip_and_source_filter(ns_pair: NsPair) -> None:
    async def body() -> None:
        at_a: asyncio.Queue[bytes] = asyncio.Queue()
        at_b: asyncio.Queue[bytes] = asyncio.Queue()
        stray: list[bytes] = []
        with netns.entered(ns_pair.a):
            a = RawIpEndpoint.open(IPPROTO_GRE, ns_pair.b_addr, at_a.put_nowait)
            a_other = RawIpEndpoint.open(IPPROTO_GRE, "192.0.2.77", stray.append)  # a different peer
        with netns.entered(ns_pair.b):
            b = RawIpEndpoint.open(IPPROTO_GRE, ns_pair.a_addr, at_b.put_nowait)
        try:
            assert a.send(GRE_PACKET)
            assert await asyncio.wait_for(at_b.get(), 5) == GRE_PACKET  # IPv4 header stripped
            assert b.send(GRE_PACKET[::-1])
            assert await asyncio.wait_for(at_a.get(), 5) == GRE_PACKET[::-1]
            await asyncio.sleep(0.05)
            assert stray == [] and a_other.stats.received == 0
            assert a.stats.sent == 1 and a.stats.received == 1 and b.stats.received == 1
        finally:
            for endpoint in (a, a_other, b):
                endpoint.close()
        assert a.closed and not a.send(b"x") and a.stats.send_dropped == 1

    asyncio.run(body())


def test_raw_ipv6_round_trip(ns_pair: NsPair) -> None:
    async def body() -> None:
        at_b: asyncio.Queue[bytes] = asyncio.Queue()
        with netns.entered(ns_pair.a):
            a = RawIpEndpoint.open(IPPROTO_GRE, ns_pair.b_addr6, lambda p: None)
        with netns.entered(ns_pair.b):
            b = RawIpEndpoint.open(IPPROTO_GRE, ns_pair.a_addr6, at_b.put_nowait)
        try:
            assert a.send(GRE_PACKET)
            assert await asyncio.wait_for(at_b.get(), 5) == GRE_PACKET
        finally:
            a.close()
            b.close()

    asyncio.run(body())


class _Echo(asyncio.DatagramProtocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self.transport.sendto(data.upper(), addr)


def test_udp_round_trip_and_port_unreachable(ns_pair: NsPair) -> None:
    async def body() -> None:
        loop = asyncio.get_running_loop()
        with netns.entered(ns_pair.b):
            server, _ = await loop.create_datagram_endpoint(_Echo, local_addr=(ns_pair.b_addr, 1701))
        got: asyncio.Queue[bytes] = asyncio.Queue()
        errors: list[OSError] = []
        with netns.entered(ns_pair.a):
            client = await UdpEndpoint.connect((ns_pair.b_addr, 1701), got.put_nowait)
            closed_port = await UdpEndpoint.connect((ns_pair.b_addr, 1702), got.put_nowait, on_error=errors.append)
        try:
            assert client.local_address[0] == ns_pair.a_addr and client.local_address[1] not in (0, 1701)
            assert client.remote_address == (ns_pair.b_addr, 1701)
            client.send(b"sccrq")
            assert await asyncio.wait_for(got.get(), 5) == b"SCCRQ"
            closed_port.send(b"anyone?")
            for _ in range(50):
                if errors:
                    break
                await asyncio.sleep(0.02)
            assert errors and isinstance(errors[0], ConnectionRefusedError)
            assert client.stats.sent == 1 and client.stats.received == 1
        finally:
            client.close()
            closed_port.close()
            server.close()
        assert client.closed
        client.send(b"late")
        assert client.stats.send_dropped == 1

    asyncio.run(body())


def test_tcp_round_trip_and_close(ns_pair: NsPair) -> None:
    async def body() -> None:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            data = await reader.readexactly(5)
            writer.write(data[::-1])
            await writer.drain()
            writer.close()  # the server hangs up after one reply

        with netns.entered(ns_pair.b):
            server = await asyncio.start_server(serve, ns_pair.b_addr, 1723)
        received = bytearray()
        closed: asyncio.Future[Exception | None] = asyncio.get_running_loop().create_future()
        with netns.entered(ns_pair.a):
            stream = await TcpStream.connect((ns_pair.b_addr, 1723), received.extend, closed.set_result)
        try:
            assert stream.local_address[0] == ns_pair.a_addr
            stream.send(b"hello")
            await stream.drain()
            assert await asyncio.wait_for(closed, 5) is None  # clean EOF from the server
            assert bytes(received) == b"olleh"
            assert stream.closed
            with pytest.raises(TransportError):
                stream.send(b"more")
        finally:
            stream.close()
            await stream.wait_closed()
            server.close()
            await server.wait_closed()

    asyncio.run(body())


def test_tcp_refused_and_local_close(ns_pair: NsPair) -> None:
    async def body() -> None:
        refused = r"could not connect to 192\.0\.2\.2 on TCP port 1723: connection refused"
        with netns.entered(ns_pair.a), pytest.raises(TransportError, match=refused):
            await TcpStream.connect((ns_pair.b_addr, 1723), lambda d: None)
        with netns.entered(ns_pair.b):
            server = await asyncio.start_server(lambda r, w: None, ns_pair.b_addr, 1723)
        calls: list[Exception | None] = []
        with netns.entered(ns_pair.a):
            stream = await TcpStream.connect((ns_pair.b_addr, 1723), lambda d: None, calls.append)
        stream.close()
        stream.close()
        await stream.wait_closed()
        assert calls == [None]  # on_close exactly once
        server.close()
        await server.wait_closed()

    asyncio.run(body())
