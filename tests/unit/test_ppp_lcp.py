"""LCP options, authentication protocol choice, loopback detection and keepalive."""

from __future__ import annotations

import itertools

import pytest

from wizard.engine.errors import ParseError
from wizard.engine.ppp.frame import (
    CODE_REJ,
    CONF_ACK,
    CONF_NAK,
    CONF_REJ,
    CONF_REQ,
    ECHO_REPLY,
    ECHO_REQ,
    PROTO_IPV6CP,
    PROTO_REJ,
    CPPacket,
    Option,
    build_cp_packet,
    build_options,
    parse_cp_packet,
    parse_options,
)
from wizard.engine.ppp.fsm import State, Timers
from wizard.engine.ppp.lcp import (
    AUTH_OPTION_DATA,
    LCP,
    OPT_ACCM,
    OPT_ACFC,
    OPT_AUTH,
    OPT_MAGIC,
    OPT_MRU,
    OPT_PFC,
    auth_method_from_option,
    describe_auth_option,
)


def _counter_random() -> object:
    counter = itertools.count(1)
    return lambda n: next(counter).to_bytes(n, "big")


class Wire:
    """Holds what an LCP sent, as parsed packets."""

    def __init__(self) -> None:
        self.packets: list[CPPacket] = []

    def __call__(self, protocol: int, data: bytes) -> None:
        self.packets.append(parse_cp_packet(data))

    def take(self) -> list[CPPacket]:
        out, self.packets = self.packets, []
        return out


def _lcp(role: str = "client", allowed: tuple[str, ...] = ("mschapv2",), **kwargs: object) -> tuple[LCP, Wire]:
    wire = Wire()
    lcp = LCP(
        wire,
        Timers(),
        role=role,
        mru=kwargs.pop("mru", 1500),  # type: ignore[arg-type]
        allowed_auth=allowed,
        random_bytes=_counter_random(),  # type: ignore[arg-type]
        **kwargs,  # type: ignore[arg-type]
    )
    return lcp, wire


def _request(ident: int, *options: Option) -> bytes:
    return build_cp_packet(CONF_REQ, ident, build_options(options))


def _reply_to(lcp: LCP, wire: Wire, *options: Option) -> CPPacket:
    wire.take()
    lcp.receive(_request(40, *options), 0.5)
    return wire.take()[-1]


def _started(role: str = "client", **kwargs: object) -> tuple[LCP, Wire, CPPacket]:
    lcp, wire = _lcp(role, **kwargs)  # type: ignore[arg-type]
    lcp.open(0.0)
    lcp.up(0.0)
    (request,) = wire.take()
    return lcp, wire, request


def _opened(**kwargs: object) -> tuple[LCP, Wire]:
    lcp, wire, request = _started(**kwargs)  # type: ignore[arg-type]
    lcp.receive(build_cp_packet(CONF_ACK, request.identifier, request.data), 0.1)
    lcp.receive(_request(41, Option(OPT_MAGIC, b"\xaa\xbb\xcc\xdd")), 0.2)
    assert lcp.state is State.OPENED
    wire.take()
    return lcp, wire


def test_client_request_has_magic_and_mru_only_when_not_default() -> None:
    _, _, request = _started()
    assert [o.type for o in parse_options(request.data)] == [OPT_MAGIC]
    _, _, request = _started(mru=1400)
    assert parse_options(request.data)[0] == Option(OPT_MRU, (1400).to_bytes(2, "big"))


def test_server_request_includes_its_first_auth_method() -> None:
    _, _, request = _started("server", allowed=("eap", "pap"))
    assert Option(OPT_AUTH, AUTH_OPTION_DATA["eap"]) in parse_options(request.data)


def test_peer_options_accepted_and_recorded() -> None:
    lcp, wire, _ = _started()
    reply = _reply_to(
        lcp,
        wire,
        Option(OPT_MRU, (1400).to_bytes(2, "big")),
        Option(OPT_ACCM, bytes(4)),
        Option(OPT_MAGIC, b"\x11\x22\x33\x44"),
        Option(OPT_PFC, b""),
        Option(OPT_ACFC, b""),
        Option(OPT_AUTH, AUTH_OPTION_DATA["mschapv2"]),
    )
    assert reply.code == CONF_ACK
    assert (lcp.peer_mru, lcp.peer_magic, lcp.peer_pfc, lcp.peer_acfc) == (1400, 0x11223344, True, True)
    assert lcp.auth_method == "mschapv2"


