"""The LNS demultiplexer without root: junk never creates a tunnel; a real SCCRQ does, per peer port."""

from __future__ import annotations

import asyncio
import random
import socket
from dataclasses import replace

from wizard.engine.l2tp.config import L2TPConfig
from wizard.engine.l2tp.connection import L2TPConnection
from wizard.stacks.gateway.config import config_from_dict
from wizard.stacks.gateway.l2tp_server import L2tpServer
from wizard.stacks.gateway.shared import GatewayShared

CONFIG = {
    "listen": "127.0.0.1",
    "protocols": ["l2tp"],
    "users": {"alice": "pw-alice"},
    "server_address": "10.123.0.1",
    "client_pool": "10.123.0.10-10.123.0.20",
}


async def _server(lines: list[str]) -> L2tpServer:
    config = config_from_dict(CONFIG)
    config = replace(config, policies={"l2tp": replace(config.policies["l2tp"], port=0)})
    server = L2tpServer(GatewayShared(config, lines.append))
    await server.start()
    return server


async def _recv(loop: asyncio.AbstractEventLoop, sock: socket.socket) -> bytes:
    return await asyncio.wait_for(loop.sock_recv(sock, 2000), 2)


def test_junk_creates_no_tunnel_and_sccrq_does() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        lines: list[str] = []
        server = await _server(lines)
        assert server.udp is not None
        port = server.udp.local_address[1]
        rng = random.Random(3)
        sccrq_like = bytes.fromhex("c80200140000000000000000")  # control, tunnel 0, Ns 0, no AVPs
        clients = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(3)]
        try:
            for sock in clients:
                sock.setblocking(False)
                sock.connect(("127.0.0.1", port))
            for i in range(300):
                junk = rng.randbytes(rng.randrange(0, 120))
                clients[i % 3].send(sccrq_like + junk if i % 2 else junk)
            await asyncio.sleep(0.1)
            assert server.tunnels == {}
            assert server.dropped > 0
            # Two real LACs from two ports: two tunnels, each answered with an SCCRP.
            lacs = [L2TPConnection("lac", L2TPConfig()) for _ in range(2)]
            for lac, sock in zip(lacs, clients, strict=False):
                lac.connect(loop.time())
                for datagram in lac.datagrams_to_send():
                    sock.send(datagram)
                lac.receive_datagram(await _recv(loop, sock), loop.time())
                assert lac.next_event() is not None  # TunnelUp: the SCCRP was good
            assert len(server.tunnels) == 2
            stopping = asyncio.ensure_future(server.stop("test over"))
            for lac, sock in zip(lacs, clients, strict=False):  # the LACs ack the StopCCN
                lac.receive_datagram(await _recv(loop, sock), loop.time())
                for datagram in lac.datagrams_to_send():
                    sock.send(datagram)
            await asyncio.wait_for(stopping, 2)
            assert server.tunnels == {}
            assert any("tunnel closed: test over" in line for line in lines), lines
        finally:
            for sock in clients:
                sock.close()

    asyncio.run(main())
