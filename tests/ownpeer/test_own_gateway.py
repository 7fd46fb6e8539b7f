"""Our PPTP and L2TP clients against our own gateway, over veth between two network namespaces.

The same checks as against the lab's pptpd and xl2tpd: the client gets its address and DNS from
IPCP as the gateway is configured, 100 pings to the server's PPP address all come back, a wrong
password fails with a clear message, and disconnecting leaves no TUN device, address or route
behind in the client namespace (nor a TUN device in the gateway's). The gateway's progress lines
are checked too, and it must never print a password.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import random
import re
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from pyroute2 import IPRoute

from tests.ownpeer.conftest import (
    DNS,
    POOL,
    REPO,
    SERVER_ADDRESS,
    USERS,
    GatewayLab,
    gateway_config,
    running_gateway,
)
from wizard.engine.l2tp.config import L2TPConfig
from wizard.net import netns
from wizard.profiles.model import Auth, Gateway, MppePolicy, PPPAuth, PPPOptions, Profile, Protocol
from wizard.stacks.applier import DirectApplier
from wizard.stacks.base import Connected, Disconnected, StackError, StatusEvent, StatusSink, VpnStack
from wizard.stacks.l2tp import L2tpStack
from wizard.stacks.registry import build_stack, ppp_config_for, route_choice_for

pytestmark = pytest.mark.root

PINGS = 100


@dataclass
class Outcome:
    connected: Connected
    events: list[StatusEvent]
    ping_output: str
    leftover: list[str]


def _profile(protocol: Protocol, host: str, user: str, methods: tuple[PPPAuth, ...], mppe: MppePolicy) -> Profile:
    return Profile(
        name="own",
        protocol=protocol,
        gateways=(Gateway(host),),
        auth=Auth(username=user, ppp_methods=methods),
        ppp=PPPOptions(mppe=mppe, lcp_echo_interval=5),
    )


def _network_state(prefix: str = "cw") -> list[str]:
    """Our TUN devices, any address from the tunnel network, and routes carrying our proto number."""
    found: list[str] = []
    tunnel_net = ipaddress.ip_network("10.123.0.0/24")
    with IPRoute() as ipr:
        for link in ipr.get_links():
            name = link.get("ifname")
            if name.startswith(prefix):
                found.append(f"device {name}")
        for addr in ipr.get_addr(family=2):
            if ipaddress.ip_address(addr.get("IFA_LOCAL") or addr.get("IFA_ADDRESS")) in tunnel_net:
                found.append(f"address {addr.get('IFA_LOCAL')}")
        for route in ipr.get_routes(family=2):
            if route.get("proto") == 119:
                found.append(f"route {route.get('dst')}/{route['dst_len']}")
    return found


def _gateway_devices(lab: GatewayLab, settle: float = 3.0) -> list[str]:
    """The gateway's TUN devices, after giving its teardown a moment (it runs after the hang-up)."""
    deadline = time.monotonic() + settle
    while True:
        out = subprocess.run(
            ["ip", "-n", lab.ns.gateway, "-o", "link", "show"], capture_output=True, text=True, check=True
        ).stdout
        devices = re.findall(r"^\d+: (cwg\d+)", out, re.M)
        if not devices or time.monotonic() > deadline:
            return devices
        time.sleep(0.05)


