"""L2TP side of the gateway probe: does an LNS answer an SCCRQ on UDP 1701?

:class:`L2tpProbe` is sans-IO around the L2TP engine as LAC. An SCCRP proves L2TP; the engine then
confirms the tunnel (SCCCN, and it places its call request), and the probe closes the tunnel at once
with a StopCCN and waits briefly for the acknowledgement, so the server keeps nothing. A StopCCN in
answer to the SCCRQ (e.g. tunnel authentication required) also proves L2TP.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable

from wizard.engine.l2tp import L2TPConfig, L2TPConnection, TunnelClosed, TunnelUp
from wizard.net.errors import TransportError
from wizard.net.transports import UdpEndpoint
from wizard.probe.report import ProbeProtocol, ProtocolResult, ProtocolStatus, peer_words

L2TP_PORT = 1701
STOP_WAIT = 1.0  # how long to wait for the StopCCN acknowledgement


class L2tpProbe:
    """SCCRQ, then an immediate StopCCN after the answer; :attr:`result` says what happened."""

    def __init__(self, address: str, timeout: float, random_bytes: Callable[[int], bytes] = os.urandom) -> None:
        self.timeout = timeout
        config = L2TPConfig(
            host_name="connection-wizard-probe", hello_interval=None, retransmit_initial=timeout / 2,
            retransmit_cap=timeout / 2, max_retransmits=1, setup_timeout=timeout, peer_address=address,
            stop_linger=0.0, random_bytes=random_bytes,
        )  # fmt: skip
        self._conn = L2TPConnection("lac", config)
        self.status: ProtocolStatus | None = None
        self.detail = ""
        self.peer_name = ""
        self.vendor = ""
        self.closed_cleanly = False
        self._stop_deadline: float | None = None

    @property
    def done(self) -> bool:
        if self.status is None:
            return False
        return self._stop_deadline is None or self._conn.finished

    def start(self, now: float) -> None:
        self._conn.connect(now)

    def datagrams_to_send(self) -> list[bytes]:
        return self._conn.datagrams_to_send()

    def get_timer(self) -> float | None:
        if self.done:
            return None
        times = [t for t in (self._conn.get_timer(), self._stop_deadline) if t is not None]
        return min(times) if times else None

    def receive(self, data: bytes, now: float) -> None:
        self._conn.receive_datagram(data, now)
        self._read_events(now)
        self._check_stopped()

    def handle_timer(self, now: float) -> None:
        self._conn.handle_timer(now)
        self._read_events(now)
        if self._stop_deadline is not None and now >= self._stop_deadline:
            self._stop_deadline = None  # the StopCCN went out; we do not wait for its ack any longer
        self._check_stopped()

    def give_up(self, status: ProtocolStatus, detail: str) -> None:
        if self.status is None:
            self.status, self.detail = status, detail
        self._stop_deadline = None

    def _check_stopped(self) -> None:
        if self._stop_deadline is not None and self._conn.finished:
            self.closed_cleanly = True
            self._stop_deadline = None

    def _read_events(self, now: float) -> None:
        while (event := self._conn.next_event()) is not None:
            if isinstance(event, TunnelUp) and self.status is None:
                self.status = ProtocolStatus.ANSWERED
                self.peer_name, self.vendor = event.peer_host_name, event.peer_vendor_name
                self.detail = "SCCRP answered"
                self._conn.close(now, "the gateway probe is finished")
                self._stop_deadline = now + STOP_WAIT
            elif isinstance(event, TunnelClosed) and self.status is None:
                if self._conn.peer_tunnel_id or event.by_peer:
                    self.status = ProtocolStatus.ANSWERED
                    self.detail = f"answered, but: {event.reason}"
                else:
                    self.status = ProtocolStatus.SILENT
                    self.detail = f"no answer to SCCRQ within {self.timeout:g} s"

    def result(self, elapsed: float) -> ProtocolResult:
        status = self.status or ProtocolStatus.SILENT
        detail = self.detail
        if status is ProtocolStatus.ANSWERED and detail == "SCCRP answered":
            detail = "SCCRP" + peer_words(self.peer_name, self.vendor) + "; tunnel closed again"
            detail += " (StopCCN acknowledged)" if self.closed_cleanly else ""
        return ProtocolResult(ProbeProtocol.L2TP, status, detail, self.peer_name, self.vendor, elapsed=elapsed)


async def probe_l2tp(address: str, *, timeout: float = 2.0,
                     random_bytes: Callable[[int], bytes] = os.urandom) -> ProtocolResult:  # fmt: skip
    loop = asyncio.get_running_loop()
    started = loop.time()
    probe = L2tpProbe(address, timeout, random_bytes)
    wake = asyncio.Event()
    errors: list[OSError] = []

    def on_datagram(data: bytes) -> None:
        probe.receive(data, loop.time())
        wake.set()

    def on_error(exc: OSError) -> None:
        errors.append(exc)
        wake.set()

    try:
        endpoint = await UdpEndpoint.connect((address, L2TP_PORT), on_datagram, on_error=on_error)
    except TransportError as exc:
        return ProtocolResult(ProbeProtocol.L2TP, ProtocolStatus.ERROR, str(exc))
    try:
        probe.start(loop.time())
        while True:
            for data in probe.datagrams_to_send():
                endpoint.send(data)
            if probe.done:
                break
            if errors and probe.status is None:
                refused = isinstance(errors[0], ConnectionRefusedError)
                probe.give_up(ProtocolStatus.CLOSED if refused else ProtocolStatus.SILENT,
                              "nothing listens on UDP 1701 (ICMP port unreachable)" if refused
                              else f"no answer ({os.strerror(errors[0].errno or 0).lower()})")  # fmt: skip
                break
            timer = probe.get_timer()
            if timer is None:
                break
            wake.clear()
            try:
                await asyncio.wait_for(wake.wait(), max(0.0, timer - loop.time()))
            except TimeoutError:
                probe.handle_timer(loop.time())
    finally:
        endpoint.close()
    return probe.result(loop.time() - started)
