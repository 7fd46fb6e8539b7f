"""The GUI's side of the helper socket: the asyncio client in a worker thread, results as Qt signals.

Nothing here ever blocks the UI thread. A worker thread runs an asyncio loop with one supervisor
task that keeps a :class:`~wizard.client.HelperClient` open and subscribed: when the helper is not
there (not installed, restarting, crashed) it says so through ``availabilityChanged`` and tries
again with back-off; when it is back it re-subscribes and hands over the fresh session list through
``sessionsReset``. Requests (``connect_profile``, ``disconnect_session``…) return a token at once;
the answer comes later as ``callFinished(token, result)`` or ``callFailed(token, code, message)``.
Signals are emitted from the worker thread and delivered queued in the receiver's (UI) thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import threading
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from wizard.client import DEFAULT_SOCKET, HelperClient, HelperError
from wizard.gui.qtcompat import emit
from wizard.profiles.model import Profile

log = logging.getLogger("wizard.gui.service")

CLIENT_NAME = "connection-wizard-gui"
Call = Callable[[HelperClient], Awaitable[Any]]


class HelperService(QObject):
    """One long-lived, self-healing connection to the helper, usable from the UI thread."""

    availabilityChanged = Signal(bool, str)  # available, reason when not
    sessionsReset = Signal(object)  # list of session snapshots after (re)subscribing
    eventReceived = Signal(object)  # one helper event (dict)
    callFinished = Signal(int, object)  # token, result
    callFailed = Signal(int, str, str)  # token, error code, message for the user

    def __init__(
        self,
        socket_path: Path = DEFAULT_SOCKET,
        parent: QObject | None = None,
        *,
        retry_initial: float = 0.5,
        retry_max: float = 5.0,
    ) -> None:
        super().__init__(parent)
        self.socket_path = socket_path
        self.retry_initial = retry_initial
        self.retry_max = retry_max
        self.server_info: dict[str, Any] = {}
        self.unavailable_reason = ""
        self._available = False
        self._tokens = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._client: HelperClient | None = None
        self._stop: asyncio.Event | None = None
        self._wake: asyncio.Event | None = None

    # --- life cycle ------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker thread (returns at once; the first availability signal follows)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._thread_main, name="helper-service", daemon=True)
        self._thread.start()
        self._ready.wait(5.0)

    def stop(self, timeout: float = 3.0) -> None:
        """Close the connection and end the thread; safe to call twice."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop may already be closed
            loop.call_soon_threadsafe(self._set_stop)
        thread.join(timeout)
        self._thread = None

    def _set_stop(self) -> None:
        if self._stop is not None:
            self._stop.set()
        if self._wake is not None:
            self._wake.set()

    def reconnect_now(self) -> None:
        """Skip the back-off wait (e.g. the user pressed "Try again")."""
        if self._loop is not None and self._wake is not None:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._wake.set)

    @property
    def available(self) -> bool:
        return self._available

    def _thread_main(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._supervise())
        finally:
            with contextlib.suppress(Exception):
                loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
            self._loop = None

    # --- the supervisor --------------------------------------------------------------------------

    async def _supervise(self) -> None:
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._ready.set()
        delay = self.retry_initial
        while not self._stop.is_set():
            try:
                client = await HelperClient.open(self.socket_path)
            except HelperError as exc:
                self._set_available(False, exc.message)
                await self._sleep(delay)
                delay = min(self.retry_max, delay * 2)
                continue
            try:
                await self._serve(client)
                delay = self.retry_initial
            except HelperError as exc:
                self._set_available(False, exc.message)
            finally:
                self._client = None
                await client.close()
            if not self._stop.is_set():
                if self._available:
                    self._set_available(False, "the Connection Wizard helper stopped; reconnecting")
                await self._sleep(delay)
                delay = min(self.retry_max, delay * 2)

    async def _serve(self, client: HelperClient) -> None:
        """Hello, subscribe, then forward events until the connection ends or we stop."""
        assert self._stop is not None
        self.server_info = await client.hello(CLIENT_NAME)
        sessions = await client.subscribe()
        self._client = client
        self._set_available(True, "")
        emit(self.sessionsReset, sessions)
        stop_wait = asyncio.ensure_future(self._stop.wait())
        try:
            while True:
                next_event = asyncio.ensure_future(client.next_event())
                done, _ = await asyncio.wait({next_event, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
                if stop_wait in done:
                    next_event.cancel()
                    return
                event = next_event.result()
                if event is None:
                    return
                if event.get("event") == "note" and event.get("code") == "subscription_dropped":
                    emit(self.sessionsReset, await client.subscribe())
                    continue
                emit(self.eventReceived, event)
        finally:
            stop_wait.cancel()

    async def _sleep(self, seconds: float) -> None:
        assert self._wake is not None
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    def _set_available(self, available: bool, reason: str) -> None:
        changed = available != self._available or reason != self.unavailable_reason
        self._available = available
        self.unavailable_reason = reason
        if changed:
            log.info("helper %s%s", "available" if available else "unavailable", f": {reason}" if reason else "")
            emit(self.availabilityChanged, available, reason)

    # --- requests --------------------------------------------------------------------------------

    def _submit(self, call: Call) -> int:
        token = next(self._tokens)
        loop = self._loop
        if loop is None:
            emit(self.callFailed, token, "unavailable", self.unavailable_reason or "the helper connection is not running")
            return token
        try:
            asyncio.run_coroutine_threadsafe(self._run_call(token, call), loop)
        except RuntimeError:
            emit(self.callFailed, token, "unavailable", "the helper connection is shutting down")
        return token

    async def _run_call(self, token: int, call: Call) -> None:
        client = self._client
        if client is None:
            reason = self.unavailable_reason or "the Connection Wizard helper is not reachable"
            emit(self.callFailed, token, "unavailable", reason)
            return
        try:
            result = await call(client)
        except HelperError as exc:
            emit(self.callFailed, token, exc.code, exc.message)
        except Exception as exc:  # a bug must not kill the worker thread
            log.exception("helper call failed")
            emit(self.callFailed, token, "internal", f"{type(exc).__name__}: {exc}")
        else:
            emit(self.callFinished, token, result)

    def connect_profile(self, profile: Profile, secrets: Mapping[str, str]) -> int:
        """Ask the helper to connect; the result is the new session's snapshot."""
        copy = dict(secrets)

        async def call(client: HelperClient) -> dict[str, Any]:
            try:
                return await client.connect(profile, copy)
            finally:
                copy.clear()

        return self._submit(call)

    def disconnect_session(self, session_id: str) -> int:
        return self._submit(lambda client: client.disconnect(session_id))

    def status(self) -> int:
        return self._submit(lambda client: client.status())

    def run_blocking(self, function: Callable[[], Any]) -> int:
        """Run a blocking function (a keyring lookup) off the UI thread; result via callFinished."""
        token = next(self._tokens)
        loop = self._loop
        if loop is None:
            emit(self.callFailed, token, "unavailable", "the worker thread is not running")
            return token

        async def run() -> None:
            try:
                result = await asyncio.get_running_loop().run_in_executor(None, function)
            except Exception as exc:
                emit(self.callFailed, token, "failed", str(exc))
            else:
                emit(self.callFinished, token, result)

        asyncio.run_coroutine_threadsafe(run(), loop)
        return token
