"""Our PPP client against our PPP server, in memory, over lossy, duplicating and reordering links."""

from __future__ import annotations

import pytest

from tests.pairs.netsim import Impairment
from tests.pairs.ppp_harness import (
    LOSSY,
    Pair,
    client_config,
    ipv4_packet,
    ipv6_packet,
    make_pair,
    network_up,
    server_config,
    terminal,
)
from wizard.engine.ppp import (
    AddressPool,
    Authenticated,
    ConnectionClosed,
    ConnectionFailed,
    EchoTimeout,
    IPv6Up,
    LinkUp,
    Phase,
    PhaseChanged,
)
from wizard.engine.ppp.frame import PROTO_CHAP, PROTO_IPV6CP, build_frame, parse_frame

SEEDS = range(6)
METHODS = [
    ("pap", ("mschapv2",), "PAP"),
    ("chap-md5", ("mschapv2",), "CHAP-MD5"),
    ("mschap", ("mschapv2",), "MS-CHAP"),
    ("mschapv2", ("mschapv2",), "MS-CHAPv2"),
    ("eap", ("md5",), "EAP-MD5"),
    ("eap", ("mschapv2",), "EAP-MSCHAPv2"),
]


def _connect(pair: Pair, limit: float = 300.0) -> None:
    assert pair.run_until(pair.both_up, limit), (pair.client_events, pair.server_events)


def _end(pair: Pair, limit: float = 300.0) -> tuple[str, str]:
    assert pair.run_until(pair.both_ended, limit), (pair.client_events, pair.server_events)
    (client_end,) = terminal(pair.client_events)
    (server_end,) = terminal(pair.server_events)
    return client_end.reason, server_end.reason


# ---------------------------------------------------------------------------------------------- success


def test_lcp_and_ipcp_without_authentication() -> None:
    pair = make_pair(client_config(allow_no_auth=True, mppe="refuse"), server_config(allowed_auth=()))
    _connect(pair)
    link = [e for e in pair.client_events if isinstance(e, LinkUp)]
    assert link == [LinkUp(mru=1500, peer_mru=1500, auth_method=None)]
    up = network_up(pair.client_events)
    assert (up.local_ipv4, up.peer_ipv4, up.auth_method, up.mppe) == ("10.7.0.2", "10.7.0.1", None, None)


def test_client_refuses_a_server_that_skips_authentication() -> None:
    pair = make_pair(client_config(), server_config(allowed_auth=()))
    client_reason, _ = _end(pair)
    assert "did not ask us to authenticate" in client_reason


def test_phases_are_reported_in_order() -> None:
    pair = make_pair(client_config(), server_config())
    _connect(pair)
    phases = [e.phase for e in pair.client_events if isinstance(e, PhaseChanged)]
    assert phases == [Phase.ESTABLISH, Phase.AUTHENTICATE, Phase.NETWORK]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("method", "eap_methods", "display"), METHODS)
def test_each_auth_method_converges_under_impairment(
    method: str, eap_methods: tuple[str, ...], display: str, seed: int
) -> None:
    pair = make_pair(
        client_config(allowed_auth=(method,), eap_methods=eap_methods),
        server_config(allowed_auth=(method,), eap_methods=eap_methods),
        LOSSY,
        seed,
    )
    _connect(pair)
    assert [e for e in pair.client_events if isinstance(e, Authenticated)] == [Authenticated(display, "alice")]
    assert [e for e in pair.server_events if isinstance(e, Authenticated)] == [Authenticated(display, "alice")]
    client_up, server_up = network_up(pair.client_events), network_up(pair.server_events)
    assert (client_up.local_ipv4, client_up.peer_ipv4) == ("10.7.0.2", "10.7.0.1")
    assert (server_up.local_ipv4, server_up.peer_ipv4) == ("10.7.0.1", "10.7.0.2")
    assert client_up.dns == ("10.7.0.53", "10.7.0.54")
    assert client_up.auth_method == display


