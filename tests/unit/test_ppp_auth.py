"""PAP, CHAP (MD5, MS-CHAPv1, MS-CHAPv2) and EAP state machines, one side at a time."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest

from wizard.engine.errors import ParseError
from wizard.engine.ppp.auth.chap import (
    CHALLENGE,
    FAILURE,
    IMPOSTOR,
    RESPONSE,
    SUCCESS,
    ChapClient,
    ChapServer,
    parse_value,
)
from wizard.engine.ppp.auth.eap import (
    FAILURE as EAP_FAILURE,
)
from wizard.engine.ppp.auth.eap import (
    MS_CHALLENGE,
    MS_FAILURE,
    REQUEST,
    TYPE_IDENTITY,
    TYPE_MD5,
    TYPE_MSCHAPV2,
    TYPE_NAK,
    TYPE_NOTIFICATION,
    EapClient,
    EapServer,
    build_eap,
    build_ms,
    parse_eap,
)
from wizard.engine.ppp.auth.msmessages import failure_reason, parse_failure
from wizard.engine.ppp.auth.pap import AUTH_ACK, AUTH_NAK, PapClient, PapServer, build_request, parse_request
from wizard.engine.ppp.frame import CPPacket, build_cp_packet, parse_cp_packet
from wizard.engine.ppp.fsm import Timers

USERS = {"alice": "secret"}


class Out:
    def __init__(self) -> None:
        self.raw: list[bytes] = []

    def __call__(self, protocol: int, data: bytes) -> None:
        self.raw.append(data)

    def packets(self) -> list[CPPacket]:
        out = [parse_cp_packet(d) for d in self.raw]
        self.raw = []
        return out


def _random(seed: int = 1) -> Callable[[int], bytes]:
    state = [seed]

    def take(n: int) -> bytes:
        state[0] += 1
        return hashlib.sha256(state[0].to_bytes(4, "big")).digest()[:n]

    return take


# ------------------------------------------------------------------------------------------- PAP


def test_pap_request_encoding() -> None:
    packet = parse_cp_packet(build_request(3, b"alice", b"secret"))
    assert packet == CPPacket(1, 3, b"\x05alice\x06secret")
    assert parse_request(packet.data) == (b"alice", b"secret")
    with pytest.raises(ParseError):
        parse_request(b"\x05ali")


def test_pap_client_retransmits_then_gives_up() -> None:
    out = Out()
    client = PapClient(out, Timers(restart=1.0, max_configure=3), "alice", "secret")
    client.start(0.0)
    for now in (1.0, 2.0, 3.0):
        client.handle_timer(now)
    sent = out.packets()
    assert len(sent) == 3 and len({p.identifier for p in sent}) == 3  # RFC 1334: new id each time
    assert client.done and not client.succeeded and client.failure == "the server did not answer the PAP login"


def test_pap_client_accepts_ack_for_any_of_its_requests() -> None:
    out = Out()
    client = PapClient(out, Timers(restart=1.0), "alice", "secret")
    client.start(0.0)
    client.handle_timer(1.0)
    first, _ = out.packets()
    client.receive(build_cp_packet(AUTH_ACK, first.identifier, b"\x02ok"), 1.1)
    assert client.succeeded and client.get_timer() is None


def test_pap_client_nak_reason() -> None:
    client = PapClient(Out(), Timers(), "alice", "bad")
    client.start(0.0)
    client.receive(build_cp_packet(AUTH_NAK, 1, b"\x0bbad account"), 0.1)
    assert client.failure == "the server rejected the user name or password (PAP: bad account)"


def test_pap_server_answers_duplicates_consistently() -> None:
    out = Out()
    server = PapServer(out, Timers(), USERS)
    server.start(0.0)
    server.receive(build_request(1, b"alice", b"secret"), 0.1)
    server.receive(build_request(2, b"alice", b"secret"), 0.2)  # our Ack was lost
    assert [p.code for p in out.packets()] == [AUTH_ACK, AUTH_ACK]
    assert server.succeeded and server.username == "alice"


def test_pap_server_rejects_wrong_password_and_times_out() -> None:
    out = Out()
    server = PapServer(out, Timers(), USERS)
    server.start(0.0)
    server.receive(build_request(1, b"alice", b"nope"), 0.1)
    assert [p.code for p in out.packets()] == [AUTH_NAK]
    assert server.failure == "the client's user name or password was wrong (PAP, user 'alice')"
    idle = PapServer(Out(), Timers(), USERS)
    idle.start(0.0)
    idle.handle_timer(30.0)
    assert idle.failure == "the client did not send its PAP login in time"


# ------------------------------------------------------------------------------------------- CHAP


def _challenge(ident: int, value: bytes) -> bytes:
    return build_cp_packet(CHALLENGE, ident, bytes([len(value)]) + value + b"gw")


@pytest.mark.parametrize("algorithm", ["chap-md5", "mschap", "mschapv2"])
def test_chap_client_and_server_agree(algorithm: str) -> None:
    c_out, s_out = Out(), Out()
    server = ChapServer(s_out, Timers(), algorithm, USERS, "gw", _random(1))
    client = ChapClient(c_out, Timers(), algorithm, "alice", "secret", _random(2))
    server.start(0.0)
    client.start(0.0)
    for raw in s_out.raw:
        client.receive(raw, 0.1)
    for raw in c_out.raw:
        server.receive(raw, 0.2)
    verdict = s_out.raw[-1]
    client.receive(verdict, 0.3)
    assert server.succeeded and client.succeeded
    assert (client.mppe_material is None) == (algorithm == "chap-md5")
    if client.mppe_material is not None and server.mppe_material is not None:
        c_send, c_recv = client.mppe_material.keys(is_server=False, bits=128)
        s_send, s_recv = server.mppe_material.keys(is_server=True, bits=128)
        assert (c_send, c_recv) == (s_recv, s_send)


def test_chap_md5_response_value() -> None:
    out = Out()
    client = ChapClient(out, Timers(), "chap-md5", "alice", "secret", _random())
    client.start(0.0)
    client.receive(_challenge(9, b"0123456789abcdef"), 0.0)
    (response,) = out.packets()
    assert response.code == RESPONSE
    assert parse_value(response.data) == (hashlib.md5(b"\x09secret0123456789abcdef").digest(), b"alice")


def test_chap_client_repeats_its_response_for_a_repeated_challenge() -> None:
    out = Out()
    client = ChapClient(out, Timers(), "mschapv2", "alice", "secret", _random())
    client.start(0.0)
    client.receive(_challenge(9, bytes(16)), 0.0)
    client.receive(_challenge(9, bytes(16)), 0.5)
    client.handle_timer(3.0)  # no verdict yet: retransmit
    first, second, third = out.packets()
    assert first == second == third


def test_chap_client_ignores_verdict_for_another_identifier() -> None:
    client = ChapClient(Out(), Timers(), "chap-md5", "alice", "secret", _random())
    client.start(0.0)
    client.receive(_challenge(9, bytes(16)), 0.0)
    client.receive(build_cp_packet(SUCCESS, 8, b""), 0.1)
    assert not client.done and client.discarded == 1


def test_mschapv2_client_detects_an_impostor() -> None:
    client = ChapClient(Out(), Timers(), "mschapv2", "alice", "secret", _random())
    client.start(0.0)
    client.receive(_challenge(9, bytes(16)), 0.0)
    client.receive(build_cp_packet(SUCCESS, 9, b"S=" + b"0" * 40 + b" M=hello"), 0.1)
    assert client.done and not client.succeeded and client.failure == IMPOSTOR
    assert "possible impostor" in IMPOSTOR
    bare = ChapClient(Out(), Timers(), "mschapv2", "alice", "secret", _random())
    bare.start(0.0)
    bare.receive(_challenge(9, bytes(16)), 0.0)
    bare.receive(build_cp_packet(SUCCESS, 9, b""), 0.1)  # no authenticator response at all
    assert bare.failure == IMPOSTOR


def test_chap_challenge_length_is_checked() -> None:
    client = ChapClient(Out(), Timers(), "mschapv2", "alice", "secret", _random())
    client.start(0.0)
    with pytest.raises(ParseError):
        client.receive(_challenge(1, bytes(8)), 0.0)


def test_chap_client_times_out_without_a_challenge() -> None:
    client = ChapClient(Out(), Timers(restart=1.0, max_configure=5), "chap-md5", "alice", "secret", _random())
    client.start(0.0)
    client.handle_timer(5.0)
    assert client.failure == "the server did not send its CHAP-MD5 challenge"


def test_chap_server_resends_its_verdict_for_a_repeated_response() -> None:
    c_out, s_out = Out(), Out()
    server = ChapServer(s_out, Timers(), "mschapv2", USERS, "gw", _random(1))
    client = ChapClient(c_out, Timers(), "mschapv2", "alice", "wrong", _random(2))
    server.start(0.0)
    client.start(0.0)
    client.receive(s_out.raw[0], 0.0)
    server.receive(c_out.raw[0], 0.1)
    server.receive(c_out.raw[0], 0.2)
    _challenge_packet, failure, again = s_out.packets()
    assert failure == again and failure.code == FAILURE
    assert failure.data.startswith(b"E=691 R=0 C=") and b" V=3 M=" in failure.data
    client.receive(build_cp_packet(failure.code, failure.identifier, failure.data), 0.3)
    assert client.failure == "the server rejected the user name or password (MS-CHAPv2 E=691)"


def test_chap_server_gives_up_after_max_configure() -> None:
    out = Out()
    server = ChapServer(out, Timers(restart=1.0, max_configure=3), "chap-md5", USERS, "gw", _random())
    server.start(0.0)
    for now in (1.0, 2.0, 3.0):
        server.handle_timer(now)
    assert len(out.packets()) == 3
    assert server.failure == "the client did not answer the CHAP-MD5 challenge"


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("E=691 R=0 C=00 V=3 M=bad", "the server rejected the user name or password (MS-CHAPv2 E=691)"),
        ("E=648 R=0 V=3", "the server refused the login: the password has expired; change it and try again (E=648)"),
        ("E=649 R=0", "the server refused the login: the account has no permission to dial in (E=649)"),
        ("E=1234", "the server refused the login (MS-CHAPv2 E=1234)"),
        ("garbage", "the server rejected the user name or password (MS-CHAPv2)"),
    ],
)
def test_ms_failure_messages(message: str, expected: str) -> None:
    assert failure_reason(parse_failure(message), "MS-CHAPv2") == expected


def test_ms_failure_message_fields() -> None:
    failure = parse_failure("E=691 R=1 C=0011 V=3 M=Wrong password, try again")
    assert (failure.error, failure.retry, failure.message) == (691, True, "Wrong password, try again")


# ------------------------------------------------------------------------------------------- EAP


def _eap_pair(client_methods: tuple[str, ...], server_methods: tuple[str, ...], password: str = "secret") -> tuple[
    EapClient, EapServer, int
]:
    c_out, s_out = Out(), Out()
    client = EapClient(c_out, Timers(), "alice", password, client_methods, _random(3))
    server = EapServer(s_out, Timers(), USERS, server_methods, "gw", _random(4))
    client.start(0.0)
    server.start(0.0)
    exchanged = 0
    for _ in range(10):
        moved = bool(c_out.raw or s_out.raw)
        for raw in s_out.raw:
            client.receive(raw, 0.0)
        s_out.raw = []
        for raw in c_out.raw:
            server.receive(raw, 0.0)
        c_out.raw = []
        exchanged += moved
    return client, server, exchanged


@pytest.mark.parametrize("method", ["md5", "mschapv2"])
def test_eap_methods_succeed(method: str) -> None:
    client, server, _ = _eap_pair((method,), (method,))
    assert client.succeeded and server.succeeded and server.username == "alice"
    assert client.display == server.display == {"md5": "EAP-MD5", "mschapv2": "EAP-MSCHAPv2"}[method]


def test_eap_server_switches_method_after_a_nak() -> None:
    client, server, _ = _eap_pair(("md5",), ("mschapv2", "md5"))
    assert client.succeeded and server.display == "EAP-MD5"


def test_eap_no_common_inner_method() -> None:
    client, server, _ = _eap_pair(("md5",), ("mschapv2",))
    assert server.failure is not None and "none of the EAP methods" in server.failure
    assert client.failure == "the server rejected the user name or password (EAP)"


@pytest.mark.parametrize("method", ["md5", "mschapv2"])
def test_eap_wrong_password(method: str) -> None:
    client, server, _ = _eap_pair((method,), (method,), password="wrong")
    assert not server.succeeded and "'alice'" in (server.failure or "")
    expected = "E=691" if method == "mschapv2" else "(EAP-MD5)"
    assert expected in (client.failure or "")


def test_eap_client_answers_identity_notification_and_unknown_types() -> None:
    out = Out()
    client = EapClient(out, Timers(), "alice", "secret", ("mschapv2", "md5"), _random())
    client.start(0.0)
    client.receive(build_eap(REQUEST, 1, TYPE_IDENTITY), 0.0)
    client.receive(build_eap(REQUEST, 1, TYPE_IDENTITY), 0.1)  # retransmitted: same answer
    client.receive(build_eap(REQUEST, 2, TYPE_NOTIFICATION, b"hello"), 0.2)
    client.receive(build_eap(REQUEST, 3, 13, b"\x20"), 0.3)  # EAP-TLS: Nak with our types
    identity, again, notification, nak = (parse_eap(raw) for raw in out.raw)
    assert identity == again == (2, 1, TYPE_IDENTITY, b"alice")
    assert notification == (2, 2, TYPE_NOTIFICATION, b"")
    assert nak == (2, 3, TYPE_NAK, bytes([TYPE_MSCHAPV2, TYPE_MD5]))


def test_eap_success_before_mutual_authentication_is_refused() -> None:
    client = EapClient(Out(), Timers(), "alice", "secret", ("mschapv2",), _random())
    client.start(0.0)
    challenge = build_ms(MS_CHALLENGE, 1, bytes([16]) + bytes(16) + b"gw")
    client.receive(build_eap(REQUEST, 1, TYPE_MSCHAPV2, challenge), 0.0)
    client.receive(build_eap(3, 1), 0.1)
    assert client.failure == IMPOSTOR


def test_eap_implicit_success_only_after_the_method_finished() -> None:
    client = EapClient(Out(), Timers(), "alice", "secret", ("md5",), _random())
    client.start(0.0)
    assert not client.implicit_success()
    client.receive(build_eap(REQUEST, 1, TYPE_MD5, bytes([16]) + bytes(16)), 0.0)
    assert client.implicit_success() and client.succeeded


def test_eap_mschapv2_failure_request() -> None:
    out = Out()
    client = EapClient(out, Timers(), "alice", "secret", ("mschapv2",), _random())
    client.start(0.0)
    challenge = build_ms(MS_CHALLENGE, 1, bytes([16]) + bytes(16) + b"gw")
    client.receive(build_eap(REQUEST, 1, TYPE_MSCHAPV2, challenge), 0.0)
    client.receive(build_eap(REQUEST, 2, TYPE_MSCHAPV2, build_ms(MS_FAILURE, 1, b"E=647 R=0 V=3")), 0.1)
    assert parse_eap(out.raw[-1]) == (2, 2, TYPE_MSCHAPV2, bytes([MS_FAILURE]))
    assert client.failure == "the server refused the login: the account is disabled (E=647)"


@pytest.mark.parametrize(
    "raw",
    [b"", b"\x01\x01\x00", b"\x01\x01\x00\x04", b"\x07\x01\x00\x04", b"\x01\x01\x00\x09\x01", b"\x01\x01\x00\x03"],
)
def test_eap_parser_rejects_malformed(raw: bytes) -> None:
    with pytest.raises(ParseError):
        parse_eap(raw)


def test_eap_failure_code_ends_the_client() -> None:
    client = EapClient(Out(), Timers(), "alice", "secret", ("md5",), _random())
    client.start(0.0)
    client.receive(build_eap(EAP_FAILURE, 4), 0.0)
    assert client.done and not client.succeeded
