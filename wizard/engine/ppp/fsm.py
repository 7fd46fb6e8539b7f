"""The RFC 1661 option negotiation automaton shared by LCP, IPCP, IPV6CP and CCP.

:data:`TRANSITIONS` is section 4.1's state transition table, kept as text so it can be laid beside
the RFC and checked cell by cell. :class:`ControlProtocol` runs it: it parses packets into events,
performs the actions (send Configure-Request/Ack/Nak/Reject, Terminate-Request/Ack, Code-Reject,
restart timer and counters) and asks its subclass about options through a few hooks.

Two deliberate, documented deviations make PPP survive the duplication and reordering that L2TP and
PPTP data channels allow (PPP was designed for serial lines, where neither happens):

* a Configure-Request identical (identifier and octets) to the one we acknowledged while Opened is
  a retransmission whose Ack was lost: we acknowledge it again instead of renegotiating;
* a delayed copy of an older Configure-Request (an identifier and options we saw moments ago and
  the peer has since replaced) is discarded rather than answered;
* Configure-Ack/Nak/Reject are matched to the outstanding request and a reply to a request that
  was already answered is discarded, as RFC 1661 section 5 allows for invalid identifiers.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from wizard.engine.errors import ParseError
from wizard.engine.ppp.frame import (
    CODE_REJ,
    CONF_ACK,
    CONF_NAK,
    CONF_REJ,
    CONF_REQ,
    TERM_ACK,
    TERM_REQ,
    CPPacket,
    Option,
    build_cp_packet,
    build_options,
    parse_cp_packet,
    parse_options,
)


class State(enum.IntEnum):
    """RFC 1661 section 4.2 states, numbered as in the table."""

    INITIAL = 0
    STARTING = 1
    CLOSED = 2
    STOPPED = 3
    CLOSING = 4
    STOPPING = 5
    REQ_SENT = 6
    ACK_RCVD = 7
    ACK_SENT = 8
    OPENED = 9


class FsmEvent(enum.Enum):
    """RFC 1661 section 4.3 events."""

    UP = "Up"
    DOWN = "Down"
    OPEN = "Open"
    CLOSE = "Close"
    TO_PLUS = "TO+"
    TO_MINUS = "TO-"
    RCR_PLUS = "RCR+"
    RCR_MINUS = "RCR-"
    RCA = "RCA"
    RCN = "RCN"
    RTR = "RTR"
    RTA = "RTA"
    RUC = "RUC"
    RXJ_PLUS = "RXJ+"
    RXJ_MINUS = "RXJ-"
    RXR = "RXR"


class Action(enum.Enum):
    """RFC 1661 section 4.4 actions."""

    TLU = "tlu"
    TLD = "tld"
    TLS = "tls"
    TLF = "tlf"
    IRC = "irc"
    ZRC = "zrc"
    SCR = "scr"
    SCA = "sca"
    SCN = "scn"
    STR = "str"
    STA = "sta"
    SCJ = "scj"
    SER = "ser"


# RFC 1661 section 4.1. "-" is an impossible event; a trailing p/r/x marks the passive, restart and
# crossed-connection footnotes, which do not change the next state.
_TABLE = """
      |    0         1         2         3         4         5        6         7         8           9
