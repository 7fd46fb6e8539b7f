"""IPCP (with DNS), IPV6CP and CCP/MPPE option handling, and the address pool."""

from __future__ import annotations

import ipaddress
import itertools

import pytest

from wizard.engine.ppp.ccp import BIT_C, BIT_H, BIT_L, BIT_M, BIT_S, CCP, OPT_MPPE, describe, strongest
from wizard.engine.ppp.frame import (
    CONF_ACK,
    CONF_NAK,
    CONF_REJ,
    CONF_REQ,
    RESET_ACK,
    RESET_REQ,
    CPPacket,
    Option,
    build_cp_packet,
    build_options,
    parse_cp_packet,
    parse_options,
)
from wizard.engine.ppp.fsm import ControlProtocol, State, Timers
from wizard.engine.ppp.ipcp import (
    IPCP,
    OPT_IP_ADDRESS,
    OPT_IP_COMPRESSION,
    OPT_PRIMARY_DNS,
    OPT_PRIMARY_NBNS,
    OPT_SECONDARY_DNS,
    AddressPool,
)
from wizard.engine.ppp.ipv6cp import IPV6CP, OPT_INTERFACE_ID, link_local


class Wire:
    def __init__(self) -> None:
        self.packets: list[CPPacket] = []

    def __call__(self, protocol: int, data: bytes) -> None:
        self.packets.append(parse_cp_packet(data))

    def take(self) -> list[CPPacket]:
        out, self.packets = self.packets, []
        return out


def ip(text: str) -> bytes:
    return ipaddress.IPv4Address(text).packed


def _start(cp: ControlProtocol, wire: Wire) -> CPPacket:
    cp.open(0.0)
    cp.up(0.0)
    return wire.take()[-1]


def _answer(cp: ControlProtocol, wire: Wire, *options: Option, ident: int = 50) -> CPPacket:
    cp.receive(build_cp_packet(CONF_REQ, ident, build_options(options)), 0.1)
    return wire.take()[-1]


def _reply(cp: ControlProtocol, code: int, request: CPPacket, *options: Option) -> None:
    data = request.data if code == CONF_ACK and not options else build_options(options)
    cp.receive(build_cp_packet(code, request.identifier, data), 0.2)


def _link(a: ControlProtocol, wa: Wire, b: ControlProtocol, wb: Wire) -> None:
    """Run two automata against each other with instant, lossless delivery."""
    for cp in (a, b):
        cp.open(0.0)
        cp.up(0.0)
    for _ in range(30):
        moved = False
        for src, dst in ((wa, b), (wb, a)):
            for packet in src.take():
                dst.receive(packet.encode(), 0.0)
                moved = True
        if not moved:
            return


# ------------------------------------------------------------------------------------------- IPCP


def test_ipcp_client_asks_for_address_and_dns_and_takes_the_nak() -> None:
    wire = Wire()
    ipcp = IPCP(wire, Timers(), role="client")
    request = _start(ipcp, wire)
    assert parse_options(request.data) == [
        Option(OPT_IP_ADDRESS, bytes(4)),
        Option(OPT_PRIMARY_DNS, bytes(4)),
        Option(OPT_SECONDARY_DNS, bytes(4)),
    ]
    _reply(ipcp, CONF_NAK, request, Option(OPT_IP_ADDRESS, ip("10.1.1.5")), Option(OPT_PRIMARY_DNS, ip("9.9.9.9")))
    (request,) = wire.take()
    _reply(ipcp, CONF_REJ, request, Option(OPT_SECONDARY_DNS, bytes(4)))
    (request,) = wire.take()
    assert parse_options(request.data) == [
        Option(OPT_IP_ADDRESS, ip("10.1.1.5")),
        Option(OPT_PRIMARY_DNS, ip("9.9.9.9")),
    ]
    _reply(ipcp, CONF_ACK, request)
    assert ipcp.local_address == "10.1.1.5" and ipcp.dns == ("9.9.9.9",)


def test_ipcp_client_accepts_server_address_but_not_questions() -> None:
    wire = Wire()
    ipcp = IPCP(wire, Timers(), role="client")
    _start(ipcp, wire)
    assert _answer(ipcp, wire, Option(OPT_IP_ADDRESS, ip("10.1.1.1"))).code == CONF_ACK
    assert ipcp.peer_address == "10.1.1.1"
    reply = _answer(ipcp, wire, Option(OPT_IP_ADDRESS, bytes(4)), Option(OPT_PRIMARY_DNS, bytes(4)))
    assert reply.code == CONF_REJ and len(parse_options(reply.data)) == 2


