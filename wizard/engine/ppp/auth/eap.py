"""EAP over PPP (RFC 3748) with Identity, MD5-Challenge and EAP-MSCHAPv2.

EAP-MSCHAPv2 follows draft-kamath-pppext-eap-mschapv2: the MS-CHAPv2 Challenge, Response,
Success and Failure ride in EAP type 26 with an OpCode, an MS-CHAPv2-ID and an MS-Length. The
authenticator retransmits Requests; the peer answers a repeated Request with its previous Response
(RFC 3748 section 4.1). EAP-Success is never retransmitted, so the peer takes the first NCP packet
after a finished method as success (RFC 3748 section 4.2 allows this).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from wizard.engine.buffer import Reader, Writer
from wizard.engine.crypto.mschap import (
    check_authenticator_response,
    generate_authenticator_response,
    generate_nt_response,
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
from wizard.engine.ppp.auth.chap import IMPOSTOR, md5_response
from wizard.engine.ppp.auth.msmessages import (
    V2Response,
    failure_reason,
    parse_failure,
    parse_v2_response,
    success_message,
    v2_failure_message,
)
from wizard.engine.ppp.frame import PROTO_EAP
from wizard.engine.ppp.fsm import Timers

REQUEST = 1
RESPONSE = 2
SUCCESS = 3
FAILURE = 4

TYPE_IDENTITY = 1
TYPE_NOTIFICATION = 2
TYPE_NAK = 3
TYPE_MD5 = 4
TYPE_MSCHAPV2 = 26

MS_CHALLENGE = 1
MS_RESPONSE = 2
MS_SUCCESS = 3
MS_FAILURE = 4

#: Our names for the inner methods and their EAP types.
EAP_TYPES = {"mschapv2": TYPE_MSCHAPV2, "md5": TYPE_MD5}
_TYPE_NAMES = {TYPE_MSCHAPV2: "EAP-MSCHAPv2", TYPE_MD5: "EAP-MD5"}


def build_eap(code: int, identifier: int, eap_type: int | None = None, data: bytes = b"") -> bytes:
    body = b"" if eap_type is None else bytes((eap_type,)) + data
    return Writer().u8(code).u8(identifier).u16(4 + len(body)).write(body).getvalue()


def parse_eap(information: bytes) -> tuple[int, int, int | None, bytes]:
    """(code, identifier, type or None, type data); padding past Length is ignored."""
    r = Reader(information)
    code = r.u8()
    identifier = r.u8()
    length = r.u16()
    if length < 4 or length - 4 > r.remaining:
        raise ParseError(f"EAP length {length} does not fit the {len(information)} octets received")
    body = r.read(length - 4)
    if code in (REQUEST, RESPONSE):
        if not body:
            raise ParseError("EAP Request/Response without a type")
        return code, identifier, body[0], body[1:]
    if code in (SUCCESS, FAILURE):
        return code, identifier, None, b""
    raise ParseError(f"unknown EAP code {code}")


def build_ms(opcode: int, ms_id: int, payload: bytes) -> bytes:
    """EAP-MSCHAPv2 type data: OpCode, MS-CHAPv2-ID, MS-Length (covers OpCode onwards), payload."""
    return Writer().u8(opcode).u8(ms_id).u16(4 + len(payload)).write(payload).getvalue()


def parse_ms(data: bytes) -> tuple[int, int, bytes]:
    r = Reader(data)
    opcode = r.u8()
    if opcode in (MS_SUCCESS, MS_FAILURE) and r.remaining == 0:
        return opcode, 0, b""  # the peer's one-octet acknowledgement
    ms_id = r.u8()
    ms_length = r.u16()
    if ms_length < 4 or ms_length - 4 > r.remaining:
        raise ParseError("EAP-MSCHAPv2 MS-Length does not fit the packet")
    return opcode, ms_id, r.read(ms_length - 4)


def _value_and_name(payload: bytes) -> tuple[bytes, bytes]:
    r = Reader(payload)
    size = r.u8()
    if size == 0:
        raise ParseError("EAP value size is zero")
    return r.read(size), r.read_rest()


class EapClient(AuthProtocol):
    """The EAP peer."""

    protocol = PROTO_EAP
    method = "eap"
    display = "EAP"

    def __init__(
        self,
        send: Send,
        timers: Timers,
        username: str,
        password: str,
        methods: Sequence[str],
        random_bytes: RandomBytes,
    ) -> None:
        super().__init__(send, timers)
        self.username = username
        self._password = password
        self._types = [EAP_TYPES[m] for m in methods]
        self._random = random_bytes
        self._last: tuple[int, bytes, bytes] | None = None  # request id, request body, our response
        self._method_done = False  # MD5 answered or MS-CHAPv2 server verified
        self._v2: tuple[bytes, bytes, bytes] | None = None
        self._pending_failure: str | None = None

    def start(self, now: float) -> None:
        self.deadline = now + self.timers.restart * self.timers.max_configure

    def on_timeout(self, now: float) -> None:
        if not self.done:
            self._fail("the server did not finish EAP authentication")

    def implicit_success(self) -> bool:
        if not self.done and self._method_done:
            self._succeed()
            return True
        return False

    def receive(self, information: bytes, now: float) -> None:
        code, identifier, eap_type, data = parse_eap(information)
        if self.done:
            self.discarded += 1
            return
        if code == SUCCESS:
            if self._method_done:
                self._succeed()
            elif self._v2 is not None:
                self._fail(IMPOSTOR)
            else:
                self._fail("the server reported EAP success without authenticating us")
            return
        if code == FAILURE:
            self._fail(self._pending_failure or f"the server rejected the user name or password ({self.display})")
            return
        if code != REQUEST or eap_type is None:
            raise ParseError("EAP peer received a Response")
        body = information[4 : 4 + 1 + len(data)]
        if self._last is not None and self._last[0] == identifier and self._last[1] == body:
            self._send(PROTO_EAP, self._last[2])  # retransmitted Request: repeat our Response
            return
        response = self._answer(identifier, eap_type, data)
        if response is None:
            return
        self._last = (identifier, body, response)
        self._send(PROTO_EAP, response)
        if self._pending_failure is not None:
            self._fail(self._pending_failure)  # EAP-Failure may be lost: do not wait for it
            return
        self.deadline = now + self.timers.restart * self.timers.max_configure

    def _answer(self, identifier: int, eap_type: int, data: bytes) -> bytes | None:
        if eap_type == TYPE_IDENTITY:
            return build_eap(RESPONSE, identifier, TYPE_IDENTITY, self.username.encode("utf-8"))
        if eap_type == TYPE_NOTIFICATION:
            return build_eap(RESPONSE, identifier, TYPE_NOTIFICATION)
        if eap_type not in self._types:
            return build_eap(RESPONSE, identifier, TYPE_NAK, bytes(self._types))
        if eap_type == TYPE_MD5:
            challenge, _name = _value_and_name(data)
            value = md5_response(identifier, self._password.encode("utf-8"), challenge)
            self.display = _TYPE_NAMES[TYPE_MD5]
            self._method_done = True
            payload = bytes((len(value),)) + value + self.username.encode("utf-8")
            return build_eap(RESPONSE, identifier, TYPE_MD5, payload)
        return self._answer_mschapv2(identifier, data)

    def _answer_mschapv2(self, identifier: int, data: bytes) -> bytes | None:
        opcode, ms_id, payload = parse_ms(data)
        self.display = _TYPE_NAMES[TYPE_MSCHAPV2]
        if opcode == MS_CHALLENGE:
            challenge, _name = _value_and_name(payload)
            if len(challenge) != 16:
                raise ParseError("EAP-MSCHAPv2 challenge must be 16 octets")
            peer_challenge = self._random(16)
            nt = generate_nt_response(challenge, peer_challenge, self.username, self._password)
            self._v2 = (challenge, peer_challenge, nt)
            value = V2Response(peer_challenge, nt).encode()
            body = bytes((len(value),)) + value + self.username.encode("utf-8")
            return build_eap(RESPONSE, identifier, TYPE_MSCHAPV2, build_ms(MS_RESPONSE, ms_id, body))
        if opcode == MS_SUCCESS:
            if self._v2 is None:
                raise ParseError("EAP-MSCHAPv2 Success before any Challenge")
            challenge, peer_challenge, nt = self._v2
            text = payload.decode("latin-1")
            if not check_authenticator_response(text, self._password, nt, peer_challenge, challenge, self.username):
                self._fail(IMPOSTOR)
                return None
            self.mppe_material = MppeMaterial(2, self._password, nt_response=nt)
            self._method_done = True
            return build_eap(RESPONSE, identifier, TYPE_MSCHAPV2, bytes((MS_SUCCESS,)))
        if opcode == MS_FAILURE:
            self._pending_failure = failure_reason(parse_failure(payload.decode("latin-1")), "EAP-MSCHAPv2")
            return build_eap(RESPONSE, identifier, TYPE_MSCHAPV2, bytes((MS_FAILURE,)))
        raise ParseError(f"unexpected EAP-MSCHAPv2 opcode {opcode} for a peer")


class EapServer(AuthProtocol):
    """The EAP authenticator: Identity, then the first inner method the peer accepts."""

    protocol = PROTO_EAP
    method = "eap"
    display = "EAP"

    def __init__(
        self,
        send: Send,
        timers: Timers,
        users: Mapping[str, str],
        methods: Sequence[str],
        server_name: str,
        random_bytes: RandomBytes,
    ) -> None:
        super().__init__(send, timers)
        self._users = users
        self._types = [EAP_TYPES[m] for m in methods]
        self._name = server_name.encode("utf-8")
        self._random = random_bytes
        self._identifier = random_bytes(1)[0]
        self._request = b""
        self._identity = ""
        self._method: int | None = None
        self._challenge = b""
        self._stage = "identity"  # identity, method, ms-success, ms-failure, done
        self._final: bytes | None = None
        self._final_for: tuple[int, bytes] | None = None

    def start(self, now: float) -> None:
        self._new_request(TYPE_IDENTITY, b"", now)

    def _new_request(self, eap_type: int, data: bytes, now: float) -> None:
        self._identifier = (self._identifier + 1) & 0xFF
        self._request = build_eap(REQUEST, self._identifier, eap_type, data)
        self.retries = self.timers.max_configure
        self._transmit(now)

    def _transmit(self, now: float) -> None:
        self._send(PROTO_EAP, self._request)
        self.retries -= 1
        self._arm(now)

    def on_timeout(self, now: float) -> None:
        if self.done:
            return
        if self.retries <= 0:
            self._fail("the client stopped answering during EAP authentication")
            return
        self._transmit(now)

    def receive(self, information: bytes, now: float) -> None:
        code, identifier, eap_type, data = parse_eap(information)
        if code != RESPONSE or eap_type is None:
            raise ParseError(f"EAP authenticator received code {code}")
        if self._final is not None:
            if self._final_for == (identifier, information):
                self._send(PROTO_EAP, self._final)
            else:
                self.discarded += 1
            return
        if identifier != self._identifier:
            self.discarded += 1
            return
        if eap_type == TYPE_IDENTITY and self._stage == "identity":
            self._identity = decode_name(data)
            self._start_method(self._types[0], now)
        elif eap_type == TYPE_NAK and self._stage == "method":
            wanted = [t for t in self._types if t in data and t != self._method]
            if not wanted:
                offered = ", ".join(_TYPE_NAMES.get(t, f"EAP type {t}") for t in data) or "nothing"
                self._finish(False, identifier, information, f"the client supports none of the EAP methods this "
                             f"server allows (it offered {offered})")
                return
            self._start_method(wanted[0], now)
        elif eap_type == TYPE_MD5 and self._stage == "method" and self._method == TYPE_MD5:
            value, _name = _value_and_name(data)
            password = lookup_password(self._users, self._identity)
            ok = password is not None and secrets_equal(
                value, md5_response(identifier, password.encode("utf-8"), self._challenge)
            )
            self._finish(ok, identifier, information, self._wrong("EAP-MD5"))
        elif eap_type == TYPE_MSCHAPV2 and self._method == TYPE_MSCHAPV2:
            self._receive_mschapv2(identifier, information, data, now)
        else:
            self.discarded += 1

    def _start_method(self, eap_type: int, now: float) -> None:
        self._method = eap_type
        self._stage = "method"
        self.display = _TYPE_NAMES[eap_type]
        self._challenge = self._random(16)
        payload = bytes((16,)) + self._challenge + self._name
        if eap_type == TYPE_MD5:
            self._new_request(TYPE_MD5, payload, now)
        else:
            ms_id = (self._identifier + 1) & 0xFF
            self._new_request(TYPE_MSCHAPV2, build_ms(MS_CHALLENGE, ms_id, payload), now)

    def _receive_mschapv2(self, identifier: int, information: bytes, data: bytes, now: float) -> None:
        opcode, ms_id, payload = parse_ms(data)
        if opcode == MS_RESPONSE and self._stage == "method":
            value, raw_name = _value_and_name(payload)
            response = parse_v2_response(value)
            name = decode_name(raw_name)
            password = lookup_password(self._users, name)
            if password is not None:
                expected = generate_nt_response(self._challenge, response.peer_challenge, name, password)
                if secrets_equal(response.nt_response, expected):
                    self._identity = name
                    self.mppe_material = MppeMaterial(2, password, nt_response=response.nt_response)
                    auth = generate_authenticator_response(
                        password, response.nt_response, response.peer_challenge, self._challenge, name
                    )
                    self._stage = "ms-success"
                    message = success_message(auth).encode("latin-1")
                    self._new_request(TYPE_MSCHAPV2, build_ms(MS_SUCCESS, ms_id, message), now)
                    return
            self._identity = name
            self._stage = "ms-failure"
            message = v2_failure_message(self._challenge).encode("latin-1")
            self._new_request(TYPE_MSCHAPV2, build_ms(MS_FAILURE, ms_id, message), now)
        elif opcode == MS_SUCCESS and self._stage == "ms-success":
            self._finish(True, identifier, information, "")
        elif opcode == MS_FAILURE and self._stage == "ms-failure":
            self._finish(False, identifier, information, self._wrong("EAP-MSCHAPv2"))
        else:
            self.discarded += 1

    def _wrong(self, display: str) -> str:
        return f"the client's user name or password was wrong ({display}, user {self._identity!r})"

    def _finish(self, ok: bool, identifier: int, information: bytes, reason: str) -> None:
        self._stage = "done"
        self._final = build_eap(SUCCESS if ok else FAILURE, identifier)
        self._final_for = (identifier, information)
        self._send(PROTO_EAP, self._final)
        self.username = self._identity
        if ok:
            self._succeed()
        else:
            self.mppe_material = None
            self._fail(reason)