@pytest.mark.parametrize(("method", "eap_methods", "display"), METHODS)
def test_each_auth_method_converges_on_a_clean_link(method: str, eap_methods: tuple[str, ...], display: str) -> None:
    pair = make_pair(
        client_config(allowed_auth=(method,), eap_methods=eap_methods),
        server_config(allowed_auth=(method,), eap_methods=eap_methods),
    )
    _connect(pair, limit=1.0)  # no retransmission needed: well under one restart interval


def test_server_falls_back_to_the_clients_choice() -> None:
    pair = make_pair(
        client_config(allowed_auth=("chap-md5",)),
        server_config(allowed_auth=("mschapv2", "eap", "chap-md5", "pap")),
    )
    _connect(pair)
    assert network_up(pair.server_events).auth_method == "CHAP-MD5"


def test_eap_peer_naks_to_its_inner_method() -> None:
    pair = make_pair(
        client_config(allowed_auth=("eap",), eap_methods=("md5",)),
        server_config(allowed_auth=("eap",), eap_methods=("mschapv2", "md5")),
    )
    _connect(pair)
    assert network_up(pair.client_events).auth_method == "EAP-MD5"


def test_domain_user_name_with_mschapv2() -> None:
    pair = make_pair(
        client_config(username="DOMAIN\\bob", password="battery staple", mppe="require"),
        server_config(mppe="require"),
    )
    _connect(pair)
    assert [e for e in pair.server_events if isinstance(e, Authenticated)] == [
        Authenticated("MS-CHAPv2", "DOMAIN\\bob")
    ]


@pytest.mark.parametrize("seed", SEEDS)
def test_ipv6cp_agrees_on_interface_identifiers(seed: int) -> None:
    pair = make_pair(client_config(want_ipv6=True), server_config(want_ipv6=True), LOSSY, seed)
    assert pair.run_until(lambda: pair.both_up() and pair.client.ipv6cp.is_opened and pair.server.ipv6cp.is_opened)
    client_iid, server_iid = pair.client.ipv6cp.local_iid, pair.server.ipv6cp.local_iid
    assert client_iid is not None and server_iid is not None
    assert client_iid != server_iid and bytes(8) not in (client_iid, server_iid)
    assert pair.client.ipv6cp.peer_iid == server_iid and pair.server.ipv6cp.peer_iid == client_iid


def test_ipv6_packets_flow() -> None:
    pair = make_pair(client_config(want_ipv6=True), server_config(want_ipv6=True))
    _connect(pair)
    up = network_up(pair.client_events)
    assert up.local_ipv6_iid is not None and up.peer_ipv6_iid is not None
    pair.client.send_ip(ipv6_packet(1), pair.now)
    pair.server.send_ip(ipv4_packet(2), pair.now)
    pair.advance(0.1)
    assert pair.received("server") == [ipv6_packet(1)]
    assert pair.received("client") == [ipv4_packet(2)]


def test_ipv6_refused_by_peer_leaves_ipv4_up() -> None:
    pair = make_pair(client_config(want_ipv6=True), server_config(want_ipv6=False))
    _connect(pair)
    up = network_up(pair.client_events)
    assert up.local_ipv6_iid is None and up.peer_ipv6_iid is None
    assert pair.server.stats.protocol_rejects_sent >= 1
    before = pair.client.stats.ip_dropped
    pair.client.send_ip(ipv6_packet(1), pair.now)
    assert pair.client.stats.ip_dropped == before + 1


def test_ipv6cp_that_never_answers_delays_network_up_by_one_restart_interval() -> None:
    blocking = [True]

    def drop_ipv6cp(frame: bytes) -> bytes | None:
        return None if blocking[0] and parse_frame(frame).protocol == PROTO_IPV6CP else frame

    pair = make_pair(client_config(want_ipv6=True), server_config(want_ipv6=True))
    pair.tamper_c2s = pair.tamper_s2c = drop_ipv6cp
    _connect(pair, limit=10.0)
    up = network_up(pair.client_events)
    assert up.local_ipv6_iid is None
    assert 3.0 <= pair.now < 4.0  # IPCP was ready at once; IPv6 got one restart interval
    blocking[0] = False  # IPV6CP's retransmissions get through now: reported separately
    assert pair.run_until(lambda: any(isinstance(e, IPv6Up) for e in pair.client_events), 20.0)
    pair.client.send_ip(ipv6_packet(3), pair.now)
    pair.advance(0.1)
    assert pair.received("server") == [ipv6_packet(3)]