@pytest.mark.parametrize(
    "option",
    [Option(4, b"\xc0\x25"), Option(13, b"\x06"), Option(17, b"\x05\xdc"), Option(19, b"\x00"), Option(7, b"x")],
)
def test_unsupported_options_are_rejected(option: Option) -> None:
    lcp, wire, _ = _started()
    reply = _reply_to(lcp, wire, Option(OPT_MAGIC, b"\x01\x01\x01\x01"), option)
    assert reply.code == CONF_REJ and parse_options(reply.data) == [option]


def test_tiny_mru_is_naked() -> None:
    lcp, wire, _ = _started()
    reply = _reply_to(lcp, wire, Option(OPT_MRU, (64).to_bytes(2, "big")))
    assert reply.code == CONF_NAK and parse_options(reply.data) == [Option(OPT_MRU, (128).to_bytes(2, "big"))]


def test_client_naks_a_disallowed_auth_method_and_explains() -> None:
    lcp, wire, _ = _started(allowed=("mschapv2", "chap-md5"))
    reply = _reply_to(lcp, wire, Option(OPT_AUTH, AUTH_OPTION_DATA["pap"]))
    assert reply.code == CONF_NAK
    assert parse_options(reply.data) == [Option(OPT_AUTH, AUTH_OPTION_DATA["mschapv2"])]
    assert lcp.auth_mismatch is not None
    assert lcp.auth_mismatch.startswith("the server asked for PAP but this profile only allows MS-CHAPv2 or CHAP-MD5")


def test_server_rejects_being_asked_to_authenticate() -> None:
    lcp, wire, _ = _started("server", allowed=("pap",))
    reply = _reply_to(lcp, wire, Option(OPT_AUTH, AUTH_OPTION_DATA["pap"]))
    assert reply.code == CONF_REJ


def test_server_follows_the_clients_suggestion_then_its_own_list() -> None:
    lcp, wire, request = _started("server", allowed=("mschapv2", "chap-md5", "pap"))
    nak = build_options([Option(OPT_AUTH, AUTH_OPTION_DATA["pap"])])
    lcp.receive(build_cp_packet(CONF_NAK, request.identifier, nak), 0.1)
    (request,) = wire.take()
    assert Option(OPT_AUTH, AUTH_OPTION_DATA["pap"]) in parse_options(request.data)
    # The client now suggests something we do not allow: we try our next untried method.
    nak = build_options([Option(OPT_AUTH, AUTH_OPTION_DATA["eap"])])
    lcp.receive(build_cp_packet(CONF_NAK, request.identifier, nak), 0.2)
    (request,) = wire.take()
    assert Option(OPT_AUTH, AUTH_OPTION_DATA["chap-md5"]) in parse_options(request.data)
    lcp.receive(build_cp_packet(CONF_NAK, request.identifier, nak), 0.3)
    assert lcp.fatal is not None and "asked for EAP" in lcp.fatal
    lcp.receive(build_cp_packet(CONF_ACK, 99, b""), 0.4)  # nothing outstanding matches


def test_server_fails_when_the_client_rejects_authentication() -> None:
    lcp, _, request = _started("server", allowed=("pap",))
    rejected = [o for o in parse_options(request.data) if o.type == OPT_AUTH]
    lcp.receive(build_cp_packet(CONF_REJ, request.identifier, build_options(rejected)), 0.1)
    assert lcp.fatal == "the client refused to authenticate"


def test_magic_collision_is_naked_and_ours_changes() -> None:
    lcp, wire, request = _started()
    ours = next(o for o in parse_options(request.data) if o.type == OPT_MAGIC)
    reply = _reply_to(lcp, wire, ours)
    assert reply.code == CONF_NAK
    (suggested,) = parse_options(reply.data)
    assert suggested.type == OPT_MAGIC and suggested != ours
    assert lcp.magic != int.from_bytes(ours.data, "big") and lcp.loopbacks == 1


