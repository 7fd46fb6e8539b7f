"""The helper's socket server: clients, requests, sessions and the event stream.

Each client connection has a reader (one request at a time, lines bounded at 1 MiB: a longer line
is skipped to its newline and answered with an error, and the connection stays usable) and a
writer fed by a bounded outbox. Events for subscribers are droppable: a subscriber whose outbox
fills up is unsubscribed with a note instead of making the helper buffer without end; a client
that does not even read its replies is disconnected.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from wizard import __version__
from wizard.helper import rpc
from wizard.helper.peer import PeerCredentials, peer_credentials, refusal
from wizard.helper.polkit import ACTION_KILL_SWITCH, PolkitAuthority
from wizard.helper.rpc import ErrorCode, RpcError
from wizard.helper.session import Session, SessionContext, State

log = logging.getLogger("wizard.helper.server")

EVENT_BACKLOG = 256  # queued messages before a subscriber counts as too slow
REPLY_BACKLOG = 1024  # queued messages before a client that does not read is dropped
READ_CHUNK = 65536
MAX_CLIENTS = 64
MAX_SESSIONS_PER_USER = 8
TICK = 1.0


class Client:
    """One connected peer."""

    def __init__(
        self, server: HelperServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: PeerCredentials
    ) -> None:
        self.server = server
        self.reader = reader
        self.writer = writer
        self.peer = peer
        self.subscribed = False
        self.session_filter: str | None = None
        self._outbox: collections.deque[bytes] = collections.deque()
        self._ready = asyncio.Event()
        self._closing = False
        self.dropped_events = 0

    # --- output ----------------------------------------------------------------------------------

    def send(self, message: dict[str, Any]) -> None:
        if self._closing:
            return
        if len(self._outbox) >= REPLY_BACKLOG:
            log.warning(
                "client pid %d (uid %d) does not read its replies; disconnecting it", self.peer.pid, self.peer.uid
            )
            self.close()
            return
        self._outbox.append(rpc.encode(message))
        self._ready.set()

    def send_event(self, message: dict[str, Any]) -> None:
        if not self.subscribed or self._closing:
            return
        if len(self._outbox) >= EVENT_BACKLOG:
            self.subscribed = False
            self.dropped_events += 1
            self.send(
                rpc.event(
                    "note",
                    code="subscription_dropped",
                    message="you were not reading events fast enough, so the helper stopped sending them; subscribe again",
                )
            )
            return
        self.send(rpc.event(message["event"], **{k: v for k, v in message.items() if k != "event"}))

    async def _write_loop(self) -> None:
        try:
            while not self._closing:
                await self._ready.wait()
                self._ready.clear()
                while self._outbox:
                    self.writer.write(self._outbox.popleft())
                    await self.writer.drain()
        except (ConnectionError, OSError):
            self.close()

    def close(self) -> None:
        self._closing = True
        self.subscribed = False
        self._ready.set()
        self.writer.close()

    # --- input -----------------------------------------------------------------------------------

    async def lines(self) -> AsyncIterator[bytes | RpcError]:
        """Yield request lines; a line over the limit yields an RpcError(TOO_LARGE) in its place."""
        buffer = bytearray()
        skipping = False
        while True:
            chunk = await self.reader.read(READ_CHUNK)
            if not chunk:
                return
            buffer += chunk
            while True:
                newline = buffer.find(b"\n")
                if newline < 0:
                    if len(buffer) > rpc.MAX_LINE:
                        skipping = True
                        buffer.clear()
                    break
                line = bytes(buffer[:newline])
                del buffer[: newline + 1]
                if skipping or len(line) > rpc.MAX_LINE:
                    skipping = False
                    yield RpcError(
                        ErrorCode.TOO_LARGE, f"the request is larger than {rpc.MAX_LINE} bytes; it was ignored"
                    )
                    continue
                if line.strip():
                    yield line.rstrip(b"\r")

    async def serve(self) -> None:
        writer_task = asyncio.get_running_loop().create_task(self._write_loop())
        try:
            async for item in self.lines():
                if self._closing:
                    break
                if isinstance(item, RpcError):
                    self.send(item.to_reply())
                    continue
                await self.handle_line(item)
        except (ConnectionError, OSError):
            pass
        finally:
            self.subscribed = False
            # let queued replies go out before closing
            with contextlib.suppress(Exception):
                if self._outbox and not self._closing:
                    self._ready.set()
                    await asyncio.wait_for(self._drain_outbox(), 2.0)
            self.close()
            writer_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await writer_task

    async def _drain_outbox(self) -> None:
        while self._outbox:
            await asyncio.sleep(0.01)

    async def handle_line(self, line: bytes) -> None:
        try:
            request = rpc.parse_request(line)
        except RpcError as exc:
            self.send(exc.to_reply())
            return
        try:
            result = await self.server.dispatch(self, request)
        except RpcError as exc:
            self.send(rpc.error_reply(request.id, exc.code, exc.message))
        except Exception as exc:
            log.exception("request %s failed", request.method)
            self.send(rpc.error_reply(request.id, ErrorCode.INTERNAL, f"the helper failed: {type(exc).__name__}"))
        else:
            self.send(rpc.result_reply(request.id, result))


class HelperServer:
    """Sessions and clients; ``dispatch`` maps each request method to its handler."""

    def __init__(self, ctx: SessionContext, group: str, polkit: PolkitAuthority | None = None) -> None:
        self.group = group
        self.polkit = polkit if polkit is not None else PolkitAuthority(enabled=False)
        self.ctx = ctx
        ctx.publish = self.publish
        ctx.on_finished = self._session_finished
        self.sessions: dict[str, Session] = {}
        self.clients: set[Client] = set()
        self._tick_task: asyncio.Task[None] | None = None
        self._handlers: dict[str, Callable[[Client, Any], Awaitable[dict[str, Any]]]] = {
            "hello": self._hello,
            "connect": self._connect,
            "disconnect": self._disconnect,
            "status": self._status,
            "list_sessions": self._list,
            "subscribe": self._subscribe,
            "unsubscribe": self._unsubscribe,
        }

    # --- connections -----------------------------------------------------------------------------

    async def handle_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        try:
            peer = peer_credentials(sock)
        except OSError:
            writer.close()
            return
        denied = refusal(peer, self.group)
        if denied is None and len(self.clients) >= MAX_CLIENTS:
            denied = f"the helper already serves {MAX_CLIENTS} clients; try again later"
        if denied is not None:
            log.info("refused pid %d uid %d: %s", peer.pid, peer.uid, denied)
            with contextlib.suppress(Exception):
                writer.write(rpc.encode(rpc.error_reply(None, ErrorCode.FORBIDDEN, denied)))
                writer.write_eof()
                await asyncio.wait_for(writer.drain(), 2.0)
                # Closing with the client's request unread would reset the connection before the
                # client has read why it was refused: swallow what it sends for a moment first.
                await asyncio.wait_for(_discard(reader), 1.0)
            writer.close()
            return
        client = Client(self, reader, writer, peer)
        self.clients.add(client)
        try:
            await client.serve()
        finally:
            self.clients.discard(client)

    def start_ticker(self) -> None:
        self._tick_task = asyncio.get_running_loop().create_task(self._ticker())

    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(TICK)
            now = time.monotonic()
            for session in list(self.sessions.values()):
                if session.state is State.CONNECTED:
                    session.tick(now)
                    self.publish(session, {"event": "counters", "session": session.id, "counters": session.counters()})

    # --- events ----------------------------------------------------------------------------------

    def publish(self, session: Session, message: dict[str, Any]) -> None:
        for client in list(self.clients):
            if not client.subscribed or not _may_see(client.peer, session):
                continue
            if client.session_filter is not None and client.session_filter != session.id:
                continue
            client.send_event(message)

    def _session_finished(self, session: Session) -> None:
        self.sessions.pop(session.id, None)

    # --- requests --------------------------------------------------------------------------------

    async def dispatch(self, client: Client, request: rpc.Request) -> dict[str, Any]:
        return await self._handlers[request.method](client, request.params)

    def _visible(self, peer: PeerCredentials) -> list[Session]:
        return [s for s in self.sessions.values() if _may_see(peer, s)]

    def _find(self, peer: PeerCredentials, session_id: str) -> Session:
        session = self.sessions.get(session_id)
        if session is None or not _may_see(peer, session):
            raise RpcError(ErrorCode.NOT_FOUND, f"there is no session {session_id!r} that you started")
        return session

    async def _hello(self, client: Client, params: rpc.HelloParams) -> dict[str, Any]:
        return {
            "version": rpc.PROTOCOL_VERSION,
            "server": f"connection-wizard-helper {__version__}",
            "uid": client.peer.uid,
            "gid": client.peer.gid,
            "pid": client.peer.pid,
            "is_root": client.peer.is_root,
            "methods": list(rpc.METHODS),
        }

    async def _connect(self, client: Client, params: rpc.ConnectParams) -> dict[str, Any]:
        peer = client.peer
        mine = [s for s in self.sessions.values() if s.owner.uid == peer.uid]
        for session in mine:
            if session.profile.id == params.profile.id and session.state is not State.DISCONNECTED:
                raise RpcError(
                    ErrorCode.LIMIT,
                    f"{params.profile.name!r} is already {session.state.value} (session {session.id}); disconnect it first",
                )
        if len(mine) >= MAX_SESSIONS_PER_USER:
            raise RpcError(ErrorCode.LIMIT, f"you already have {len(mine)} sessions; disconnect one first")
        if params.profile.kill_switch.enabled:
            decision = await self.polkit.check(peer, ACTION_KILL_SWITCH)
            if not decision.allowed:
                raise RpcError(ErrorCode.FORBIDDEN, f"the kill switch was not allowed: {decision.reason}")
        session = Session(peer, params.profile, params.secrets, self.ctx, files=params.files)
        self.sessions[session.id] = session
        log.info(
            "uid %d connects %r (%s), session %s",
            peer.uid,
            params.profile.name,
            params.profile.protocol.value,
            session.id,
        )
        session.start()
        return {"session": session.snapshot()}

    async def _disconnect(self, client: Client, params: rpc.DisconnectParams) -> dict[str, Any]:
        session = self._find(client.peer, params.session)
        log.info("uid %d disconnects session %s", client.peer.uid, session.id)
        await session.disconnect()
        return {"session": session.snapshot()}

    async def _status(self, client: Client, params: rpc.StatusParams) -> dict[str, Any]:
        if params.session is not None:
            return {"session": self._find(client.peer, params.session).snapshot()}
        return {"sessions": [s.snapshot() for s in self._visible(client.peer)]}

    async def _list(self, client: Client, params: rpc.ListSessionsParams) -> dict[str, Any]:
        keys = ("id", "profile_id", "name", "protocol", "owner_uid", "state", "kill_switch")
        return {"sessions": [{k: s.snapshot()[k] for k in keys} for s in self._visible(client.peer)]}

    async def _subscribe(self, client: Client, params: rpc.SubscribeParams) -> dict[str, Any]:
        if params.session is not None:
            self._find(client.peer, params.session)
        client.subscribed = True
        client.session_filter = params.session
        return {"subscribed": True, "sessions": [s.snapshot() for s in self._visible(client.peer)]}

    async def _unsubscribe(self, client: Client, params: rpc.UnsubscribeParams) -> dict[str, Any]:
        client.subscribed = False
        return {"subscribed": False}

    # --- shutdown --------------------------------------------------------------------------------

    async def shutdown(self) -> None:
        """Stop: every session ends deliberately (its changes and the kill switch are removed)."""
        if self._tick_task is not None:
            self._tick_task.cancel()
        for session in list(self.sessions.values()):
            try:
                await session.disconnect("the helper is shutting down")
            except Exception:
                log.exception("session %s did not shut down cleanly", session.id)
        for client in list(self.clients):
            client.close()


async def _discard(reader: asyncio.StreamReader, limit: int = rpc.MAX_LINE) -> None:
    while limit > 0 and (chunk := await reader.read(READ_CHUNK)):
        limit -= len(chunk)


def _may_see(peer: PeerCredentials, session: Session) -> bool:
    return peer.is_root or session.owner.uid == peer.uid