def test_address_pool_is_used_and_released() -> None:
    pool = AddressPool.from_range("10.9.0.10", "10.9.0.11")
    server = server_config(peer_ipv4=None, address_pool=pool)
    pair = make_pair(client_config(), server)
    _connect(pair)
    assert network_up(pair.client_events).local_ipv4 == "10.9.0.10"
    assert pool.available == 1
    pair.client.close(pair.now, "done")
    _end(pair)
    assert pool.available == 2


# ---------------------------------------------------------------------------------------------- MPPE

MPPE_CASES = [(40, False), (40, True), (128, False), (128, True)]


def _mppe_pair(bits: int, stateful: bool, impairment: Impairment | None = None, seed: int = 0) -> Pair:
    options = {"mppe": "require", "mppe_bits": (bits,), "allow_stateful": stateful}
    return make_pair(client_config(**options), server_config(**options), impairment, seed)


@pytest.mark.parametrize(("bits", "stateful"), MPPE_CASES)
def test_mppe_clean_link_carries_every_packet(bits: int, stateful: bool) -> None:
    pair = _mppe_pair(bits, stateful)
    _connect(pair)
    expected = f"MPPE-{bits} {'stateful' if stateful else 'stateless'}"
    assert network_up(pair.client_events).mppe == expected
    assert network_up(pair.server_events).mppe == expected
    up_packets = [ipv4_packet(i, 60 + i) for i in range(300)]
    down_packets = [ipv4_packet(1000 + i, 1400) for i in range(300)]
    for up, down in zip(up_packets, down_packets, strict=True):
        pair.client.send_ip(up, pair.now)
        pair.server.send_ip(down, pair.now)
        pair.advance(0.01)
    pair.advance(1.0)
    assert sorted(pair.received("server")) == sorted(up_packets)
    assert sorted(pair.received("client")) == sorted(down_packets)
    # Nothing went out in clear text.
    assert pair.client.stats.ip_packets_sent == 300 and pair.client.stats.unencrypted_dropped == 0


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize(("bits", "stateful"), MPPE_CASES)
def test_mppe_under_impairment_delivers_only_genuine_packets_and_recovers(
    bits: int, stateful: bool, seed: int
) -> None:
    pair = _mppe_pair(bits, stateful, LOSSY, seed)
    _connect(pair)
    lossy = [ipv4_packet(i, 100) for i in range(200)]
    for packet in lossy:
        pair.client.send_ip(packet, pair.now)
        pair.server.send_ip(packet, pair.now)
        pair.advance(0.05)
    pair.advance(2.0)
    for side in ("client", "server"):
        received = pair.received(side)
        assert set(received) <= set(lossy)  # no garbage from a drifted RC4 state reaches the stack
        if not stateful:
            assert len(received) >= 0.6 * len(lossy)  # about what the link itself loses
    # Stateful MPPE drops everything between a loss and the FLUSHED packet answering our
    # Reset-Request, and renegotiates CCP when a lost FLUSHED packet put the key schedules out of
    # step: on this link only a trickle gets through, but some does.
    assert pair.received("client") and pair.received("server")
    # The link heals: stateful MPPE resynchronises (Reset-Request, or CCP renegotiation after
    # its key schedules drifted apart) and then every packet gets through again.
    pair.c2s.impairment = pair.s2c.impairment = Impairment()
    clean = [ipv4_packet(1000 + i, 200) for i in range(120)]
    for packet in clean:
        pair.client.send_ip(packet, pair.now)
        pair.server.send_ip(packet, pair.now)
        pair.advance(0.1)
    pair.advance(1.0)
    for side in ("client", "server"):
        received = pair.received(side)
        assert set(clean[-40:]) <= set(received), pair.client.stats
    assert not terminal(pair.client_events) and not terminal(pair.server_events)


