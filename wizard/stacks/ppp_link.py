"""PPP over any carrier (an L2TP session or a PPTP GRE call), with a TUN device for its packets.

The carrier hands received PPP frames to :meth:`PppLink.receive_frame` and gives us a ``send_frame``
callable; the link drives the sans-IO :class:`PPPConnection`, reports progress, and resolves
``up`` when IPCP (and MPPE when asked for) is open, or ``ended`` when PPP terminates.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Literal

from wizard.engine.ppp import events as ev
from wizard.engine.ppp.config import PPPConfig
from wizard.engine.ppp.connection import PPPConnection
from wizard.net.tun import TunDevice
from wizard.stacks.base import Counters, Progress, StatusSink
from wizard.stacks.timer import EngineTimer

_PHASE_MESSAGES = {
    ev.Phase.ESTABLISH: "negotiating the PPP link",
    ev.Phase.AUTHENTICATE: "signing in",
    ev.Phase.NETWORK: "negotiating addresses and encryption",
    ev.Phase.TERMINATE: "closing the PPP link",
}


EARLY_PACKETS = 32


class PppLink:
    """One PPP connection riding on a carrier, feeding a TUN device once the network is up."""

    def __init__(
        self,
        role: Literal["client", "server"],
        config: PPPConfig,
        send_frame: Callable[[bytes], None],
        status: StatusSink,
        counters: Counters,
    ) -> None:
        self.loop = asyncio.get_running_loop()
        self.ppp = PPPConnection(role, config)
        self.send_frame = send_frame
        self.status = status
        self.counters = counters
        self.up: asyncio.Future[ev.NetworkUp] = self.loop.create_future()
        self.ended: asyncio.Future[tuple[str, bool]] = self.loop.create_future()  # (reason, failed)
        self.ended_reason: asyncio.Future[str] = self.loop.create_future()
        self.auth_method: str | None = None
        self.tun: TunDevice | None = None
        self._early: list[bytes] = []
        self._timer = EngineTimer(self.loop, self.ppp.get_timer, self.ppp.handle_timer, self.flush)

    def start(self) -> None:
        self.ppp.start(self.loop.time())
        self.flush()

    def receive_frame(self, frame: bytes) -> None:
        self.ppp.receive_frame(frame, self.loop.time())
        self.flush()

    def attach_tun(self, tun: TunDevice) -> None:
        """Start moving packets between ``tun`` and the link (first what arrived before it existed)."""
        self.tun = tun
        for packet in self._early:
            if not tun.write(packet):
                self.counters.dropped += 1
        self._early.clear()
        tun.start_reading(self._from_tun, self.loop)

    def _from_tun(self, packet: bytes) -> None:
        if self.ended.done():
            self.counters.dropped += 1
            return
        self.ppp.send_ip(packet, self.loop.time())
        self.counters.note_out(len(packet))
        self.flush()

    def close(self, reason: str) -> None:
        if not self.ended.done():
            self.ppp.close(self.loop.time(), reason)
            self.flush()

    def lower_layer_down(self, reason: str) -> None:
        """The carrier is gone: end PPP at once, without terminate exchanges."""
        if not self.ended.done():
            self.ppp.lower_layer_down(self.loop.time(), reason)
            self.flush()

    def stop(self) -> None:
        """Forget timers and the TUN device (the carrier is gone)."""
        self._timer.cancel()
        if self.tun is not None:
            self.tun.stop_reading()

    def flush(self) -> None:
        for frame in self.ppp.frames_to_send():
            self.send_frame(frame)
        while (event := self.ppp.next_event()) is not None:
            self._handle(event)
        if self.ended.done():
            self._timer.cancel()
        else:
            self._timer.rearm()

    def _handle(self, event: ev.Event) -> None:
        if isinstance(event, ev.IPPacketReceived):
            self.counters.note_in(len(event.packet))
            if self.tun is None and len(self._early) < EARLY_PACKETS:
                self._early.append(event.packet)  # the peer was faster than our interface set-up
            elif self.tun is None or not self.tun.write(event.packet):
                self.counters.dropped += 1
        elif isinstance(event, ev.PhaseChanged):
            message = _PHASE_MESSAGES.get(event.phase)
            if message:
                self.status(Progress(f"ppp-{event.phase.value}", message))
        elif isinstance(event, ev.Authenticated):
            self.auth_method = event.method
            self.status(Progress("ppp-authenticate", f"signed in as {event.username} with {event.method}"))
        elif isinstance(event, ev.NetworkUp):
            if not self.up.done():
                self.up.set_result(event)
        elif isinstance(event, ev.EchoTimeout):
            self.status(Progress("ppp-keepalive", f"the server stopped answering ({event.missed} keepalives lost)"))
        elif isinstance(event, ev.ConnectionFailed | ev.ConnectionClosed) and not self.ended.done():
            self.ended.set_result((event.reason, isinstance(event, ev.ConnectionFailed)))
            self.ended_reason.set_result(event.reason)