def test_ipcp_server_assigns_and_hints() -> None:
    wire = Wire()
    ipcp = IPCP(wire, Timers(), role="server", local_address="10.1.1.1", dns_servers=("9.9.9.9",))
    ipcp.assign_peer_address("10.1.1.5")
    request = _start(ipcp, wire)
    assert parse_options(request.data) == [Option(OPT_IP_ADDRESS, ip("10.1.1.1"))]
    reply = _answer(
        ipcp,
        wire,
        Option(OPT_IP_ADDRESS, bytes(4)),
        Option(OPT_PRIMARY_DNS, bytes(4)),
    )
    assert reply.code == CONF_NAK
    assert parse_options(reply.data) == [Option(OPT_IP_ADDRESS, ip("10.1.1.5")), Option(OPT_PRIMARY_DNS, ip("9.9.9.9"))]
    reply = _answer(ipcp, wire, Option(OPT_SECONDARY_DNS, bytes(4)), Option(OPT_PRIMARY_NBNS, bytes(4)), ident=51)
    assert reply.code == CONF_REJ  # no second DNS server configured, no NBNS
    reply = _answer(ipcp, wire, Option(OPT_PRIMARY_DNS, ip("9.9.9.9")), ident=52)
    assert reply.code == CONF_NAK and parse_options(reply.data) == [Option(OPT_IP_ADDRESS, ip("10.1.1.5"))]
    reply = _answer(ipcp, wire, Option(OPT_IP_COMPRESSION, b"\x00\x2d\x0f\x01"), ident=53)
    assert reply.code == CONF_REJ


def test_ipcp_client_and_server_converge() -> None:
    cw, sw = Wire(), Wire()
    client = IPCP(cw, Timers(), role="client")
    server = IPCP(sw, Timers(), role="server", local_address="10.1.1.1", dns_servers=("9.9.9.9", "8.8.8.8"))
    server.assign_peer_address("10.1.1.5")
    _link(client, cw, server, sw)
    assert client.state is server.state is State.OPENED
    assert (client.local_address, client.peer_address, client.dns) == ("10.1.1.5", "10.1.1.1", ("9.9.9.9", "8.8.8.8"))
    assert (server.local_address, server.peer_address) == ("10.1.1.1", "10.1.1.5")


def test_address_pool() -> None:
    pool = AddressPool.from_range("10.0.0.1", "10.0.0.2")
    first, second = pool.allocate(), pool.allocate()
    assert (first, second, pool.allocate()) == ("10.0.0.1", "10.0.0.2", None)
    assert first is not None
    pool.release(first)
    pool.release("10.9.9.9")  # not ours: ignored
    assert pool.available == 1 and pool.allocate() == "10.0.0.1"
    with pytest.raises(ValueError):
        AddressPool.from_range("10.0.0.2", "10.0.0.1")


# ------------------------------------------------------------------------------------------- IPV6CP


def _counting(step: int = 1) -> object:
    counter = itertools.count(1, step)
    return lambda n: next(counter).to_bytes(n, "big")


def test_ipv6cp_naks_zero_and_colliding_identifiers() -> None:
    wire = Wire()
    cp = IPV6CP(wire, Timers(), _counting())  # type: ignore[arg-type]
    request = _start(cp, wire)
    (ours,) = parse_options(request.data)
    reply = _answer(cp, wire, Option(OPT_INTERFACE_ID, bytes(8)))
    assert reply.code == CONF_NAK and parse_options(reply.data)[0].data not in (bytes(8), ours.data)
    reply = _answer(cp, wire, ours, ident=51)
    assert reply.code == CONF_NAK
    assert _answer(cp, wire, Option(OPT_INTERFACE_ID, b"\x02" * 8), ident=52).code == CONF_ACK
    assert cp.peer_iid == b"\x02" * 8
    assert _answer(cp, wire, Option(2, b"\x00\x4f"), ident=53).code == CONF_REJ


def test_ipv6cp_pair_converges() -> None:
    aw, bw = Wire(), Wire()
    a = IPV6CP(aw, Timers(), _counting())  # type: ignore[arg-type]
    b = IPV6CP(bw, Timers(), _counting(7))  # type: ignore[arg-type]  # same first pick: a collision
    _link(a, aw, b, bw)
    assert a.is_opened and b.is_opened
    assert a.local_iid is not None and b.local_iid is not None
    assert a.local_iid == b.peer_iid and b.local_iid == a.peer_iid and a.local_iid != b.local_iid


def test_link_local_text() -> None:
    assert link_local(bytes.fromhex("0200000000000001")) == "fe80::200:0:0:1"