async def _ping(lab: GatewayLab, target: str, interface: str | None = None) -> str:
    via = ("-I", interface) if interface else ()
    proc = await asyncio.create_subprocess_exec(
        "ip", "netns", "exec", lab.ns.client,
        "ping", "-c", str(PINGS), "-i", "0.02", "-W", "2", "-q", *via, target,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    return out.decode()


def _connect(
    lab: GatewayLab,
    profile: Profile,
    password: str,
    body: Callable[[Connected], Awaitable[str]] | None,
    make_stack: Callable[[StatusSink], VpnStack] | None = None,
) -> Outcome:
    events: list[StatusEvent] = []

    async def main() -> Outcome:
        if make_stack is not None:
            stack = make_stack(events.append)
        else:
            stack = build_stack(profile, {"password": password}, events.append, DirectApplier())
        connected = await stack.connect()
        try:
            output = await body(connected) if body else ""
        finally:
            await stack.close()
        return Outcome(connected, events, output, [])

    with netns.entered(lab.ns.client):
        try:
            outcome = asyncio.run(main())
        finally:
            leftover = _network_state()
    outcome.leftover = leftover
    return outcome


def _received(ping_output: str) -> int:
    match = re.search(r"(\d+) received", ping_output)
    assert match, ping_output
    return int(match.group(1))


def _check_up(lab: GatewayLab, outcome: Outcome) -> dict[str, str]:
    settings = outcome.connected.settings
    low, high = (int(ipaddress.IPv4Address(a)) for a in POOL)
    assert settings.local_ipv4 is not None
    assert low <= int(ipaddress.IPv4Address(settings.local_ipv4)) <= high, settings
    assert settings.peer_ipv4 == SERVER_ADDRESS
    assert settings.dns_servers == DNS
    assert _received(outcome.ping_output) == PINGS, outcome.ping_output
    assert outcome.leftover == [], outcome.leftover
    assert _gateway_devices(lab) == []
    negotiated = outcome.connected.negotiated.as_dict()
    summary = re.search(r"rtt .*", outcome.ping_output)
    print(f"\n{outcome.connected.negotiated.protocol}: {negotiated}\n{summary.group(0) if summary else ''}")
    return negotiated


def test_garbage_does_not_disturb_the_gateway(gateway_lab: GatewayLab) -> None:
    """Junk on UDP 1701 (some shaped like an SCCRQ) and on TCP 1723: dropped, and the gateway serves on.

    The tests after this one connect to the same gateway process.
    """
    mark = gateway_lab.gateway.mark()
    rng = random.Random(7)
    sccrq_like = bytes.fromhex("c8020014000000000000 0000".replace(" ", ""))  # control, tunnel 0, Ns 0
    with netns.entered(gateway_lab.ns.client):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            for i in range(200):
                junk = rng.randbytes(rng.randrange(0, 200))
                udp.sendto(sccrq_like + junk if i % 2 else junk, (gateway_lab.ns.gateway_addr, 1701))
        with socket.create_connection((gateway_lab.ns.gateway_addr, 1723), timeout=5) as tcp:
            tcp.sendall(b"GET / HTTP/1.0\r\n\r\n" + rng.randbytes(300))
            assert tcp.recv(100) == b""  # the gateway hangs up
    gateway_lab.gateway.wait_for(r"pptp .*: closed: the client sent data that is not PPTP", mark)
    assert gateway_lab.gateway.proc.poll() is None


def test_pptp_mschapv2_mppe128(gateway_lab: GatewayLab) -> None:
    mark = gateway_lab.gateway.mark()
    profile = _profile(Protocol.PPTP, gateway_lab.ns.gateway_addr, "alice", (PPPAuth.MSCHAPV2,), MppePolicy.REQUIRE)
    outcome = _connect(gateway_lab, profile, USERS["alice"], lambda c: _ping(gateway_lab, SERVER_ADDRESS))
    negotiated = _check_up(gateway_lab, outcome)
    assert negotiated["authentication"] == "MS-CHAPv2"
    assert negotiated["encryption"] == "MPPE-128 stateless"
    gw = gateway_lab.gateway
    gw.wait_for(rf"pptp {gateway_lab.ns.client_addr}:\d+: connected", mark)
    gw.wait_for(r"pptp .*: auth ok: user 'alice' \(MS-CHAPv2\)", mark)
    gw.wait_for(rf"pptp .*: user 'alice' got address {outcome.connected.settings.local_ipv4} .*MPPE-128", mark)
    gw.wait_for(r"pptp .*: disconnected: ", mark)


@pytest.mark.parametrize(
    ("method", "shown"),
    [(PPPAuth.MSCHAPV2, "MS-CHAPv2"), (PPPAuth.CHAP_MD5, "CHAP-MD5"), (PPPAuth.PAP, "PAP")],
)
def test_l2tp(gateway_lab: GatewayLab, method: PPPAuth, shown: str) -> None:
    mark = gateway_lab.gateway.mark()
    profile = _profile(Protocol.L2TP, gateway_lab.ns.gateway_addr, "bob", (method,), MppePolicy.ALLOW)
    outcome = _connect(gateway_lab, profile, USERS["bob"], lambda c: _ping(gateway_lab, SERVER_ADDRESS))
    negotiated = _check_up(gateway_lab, outcome)
    assert negotiated["authentication"] == shown
    gw = gateway_lab.gateway
    gw.wait_for(rf"l2tp {gateway_lab.ns.client_addr}:\d+: connected", mark)
    gw.wait_for(rf"l2tp .*: auth ok: user 'bob' \({re.escape(shown)}\)", mark)
    gw.wait_for(rf"l2tp .*: user 'bob' got address {outcome.connected.settings.local_ipv4} ", mark)
    gw.wait_for(r"l2tp .*: disconnected: ", mark)


@pytest.mark.parametrize("protocol", [Protocol.PPTP, Protocol.L2TP])
def test_wrong_password_fails_with_a_clear_message(gateway_lab: GatewayLab, protocol: Protocol) -> None:
    mark = gateway_lab.gateway.mark()
    mppe = MppePolicy.REQUIRE if protocol is Protocol.PPTP else MppePolicy.ALLOW
    profile = _profile(protocol, gateway_lab.ns.gateway_addr, "alice", (PPPAuth.MSCHAPV2,), mppe)
    with pytest.raises(StackError) as info:
        _connect(gateway_lab, profile, "not-the-password", None)
    assert "rejected the user name or password" in info.value.reason, info.value.reason
    with netns.entered(gateway_lab.ns.client):
        assert _network_state() == []
    line = gateway_lab.gateway.wait_for(rf"{protocol.value} .*: auth failed: ", mark)
    assert "'alice'" in line, line
    assert _gateway_devices(gateway_lab) == []


def test_unknown_user_fails_and_gateway_keeps_serving(gateway_lab: GatewayLab) -> None:
    mark = gateway_lab.gateway.mark()
    profile = _profile(Protocol.L2TP, gateway_lab.ns.gateway_addr, "mallory", (PPPAuth.PAP,), MppePolicy.ALLOW)
    with pytest.raises(StackError):
        _connect(gateway_lab, profile, "guess", None)
    gateway_lab.gateway.wait_for(r"auth failed: .*'mallory'", mark)
    assert gateway_lab.gateway.proc.poll() is None


def test_sigterm_hangs_up_every_client_and_leaves_nothing(tmp_path: Path) -> None:
    """Two clients at once (one per protocol) get different addresses; SIGTERM hangs both up politely.

    This gateway listens on 0.0.0.0 and the clients dial its second address, so its L2TP and GRE
    replies must leave from that address (clients drop anything else).
    """
    with running_gateway(tmp_path, listen="0.0.0.0") as lab:
        host = lab.ns.gateway_second_addr
        events: list[StatusEvent] = []

        async def main() -> tuple[list[Connected], list[Disconnected]]:
            stacks: list[VpnStack] = [
                build_stack(
                    _profile(Protocol.PPTP, host, "alice", (PPPAuth.MSCHAPV2,), MppePolicy.REQUIRE),
                    {"password": USERS["alice"]}, events.append, DirectApplier(),
                ),
                build_stack(
                    _profile(Protocol.L2TP, host, "bob", (PPPAuth.CHAP_MD5,), MppePolicy.ALLOW),
                    {"password": USERS["bob"]}, events.append, DirectApplier(),
                ),
            ]
            try:
                ups = list(await asyncio.gather(*(s.connect() for s in stacks)))
                # Both tunnels have the same peer address: bind each ping to its own interface.
                pings = await asyncio.gather(*(_ping(lab, SERVER_ADDRESS, up.settings.ifname) for up in ups))
                assert all(_received(p) == PINGS for p in pings), pings
                lab.gateway.proc.send_signal(15)
                async with asyncio.timeout(15):
                    downs = list(await asyncio.gather(*(s.wait_closed() for s in stacks)))
            finally:
                for stack in stacks:
                    await stack.close()
            return ups, downs

        with netns.entered(lab.ns.client):
            try:
                ups, downs = asyncio.run(main())
            finally:
                leftover = _network_state()
        assert leftover == []
        addresses = {up.settings.local_ipv4 for up in ups}
        assert len(addresses) == 2, addresses
        for down in downs:  # a polite hang-up (PPP Terminate or the call cleared), not a lost link
            assert not down.deliberate
            assert re.search(r"server .*(closed the connection|ended the call|hung up the call)", down.reason), down.reason
        assert lab.gateway.proc.wait(10) == 0
        output = lab.gateway.output
        print("\n" + "\n".join(d.reason for d in downs) + "\n" + output)
        assert "gateway: stopping (SIGTERM); hanging up 2 session(s)" in output, output
        assert "gateway: stopped" in output, output
        assert _gateway_devices(lab, settle=0) == []


def test_l2tp_tunnel_secret(tmp_path: Path) -> None:
    """With ``l2tp.secret`` set, a client knowing it connects; one with another secret is refused."""
    changes = {"l2tp": {"allowed_auth": ["mschapv2"], "secret": "tunnel-secret-9"}}
    with running_gateway(tmp_path, changes=changes) as lab:
        profile = _profile(Protocol.L2TP, lab.ns.gateway_addr, "bob", (PPPAuth.MSCHAPV2,), MppePolicy.ALLOW)
        secrets = {"password": USERS["bob"]}

        def stack_with(secret: str) -> Callable[[StatusSink], VpnStack]:
            return lambda sink: L2tpStack(
                lab.ns.gateway_addr, ppp_config_for(profile, secrets), sink, DirectApplier(),
                routing=route_choice_for(profile), connect_timeout=10.0, l2tp_config=L2TPConfig(secret=secret),
            )

        outcome = _connect(lab, profile, "", None, make_stack=stack_with("tunnel-secret-9"))
        assert outcome.connected.settings.peer_ipv4 == SERVER_ADDRESS
        assert outcome.leftover == []
        with pytest.raises(StackError) as info:
            _connect(lab, profile, "", None, make_stack=stack_with("another-secret"))
        assert "secret" in info.value.reason, info.value.reason
        lab.gateway.wait_for(r"l2tp .*: tunnel closed: .*tunnel secret")
        assert "tunnel-secret-9" not in lab.gateway.output and "another-secret" not in lab.gateway.output


def test_second_gateway_on_the_same_ports_fails_clearly(gateway_lab: GatewayLab, tmp_path: Path) -> None:
    path = tmp_path / "again.json"
    path.write_text(json.dumps(gateway_config(gateway_lab.ns.gateway_addr)))
    code = "import sys; from pathlib import Path; from wizard.stacks.gateway import main_gateway; " \
           "sys.exit(main_gateway(Path(sys.argv[1])))"
    proc = subprocess.run(
        ["ip", "netns", "exec", gateway_lab.ns.gateway, sys.executable, "-c", code, str(path)],
        cwd=REPO, capture_output=True, text=True, timeout=30, check=False,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "gateway: cannot start: cannot listen on TCP 192.0.2.1:1723 for PPTP: address already in use (" in proc.stdout, proc.stdout
    assert proc.stderr == ""
    assert gateway_lab.gateway.proc.poll() is None  # the first one carries on


def test_gateway_never_prints_a_secret(gateway_lab: GatewayLab) -> None:
    """Runs last in this module, so the shared gateway has served every test above (wrong passwords too)."""
    output = gateway_lab.gateway.output
    assert "gateway: ready" in output
    for password in (*USERS.values(), "not-the-password", "guess"):
        assert password not in output
