"""A fake helper for GUI tests: the real wire protocol on a Unix socket, scripted sessions.

It runs an asyncio server in its own thread and parses every request with the helper's own
``wizard.helper.rpc.parse_request``, so the GUI is held to the real schema. Sessions do what the
test says: connect at once (or fail, or hang), then the test drives them (counters, link lost,
reconnected, gave up). ``stop()`` closes the socket and every client like a helper that died;
``start()`` again brings it back on the same path. Never used by the product.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wizard.helper import rpc
from wizard.helper.rpc import ConnectParams, DisconnectParams, ErrorCode, RpcError

ADDRESS = "10.99.0.2"


@dataclass
class FakeSession:
    id: str
    profile_id: str
    name: str
    protocol: str
    username: str
    secrets: dict[str, str]
    state: str = "connecting"
    message: str = "starting"
    reason: str = ""
    started: float = field(default_factory=time.time)
    counters: dict[str, float] = field(
        default_factory=lambda: {"bytes_in": 0, "bytes_out": 0, "packets_in": 0, "packets_out": 0, "dropped": 0,
                                 "uptime": 0.0, "rate_in": 0.0, "rate_out": 0.0}
    )
    negotiated: dict[str, str] = field(default_factory=dict)

    def snapshot(self) -> dict[str, Any]:
        return {
            "id": self.id, "profile_id": self.profile_id, "name": self.name, "protocol": self.protocol,
            "owner_uid": 1000, "state": self.state, "phase": "", "message": self.message, "reason": self.reason,
            "kill_switch": False, "ifname": "cw0" if self.state == "connected" else "", "attempt": 0,
            "next_retry_in": None, "started": self.started, "negotiated": dict(self.negotiated),
            "counters": dict(self.counters),
        }  # fmt: skip


class FakeHelper:
    """``behaviour`` maps a profile's user name to "ok" (default), "hang" or "fail:<reason>"."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.behaviour: dict[str, str] = {}
        self.requests: list[tuple[str, Any]] = []
        self.sessions: dict[str, FakeSession] = {}
        self._ids = itertools.count(1)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fake-helper", daemon=True)
        self._thread.start()
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._subscribers: set[asyncio.StreamWriter] = set()

    # --- control from the test thread ------------------------------------------------------------

    def run(self, function: Callable[[], Any]) -> Any:
        """Run ``function`` in the helper's loop and wait for its result."""

        async def call() -> Any:
            result = function()
            if asyncio.iscoroutine(result):
                result = await result
            return result

        return asyncio.run_coroutine_threadsafe(call(), self._loop).result(5.0)

    def start(self) -> FakeHelper:
        async def serve() -> None:
            self.path.unlink(missing_ok=True)
            self._server = await asyncio.start_unix_server(self._client, path=str(self.path))

        self.run(serve)
        return self

    def stop(self) -> None:
        """Die like a helper: the socket goes away and every client sees end-of-file."""

        async def close() -> None:
            if self._server is not None:
                self._server.close()
                self._server = None
            for writer in list(self._writers):
                writer.close()
            self._writers.clear()
            self._subscribers.clear()
            self.sessions.clear()
            self.path.unlink(missing_ok=True)

        self.run(close)

    def shutdown(self) -> None:
        self.stop()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5.0)

    def counters(self, session_id: str, **values: float) -> None:
        def send() -> None:
            session = self.sessions[session_id]
            session.counters.update(values)
            self._publish(rpc.event("counters", session=session_id, counters=dict(session.counters)))

        self.run(send)

    def link_lost(self, session_id: str, reason: str = "the gateway stopped answering (no LCP echo replies)") -> None:
        def send() -> None:
            session = self.sessions[session_id]
            self._publish(rpc.event("error", session=session_id, reason=reason, phase="ppp"))
            session.reason = reason
            self._set_state(session, "reconnecting", "connection lost; trying again in 2 s (attempt 1)")

        self.run(send)

    def reconnected(self, session_id: str) -> None:
        self.run(lambda: self._set_state(self.sessions[session_id], "connected", "connected"))

    def give_up(self, session_id: str, reason: str) -> None:
        def send() -> None:
            session = self.sessions.pop(session_id)
            self._publish(rpc.event("error", session=session_id, reason=reason, phase="ppp"))
            session.reason = reason
            self._set_state(session, "disconnected", "disconnected")

        self.run(send)

    def drop_subscription(self) -> None:
        """What the real helper does to a subscriber that reads too slowly."""

        def send() -> None:
            note = rpc.event("note", code="subscription_dropped", message="you were not reading events fast enough")
            self._publish(note)
            self._subscribers.clear()

        self.run(send)

    def methods(self) -> list[str]:
        return [method for method, _ in self.requests]

    # --- the server ------------------------------------------------------------------------------

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while line := await reader.readline():
                try:
                    request = rpc.parse_request(line.rstrip(b"\n"))
                    result = await self._dispatch(writer, request)
                except RpcError as exc:
                    self._send(writer, exc.to_reply())
                    continue
                self._send(writer, rpc.result_reply(request.id, result))
        except (ConnectionError, OSError):
            pass
        finally:
            self._writers.discard(writer)
            self._subscribers.discard(writer)
            writer.close()

    def _send(self, writer: asyncio.StreamWriter, message: dict[str, Any]) -> None:
        if not writer.is_closing():
            writer.write(rpc.encode(message))

    def _publish(self, message: dict[str, Any]) -> None:
        for writer in list(self._subscribers):
            self._send(writer, message)

    def _set_state(self, session: FakeSession, state: str, message: str) -> None:
        session.state, session.message = state, message
        if state == "connected":
            session.reason = ""
            session.negotiated = {"protocol": session.protocol, "address": ADDRESS, "encryption": "MPPE-128 stateless",
                                  "dns": "10.99.0.53"}  # fmt: skip
        self._publish(
            rpc.event("state", session=session.id, state=state, message=message, reason=session.reason, info=session.snapshot())
        )

    async def _dispatch(self, writer: asyncio.StreamWriter, request: rpc.Request) -> dict[str, Any]:
        params = request.params
        self.requests.append((request.method, params))
        if request.method == "hello":
            return {"version": rpc.PROTOCOL_VERSION, "server": "fake-helper", "uid": 1000, "gid": 1000, "pid": 1,
                    "is_root": False, "methods": list(rpc.METHODS)}  # fmt: skip
        if request.method == "subscribe":
            self._subscribers.add(writer)
            return {"subscribed": True, "sessions": [s.snapshot() for s in self.sessions.values()]}
        if request.method in ("status", "list_sessions"):
            return {"sessions": [s.snapshot() for s in self.sessions.values()]}
        if isinstance(params, ConnectParams):
            return self._connect(params)
        if isinstance(params, DisconnectParams):
            session = self.sessions.pop(params.session, None)
            if session is None:
                raise RpcError(ErrorCode.NOT_FOUND, f"there is no session {params.session!r} that you started", request.id)
            session.reason = "disconnected by the user"
            self._set_state(session, "disconnecting", "disconnecting")
            self._set_state(session, "disconnected", "disconnected")
            return {"session": session.snapshot()}
        raise RpcError(ErrorCode.UNKNOWN_METHOD, request.method, request.id)

    def _connect(self, params: ConnectParams) -> dict[str, Any]:
        profile = params.profile
        for other in self.sessions.values():
            if other.profile_id == profile.id:
                raise RpcError(ErrorCode.LIMIT, f"{profile.name!r} is already {other.state} (session {other.id})")
        session = FakeSession(
            id=f"s{next(self._ids)}", profile_id=profile.id, name=profile.name, protocol=profile.protocol.value,
            username=profile.auth.username, secrets=dict(params.secrets),
        )  # fmt: skip
        self.sessions[session.id] = session
        behaviour = self.behaviour.get(profile.auth.username, "ok")
        self._loop.call_later(0.02, self._progress, session, behaviour)
        return {"session": session.snapshot()}

    def _progress(self, session: FakeSession, behaviour: str) -> None:
        if session.id not in self.sessions:
            return
        self._publish(rpc.event("progress", session=session.id, phase="control", message="opening the control connection"))
        if behaviour == "hang":
            return
        if behaviour.startswith("fail:"):
            reason = behaviour.removeprefix("fail:")
            self.sessions.pop(session.id, None)
            self._publish(rpc.event("error", session=session.id, reason=reason, phase="ppp-auth"))
            session.reason = reason
            self._set_state(session, "disconnected", "disconnected")
            return
        self._set_state(session, "connected", "connected")


@contextlib.contextmanager
def running_fake_helper(path: Path) -> Any:
    helper = FakeHelper(path).start()
    try:
        yield helper
    finally:
        helper.shutdown()
