"""Host-to-host IPsec transport mode: our client against our own gateway, over veth between namespaces.

Every IP packet between the client (192.0.2.2) and the gateway's real address (192.0.2.1) rides in
one ESP transport SA: pings and a TCP exchange work, a packet capture on the client's veth sees
ESP and IKE but not one cleartext ICMP or TCP packet between the two hosts, the SA counters of both
sides agree, and IKE (DPD every second from the gateway) keeps working under and after traffic.
The gateway serves L2TP/IPsec as well and tells the two apart by the Quick Mode IDs. After the
disconnect neither namespace keeps a TUN device, a route in the policy tables or a rule, and
plain pings go in the clear again. ESP also rides in UDP 4500 (a gateway that claims a NAT, and a
real nftables masquerade) and a gateway stopped by SIGTERM leaves nothing behind on either side.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import os
import re
import signal
import socket
import struct
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.ownpeer import test_own_ipsec_gateway as own_ipsec
from tests.ownpeer.conftest import USERS, GatewayLab, namespaces, running_gateway
from tests.ownpeer.test_own_gateway import PINGS, _gateway_devices, _network_state, _ping, _received
from tests.ownpeer.test_own_ipsec_gateway import MODERN, _run
from tests.ownpeer.test_own_ipsec_gateway import _profile as l2tp_profile
from wizard.net import netns
from wizard.net.tun import TunDevice
from wizard.profiles.model import Auth, CryptoPolicy, Gateway, Profile, Protocol, SecretKind
from wizard.stacks.applier import DirectApplier
from wizard.stacks.base import Disconnected, StackError, StatusEvent
from wizard.stacks.gateway.ipsec_transport import GATEWAY_TABLE, SharedPolicyRule, TransportRoute
from wizard.stacks.ipsec_stacks import IpsecTransportStack
from wizard.stacks.registry import build_stack

pytestmark = pytest.mark.root

PSK = "host-to-host-psk-17"
CLIENT_TABLE = IpsecTransportStack.table
ECHO_PORT = 7707
TCP_BYTES = 256 * 1024
SHORT_PINGS = 20  # through UDP 4500, where the TCP exchange is the main check
IDLE = 3.0  # seconds with no traffic: the gateway's DPD (every second) must still be answered

IPSEC: dict[str, Any] = {
    "psk": PSK,
    "services": ["l2tp_ipsec", "ikev1_xauth", "ipsec_transport"],
    "ike_proposals": ["aes256-sha256-modp2048"],
    "esp_proposals": ["aes256-sha256", "aes128-sha256"],
    "dpd_interval": 1,
}


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayLab]:
    changes = {"protocols": [], "l2tp": {"allowed_auth": ["mschapv2"], "mppe": "allow"}, "ipsec": IPSEC}
    with running_gateway(tmp_path_factory.mktemp("transport-gateway"), changes=changes) as running:
        yield running


def _profile(host: str) -> Profile:
    return Profile(
        name="host to host",
        protocol=Protocol.IPSEC_TRANSPORT,
        gateways=(Gateway(host),),
        auth=Auth(secrets=(SecretKind.PSK,)),
        crypto=CryptoPolicy(ike_proposals=("aes256-sha256-modp2048",), esp_proposals=("aes256-sha256",)),
    )


# -- what the client's veth carries ----------------------------------------------------------------

ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
PACKET_OUTGOING = 4
SO_RCVBUFFORCE = 33


@dataclass
class Capture:
    """Counts of IPv4 packets between the two hosts on one interface, by kind and direction."""

    esp_out: int = 0
    esp_in: int = 0
    ike: int = 0  # UDP 500 either way (4500 would be NAT-T; there is no NAT here)
    clear_icmp: int = 0
    clear_tcp: int = 0
    other: int = 0
    clear_frames: list[str] = field(default_factory=list)  # the first bytes of each cleartext one

    def add(self, frame: bytes, outgoing: bool, hosts: set[bytes]) -> None:
        if len(frame) < 20 or frame[0] >> 4 != 4 or {frame[12:16], frame[16:20]} != hosts:
            return
        proto, body = frame[9], frame[(frame[0] & 15) * 4 :]
        if proto == 50:
            if outgoing:
                self.esp_out += 1
            else:
                self.esp_in += 1
        elif proto == 17 and len(body) >= 4 and 500 in struct.unpack("!HH", body[:4]):
            self.ike += 1
        elif proto == 1:
            self.clear_icmp += 1
            self.clear_frames.append(("out " if outgoing else "in ") + frame[:48].hex())
        elif proto == 6:
            self.clear_tcp += 1
            self.clear_frames.append(("out " if outgoing else "in ") + frame[:48].hex())
        else:
            self.other += 1


class Sniffer:
    """Frames on one interface, counted into ``capture`` as the loop reads them."""

    def __init__(self, sock: socket.socket, hosts: set[bytes]) -> None:
        self.sock = sock
        self.hosts = hosts
        self.capture = Capture()

    def drain(self) -> None:
        while True:
            try:
                frame, address = self.sock.recvfrom(65535)
            except BlockingIOError:
                return
            if address[1] == ETH_P_IP:
                self.capture.add(frame, address[2] == PACKET_OUTGOING, self.hosts)

    def snapshot(self) -> Capture:
        self.drain()
        return copy.deepcopy(self.capture)


@contextlib.contextmanager
def capturing(lab: GatewayLab, ifname: str = "vc") -> Iterator[Sniffer]:
    """Count frames on the client's veth while the body runs (an AF_PACKET socket read by the loop)."""
    with netns.entered(lab.ns.client):
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_ALL))  # ALL: outgoing too
    sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 16 << 20)  # a TCP burst must not overflow it
    sock.bind((ifname, ETH_P_ALL))
    sock.setblocking(False)
    sniffer = Sniffer(sock, {socket.inet_aton(lab.ns.client_addr), socket.inet_aton(lab.ns.gateway_addr)})
    loop = asyncio.get_running_loop()
    loop.add_reader(sock.fileno(), sniffer.drain)
    try:
        yield sniffer
    finally:
        sniffer.drain()
        loop.remove_reader(sock.fileno())
        sock.close()


