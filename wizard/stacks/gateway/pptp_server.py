"""PPTP server: TCP 1723 control connections, one call each, PPP over enhanced GRE (IP protocol 47).

Per client: a :class:`PPTPControl` in the server (PAC) role, a raw GRE socket connected to the
client's address (opened at accept time, so the kernel never answers the client's first GRE packets
with protocol-unreachable), and after the call a :class:`GRESession` carrying a :class:`ServerSession`.
Several clients behind one address each get their own call id; every raw socket sees all GRE from
that address and the GRE session drops packets for other call ids.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import socket
from collections.abc import Callable

from wizard.engine.errors import LocalProtocolError
from wizard.engine.pptp import events as pev
from wizard.engine.pptp.control import PPTPConfig, PPTPControl
from wizard.engine.pptp.gre_session import GRESession
from wizard.net.errors import NetError, TransportError
from wizard.net.transports import IPPROTO_GRE, RawIpEndpoint, TcpStream
from wizard.stacks.gateway.session import Log, ServerSession, SessionEnd
from wizard.stacks.gateway.shared import GatewayShared
from wizard.stacks.timer import EngineTimer

CLOSE_GRACE = 3.0


class CallIds:
    """Call ids in use on this gateway (1..65535), so GRE demultiplexing never confuses two calls."""

    def __init__(self) -> None:
        self._used: set[int] = set()
        self._next = 1

    def allocate(self) -> int | None:
        for _ in range(0xFFFF):
            candidate, self._next = self._next, self._next % 0xFFFF + 1
            if candidate not in self._used:
                self._used.add(candidate)
                return candidate
        return None

    def release(self, call_id: int) -> None:
        self._used.discard(call_id)


class PptpClient:
    """One client's control connection, GRE socket and (after the call) PPP session."""

    def __init__(
        self, server: PptpServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, call_id: int
    ) -> None:
        self.server = server
        self.loop = asyncio.get_running_loop()
        peer = writer.get_extra_info("peername")
        self.peer_ip = str(peer[0])
        self.label = f"pptp {peer[0]}:{peer[1]}"
        self.log: Log = server.shared.log
        self.call_id = call_id
        self.control = PPTPControl("server", PPTPConfig(host_name=server.shared.config.host_name, call_id=call_id))
        self.gre: GRESession | None = None
        self.session: ServerSession | None = None
        self.raw: RawIpEndpoint | None = None
        self.closed = self.loop.create_future()
        self._control_timer = EngineTimer(self.loop, self.control.get_timer, self.control.handle_timer, self._flush)
        self._gre_timer: EngineTimer | None = None
        self.raw = _gre_endpoint(str(writer.get_extra_info("sockname")[0]), self.peer_ip, self._on_gre, self.loop)
        self.tcp = TcpStream(reader, writer, self._on_tcp, self._on_tcp_closed)
        self.control.connect(self.loop.time())
        self._flush()

    # -- control ---------------------------------------------------------------------------------

    def _on_tcp(self, data: bytes) -> None:
        self.control.receive_data(data, self.loop.time())
        self._flush()

    def _on_tcp_closed(self, error: Exception | None) -> None:
        reason = "the client closed the control connection"
        if error is not None:
            reason += f" ({error})"
        self._finish(reason)

    def _send_control(self) -> None:
        data = self.control.data_to_send()
        if data and not self.tcp.closed:
            self.tcp.send(data)

    def _flush(self) -> None:
        self._send_control()
        while (event := self.control.next_event()) is not None:
            if isinstance(event, pev.ControlConnected):
                who = f"{event.peer_vendor} {event.peer_host_name}".strip() or "unnamed client"
                self.log(f"{self.label}: connected ({who})")
            elif isinstance(event, pev.CallEstablished):
                self._start_call(event)
            elif isinstance(event, pev.CallCleared):
                self._call_gone(event.reason)
            elif isinstance(event, pev.ControlClosed):
                self._send_control()
                self._finish(event.reason)
                return
        self._send_control()
        self._control_timer.rearm()

    def _start_call(self, call: pev.CallEstablished) -> None:
        self.log(f"{self.label}: call {call.local_call_id}/{call.peer_call_id} up, starting PPP")
        self.gre = GRESession.from_call(call)
        self._gre_timer = EngineTimer(self.loop, self.gre.get_timer, self.gre.handle_timer, self._flush_gre)
        self.session = ServerSession(
            self.label,
            self.server.ppp_config,
            self._send_frame,
            self.log,
            self._session_ended,
            mtu_cap=self.server.shared.config.mtu,
        )
        self.server.shared.sessions.add(self.session)
        self.session.start()

    def _call_gone(self, reason: str) -> None:
        if self.session is not None:
            self.session.lower_layer_down(reason)
        if self.gre is not None:
            self.gre.close()
        if self._gre_timer is not None:
            self._gre_timer.cancel()

    def _session_ended(self, end: SessionEnd) -> None:
        if self.session is not None:
            self.server.shared.sessions.discard(self.session)
        if not self.control.closed and not self.closed.done():
            self.control.close(self.loop.time(), end.reason)
            self._flush()

    # -- data ------------------------------------------------------------------------------------

    def _on_gre(self, packet: bytes) -> None:
        if self.gre is not None:
            self.gre.receive_packet(packet, self.loop.time())
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
            if isinstance(event, pev.PPPFrameReceived) and self.session is not None:
                self.session.receive_frame(event.frame)
        self._send_gre()
        self._gre_timer.rearm()

    def _send_frame(self, frame: bytes) -> None:
        if self.gre is None:
            return
        try:
            self.gre.send_ppp(frame, self.loop.time())
        except LocalProtocolError:
            return  # the call is being cleared
        self._send_gre()
        assert self._gre_timer is not None
        self._gre_timer.rearm()

    # -- shutdown --------------------------------------------------------------------------------

    async def close(self, reason: str) -> None:
        """Hang up: PPP Terminate, then Call-Disconnect-Notify and Stop-Control-Connection (bounded)."""
        if self.session is not None:
            await self.session.close(reason)
        if not self.control.closed:
            self.control.close(self.loop.time(), reason)
            self._flush()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self.closed), CLOSE_GRACE)
        self._finish(reason)

    def _finish(self, reason: str) -> None:
        if self.closed.done():
            return
        self._call_gone(reason)
        self._control_timer.cancel()
        self.tcp.close()
        if self.raw is not None:
            self.raw.close()
        self.server.release(self)
        if self.session is None:
            self.log(f"{self.label}: closed: {reason}")
        self.closed.set_result(reason)


