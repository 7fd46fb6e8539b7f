"""PPTP client stack: control connection on TCP 1723, PPP in enhanced GRE (IP protocol 47)."""

from __future__ import annotations

import asyncio
import secrets

from wizard.engine.ppp.config import PPPConfig
from wizard.engine.pptp import events as pev
from wizard.engine.pptp.control import PPTPConfig, PPTPControl
from wizard.engine.pptp.gre_session import GRESession
from wizard.net.transports import RawIpEndpoint, TcpStream
from wizard.stacks.base import NetworkApplier, Progress, StatusSink
from wizard.stacks.ppp_stack import PppStack, RouteChoice
from wizard.stacks.timer import EngineTimer

PPTP_PORT = 1723
GRE_PROTOCOL = 47


class PptpStack(PppStack):
    protocol = "pptp"

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
        pptp_config: PPTPConfig | None = None,
    ) -> None:
        super().__init__(
            gateway, ppp_config, status, applier, routing=routing, connect_timeout=connect_timeout, tun_name=tun_name
        )
        self.pptp_config = pptp_config or PPTPConfig(call_id=1 + secrets.randbelow(0xFFFE))
        self.control: PPTPControl | None = None
        self.gre: GRESession | None = None
        self.tcp: TcpStream | None = None
        self.raw: RawIpEndpoint | None = None
        self._control_timer: EngineTimer | None = None
        self._gre_timer: EngineTimer | None = None
        self._call: asyncio.Future[pev.CallEstablished] | None = None
        self._control_closed: asyncio.Future[str] | None = None
        self._peer = ""

    async def _open_carrier(self) -> None:
        loop = asyncio.get_running_loop()
        self._call = loop.create_future()
        self._control_closed = loop.create_future()
        self.control = PPTPControl("client", self.pptp_config)
        self._control_timer = EngineTimer(loop, self.control.get_timer, self.control.handle_timer, self._flush_control)
        # Open the GRE socket first: without it the kernel answers the server's GRE with
        # ICMP protocol-unreachable, because this machine has no GRE handler of its own.
        self.raw = RawIpEndpoint.open(GRE_PROTOCOL, self.gateway_address, self._on_gre)
        self.status(Progress("control", f"contacting the PPTP server at {self.gateway_address}:{PPTP_PORT}"))
        self.tcp = await TcpStream.connect((self.gateway_address, PPTP_PORT), self._on_tcp, self._on_tcp_closed)
        self.control.connect(loop.time())
        self._flush_control()
        await self._until(self._call, "pptp")

    # -- control ---------------------------------------------------------------------------------

    def _on_tcp(self, data: bytes) -> None:
        if self.control is not None:
            self.control.receive_data(data, asyncio.get_running_loop().time())
            self._flush_control()

    def _on_tcp_closed(self, error: Exception | None) -> None:
        reason = "the PPTP server closed the control connection"
        if error is not None:
            reason += f" ({error})"
        self._carrier_lost(reason)
        if self._control_closed is not None and not self._control_closed.done():
            self._control_closed.set_result(reason)

    def _flush_control(self) -> None:
        assert self.control is not None and self._control_timer is not None
        data = self.control.data_to_send()
        if data and self.tcp is not None and not self.tcp.closed:
            self.tcp.send(data)
        while (event := self.control.next_event()) is not None:
            if isinstance(event, pev.ControlConnected):
                self._peer = f"{event.peer_vendor} {event.peer_host_name}".strip()
                self.status(Progress("control", f"PPTP control connection up ({self._peer or 'server'})"))
            elif isinstance(event, pev.CallEstablished):
                self.status(Progress("call", f"PPTP call {event.local_call_id}/{event.peer_call_id} up; starting PPP"))
                # Ready for GRE at once: the server may send its first LCP frame right away.
                self.gre = GRESession.from_call(event)
                loop = asyncio.get_running_loop()
                self._gre_timer = EngineTimer(loop, self.gre.get_timer, self.gre.handle_timer, self._flush_gre)
                if self._call is not None and not self._call.done():
                    self._call.set_result(event)
            elif isinstance(event, pev.CallCleared):
                self._carrier_lost(event.reason)
            elif isinstance(event, pev.ControlClosed):
                self._carrier_lost(event.reason)
                if self._control_closed is not None and not self._control_closed.done():
                    self._control_closed.set_result(event.reason)
            elif isinstance(event, pev.EchoTimeout):
                self._carrier_lost(f"the PPTP server stopped answering keepalives for {event.waited:g} s")
        data = self.control.data_to_send()
        if data and self.tcp is not None and not self.tcp.closed:
            self.tcp.send(data)
        self._control_timer.rearm()

    # -- data ------------------------------------------------------------------------------------

    def _on_gre(self, packet: bytes) -> None:
        if self.gre is not None:
            self.gre.receive_packet(packet, asyncio.get_running_loop().time())
            self._flush_gre()

    def _send_gre(self) -> None:
        assert self.gre is not None
        for datagram in self.gre.datagrams_to_send():
            if self.raw is not None:
                self.raw.send(datagram)

    def _flush_gre(self) -> None:
        assert self.gre is not None and self._gre_timer is not None
        self._send_gre()
        while (event := self.gre.next_event()) is not None:
            if isinstance(event, pev.PPPFrameReceived):
                self._carrier_frame(event.frame)
        self._send_gre()
        self._gre_timer.rearm()

    def _carrier_send(self, frame: bytes) -> None:
        if self.gre is not None:
            self.gre.send_ppp(frame, asyncio.get_running_loop().time())
            self._send_gre()
            assert self._gre_timer is not None
            self._gre_timer.rearm()

    async def _close_carrier(self, reason: str) -> None:
        try:
            if self.control is not None and not self.control.closed and self._control_closed is not None:
                self.control.close(asyncio.get_running_loop().time(), reason)
                self._flush_control()
                await asyncio.shield(self._control_closed)
        finally:
            for timer in (self._control_timer, self._gre_timer):
                if timer is not None:
                    timer.cancel()
            if self.gre is not None:
                self.gre.close()
            if self.tcp is not None:
                self.tcp.close()
            if self.raw is not None:
                self.raw.close()

    def _carrier_items(self) -> list[tuple[str, str]]:
        items = [("transport", "TCP 1723 control, GRE data")]
        if self._peer:
            items.append(("server", self._peer))
        return items
