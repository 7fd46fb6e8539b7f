"""PPTP side of the gateway probe: does a server answer a Start-Control-Connection-Request on TCP 1723?

:class:`PptpProbe` is sans-IO. The PPTP engine (client role) sends the start request and reads the
reply; a Start-Control-Connection-Reply proves PPTP. The engine would go on with an Outgoing-Call-
Request (pptpd would then start pppd), so that message is dropped and the probe instead stops the
control connection at once: a Stop-Control-Connection-Request from the engine's own message codec,
then it waits briefly for the Stop-Control-Connection-Reply.
"""

from __future__ import annotations

import asyncio

from wizard.engine.errors import ParseError
from wizard.engine.pptp import (
    ControlClosed,
    ControlConnected,
    ControlStreamReassembler,
    PPTPConfig,
    PPTPControl,
    decode_message,
)
from wizard.engine.pptp.constants import StopReason
from wizard.engine.pptp.messages import StopControlConnectionReply, StopControlConnectionRequest
from wizard.net.errors import TransportError
from wizard.net.transports import TcpStream
from wizard.probe.report import ProbeProtocol, ProtocolResult, ProtocolStatus, peer_words

PPTP_PORT = 1723
STOP_WAIT = 1.0


class PptpProbe:
    """Start request, then an immediate Stop-Control-Connection after the reply."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        config = PPTPConfig(host_name="connection-wizard-probe", reply_timeout=timeout, echo_interval=None)
        self._control = PPTPControl("client", config)
        self._stream = ControlStreamReassembler()
        self._out = bytearray()
        self.status: ProtocolStatus | None = None
        self.detail = ""
        self.peer_name = ""
        self.vendor = ""
        self.firmware = 0
        self.stopped_cleanly = False
        self._stop_deadline: float | None = None

    @property
    def done(self) -> bool:
        return self.status is not None and self._stop_deadline is None

    def start(self, now: float) -> None:
        self._control.connect(now)
        self._out += self._control.data_to_send()

    def data_to_send(self) -> bytes:
        out = bytes(self._out)
        self._out.clear()
        return out

    def get_timer(self) -> float | None:
        if self.done:
            return None
        return self._stop_deadline if self.status is not None else self._control.get_timer()

    def receive(self, data: bytes, now: float) -> None:
        if self.status is None:
            self._control.receive_data(data, now)
            self._read_events(now)
            return
        if self._stop_deadline is None:
            return
        self._stream.feed(data)
        while True:
            try:
                raw = self._stream.next_message()
                if raw is None:
                    return
                message = decode_message(raw)
            except ParseError:
                return
            if isinstance(message, StopControlConnectionReply):
                self.stopped_cleanly = True
                self._stop_deadline = None
                return

    def handle_timer(self, now: float) -> None:
        if self.status is None:
            self._control.handle_timer(now)
            self._read_events(now)
        elif self._stop_deadline is not None and now >= self._stop_deadline:
            self._stop_deadline = None

    def connection_lost(self) -> None:
        """The server closed TCP (after our stop request this is the normal end)."""
        if self.status is None:
            self.status = ProtocolStatus.SILENT
            self.detail = "TCP port 1723 is open, but the connection closed without a PPTP answer"
        self._stop_deadline = None

    def give_up(self, status: ProtocolStatus, detail: str) -> None:
        if self.status is None:
            self.status, self.detail = status, detail
        self._stop_deadline = None

    def _read_events(self, now: float) -> None:
        while (event := self._control.next_event()) is not None:
            if self.status is not None:
                continue
            if isinstance(event, ControlConnected):
                self.status = ProtocolStatus.ANSWERED
                self.peer_name, self.vendor = event.peer_host_name, event.peer_vendor
                self.firmware = event.peer_firmware_revision
                self.detail = "Start-Control-Connection-Reply"
                self._control.data_to_send()  # the Outgoing-Call-Request: never sent
                self._out += StopControlConnectionRequest(reason=StopReason.NONE).encode()
                self._stop_deadline = now + STOP_WAIT
            elif isinstance(event, ControlClosed):
                if event.by_peer:
                    self.status = ProtocolStatus.ANSWERED
                    self.detail = f"answered, but: {event.reason}"
                else:
                    self.status = ProtocolStatus.SILENT
                    self.detail = f"TCP port 1723 is open, but no PPTP answer within {self.timeout:g} s"
        self._out += self._control.data_to_send() if self.status is None else b""

    def result(self, elapsed: float) -> ProtocolResult:
        status = self.status or ProtocolStatus.SILENT
        detail = self.detail
        if detail == "Start-Control-Connection-Reply":
            detail += peer_words(self.peer_name, self.vendor) + "; control connection stopped again"
            detail += " (Stop-Reply received)" if self.stopped_cleanly else ""
        return ProtocolResult(ProbeProtocol.PPTP, status, detail, self.peer_name, self.vendor, elapsed=elapsed)


async def probe_pptp(address: str, *, timeout: float = 2.0) -> ProtocolResult:
    loop = asyncio.get_running_loop()
    started = loop.time()
    probe = PptpProbe(timeout)
    wake = asyncio.Event()

    def on_data(data: bytes) -> None:
        probe.receive(data, loop.time())
        wake.set()

    def on_close(error: Exception | None) -> None:
        probe.connection_lost()
        wake.set()

    try:
        stream = await TcpStream.connect((address, PPTP_PORT), on_data, on_close, timeout=timeout)
    except TransportError as exc:
        cause = exc.__cause__
        if isinstance(cause, ConnectionRefusedError):
            status, detail = ProtocolStatus.CLOSED, "nothing listens on TCP 1723 (connection refused)"
        elif isinstance(cause, TimeoutError):
            status, detail = ProtocolStatus.SILENT, f"no answer to a TCP connection on port 1723 within {timeout:g} s"
        else:
            status, detail = ProtocolStatus.SILENT, str(exc)
        return ProtocolResult(ProbeProtocol.PPTP, status, detail, elapsed=loop.time() - started)
    try:
        probe.start(loop.time())
        while True:
            data = probe.data_to_send()
            if data and not stream.closed:
                stream.send(data)
            if probe.done:
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
        stream.close()
        await stream.wait_closed()
    return probe.result(loop.time() - started)