# ------------------------------------------------------------------------------------------- CCP


def _mppe(value: int) -> Option:
    return Option(OPT_MPPE, value.to_bytes(4, "big"))


def _ccp(bits: tuple[int, ...] = (128, 40), stateful: bool = False) -> tuple[CCP, Wire, list[float]]:
    wire = Wire()
    resets: list[float] = []
    ccp = CCP(wire, Timers(), allowed_bits=bits, allow_stateful=stateful, on_reset_request=resets.append)
    return ccp, wire, resets


def test_ccp_request_lists_allowed_strengths_and_stateless() -> None:
    ccp, wire, _ = _ccp()
    assert parse_options(_start(ccp, wire).data) == [_mppe(BIT_S | BIT_L | BIT_H)]
    ccp, wire, _ = _ccp((56,), stateful=True)
    assert parse_options(_start(ccp, wire).data) == [_mppe(BIT_M)]


@pytest.mark.parametrize(
    ("offered", "stateful", "expected"),
    [
        (BIT_S | BIT_H, False, None),  # exactly what we like: Ack
        (BIT_S | BIT_L | BIT_M | BIT_H, False, BIT_S | BIT_H),  # narrowed to the strongest
        (BIT_L | BIT_H, False, None),  # 40-bit is allowed here
        (BIT_S, False, BIT_S | BIT_H),  # stateful not allowed: insist on H
        (BIT_S, True, None),  # stateful allowed
        (BIT_S | BIT_H | BIT_C, False, BIT_S | BIT_H),  # no MPPC
        (BIT_M | BIT_H, False, BIT_S | BIT_H),  # nothing in common: offer our best
    ],
)
def test_ccp_judges_the_peers_mppe_bits(offered: int, stateful: bool, expected: int | None) -> None:
    ccp, wire, _ = _ccp(stateful=stateful)
    _start(ccp, wire)
    reply = _answer(ccp, wire, _mppe(offered))
    if expected is None:
        assert reply.code == CONF_ACK
    else:
        assert reply.code == CONF_NAK and parse_options(reply.data) == [_mppe(expected)]


def test_ccp_rejects_other_compressors_and_hints_mppe() -> None:
    ccp, wire, _ = _ccp()
    _start(ccp, wire)
    assert _answer(ccp, wire, Option(26, b"\x48\x00")).code == CONF_REJ  # Deflate
    reply = _answer(ccp, wire, ident=51)
    assert reply.code == CONF_NAK and parse_options(reply.data) == [_mppe(BIT_S | BIT_L | BIT_H)]


def test_ccp_follows_a_nak_or_gives_up() -> None:
    ccp, wire, _ = _ccp()
    request = _start(ccp, wire)
    _reply(ccp, CONF_NAK, request, _mppe(BIT_L | BIT_H))
    (request,) = wire.take()
    assert parse_options(request.data) == [_mppe(BIT_L | BIT_H)]
    _reply(ccp, CONF_NAK, request, _mppe(BIT_M))
    assert ccp.fatal == "the peer offers only MPPE-56 encryption, which this profile does not allow"


def test_ccp_refused() -> None:
    ccp, wire, _ = _ccp()
    request = _start(ccp, wire)
    _reply(ccp, CONF_REJ, request, *parse_options(request.data))
    assert ccp.refused
    (request,) = wire.take()
    assert request.data == b""


def test_ccp_pair_and_reset_requests() -> None:
    aw, bw = Wire(), Wire()
    a = CCP(aw, Timers(), allowed_bits=(128, 40), allow_stateful=True)
    resets: list[float] = []
    b = CCP(bw, Timers(), allowed_bits=(40,), allow_stateful=False, on_reset_request=resets.append)
    _link(a, aw, b, bw)
    assert a.is_opened and b.is_opened
    assert a.send == a.recv == b.send == b.recv == (40, True)
    assert a.request_reset(1.0, repeat=False)
    assert not a.request_reset(1.5, repeat=True)  # rate limited
    (request,) = aw.take()
    b.receive(request.encode(), 1.0)
    b.receive(request.encode(), 1.01)  # duplicated by the link: flush only once
    assert resets == [1.0]
    assert [p for p in bw.take()] == [CPPacket(RESET_ACK, request.identifier, b"")] * 2
    assert a.request_reset(2.1, repeat=True)
    assert aw.take()[0].code == RESET_REQ


def test_strength_helpers() -> None:
    assert strongest(BIT_L | BIT_M) == 56 and strongest(0) is None
    assert describe(128, True) == "MPPE-128 stateless" and describe(40, False) == "MPPE-40 stateful"