# -- the gateway's side ------------------------------------------------------------------------------


def _echo_listener(lab: GatewayLab) -> socket.socket:
    """A TCP socket listening on the gateway's real address, inside the gateway's namespace."""
    with netns.entered(lab.ns.gateway):
        sock = socket.create_server((lab.ns.gateway_addr, ECHO_PORT), reuse_port=False)
    sock.setblocking(False)
    return sock


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()


async def _tcp_exchange(host: str) -> bytes:
    payload = os.urandom(TCP_BYTES)
    reader, writer = await asyncio.open_connection(host, ECHO_PORT)
    writer.write(payload)
    await writer.drain()
    received = await reader.readexactly(len(payload))
    writer.close()
    await writer.wait_closed()
    assert received == payload, "the TCP echo came back different"
    return received


async def _ping_across_a_rekey(lab: GatewayLab, stack: IpsecTransportStack) -> tuple[str, tuple[int, int]]:
    """100 more pings; half a second in, the client replaces the IPsec SA (Quick Mode under traffic)."""
    assert stack.ipsec is not None and stack.ipsec.child is not None
    old = stack.ipsec.child.spi_in
    ping = asyncio.ensure_future(_ping(lab, lab.ns.gateway_addr))
    await asyncio.sleep(0.5)
    assert stack.ipsec.rekey_child()
    output = await ping
    assert stack.ipsec.child is not None
    return output, (old, stack.ipsec.child.spi_in)


