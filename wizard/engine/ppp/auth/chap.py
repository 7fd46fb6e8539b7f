"""CHAP (RFC 1994) with the MD5, MS-CHAPv1 (RFC 2433) and MS-CHAPv2 (RFC 2759) algorithms.

The server retransmits its Challenge until answered. The client also retransmits its Response
when no Success/Failure arrives, and the server answers a repeated Response with the verdict it
already gave (RFC 1994 section 4.1), so a lost Success cannot wedge the link. The MS-CHAPv2
client verifies the server's authenticator response and refuses an impostor.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from wizard.engine.buffer import Reader
from wizard.engine.crypto.mschap import (
    check_authenticator_response,
    generate_authenticator_response,
    generate_nt_response,
    mschapv1_nt_response,
)
from wizard.engine.errors import ParseError
from wizard.engine.ppp.auth.base import (
    AuthProtocol,
    MppeMaterial,
    RandomBytes,
    Send,
    decode_name,
    lookup_password,
    secrets_equal,
)
from wizard.engine.ppp.auth.msmessages import (
    V1_FAILURE_MESSAGE,
    V2Response,
    build_v1_response,
    failure_reason,
    parse_failure,
    parse_v1_response,
    parse_v2_response,
    success_message,
    v2_failure_message,
)
from wizard.engine.ppp.frame import PROTO_CHAP, build_cp_packet, parse_cp_packet
from wizard.engine.ppp.fsm import Timers

CHALLENGE = 1
RESPONSE = 2
SUCCESS = 3
FAILURE = 4

IMPOSTOR = "the server could not prove it knows your password: possible impostor (MS-CHAPv2 authenticator response is wrong)"

_DISPLAY = {"chap-md5": "CHAP-MD5", "mschap": "MS-CHAP", "mschapv2": "MS-CHAPv2"}
_CHALLENGE_LENGTH = {"chap-md5": 16, "mschap": 8, "mschapv2": 16}


def build_value_packet(code: int, identifier: int, value: bytes, name: bytes) -> bytes:
    """Challenge and Response share the layout Value-Size, Value, Name (RFC 1994 section 4.1)."""
    if not 0 < len(value) < 256:
        raise ValueError("CHAP value must be 1..255 octets")
    return build_cp_packet(code, identifier, bytes((len(value),)) + value + name)


def parse_value(data: bytes) -> tuple[bytes, bytes]:
    r = Reader(data)
    size = r.u8()
    if size == 0:
        raise ParseError("CHAP value size is zero")
    value = r.read(size)
    return value, r.read_rest()


def md5_response(identifier: int, secret: bytes, challenge: bytes) -> bytes:
    return hashlib.md5(bytes((identifier,)) + secret + challenge).digest()


class ChapClient(AuthProtocol):
    """The peer side: answers Challenges and checks the verdict."""

    protocol = PROTO_CHAP

    def __init__(
        self, send: Send, timers: Timers, algorithm: str, username: str, password: str, random_bytes: RandomBytes
    ) -> None:
        super().__init__(send, timers)
        self.method = algorithm
        self.display = _DISPLAY[algorithm]
        self.username = username
        self._password = password
        self._random = random_bytes
        self._current: tuple[int, bytes] | None = None  # (identifier, challenge) answered
        self._response: bytes | None = None
        self._v2: tuple[bytes, bytes, bytes] | None = None  # challenge, peer challenge, NT-Response
        self._v1_challenge = b""

    def start(self, now: float) -> None:
        self.retries = self.timers.max_configure
        self.deadline = now + self.timers.restart * self.timers.max_configure  # wait for a Challenge

    def on_timeout(self, now: float) -> None:
        if self.done:
            return
        if self._response is None:
            self._fail(f"the server did not send its {self.display} challenge")
        elif self.retries <= 0:
            self._fail(f"the server did not answer our {self.display} response")
        else:
            self._send(PROTO_CHAP, self._response)
            self.retries -= 1
            self._arm(now)

    def receive(self, information: bytes, now: float) -> None:
        packet = parse_cp_packet(information)
        if packet.code == CHALLENGE:
            challenge, _name = parse_value(packet.data)
            self._on_challenge(packet.identifier, challenge, now)
        elif packet.code in (SUCCESS, FAILURE):
            if self.done or self._current is None or packet.identifier != self._current[0]:
                self.discarded += 1
                return
            text = packet.data.decode("latin-1")
            if packet.code == SUCCESS:
                self._on_success(text)
            else:
                self._on_failure(text)
        else:
            raise ParseError(f"unexpected CHAP code {packet.code} for a client")

    def _on_challenge(self, identifier: int, challenge: bytes, now: float) -> None:
        if self.done:
            self.discarded += 1
            return
        if self._current == (identifier, challenge) and self._response is not None:
            self._send(PROTO_CHAP, self._response)  # the server lost our answer
            return
        value = self._compute(identifier, challenge)
        self._current = (identifier, challenge)
        self._response = build_value_packet(RESPONSE, identifier, value, self.username.encode("utf-8"))
        self._send(PROTO_CHAP, self._response)
        self.retries = self.timers.max_configure
        self._arm(now)

    def _compute(self, identifier: int, challenge: bytes) -> bytes:
        if self.method == "chap-md5":
            return md5_response(identifier, self._password.encode("utf-8"), challenge)
        if self.method == "mschap":
            if len(challenge) != 8:
                raise ParseError("MS-CHAP challenge must be 8 octets")
            self._v1_challenge = challenge
            return build_v1_response(mschapv1_nt_response(challenge, self._password))
        if len(challenge) != 16:
            raise ParseError("MS-CHAPv2 challenge must be 16 octets")
        peer_challenge = self._random(16)
        nt = generate_nt_response(challenge, peer_challenge, self.username, self._password)
        self._v2 = (challenge, peer_challenge, nt)
        return V2Response(peer_challenge, nt).encode()

    def _on_success(self, text: str) -> None:
        if self.method == "mschapv2":
            assert self._v2 is not None
            challenge, peer_challenge, nt = self._v2
            if not check_authenticator_response(text, self._password, nt, peer_challenge, challenge, self.username):
                self._fail(IMPOSTOR)
                return
            self.mppe_material = MppeMaterial(2, self._password, nt_response=nt)
        elif self.method == "mschap":
            self.mppe_material = MppeMaterial(1, self._password, challenge=self._v1_challenge)
        self._succeed()

    def _on_failure(self, text: str) -> None:
        if self.method == "chap-md5":
            self._fail("the server rejected the user name or password (CHAP-MD5)")
        else:
            self._fail(failure_reason(parse_failure(text), self.display))


class ChapServer(AuthProtocol):
    """The authenticator side: challenges and verifies against the configured users."""

    protocol = PROTO_CHAP

    def __init__(
        self,
        send: Send,
        timers: Timers,
        algorithm: str,
        users: Mapping[str, str],
        server_name: str,
        random_bytes: RandomBytes,
    ) -> None:
        super().__init__(send, timers)
        self.method = algorithm
        self.display = _DISPLAY[algorithm]
        self._users = users
        self._name = server_name.encode("utf-8")
        self._random = random_bytes
        self._identifier = 0
        self._challenge = b""
        self._packet = b""
        self._verdict: bytes | None = None
        self._answered_value: bytes | None = None

    def start(self, now: float) -> None:
        self._identifier = self._random(1)[0]
        self._challenge = self._random(_CHALLENGE_LENGTH[self.method])
        self._packet = build_value_packet(CHALLENGE, self._identifier, self._challenge, self._name)
        self.retries = self.timers.max_configure
        self._transmit(now)

    def _transmit(self, now: float) -> None:
        self._send(PROTO_CHAP, self._packet)
        self.retries -= 1
        self._arm(now)

    def on_timeout(self, now: float) -> None:
        if self.done:
            return
        if self.retries <= 0:
            self._fail(f"the client did not answer the {self.display} challenge")
            return
        self._transmit(now)

    def receive(self, information: bytes, now: float) -> None:
        packet = parse_cp_packet(information)
        if packet.code != RESPONSE:
            raise ParseError(f"unexpected CHAP code {packet.code} for a server")
        value, raw_name = parse_value(packet.data)
        if packet.identifier != self._identifier:
            self.discarded += 1
            return
        if self._verdict is not None:
            if value == self._answered_value:
                self._send(PROTO_CHAP, self._verdict)  # our Success/Failure was lost
            else:
                self.discarded += 1
            return
        name = decode_name(raw_name)
        ok, message = self._verify(packet.identifier, value, name)
        self._verdict = build_cp_packet(SUCCESS if ok else FAILURE, packet.identifier, message.encode("latin-1"))
        self._answered_value = value
        self._send(PROTO_CHAP, self._verdict)
        if ok:
            self.username = name
            self._succeed()
        else:
            self._fail(f"the client's user name or password was wrong ({self.display}, user {name!r})")

    def _verify(self, identifier: int, value: bytes, name: str) -> tuple[bool, str]:
        password = lookup_password(self._users, name)
        if self.method == "chap-md5":
            ok = password is not None and secrets_equal(
                value, md5_response(identifier, password.encode("utf-8"), self._challenge)
            )
            return ok, "Access granted" if ok else "Authentication failure"
        if self.method == "mschap":
            nt = parse_v1_response(value)
            ok = password is not None and secrets_equal(nt, mschapv1_nt_response(self._challenge, password))
            if ok and password is not None:
                self.mppe_material = MppeMaterial(1, password, challenge=self._challenge)
            return ok, "Access granted" if ok else V1_FAILURE_MESSAGE
        response = parse_v2_response(value)
        if password is not None:
            expected = generate_nt_response(self._challenge, response.peer_challenge, name, password)
            if secrets_equal(response.nt_response, expected):
                self.mppe_material = MppeMaterial(2, password, nt_response=response.nt_response)
                auth = generate_authenticator_response(
                    password, response.nt_response, response.peer_challenge, self._challenge, name
                )
                return True, success_message(auth)
        return False, v2_failure_message(self._challenge)