def test_mppe_allowed_but_refused_runs_unencrypted() -> None:
    pair = make_pair(client_config(mppe="allow"), server_config(mppe="refuse"))
    _connect(pair)
    assert network_up(pair.client_events).mppe is None
    pair.client.send_ip(ipv4_packet(5), pair.now)
    pair.advance(0.1)
    assert pair.received("server") == [ipv4_packet(5)]


def test_mppe_not_negotiated_after_pap() -> None:
    pair = make_pair(client_config(allowed_auth=("pap",)), server_config(allowed_auth=("pap",)))
    _connect(pair)
    assert network_up(pair.client_events).mppe is None


# ---------------------------------------------------------------------------------------------- failures

WRONG_PASSWORD = [
    ("pap", ("mschapv2",), "PAP"),
    ("chap-md5", ("mschapv2",), "CHAP-MD5"),
    ("mschap", ("mschapv2",), "MS-CHAP E=691"),
    ("mschapv2", ("mschapv2",), "MS-CHAPv2 E=691"),
    ("eap", ("md5",), "EAP-MD5"),
    ("eap", ("mschapv2",), "EAP-MSCHAPv2 E=691"),
]


@pytest.mark.parametrize(("method", "eap_methods", "detail"), WRONG_PASSWORD)
def test_wrong_password_fails_with_a_clear_reason(method: str, eap_methods: tuple[str, ...], detail: str) -> None:
    pair = make_pair(
        client_config(allowed_auth=(method,), eap_methods=eap_methods, password="wrong"),
        server_config(allowed_auth=(method,), eap_methods=eap_methods),
    )
    client_reason, server_reason = _end(pair)
    assert client_reason.startswith("the server rejected the user name or password")
    assert detail in client_reason
    assert "user name or password was wrong" in server_reason and "'alice'" in server_reason
    assert all(isinstance(e, ConnectionFailed) for e in terminal(pair.client_events))


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize(("method", "eap_methods", "detail"), WRONG_PASSWORD)
def test_wrong_password_under_impairment(method: str, eap_methods: tuple[str, ...], detail: str, seed: int) -> None:
    pair = make_pair(
        client_config(allowed_auth=(method,), eap_methods=eap_methods, password="wrong"),
        server_config(allowed_auth=(method,), eap_methods=eap_methods),
        LOSSY,
        seed,
    )
    client_reason, _ = _end(pair)
    assert "user name or password" in client_reason
    assert not pair.client.network_up


def test_unknown_user_is_rejected() -> None:
    pair = make_pair(client_config(username="mallory"), server_config())
    client_reason, server_reason = _end(pair)
    assert "E=691" in client_reason and "'mallory'" in server_reason


@pytest.mark.parametrize("impairment", [None, LOSSY])
def test_no_common_auth_method(impairment: Impairment | None) -> None:
    pair = make_pair(client_config(allowed_auth=("mschapv2",)), server_config(allowed_auth=("pap",)), impairment, 1)
    client_reason, server_reason = _end(pair)
    assert client_reason.startswith("the server asked for PAP but this profile only allows MS-CHAPv2")
    assert "does not support any authentication method this server allows" in server_reason


def test_mppe_required_by_client_but_refused_by_server() -> None:
    pair = make_pair(client_config(mppe="require"), server_config(mppe="refuse"))
    client_reason, _ = _end(pair)
    assert client_reason == "the server refused encryption (MPPE) but this profile requires it"
    assert not any(e for e in pair.client_events if e.__class__.__name__ == "NetworkUp")


def test_mppe_required_by_server_but_refused_by_client() -> None:
    pair = make_pair(client_config(mppe="refuse"), server_config(mppe="require"), LOSSY, 2)
    _, server_reason = _end(pair)
    assert server_reason == "the client refused encryption (MPPE) but this server's settings require it"


