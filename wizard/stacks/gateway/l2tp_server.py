"""L2TP network server (LNS): one UDP socket on 1701, one :class:`L2TPConnection` per client tunnel.

Datagrams are demultiplexed by the client's address and port. A new tunnel is only created for a
control message addressed to tunnel id 0 (an SCCRQ); anything else from an unknown peer is dropped
and counted. Each established session carries one :class:`ServerSession` (PPP server + TUN).
A tunnel stays in the table until its engine is finished, so late retransmissions are still acked.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os

from wizard.engine.errors import LocalProtocolError, ParseError
from wizard.engine.l2tp import events as lev
from wizard.engine.l2tp.config import L2TPConfig
from wizard.engine.l2tp.connection import L2TPConnection, TunnelState
from wizard.engine.l2tp.constants import MessageType
from wizard.engine.l2tp.header import decode_header
from wizard.engine.l2tp.messages import decode_control
from wizard.net.errors import NetError
from wizard.stacks.gateway.session import ServerSession, SessionEnd
from wizard.stacks.gateway.shared import GatewayShared
from wizard.stacks.gateway.udp_server import Peer, UdpServer
from wizard.stacks.timer import EngineTimer

MAX_TUNNELS = 256
CLOSE_GRACE = 3.0


class L2tpTunnel:
    """One client tunnel and its sessions."""

    def __init__(self, server: L2tpServer, peer: Peer, local: str | None) -> None:
        self.server = server
        self.peer = peer
        self.local = local  # the gateway address the client talks to: our replies come from it
        self.loop = asyncio.get_running_loop()
        self.label = f"l2tp {peer[0]}:{peer[1]}"
        self.log = server.shared.log
        config = server.shared.config
        self.conn = L2TPConnection(
            "lns", L2TPConfig(host_name=config.host_name, secret=config.l2tp_secret, peer_address=peer[0])
        )
        self.sessions: dict[int, ServerSession] = {}
        self.closed = self.loop.create_future()
        self.stopped_by_peer = False  # the client sent StopCCN (acked at once): nothing left to wait for
        self._secret = config.l2tp_secret.encode("utf-8") if config.l2tp_secret else None
        self._timer = EngineTimer(self.loop, self.conn.get_timer, self.conn.handle_timer, self.flush)

    @property
    def can_be_replaced(self) -> bool:
        """A closing tunnel may give way to a new SCCRQ from the same address and port."""
        return self.conn.state in (TunnelState.CLOSING, TunnelState.CLOSED)

    def receive(self, data: bytes) -> None:
        if self.conn.state is TunnelState.CLOSING and not self.stopped_by_peer and self._is_stopccn(data):
            self.stopped_by_peer = True
            if not self.closed.done():
                self.loop.call_soon(self._finish)  # after the engine has acked it
        self.conn.receive_datagram(data, self.loop.time())
        self.flush()

    def _is_stopccn(self, data: bytes) -> bool:
        """Both ends sent StopCCN: the engine only lingers to ack duplicates, which a stopping gateway skips."""
        if not self.server.shared.stopping:
            return False
        try:
            header, payload = decode_header(data)
            msg = decode_control(payload, self._secret) if header.is_control else None
        except ParseError:
            return False
        return msg is not None and msg.msg_type == MessageType.STOPCCN

    def _send(self) -> None:
        for datagram in self.conn.datagrams_to_send():
            self.server.udp_send(datagram, self.peer, self.local)

    def flush(self) -> None:
        self._send()
        while (event := self.conn.next_event()) is not None:
            if isinstance(event, lev.PPPFrameReceived):
                session = self.sessions.get(event.session_id)
                if session is not None:
                    session.receive_frame(event.frame)
            elif isinstance(event, lev.TunnelUp):
                self.log(
                    f"{self.label}: connected (tunnel {event.local_tunnel_id}/{event.peer_tunnel_id}, "
                    f"{event.peer_host_name or 'unnamed client'})"
                )
            elif isinstance(event, lev.SessionUp):
                self._start_session(event)
            elif isinstance(event, lev.SessionClosed):
                gone = self.sessions.get(event.session_id)
                if gone is not None:
                    gone.lower_layer_down(event.reason)
            elif isinstance(event, lev.TunnelClosed):
                self.stopped_by_peer = self.stopped_by_peer or event.by_peer
                for session in list(self.sessions.values()):
                    session.lower_layer_down(event.reason)
                self.log(f"{self.label}: tunnel closed: {event.reason}")
        self._send()
        if self.conn.finished:
            self._finish()
        else:
            self._timer.rearm()

    def _start_session(self, up: lev.SessionUp) -> None:
        sid = up.session_id
        label = f"{self.label} session {sid}"
        self.log(f"{label}: call up, starting PPP")
        session = ServerSession(
            label,
            self.server.ppp_config,
            lambda frame: self._send_frame(sid, frame),
            self.log,
            lambda end: self._session_ended(sid, end),
            mtu_cap=self.server.shared.config.mtu,
        )
        self.sessions[sid] = session
        self.server.shared.sessions.add(session)
        session.start()

    def _send_frame(self, sid: int, frame: bytes) -> None:
        try:
            self.conn.send_ppp(frame, sid)
        except LocalProtocolError:
            return  # the session or tunnel is going away; PPP learns it from the close
        self._send()

    def _session_ended(self, sid: int, end: SessionEnd) -> None:
        session = self.sessions.pop(sid, None)
        if session is not None:
            self.server.shared.sessions.discard(session)
        if self.conn.state is TunnelState.ESTABLISHED and sid in self.conn.sessions:
            with contextlib.suppress(LocalProtocolError):
                self.conn.close_session(self.loop.time(), sid, end.reason)
        self.flush()

    async def close(self, reason: str) -> None:
        """Hang up every session (PPP Terminate), then StopCCN; wait for its ack, bounded."""
        await asyncio.gather(*(s.close(reason) for s in list(self.sessions.values())), return_exceptions=True)
        if not self.conn.finished:
            self.conn.close(self.loop.time(), reason)
            self.flush()
        if not self.stopped_by_peer:  # otherwise only lingering for duplicates: not worth waiting
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self.closed), CLOSE_GRACE)
        self._finish()

    def _finish(self) -> None:
        if self.closed.done():
            return
        self._timer.cancel()
        for session in list(self.sessions.values()):
            session.lower_layer_down("the L2TP tunnel is gone")
        self.server.release(self)
        self.closed.set_result(None)


class L2tpServer:
    """The LNS: owns the UDP socket and the tunnel table."""

    def __init__(self, shared: GatewayShared) -> None:
        self.shared = shared
        self.ppp_config = shared.config.ppp_config("l2tp", shared.pool)
        self.tunnels: dict[Peer, L2tpTunnel] = {}
        self.udp: UdpServer | None = None
        self.dropped = 0

    async def start(self) -> None:
        config = self.shared.config
        port = config.policies["l2tp"].port
        try:
            self.udp = UdpServer.open((config.listen, port), self._on_datagram)
        except OSError as exc:
            why = os.strerror(exc.errno).lower() if exc.errno else str(exc)
            hint = " (is another L2TP server, such as xl2tpd, running?)" if exc.errno == errno.EADDRINUSE else ""
            raise NetError(f"cannot listen on UDP {config.listen}:{port} for L2TP: {why}{hint}") from None
        self.shared.log(f"gateway: L2TP listening on {config.listen}:{port}")

    def udp_send(self, data: bytes, peer: Peer, local: str | None) -> None:
        if self.udp is not None:
            self.udp.send(data, peer, local)

    def _on_datagram(self, data: bytes, peer: Peer, local: str | None) -> None:
        tunnel = self.tunnels.get(peer)
        if tunnel is None or (tunnel.can_be_replaced and _is_new_tunnel(data)):
            if self.shared.stopping or len(self.tunnels) >= MAX_TUNNELS or not _is_new_tunnel(data):
                self.dropped += 1
                return
            if tunnel is not None:
                tunnel._finish()
            tunnel = L2tpTunnel(self, peer, local)
            self.tunnels[peer] = tunnel
        tunnel.receive(data)
        if tunnel.conn.state is TunnelState.IDLE:  # the engine did not take it as an SCCRQ: forget it
            self.dropped += 1
            tunnel._finish()

    def release(self, tunnel: L2tpTunnel) -> None:
        if self.tunnels.get(tunnel.peer) is tunnel:
            del self.tunnels[tunnel.peer]

    async def stop(self, reason: str) -> None:
        await asyncio.gather(*(t.close(reason) for t in list(self.tunnels.values())), return_exceptions=True)
        if self.udp is not None:
            self.udp.close()


def _is_new_tunnel(data: bytes) -> bool:
    """A control message to tunnel 0 with Ns 0: the start of a new tunnel (SCCRQ)."""
    try:
        header, _ = decode_header(data)
    except ParseError:
        return False
    return header.is_control and header.tunnel_id == 0 and header.ns == 0
