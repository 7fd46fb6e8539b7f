"""The gateway process: PPTP and L2TP servers sharing one address pool, until SIGINT or SIGTERM.

Shutdown is polite and bounded: every session gets an LCP Terminate-Request, every PPTP client a
Call-Disconnect-Notify and Stop-Control-Connection-Request, every L2TP tunnel a StopCCN; TUN
devices close (the kernel drops their addresses with them) and the listening sockets go last.
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
        self.l2tp = L2tpServer(self.shared) if "l2tp" in config.protocols else None

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

    async def start(self) -> None:
        self.preflight()
        try:
            for server in (self.pptp, self.l2tp):
                if server is not None:
                    await server.start()
        except BaseException:
            await self.stop("the gateway could not start")
            raise
        c = self.config
        self.shared.log(
            f"gateway: ready; server address {c.server_address}, clients get {c.pool_first}-{c.pool_last} "
            f"({c.pool_size} addresses), DNS {', '.join(c.dns_servers) or 'none'}, "
            f"{len(c.users)} user(s)"
        )

    async def stop(self, reason: str) -> None:
        self.shared.stopping = True
        parts = [server.stop(reason) for server in (self.pptp, self.l2tp) if server is not None]
        try:
            async with asyncio.timeout(SHUTDOWN_LIMIT):
                await asyncio.gather(*parts, return_exceptions=True)
        except TimeoutError:
            self.shared.log("gateway: some clients did not answer the hang-up in time")
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
            self.shared.log(f"gateway: stopping ({name}); hanging up {len(self.shared.sessions)} session(s)")
            await self.stop(f"the gateway was stopped ({name})")
            self.shared.log("gateway: stopped")
            return 0
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
