"""The asyncio side of :class:`~wizard.gui.service.HelperService`, run in its worker thread.

Kept apart so the tray can show its icon before asyncio and the client library are imported
(they load in the worker thread). A supervisor task keeps one :class:`~wizard.client.HelperClient`
open and subscribed, retrying with back-off while the helper is away; requests run as tasks on
the same loop. Results go back through the :class:`Sink` (the service, which turns them into
queued Qt signals).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

from wizard.client import DEFAULT_SOCKET, HelperClient, HelperError

log = logging.getLogger("wizard.gui.service")

CLIENT_NAME = "connection-wizard-gui"
Call = Callable[[HelperClient], Awaitable[Any]]


class Sink(Protocol):
    def report_available(self, available: bool, reason: str) -> None: ...
    def report_server(self, info: dict[str, Any]) -> None: ...
    def report_sessions(self, sessions: list[dict[str, Any]]) -> None: ...
    def report_event(self, event: dict[str, Any]) -> None: ...
    def report_result(self, token: int, result: Any) -> None: ...
    def report_failure(self, token: int, code: str, message: str) -> None: ...


class HelperLoop:
    """One event loop, one supervised client; thread-safe ``submit``/``stop`` for the UI thread."""

    def __init__(self, sink: Sink, socket_path: Path | None, retry_initial: float, retry_max: float) -> None:
        self.sink = sink
        self.socket_path = socket_path or DEFAULT_SOCKET
        self.retry_initial = retry_initial
        self.retry_max = retry_max
        self.loop = asyncio.new_event_loop()
        self.client: HelperClient | None = None
        self.unavailable_reason = ""
        self._available = False
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()

    def run(self) -> None:
        """The worker thread's body: returns when :meth:`stop` was called."""
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._supervise())
        finally:
            with contextlib.suppress(Exception):
                self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()

    # --- thread-safe entry points ----------------------------------------------------------------

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError):  # the loop may be closed already
            self.loop.call_soon_threadsafe(self._set_stop)

    def wake(self) -> None:
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(self._wake.set)

    def submit(self, token: int, call: Call) -> None:
        try:
            asyncio.run_coroutine_threadsafe(self._run_call(token, call), self.loop)
        except RuntimeError:
            self.sink.report_failure(token, "unavailable", "the helper connection is shutting down")

    def submit_blocking(self, token: int, function: Callable[[], Any]) -> None:
        async def run() -> None:
            try:
                result = await asyncio.get_running_loop().run_in_executor(None, function)
            except Exception as exc:
                self.sink.report_failure(token, "failed", str(exc))
            else:
                self.sink.report_result(token, result)

        try:
            asyncio.run_coroutine_threadsafe(run(), self.loop)
        except RuntimeError:
            self.sink.report_failure(token, "unavailable", "the worker thread is shutting down")

    def _set_stop(self) -> None:
        self._stop.set()
        self._wake.set()

    # --- supervisor ------------------------------------------------------------------------------

    async def _supervise(self) -> None:
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
                self.client = None
                await client.close()
            if not self._stop.is_set():
                if self._available:
                    self._set_available(False, "the Connection Wizard helper stopped; reconnecting")
                await self._sleep(delay)
                delay = min(self.retry_max, delay * 2)

    async def _serve(self, client: HelperClient) -> None:
        """Hello, subscribe, then forward events until the connection ends or we stop."""
        self.sink.report_server(await client.hello(CLIENT_NAME))
        sessions = await client.subscribe()
        self.client = client
        self._set_available(True, "")
        self.sink.report_sessions(sessions)
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
                    self.sink.report_sessions(await client.subscribe())
                    continue
                self.sink.report_event(event)
        finally:
            stop_wait.cancel()

    async def _sleep(self, seconds: float) -> None:
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    def _set_available(self, available: bool, reason: str) -> None:
        changed = available != self._available or reason != self.unavailable_reason
        self._available = available
        self.unavailable_reason = reason
        if changed:
            log.info("helper %s%s", "available" if available else "unavailable", f": {reason}" if reason else "")
            self.sink.report_available(available, reason)

    async def _run_call(self, token: int, call: Call) -> None:
        client = self.client
        if client is None:
            reason = self.unavailable_reason or "the Connection Wizard helper is not reachable"
            self.sink.report_failure(token, "unavailable", reason)
            return
        try:
            result = await call(client)
        except HelperError as exc:
            self.sink.report_failure(token, exc.code, exc.message)
        except Exception as exc:  # a bug must not kill the worker thread
            log.exception("helper call failed")
            self.sink.report_failure(token, "internal", f"{type(exc).__name__}: {exc}")
        else:
            self.sink.report_result(token, result)