def test_mppe_key_length_mismatch() -> None:
    pair = make_pair(
        client_config(mppe="require", mppe_bits=(40,)), server_config(mppe="require", mppe_bits=(128,))
    )
    client_reason, server_reason = _end(pair)
    # Whichever side notices first explains; the other repeats what the Terminate-Request said.
    for reason in (client_reason, server_reason):
        assert ("does not allow" in reason and "MPPE-" in reason) or "no common key length" in reason


def test_mppe_required_with_pap_fails() -> None:
    pair = make_pair(
        client_config(allowed_auth=("pap", "mschapv2"), mppe="require"),
        server_config(allowed_auth=("pap",), mppe="allow"),
    )
    client_reason, _ = _end(pair)
    assert "MPPE" in client_reason and "used PAP" in client_reason


def test_impostor_server_is_refused() -> None:
    """A server that cannot compute the MS-CHAPv2 authenticator response is not trusted."""

    def corrupt_success(frame: bytes) -> bytes:
        parsed = parse_frame(frame)
        info = parsed.information
        if parsed.protocol == PROTO_CHAP and info[0] == 3 and info[4:6] == b"S=":
            flipped = b"0" if info[6:7] != b"0" else b"1"
            return build_frame(PROTO_CHAP, info[:6] + flipped + info[7:])
        return frame

    pair = make_pair(client_config(), server_config())
    pair.tamper_s2c = corrupt_success
    client_reason, _ = _end(pair)
    assert "could not prove it knows your password: possible impostor" in client_reason
    assert not pair.client.network_up


def test_echo_timeout_when_the_server_goes_silent() -> None:
    pair = make_pair(client_config(echo_interval=10.0, echo_failures=3), server_config())
    _connect(pair)
    pair.advance(45.0)  # echoes are answered: still up
    assert pair.client.network_up and pair.client.lcp.echo_replies >= 3
    pair.server_silent = True
    start = pair.now
    assert pair.run_until(lambda: bool(terminal(pair.client_events)), start + 200)
    assert [e for e in pair.client_events if isinstance(e, EchoTimeout)] == [EchoTimeout(3)]
    (end,) = terminal(pair.client_events)
    assert isinstance(end, ConnectionFailed) and "stopped answering keepalive" in end.reason
    assert 30.0 <= pair.now - start <= 60.0  # (failures + 1) intervals, plus the Terminate-Request retries


def test_orderly_close_from_the_client() -> None:
    pair = make_pair(client_config(), server_config())
    _connect(pair)
    pair.client.close(pair.now, "the user disconnected")
    client_reason, server_reason = _end(pair, limit=pair.now + 10)
    assert client_reason == "the user disconnected"
    assert server_reason == "the client closed the connection (User request)"
    assert isinstance(terminal(pair.client_events)[0], ConnectionClosed)
    assert isinstance(terminal(pair.server_events)[0], ConnectionClosed)
    assert pair.client.get_timer() is None and pair.server.get_timer() is None


@pytest.mark.parametrize("seed", range(4))
def test_close_under_impairment(seed: int) -> None:
    """Both Terminate-Requests may be lost; the server's keepalive then notices the silence."""
    pair = make_pair(client_config(), server_config(echo_interval=5.0, echo_failures=3), LOSSY, seed)
    _connect(pair)
    pair.client.close(pair.now, "the user disconnected")
    client_reason, server_reason = _end(pair, limit=pair.now + 60)
    assert client_reason == "the user disconnected"
    assert server_reason.startswith(("the client closed the connection", "the client stopped answering keepalive"))


def test_server_silent_from_the_start() -> None:
    pair = make_pair(client_config(), server_config())
    pair.server_silent = True
    assert pair.run_until(lambda: bool(terminal(pair.client_events)), 100.0)
    (end,) = terminal(pair.client_events)
    assert end.reason == "the server did not answer the PPP link negotiation (LCP)"


def test_lower_layer_down_ends_at_once() -> None:
    pair = make_pair(client_config(), server_config())
    _connect(pair)
    pair.client.lower_layer_down(pair.now, "the L2TP tunnel was closed")
    pair.pump()
    assert terminal(pair.client_events) == [ConnectionFailed("the L2TP tunnel was closed")]
    assert pair.client.finished
