"""Async client for the helper's socket, shared by the CLI and the GUI.

Requests get increasing ids; a reader task matches replies to waiting calls and puts events
(after ``subscribe``) on a queue that :meth:`HelperClient.events` iterates. Every failure is a
:class:`HelperError` whose message can be shown to the user as it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import itertools
import json
import socket
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from wizard.helper.rpc import PROTOCOL_VERSION, encode, request
from wizard.profiles.codec import profile_to_dict
from wizard.profiles.files import read_profile_files
from wizard.profiles.model import Profile

DEFAULT_SOCKET = Path("/run/connection-wizard/helper.sock")
HELPER_GROUP = "connection-wizard"
READ_LIMIT = 4 * 1024 * 1024
CALL_TIMEOUT = 60.0


class HelperError(Exception):
    """The helper refused a request or could not be reached; ``str()`` is for the user."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class HelperUnavailable(HelperError):
    """No helper answers on the socket, or we may not use it."""


def unavailable(path: Path, exc: OSError) -> HelperUnavailable:
    if isinstance(exc, PermissionError):
        user = getpass.getuser()
        return HelperUnavailable(
            "forbidden",
            f"you may not use the Connection Wizard helper: {path} is open only to root and the group "
            f"'{HELPER_GROUP}'. Ask an administrator to run 'usermod -aG {HELPER_GROUP} {user}', then log in again.",
        )
    if isinstance(exc, FileNotFoundError | ConnectionRefusedError):
        return HelperUnavailable(
            "unavailable",
            f"the Connection Wizard helper is not running (nothing answers on {path}). Start it with "
            "'sudo systemctl start connection-wizard.socket', or run 'sudo connection-wizard helper'.",
        )
    return HelperUnavailable(
        "unavailable", f"cannot reach the Connection Wizard helper on {path}: {exc.strerror or exc}"
    )


class HelperClient:
    """One connection to the helper. Use ``async with await HelperClient.open() as client``."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._events: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._closed_reason: HelperError | None = None
        self._task = asyncio.get_running_loop().create_task(self._read_loop())

    @classmethod
    async def open(cls, path: Path = DEFAULT_SOCKET, *, sock: socket.socket | None = None) -> HelperClient:
        """Connect to the socket at ``path`` (or use an already connected ``sock``)."""
        try:
            if sock is not None:
                reader, writer = await asyncio.open_unix_connection(sock=sock, limit=READ_LIMIT)
            else:
                reader, writer = await asyncio.open_unix_connection(str(path), limit=READ_LIMIT)
        except OSError as exc:
            raise unavailable(path, exc) from None
        return cls(reader, writer)

    async def __aenter__(self) -> HelperClient:
        return self

    async def __aexit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        await self.close()

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task
        self._writer.close()
        with contextlib.suppress(Exception):
            await self._writer.wait_closed()

    # --- plumbing --------------------------------------------------------------------------------

    async def _read_loop(self) -> None:
        reason: HelperError = HelperUnavailable("closed", "the helper closed the connection")
        try:
            while True:
                try:
                    line = await self._reader.readline()
                except ValueError:
                    reason = HelperError("protocol", "the helper sent a message that is too long")
                    break
                if not line:
                    break
                try:
                    message = json.loads(line)
                except ValueError:
                    continue
                if not isinstance(message, dict):
                    continue
                self._dispatch(message)
        except (ConnectionError, OSError) as exc:
            reason = HelperUnavailable("closed", f"the connection to the helper broke: {exc}")
        finally:
            if self._closed_reason is None:
                self._closed_reason = reason
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(self._closed_reason)
            self._pending.clear()
            self._events.put_nowait(None)

    def _dispatch(self, message: dict[str, Any]) -> None:
        request_id = message.get("id")
        if "event" in message:
            self._events.put_nowait(message)
        elif isinstance(request_id, int) and request_id in self._pending:
            future = self._pending.pop(request_id)
            if not future.done():
                future.set_result(message)
        elif request_id is None and "error" in message:
            error = message["error"]
            # Sent without an id: a refusal of the whole connection, or a line we could not read.
            if isinstance(error, dict) and error.get("code") == "forbidden":
                self._closed_reason = HelperError("forbidden", str(error.get("message")))

    async def call(
        self, method: str, params: Mapping[str, Any] | None = None, timeout: float = CALL_TIMEOUT
    ) -> dict[str, Any]:
        """Send one request and wait for its result; raises HelperError with the helper's message."""
        if self._task.done():
            raise self._closed_reason or HelperUnavailable("closed", "the connection to the helper is closed")
        request_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        try:
            self._writer.write(encode(request(request_id, method, params)))
            await self._writer.drain()
            reply = await asyncio.wait_for(future, timeout)
        except (ConnectionError, OSError) as exc:
            # The helper may have said why before closing (e.g. a refusal): let the reader see it.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._task), 2.0)
            raise self._closed_reason or HelperUnavailable(
                "closed", f"the connection to the helper broke: {exc}"
            ) from None
        except TimeoutError:
            raise HelperError("timeout", f"the helper did not answer {method} within {timeout:g} s") from None
        finally:
            self._pending.pop(request_id, None)
        if "error" in reply:
            error = reply["error"]
            raise HelperError(str(error.get("code")), str(error.get("message")))
        result = reply.get("result")
        if reply.get("version") != PROTOCOL_VERSION or not isinstance(result, dict):
            raise HelperError("protocol", "the helper sent a reply this client does not understand")
        return result

    # --- the API ---------------------------------------------------------------------------------

    async def hello(self, client: str = "connection-wizard") -> dict[str, Any]:
        return await self.call("hello", {"client": client})

    async def connect(self, profile: Profile, secrets: Mapping[str, str]) -> dict[str, Any]:
        """Start a session; returns its snapshot (state "connecting"). Secrets go only to the helper."""
        params: dict[str, Any] = {"profile": profile_to_dict(profile), "secrets": dict(secrets)}
        files = read_profile_files(profile)  # in the user's session: the helper never opens their paths
        if files:
            params["files"] = files
        result = await self.call("connect", params)
        return dict(result["session"])

    async def disconnect(self, session_id: str) -> dict[str, Any]:
        return dict((await self.call("disconnect", {"session": session_id}))["session"])

    async def status(self, session_id: str | None = None) -> list[dict[str, Any]]:
        if session_id is not None:
            return [dict((await self.call("status", {"session": session_id}))["session"])]
        return list((await self.call("status"))["sessions"])

    async def list_sessions(self) -> list[dict[str, Any]]:
        return list((await self.call("list_sessions"))["sessions"])

    async def subscribe(self, session_id: str | None = None) -> list[dict[str, Any]]:
        """Start the event stream; returns the sessions visible right now."""
        params = {"session": session_id} if session_id is not None else None
        return list((await self.call("subscribe", params))["sessions"])

    async def unsubscribe(self) -> None:
        await self.call("unsubscribe")

    async def next_event(self, timeout: float | None = None) -> dict[str, Any] | None:
        """The next event, or None when the connection has closed; TimeoutError after ``timeout``."""
        event = await asyncio.wait_for(self._events.get(), timeout)
        if event is None:
            self._events.put_nowait(None)  # stay closed for later calls
        return event

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        while (event := await self.next_event()) is not None:
            yield event