Events| Initial   Starting  Closed    Stopped   Closing   Stopping  Req-Sent  Ack-Rcvd  Ack-Sent    Opened
 Up   |    2     irc,scr/6     -         -         -         -        -         -         -           -
 Down |    -         -         0       tls/1       0         1        1         1         1         tld/1
 Open |  tls/1       1     irc,scr/6     3r        5r        5r       6         7         8           9r
 Close|    0       tlf/0       2         2         4         4    irc,str/4 irc,str/4 irc,str/4 tld,irc,str/4
  TO+ |    -         -         -         -       str/4     str/5    scr/6     scr/6     scr/8         -
  TO- |    -         -         -         -       tlf/2     tlf/3    tlf/3p    tlf/3p    tlf/3p        -
 RCR+ |    -         -       sta/2 irc,scr,sca/8   4         5      sca/8   sca,tlu/9   sca/8   tld,scr,sca/8
 RCR- |    -         -       sta/2 irc,scr,scn/6   4         5      scn/6     scn/7     scn/6   tld,scr,scn/6
 RCA  |    -         -       sta/2     sta/3       4         5      irc/7     scr/6x  irc,tlu/9   tld,scr/6x
 RCN  |    -         -       sta/2     sta/3       4         5    irc,scr/6   scr/6x  irc,scr/8   tld,scr/6x
 RTR  |    -         -       sta/2     sta/3     sta/4     sta/5    sta/6     sta/6     sta/6   tld,zrc,sta/5
 RTA  |    -         -         2         3       tlf/2     tlf/3      6         6         8       tld,scr/6
 RUC  |    -         -       scj/2     scj/3     scj/4     scj/5    scj/6     scj/7     scj/8       scj/9
 RXJ+ |    -         -         2         3         4         5        6         6         8           9
 RXJ- |    -         -       tlf/2     tlf/3     tlf/2     tlf/3    tlf/3     tlf/3     tlf/3   tld,irc,str/5
 RXR  |    -         -         2         3         4         5        6         7         8         ser/9
