"""Drive a sans-IO object's timer from asyncio.

Every engine exposes ``get_timer()`` (an absolute time on the clock we pass in, or None) and
``handle_timer(now)``. The stacks use the event loop's monotonic clock as that clock; after each
input they call :meth:`EngineTimer.rearm` so exactly one ``call_at`` is pending per engine.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class EngineTimer:
    """One pending ``loop.call_at`` that follows ``get_timer()``; ``after`` runs after each firing."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        get_timer: Callable[[], float | None],
        handle_timer: Callable[[float], None],
        after: Callable[[], None],
    ) -> None:
        self._loop = loop
        self._get_timer = get_timer
        self._handle_timer = handle_timer
        self._after = after
        self._handle: asyncio.TimerHandle | None = None
        self._when: float | None = None

    def rearm(self) -> None:
        when = self._get_timer()
        if when == self._when and self._handle is not None:
            return
        self.cancel()
        if when is not None:
            self._when = when
            self._handle = self._loop.call_at(when, self._fire)

    def _fire(self) -> None:
        self._handle = None
        self._when = None
        self._handle_timer(self._loop.time())
        self._after()

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._handle = None
        self._when = None
