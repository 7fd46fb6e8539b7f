"""PPPConnection: LCP, authentication, IPCP, IPV6CP and CCP/MPPE composed into one sans-IO link.

The L2TP and PPTP stacks feed it de-framed PPP frames with :meth:`PPPConnection.receive_frame`,
send what :meth:`PPPConnection.frames_to_send` returns, call :meth:`PPPConnection.handle_timer`
at :meth:`PPPConnection.get_timer` and read events with :meth:`PPPConnection.next_event`. Malformed
frames are dropped and counted in :attr:`PPPConnection.stats`; ``receive_frame`` never raises.

Layer notifications (this-layer-up/down/finished) are queued while an automaton runs and handled
afterwards, so no automaton is ever re-entered from its own action list.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from wizard.engine.crypto.mppe import MppeDecryptor, MppeEncryptor, MppeResyncNeeded
from wizard.engine.errors import LocalProtocolError, ParseError
from wizard.engine.ppp.auth import (
    AuthProtocol,
    ChapClient,
    ChapServer,
    EapClient,
    EapServer,
    PapClient,
    PapServer,
)
from wizard.engine.ppp.ccp import CCP, describe
from wizard.engine.ppp.config import PPPConfig
from wizard.engine.ppp.events import (
    Authenticated,
    ConnectionClosed,
    ConnectionFailed,
    EchoTimeout,
    Event,
    IPPacketReceived,
    IPv6Up,
    LinkUp,
    NetworkDown,
    NetworkUp,
    Phase,
    PhaseChanged,
)
from wizard.engine.ppp.frame import (
    PROTO_CCP,
    PROTO_CHAP,
    PROTO_COMP,
    PROTO_EAP,
    PROTO_IPCP,
    PROTO_IPV4,
    PROTO_IPV6,
    PROTO_IPV6CP,
    PROTO_LCP,
    PROTO_PAP,
    build_frame,
    parse_frame,
)
from wizard.engine.ppp.fsm import Action, ControlProtocol, State, Timers
from wizard.engine.ppp.ipcp import IPCP
from wizard.engine.ppp.ipv6cp import IPV6CP
from wizard.engine.ppp.lcp import AUTH_DISPLAY, LCP

_AUTH_PROTOCOLS = frozenset({PROTO_PAP, PROTO_CHAP, PROTO_EAP})
_NCP_PROTOCOLS = frozenset({PROTO_IPCP, PROTO_IPV6CP, PROTO_CCP})
_NEGOTIATING = frozenset({State.REQ_SENT, State.ACK_RCVD, State.ACK_SENT})
_EARLY_PROTOCOLS = _AUTH_PROTOCOLS | _NCP_PROTOCOLS
_STASH_LIMIT = 8


@dataclass
class PPPStats:
    """Counters for the status view and for tests; nothing here is secret."""

    frames_received: int = 0
    frames_sent: int = 0
    malformed: int = 0
    discarded: int = 0
    protocol_rejects_sent: int = 0
    ip_packets_received: int = 0
    ip_packets_sent: int = 0
    ip_dropped: int = 0
    unencrypted_dropped: int = 0
    mppe_dropped: int = 0
    mppe_resync: int = 0
    mppe_resets_sent: int = 0
    mppe_garbage: int = 0
    ccp_restarts: int = 0


def _printable(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace")
    return "".join(c for c in text if c.isprintable())[:200].strip()


class PPPConnection:
    """One PPP link in the ``"client"`` (initiator) or ``"server"`` (gateway) role."""

    def __init__(
        self, role: str, config: PPPConfig, *, random_bytes: Callable[[int], bytes] = os.urandom
    ) -> None:
        if role not in ("client", "server"):
            raise ValueError("role must be 'client' or 'server'")
        if role == "server":
            if config.local_ipv4 is None:
                raise ValueError("a PPP server needs local_ipv4, its own address on the link")
            if config.peer_ipv4 is None and config.address_pool is None:
                raise ValueError("a PPP server needs peer_ipv4 or an address_pool for its client")
        elif config.allowed_auth and not config.username:
            raise ValueError("a PPP client needs a user name to authenticate")
        self.role = role
        self.config = config
        self.stats = PPPStats()
        self._random = random_bytes
        self._peer = "server" if role == "client" else "client"
        self._settings = "this profile" if role == "client" else "this server's settings"
        self._settings_require = "this profile requires" if role == "client" else "this server's settings require"
        self._frames: list[bytes] = []
        self._events: deque[Event] = deque()
        self._layer_queue: deque[tuple[ControlProtocol, Action, float]] = deque()
        timers = Timers(config.restart_timer, config.max_configure, config.max_terminate, config.max_failure)
        self._timers = timers
        self.lcp = LCP(
            self._send,
            timers,
            role=role,
            mru=config.mru,
            allowed_auth=config.allowed_auth,
            random_bytes=random_bytes,
            echo_interval=config.echo_interval,
            echo_failures=config.echo_failures,
            on_protocol_reject=self._on_protocol_reject,
        )
        self.ipcp = IPCP(
            self._send,
            timers,
            role=role,
            request_dns=config.request_dns,
            local_address=config.local_ipv4 if role == "server" else None,
            dns_servers=config.dns_servers,
        )
        self.ipv6cp = IPV6CP(self._send, timers, random_bytes)
        self.ccp = CCP(
            self._send,
            timers,
            allowed_bits=config.mppe_bits,
            allow_stateful=config.allow_stateful,
            on_reset_request=self._on_reset_request,
            peer=self._peer,
            settings=self._settings,
        )
        for cp in (self.lcp, self.ipcp, self.ipv6cp, self.ccp):
            cp.listener = self._on_layer
        self.phase = Phase.DEAD
        self.auth: AuthProtocol | None = None
        self._started = False
        self._finished = False
        self._failure: str | None = None
        self._closing_reason: str | None = None
        self._peer_closed_in: Phase | None = None
        self._lcp_was_opened = False
        self._ccp_active = False
        self._ccp_settled = False
        self._ccp_protocol_rejected = False
        self._ccp_fatal: str | None = None
        self._ipv6_active = False
        self._ipv6_settled = False
        self._ipv6_grace: float | None = None
        self._ipv6_waited = False
        self._network_up = False
        self._network_was_up = False
        self._ipv6_reported = False
        self._auth_display: str | None = None
        self._encryptor: MppeEncryptor | None = None
        self._decryptor: MppeDecryptor | None = None
        self._send_encrypted = config.mppe == "require"
        self._recv_encrypted = config.mppe == "require"
        self._mppe_description: str | None = None
        self._pool_address: str | None = None
        self._stash: list[tuple[Phase, bytes]] = []
        self._late_auth: AuthProtocol | None = None
        self._ccp_restart_not_before: float | None = None

    # ================================================================= public API
    @property
    def finished(self) -> bool:
        """True once the terminal event has been queued; the object then ignores all input."""
        return self._finished

    @property
    def network_up(self) -> bool:
        return self._network_up

    def start(self, now: float) -> None:
        """The lower layer (L2TP session or PPTP call) is up: begin LCP negotiation."""
        if self._started:
            raise LocalProtocolError("start() was already called")
        self._started = True
        self._set_phase(Phase.ESTABLISH)
        self.lcp.open(now)
        self.lcp.up(now)
        self._process(now)

    def receive_frame(self, frame: bytes, now: float) -> None:
        """Handle one PPP frame from the lower layer. Never raises for bad input."""
        if not self._started or self._finished:
            self.stats.discarded += 1
            return
        self.stats.frames_received += 1
        try:
            self._dispatch(frame, now)
        except ParseError:
            self.stats.malformed += 1
        self._process(now)

    def send_ip(self, packet: bytes, now: float) -> None:
        """Frame an IPv4 or IPv6 packet (encrypted when MPPE is on); dropped and counted if not up."""
        if self._finished or not self._network_up or not packet:
            self.stats.ip_dropped += 1
            return
        version = packet[0] >> 4
        if version == 4 and self.ipcp.is_opened:
            protocol = PROTO_IPV4
        elif version == 6 and self.ipv6cp.is_opened:
            protocol = PROTO_IPV6
        else:
            self.stats.ip_dropped += 1
            return
        if self._encryptor is not None:
            self._send(PROTO_COMP, self._encryptor.encrypt(protocol.to_bytes(2, "big") + bytes(packet)))
        elif self._send_encrypted:
            self.stats.ip_dropped += 1  # never fall back to clear text while CCP renegotiates
            return
        else:
            self._send(protocol, bytes(packet))
        self.stats.ip_packets_sent += 1

    def close(self, now: float, reason: str = "the connection was closed") -> None:
        """Close the link politely (LCP Terminate-Request); ends with ConnectionClosed(reason)."""
        if not self._started:
            raise LocalProtocolError("close() before start()")
        if self._finished or self._closing_reason is not None:
            return
        self._closing_reason = reason
        self._terminate(now, b"User request")
        self._process(now)

    def lower_layer_down(self, now: float, reason: str) -> None:
        """The tunnel carrying PPP went away: end at once, with ``reason`` unless we were closing."""
        if not self._started or self._finished:
            return
        if self._failure is None and self._closing_reason is None:
            self._failure = reason
        self._set_phase(Phase.TERMINATE)
        self.lcp.down(now)
        self._process(now)
        self._finish(now)

    def frames_to_send(self) -> list[bytes]:
        frames, self._frames = self._frames, []
        return frames

    def next_event(self) -> Event | None:
        return self._events.popleft() if self._events else None

    def get_timer(self) -> float | None:
        if not self._started or self._finished:
            return None
        deadlines = [
            self.lcp.get_timer(),
            self.ipcp.get_timer(),
            self.ipv6cp.get_timer(),
            self.ccp.get_timer(),
            self.auth.get_timer() if self.auth is not None else None,
            self._ipv6_grace,
        ]
        present = [d for d in deadlines if d is not None]
        return min(present) if present else None

    def handle_timer(self, now: float) -> None:
        if not self._started or self._finished:
            return
        self.lcp.handle_timer(now)
        if self.auth is not None:
            self.auth.handle_timer(now)
        for cp in (self.ipcp, self.ipv6cp, self.ccp):
            cp.handle_timer(now)
        if self._ipv6_grace is not None and now >= self._ipv6_grace:
            self._ipv6_grace = None
            self._ipv6_waited = True
            self._maybe_network_up(now)
        self._process(now)

    # ================================================================= output
    def _send(self, protocol: int, information: bytes) -> None:
        if protocol == PROTO_LCP or not self.lcp.is_opened:
            frame = build_frame(protocol, information)  # LCP is never compressed (RFC 1661 6.5/6.6)
        else:
            frame = build_frame(protocol, information, acfc=self.lcp.peer_acfc, pfc=self.lcp.peer_pfc)
        self._frames.append(frame)
        self.stats.frames_sent += 1

    def _set_phase(self, phase: Phase) -> None:
        if phase is not self.phase:
            self.phase = phase
            self._events.append(PhaseChanged(phase))

    # ================================================================= input
    def _dispatch(self, data: bytes, now: float) -> None:
        frame = parse_frame(data)
        protocol, info = frame.protocol, frame.information
        if protocol == PROTO_LCP:
            self.lcp.receive(info, now)
            return
        late = self._late_auth
        if protocol in _AUTH_PROTOCOLS and self.phase is Phase.TERMINATE and late and late.protocol == protocol:
            self._late_verdict(info, now)
            return
        if not self.lcp.is_opened or self.phase in (Phase.DEAD, Phase.ESTABLISH, Phase.TERMINATE):
            if self.phase is Phase.ESTABLISH and protocol in _EARLY_PROTOCOLS:
                self._stash_frame(data)  # overtook the Configure-Ack that opens our side of LCP
            else:
                self.stats.discarded += 1  # RFC 1661 3.4: only LCP before the link is open
            return
        if protocol in _AUTH_PROTOCOLS:
            if self.auth is not None and self.auth.protocol == protocol:
                self.auth.receive(info, now)
                self._check_auth(now)
            else:
                self.stats.discarded += 1
            return
        if self.phase is Phase.AUTHENTICATE and not self._early_ncp_allowed(protocol, now):
            if protocol in _NCP_PROTOCOLS:
                self._stash_frame(data)  # overtook the Success that ends our authentication
            else:
                self.stats.discarded += 1
            return
        if protocol == PROTO_IPCP:
            self.ipcp.receive(info, now)
        elif protocol == PROTO_IPV6CP and self._ipv6_active:
            self.ipv6cp.receive(info, now)
        elif protocol == PROTO_CCP and self._ccp_active:
            self.ccp.receive(info, now)
        elif protocol in (PROTO_IPV4, PROTO_IPV6):
            if self._recv_encrypted or self._decryptor is not None:
                self.stats.unencrypted_dropped += 1
            else:
                self._deliver(protocol, info)
        elif protocol == PROTO_COMP:
            if self._decryptor is not None:
                self._receive_mppe(info, now)
            else:
                self.stats.mppe_dropped += 1  # CCP is (re)negotiating: the peer may still be sending
        else:
            self.lcp.send_protocol_reject(protocol, info)
            self.stats.protocol_rejects_sent += 1

    def _late_verdict(self, info: bytes, now: float) -> None:
        """The peer's Terminate-Request overtook its authentication verdict: still read the verdict."""
        auth = self._late_auth
        assert auth is not None
        auth.receive(info, now)
        if auth.done and not auth.succeeded and self._failure is None and self._closing_reason is None:
            self._failure = auth.failure

    def _early_ncp_allowed(self, protocol: int, now: float) -> bool:
        """A lost EAP-Success: an NCP packet from the server shows it let us in (RFC 3748 4.2)."""
        if protocol in _NCP_PROTOCOLS and self.auth is not None and self.auth.implicit_success():
            self._check_auth(now)
        return self.phase is Phase.NETWORK

    def _stash_frame(self, data: bytes) -> None:
        """Keep a frame that arrived a phase early (links reorder); replayed when the phase moves on.

        RFC 1661 says to discard such packets; on a serial line they cannot overtake, so replaying
        them changes nothing there and saves a restart interval on L2TP and GRE.
        """
        self._stash.append((self.phase, bytes(data)))
        del self._stash[:-_STASH_LIMIT]

    def _replay_stash(self, now: float) -> bool:
        ready = [frame for phase, frame in self._stash if phase is not self.phase]
        if not ready or self.phase not in (Phase.AUTHENTICATE, Phase.NETWORK):
            return False
        self._stash = [(phase, frame) for phase, frame in self._stash if phase is self.phase]
        for frame in ready:
            try:
                self._dispatch(frame, now)
            except ParseError:
                self.stats.malformed += 1
        return True

    def _receive_mppe(self, info: bytes, now: float) -> None:
        assert self._decryptor is not None
        try:
            plain = self._decryptor.decrypt(info)
        except MppeResyncNeeded as exc:
            self.stats.mppe_resync += 1
            if self.ccp.request_reset(now, repeat=exc.repeat):
                self.stats.mppe_resets_sent += 1
            return
        except ParseError:
            self.stats.mppe_dropped += 1
            return
        protocol = int.from_bytes(plain[:2], "big") if len(plain) >= 2 else 0
        packet = _ip_packet(protocol, plain[2:])
        if packet is None:
            # We never ask for PFC, so the peer's plaintext starts with a 2-octet IPv4/IPv6 protocol
            # and a consistent IP header. Anything else means the RC4 states drifted apart, which
            # stateful MPPE cannot detect by itself: restart CCP so both sides re-key from the start.
            self.stats.mppe_garbage += 1
            if self._decryptor is not None and not self._decryptor.stateless:
                self._restart_ccp(now)
            return
        self._deliver(protocol, packet)

    def _restart_ccp(self, now: float) -> None:
        if self._ccp_restart_not_before is not None and now < self._ccp_restart_not_before:
            return
        self._ccp_restart_not_before = now + self.config.restart_timer
        self.stats.ccp_restarts += 1
        self.ccp.down(now)
        self.ccp.up(now)

    def _deliver(self, protocol: int, packet: bytes) -> None:
        opened = self.ipcp.is_opened if protocol == PROTO_IPV4 else self.ipv6cp.is_opened
        if not (self._network_up and opened and packet):
            self.stats.discarded += 1
            return
        self.lcp.note_alive()
        self.stats.ip_packets_received += 1
        self._events.append(IPPacketReceived(packet))

    def _on_protocol_reject(self, protocol: int, now: float) -> None:
        if protocol == PROTO_IPCP:
            self.ipcp.protocol_rejected(now)
        elif protocol == PROTO_IPV6CP:
            self.ipv6cp.protocol_rejected(now)
        elif protocol == PROTO_CCP:
            self._ccp_protocol_rejected = True
            self.ccp.protocol_rejected(now)

    def _on_reset_request(self, now: float) -> None:
        if self._encryptor is not None:
            self._encryptor.reset()

    # ================================================================= layer notifications
    def _on_layer(self, cp: ControlProtocol, action: Action, now: float) -> None:
        self._layer_queue.append((cp, action, now))

    def _process(self, now: float) -> None:
        while True:
            while self._layer_queue:
                cp, action, when = self._layer_queue.popleft()
                if not self._finished:
                    self._handle_layer(cp, action, when)
            self._check_conditions(now)
            if not self._layer_queue and not (self._stash and self._replay_stash(now)):
                return

    def _handle_layer(self, cp: ControlProtocol, action: Action, now: float) -> None:
        if cp is self.lcp:
            {Action.TLU: self._lcp_up, Action.TLD: self._lcp_down, Action.TLF: self._finish}.get(
                action, _ignore
            )(now)
        elif cp is self.ipcp:
            {Action.TLU: self._ipcp_up, Action.TLD: self._ipcp_down, Action.TLF: self._ipcp_finished}.get(
                action, _ignore
            )(now)
        elif cp is self.ipv6cp:
            {Action.TLU: self._ipv6cp_up, Action.TLF: self._ipv6cp_finished}.get(action, _ignore)(now)
        elif cp is self.ccp:
            {Action.TLU: self._ccp_up, Action.TLD: self._ccp_down, Action.TLF: self._ccp_finished}.get(
                action, _ignore
            )(now)

    def _check_conditions(self, now: float) -> None:
        if self._finished:
            return
        if self.lcp.fatal is not None:
            reason, self.lcp.fatal = self.lcp.fatal, None
            self._fail(reason, now, b"No common configuration")
        if self.lcp.echo_timed_out:
            missed, self.lcp.echo_timed_out = self.lcp.echo_timed_out, 0
            self._events.append(EchoTimeout(missed))
            self._fail(
                f"the {self._peer} stopped answering keepalive echoes ({missed} missed): the connection was lost",
                now,
                b"Keepalive timeout",
            )
        if self.ccp.fatal is not None:
            self._ccp_fatal, self.ccp.fatal = self.ccp.fatal, None
            if self.config.mppe == "require":
                self._fail(
                    f"could not agree on encryption: {self._ccp_fatal}", now, b"MPPE required: no common key length"
                )
            elif self.ccp.state is not State.CLOSED:
                self.ccp.close(now, b"No common MPPE key length")
        if (
            self.phase is Phase.ESTABLISH
            and self.lcp.peer_terminate_reason is not None
            and self.lcp.state in _NEGOTIATING
        ):
            # The peer gave up before the link opened; pppd would retry until Max-Configure.
            self._peer_closed_in = Phase.ESTABLISH
            self._terminate(now, b"")
        self._check_auth(now)

    def _check_auth(self, now: float) -> None:
        auth = self.auth
        if auth is None or self.phase is not Phase.AUTHENTICATE or not auth.done or self._finished:
            return
        if auth.succeeded:
            self._auth_display = auth.display
            self._events.append(Authenticated(auth.display, auth.username))
            self._start_network(now)
        else:
            self._fail(auth.failure or "authentication failed", now, b"Authentication failed")

    # ----------------------------------------------------------------- LCP
    def _lcp_up(self, now: float) -> None:
        self._lcp_was_opened = True
        self.lcp.start_keepalive(now)
        method = self.lcp.auth_method
        self._events.append(LinkUp(self.lcp.mru, self.lcp.peer_mru, AUTH_DISPLAY.get(method or "")))
        if method is None:
            if self.role == "client" and self.config.allowed_auth and not self.config.allow_no_auth:
                self._fail(
                    self.lcp.auth_mismatch
                    or "the server did not ask us to authenticate, so it cannot prove who it is; allow "
                    "connecting without authentication in the profile to continue anyway",
                    now,
                    b"Authentication required",
                )
                return
            self._start_network(now)
            return
        self._set_phase(Phase.AUTHENTICATE)
        self._late_auth = None
        self.auth = self._make_auth(method)
        self.auth.start(now)
        self._check_auth(now)

    def _make_auth(self, method: str) -> AuthProtocol:
        c, send, timers, rnd = self.config, self._send, self._timers, self._random
        if self.role == "client":
            if method == "pap":
                return PapClient(send, timers, c.username, c.password)
            if method == "eap":
                return EapClient(send, timers, c.username, c.password, c.eap_methods, rnd)
            return ChapClient(send, timers, method, c.username, c.password, rnd)
        if method == "pap":
            return PapServer(send, timers, c.users)
        if method == "eap":
            return EapServer(send, timers, c.users, c.eap_methods, c.server_name, rnd)
        return ChapServer(send, timers, method, c.users, c.server_name, rnd)

    def _lcp_down(self, now: float) -> None:
        self.lcp.stop_keepalive()
        previous = self.phase
        self._link_down(now)
        if previous in (Phase.TERMINATE, Phase.DEAD):
            return
        if self.lcp.state in (State.CLOSING, State.STOPPING):
            self._peer_closed_in = previous  # the peer sent Terminate-Request
            self._set_phase(Phase.TERMINATE)
        else:
            self._set_phase(Phase.ESTABLISH)  # the peer renegotiates the link

    def _link_down(self, now: float) -> None:
        if self.phase is Phase.AUTHENTICATE and self.auth is not None:
            self._late_auth = self.auth  # may still hear (client) or repeat (server) the verdict
        self.auth = None
        self._stash = []
        for cp in (self.ipcp, self.ipv6cp, self.ccp):
            if cp.state not in (State.INITIAL, State.STARTING):
                cp.down(now)
        self._encryptor = self._decryptor = None
        self._ccp_active = self._ccp_settled = False
        self._ipv6_active = self._ipv6_settled = False
        self._ipv6_grace = None
        self._ipv6_waited = False
        if self._network_up:
            self._network_up = False
            self._events.append(NetworkDown(f"the link to the {self._peer} went down"))

    def _terminate(self, now: float, message: bytes) -> None:
        if self._finished or self.phase in (Phase.TERMINATE, Phase.DEAD):
            return
        if self.phase is Phase.AUTHENTICATE and self.auth is not None:
            self._late_auth = self.auth
        self._set_phase(Phase.TERMINATE)
        state = self.lcp.state
        self.lcp.close(now, message[:200])
        if state in (State.INITIAL, State.CLOSED, State.STOPPED):
            self._finish(now)  # nothing to tell the peer: Close produces no this-layer-finished

    def _fail(self, reason: str, now: float, message: bytes) -> None:
        if self._failure is None and self._closing_reason is None:
            self._failure = reason
        self._terminate(now, message)

    def _finish(self, now: float) -> None:
        if self._finished:
            return
        self._link_down(now)
        self._finished = True
        if self._pool_address is not None and self.config.address_pool is not None:
            self.config.address_pool.release(self._pool_address)
            self._pool_address = None
        self._set_phase(Phase.DEAD)
        self._events.append(self._terminal_event())

    def _terminal_event(self) -> Event:
        if self._failure is not None:
            return ConnectionFailed(self._failure)
        if self._closing_reason is not None:
            return ConnectionClosed(self._closing_reason)
        peer = self._peer
        if self._peer_closed_in is not None:
            raw = self.lcp.peer_terminate_reason or b""
            text = _printable(raw)
            detail = f" ({text})" if text else ""
            if self._peer_closed_in is Phase.NETWORK and self._network_was_up:
                return ConnectionClosed(f"the {peer} closed the connection{detail}")
            if self._peer_closed_in is Phase.AUTHENTICATE:
                if self.role == "client":
                    return ConnectionFailed(
                        f"the server ended the connection during authentication{detail}: the user name or "
                        "password is probably wrong"
                    )
                return ConnectionFailed(f"the client ended the connection during authentication{detail}")
            if self.lcp.auth_mismatch is not None:
                return ConnectionFailed(self.lcp.auth_mismatch)
            return ConnectionFailed(f"the {peer} ended the connection while it was being set up{detail}")
        if self.lcp.auth_mismatch is not None:
            return ConnectionFailed(self.lcp.auth_mismatch)
        if not self._lcp_was_opened:
            return ConnectionFailed(f"the {peer} did not answer the PPP link negotiation (LCP)")
        return ConnectionFailed(f"the link to the {peer} was lost")

    # ----------------------------------------------------------------- network phase
    def _start_network(self, now: float) -> None:
        self._set_phase(Phase.NETWORK)
        material = self.auth.mppe_material if self.auth is not None else None
        if self.config.mppe == "require" and material is None:
            used = self._auth_display or "no authentication"
            self._fail(
                f"encryption (MPPE) is required but needs MS-CHAP or MS-CHAPv2 authentication, and the "
                f"{self._peer} used {used}",
                now,
                b"MPPE required",
            )
            return
        if self.role == "server" and self.ipcp.assigned is None:
            address = self.config.peer_ipv4
            if address is None and self.config.address_pool is not None:
                address = self.config.address_pool.allocate()
                self._pool_address = address
            if address is None:
                self._fail("the address pool is exhausted: no IPv4 address is free for the client", now,
                           b"No address available")
                return
            self.ipcp.assign_peer_address(address)
        self._ccp_active = self.config.mppe != "refuse" and material is not None
        self._ipv6_active = self.config.want_ipv6
        self.ipcp.open(now)
        self.ipcp.up(now)
        if self._ipv6_active:
            self.ipv6cp.open(now)
            self.ipv6cp.up(now)
        if self._ccp_active:
            self.ccp.open(now)
            self.ccp.up(now)

    def _ipcp_up(self, now: float) -> None:
        if self.role == "client" and self.ipcp.local_address is None:
            self._fail("the server did not assign an IPv4 address (IPCP)", now, b"No IP address")
            return
        self._maybe_network_up(now)

    def _ipcp_down(self, now: float) -> None:
        if self._network_up:
            self._network_up = False
            self._events.append(NetworkDown("the IPv4 settings are being renegotiated"))

    def _ipcp_finished(self, now: float) -> None:
        if self.phase is Phase.NETWORK:
            self._fail(f"could not agree on IPv4 settings with the {self._peer} (IPCP)", now, b"IPCP failed")

    def _ipv6cp_up(self, now: float) -> None:
        if self._network_up and not self._ipv6_reported and self.ipv6cp.local_iid is not None:
            self._ipv6_reported = True
            self._events.append(IPv6Up(self.ipv6cp.local_iid, self.ipv6cp.peer_iid))
        self._maybe_network_up(now)

    def _ipv6cp_finished(self, now: float) -> None:
        self._ipv6_settled = True  # no IPv6 on this link; IPv4 carries on
        self._maybe_network_up(now)

    def _ccp_up(self, now: float) -> None:
        auth = self.auth
        material = auth.mppe_material if auth is not None else None
        send, recv = self.ccp.send, self.ccp.recv
        if self.config.mppe == "require" and (send is None or recv is None):
            self._fail(self._mppe_refused_reason(), now, b"MPPE required")
            return
        if material is None:
            return
        is_server = self.role == "server"
        if send is not None:
            key, _ = material.keys(is_server=is_server, bits=send[0])
            self._encryptor = MppeEncryptor(key, send[0], send[1])
            self._send_encrypted = True
        if recv is not None:
            _, key = material.keys(is_server=is_server, bits=recv[0])
            self._decryptor = MppeDecryptor(key, recv[0], recv[1])
            self._recv_encrypted = True
        if send is not None and recv is not None:
            out, inn = describe(*send), describe(*recv)
            self._mppe_description = out if out == inn else f"{out} sending, {inn} receiving"
        elif send is not None or recv is not None:
            one = send or recv
            assert one is not None
            self._mppe_description = f"{describe(*one)} {'sending' if send else 'receiving'} only"
        else:
            self._mppe_description = None
        self._ccp_settled = True
        self._maybe_network_up(now)

    def _ccp_down(self, now: float) -> None:
        self._encryptor = self._decryptor = None

    def _ccp_finished(self, now: float) -> None:
        if self.phase is not Phase.NETWORK:
            return
        if self.config.mppe == "require":
            self._fail(self._mppe_refused_reason(), now, b"MPPE required")
        elif self._network_up and (self._send_encrypted or self._recv_encrypted):
            self._fail(f"the {self._peer} turned encryption (MPPE) off during the connection", now, b"MPPE lost")
        else:
            self._ccp_settled = True
            self._mppe_description = None
            self._maybe_network_up(now)

    def _mppe_refused_reason(self) -> str:
        if self._ccp_fatal is not None:
            return f"could not agree on encryption: {self._ccp_fatal}"
        if self._ccp_protocol_rejected or self.ccp.refused:
            return f"the {self._peer} refused encryption (MPPE) but {self._settings_require} it"
        if self.ccp.is_opened:
            return f"the {self._peer} would not encrypt both directions (MPPE) but {self._settings_require} it"
        return f"could not agree on encryption (MPPE) with the {self._peer}"

    def _maybe_network_up(self, now: float) -> None:
        if self._network_up or self._finished or self.phase is not Phase.NETWORK or not self.ipcp.is_opened:
            return
        if self._ccp_active and not self._ccp_settled:
            return
        if self._ipv6_active and not (self.ipv6cp.is_opened or self._ipv6_settled or self._ipv6_waited):
            # Give a slow IPV6CP one restart interval; if it opens later, IPv6Up reports it.
            if self._ipv6_grace is None:
                self._ipv6_grace = now + self.config.restart_timer
            return
        self._ipv6_grace = None
        self._network_up = self._network_was_up = True
        v6 = self.ipv6cp.is_opened
        self._ipv6_reported = v6
        local_ipv4 = self.ipcp.local_address or self.config.local_ipv4 or "0.0.0.0"
        self._events.append(
            NetworkUp(
                local_ipv4=local_ipv4,
                peer_ipv4=self.ipcp.peer_address,
                dns=self.ipcp.dns,
                local_ipv6_iid=self.ipv6cp.local_iid if v6 else None,
                peer_ipv6_iid=self.ipv6cp.peer_iid if v6 else None,
                mru=self.lcp.mru,
                mtu=self.lcp.peer_mru,
                auth_method=self._auth_display,
                mppe=self._mppe_description if self._ccp_active else None,
            )
        )


def _ip_packet(protocol: int, packet: bytes) -> bytes | None:
    """``packet`` without trailing padding if it looks like an IP packet of ``protocol``, else None.

    Version and length fields must agree with the frame, which random (mis-decrypted) bytes
    almost never do.
    """
    if protocol == PROTO_IPV4 and len(packet) >= 20 and packet[0] >> 4 == 4:
        total = int.from_bytes(packet[2:4], "big")
        return packet[:total] if 20 <= total <= len(packet) else None
    if protocol == PROTO_IPV6 and len(packet) >= 40 and packet[0] >> 4 == 6:
        total = 40 + int.from_bytes(packet[4:6], "big")
        return packet[:total] if total <= len(packet) else None
    return None


def _ignore(now: float) -> None:
    """Layer notifications that need no action (this-layer-started: the lower layer is up)."""