def _gre_endpoint(
    local: str, remote: str, on_packet: Callable[[bytes], None], loop: asyncio.AbstractEventLoop
) -> RawIpEndpoint:
    """A raw GRE socket to ``remote`` sending from ``local``, the address the client dialled.

    The client filters GRE by source address, so on a gateway listening on several addresses the
    GRE must leave from the one its TCP connection went to, not whatever the route prefers.
    """
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, IPPROTO_GRE)
    except OSError as exc:
        raise TransportError(f"could not open a raw GRE socket: {exc.strerror or exc}") from None
    try:
        sock.setblocking(False)
        sock.bind((local, 0))
        sock.connect((remote, 0))
    except OSError as exc:
        sock.close()
        raise TransportError(f"could not address {remote} with GRE from {local}: {exc.strerror or exc}") from None
    return RawIpEndpoint(sock, IPPROTO_GRE, remote, on_packet, None, loop)


class PptpServer:
    """Accepts PPTP control connections on ``listen``:``port``."""

    def __init__(self, shared: GatewayShared) -> None:
        self.shared = shared
        self.ppp_config = shared.config.ppp_config("pptp", shared.pool)
        self.clients: set[PptpClient] = set()
        self.call_ids = CallIds()
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        config = self.shared.config
        port = config.policies["pptp"].port
        try:
            self._server = await asyncio.start_server(self._accept, config.listen, port, reuse_address=True)
        except OSError as exc:
            why = os.strerror(exc.errno).lower() if exc.errno else str(exc)
            hint = " (is another PPTP server, such as pptpd, running?)" if exc.errno == errno.EADDRINUSE else ""
            raise NetError(f"cannot listen on TCP {config.listen}:{port} for PPTP: {why}{hint}") from None
        self.shared.log(f"gateway: PPTP listening on {config.listen}:{port}")

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        call_id = None if self.shared.stopping else self.call_ids.allocate()
        if call_id is None:
            writer.close()
            return
        try:
            client = PptpClient(self, reader, writer, call_id)
        except NetError as exc:
            self.call_ids.release(call_id)
            self.shared.log(f"pptp {peer[0]}:{peer[1]}: refused: {exc.reason}")
            writer.close()
            return
        self.clients.add(client)

    def release(self, client: PptpClient) -> None:
        self.clients.discard(client)
        self.call_ids.release(client.call_id)

    async def stop(self, reason: str) -> None:
        if self._server is not None:
            self._server.close()
        await asyncio.gather(*(client.close(reason) for client in list(self.clients)), return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 1.0)
