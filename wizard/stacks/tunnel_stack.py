"""The life every tunnel stack shares: a TUN device, an applier, user close, one teardown.

Subclasses say what can end the connection (``_endings``: futures that resolve to a reason) and
how to stop their protocols politely (``_stop_protocols``); this class turns that into
``wait_closed``/``close`` and reverts the network exactly once, whatever ended the session.
"""

from __future__ import annotations

import abc
import asyncio

from wizard.net.tun import TunDevice
from wizard.stacks.base import Disconnected, NetworkApplier, NetworkSettings, Progress, StatusSink, VpnStack


class TunnelStack(VpnStack):
    def __init__(self, status: StatusSink, applier: NetworkApplier, tun_name: str) -> None:
        super().__init__(status)
        self.applier = applier
        self.tun_name = tun_name
        self.tun: TunDevice | None = None
        self._user_closed: asyncio.Future[str] | None = None
        self._applied = False
        self._torn_down = False

    def _begin(self) -> asyncio.AbstractEventLoop:
        """Call first in ``connect()``."""
        loop = asyncio.get_running_loop()
        self._user_closed = loop.create_future()
        return loop

    @abc.abstractmethod
    def _endings(self) -> list[asyncio.Future[str]]:
        """Futures that resolve to a reason when the connection ends on its own."""

    @abc.abstractmethod
    async def _stop_protocols(self, reason: str) -> None:
        """Say goodbye to the peer (bounded) and release sockets; the network is reverted after."""

    async def _apply(self, settings: NetworkSettings) -> None:
        self._applied = True  # even a half-applied configuration must be reverted
        await self.applier.apply(settings)

    async def wait_closed(self) -> Disconnected:
        assert self._user_closed is not None, "connect() first"
        endings = self._endings()
        watch: list[asyncio.Future[str]] = [*endings, self._user_closed]
        await asyncio.wait(watch, return_when=asyncio.FIRST_COMPLETED)
        if self._user_closed.done():
            result = Disconnected(self._user_closed.result(), deliberate=True)
        else:
            result = Disconnected(next(f.result() for f in endings if f.done()), deliberate=False)
        await self._teardown(result.reason)
        self.status(result)
        return result

    async def close(self, reason: str = "disconnected by the user") -> None:
        if self._user_closed is not None and not self._user_closed.done():
            self._user_closed.set_result(reason)
        await self._teardown(reason)

    async def _teardown(self, reason: str) -> None:
        if self._torn_down:
            return
        self._torn_down = True
        if self.tun is not None:
            self.tun.stop_reading()
        await self._stop_protocols(reason)
        if self._applied:
            for problem in await self.applier.revert():
                self.status(Progress("cleanup", problem))
        if self.tun is not None:
            self.tun.close()