"""


def _parse_table(text: str) -> dict[tuple[State, FsmEvent], tuple[tuple[Action, ...], State]]:
    table: dict[tuple[State, FsmEvent], tuple[tuple[Action, ...], State]] = {}
    for line in text.strip().splitlines()[2:]:
        label, cells = line.split("|")
        event = FsmEvent(label.strip())
        for state, cell in zip(State, cells.split(), strict=True):
            if cell == "-":
                continue
            actions_text, _, target = cell.rpartition("/")
            actions = tuple(Action(a) for a in actions_text.split(",")) if actions_text else ()
            table[(state, event)] = (actions, State(int(target.rstrip("prx"))))
    return table


TRANSITIONS = _parse_table(_TABLE)

#: States in which the restart timer runs (RFC 1661 section 4.6).
TIMER_STATES = frozenset({State.CLOSING, State.STOPPING, State.REQ_SENT, State.ACK_RCVD, State.ACK_SENT})
_NEGOTIATING = frozenset({State.REQ_SENT, State.ACK_RCVD, State.ACK_SENT})
_REQUEST_HISTORY = 16


@dataclass(frozen=True)
class Timers:
    """Restart timer (seconds) and the counters of RFC 1661 section 4.6."""

    restart: float = 3.0
    max_configure: int = 10
    max_terminate: int = 2
    max_failure: int = 5


class Verdict(enum.Enum):
    ACK = "ack"
    NAK = "nak"
    REJECT = "reject"


@dataclass(frozen=True)
class OptionVerdict:
    verdict: Verdict
    suggestion: Option | None = None


ACK = OptionVerdict(Verdict.ACK)
REJECT = OptionVerdict(Verdict.REJECT)


def nak(suggestion: Option) -> OptionVerdict:
    return OptionVerdict(Verdict.NAK, suggestion)


#: Listener called for tlu/tld/tls/tlf: (protocol object, action, now).
LayerListener = Callable[["ControlProtocol", Action, float], None]


class ControlProtocol:
    """One RFC 1661 automaton. Subclasses describe their options; this class runs the protocol."""

    protocol: ClassVar[int] = 0
    name: ClassVar[str] = "CP"
    #: Codes beyond 1..7 this protocol understands (handled in :meth:`handle_extended`).
    extended_codes: ClassVar[frozenset[int]] = frozenset()

    def __init__(self, send: Callable[[int, bytes], None], timers: Timers) -> None:
        self._send = send
        self.timers = timers
        self.state = State.INITIAL
        self.restart_count = 0
        self.deadline: float | None = None
        self.listener: LayerListener | None = None
        self._next_id = 1
        self._request: tuple[int, bytes] | None = None  # our last Configure-Request (id, options)
        self._request_answered = True
        self._acked_peer_request: tuple[int, bytes] | None = None
        self._seen_requests: dict[tuple[int, bytes], float] = {}
        self._last_peer_request: tuple[int, bytes] | None = None
        self._nak_loops = 0
        self._last_naked: tuple[int, bytes] | None = None
        self._term_id: int | None = None
        self._retransmit = False
        self._reply: bytes | None = None
        self.terminate_reason = b""
        self.peer_terminate_reason: bytes | None = None
        self.illegal_events = 0
        self.discarded = 0

    # ----------------------------------------------------------------- hooks for subclasses
    def reset_options(self) -> None:
        """Start a fresh negotiation: go back to the options we want by default."""

    def request_options(self) -> list[Option]:
        """Options for our next Configure-Request."""
        return []

    def check_option(self, option: Option) -> OptionVerdict:
        """Judge one option of the peer's Configure-Request."""
        return REJECT

    def missing_option_hints(self, present: set[int]) -> list[Option]:
        """Options to add to a Configure-Nak because the peer left out something we need."""
        return []

    def peer_request_acked(self, options: Sequence[Option]) -> None:
        """We acknowledged these options: they now describe the peer's side of the link."""

    def request_acked(self, options: Sequence[Option]) -> None:
        """The peer acknowledged our options."""

    def request_naked(self, options: Sequence[Option]) -> None:
        """The peer suggested other values; adjust what :meth:`request_options` returns."""

    def request_rejected(self, options: Sequence[Option]) -> None:
        """The peer rejected these options; stop asking for them."""

    def handle_extended(self, packet: CPPacket, now: float) -> None:
        """Handle a code in :attr:`extended_codes`."""

    def code_rejected(self, code: int) -> None:
        """The peer rejected a non-essential code (RXJ+)."""

    # ----------------------------------------------------------------- user and lower-layer events
    def up(self, now: float) -> None:
        self.fire(FsmEvent.UP, now)

    def down(self, now: float) -> None:
        self._seen_requests.clear()
        self._last_peer_request = self._acked_peer_request = None
        self.fire(FsmEvent.DOWN, now)

    def open(self, now: float) -> None:
        self.fire(FsmEvent.OPEN, now)

    def close(self, now: float, reason: bytes = b"") -> None:
        self.terminate_reason = reason
        self.fire(FsmEvent.CLOSE, now)

    def protocol_rejected(self, now: float) -> None:
        """The peer Protocol-Rejected us: catastrophic for this protocol (RXJ-)."""
        self.fire(FsmEvent.RXJ_MINUS, now)

    @property
    def is_opened(self) -> bool:
        return self.state is State.OPENED

    def get_timer(self) -> float | None:
        return self.deadline

    def handle_timer(self, now: float) -> None:
        if self.deadline is None or now < self.deadline:
            return
        self.deadline = None
        if self.restart_count > 0:
            self._retransmit = True
            try:
                self.fire(FsmEvent.TO_PLUS, now)
            finally:
                self._retransmit = False
        else:
            self.fire(FsmEvent.TO_MINUS, now)

    # ----------------------------------------------------------------- the automaton
    def fire(self, event: FsmEvent, now: float, reply: bytes | None = None) -> bool:
        """Run one table transition; returns False (and counts) for an impossible event."""
        entry = TRANSITIONS.get((self.state, event))
        if entry is None:
            self.illegal_events += 1
            return False
        actions, target = entry
        previous = self.state
        self._reply = reply
        for action in actions:
            self._perform(action, actions, previous, now)
        self._reply = None
        self.state = target
        if target not in TIMER_STATES:
            self.deadline = None
        return True

    def _perform(self, action: Action, actions: tuple[Action, ...], previous: State, now: float) -> None:
        if action in (Action.TLU, Action.TLD, Action.TLS, Action.TLF):
            if self.listener is not None:
                self.listener(self, action, now)
        elif action is Action.IRC:
            terminating = Action.STR in actions
            self.restart_count = self.timers.max_terminate if terminating else self.timers.max_configure
        elif action is Action.ZRC:
            self.restart_count = 0
            self.deadline = now + self.timers.restart
        elif action is Action.SCR:
            self._send_configure_request(previous, now)
        elif action is Action.STR:
            if self._term_id is None or not self._retransmit:
                self._term_id = self.new_id()
            self.send_packet(TERM_REQ, self._term_id, self.terminate_reason)
            self.restart_count -= 1
            self.deadline = now + self.timers.restart
        elif action is Action.STA:
            if self._reply is not None and self._reply[0] == TERM_ACK:
                self._send(self.protocol, self._reply)
            else:
                self.send_packet(TERM_ACK, self.new_id(), b"")
        elif self._reply is not None:  # SCA, SCN, SCJ, SER: the reply was prepared by the caller
            self._send(self.protocol, self._reply)

    def _send_configure_request(self, previous: State, now: float) -> None:
        if previous not in _NEGOTIATING:
            self.reset_options()
            self._nak_loops = 0
        data = build_options(self.request_options())
        if self._retransmit and self._request is not None and self._request[1] == data:
            ident = self._request[0]
        else:
            ident = self.new_id()
        self._request = (ident, data)
        self._request_answered = False
        self.send_packet(CONF_REQ, ident, data)
        self.restart_count -= 1
        self.deadline = now + self.timers.restart

    def new_id(self) -> int:
        ident = self._next_id
        self._next_id = (self._next_id + 1) & 0xFF
        return ident

    def send_packet(self, code: int, identifier: int, data: bytes) -> None:
        self._send(self.protocol, build_cp_packet(code, identifier, data))

    # ----------------------------------------------------------------- receiving
    def receive(self, information: bytes, now: float) -> None:
        """Handle one packet of this protocol. Raises ParseError for a malformed packet."""
        packet = parse_cp_packet(information)
        if self.state in (State.INITIAL, State.STARTING):
            self.discarded += 1  # the layer is not running: silently discard
            return
        code = packet.code
        if code == CONF_REQ:
            self._receive_configure_request(packet, now)
        elif code in (CONF_ACK, CONF_NAK, CONF_REJ):
            self._receive_configure_reply(packet, now)
        elif code == TERM_REQ:
            self.peer_terminate_reason = packet.data
            self.fire(FsmEvent.RTR, now, build_cp_packet(TERM_ACK, packet.identifier, b""))
        elif code == TERM_ACK:
            self.fire(FsmEvent.RTA, now)
        elif code == CODE_REJ:
            self._receive_code_reject(packet, now)
        elif code in self.extended_codes:
            self.handle_extended(packet, now)
        else:
            self.send_code_reject(information, now)

    def send_code_reject(self, information: bytes, now: float, limit: int = 1496) -> None:
        reply = build_cp_packet(CODE_REJ, self.new_id(), information[:limit])
        self.fire(FsmEvent.RUC, now, reply)

    def _is_stale_request(self, key: tuple[int, bytes], now: float) -> bool:
        """A delayed copy of a request the peer has since replaced (the link reordered it).

        The peer changes the identifier whenever it sends a new request, so an older (identifier,
        options) pair seen moments ago cannot be a new request; answering it would make us Nak a
        request the peer no longer stands behind while it considers the negotiation finished.
        """
        seen = self._seen_requests.get(key)
        if key != self._last_peer_request and seen is not None and now - seen <= self.timers.restart:
            return True
        if seen is None:
            self._seen_requests[key] = now
            if len(self._seen_requests) > _REQUEST_HISTORY:
                del self._seen_requests[next(iter(self._seen_requests))]
        self._last_peer_request = key
        return False

    def _receive_configure_request(self, packet: CPPacket, now: float) -> None:
        options = parse_options(packet.data)
        ident = packet.identifier
        if self._is_stale_request((ident, packet.data), now):
            self.discarded += 1
            return
        if self.state is State.OPENED and self._acked_peer_request == (ident, packet.data):
            self._send(self.protocol, build_cp_packet(CONF_ACK, ident, packet.data))
            return
        if self.state not in (State.STOPPED, *_NEGOTIATING, State.OPENED):
            self.fire(FsmEvent.RCR_PLUS, now, build_cp_packet(TERM_ACK, ident, b""))
            return
        code, reply_options = self._decide(options)
        if code == CONF_ACK:
            self.peer_request_acked(options)
            self._acked_peer_request = (ident, packet.data)
            self._nak_loops = 0
            self.fire(FsmEvent.RCR_PLUS, now, build_cp_packet(CONF_ACK, ident, packet.data))
        else:
            if code == CONF_NAK and self._last_naked != (ident, packet.data):
                self._nak_loops += 1  # a retransmission of the same request is not a new failure
                self._last_naked = (ident, packet.data)
            self._acked_peer_request = None
            reply = build_cp_packet(code, ident, build_options(reply_options))
            self.fire(FsmEvent.RCR_MINUS, now, reply)

    def _decide(self, options: Sequence[Option]) -> tuple[int, list[Option]]:
        rejects: list[Option] = []
        naks: list[Option] = []
        disputed: list[Option] = []
        for option in options:
            verdict = self.check_option(option)
            if verdict.verdict is Verdict.REJECT:
                rejects.append(option)
            elif verdict.verdict is Verdict.NAK and verdict.suggestion is not None:
                naks.append(verdict.suggestion)
                disputed.append(option)
        if rejects:
            return CONF_REJ, rejects
        give_up = self._nak_loops >= self.timers.max_failure
        if disputed and give_up:  # Max-Failure: turn Naks into Rejects (RFC 1661 section 4.6)
            return CONF_REJ, disputed
        if not give_up:
            naks.extend(self.missing_option_hints({o.type for o in options}))
        if naks:
            return CONF_NAK, naks
        return CONF_ACK, list(options)

    def _receive_configure_reply(self, packet: CPPacket, now: float) -> None:
        event = {CONF_ACK: FsmEvent.RCA, CONF_NAK: FsmEvent.RCN, CONF_REJ: FsmEvent.RCN}[packet.code]
        if self.state in (State.CLOSED, State.STOPPED, State.CLOSING, State.STOPPING):
            self.fire(event, now, build_cp_packet(TERM_ACK, packet.identifier, b""))
            return
        request = self._request
        if request is None or self._request_answered or packet.identifier != request[0]:
            self.discarded += 1  # a reply to nothing outstanding: stale or duplicated
            return
        if packet.code == CONF_ACK:
            if packet.data != request[1]:
                raise ParseError(f"{self.name} Configure-Ack does not match our Configure-Request")
            options = parse_options(packet.data)
            self._request_answered = True
            self.request_acked(options)
        else:
            options = parse_options(packet.data)
            if packet.code == CONF_REJ:
                sent = set(parse_options(request[1]))
                if not options or any(o not in sent for o in options):
                    raise ParseError(f"{self.name} Configure-Reject lists options we did not send")
                self.request_rejected(options)
            else:
                self.request_naked(options)
            self._request_answered = True
        self.fire(event, now)

    def _receive_code_reject(self, packet: CPPacket, now: float) -> None:
        if not packet.data:
            raise ParseError(f"{self.name} Code-Reject carries no rejected packet")
        rejected = packet.data[0]
        if 1 <= rejected <= CODE_REJ:
            self.fire(FsmEvent.RXJ_MINUS, now)
        else:
            self.code_rejected(rejected)
            self.fire(FsmEvent.RXJ_PLUS, now)
