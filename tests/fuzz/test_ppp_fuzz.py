"""Malformed PPP input: parsers raise only ParseError; PPPConnection.receive_frame never raises."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.pairs.ppp_harness import client_config, make_pair, server_config
from wizard.engine.errors import ParseError
from wizard.engine.ppp import PPPConnection
from wizard.engine.ppp.auth.chap import parse_value
from wizard.engine.ppp.auth.eap import parse_eap, parse_ms
from wizard.engine.ppp.auth.msmessages import parse_failure, parse_v1_response, parse_v2_response
from wizard.engine.ppp.auth.pap import parse_message, parse_request
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
    build_cp_packet,
    build_frame,
    parse_cp_packet,
    parse_frame,
    parse_options,
)

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

PARSERS: list[Callable[[bytes], object]] = [
    parse_frame,
    parse_cp_packet,
    parse_options,
    parse_value,
    parse_eap,
    parse_ms,
    parse_request,
    parse_message,
    parse_v1_response,
    parse_v2_response,
]


@FUZZ
@given(data=st.binary(max_size=80), index=st.integers(0, len(PARSERS) - 1))
def test_parsers_raise_only_parse_error(data: bytes, index: int) -> None:
    with contextlib.suppress(ParseError):
        PARSERS[index](data)


@FUZZ
@given(text=st.text(max_size=60))
def test_ms_failure_parser_never_raises(text: str) -> None:
    parse_failure(text)


# Frames that get past the outer codec and into the protocol handlers: a real protocol number,
# and for control protocols a packet whose header is often consistent.
PROTOCOLS = [PROTO_LCP, PROTO_PAP, PROTO_CHAP, PROTO_EAP, PROTO_IPCP, PROTO_IPV6CP, PROTO_CCP, PROTO_COMP,
             PROTO_IPV4, PROTO_IPV6, 0x4021]


@st.composite
def control_packets(draw: st.DrawFn) -> bytes:
    code = draw(st.integers(0, 16))
    ident = draw(st.integers(0, 255))
    body = draw(
        st.one_of(
            st.binary(max_size=40),
            st.lists(
                st.tuples(st.integers(0, 255), st.binary(max_size=8)).map(
                    lambda t: bytes((t[0], len(t[1]) + 2)) + t[1]
                ),
                max_size=5,
            ).map(b"".join),
        )
    )
    packet = build_cp_packet(code, ident, body)
    if draw(st.booleans()):  # sometimes lie about the length
        packet = packet[:2] + draw(st.binary(min_size=2, max_size=2)) + packet[4:]
    return packet


frames = st.one_of(
    st.binary(max_size=60),
    st.builds(
        lambda proto, info, acfc: build_frame(proto, info, acfc=acfc),
        st.sampled_from(PROTOCOLS),
        st.one_of(control_packets(), st.binary(max_size=60)),
        st.booleans(),
    ),
)


@FUZZ
@given(role=st.sampled_from(["client", "server"]), inputs=st.lists(frames, max_size=10))
def test_fresh_connection_survives_anything(role: str, inputs: list[bytes]) -> None:
    config = client_config() if role == "client" else server_config()
    conn = PPPConnection(role, config)
    conn.start(0.0)
    for step, frame in enumerate(inputs):
        conn.receive_frame(frame, 0.01 * step)
        conn.handle_timer(0.01 * step)
    conn.frames_to_send()
    while conn.next_event() is not None:
        pass


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    method=st.sampled_from(["pap", "chap-md5", "mschap", "mschapv2", "eap"]),
    stateful=st.booleans(),
    inputs=st.lists(frames, max_size=8),
    target=st.sampled_from(["client", "server"]),
)
def test_established_connection_survives_anything(
    method: str, stateful: bool, inputs: list[bytes], target: str
) -> None:
    mppe = "allow" if method in ("pap", "chap-md5") else "require"
    options = {"allowed_auth": (method,), "mppe": mppe, "allow_stateful": stateful, "want_ipv6": True}
    pair = make_pair(client_config(**options), server_config(**options))
    assert pair.run_until(pair.both_up, 10.0)
    conn = pair.client if target == "client" else pair.server
    for frame in inputs:
        conn.receive_frame(frame, pair.now)
    pair.advance(5.0)  # both sides react to whatever that did, still without raising
