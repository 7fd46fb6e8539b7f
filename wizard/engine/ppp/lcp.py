"""LCP (RFC 1661): link options, authentication protocol choice, loopback detection and keepalive.

The client accepts the server's authentication request when the profile allows that method and
otherwise suggests (Naks with) its own first choice; the server walks down its own ordered list
when the client Naks. Both sides keep a plain-language :attr:`LCP.fatal` reason when no agreement
is possible, which the connection turns into a failure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from wizard.engine.errors import ParseError
from wizard.engine.ppp.frame import (
    DISCARD_REQ,
    ECHO_REPLY,
    ECHO_REQ,
    IDENTIFICATION,
    PROTO_CHAP,
    PROTO_EAP,
    PROTO_LCP,
    PROTO_PAP,
    PROTO_REJ,
    TIME_REMAINING,
    CPPacket,
    Option,
    build_cp_packet,
)
from wizard.engine.ppp.fsm import ACK, REJECT, ControlProtocol, FsmEvent, OptionVerdict, State, Timers, nak

OPT_MRU = 1
OPT_ACCM = 2
OPT_AUTH = 3
OPT_QUALITY = 4
OPT_MAGIC = 5
OPT_PFC = 7
OPT_ACFC = 8

DEFAULT_MRU = 1500
MIN_MRU = 128

CHAP_MD5 = 0x05
CHAP_MSV1 = 0x80
CHAP_MSV2 = 0x81

#: Authentication-Protocol option values (RFC 1334, 1994, 2433, 2759, 3748).
AUTH_OPTION_DATA: dict[str, bytes] = {
    "pap": PROTO_PAP.to_bytes(2, "big"),
    "chap-md5": PROTO_CHAP.to_bytes(2, "big") + bytes((CHAP_MD5,)),
    "mschap": PROTO_CHAP.to_bytes(2, "big") + bytes((CHAP_MSV1,)),
    "mschapv2": PROTO_CHAP.to_bytes(2, "big") + bytes((CHAP_MSV2,)),
    "eap": PROTO_EAP.to_bytes(2, "big"),
}

AUTH_DISPLAY: dict[str, str] = {
    "pap": "PAP",
    "chap-md5": "CHAP-MD5",
    "mschap": "MS-CHAP",
    "mschapv2": "MS-CHAPv2",
    "eap": "EAP",
}


def auth_method_from_option(data: bytes) -> str | None:
    """Our name for an Authentication-Protocol option value, or None if we do not know it."""
    for name, value in AUTH_OPTION_DATA.items():
        if data == value:
            return name
    return None


def describe_auth_option(data: bytes) -> str:
    method = auth_method_from_option(data)
    if method is not None:
        return AUTH_DISPLAY[method]
    if len(data) >= 3 and data[:2] == PROTO_CHAP.to_bytes(2, "big"):
        return f"CHAP with algorithm {data[2]}"
    if len(data) >= 2:
        return f"authentication protocol 0x{int.from_bytes(data[:2], 'big'):04x}"
    return "an unreadable authentication protocol"


def _display_list(methods: Sequence[str]) -> str:
    names = [AUTH_DISPLAY.get(m, m) for m in methods]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " or " + names[-1]


class LCP(ControlProtocol):
    """The Link Control Protocol automaton plus its echo keepalive."""

    protocol = PROTO_LCP
    name = "LCP"
    extended_codes = frozenset({PROTO_REJ, ECHO_REQ, ECHO_REPLY, DISCARD_REQ, IDENTIFICATION, TIME_REMAINING})

    def __init__(
        self,
        send: Callable[[int, bytes], None],
        timers: Timers,
        *,
        role: str,
        mru: int,
        allowed_auth: Sequence[str],
        random_bytes: Callable[[int], bytes],
        echo_interval: float = 0.0,
        echo_failures: int = 0,
        on_protocol_reject: Callable[[int, float], None] | None = None,
    ) -> None:
        super().__init__(send, timers)
        self.role = role
        self.config_mru = mru
        self.allowed_auth = tuple(allowed_auth)
        self._random = random_bytes
        self.echo_interval = echo_interval
        self.echo_failures = echo_failures
        self.on_protocol_reject = on_protocol_reject
        # What we ask for.
        self._want_mru = mru
        self._ask_mru = mru != DEFAULT_MRU
        self._ask_magic = True
        self.magic = 0
        self._auth_candidates: list[str] = []
        self._auth_tried: set[str] = set()
        self._auth_current: str | None = None
        # Negotiated results.
        self.mru = DEFAULT_MRU
        self.peer_mru = DEFAULT_MRU
        self.peer_magic = 0
        self.peer_pfc = False
        self.peer_acfc = False
        self.auth_method: str | None = None
        # Failure bookkeeping.
        self.fatal: str | None = None
        self.auth_mismatch: str | None = None
        self.loopbacks = 0
        # Keepalive.
        self.echo_pending = 0
        self.echo_timed_out = 0
        self._echo_deadline: float | None = None
        self._echo_enabled = echo_interval > 0
        self.echo_replies = 0
        self.reset_options()

    # ----------------------------------------------------------------- our Configure-Request
    def _new_magic(self) -> int:
        while True:
            value = int.from_bytes(self._random(4), "big")
            if value not in (0, self.magic, self.peer_magic):
                return value

    def reset_options(self) -> None:
        self._want_mru = self.config_mru
        self._ask_mru = self.config_mru != DEFAULT_MRU
        self._ask_magic = True
        self.magic = self._new_magic()
        if self.role == "server":
            self._auth_candidates = list(self.allowed_auth)
            self._auth_tried = set()
            self._auth_current = self._auth_candidates[0] if self._auth_candidates else None
            if self._auth_current is not None:
                self._auth_tried.add(self._auth_current)

    def request_options(self) -> list[Option]:
        options: list[Option] = []
        if self._ask_mru:
            options.append(Option(OPT_MRU, self._want_mru.to_bytes(2, "big")))
        if self.role == "server" and self._auth_current is not None:
            options.append(Option(OPT_AUTH, AUTH_OPTION_DATA[self._auth_current]))
        if self._ask_magic:
            options.append(Option(OPT_MAGIC, self.magic.to_bytes(4, "big")))
        return options

    def request_acked(self, options: Sequence[Option]) -> None:
        self.mru = DEFAULT_MRU
        for option in options:
            if option.type == OPT_MRU:
                self.mru = int.from_bytes(option.data, "big")
            elif option.type == OPT_MAGIC:
                self.magic = int.from_bytes(option.data, "big")
        if self.role == "server":
            self.auth_method = self._auth_current
        if not self._ask_magic:
            self.magic = 0

    def request_naked(self, options: Sequence[Option]) -> None:
        for option in options:
            if option.type == OPT_MRU and len(option.data) == 2:
                value = int.from_bytes(option.data, "big")
                if value >= MIN_MRU:
                    self._want_mru = value
                    self._ask_mru = value != DEFAULT_MRU
            elif option.type == OPT_MAGIC and self._ask_magic:
                # RFC 1661 section 6.4: a Nak of our magic hints at a looped-back link.
                self._note_loopback()
                self.magic = self._new_magic()
            elif option.type == OPT_AUTH and self.role == "server":
                self._server_auth_naked(option.data)

    def _server_auth_naked(self, suggestion: bytes) -> None:
        suggested = auth_method_from_option(suggestion)
        if suggested is not None and suggested in self.allowed_auth and suggested not in self._auth_tried:
            choice: str | None = suggested
        else:
            choice = next((m for m in self._auth_candidates if m not in self._auth_tried), None)
        if choice is None:
            self.fatal = (
                f"the client does not support any authentication method this server allows: it asked for "
                f"{describe_auth_option(suggestion)}, the server allows {_display_list(self.allowed_auth)}"
            )
            return
        self._auth_current = choice
        self._auth_tried.add(choice)

    def request_rejected(self, options: Sequence[Option]) -> None:
        for option in options:
            if option.type == OPT_MRU:
                self._ask_mru = False
                self._want_mru = DEFAULT_MRU
            elif option.type == OPT_MAGIC:
                self._ask_magic = False
            elif option.type == OPT_AUTH and self.role == "server":
                self.fatal = "the client refused to authenticate"

    # ----------------------------------------------------------------- the peer's Configure-Request
    def check_option(self, option: Option) -> OptionVerdict:
        kind, data = option.type, option.data
        if kind == OPT_MRU:
            if len(data) != 2:
                return REJECT
            if int.from_bytes(data, "big") < MIN_MRU:
                return nak(Option(OPT_MRU, MIN_MRU.to_bytes(2, "big")))
            return ACK
        if kind == OPT_ACCM:
            return ACK if len(data) == 4 else REJECT  # no HDLC here: any map is fine
        if kind == OPT_AUTH:
            return self._check_auth(data)
        if kind == OPT_MAGIC:
            if len(data) != 4:
                return REJECT
            value = int.from_bytes(data, "big")
            if value == 0 or (self._ask_magic and value == self.magic):
                if value != 0:
                    self._note_loopback()
                    self.magic = self._new_magic()
                return nak(Option(OPT_MAGIC, self._new_magic().to_bytes(4, "big")))
            return ACK
        if kind in (OPT_PFC, OPT_ACFC):
            return ACK if not data else REJECT
        return REJECT  # quality protocol, callback, multilink, endpoint discriminator, ...

    def _check_auth(self, data: bytes) -> OptionVerdict:
        if self.role == "server" or not self.allowed_auth:
            return REJECT  # we never authenticate the client's side to... ourselves
        method = auth_method_from_option(data)
        if method is not None and method in self.allowed_auth:
            return ACK
        self.auth_mismatch = (
            f"the server asked for {describe_auth_option(data)} but this profile only allows "
            f"{_display_list(self.allowed_auth)}; allow {describe_auth_option(data)} in the profile or ask "
            f"the server administrator to enable {AUTH_DISPLAY[self.allowed_auth[0]]}"
        )
        return nak(Option(OPT_AUTH, AUTH_OPTION_DATA[self.allowed_auth[0]]))

    def peer_request_acked(self, options: Sequence[Option]) -> None:
        self.peer_mru = DEFAULT_MRU
        self.peer_magic = 0
        self.peer_pfc = self.peer_acfc = False
        if self.role == "client":
            self.auth_method = None
        for option in options:
            if option.type == OPT_MRU:
                self.peer_mru = int.from_bytes(option.data, "big")
            elif option.type == OPT_MAGIC:
                self.peer_magic = int.from_bytes(option.data, "big")
            elif option.type == OPT_PFC:
                self.peer_pfc = True
            elif option.type == OPT_ACFC:
                self.peer_acfc = True
            elif option.type == OPT_AUTH and self.role == "client":
                self.auth_method = auth_method_from_option(option.data)
                self.auth_mismatch = None

    def _note_loopback(self) -> None:
        self.loopbacks += 1
        if self.loopbacks > self.timers.max_failure:
            self.fatal = "the line appears to be looped back (we keep hearing our own LCP magic number)"

    # ----------------------------------------------------------------- extended codes
    def handle_extended(self, packet: CPPacket, now: float) -> None:
        code = packet.code
        if code == PROTO_REJ:
            self._receive_protocol_reject(packet, now)
        elif code == ECHO_REQ:
            magic = _echo_magic(packet)
            if self.state is State.OPENED and self._is_own_magic(magic):
                self._note_loopback()
                return
            reply = build_cp_packet(ECHO_REPLY, packet.identifier, self.magic.to_bytes(4, "big") + packet.data[4:])
            self.fire(FsmEvent.RXR, now, reply if self.state is State.OPENED else None)
        elif code == ECHO_REPLY:
            magic = _echo_magic(packet)
            if self.state is State.OPENED and not self._is_own_magic(magic):
                self.echo_pending = 0
                self.echo_replies += 1
            self.fire(FsmEvent.RXR, now)
        else:  # Discard-Request, Identification, Time-Remaining: nothing to do
            self.fire(FsmEvent.RXR, now)

    def _is_own_magic(self, magic: int) -> bool:
        return magic != 0 and magic == self.magic and self.peer_magic != self.magic

    def _receive_protocol_reject(self, packet: CPPacket, now: float) -> None:
        if len(packet.data) < 2:
            raise ParseError("LCP Protocol-Reject is too short")
        if self.state is not State.OPENED:
            self.discarded += 1  # only meaningful once the link is open (RFC 1661 section 5.7)
            return
        rejected = int.from_bytes(packet.data[:2], "big")
        if rejected == PROTO_LCP:
            self.fire(FsmEvent.RXJ_MINUS, now)
            return
        self.fire(FsmEvent.RXJ_PLUS, now)
        if self.on_protocol_reject is not None:
            self.on_protocol_reject(rejected, now)

    def code_rejected(self, code: int) -> None:
        if code in (ECHO_REQ, ECHO_REPLY):
            self._echo_enabled = False
            self._echo_deadline = None

    def send_protocol_reject(self, protocol: int, information: bytes) -> None:
        limit = max(self.peer_mru - 8, 0)
        data = protocol.to_bytes(2, "big") + information[:limit]
        self.send_packet(PROTO_REJ, self.new_id(), data)

    # ----------------------------------------------------------------- keepalive
    def start_keepalive(self, now: float) -> None:
        self.echo_pending = 0
        self._echo_deadline = now + self.echo_interval if self._echo_enabled else None

    def stop_keepalive(self) -> None:
        self._echo_deadline = None

    def note_alive(self) -> None:
        """Traffic from the peer proves it is alive, like pppd's adaptive echo."""
        self.echo_pending = 0

    def get_timer(self) -> float | None:
        timers = [t for t in (self.deadline, self._echo_deadline) if t is not None]
        return min(timers) if timers else None

    def handle_timer(self, now: float) -> None:
        super().handle_timer(now)
        if self._echo_deadline is None or now < self._echo_deadline:
            return
        if self.state is not State.OPENED:
            self._echo_deadline = None
            return
        if self.echo_failures and self.echo_pending >= self.echo_failures:
            self.echo_timed_out = self.echo_pending
            self._echo_deadline = None
            return
        self.send_packet(ECHO_REQ, self.new_id(), self.magic.to_bytes(4, "big"))
        self.echo_pending += 1
        self._echo_deadline = now + self.echo_interval


def _echo_magic(packet: CPPacket) -> int:
    if len(packet.data) < 4:
        raise ParseError("LCP echo packet has no magic number")
    return int.from_bytes(packet.data[:4], "big")