async def _short_ping(namespace: str, target: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        "ip", "netns", "exec", namespace, "ping", "-c", str(SHORT_PINGS), "-i", "0.02", "-W", "2", "-q", target,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await proc.communicate()
    return out.decode()


def _policy_state(namespace: str, table: int) -> tuple[list[str], str]:
    """(rules other than the three defaults, routes in ``table``) of one namespace."""
    rules = subprocess.run(["ip", "-n", namespace, "rule"], capture_output=True, text=True, check=True).stdout
    extra = [r for r in rules.splitlines() if not re.match(r"^(0|32766|32767):", r)]
    routes = subprocess.run(
        ["ip", "-n", namespace, "route", "show", "table", str(table)], capture_output=True, text=True, check=False
    )
    return extra, routes.stdout.strip()


# -- tests ---------------------------------------------------------------------------------------------


def test_every_packet_between_the_hosts_is_protected(lab: GatewayLab) -> None:
    mark = lab.gateway.mark()
    gateway_addr, client_addr = lab.ns.gateway_addr, lab.ns.client_addr
    events: list[StatusEvent] = []
    seen: dict[str, Any] = {}

    async def main() -> None:
        server = await asyncio.start_server(_echo, sock=_echo_listener(lab))
        stack = build_stack(_profile(gateway_addr), {"psk": PSK}, events.append, DirectApplier())
        assert isinstance(stack, IpsecTransportStack)
        try:
            with capturing(lab) as sniffer:
                connected = await stack.connect()
                seen["negotiated"] = connected.negotiated.as_dict()
                seen["client_policy"] = _policy_state(lab.ns.client, CLIENT_TABLE)
                seen["gateway_policy"] = _policy_state(lab.ns.gateway, GATEWAY_TABLE)
                seen["ping"] = await _ping(lab, gateway_addr)
                await _tcp_exchange(gateway_addr)
                assert stack.ipsec is not None
                seen["ping_rekey"], seen["spis"] = await _ping_across_a_rekey(lab, stack)
                ike = stack.ipsec.ike.stats
                before = ike.received
                await asyncio.sleep(IDLE)
                seen["ike_received_idle"] = ike.received - before
                seen["still_up"] = not stack.ipsec.lost.done()
                seen["esp"] = copy.copy(stack.ipsec.esp.counters)
                # While connected; after the close a late IKE message may still draw a port unreachable.
                seen["capture"] = sniffer.snapshot()
                await stack.close()
            with capturing(lab) as after:
                seen["plain_ping"] = await _ping(lab, gateway_addr)
            seen["after"] = after.capture
        finally:
            await stack.close()
            server.close()
            await server.wait_closed()

    with netns.entered(lab.ns.client):
        try:
            asyncio.run(main())
        finally:
            seen["leftover"] = _network_state()
    negotiated, capture, esp = seen["negotiated"], seen["capture"], seen["esp"]
    print(f"\nipsec_transport: {negotiated}\n{seen['ping'].strip()}\nacross a rekey: {seen['ping_rekey'].strip()}")
    print(f"capture: {capture}\nclient ESP: {esp}")
    assert negotiated["esp"].startswith("ESP transport aes256"), negotiated
    assert negotiated["protected"] == f"all traffic between {client_addr} and {gateway_addr}"
    # While connected: the rule and the /32 into the TUN device, on both sides.
    rules, routes = seen["client_policy"]
    assert rules == [f"{CLIENT_TABLE}:\tnot from all fwmark {CLIENT_TABLE:#x} lookup {CLIENT_TABLE}"], rules
    assert re.fullmatch(rf"{re.escape(gateway_addr)} dev cw\d+ proto 119 src {re.escape(client_addr)}", routes)
    rules, routes = seen["gateway_policy"]
    assert rules == [f"{GATEWAY_TABLE}:\tnot from all fwmark {GATEWAY_TABLE:#x} lookup {GATEWAY_TABLE}"], rules
    assert re.fullmatch(rf"{re.escape(client_addr)} dev cwg\d+ proto 119 src {re.escape(gateway_addr)}", routes)
    # Traffic: all pings back, the TCP echo intact (checked inside), nothing in the clear.
    assert _received(seen["ping"]) == PINGS, seen["ping"]
    assert _received(seen["ping_rekey"]) == PINGS, seen["ping_rekey"]
    old_spi, new_spi = seen["spis"]
    assert new_spi != old_spi, seen["spis"]
    assert capture.clear_icmp == 0 and capture.clear_tcp == 0 and capture.other == 0, capture.clear_frames
    assert capture.esp_out >= 2 * PINGS and capture.esp_in >= 2 * PINGS, capture
    assert esp.packets_out >= 2 * PINGS and esp.packets_in >= 2 * PINGS and esp.dropped_in == 0, esp
    assert capture.esp_out == esp.packets_out and capture.esp_in == esp.packets_in, (capture, esp)
    # IKE: outside the tunnel (UDP 500 on the wire), answered while idle, the session never dropped.
    assert capture.ike > 0 and seen["ike_received_idle"] >= 1 and seen["still_up"], seen
    # After the disconnect: nothing left on either side, and pings go in the clear again.
    assert seen["leftover"] == [], seen["leftover"]
    assert _policy_state(lab.ns.client, CLIENT_TABLE) == ([], "")
    assert _gateway_devices(lab) == []
    assert _policy_state(lab.ns.gateway, GATEWAY_TABLE) == ([], "")
    assert _received(seen["plain_ping"]) == PINGS, seen["plain_ping"]
    assert seen["after"].esp_out == 0 and seen["after"].clear_icmp >= 2 * PINGS, seen["after"]
    gw = lab.gateway
    gw.wait_for(rf"ipsec {client_addr}: host-to-host transport mode: all traffic between", mark)
    gw.wait_for(rf"ipsec {client_addr}: traffic with {client_addr} now goes through cwg\d+", mark)
    gw.wait_for(rf"ipsec {client_addr}: IPsec SA rekeyed: ESP transport .*SPIs [0-9a-f]{{8}}/{new_spi:08x}", mark)
    line = gw.wait_for(rf"ipsec {client_addr}: closed: .*\((\d+) packets in, (\d+) packets out\)", mark)
    packets_in, packets_out = (int(n) for n in re.findall(r"(\d+) packets", line))
    assert packets_in == esp.packets_out and packets_out == esp.packets_in, (line, esp)


def test_l2tp_ipsec_is_still_told_apart_by_its_quick_mode_ids(lab: GatewayLab) -> None:
    """The same gateway, the same phase 1: IDs for UDP 1701 get L2TP/IPsec, not host-to-host."""
    mark = lab.gateway.mark()
    profile = l2tp_profile(Protocol.L2TP_IPSEC, lab.ns.gateway_addr, "bob", MODERN)
    connected, _output, leftover = _run(lab, profile, {"password": USERS["bob"], "psk": PSK}, None)
    assert connected.negotiated.as_dict()["esp"].startswith("ESP transport aes256")
    assert leftover == []
    lab.gateway.wait_for(rf"ipsec {lab.ns.client_addr}: IPsec SA up: ESP transport .*\[17/1701\]", mark)
    lab.gateway.wait_for(rf"l2tp {lab.ns.client_addr}:1701: connected", mark)
    closed = lab.gateway.wait_for(rf"ipsec {lab.ns.client_addr}: closed: ", mark)
    assert "host-to-host" not in "\n".join(lab.gateway.lines[mark:]), closed
    assert _policy_state(lab.ns.gateway, GATEWAY_TABLE) == ([], "")


def test_wrong_psk_fails_in_plain_language(lab: GatewayLab) -> None:
    mark = lab.gateway.mark()

    async def main() -> None:
        stack = build_stack(_profile(lab.ns.gateway_addr), {"psk": "not-the-key"}, lambda _e: None, DirectApplier())
        await stack.connect()

    with netns.entered(lab.ns.client), pytest.raises(StackError) as info:
        asyncio.run(main())
    print(f"\nwrong PSK: {info.value.reason}")
    assert "pre-shared key" in info.value.reason, info.value.reason
    with netns.entered(lab.ns.client):
        assert _network_state() == []
    assert _policy_state(lab.ns.client, CLIENT_TABLE) == ([], "")
    lab.gateway.wait_for(rf"ipsec {lab.ns.client_addr}: (failed|closed): ", mark)
    assert _policy_state(lab.ns.gateway, GATEWAY_TABLE) == ([], "")
    assert _gateway_devices(lab) == []


def test_sigterm_deletes_the_sa_and_reverts_both_sides(tmp_path: Path) -> None:
    """The gateway stops with a host-to-host client up: SAs deleted, routes and rules gone on both sides."""
    changes = {"protocols": [], "ipsec": {**IPSEC, "services": ["ipsec_transport"]}}
    with running_gateway(tmp_path, changes=changes) as stopping:
        # This gateway serves host-to-host only: an L2TP/IPsec client's UDP 1701 SA is refused.
        l2tp = l2tp_profile(Protocol.L2TP_IPSEC, stopping.ns.gateway_addr, "bob", MODERN)
        with pytest.raises(StackError) as info:
            _run(stopping, l2tp, {"password": USERS["bob"], "psk": PSK}, None)
        print(f"\nL2TP/IPsec at a host-to-host gateway: {info.value.reason}")
        stopping.gateway.wait_for(
            r"refused the IPsec SA: the client asked to protect .*\[17/1701\].*serves only host-to-host"
        )

        async def main() -> Disconnected:
            stack = build_stack(_profile(stopping.ns.gateway_addr), {"psk": PSK}, lambda _e: None, DirectApplier())
            await stack.connect()
            try:
                ping = await _ping(stopping, stopping.ns.gateway_addr)
                assert _received(ping) == PINGS, ping
                stopping.gateway.proc.send_signal(signal.SIGTERM)
                async with asyncio.timeout(15):
                    return await stack.wait_closed()
            finally:
                await stack.close()

        with netns.entered(stopping.ns.client):
            try:
                down = asyncio.run(main())
            finally:
                leftover = _network_state()
        assert stopping.gateway.proc.wait(10) == 0
        print(f"\nSIGTERM: {down.reason}")
        assert not down.deliberate and "deleted" in down.reason, down.reason
        assert leftover == [] and _policy_state(stopping.ns.client, CLIENT_TABLE) == ([], "")
        assert _gateway_devices(stopping, settle=0) == []
        assert _policy_state(stopping.ns.gateway, GATEWAY_TABLE) == ([], "")
        assert re.search(r"ipsec .*: closed: the gateway was stopped", stopping.gateway.output), stopping.gateway.output


@contextlib.contextmanager
def _udp_4500_lab(tmp: Path, how: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[GatewayLab, str]]:
    """A gateway that claims a NAT (``forced``) or a client behind nftables masquerade; (lab, client namespace)."""
    ipsec = {**IPSEC, "services": ["ipsec_transport"], "force_encapsulation": how == "forced"}
    changes: dict[str, Any] = {"protocols": [], "ipsec": ipsec}
    if how == "forced":
        with running_gateway(tmp, changes=changes) as forced:
            yield forced, forced.ns.client
        return
    monkeypatch.setattr(own_ipsec, "ipsec_changes", lambda: changes)
    with own_ipsec._behind_a_nat(tmp) as (nat_lab, client_ns):
        yield nat_lab, client_ns


@pytest.mark.parametrize("how", ["forced", "masquerade"])
def test_esp_in_udp_4500(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    """NAT-T: ESP rides in UDP 4500 both ways; pings and TCP (checksums fixed after a NAT) still work."""
    with _udp_4500_lab(tmp_path, how, monkeypatch) as (lab_, client_ns):
        gateway_addr = lab_.ns.gateway_addr

        async def main() -> tuple[dict[str, str], str]:
            server = await asyncio.start_server(_echo, sock=_echo_listener(lab_))
            stack = build_stack(_profile(gateway_addr), {"psk": PSK}, lambda _e: None, DirectApplier())
            try:
                connected = await stack.connect()
                ping = await _short_ping(client_ns, gateway_addr)
                await _tcp_exchange(gateway_addr)
            finally:
                await stack.close()
                server.close()
                await server.wait_closed()
            return connected.negotiated.as_dict(), ping

        with netns.entered(client_ns):
            try:
                negotiated, ping = asyncio.run(main())
            finally:
                leftover = _network_state()
        print(f"\n{how}: {negotiated}\n{ping.strip()}")
        assert negotiated["nat-t"].startswith("UDP 4500"), negotiated
        assert _received(ping) == SHORT_PINGS, ping
        assert leftover == [] and _policy_state(client_ns, CLIENT_TABLE) == ([], "")
        public = re.escape(lab_.ns.client_addr)  # the client's address as the gateway sees it
        lab_.gateway.wait_for(rf"ipsec {public}: IPsec SA up: .*UDP-encapsulated")
        lab_.gateway.wait_for(rf"ipsec {public}: closed: ")
        assert _gateway_devices(lab_) == [] and _policy_state(lab_.ns.gateway, GATEWAY_TABLE) == ([], "")


def test_the_gateway_rule_is_shared_and_goes_with_its_last_user() -> None:
    """Two clients' routes hold one rule; it stays while either is up and goes with the last."""
    with namespaces() as ns:

        async def main() -> list[tuple[list[str], str]]:
            rule = SharedPolicyRule()
            states = []
            tuns = [TunDevice.create("cwg%d") for _ in range(2)]
            routes = [TransportRoute(rule, f"192.0.2.{20 + i}", ns.gateway_addr) for i in range(2)]
            try:
                for tun, route in zip(tuns, routes, strict=True):
                    await route.apply(tun.name, 1400)
                states.append(_policy_state(ns.gateway, GATEWAY_TABLE))
                assert await routes[0].revert() == []
                states.append(_policy_state(ns.gateway, GATEWAY_TABLE))
                assert await routes[1].revert() == []
                states.append(_policy_state(ns.gateway, GATEWAY_TABLE))
                await routes[0].apply(tuns[0].name, 1400)
                assert await rule.release(everyone=True) == []  # the gateway's shutdown backstop
                states.append(_policy_state(ns.gateway, GATEWAY_TABLE))
                assert await routes[0].revert() == []
            finally:
                for tun in tuns:
                    tun.close()
            return states

        with netns.entered(ns.gateway):
            both, one, none, backstop = asyncio.run(main())
    rule_line = f"{GATEWAY_TABLE}:\tnot from all fwmark {GATEWAY_TABLE:#x} lookup {GATEWAY_TABLE}"
    assert both[0] == [rule_line] and len(both[1].splitlines()) == 2, both
    assert one[0] == [rule_line] and re.fullmatch(r"192\.0\.2\.21 dev cwg1 proto 119 src 192\.0\.2\.1", one[1]), one
    assert none == ([], "")
    assert backstop[0] == [] and backstop[1].startswith("192.0.2.20 dev cwg0"), backstop


def test_gateway_never_prints_the_key(lab: GatewayLab) -> None:
    assert "ipsec_transport" in lab.gateway.output
    for secret in (PSK, "not-the-key", *USERS.values()):
        assert secret not in lab.gateway.output
