"""The gateway's unconnected UDP driver: replies leave from the address the client talked to.

On loopback every 127/8 address is local, so a client connected to 127.0.0.2 with source 127.0.0.1
shows the problem a wildcard-bound L2TP server has: a plain ``sendto`` answers from 127.0.0.1 and
the connected client drops it; with IP_PKTINFO the answer comes from 127.0.0.2 and gets through.
No root needed.
"""

from __future__ import annotations

import asyncio
import socket

from wizard.stacks.gateway.udp_server import Peer, UdpServer


async def _exchange(use_source: bool) -> tuple[bytes | None, str | None, Peer]:
    loop = asyncio.get_running_loop()
    got: asyncio.Future[tuple[bytes, Peer, str | None]] = loop.create_future()
    server = UdpServer.open(("0.0.0.0", 0), lambda d, p, local: got.done() or got.set_result((d, p, local)))
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.setblocking(False)
    try:
        client.connect(("127.0.0.2", server.local_address[1]))
        client.send(b"hello")
        data, peer, local = await asyncio.wait_for(got, 2)
        assert data == b"hello"
        assert server.send(b"reply", peer, local if use_source else None)
        try:
            answer: bytes | None = await asyncio.wait_for(loop.sock_recv(client, 100), 0.3)
        except TimeoutError:
            answer = None
        return answer, local, peer
    finally:
        client.close()
        server.close()


def test_reply_comes_from_the_address_the_client_used() -> None:
    answer, local, peer = asyncio.run(_exchange(use_source=True))
    assert local == "127.0.0.2"
    assert peer[0] == "127.0.0.1"
    assert answer == b"reply"


def test_without_the_source_a_connected_client_drops_the_reply() -> None:
    answer, _, _ = asyncio.run(_exchange(use_source=False))
    assert answer is None  # shows why the server must set the source address


def test_closed_server_drops_and_counts() -> None:
    async def main() -> None:
        server = UdpServer.open(("127.0.0.1", 0), lambda d, p, local: None)
        assert server.local_address[0] == "127.0.0.1"
        server.close()
        assert server.closed
        assert not server.send(b"x", ("127.0.0.1", 9))
        assert server.stats.send_dropped == 1
        server.close()  # twice is fine

    asyncio.run(main())


def test_specific_bind_address_sends_without_pktinfo() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        got: asyncio.Future[tuple[Peer, str | None]] = loop.create_future()
        server = UdpServer.open(("127.0.0.1", 0), lambda d, p, local: got.set_result((p, local)))
        client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        client.setblocking(False)
        try:
            client.connect(server.local_address)
            client.send(b"x")
            peer, local = await asyncio.wait_for(got, 2)
            assert local is None  # bound to one address: no ancillary data asked for or needed
            assert server.send(b"y", peer, local)
            assert await asyncio.wait_for(loop.sock_recv(client, 10), 2) == b"y"
        finally:
            client.close()
            server.close()

    asyncio.run(main())
