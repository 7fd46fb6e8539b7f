"""The gateway process: PPTP, L2TP and IPsec servers sharing one address pool, until SIGINT or SIGTERM.

Shutdown is polite and bounded: every session gets an LCP Terminate-Request, every PPTP client a
Call-Disconnect-Notify and Stop-Control-Connection-Request, every L2TP tunnel a StopCCN; TUN
devices close (the kernel drops their addresses with them) and the listening sockets go last.
IPsec peers are deleted (INFORMATIONAL delete) after the L2TP tunnels riding in them have hung up.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket

from wizard.net.errors import NetError
from wizard.net.transports import IPPROTO_GRE
from wizard.net.tun import TUN_PATH
from wizard.stacks.gateway.config import GatewayConfig
from wizard.stacks.gateway.ipsec_l2tp import IpsecL2tpServer
from wizard.stacks.gateway.ipsec_server import ESP_PROTOCOL, IpsecServer
from wizard.stacks.gateway.l2tp_server import L2tpServer
from wizard.stacks.gateway.pptp_server import PptpServer
from wizard.stacks.gateway.session import Log
from wizard.stacks.gateway.shared import GatewayShared

SHUTDOWN_LIMIT = 8.0


class Gateway:
    def __init__(self, config: GatewayConfig, log: Log) -> None:
        self.config = config
        self.shared = GatewayShared(config, log)
        self.pptp = PptpServer(self.shared) if "pptp" in config.protocols else None
        self.l2tp: L2tpServer | None = L2tpServer(self.shared) if "l2tp" in config.protocols else None
        self.ipsec: IpsecServer | None = None
        if config.ipsec is not None:
            if "l2tp_ipsec" in config.ipsec.services:
                self.l2tp = IpsecL2tpServer(self.shared, plain_udp="l2tp" in config.protocols)
            lns = self.l2tp if isinstance(self.l2tp, IpsecL2tpServer) else None
            self.ipsec = IpsecServer(self.shared, lns)

    def preflight(self) -> None:
        """Fail early, with a reason, when we lack the privileges sessions will need."""
        try:
            os.close(os.open(TUN_PATH, os.O_RDWR | os.O_CLOEXEC))
        except OSError as exc:
            raise NetError(f"cannot open {TUN_PATH} to create tunnel devices: {exc.strerror} (run as root)") from None
        if self.pptp is not None:
            try:
                socket.socket(socket.AF_INET, socket.SOCK_RAW, IPPROTO_GRE).close()
            except OSError as exc:
                raise NetError(f"cannot open a raw GRE socket for PPTP: {exc.strerror} (run as root)") from None
        if self.ipsec is not None:
            try:
                socket.socket(socket.AF_INET, socket.SOCK_RAW, ESP_PROTOCOL).close()
            except OSError as exc:
                raise NetError(f"cannot open a raw ESP socket for IPsec: {exc.strerror} (run as root)") from None

    async def start(self) -> None:
        self.preflight()
        try:
            for server in (self.pptp, self.l2tp, self.ipsec):
                if server is not None:
                    await server.start()
        except BaseException:
            await self.stop("the gateway could not start")
            raise
        c = self.config
        self.shared.log(
            f"gateway: ready; server address {c.server_address}, clients get {c.pool_first}-{c.pool_last} "
            f"({c.pool_size} addresses), DNS {', '.join(c.dns_servers) or 'none'}, "
            f"{len(c.users)} user(s)" + (f", IPsec: {', '.join(c.ipsec.services)}" if c.ipsec else "")
        )

    async def stop(self, reason: str) -> None:
        self.shared.stopping = True
        parts = [server.stop(reason) for server in (self.pptp, self.l2tp) if server is not None]
        try:
            async with asyncio.timeout(SHUTDOWN_LIMIT):
                await asyncio.gather(*parts, return_exceptions=True)
        except TimeoutError:
            self.shared.log("gateway: some clients did not answer the hang-up in time")
        if self.ipsec is not None:  # last: L2TP/IPsec tunnels said goodbye through their SAs
            try:
                async with asyncio.timeout(SHUTDOWN_LIMIT):
                    await self.ipsec.stop(reason)
            except TimeoutError:
                self.shared.log("gateway: some IPsec clients did not answer the delete in time")
                self.ipsec.stop_sockets()
        for session in list(self.shared.sessions):  # anything left: drop without waiting
            session.lower_layer_down(reason)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(session.done), 2.0)

    async def run(self) -> int:
        """Serve until SIGINT/SIGTERM; returns the exit code."""
        loop = asyncio.get_running_loop()
        stop: asyncio.Future[str] = loop.create_future()

        def request_stop(name: str) -> None:
            if not stop.done():
                stop.set_result(name)

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, request_stop, sig.name)
        try:
            await self.start()
            name = await stop
            peers = f" and {len(self.ipsec.peers)} IPsec peer(s)" if self.ipsec is not None else ""
            self.shared.log(f"gateway: stopping ({name}); hanging up {len(self.shared.sessions)} session(s){peers}")
            await self.stop(f"the gateway was stopped ({name})")
            self.shared.log("gateway: stopped")
            return 0
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
