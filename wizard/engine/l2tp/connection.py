"""The sans-IO L2TPv2 connection: one tunnel and its sessions, as LAC or LNS (RFC 2661).

The driver owns the UDP socket. Notes for it:

* An LNS listens on UDP 1701 and replies from 1701; a client (LAC) uses an ephemeral source port.
  Some LNS answer the SCCRQ (or later messages) from a different source port than the one the SCCRQ
  went to; the driver must then send everything after the first reply to the address/port the
  reply came from.
* For the LNS role, create one connection per tunnel when an SCCRQ (tunnel id 0 in its header)
  arrives; route later datagrams by :attr:`L2TPConnection.local_tunnel_id` (the header tunnel id)
  and SCCRQ retransmissions (tunnel id 0 again) by source address.
* After :class:`~wizard.engine.l2tp.events.TunnelClosed` the connection may still have a StopCCN
  to retransmit or duplicates to acknowledge; keep feeding it until :attr:`finished` if you can.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from enum import Enum, auto
from typing import Literal

from wizard.engine.errors import LocalProtocolError, ParseError
from wizard.engine.l2tp import builders
from wizard.engine.l2tp.avp import AVP, HiddenAVPError, ProtocolVersion, Q931Cause, ResultCode
from wizard.engine.l2tp.builders import HIDE_WHEN_ENABLED, challenge_response
from wizard.engine.l2tp.config import L2TPConfig
from wizard.engine.l2tp.constants import (
    FRAMING_ASYNC,
    FRAMING_SYNC,
    AVPType,
    CDNResult,
    GeneralError,
    MessageType,
    StopCCNResult,
)
from wizard.engine.l2tp.events import (
    Event,
    PPPFrameReceived,
    SessionClosed,
    SessionUp,
    TunnelClosed,
    TunnelUp,
)
from wizard.engine.l2tp.header import L2TPHeader, decode_header
from wizard.engine.l2tp.messages import ControlMessage, decode_control
from wizard.engine.l2tp.reasons import describe_cdn, describe_stopccn
from wizard.engine.l2tp.reliable import ReliableChannel
from wizard.engine.l2tp.session import Session, SessionState
from wizard.engine.l2tp.stats import L2TPStats

Role = Literal["lac", "lns"]

SESSION_MESSAGES = frozenset(
    {
        MessageType.OCRQ,
        MessageType.OCRP,
        MessageType.OCCN,
        MessageType.ICRQ,
        MessageType.ICRP,
        MessageType.ICCN,
        MessageType.CDN,
        MessageType.WEN,
        MessageType.SLI,
    }
)


class TunnelState(Enum):
    IDLE = auto()
    WAIT_CTL_REPLY = auto()  # LAC: SCCRQ sent
    WAIT_CTL_CONN = auto()  # LNS: SCCRP sent
    ESTABLISHED = auto()
    CLOSING = auto()  # TunnelClosed reported; StopCCN in flight or lingering to ack duplicates
    CLOSED = auto()


class L2TPConnection:
    """One L2TP tunnel as LAC (client, initiator) or LNS (server, responder)."""

    def __init__(self, role: Role, config: L2TPConfig | None = None) -> None:
        if role not in ("lac", "lns"):
            raise ValueError(f"role must be 'lac' or 'lns', not {role!r}")
        self.role: Role = role
        self.config = config or L2TPConfig()
        self.stats = L2TPStats()
        self.state = TunnelState.IDLE
        self._secret = self.config.secret_bytes
        self._random: Callable[[int], bytes] = self.config.random_bytes
        self._hidden = HIDE_WHEN_ENABLED if self.config.hide_avps and self._secret else frozenset()
        self._channel = ReliableChannel(self.config.retransmit_policy, self.config.receive_window, self.stats)
        self.local_tunnel_id = self.config.local_tunnel_id or self._random_id(set())
        self.peer_tunnel_id = 0
        self.peer_host_name = ""
        self.peer_vendor_name = ""
        self.peer_framing = FRAMING_SYNC | FRAMING_ASYNC
        self.sessions: dict[int, Session] = {}
        self._events: deque[Event] = deque()
        self._out: list[bytes] = []
        self._our_challenge: bytes | None = None
        self._want_session = False
        self._call_serial = 0
        self._started_at: float | None = None
        self._session_started: dict[int, float] = {}
        self._last_heard = 0.0
        self._last_hello = 0.0
        self._linger_until: float | None = None

    # --- helpers -------------------------------------------------------------------------------

    @property
    def peer_label(self) -> str:
        who = "the L2TP server" if self.role == "lac" else "the L2TP client"
        return f"{who} at {self.config.peer_address}" if self.config.peer_address else who

    @property
    def finished(self) -> bool:
        """True once nothing is left to send, retransmit or acknowledge."""
        return self.state is TunnelState.CLOSED

    @property
    def can_send_ppp(self) -> bool:
        """True when :meth:`send_ppp` (without a session id) would not raise."""
        if self.state is not TunnelState.ESTABLISHED:
            return False
        session = self._pick_session(None)
        return session is not None and session.state is SessionState.ESTABLISHED

    def _random_id(self, used: set[int] | dict[int, Session]) -> int:
        for _ in range(64):
            value = int.from_bytes(self._random(2), "big")
            if value and value not in used:
                return value
        return next(v for v in range(1, 0x10000) if v not in used)

    def _send(self, msg: ControlMessage, session_id: int, now: float) -> None:
        self._channel.send(msg.encode(self._secret, self._random), session_id, now)

    def _flush(self) -> None:
        self._out.extend(self._channel.take_datagrams())

    def _emit(self, event: Event) -> None:
        self._events.append(event)

    def _pick_session(self, session_id: int | None) -> Session | None:
        if session_id is not None:
            return self.sessions.get(session_id)
        established = [s for s in self.sessions.values() if s.state is SessionState.ESTABLISHED]
        return established[0] if len(established) == 1 else None

    def _new_challenge(self) -> bytes | None:
        """A fresh challenge for SCCRQ/SCCRP when tunnel authentication is on (section 5.1.1)."""
        self._our_challenge = None if self._secret is None else self._random(16)
        return self._our_challenge

    def _learn_peer(self, msg: ControlMessage) -> None:
        self.peer_tunnel_id = msg.u16(AVPType.ASSIGNED_TUNNEL_ID) or 0
        self._channel.peer_tunnel_id = self.peer_tunnel_id
        window = msg.u16(AVPType.RECEIVE_WINDOW_SIZE)
        if window is not None:
            self._channel.peer_window = max(1, window)
        self.peer_host_name = msg.text(AVPType.HOST_NAME) or ""
        self.peer_vendor_name = msg.text(AVPType.VENDOR_NAME) or ""
        framing = msg.u32(AVPType.FRAMING_CAPABILITIES)
        if framing is not None:
            self.peer_framing = framing

    # --- user calls ----------------------------------------------------------------------------

    def connect(self, now: float) -> None:
        """LAC: send SCCRQ; once the tunnel is up, open one session (ICRQ)."""
        if self.role != "lac":
            raise LocalProtocolError("only a LAC connects; an LNS answers an SCCRQ")
        if self.state is not TunnelState.IDLE:
            raise LocalProtocolError(f"connect() called in state {self.state.name}")
        self._want_session = True
        self._started_at = self._last_heard = now
        sccrq = builders.tunnel_setup(MessageType.SCCRQ, self.config, self.local_tunnel_id, self._new_challenge())
        self._send(sccrq, 0, now)
        self.state = TunnelState.WAIT_CTL_REPLY
        self._flush()

    def open_session(self, now: float) -> int:
        """LAC: place another incoming call on an established tunnel; returns our session id."""
        if self.role != "lac":
            raise LocalProtocolError("only a LAC opens sessions")
        if self.state is not TunnelState.ESTABLISHED:
            raise LocalProtocolError("the L2TP tunnel is not up")
        session_id = self._start_session(now)
        self._flush()
        return session_id

    def _start_session(self, now: float) -> int:
        local_id = self._random_id(self.sessions)
        self._call_serial = (self._call_serial + 1) & 0xFFFFFFFF
        session = Session(local_id, 0, SessionState.WAIT_REPLY, call_serial=self._call_serial)
        self.sessions[local_id] = session
        self._session_started[local_id] = now
        msg = builders.icrq(local_id, session.call_serial, self._hidden)
        self._send(msg, 0, now)
        return local_id

    def send_ppp(self, frame: bytes, session_id: int | None = None) -> None:
        """Queue one PPP frame as a data message (on the only session unless ``session_id``)."""
        if self.state is not TunnelState.ESTABLISHED:
            raise LocalProtocolError("the L2TP tunnel is not up")
        session = self._pick_session(session_id)
        if session is None or session.state is not SessionState.ESTABLISHED:
            raise LocalProtocolError("no established L2TP session to send on")
        try:
            datagram = session.encode_data(self.peer_tunnel_id, frame, length_bit=self.config.data_length_bit)
        except ValueError as exc:
            raise LocalProtocolError(f"PPP frame of {len(frame)} bytes does not fit an L2TP message") from exc
        self._flush()
        self._out.append(datagram)
        self.stats.data_sent += 1

    def close(self, now: float, reason: str = "") -> None:
        """Tear the tunnel down (StopCCN, general request to clear)."""
        reason = reason or "the connection was closed on request"
        if self.state in (TunnelState.CLOSING, TunnelState.CLOSED):
            return
        if self.peer_tunnel_id == 0:
            self._channel.abandon()
            self._finish_events(reason, by_peer=False)
            self.state = TunnelState.CLOSED
            return
        self._stop(now, reason, StopCCNResult.GENERAL_CLEAR, message="", by_peer=False)
        self._flush()

    def close_session(self, now: float, session_id: int | None = None, reason: str = "") -> None:
        """Hang up one call (CDN, administrative) and keep the tunnel."""
        session = self._pick_session(session_id)
        if session is None:
            raise LocalProtocolError("no such L2TP session")
        self._drop_session(
            now,
            session,
            reason or "the call was closed on request",
            ResultCode(CDNResult.ADMINISTRATIVE),
            by_peer=False,
        )
        self._flush()

    # --- outputs -------------------------------------------------------------------------------

    def datagrams_to_send(self) -> list[bytes]:
        self._flush()
        out, self._out = self._out, []
        return out

    def next_event(self) -> Event | None:
        return self._events.popleft() if self._events else None

    def get_timer(self) -> float | None:
        if self.state is TunnelState.CLOSED:
            return None
        times = [self._channel.get_timer(), self._hello_due(), self._linger_until, self._setup_due()]
        present = [t for t in times if t is not None]
        return min(present) if present else None

    def _hello_due(self) -> float | None:
        interval = self.config.hello_interval
        if interval is None or self.state is not TunnelState.ESTABLISHED or self._channel.has_outstanding:
            return None
        return max(self._last_heard, self._last_hello) + interval

    def _setup_due(self) -> float | None:
        times: list[float] = []
        if self.state in (TunnelState.WAIT_CTL_REPLY, TunnelState.WAIT_CTL_CONN) and self._started_at is not None:
            times.append(self._started_at + self.config.setup_timeout)
        if self.state is TunnelState.ESTABLISHED:
            times.extend(
                started + self.config.setup_timeout
                for sid, started in self._session_started.items()
                if sid in self.sessions and self.sessions[sid].state is not SessionState.ESTABLISHED
            )
        return min(times) if times else None

    # --- timers --------------------------------------------------------------------------------

    def handle_timer(self, now: float) -> None:
        if self.state is TunnelState.CLOSED:
            return
        self._channel.handle_timer(now)
        if self._channel.failed:
            self._on_channel_failed()
        elif self.state is TunnelState.CLOSING:
            if self._linger_until is not None and now >= self._linger_until:
                self.state = TunnelState.CLOSED
        else:
            self._check_setup_timeouts(now)
            due = self._hello_due()
            if due is not None and now >= due:
                self._last_hello = now
                self.stats.hellos_sent += 1
                self._send(builders.hello(), 0, now)
        self._flush()

    def _on_channel_failed(self) -> None:
        if self.state is TunnelState.CLOSING:
            self.state = TunnelState.CLOSED
            return
        if self.state is TunnelState.ESTABLISHED:
            reason = f"{self.peer_label} stopped responding (keepalive and control messages went unanswered)"
        else:
            reason = f"no reply from {self.peer_label}"
        self._channel.abandon()
        self._finish_events(reason, by_peer=False)
        self.state = TunnelState.CLOSED

    def _check_setup_timeouts(self, now: float) -> None:
        due = self._setup_due()
        if due is None or now < due:
            return
        if self.state is not TunnelState.ESTABLISHED:
            self._fail(now, f"{self.peer_label} did not complete the tunnel setup in time", StopCCNResult.GENERAL_ERROR)
            return
        for sid, started in list(self._session_started.items()):
            session = self.sessions.get(sid)
            if (
                session is not None
                and session.state is not SessionState.ESTABLISHED
                and now >= started + self.config.setup_timeout
            ):
                self._drop_session(
                    now,
                    session,
                    f"{self.peer_label} did not complete the call setup in time",
                    ResultCode(CDNResult.TIMEOUT),
                    by_peer=False,
                )

    # --- teardown ------------------------------------------------------------------------------

    def _finish_events(self, reason: str, *, by_peer: bool, code: ResultCode | None = None) -> None:
        """Report every session and then the tunnel as closed (once)."""
        for session in list(self.sessions.values()):
            session.state = SessionState.CLOSED
            self._emit(SessionClosed(reason, session.local_id, by_peer=by_peer))
        self.sessions.clear()
        self._session_started.clear()
        self._emit(
            TunnelClosed(
                reason,
                by_peer=by_peer,
                result_code=None if code is None else code.result,
                error_code=None if code is None else code.error,
            )
        )

    def _stop(
        self,
        now: float,
        reason: str,
        result: int,
        error: int | None = None,
        message: str = "",
        *,
        by_peer: bool,
        peer_code: ResultCode | None = None,
    ) -> None:
        """Send StopCCN, report the closure, and wait (CLOSING) for the StopCCN to be acked."""
        code = ResultCode(result, error, message)
        msg = builders.stopccn(self.local_tunnel_id, code)
        self._send(msg, 0, now)
        self._finish_events(reason, by_peer=by_peer, code=peer_code if by_peer else code)
        self.state = TunnelState.CLOSING
        self._linger_until = None

    def _fail(self, now: float, reason: str, result: int, error: int | None = None, message: str = "") -> None:
        """We give up on the tunnel because of something the peer did (or did not do)."""
        if self.state in (TunnelState.CLOSING, TunnelState.CLOSED):
            return
        if self.peer_tunnel_id == 0 and self.role == "lac":
            self._channel.abandon()
            self._finish_events(reason, by_peer=False)
            self.state = TunnelState.CLOSED
            return
        self._stop(now, reason, result, error, message or reason[:200], by_peer=False)

    def _drop_session(
        self,
        now: float,
        session: Session,
        reason: str,
        code: ResultCode | None,
        *,
        by_peer: bool,
    ) -> None:
        """End a session: send CDN with ``code`` if we close it (``code`` is the peer's otherwise),
        report it, and close a client tunnel whose last call this was."""
        if not by_peer and code is not None:
            self._send_cdn(now, session.peer_id, session.local_id, code)
        self.sessions.pop(session.local_id, None)
        self._session_started.pop(session.local_id, None)
        session.state = SessionState.CLOSED
        self._emit(
            SessionClosed(
                reason,
                session.local_id,
                by_peer=by_peer,
                result_code=None if code is None else code.result,
                error_code=None if code is None else code.error,
            )
        )
        self._maybe_close_with_session(now, by_peer=by_peer, reason=reason, code=code if by_peer else None)

    def _send_cdn(self, now: float, peer_session_id: int, local_session_id: int, code: ResultCode) -> None:
        msg = builders.cdn(code, local_session_id, self._hidden)
        self._send(msg, peer_session_id, now)

    # --- receiving -----------------------------------------------------------------------------

    def receive_datagram(self, data: bytes, now: float) -> None:
        """Feed one UDP payload; malformed or foreign datagrams are dropped and counted."""
        if self.state is TunnelState.CLOSED:
            return
        try:
            header, payload = decode_header(data)
        except ParseError:
            self.stats.malformed_dropped += 1
            return
        if header.is_control:
            self._receive_control(header, payload, now)
        else:
            self._receive_data(header, payload, now)
        self._after_receive()
        self._flush()

    def _after_receive(self) -> None:
        if self.state is TunnelState.CLOSING and self._linger_until is None and not self._channel.has_outstanding:
            self.state = TunnelState.CLOSED  # our StopCCN was acknowledged

    def _receive_data(self, header: L2TPHeader, payload: bytes, now: float) -> None:
        if header.tunnel_id != self.local_tunnel_id:
            self.stats.wrong_tunnel_dropped += 1
            return
        session = self.sessions.get(header.session_id)
        if (
            self.state is not TunnelState.ESTABLISHED
            or session is None
            or session.state is not SessionState.ESTABLISHED
        ):
            self.stats.unknown_session_dropped += 1
            return
        self._last_heard = now
        if not session.accept_data(header):
            self.stats.data_out_of_order_dropped += 1
            return
        self.stats.data_received += 1
        self._emit(PPPFrameReceived(payload, session.local_id))

    def _receive_control(self, header: L2TPHeader, payload: bytes, now: float) -> None:
        if header.tunnel_id != self.local_tunnel_id and not (self.role == "lns" and header.tunnel_id == 0):
            self.stats.wrong_tunnel_dropped += 1
            return
        if self.role == "lns" and self.state is TunnelState.IDLE and header.tunnel_id != 0:
            self.stats.wrong_tunnel_dropped += 1
            return
        try:
            decode_control(payload, self._secret)
        except HiddenAVPError:
            pass  # well formed; reported when the message is processed in order
        except ParseError:
            self.stats.malformed_dropped += 1
            return
        self._last_heard = now
        for in_order_header, in_order_payload in self._channel.receive(header, payload, now):
            self._dispatch(in_order_header, in_order_payload, now)

    def _dispatch(self, header: L2TPHeader, payload: bytes, now: float) -> None:
        if self.state is TunnelState.CLOSED:
            return
        try:
            msg = decode_control(payload, self._secret)
            if msg is None:
                return
            self._learn_tunnel_id_early(msg)
            msg.validate()
        except HiddenAVPError as exc:
            why = (
                "no tunnel secret is configured"
                if self._secret is None
                else "the tunnel secret probably does not match"
            )
            self._fail(
                now,
                f"{self.peer_label} sent hidden attributes that could not be decoded ({why})",
                StopCCNResult.NOT_AUTHORIZED,
                message=str(exc),
            )
            return
        except ParseError as exc:
            self._fail(
                now,
                f"{self.peer_label} sent a malformed control message ({exc})",
                StopCCNResult.GENERAL_ERROR,
                GeneralError.BAD_LENGTH,
                str(exc),
            )
            return
        if self.state is TunnelState.CLOSING:
            if msg.msg_type == MessageType.STOPCCN:
                self._channel.send_zlb()
                self._channel.abandon()
                self._linger_until = now + self.config.stop_linger
            return
        self._dispatch_message(header, msg, now)

    def _learn_tunnel_id_early(self, msg: ControlMessage) -> None:
        """Take the peer's tunnel id from SCCRQ/SCCRP first, so even a StopCCN about a bad
        SCCRQ/SCCRP reaches the right tunnel."""
        expected = MessageType.SCCRP if self.role == "lac" else MessageType.SCCRQ
        if self.peer_tunnel_id or msg.msg_type != expected:
            return
        if self.state not in (TunnelState.IDLE, TunnelState.WAIT_CTL_REPLY):
            return
        try:
            tunnel_id = msg.u16(AVPType.ASSIGNED_TUNNEL_ID)
        except ParseError:
            return
        if tunnel_id:
            self.peer_tunnel_id = self._channel.peer_tunnel_id = tunnel_id

    def _dispatch_message(self, header: L2TPHeader, msg: ControlMessage, now: float) -> None:
        try:
            msg_type = MessageType(msg.msg_type)
        except ValueError:
            if msg.type_mandatory:
                self._fail(
                    now,
                    f"{self.peer_label} sent a control message this client does not understand "
                    f"(message type {msg.msg_type})",
                    StopCCNResult.GENERAL_ERROR,
                    GeneralError.UNKNOWN_MANDATORY_AVP,
                    f"unknown message type {msg.msg_type}",
                )
            else:
                self.stats.ignored_messages += 1
            return
        bad = msg.unknown_mandatory()
        if bad is not None:
            self._unknown_mandatory(header, msg, msg_type, bad, now)
            return
        handler = self._handlers().get(msg_type)
        if handler is None:
            self.stats.ignored_messages += 1
            return
        handler(header, msg, now)

    def _handlers(self) -> dict[MessageType, Callable[[L2TPHeader, ControlMessage, float], None]]:
        return {
            MessageType.SCCRQ: self._on_sccrq,
            MessageType.SCCRP: self._on_sccrp,
            MessageType.SCCCN: self._on_scccn,
            MessageType.STOPCCN: self._on_stopccn,
            MessageType.HELLO: lambda h, m, n: None,
            MessageType.ICRQ: self._on_icrq,
            MessageType.ICRP: self._on_icrp,
            MessageType.ICCN: self._on_iccn,
            MessageType.CDN: self._on_cdn,
            MessageType.OCRQ: self._on_ocrq,
        }

    def _unknown_mandatory(
        self, header: L2TPHeader, msg: ControlMessage, msg_type: MessageType, bad: AVP, now: float
    ) -> None:
        """Section 4.2: an unrecognised AVP with the M bit ends the session or the tunnel."""
        what = f"attribute {bad.attr_type}" + (f" of vendor {bad.vendor_id}" if bad.vendor_id else "")
        text = f"unknown mandatory AVP: {what}"
        if msg_type in SESSION_MESSAGES:
            session = self._session_for(header, msg)
            if session is not None:
                self._drop_session(
                    now,
                    session,
                    f"{self.peer_label} sent an {msg.name} with an {what} this client does not understand; "
                    "the call was closed",
                    ResultCode(CDNResult.GENERAL_ERROR, GeneralError.UNKNOWN_MANDATORY_AVP, text),
                    by_peer=False,
                )
            elif msg_type == MessageType.ICRQ and (peer_sid := msg.u16(AVPType.ASSIGNED_SESSION_ID)):
                code = ResultCode(CDNResult.GENERAL_ERROR, GeneralError.UNKNOWN_MANDATORY_AVP, text)
                self._send_cdn(now, peer_sid, self._random_id(self.sessions), code)
            else:
                self.stats.ignored_messages += 1
            return
        self._fail(
            now,
            f"{self.peer_label} sent an {msg.name} with an {what} this client does not understand",
            StopCCNResult.GENERAL_ERROR,
            GeneralError.UNKNOWN_MANDATORY_AVP,
            text,
        )

    def _session_for(self, header: L2TPHeader, msg: ControlMessage) -> Session | None:
        if header.session_id:
            return self.sessions.get(header.session_id)
        peer_sid = msg.u16(AVPType.ASSIGNED_SESSION_ID)
        if not peer_sid:
            return None
        return next((s for s in self.sessions.values() if s.peer_id == peer_sid), None)

    # --- tunnel messages -----------------------------------------------------------------------

    def _check_version(self, msg: ControlMessage, now: float) -> bool:
        raw = msg.raw(AVPType.PROTOCOL_VERSION)
        if raw is None:
            return True
        version = ProtocolVersion.decode(raw)
        if (version.version, version.revision) == (1, 0):
            return True
        self._fail(
            now,
            f"{self.peer_label} speaks L2TP protocol version {version.version}.{version.revision}, not 1.0",
            StopCCNResult.BAD_PROTOCOL_VERSION,
        )
        return False

    def _on_sccrq(self, header: L2TPHeader, msg: ControlMessage, now: float) -> None:
        if self.role != "lns" or self.state is not TunnelState.IDLE:
            self.stats.ignored_messages += 1
            return
        self._started_at = now
        self._learn_peer(msg)
        if self.peer_tunnel_id == 0:
            self._fail(
                now,
                f"{self.peer_label} did not assign a tunnel id",
                StopCCNResult.GENERAL_ERROR,
                GeneralError.BAD_VALUE,
                "missing Assigned Tunnel ID",
            )
            return
        if not self._check_version(msg, now):
            return
        response = None
        their_challenge = msg.raw(AVPType.CHALLENGE)
        if their_challenge is not None:
            if self._secret is None:
                self._fail(
                    now,
                    f"{self.peer_label} asked for tunnel authentication, but no tunnel secret is configured",
                    StopCCNResult.NOT_AUTHORIZED,
                )
                return
            response = challenge_response(MessageType.SCCRP, self._secret, their_challenge)
        sccrp = builders.tunnel_setup(
            MessageType.SCCRP, self.config, self.local_tunnel_id, self._new_challenge(), response
        )
        self._send(sccrp, 0, now)
        self.state = TunnelState.WAIT_CTL_CONN

    def _on_sccrp(self, header: L2TPHeader, msg: ControlMessage, now: float) -> None:
        if self.role != "lac" or self.state is not TunnelState.WAIT_CTL_REPLY:
            self.stats.ignored_messages += 1
            return
        if not msg.u16(AVPType.ASSIGNED_TUNNEL_ID):
            self._fail(now, f"{self.peer_label} did not assign a tunnel id", StopCCNResult.GENERAL_ERROR)
            return
        self._learn_peer(msg)
        if not self._check_version(msg, now):
            return
        if self._our_challenge is not None and self._secret is not None:
            response = msg.raw(AVPType.CHALLENGE_RESPONSE)
            if response is None:
                self._fail(
                    now,
                    f"{self.peer_label} did not answer the tunnel authentication challenge "
                    "(it may have no tunnel secret configured)",
                    StopCCNResult.NOT_AUTHORIZED,
                )
                return
            if response != challenge_response(MessageType.SCCRP, self._secret, self._our_challenge):
                self._fail(
                    now,
                    f"tunnel authentication failed: {self.peer_label} does not know the same tunnel secret",
                    StopCCNResult.NOT_AUTHORIZED,
                )
                return
        response = None
        their_challenge = msg.raw(AVPType.CHALLENGE)
        if their_challenge is not None:
            if self._secret is None:
                self._fail(
                    now,
                    f"{self.peer_label} requires a tunnel secret (L2TP tunnel authentication), "
                    "but none is configured in this profile",
                    StopCCNResult.NOT_AUTHORIZED,
                )
                return
            response = challenge_response(MessageType.SCCCN, self._secret, their_challenge)
        self._send(builders.scccn(response), 0, now)
        self._establish()
        if self._want_session:
            self._want_session = False
            self._start_session(now)

    def _on_scccn(self, header: L2TPHeader, msg: ControlMessage, now: float) -> None:
        if self.role != "lns" or self.state is not TunnelState.WAIT_CTL_CONN:
            self.stats.ignored_messages += 1
            return
        if self._secret is not None and self._our_challenge is not None:
            response = msg.raw(AVPType.CHALLENGE_RESPONSE)
            expected = challenge_response(MessageType.SCCCN, self._secret, self._our_challenge)
            if response != expected:
                detail = "sent no challenge response" if response is None else "does not know the tunnel secret"
                self._fail(
                    now,
                    f"tunnel authentication failed: {self.peer_label} {detail}",
                    StopCCNResult.NOT_AUTHORIZED,
                )
                return
        self._establish()

    def _establish(self) -> None:
        self.state = TunnelState.ESTABLISHED
        self._emit(TunnelUp(self.peer_host_name, self.peer_tunnel_id, self.local_tunnel_id, self.peer_vendor_name))

    def _on_stopccn(self, header: L2TPHeader, msg: ControlMessage, now: float) -> None:
        code = msg.result_code()
        if self.peer_tunnel_id == 0:  # refused before we learnt its id: still ack to the right tunnel
            self._channel.peer_tunnel_id = msg.u16(AVPType.ASSIGNED_TUNNEL_ID) or 0
        self._channel.send_zlb()  # acknowledge at once: the peer is about to forget the tunnel
        self._channel.abandon()
        self._finish_events(describe_stopccn(self.peer_label, code), by_peer=True, code=code)
        self.state = TunnelState.CLOSING
        self._linger_until = now + self.config.stop_linger

    # --- session messages ----------------------------------------------------------------------

    def _on_icrq(self, header: L2TPHeader, msg: ControlMessage, now: float) -> None:
        if self.role != "lns" or self.state is not TunnelState.ESTABLISHED:
            self.stats.ignored_messages += 1
            return
        peer_sid = msg.u16(AVPType.ASSIGNED_SESSION_ID) or 0
        if peer_sid == 0:
            self.stats.ignored_messages += 1
            return
        local_id = self._random_id(self.sessions)
        if not self.config.accept_sessions:
            code = ResultCode(CDNResult.NO_FACILITIES_PERMANENT, GeneralError.NO_ERROR, "no calls accepted here")
            self._send_cdn(now, peer_sid, local_id, code)
            return
        session = Session(
            local_id, peer_sid, SessionState.WAIT_CONNECT, call_serial=msg.u32(AVPType.CALL_SERIAL_NUMBER) or 0
        )
        self.sessions[local_id] = session
        self._session_started[local_id] = now
        self._send(builders.icrp(local_id, self._hidden), peer_sid, now)

    def _on_icrp(self, header: L2TPHeader, msg: ControlMessage, now: float) -> None:
        session = self.sessions.get(header.session_id)
        if self.role != "lac" or session is None or session.state is not SessionState.WAIT_REPLY:
            self.stats.ignored_messages += 1
            return
        session.peer_id = msg.u16(AVPType.ASSIGNED_SESSION_ID) or 0
        if session.peer_id == 0:
            self._drop_session(
                now,
                session,
                f"{self.peer_label} answered the call without a session id",
                ResultCode(CDNResult.GENERAL_ERROR, GeneralError.BAD_VALUE, "missing Assigned Session ID"),
                by_peer=False,
            )
            return
        framing = FRAMING_SYNC if self.peer_framing & FRAMING_SYNC or not self.peer_framing else FRAMING_ASYNC
        msg = builders.iccn(self.config.tx_connect_speed, framing, self.config.data_sequencing, self._hidden)
        self._send(msg, session.peer_id, now)
        session.sequencing_required = self.config.data_sequencing
        session.follow_peer_sequencing = True
        session.state = SessionState.ESTABLISHED
        self._emit(SessionUp(session.local_id, session.peer_id, session.sequencing_required))

    def _on_iccn(self, header: L2TPHeader, msg: ControlMessage, now: float) -> None:
        session = self.sessions.get(header.session_id)
        if self.role != "lns" or session is None or session.state is not SessionState.WAIT_CONNECT:
            self.stats.ignored_messages += 1
            return
        session.sequencing_required = msg.has(AVPType.SEQUENCING_REQUIRED)
        session.send_sequence = self.config.data_sequencing or session.sequencing_required
        session.state = SessionState.ESTABLISHED
        self._emit(SessionUp(session.local_id, session.peer_id, session.send_sequence))

    def _on_cdn(self, header: L2TPHeader, msg: ControlMessage, now: float) -> None:
        session = self._session_for(header, msg)
        if session is None:
            self.stats.ignored_messages += 1
            return
        code = msg.result_code()
        reason = describe_cdn(self.peer_label, code)
        cause_raw = msg.raw(AVPType.Q931_CAUSE_CODE)
        if cause_raw is not None:
            cause = Q931Cause.decode(cause_raw)
            reason += f" (Q.931 cause {cause.cause_code}" + (f": {cause.advisory})" if cause.advisory else ")")
        self._drop_session(now, session, reason, code, by_peer=True)

    def _maybe_close_with_session(
        self, now: float, *, by_peer: bool, reason: str = "", code: ResultCode | None = None
    ) -> None:
        """A client tunnel exists for its call: when the last call ends, close the tunnel too."""
        if self.role != "lac" or not self.config.close_tunnel_with_session or self.sessions:
            return
        if self.state is not TunnelState.ESTABLISHED:
            return
        self._stop(
            now,
            reason or "the L2TP call ended",
            StopCCNResult.GENERAL_CLEAR,
            message="session closed",
            by_peer=by_peer,
            peer_code=code,
        )

    def _on_ocrq(self, header: L2TPHeader, msg: ControlMessage, now: float) -> None:
        """We never place outgoing calls: refuse politely with a CDN."""
        peer_sid = msg.u16(AVPType.ASSIGNED_SESSION_ID) or 0
        if self.state is not TunnelState.ESTABLISHED or peer_sid == 0:
            self.stats.ignored_messages += 1
            return
        code = ResultCode(CDNResult.NO_FACILITIES_PERMANENT, GeneralError.NO_ERROR, "outgoing calls not supported")
        self._send_cdn(now, peer_sid, self._random_id(self.sessions), code)
