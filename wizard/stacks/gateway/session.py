"""One client's PPP link on the gateway: PPP in the server role, a TUN device, a point-to-point address.

The carrier (a PPTP call or an L2TP session) feeds frames in and sends frames out; this object runs
:class:`PppLink` as the server, and once IPCP is open creates a TUN device with the server address
local and the client's address as peer (no other routes: the gateway's kernel routes the rest).
When PPP ends, for whatever reason, it reverts the address, closes the TUN device and tells the
carrier, which then hangs up its call.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass

from wizard.engine.ppp import events as ev
from wizard.engine.ppp.config import PPPConfig
from wizard.net.errors import NetError
from wizard.net.tun import TunDevice
from wizard.stacks.applier import DirectApplier
from wizard.stacks.base import Counters, NetworkSettings, StatusEvent
from wizard.stacks.ppp_link import PppLink

TUN_NAME = "cwg%d"
CLOSE_GRACE = 2.0
SILENT_START = 1.0  # seconds to wait for the client's first LCP frame before we start anyway

Log = Callable[[str], None]


class _ServerLink(PppLink):
    """PppLink that also remembers who signed in and whether authentication was ever reached."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.username: str | None = None
        self.reached_auth = False
        self.on_authenticated: Callable[[str, str], None] | None = None

    def _handle(self, event: ev.Event) -> None:
        if isinstance(event, ev.PhaseChanged) and event.phase is ev.Phase.AUTHENTICATE:
            self.reached_auth = True
        elif isinstance(event, ev.Authenticated):
            self.username = event.username
            if self.on_authenticated is not None:
                self.on_authenticated(event.username, event.method)
        super()._handle(event)


@dataclass(frozen=True)
class SessionEnd:
    """How a session ended, for the carrier and the log."""

    reason: str
    failed: bool
    auth_failed: bool


class ServerSession:
    """PPP server for one call; ``start()`` it once the carrier is up, ``close()`` to hang up."""

    def __init__(
        self,
        label: str,
        config: PPPConfig,
        send_frame: Callable[[bytes], None],
        log: Log,
        on_end: Callable[[SessionEnd], None],
        *,
        mtu_cap: int | None = None,
        tun_name: str = TUN_NAME,
    ) -> None:
        self.label = label
        self.log = log
        self.on_end = on_end
        self.mtu_cap = mtu_cap
        self.tun_name = tun_name
        self.counters = Counters()
        self.link = _ServerLink("server", config, send_frame, self._status, self.counters)
        self.link.on_authenticated = self._authenticated
        self.tun: TunDevice | None = None
        self.client_address: str | None = None
        self.end: SessionEnd | None = None
        self._applier: DirectApplier | None = None
        self._task: asyncio.Task[None] | None = None
        self._silent: asyncio.TimerHandle | None = None
        self.done = asyncio.get_running_loop().create_future()

    def _status(self, event: StatusEvent) -> None:
        pass  # PppLink's progress lines are worded for a client; we log our own

    def _authenticated(self, username: str, method: str) -> None:
        self.log(f"{self.label}: auth ok: user {username!r} ({method})")

    def start(self) -> None:
        """Run the session; LCP starts when the client's first frame arrives (like pppd's ``silent``).

        A client sets up its end of the call only after it has seen our reply, so a Configure-Request
        sent at once can arrive before it listens and cost a full restart interval (3 s). If the
        client stays quiet we start after ``SILENT_START`` seconds anyway.
        """
        loop = asyncio.get_running_loop()
        self._silent = loop.call_later(SILENT_START, self._start_link)
        self._task = loop.create_task(self._run())

    def _start_link(self) -> None:
        if self._silent is not None:
            self._silent.cancel()
            self._silent = None
            self.link.start()

    def receive_frame(self, frame: bytes) -> None:
        self._start_link()
        self.link.receive_frame(frame)

    def lower_layer_down(self, reason: str) -> None:
        """The carrier is gone: end PPP at once (no Terminate-Request can reach the client)."""
        if self._never_started(reason, failed=True):
            return
        if not self.link.ended.done():
            self.link.ppp.lower_layer_down(self.link.loop.time(), reason)
            self.link.flush()

    def _never_started(self, reason: str, *, failed: bool) -> bool:
        """End a session whose LCP never started (the client stayed silent); True if it was one."""
        if self._silent is None:
            return False
        self._silent.cancel()
        self._silent = None
        if not self.link.ended.done():
            self.link.ended.set_result((reason, failed))
        return True

    async def close(self, reason: str) -> None:
        """Hang up politely (LCP Terminate-Request), bounded; then wait for the teardown."""
        if not self._never_started(reason, failed=False) and not self.link.ended.done():
            self.link.close(reason)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self.link.ended), CLOSE_GRACE)
        if not self.link.ended.done():
            self.lower_layer_down(reason)
        if self._task is not None:
            await asyncio.shield(self.done)

    async def _run(self) -> None:
        reason, failed = "the session ended", True
        try:
            watch: list[asyncio.Future[object]] = [self.link.up, self.link.ended]  # type: ignore[list-item]
            await asyncio.wait(watch, return_when=asyncio.FIRST_COMPLETED)
            if self.link.up.done() and not self.link.ended.done():
                try:
                    await self._configure(self.link.up.result())
                except (NetError, OSError) as exc:
                    why = getattr(exc, "reason", None) or str(exc)
                    self.log(f"{self.label}: cannot set up the tunnel interface: {why}")
                    self.link.close("the gateway could not set up the tunnel interface")
            reason, failed = await asyncio.shield(self.link.ended)
        except Exception as exc:  # a bug must not leave a TUN device or a pool address behind
            reason = f"internal error in the gateway: {exc!r}"
            self.lower_layer_down(reason)
        finally:
            await self._teardown()
            if not self.done.done():
                self.done.set_result(None)
        auth_failed = failed and self.link.reached_auth and self.link.username is None
        self.end = SessionEnd(reason, failed, auth_failed)
        if auth_failed:
            self.log(f"{self.label}: auth failed: {reason}")
        c = self.counters
        self.log(f"{self.label}: disconnected: {reason} ({c.packets_in} packets in, {c.packets_out} packets out)")
        self.on_end(self.end)

    async def _configure(self, up: ev.NetworkUp) -> None:
        self.client_address = up.peer_ipv4
        self.tun = TunDevice.create(self.tun_name)
        mtu = min(up.mtu, self.mtu_cap) if self.mtu_cap else up.mtu
        self._applier = DirectApplier()
        await self._applier.apply(
            NetworkSettings(
                ifname=self.tun.name,
                local_ipv4=up.local_ipv4,
                peer_ipv4=up.peer_ipv4,
                mtu=mtu,
                full_tunnel=False,  # the server only needs the point-to-point address
            )
        )
        self.link.attach_tun(self.tun)
        who = f"user {self.link.username!r}" if self.link.username else "the client"
        self.log(
            f"{self.label}: {who} got address {up.peer_ipv4} on {self.tun.name} "
            f"(server {up.local_ipv4}, {up.auth_method or 'no authentication'}, "
            f"{up.mppe or 'no encryption'}, MTU {mtu})"
        )

    async def _teardown(self) -> None:
        self.link.stop()
        if self._applier is not None:
            applier, self._applier = self._applier, None
            for problem in await applier.revert():
                self.log(f"{self.label}: cleanup: {problem}")
        if self.tun is not None:
            self.tun.close()
