"""L2TP client stack: UDP to port 1701, one tunnel with one session, PPP inside.

The UDP socket is connected to the server's port 1701, so an LNS that answers from another port
(RFC 2661 allows it after SCCRP) is not supported yet; xl2tpd and Windows RRAS answer from 1701.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from wizard.engine.l2tp import events as lev
from wizard.engine.l2tp.config import L2TPConfig
from wizard.engine.l2tp.connection import L2TPConnection
from wizard.engine.ppp.config import PPPConfig
from wizard.net.transports import UdpEndpoint
from wizard.stacks.base import NetworkApplier, Progress, StatusSink
from wizard.stacks.ppp_stack import PppStack, RouteChoice
from wizard.stacks.timer import EngineTimer

L2TP_PORT = 1701


class DatagramTransport(Protocol):
    """What carries L2TP datagrams to the server's port 1701 and back."""

    @property
    def closed(self) -> bool: ...

    @property
    def local_address(self) -> tuple[str, int]: ...

    def send(self, data: bytes) -> None: ...

    def close(self) -> None: ...


class L2tpStack(PppStack):
    protocol = "l2tp"

    def __init__(
        self,
        gateway: str,
        ppp_config: PPPConfig,
        status: StatusSink,
        applier: NetworkApplier,
        *,
        routing: RouteChoice | None = None,
        connect_timeout: float = 30.0,
        tun_name: str = "cw%d",
        l2tp_config: L2TPConfig | None = None,
        source_port: int = 0,
    ) -> None:
        super().__init__(
            gateway, ppp_config, status, applier, routing=routing, connect_timeout=connect_timeout, tun_name=tun_name
        )
        self.l2tp_config = l2tp_config or L2TPConfig()
        self.source_port = source_port  # 0: ephemeral, so we never clash with a local xl2tpd on 1701
        self.l2tp: L2TPConnection | None = None
        self.udp: DatagramTransport | None = None
        self._timer: EngineTimer | None = None
        self._session_up: asyncio.Future[lev.SessionUp] | None = None
        self._tunnel_closed: asyncio.Future[str] | None = None
        self._peer_name = ""

    async def _open_carrier(self) -> None:
        loop = asyncio.get_running_loop()
        self._session_up = loop.create_future()
        self._tunnel_closed = loop.create_future()
        config = self.l2tp_config
        if not config.peer_address:
            from dataclasses import replace

            config = replace(config, peer_address=self.gateway_address)
        self.l2tp = L2TPConnection("lac", config)
        self._timer = EngineTimer(loop, self.l2tp.get_timer, self.l2tp.handle_timer, self._flush)
        self.udp = await self._open_transport()
        self.status(Progress("control", f"contacting the L2TP server at {self.gateway_address}:{L2TP_PORT}"))
        self.l2tp.connect(loop.time())
        self._flush()
        await self._until(self._session_up, "l2tp")

    async def _open_transport(self) -> DatagramTransport:
        """Where L2TP datagrams go: plain UDP here; L2TP/IPsec carries them in an ESP transport SA."""
        return await UdpEndpoint.connect(
            (self.gateway_address, L2TP_PORT),
            self._on_datagram,
            local=("0.0.0.0", self.source_port) if self.source_port else None,
            on_error=self._on_udp_error,
        )

    def _on_datagram(self, data: bytes) -> None:
        if self.l2tp is not None:
            self.l2tp.receive_datagram(data, asyncio.get_running_loop().time())
            self._flush()

    def _on_udp_error(self, exc: OSError) -> None:
        # ICMP port unreachable while setting up: nothing listens on 1701. Retransmission goes on;
        # the tunnel fails with the engine's "no reply" reason if the server never answers.
        self.status(Progress("control", f"the network reported: {exc.strerror or exc}"))

    def _send_datagrams(self) -> None:
        assert self.l2tp is not None
        for datagram in self.l2tp.datagrams_to_send():
            if self.udp is not None and not self.udp.closed:
                self.udp.send(datagram)

    def _flush(self) -> None:
        assert self.l2tp is not None and self._timer is not None
        self._send_datagrams()
        while (event := self.l2tp.next_event()) is not None:
            if isinstance(event, lev.PPPFrameReceived):
                self._carrier_frame(event.frame)
            elif isinstance(event, lev.TunnelUp):
                self._peer_name = event.peer_host_name
                self.status(Progress("tunnel", f"L2TP tunnel up with {event.peer_host_name or 'the server'}"))
            elif isinstance(event, lev.SessionUp):
                self.status(Progress("session", "L2TP session up; starting PPP"))
                if self._session_up is not None and not self._session_up.done():
                    self._session_up.set_result(event)
            elif isinstance(event, lev.SessionClosed | lev.TunnelClosed):
                self._carrier_lost(event.reason)
                if isinstance(event, lev.TunnelClosed) and self._tunnel_closed and not self._tunnel_closed.done():
                    self._tunnel_closed.set_result(event.reason)
        self._send_datagrams()
        self._timer.rearm()

    def _carrier_send(self, frame: bytes) -> None:
        if self.l2tp is not None and self.l2tp.can_send_ppp:
            self.l2tp.send_ppp(frame)
            self._send_datagrams()

    async def _close_carrier(self, reason: str) -> None:
        try:
            if self.l2tp is not None and not self.l2tp.finished and self._tunnel_closed is not None:
                self.l2tp.close(asyncio.get_running_loop().time(), reason)
                self._flush()
                await asyncio.shield(self._tunnel_closed)
        finally:
            if self._timer is not None:
                self._timer.cancel()
            if self.udp is not None:
                self.udp.close()

    def _transport_items(self) -> list[tuple[str, str]]:
        return []

    def _carrier_items(self) -> list[tuple[str, str]]:
        items = [("transport", f"UDP {self.udp.local_address[1]} -> {L2TP_PORT}" if self.udp else "UDP")]
        items += self._transport_items()
        if self._peer_name:
            items.append(("server name", self._peer_name))
        return items
