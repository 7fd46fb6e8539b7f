"""The PPTP control connection over TCP port 1723 (RFC 2637 section 3), sans-IO.

The client plays the PNS side like Windows does: Start-Control-Connection-Request, then one
Outgoing-Call-Request. The server plays the PAC side for our own gateway: it accepts the control
connection and answers the call request with a call ID. Both sides answer and send Echo-Requests
(section 3.1.4) and tear down with Call-Clear/Call-Disconnect-Notify and Stop-Control-Connection.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal

from wizard.engine.errors import LocalProtocolError, ParseError
from wizard.engine.pptp.constants import (
    PROTOCOL_VERSION,
    GeneralError,
    MessageType,
    StopReason,
    result_text,
    stop_reason_text,
)
from wizard.engine.pptp.events import (
    CallCleared,
    CallEstablished,
    ControlClosed,
    ControlConnected,
    EchoTimeout,
    Event,
    LinkInfoReceived,
    WanErrorReported,
)
from wizard.engine.pptp.messages import (
    CallClearRequest,
    CallDisconnectNotify,
    ControlMessage,
    EchoReply,
    EchoRequest,
    OutgoingCallReply,
    OutgoingCallRequest,
    SetLinkInfo,
    StartControlConnectionReply,
    StartControlConnectionRequest,
    StopControlConnectionReply,
    StopControlConnectionRequest,
    WanErrorNotify,
    decode_message,
)
from wizard.engine.pptp.stream import ControlStreamReassembler

Role = Literal["client", "server"]


class ControlState(Enum):
    IDLE = "idle"
    WAIT_START_REPLY = "wait-start-reply"  # client: SCCRQ sent
    WAIT_START_REQUEST = "wait-start-request"  # server: TCP accepted, no SCCRQ yet
    ESTABLISHED = "established"
    WAIT_STOP_REPLY = "wait-stop-reply"  # StopCCRQ sent
    CLOSED = "closed"


class CallState(Enum):
    IDLE = "idle"
    WAIT_REPLY = "wait-reply"  # client: OCRQ sent
    ESTABLISHED = "established"
    WAIT_DISCONNECT = "wait-disconnect"  # client: CCRQ sent, waiting for CDN
    CLEARED = "cleared"


@dataclass(frozen=True)
class PPTPConfig:
    """What we announce and how patient we are. Times are seconds; ``None`` disables echoes."""

    host_name: str = ""
    vendor: str = "Connection Wizard"
    firmware_revision: int = 1
    framing_capabilities: int = 1  # asynchronous
    bearer_capabilities: int = 1  # analog
    maximum_channels: int = 0
    call_id: int = 1  # client: our call ID in the OCRQ; server: the call ID we assign
    call_serial_number: int = 1
    minimum_bps: int = 300
    maximum_bps: int = 100_000_000
    bearer_type: int = 3  # any
    framing_type: int = 3  # any
    recv_window: int = 64  # packets we can buffer; the peer may send this many unacknowledged
    processing_delay: int = 0  # tenths of a second
    phone_number: str = ""
    connect_speed: int = 100_000_000  # server: what we report in the Outgoing-Call-Reply
    reply_timeout: float = 20.0  # for the start reply / call reply
    clear_timeout: float = 5.0  # for the Call-Disconnect-Notify after our Call-Clear-Request
    stop_timeout: float = 5.0  # for the Stop-Control-Connection-Reply
    echo_interval: float | None = 60.0  # idle time before we send an Echo-Request
    echo_timeout: float = 60.0  # how long we wait for its reply


@dataclass
class ControlStats:
    messages_received: int = 0
    messages_sent: int = 0
    malformed: int = 0
    unexpected: int = 0
    echo_requests_sent: int = 0
    echo_requests_answered: int = 0


class PPTPControl:
    """One PPTP control connection and its single call.

    Feed TCP bytes to ``receive_data``; write ``data_to_send()`` to the socket; poll ``next_event``
    and ``get_timer`` after every input. ``ControlClosed`` is always the last event.
    ``by_peer`` on events is True when a message from the peer ended the call or connection.
    """

    def __init__(self, role: Role, config: PPTPConfig | None = None) -> None:
        if role not in ("client", "server"):
            raise LocalProtocolError(f"role must be 'client' or 'server', not {role!r}")
        self.role: Role = role
        self.config = config or PPTPConfig()
        if not 0 <= self.config.call_id <= 0xFFFF:
            raise LocalProtocolError(f"call ID {self.config.call_id} is not a 16-bit value")
        self.state = ControlState.IDLE
        self.call_state = CallState.IDLE
        self.local_call_id = self.config.call_id
        self.peer_call_id: int | None = None
        self.peer: ControlConnected | None = None
        self.stats = ControlStats()
        self._peer_word = "the server" if role == "client" else "the client"
        self._stream = ControlStreamReassembler()
        self._out = bytearray()
        self._events: deque[Event] = deque()
        self._reply_deadline: float | None = None
        self._last_rx = 0.0
        self._echo_pending: tuple[int, float] | None = None
        self._echo_counter = 0
        self._close_reason = ""
        self._close_by_peer = False
        self._handlers: dict[type[ControlMessage], Callable[[Any, float], None]] = {
            StartControlConnectionRequest: self._on_start_request,
            StartControlConnectionReply: self._on_start_reply,
            StopControlConnectionRequest: self._on_stop_request,
            StopControlConnectionReply: self._on_stop_reply,
            EchoRequest: self._on_echo_request,
            EchoReply: self._on_echo_reply,
            OutgoingCallRequest: self._on_call_request,
            OutgoingCallReply: self._on_call_reply,
            CallClearRequest: self._on_call_clear,
            CallDisconnectNotify: self._on_disconnect_notify,
            SetLinkInfo: self._on_set_link_info,
            WanErrorNotify: self._on_wan_error,
        }

    # -- outputs -------------------------------------------------------------------------------

    def data_to_send(self) -> bytes:
        out = bytes(self._out)
        self._out.clear()
        return out

    def next_event(self) -> Event | None:
        return self._events.popleft() if self._events else None

    def get_timer(self) -> float | None:
        if self.state is ControlState.CLOSED:
            return None
        deadlines = [self._reply_deadline, self._echo_deadline()]
        present = [d for d in deadlines if d is not None]
        return min(present) if present else None

    @property
    def closed(self) -> bool:
        return self.state is ControlState.CLOSED

    # -- user calls ----------------------------------------------------------------------------

    def connect(self, now: float) -> None:
        """Client: send the Start-Control-Connection-Request. Server: call once TCP is accepted."""
        if self.state is not ControlState.IDLE:
            raise LocalProtocolError(f"connect() in state {self.state.value}")
        self._last_rx = now
        self._reply_deadline = now + self.config.reply_timeout
        if self.role == "server":
            self.state = ControlState.WAIT_START_REQUEST
            return
        c = self.config
        self._send(
            StartControlConnectionRequest(
                protocol_version=PROTOCOL_VERSION,
                framing_capabilities=c.framing_capabilities,
                bearer_capabilities=c.bearer_capabilities,
                maximum_channels=c.maximum_channels,
                firmware_revision=c.firmware_revision,
                host_name=c.host_name,
                vendor_string=c.vendor,
            )
        )
        self.state = ControlState.WAIT_START_REPLY

    def close(self, now: float, reason: str = "you disconnected") -> None:
        """Hang up the call (if any), then stop the control connection. ``reason`` goes to the UI."""
        if self.state in (ControlState.CLOSED, ControlState.WAIT_STOP_REPLY):
            return
        if self.state is ControlState.IDLE or self.state is ControlState.WAIT_START_REQUEST:
            self._finish(reason, by_peer=False)
            return
        if self.call_state in (CallState.ESTABLISHED, CallState.WAIT_REPLY):
            if self.role == "client":
                self._send(CallClearRequest(call_id=self.local_call_id))
                self.call_state = CallState.WAIT_DISCONNECT
                self._reply_deadline = now + self.config.clear_timeout
                self._close_reason, self._close_by_peer = reason, False
                return
            self._send(CallDisconnectNotify(call_id=self.local_call_id, result_code=3))
            self._clear_call(reason, by_peer=False)
        if self.call_state is CallState.WAIT_DISCONNECT:
            return  # already hanging up; the stop follows the Call-Disconnect-Notify
        self._begin_stop(reason, StopReason.NONE, now, by_peer=False)

    def set_link_info(self, send_accm: int, receive_accm: int) -> None:
        """Client: tell the PAC the ACCMs PPP negotiated (Windows does this after LCP)."""
        if self.role != "client" or self.call_state is not CallState.ESTABLISHED:
            raise LocalProtocolError("Set-Link-Info needs an established call on the client side")
        assert self.peer_call_id is not None
        self._send(SetLinkInfo(peer_call_id=self.peer_call_id, send_accm=send_accm, receive_accm=receive_accm))

    # -- inputs --------------------------------------------------------------------------------

    def receive_data(self, data: bytes, now: float) -> None:
        """Bytes from the TCP stream, in any chunking. Never raises on bad input."""
        if self.state is ControlState.CLOSED:
            return
        if self.state is ControlState.IDLE and self.role == "server":
            self.state = ControlState.WAIT_START_REQUEST
            self._last_rx = now
        self._stream.feed(data)
        while self.state is not ControlState.CLOSED:
            try:
                raw = self._stream.next_message()
            except ParseError as exc:
                self.stats.malformed += 1
                self._clear_call(f"{self._peer_word} sent data that is not PPTP ({exc})", by_peer=False)
                self._finish(f"{self._peer_word} sent data that is not PPTP ({exc})", by_peer=False)
                return
            if raw is None:
                return
            try:
                message = decode_message(raw)
            except ParseError:
                self.stats.malformed += 1
                continue
            self.stats.messages_received += 1
            self._last_rx = now
            self._echo_pending = None  # any message proves the peer is alive
            handler = self._handlers.get(type(message))
            if handler is None:
                self.stats.unexpected += 1  # incoming-call messages: dial-in is not offered
            else:
                handler(message, now)

    def handle_timer(self, now: float) -> None:
        if self.state is ControlState.CLOSED:
            return
        if self._reply_deadline is not None and now >= self._reply_deadline:
            self._reply_deadline = None
            self._on_reply_timeout(now)
        if self.state is not ControlState.ESTABLISHED or self.config.echo_interval is None:
            return
        if self._echo_pending is not None:
            _, sent_at = self._echo_pending
            if now >= sent_at + self.config.echo_timeout:
                self._on_echo_timeout(now - sent_at)
        elif now >= self._last_rx + self.config.echo_interval:
            self._echo_counter = (self._echo_counter + 1) & 0xFFFFFFFF
            self._send(EchoRequest(identifier=self._echo_counter))
            self._echo_pending = (self._echo_counter, now)
            self.stats.echo_requests_sent += 1

    # -- message handlers ----------------------------------------------------------------------

    def _on_start_request(self, msg: StartControlConnectionRequest, now: float) -> None:
        if self.role == "client":
            self.stats.unexpected += 1  # we never act as the receiver of a control connection
            return
        if self.state is not ControlState.WAIT_START_REQUEST:
            self.stats.unexpected += 1
            self._send(self._start_reply(result_code=3))
            return
        if msg.protocol_version != PROTOCOL_VERSION:
            self._send(self._start_reply(result_code=5))
            self._finish(
                f"the client asked for PPTP version {_version(msg.protocol_version)}; "
                "only version 1.0 is supported",
                by_peer=False,
            )
            return
        self._send(self._start_reply(result_code=1))
        self.state = ControlState.ESTABLISHED
        self._reply_deadline = None
        self._connected(msg)

    def _on_start_reply(self, msg: StartControlConnectionReply, now: float) -> None:
        if self.role != "client" or self.state is not ControlState.WAIT_START_REPLY:
            self.stats.unexpected += 1
            return
        self._reply_deadline = None
        if msg.result_code != 1:
            text = result_text(MessageType.START_CONTROL_CONNECTION_REPLY, msg.result_code, msg.error_code)
            self._finish(f"the server refused the PPTP control connection: {text}", by_peer=True)
            return
        if msg.protocol_version != PROTOCOL_VERSION:
            reason = f"the server speaks PPTP version {_version(msg.protocol_version)}, not 1.0"
            self._begin_stop(reason, StopReason.STOP_PROTOCOL, now, by_peer=False)
            return
        self.state = ControlState.ESTABLISHED
        self._connected(msg)
        c = self.config
        self._send(
            OutgoingCallRequest(
                call_id=self.local_call_id,
                call_serial_number=c.call_serial_number,
                minimum_bps=c.minimum_bps,
                maximum_bps=c.maximum_bps,
                bearer_type=c.bearer_type,
                framing_type=c.framing_type,
                packet_recv_window_size=c.recv_window,
                packet_processing_delay=c.processing_delay,
                phone_number=c.phone_number,
            )
        )
        self.call_state = CallState.WAIT_REPLY
        self._reply_deadline = now + c.reply_timeout

    def _on_call_request(self, msg: OutgoingCallRequest, now: float) -> None:
        if self.role != "server":
            self.stats.unexpected += 1
            return
        refuse: GeneralError | None = None
        if self.state is not ControlState.ESTABLISHED:
            refuse = GeneralError.NOT_CONNECTED
        elif self.call_state in (CallState.ESTABLISHED, CallState.WAIT_REPLY):
            refuse = GeneralError.NO_RESOURCE  # one call per control connection, like pptpd
        if refuse is not None:
            self.stats.unexpected += 1
            self._send(
                OutgoingCallReply(
                    call_id=self.local_call_id, peer_call_id=msg.call_id, result_code=2, error_code=refuse
                )
            )
            return
        c = self.config
        self._send(
            OutgoingCallReply(
                call_id=self.local_call_id,
                peer_call_id=msg.call_id,
                result_code=1,
                connect_speed=c.connect_speed,
                packet_recv_window_size=c.recv_window,
                packet_processing_delay=c.processing_delay,
            )
        )
        self._call_up(msg, c.connect_speed)

    def _on_call_reply(self, msg: OutgoingCallReply, now: float) -> None:
        if (
            self.role != "client"
            or self.call_state is not CallState.WAIT_REPLY
            or msg.peer_call_id != self.local_call_id
        ):
            self.stats.unexpected += 1
            return
        self._reply_deadline = None
        if msg.result_code != 1:
            text = result_text(MessageType.OUTGOING_CALL_REPLY, msg.result_code, msg.error_code)
            reason = f"the server refused the call: {text}"
            self._clear_call(reason, by_peer=True)
            self._begin_stop(reason, StopReason.NONE, now, by_peer=True)
            return
        self._call_up(msg, msg.connect_speed)

    def _call_up(self, msg: OutgoingCallRequest | OutgoingCallReply, connect_speed: int) -> None:
        """Both roles end call set-up the same way: the peer's call id and window are now known."""
        self.peer_call_id = msg.call_id
        self.call_state = CallState.ESTABLISHED
        self._events.append(
            CallEstablished(
                local_call_id=self.local_call_id,
                peer_call_id=msg.call_id,
                connect_speed=connect_speed,
                peer_recv_window=msg.packet_recv_window_size,
                peer_processing_delay=msg.packet_processing_delay,
            )
        )

    def _on_call_clear(self, msg: CallClearRequest, now: float) -> None:
        if (
            self.role != "server"
            or self.call_state is not CallState.ESTABLISHED
            or msg.call_id != self.peer_call_id
        ):
            self.stats.unexpected += 1
            return
        self._send(CallDisconnectNotify(call_id=self.local_call_id, result_code=4))
        self._clear_call("the client hung up the call", by_peer=True)
        self.call_state = CallState.IDLE  # the client may place another call on this connection

    def _on_disconnect_notify(self, msg: CallDisconnectNotify, now: float) -> None:
        active = (CallState.WAIT_REPLY, CallState.ESTABLISHED, CallState.WAIT_DISCONNECT)
        if self.role != "client" or self.call_state not in active:
            self.stats.unexpected += 1
            return
        if self.peer_call_id is not None and msg.call_id != self.peer_call_id:
            self.stats.unexpected += 1
            return
        self._reply_deadline = None
        if self.call_state is CallState.WAIT_DISCONNECT:
            reason, by_peer = self._close_reason, False
        else:
            text = result_text(MessageType.CALL_DISCONNECT_NOTIFY, msg.result_code, msg.error_code)
            reason, by_peer = f"the server ended the call: {text}", True
            if msg.cause_code:
                reason += f" (cause code {msg.cause_code})"
        self._clear_call(reason, by_peer=by_peer)
        self._begin_stop(reason, StopReason.NONE, now, by_peer=by_peer)

    def _on_stop_request(self, msg: StopControlConnectionRequest, now: float) -> None:
        self._send(StopControlConnectionReply(result_code=1))
        if self.state is ControlState.WAIT_STOP_REPLY:
            self._finish(self._close_reason, by_peer=self._close_by_peer)  # both sides stopped at once
            return
        reason = f"{self._peer_word} closed the connection"
        if msg.reason != StopReason.NONE:
            reason += f" because {stop_reason_text(msg.reason)}"
        self._clear_call(reason, by_peer=True)
        self._finish(reason, by_peer=True)

    def _on_stop_reply(self, msg: StopControlConnectionReply, now: float) -> None:
        if self.state is not ControlState.WAIT_STOP_REPLY:
            self.stats.unexpected += 1
            return
        self._finish(self._close_reason, by_peer=self._close_by_peer)

    def _on_echo_request(self, msg: EchoRequest, now: float) -> None:
        self._send(EchoReply(identifier=msg.identifier, result_code=1))
        self.stats.echo_requests_answered += 1

    def _on_echo_reply(self, msg: EchoReply, now: float) -> None:
        pass  # receive_data already cleared the pending echo: the peer is alive

    def _on_set_link_info(self, msg: SetLinkInfo, now: float) -> None:
        if self.role != "server" or msg.peer_call_id != self.local_call_id:
            self.stats.unexpected += 1
            return
        self._events.append(LinkInfoReceived(send_accm=msg.send_accm, receive_accm=msg.receive_accm))

    def _on_wan_error(self, msg: WanErrorNotify, now: float) -> None:
        if self.role != "client":
            self.stats.unexpected += 1
            return
        self._events.append(
            WanErrorReported(
                crc_errors=msg.crc_errors,
                framing_errors=msg.framing_errors,
                hardware_overruns=msg.hardware_overruns,
                buffer_overruns=msg.buffer_overruns,
                timeout_errors=msg.timeout_errors,
                alignment_errors=msg.alignment_errors,
            )
        )

    # -- timers --------------------------------------------------------------------------------

    def _echo_deadline(self) -> float | None:
        if self.state is not ControlState.ESTABLISHED or self.config.echo_interval is None:
            return None
        if self._echo_pending is not None:
            return self._echo_pending[1] + self.config.echo_timeout
        return self._last_rx + self.config.echo_interval

    def _on_reply_timeout(self, now: float) -> None:
        c = self.config
        if self.state is ControlState.WAIT_START_REPLY:
            self._finish(
                f"the server did not answer the PPTP start request within {c.reply_timeout:g} s",
                by_peer=False,
            )
        elif self.state is ControlState.WAIT_START_REQUEST:
            self._finish(f"the client sent no PPTP start request within {c.reply_timeout:g} s", by_peer=False)
        elif self.state is ControlState.WAIT_STOP_REPLY:
            self._finish(self._close_reason, by_peer=self._close_by_peer)
        elif self.call_state is CallState.WAIT_REPLY:
            reason = f"the server did not answer the call request within {c.reply_timeout:g} s"
            self._clear_call(reason, by_peer=False)
            self._begin_stop(reason, StopReason.NONE, now, by_peer=False)
        elif self.call_state is CallState.WAIT_DISCONNECT:
            self._clear_call(self._close_reason, by_peer=False)
            self._begin_stop(self._close_reason, StopReason.NONE, now, by_peer=False)

    def _on_echo_timeout(self, waited: float) -> None:
        self._events.append(EchoTimeout(waited=waited))
        reason = f"{self._peer_word} stopped answering keep-alive messages (no echo reply in {waited:g} s)"
        self._clear_call(reason, by_peer=False)
        self._send(StopControlConnectionRequest(reason=StopReason.NONE))  # courtesy; we do not wait
        self._finish(reason, by_peer=False)

    # -- helpers -------------------------------------------------------------------------------

    def _send(self, message: ControlMessage) -> None:
        self._out += message.encode()
        self.stats.messages_sent += 1

    def _start_reply(self, result_code: int) -> StartControlConnectionReply:
        c = self.config
        return StartControlConnectionReply(
            protocol_version=PROTOCOL_VERSION,
            result_code=result_code,
            framing_capabilities=c.framing_capabilities,
            bearer_capabilities=c.bearer_capabilities,
            maximum_channels=c.maximum_channels,
            firmware_revision=c.firmware_revision,
            host_name=c.host_name,
            vendor_string=c.vendor,
        )

    def _connected(self, msg: StartControlConnectionRequest | StartControlConnectionReply) -> None:
        self.peer = ControlConnected(
            peer_host_name=msg.host_name,
            peer_vendor=msg.vendor_string,
            peer_firmware_revision=msg.firmware_revision,
            peer_framing_capabilities=msg.framing_capabilities,
            peer_bearer_capabilities=msg.bearer_capabilities,
            peer_maximum_channels=msg.maximum_channels,
        )
        self._events.append(self.peer)

    def _clear_call(self, reason: str, *, by_peer: bool) -> None:
        """Report the call gone, once, if there was one."""
        if self.call_state in (CallState.WAIT_REPLY, CallState.ESTABLISHED, CallState.WAIT_DISCONNECT):
            self.call_state = CallState.CLEARED
            self._events.append(CallCleared(reason=reason, by_peer=by_peer))

    def _begin_stop(self, reason: str, stop_reason: StopReason, now: float, *, by_peer: bool) -> None:
        self._send(StopControlConnectionRequest(reason=stop_reason))
        self.state = ControlState.WAIT_STOP_REPLY
        self._reply_deadline = now + self.config.stop_timeout
        self._close_reason, self._close_by_peer = reason, by_peer

    def _finish(self, reason: str, *, by_peer: bool) -> None:
        self.state = ControlState.CLOSED
        self._reply_deadline = None
        self._echo_pending = None
        self._events.append(ControlClosed(reason=reason, by_peer=by_peer))


def _version(value: int) -> str:
    return f"{value >> 8}.{value & 0xFF}"
