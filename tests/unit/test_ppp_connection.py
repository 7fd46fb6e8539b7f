"""PPPConnection API behaviour that the pair tests do not pin down."""

from __future__ import annotations

import pytest

from tests.pairs.ppp_harness import client_config, ipv4_packet, make_pair, server_config
from wizard.engine.errors import LocalProtocolError
from wizard.engine.ppp import PPPConfig, PPPConnection
from wizard.engine.ppp.frame import (
    CONF_ACK,
    CONF_REQ,
    PROTO_CHAP,
    PROTO_IPV4,
    PROTO_LCP,
    PROTO_REJ,
    Option,
    build_cp_packet,
    build_frame,
    build_options,
    parse_cp_packet,
    parse_frame,
)
from wizard.engine.ppp.lcp import AUTH_OPTION_DATA, OPT_ACFC, OPT_AUTH, OPT_MAGIC, OPT_PFC


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"allowed_auth": ("kerberos",)}, "unknown authentication method"),
        ({"allowed_auth": ("pap", "pap")}, "twice"),
        ({"mppe": "maybe"}, "mppe must be"),
        ({"mppe_bits": (64,)}, "mppe_bits"),
        ({"mppe": "require", "allowed_auth": ("pap",)}, "MPPE is required"),
        ({"mru": 20}, "mru"),
        ({"dns_servers": ("not-an-address",)}, "not an IPv4 address"),
        ({"eap_methods": ("tls",)}, "unknown EAP method"),
    ],
)
def test_config_validation(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PPPConfig(**kwargs)  # type: ignore[arg-type]


def test_role_requirements() -> None:
    with pytest.raises(ValueError):
        PPPConnection("peer", PPPConfig())
    with pytest.raises(ValueError, match="user name"):
        PPPConnection("client", PPPConfig())
    with pytest.raises(ValueError, match="local_ipv4"):
        PPPConnection("server", PPPConfig())
    with pytest.raises(ValueError, match="address_pool"):
        PPPConnection("server", PPPConfig(local_ipv4="10.0.0.1"))


def test_api_misuse() -> None:
    conn = PPPConnection("client", client_config())
    with pytest.raises(LocalProtocolError):
        conn.close(0.0)
    conn.receive_frame(b"\xff\x03\xc0\x21", 0.0)  # before start: ignored, counted
    assert conn.stats.discarded == 1 and conn.get_timer() is None
    conn.start(0.0)
    with pytest.raises(LocalProtocolError):
        conn.start(0.0)
    conn.send_ip(ipv4_packet(1), 0.0)
    assert conn.stats.ip_dropped == 1


def test_first_frame_is_an_lcp_configure_request() -> None:
    conn = PPPConnection("client", client_config())
    conn.start(0.0)
    (frame,) = conn.frames_to_send()
    assert frame[:4] == b"\xff\x03\xc0\x21"
    assert parse_cp_packet(parse_frame(frame).information).code == CONF_REQ
    assert conn.get_timer() == 3.0


@pytest.mark.parametrize("junk", [b"", b"\xff", b"\xff\x03\xc0\x21\x01", b"\x00\x20abc", b"\xff\x03\xc0\x21\x01\x01\x00\x09"])
def test_malformed_frames_are_counted_not_raised(junk: bytes) -> None:
    conn = PPPConnection("client", client_config())
    conn.start(0.0)
    conn.receive_frame(junk, 0.1)
    assert conn.stats.malformed == 1


def _client_with_lcp_open(options: list[Option]) -> PPPConnection:
    """A client whose LCP the test opens by hand, playing a server that asks for CHAP-MD5."""
    conn = PPPConnection("client", client_config(allowed_auth=("chap-md5",)))
    conn.start(0.0)
    (request,) = conn.frames_to_send()
    ours = parse_cp_packet(parse_frame(request).information)
    conn.receive_frame(build_frame(PROTO_LCP, build_cp_packet(CONF_ACK, ours.identifier, ours.data)), 0.1)
    peer = build_cp_packet(CONF_REQ, 1, build_options(options))
    conn.receive_frame(build_frame(PROTO_LCP, peer), 0.2)
    return conn


def test_acfc_and_pfc_apply_to_non_lcp_frames_only() -> None:
    conn = _client_with_lcp_open(
        [
            Option(OPT_AUTH, AUTH_OPTION_DATA["chap-md5"]),
            Option(OPT_MAGIC, b"\x01\x02\x03\x04"),
            Option(OPT_PFC, b""),
            Option(OPT_ACFC, b""),
        ]
    )
    assert conn.lcp.is_opened
    (ack,) = conn.frames_to_send()
    assert ack[:4] == b"\xff\x03\xc0\x21"  # LCP keeps its full header
    challenge = build_cp_packet(1, 5, b"\x10" + bytes(16) + b"gw")
    conn.receive_frame(build_frame(PROTO_CHAP, challenge, acfc=True), 0.3)  # ACFC from the peer
    (response,) = conn.frames_to_send()
    assert response[:2] == b"\xc2\x23"  # no FF 03
    # While authenticating, anything but LCP and authentication is silently discarded.
    conn.receive_frame(build_frame(0x4021, b"hello"), 0.4)
    assert conn.frames_to_send() == [] and conn.stats.discarded == 1


def test_unknown_protocol_is_protocol_rejected_in_the_network_phase() -> None:
    pair = make_pair(client_config(), server_config())
    assert pair.run_until(pair.both_up)
    pair.client.receive_frame(build_frame(0x4021, b"hello"), pair.now)
    (reject,) = pair.client.frames_to_send()
    assert reject[:4] == b"\xff\x03\xc0\x21"
    packet = parse_cp_packet(parse_frame(reject).information)
    assert packet.code == PROTO_REJ and packet.data == b"\x40\x21hello"


def test_network_frames_before_the_link_opens_are_discarded() -> None:
    conn = PPPConnection("client", client_config())
    conn.start(0.0)
    conn.receive_frame(build_frame(PROTO_IPV4, ipv4_packet(1)), 0.1)
    assert conn.stats.discarded == 1 and conn.next_event() is not None  # only PhaseChanged
    assert conn.frames_to_send() != []  # the Configure-Request, but no Protocol-Reject
    assert conn.stats.protocol_rejects_sent == 0


def test_clear_text_ip_is_refused_when_mppe_is_on() -> None:
    pair = make_pair(client_config(mppe="require"), server_config(mppe="require"))
    assert pair.run_until(pair.both_up)
    pair.server.receive_frame(build_frame(PROTO_IPV4, ipv4_packet(1)), pair.now)
    assert pair.server.stats.unencrypted_dropped == 1
    pair.pump()
    assert pair.received("server") == []


def test_ip_is_never_sent_in_clear_while_ccp_renegotiates() -> None:
    pair = make_pair(client_config(mppe="allow"), server_config(mppe="allow"))
    assert pair.run_until(pair.both_up)
    pair.client.ccp.down(pair.now)  # as if the peer restarted CCP
    pair.client.ccp.up(pair.now)
    pair.client.handle_timer(pair.now)
    pair.client.frames_to_send()
    dropped = pair.client.stats.ip_dropped
    pair.client.send_ip(ipv4_packet(1), pair.now)
    assert pair.client.stats.ip_dropped == dropped + 1
    assert all(parse_frame(f).protocol != PROTO_IPV4 for f in pair.client.frames_to_send())


def test_finished_connection_ignores_everything() -> None:
    pair = make_pair(client_config(), server_config())
    assert pair.run_until(pair.both_up)
    pair.client.lower_layer_down(pair.now, "gone")
    assert pair.client.finished and pair.client.get_timer() is None
    pair.client.receive_frame(b"\xff\x03\xc0\x21\x09\x01\x00\x08\x00\x00\x00\x00", pair.now)
    pair.client.handle_timer(pair.now + 100)
    pair.client.close(pair.now)
    assert pair.client.frames_to_send() == []  # a finished link answers nothing
    events = []
    while (event := pair.client.next_event()) is not None:
        events.append(type(event).__name__)
    assert events.count("ConnectionFailed") == 1 and "ConnectionClosed" not in events
