"""One VPN session inside the helper: its stack, its reconnect policy, its kill switch and journal.

A session runs as one task. It builds a stack (``wizard.stacks.registry.build_stack``, imported
when first needed), waits for it to connect, and when the link is lost reconnects with exponential
back-off from the profile's policy. It never reconnects after a deliberate disconnect, and not after
a first attempt that failed (a wrong password will not become right by retrying). With a kill switch
the table goes up before the first packet and stays until the user disconnects on purpose, also when
the session has given up (then it is listed as failed until disconnected).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import ipaddress
import logging
import socket
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from wizard.helper.applier import HelperApplier, NetworkServices
from wizard.helper.peer import PeerCredentials
from wizard.net.errors import NetError
from wizard.net.journal import Journal, NftTable, SessionJournal
from wizard.net.killswitch import TABLE_FAMILY, Allowance, services_for
from wizard.profiles.model import Gateway, Profile
from wizard.stacks.base import (
    Connected,
    Disconnected,
    NetworkApplier,
    Progress,
    StackError,
    StatusEvent,
    StatusSink,
    VpnStack,
)

log = logging.getLogger("wizard.helper.session")

DEFAULT_STACK_FACTORY = "wizard.stacks.registry:build_stack_in_helper"
CLOSE_TIMEOUT = 10.0

StackFactory = Callable[[Profile, dict[str, str], StatusSink, NetworkApplier], VpnStack]
Publish = Callable[["Session", dict[str, Any]], None]


class State(StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    DISCONNECTING = "disconnecting"
    DISCONNECTED = "disconnected"
    FAILED = "failed"


def load_stack_factory(spec: str = DEFAULT_STACK_FACTORY) -> StackFactory:
    """``module:function``; raises StackError with a plain reason when it cannot be loaded."""
    module_name, _, attr = spec.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), attr or "build_stack")
    except (ImportError, AttributeError) as exc:
        raise StackError(f"this installation has no protocol stacks ({spec} cannot be loaded: {exc})") from None
    if not callable(factory):
        raise StackError(f"{spec} is not a stack factory")
    return factory  # type: ignore[no-any-return]


def backoff_delay(attempt: int, initial: float, maximum: float) -> float:
    """Delay before reconnect attempt ``attempt`` (0-based): doubling from ``initial``, capped."""
    return float(min(maximum, initial * (2 ** min(attempt, 32))))


@dataclass
class SessionContext:
    journal: Journal
    services: NetworkServices
    stack_factory: str = DEFAULT_STACK_FACTORY
    publish: Publish | None = None
    on_finished: Callable[[Session], None] | None = None


class Session:
    """State, counters and the run loop of one connection started by one user."""

    def __init__(
        self,
        owner: PeerCredentials,
        profile: Profile,
        secrets: Mapping[str, str],
        ctx: SessionContext,
        files: Mapping[str, str] | None = None,
    ) -> None:
        self.id = uuid.uuid4().hex[:12]
        self.owner = owner
        self.profile = profile
        self._secrets = dict(secrets)
        self._files = dict(files or {})  # PEM text the client read; we never open the profile's paths
        self.ctx = ctx
        self.state = State.CONNECTING
        self.phase = ""
        self.message = "starting"
        self.reason = ""
        self.negotiated: dict[str, str] = {}
        self.ifname = ""
        self.attempt = 0
        self.next_retry_at: float | None = None
        self.started = time.time()
        self.connected_at: float | None = None
        self.kill_switch = profile.kill_switch.enabled
        self._stack_profile = profile  # with gateway addresses pinned when the kill switch is on
        self.stack: VpnStack | None = None
        self.journal: SessionJournal = ctx.journal.session(self.id)
        self._deliberate = False
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._attempt_task: asyncio.Task[Connected] | None = None
        self._last_counters: tuple[float, int, int] | None = None
        self.rate_in = 0.0
        self.rate_out = 0.0

    # --- view ------------------------------------------------------------------------------------

    def counters(self) -> dict[str, float]:
        data: dict[str, float] = {"bytes_in": 0, "bytes_out": 0, "packets_in": 0, "packets_out": 0, "dropped": 0}
        if self.stack is not None and self.state is State.CONNECTED:
            snap = self.stack.counters.snapshot()
            for key in data:
                data[key] = snap.get(key, 0)
        data["uptime"] = round(time.monotonic() - self.connected_at, 1) if self.connected_at is not None else 0.0
        data["rate_in"] = round(self.rate_in, 1)
        data["rate_out"] = round(self.rate_out, 1)
        return data

    def tick(self, now: float) -> None:
        """Update the byte rates (bytes per second) from the counters; called about once a second."""
        c = self.counters()
        current = (now, int(c["bytes_in"]), int(c["bytes_out"]))
        if self._last_counters is not None and now > self._last_counters[0]:
            dt = now - self._last_counters[0]
            self.rate_in = max(0.0, (current[1] - self._last_counters[1]) / dt)
            self.rate_out = max(0.0, (current[2] - self._last_counters[2]) / dt)
        self._last_counters = current

    def snapshot(self) -> dict[str, Any]:
        retry = None
        if self.next_retry_at is not None:
            retry = round(max(0.0, self.next_retry_at - time.monotonic()), 1)
        return {
            "id": self.id,
            "profile_id": self.profile.id,
            "name": self.profile.name,
            "protocol": self.profile.protocol.value,
            "owner_uid": self.owner.uid,
            "state": self.state.value,
            "phase": self.phase,
            "message": self.message,
            "reason": self.reason,
            "kill_switch": self.kill_switch,
            "ifname": self.ifname,
            "attempt": self.attempt,
            "next_retry_in": retry,
            "started": round(self.started, 3),
            "negotiated": dict(self.negotiated),
            "counters": self.counters(),
        }

    @property
    def finished(self) -> bool:
        return self.state is State.DISCONNECTED

    # --- events ----------------------------------------------------------------------------------

    def _publish(self, kind: str, **fields: Any) -> None:
        if self.ctx.publish is not None:
            self.ctx.publish(self, {"event": kind, "session": self.id, **fields})

    def _set_state(self, state: State, message: str = "") -> None:
        self.state = state
        if message:
            self.message = message
        self._publish("state", state=state.value, message=self.message, reason=self.reason, info=self.snapshot())

    def _on_status(self, event: StatusEvent) -> None:
        """The stack's status sink: progress and state as it goes."""
        if isinstance(event, Progress):
            self.phase, self.message = event.phase, event.message
            self._publish("progress", phase=event.phase, message=event.message)
        elif isinstance(event, Connected):
            self.negotiated = event.negotiated.as_dict() | {"protocol": event.negotiated.protocol}
            self.ifname = event.settings.ifname
        elif isinstance(event, Disconnected):
            self.reason = event.reason

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"session-{self.id}")

    async def disconnect(self, reason: str = "disconnected by the user") -> None:
        """Deliberate: tear down, release the kill switch, never reconnect. Waits until done."""
        if self.state is State.DISCONNECTED:
            return
        self._deliberate = True
        self.reason = reason
        self._wake.set()
        if self.state is State.FAILED and (self._task is None or self._task.done()):
            await self._finish()
            return
        self._set_state(State.DISCONNECTING, "disconnecting")
        stack = self.stack
        if stack is not None:
            try:
                await asyncio.wait_for(stack.close(reason), CLOSE_TIMEOUT)
            except TimeoutError:
                log.warning("session %s: the stack did not close within %g s", self.id, CLOSE_TIMEOUT)
            except Exception as exc:
                log.warning("session %s: closing the stack failed: %s", self.id, exc)
        if self._attempt_task is not None and not self._attempt_task.done():
            self._attempt_task.cancel()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        try:
            await self._hold_kill_switch()
            await self._connect_loop()
        except StackError as exc:
            self.reason = exc.reason
            self.phase = exc.phase or self.phase
            self._publish("error", reason=exc.reason, phase=self.phase)
        except Exception as exc:  # a bug must not take the helper down, nor leave changes behind
            log.exception("session %s crashed", self.id)
            self.reason = f"internal error in the helper: {type(exc).__name__}: {exc}"
            self._publish("error", reason=self.reason, phase=self.phase)
        finally:
            self.stack = None
            self.next_retry_at = None
        if self._deliberate or not self.kill_switch:
            await self._finish()
        else:
            self._set_state(
                State.FAILED,
                "the connection is down; the kill switch keeps blocking traffic until you disconnect",
            )

    async def _finish(self) -> None:
        try:
            await self.ctx.services.killswitch.release(self.id)
        except NetError as exc:
            log.error("session %s: %s", self.id, exc.reason)
            self.reason = self.reason or exc.reason
        else:
            self.journal.close()
        self._secrets.clear()
        self._files.clear()
        if not self.reason:
            self.reason = "disconnected"
        self._set_state(State.DISCONNECTED, "disconnected")
        if self.ctx.on_finished is not None:
            self.ctx.on_finished(self)

    async def _hold_kill_switch(self) -> None:
        if not self.kill_switch:
            return
        self.phase, self.message = "kill-switch", "blocking traffic outside the VPN"
        self._publish("progress", phase=self.phase, message=self.message)
        addresses = await resolve_gateways(self.profile.gateways)
        allowance = Allowance(
            gateways=tuple(addresses.values()),
            services=services_for(p.value for p in self.profile.protocols),
            allow_lan=self.profile.kill_switch.allow_lan,
        )
        ks = self.ctx.services.killswitch
        self.journal.add(NftTable(TABLE_FAMILY, ks.table))
        try:
            await ks.hold(self.id, allowance)
        except NetError as exc:
            raise StackError(
                f"the kill switch could not be set up, so we did not connect: {exc.reason}", "kill-switch"
            ) from exc
        # The stack connects to the addresses the kill switch lets through, not to a fresh DNS answer.
        gateways = tuple(replace(g, host=addresses.get(g.host, g.host)) for g in self.profile.gateways)
        self._stack_profile = replace(self.profile, gateways=gateways)

    async def _connect_loop(self) -> None:
        factory = load_stack_factory(self.ctx.stack_factory)
        policy = self.profile.reconnect
        profile = self._stack_profile
        ever_connected = False
        failures = 0
        while not self._deliberate:
            applier = HelperApplier(self.id, self.journal, self.ctx.services)
            was_up, reason = await self._one_attempt(factory, profile, applier)
            if self._deliberate:
                return
            if was_up:
                ever_connected = True
                failures = 0
            self.reason = reason
            self._publish("error", reason=reason, phase=self.phase)
            if not ever_connected:
                raise StackError(reason, self.phase)
            if not policy.enabled:
                raise StackError(f"{reason}; reconnecting is turned off for this connection", self.phase)
            if policy.max_attempts and failures >= policy.max_attempts:
                raise StackError(f"{reason}; gave up after {failures} reconnect attempts", self.phase)
            delay = backoff_delay(failures, policy.initial_delay, policy.max_delay)
            failures += 1
            self.attempt = failures
            self.next_retry_at = time.monotonic() + delay
            self._set_state(State.RECONNECTING, f"connection lost; trying again in {delay:g} s (attempt {failures})")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)
            self.next_retry_at = None
            if not self._deliberate:
                self._set_state(State.RECONNECTING, f"reconnecting (attempt {failures})")

    async def _one_attempt(self, factory: StackFactory, profile: Profile, applier: HelperApplier) -> tuple[bool, str]:
        """Connect once and stay until the link ends: (whether it was up, why it ended or failed)."""
        extra = {"files": dict(self._files)} if self._files else {}
        stack = factory(profile, dict(self._secrets), self._on_status, applier, **extra)
        self.stack = stack
        try:
            self._attempt_task = asyncio.ensure_future(stack.connect())
            try:
                connected = await self._attempt_task
            except asyncio.CancelledError:
                if self._deliberate:
                    return False, "disconnected by the user"
                raise
            except StackError as exc:
                self.phase = exc.phase or self.phase
                return False, exc.reason
            self.negotiated = connected.negotiated.as_dict() | {"protocol": connected.negotiated.protocol}
            self.ifname = connected.settings.ifname
            self.connected_at = time.monotonic()
            self._last_counters = None
            self.reason = ""
            self._set_state(State.CONNECTED, "connected")
            ended = await stack.wait_closed()
            self.connected_at = None
            return True, ended.reason or "the connection ended"
        finally:
            self.stack = None
            self._attempt_task = None
            problems = await applier.revert()
            for problem in problems:
                self._publish("error", reason=problem, phase="network")
            if self.state is State.CONNECTED:
                self.state = State.RECONNECTING


async def resolve_gateways(gateways: tuple[Gateway, ...]) -> dict[str, str]:
    """Host -> IP address for every gateway (literals map to themselves); StackError when unknown."""
    loop = asyncio.get_running_loop()
    found: dict[str, str] = {}
    for gateway in gateways:
        try:
            found[gateway.host] = str(ipaddress.ip_address(gateway.host))
            continue
        except ValueError:
            pass
        try:
            infos = await loop.getaddrinfo(gateway.host, None, type=socket.SOCK_DGRAM)
        except OSError as exc:
            raise StackError(
                f"cannot find the address of the VPN server {gateway.host}: {exc.strerror}", "dns"
            ) from None
        found[gateway.host] = str(infos[0][4][0])
    return found
