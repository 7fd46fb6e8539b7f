"""The GUI's side of the helper socket: the asyncio client in a worker thread, results as Qt signals.

Nothing here ever blocks the UI thread. A worker thread runs an asyncio loop
(:mod:`wizard.gui.helper_loop`, imported in that thread so the tray shows before asyncio loads)
whose supervisor keeps a :class:`~wizard.client.HelperClient` open and subscribed: when the helper
is not there (not installed, restarting, crashed) it says so through ``availabilityChanged`` and
tries again with back-off; when it is back it re-subscribes and hands over the fresh session list
through ``sessionsReset``. Requests (``connect_profile``, ``disconnect_session``…) return a token at
once; the answer comes later as ``callFinished(token, result)`` or ``callFailed(token, code,
message)``. Signals are emitted from the worker thread and delivered queued in the UI thread.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from wizard.gui.qtcompat import emit
from wizard.profiles.model import Profile

if TYPE_CHECKING:
    from wizard.client import HelperClient
    from wizard.gui.helper_loop import Call, HelperLoop


class HelperService(QObject):
    """One long-lived, self-healing connection to the helper, usable from the UI thread."""

    availabilityChanged = Signal(bool, str)  # available, reason when not
    sessionsReset = Signal(object)  # list of session snapshots after (re)subscribing
    eventReceived = Signal(object)  # one helper event (dict)
    callFinished = Signal(int, object)  # token, result
    callFailed = Signal(int, str, str)  # token, error code, message for the user

    def __init__(
        self,
        socket_path: Path | None = None,
        parent: QObject | None = None,
        *,
        retry_initial: float = 0.5,
        retry_max: float = 5.0,
    ) -> None:
        super().__init__(parent)
        self.socket_path = socket_path  # None: the helper's standard socket
        self.retry_initial = retry_initial
        self.retry_max = retry_max
        self.server_info: dict[str, Any] = {}
        self.unavailable_reason = ""
        self._available = False
        self._tokens = itertools.count(1)
        self._thread: threading.Thread | None = None
        self._worker: HelperLoop | None = None
        self._lock = threading.Lock()
        self._backlog: list[Callable[[HelperLoop], None]] = []  # requests made before the loop ran
        self._stopping = False

    # --- life cycle ------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker thread; returns at once (the first availability signal follows)."""
        if self._thread is not None:
            return
        self._stopping = False
        self._thread = threading.Thread(target=self._thread_main, name="helper-service", daemon=True)
        self._thread.start()

    def _thread_main(self) -> None:
        from wizard.gui.helper_loop import HelperLoop

        worker = HelperLoop(self, self.socket_path, self.retry_initial, self.retry_max)
        with self._lock:
            if self._stopping:
                return
            self._worker = worker
            backlog, self._backlog = self._backlog, []
        for request in backlog:
            request(worker)
        try:
            worker.run()
        finally:
            with self._lock:
                self._worker = None

    def stop(self, timeout: float = 3.0) -> None:
        """Close the connection and end the thread; safe to call twice."""
        with self._lock:
            self._stopping = True
            worker = self._worker
        if worker is not None:
            worker.stop()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def reconnect_now(self) -> None:
        """Skip the back-off wait (the user pressed "Try again")."""
        worker = self._worker
        if worker is not None:
            worker.wake()

    @property
    def available(self) -> bool:
        return self._available

    # --- the worker's reports (called in the worker thread) --------------------------------------

    def report_available(self, available: bool, reason: str) -> None:
        self._available = available
        self.unavailable_reason = reason
        emit(self.availabilityChanged, available, reason)

    def report_server(self, info: dict[str, Any]) -> None:
        self.server_info = dict(info)

    def report_sessions(self, sessions: list[dict[str, Any]]) -> None:
        emit(self.sessionsReset, sessions)

    def report_event(self, event: dict[str, Any]) -> None:
        emit(self.eventReceived, event)

    def report_result(self, token: int, result: Any) -> None:
        emit(self.callFinished, token, result)

    def report_failure(self, token: int, code: str, message: str) -> None:
        emit(self.callFailed, token, code, message)

    # --- requests --------------------------------------------------------------------------------

    def _dispatch(self, request: Callable[[HelperLoop], None], token: int) -> int:
        with self._lock:
            worker = self._worker
            if worker is None and self._thread is not None and not self._stopping:
                self._backlog.append(request)
                return token
        if worker is None:
            self.report_failure(token, "unavailable", self.unavailable_reason or "the helper connection is not running")
        else:
            request(worker)
        return token

    def _submit(self, call: Call) -> int:
        token = next(self._tokens)
        return self._dispatch(lambda worker: worker.submit(token, call), token)

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
        return self._dispatch(lambda worker: worker.submit_blocking(token, function), token)
