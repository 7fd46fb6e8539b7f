"""PAP (RFC 1334 section 2): the password travels in clear, so profiles should prefer MS-CHAPv2.

The client retransmits its Authenticate-Request until answered; the server answers every
request, so a lost Authenticate-Ack is repaired by the client's next retransmission.
"""

from __future__ import annotations

from collections.abc import Mapping

from wizard.engine.buffer import Reader, Writer
from wizard.engine.errors import ParseError
from wizard.engine.ppp.auth.base import AuthProtocol, Send, decode_name, lookup_password, secrets_equal
from wizard.engine.ppp.frame import PROTO_PAP, build_cp_packet, parse_cp_packet
from wizard.engine.ppp.fsm import Timers

AUTH_REQ = 1
AUTH_ACK = 2
AUTH_NAK = 3


def build_request(identifier: int, peer_id: bytes, password: bytes) -> bytes:
    if len(peer_id) > 255 or len(password) > 255:
        raise ValueError("PAP user name and password are limited to 255 octets")
    data = Writer().u8(len(peer_id)).write(peer_id).u8(len(password)).write(password).getvalue()
    return build_cp_packet(AUTH_REQ, identifier, data)


def parse_request(data: bytes) -> tuple[bytes, bytes]:
    r = Reader(data)
    peer_id = r.read(r.u8())
    password = r.read(r.u8())
    return peer_id, password


def parse_message(data: bytes) -> str:
    """Authenticate-Ack/Nak carry a length-prefixed message (RFC 1334 section 2.2.2)."""
    if not data:
        return ""
    r = Reader(data)
    return decode_name(r.read(r.u8()))


def _message(text: bytes) -> bytes:
    return bytes((len(text),)) + text


class PapClient(AuthProtocol):
    protocol = PROTO_PAP
    method = "pap"
    display = "PAP"

    def __init__(self, send: Send, timers: Timers, username: str, password: str) -> None:
        super().__init__(send, timers)
        self.username = username
        self._peer_id = username.encode("utf-8")
        self._password = password.encode("utf-8")
        self._ids: set[int] = set()
        self._next_id = 1

    def start(self, now: float) -> None:
        self.retries = self.timers.max_configure
        self._transmit(now)

    def _transmit(self, now: float) -> None:
        ident = self._next_id
        self._next_id = (self._next_id + 1) & 0xFF
        self._ids.add(ident)
        self._send(PROTO_PAP, build_request(ident, self._peer_id, self._password))
        self.retries -= 1
        self._arm(now)

    def on_timeout(self, now: float) -> None:
        if self.done:
            return
        if self.retries <= 0:
            self._fail("the server did not answer the PAP login")
            return
        self._transmit(now)

    def receive(self, information: bytes, now: float) -> None:
        packet = parse_cp_packet(information)
        if packet.code not in (AUTH_ACK, AUTH_NAK):
            raise ParseError(f"unexpected PAP code {packet.code} for a client")
        message = parse_message(packet.data)
        if self.done or packet.identifier not in self._ids:
            self.discarded += 1
            return
        if packet.code == AUTH_ACK:
            self._succeed()
        else:
            detail = f": {message}" if message else ""
            self._fail(f"the server rejected the user name or password (PAP{detail})")


class PapServer(AuthProtocol):
    protocol = PROTO_PAP
    method = "pap"
    display = "PAP"

    def __init__(self, send: Send, timers: Timers, users: Mapping[str, str]) -> None:
        super().__init__(send, timers)
        self._users = users
        self._granted: tuple[bytes, bytes] | None = None

    def start(self, now: float) -> None:
        # The client speaks first; wait as long as a full LCP negotiation may take.
        self.deadline = now + self.timers.restart * self.timers.max_configure

    def on_timeout(self, now: float) -> None:
        self._fail("the client did not send its PAP login in time")

    def receive(self, information: bytes, now: float) -> None:
        packet = parse_cp_packet(information)
        if packet.code != AUTH_REQ:
            raise ParseError(f"unexpected PAP code {packet.code} for a server")
        peer_id, password = parse_request(packet.data)
        if self.done:
            ok = self.succeeded and self._granted == (peer_id, password)
            self._answer(packet.identifier, ok)
            return
        name = decode_name(peer_id)
        expected = lookup_password(self._users, name)
        ok = expected is not None and secrets_equal(expected.encode("utf-8"), password)
        self._answer(packet.identifier, ok)
        if ok:
            self.username = name
            self._granted = (peer_id, password)
            self._succeed()
        else:
            self._fail(f"the client's user name or password was wrong (PAP, user {name!r})")

    def _answer(self, identifier: int, ok: bool) -> None:
        code, text = (AUTH_ACK, b"Login ok") if ok else (AUTH_NAK, b"Authentication failed")
        self._send(PROTO_PAP, build_cp_packet(code, identifier, _message(text)))
