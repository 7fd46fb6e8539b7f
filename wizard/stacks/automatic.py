"""Automatic: try the profile's protocols in its order until one connects.

Each attempt gets its own time limit; a failed attempt is torn down completely before the next
starts, so nothing of it is left on the system. The result says which protocol won and why each
earlier one failed; the profile's order is never changed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

from wizard.profiles.model import Profile, Protocol
from wizard.stacks.base import (
    Connected,
    Disconnected,
    Negotiated,
    NetworkApplier,
    Progress,
    StackError,
    StatusEvent,
    StatusSink,
    VpnStack,
)

StackBuilder = Callable[[Protocol, StatusSink], VpnStack]


class AutomaticStack(VpnStack):
    protocol = "automatic"

    def __init__(
        self,
        profile: Profile,
        secrets: Mapping[str, str],
        status: StatusSink,
        applier: NetworkApplier,
        *,
        build: StackBuilder,
        attempt_timeout: float = 25.0,
    ) -> None:
        super().__init__(status)
        self.order = profile.fallback
        self.build = build
        self.attempt_timeout = attempt_timeout
        self.failures: list[tuple[Protocol, str]] = []
        self.inner: VpnStack | None = None
        self.winner: Protocol | None = None
        self._cancelled = False

    async def connect(self) -> Connected:
        for index, protocol in enumerate(self.order):
            if self._cancelled:
                break
            later = ", then ".join(p.label for p in self.order[index + 1 :])
            self.status(Progress("automatic", f"trying {protocol.label}" + (f" (then {later})" if later else "")))
            try:
                stack = self.build(protocol, self._relay)
            except StackError as exc:
                self._failed(protocol, exc.reason)
                continue
            stack.counters = self.counters  # one set of counters whichever protocol wins
            self.inner = stack
            try:
                connected = await asyncio.wait_for(stack.connect(), self.attempt_timeout)
            except StackError as exc:
                self._failed(protocol, exc.reason)
                continue
            except TimeoutError:
                await stack.close("automatic: giving up on this protocol")
                self._failed(protocol, f"no connection within {self.attempt_timeout:g} s")
                continue
            self.winner = protocol
            self.status(Progress("automatic", f"connected with {protocol.label}"))
            return self._augment(connected)
        self.inner = None
        tried = "; ".join(f"{p.label}: {reason}" for p, reason in self.failures)
        raise StackError(f"no protocol could connect ({tried})", "automatic")

    def _failed(self, protocol: Protocol, reason: str) -> None:
        self.failures.append((protocol, reason))
        self.status(Progress("automatic", f"{protocol.label} did not work: {reason}"))

    def _augment(self, connected: Connected) -> Connected:
        """The inner stack's result with which protocol won and why the earlier ones did not."""
        won = self.order[len(self.failures)] if len(self.failures) < len(self.order) else None
        why = "; ".join(f"{p.label} failed: {reason}" for p, reason in self.failures) or "first choice"
        label = won.label if won is not None else connected.negotiated.protocol
        negotiated = Negotiated(
            protocol=connected.negotiated.protocol,
            items=(("automatic", f"{label} ({why})"), *connected.negotiated.items),
        )
        return Connected(negotiated, connected.settings)

    def _relay(self, event: StatusEvent) -> None:
        self.status(self._augment(event) if isinstance(event, Connected) else event)

    async def wait_closed(self) -> Disconnected:
        if self.inner is None:
            raise StackError("not connected", "automatic")
        return await self.inner.wait_closed()

    async def close(self, reason: str = "disconnected by the user") -> None:
        self._cancelled = True
        if self.inner is not None:
            await self.inner.close(reason)