def test_persistent_loopback_is_fatal() -> None:
    lcp, _wire, _ = _started()
    for ident in range(10):
        lcp.receive(_request(ident, Option(OPT_MAGIC, lcp.magic.to_bytes(4, "big"))), 0.1 * ident)
    assert lcp.fatal is not None and "looped back" in lcp.fatal


def test_zero_magic_is_naked() -> None:
    lcp, wire, _ = _started()
    assert _reply_to(lcp, wire, Option(OPT_MAGIC, bytes(4))).code == CONF_NAK


def test_echo_request_is_answered_with_our_magic() -> None:
    lcp, wire = _opened()
    lcp.receive(build_cp_packet(ECHO_REQ, 5, b"\xaa\xbb\xcc\xdd" + b"payload"), 1.0)
    (reply,) = wire.take()
    assert reply == CPPacket(ECHO_REPLY, 5, lcp.magic.to_bytes(4, "big") + b"payload")


def test_echo_request_carrying_our_own_magic_is_a_loopback() -> None:
    lcp, wire = _opened()
    lcp.receive(build_cp_packet(ECHO_REQ, 5, lcp.magic.to_bytes(4, "big")), 1.0)
    assert wire.take() == [] and lcp.loopbacks == 1


def test_echo_without_magic_is_malformed() -> None:
    lcp, _ = _opened()
    with pytest.raises(ParseError):
        lcp.receive(build_cp_packet(ECHO_REQ, 5, b"\x01"), 1.0)


def test_keepalive_counts_missed_replies() -> None:
    lcp, wire = _opened(echo_interval=10.0, echo_failures=2)
    lcp.start_keepalive(0.0)
    assert lcp.get_timer() == 10.0
    lcp.handle_timer(10.0)
    (echo,) = wire.take()
    assert echo.code == ECHO_REQ and echo.data == lcp.magic.to_bytes(4, "big")
    lcp.receive(build_cp_packet(ECHO_REPLY, echo.identifier, b"\xaa\xbb\xcc\xdd"), 10.5)
    assert lcp.echo_pending == 0 and lcp.echo_replies == 1
    lcp.handle_timer(20.0)
    lcp.handle_timer(30.0)
    assert lcp.echo_timed_out == 0 and lcp.echo_pending == 2
    lcp.handle_timer(40.0)
    assert lcp.echo_timed_out == 2 and lcp.get_timer() is None


def test_code_reject_of_echo_stops_keepalive() -> None:
    lcp, wire = _opened(echo_interval=10.0, echo_failures=2)
    lcp.start_keepalive(0.0)
    lcp.handle_timer(10.0)
    (echo,) = wire.take()
    lcp.receive(build_cp_packet(CODE_REJ, 1, build_cp_packet(ECHO_REQ, echo.identifier, echo.data)), 10.1)
    assert lcp.state is State.OPENED and lcp.get_timer() is None


def test_protocol_reject_is_passed_on() -> None:
    rejected: list[int] = []
    lcp, _ = _opened(on_protocol_reject=lambda proto, now: rejected.append(proto))
    lcp.receive(build_cp_packet(PROTO_REJ, 3, PROTO_IPV6CP.to_bytes(2, "big") + b"\x01\x01\x00\x04"), 1.0)
    assert rejected == [PROTO_IPV6CP] and lcp.state is State.OPENED


def test_protocol_reject_of_lcp_itself_closes() -> None:
    lcp, _ = _opened()
    lcp.receive(build_cp_packet(PROTO_REJ, 3, b"\xc0\x21"), 1.0)
    assert lcp.state is State.STOPPING


def test_send_protocol_reject_truncates_to_peer_mru() -> None:
    lcp, wire = _opened()
    lcp.peer_mru = 200
    lcp.send_protocol_reject(0x0031, bytes(1000))
    (reject,) = wire.take()
    assert reject.code == PROTO_REJ and reject.data[:2] == b"\x00\x31" and len(reject.data) <= 200


def test_auth_option_names() -> None:
    assert auth_method_from_option(AUTH_OPTION_DATA["mschap"]) == "mschap"
    assert auth_method_from_option(b"\xc2\x23\x06") is None
    assert describe_auth_option(b"\xc2\x23\x06") == "CHAP with algorithm 6"
    assert describe_auth_option(b"\xc0\x27") == "authentication protocol 0xc027"
