"""Our PPTP and L2TP clients against the lab's real pptpd and xl2tpd+pppd.

Each test runs the client stack in the lab's namespace (this thread enters it), brings the tunnel
up, checks what IPCP gave us, pings the server's PPP address 100 times through the tunnel, and
disconnects; then nothing of ours (TUN device, address, route) may be left in the namespace. The
server's own log lines are checked too, so a pass means the real peer agreed.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import subprocess
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest
from pyroute2 import IPRoute

from tests.interop.conftest import Lab
from wizard.profiles.model import Auth, Gateway, MppePolicy, PPPAuth, PPPOptions, Profile, Protocol
from wizard.stacks.applier import DirectApplier
from wizard.stacks.base import Connected, StackError, StatusEvent
from wizard.stacks.registry import build_stack

pytestmark = pytest.mark.interop

PINGS = 100


@dataclass
class Outcome:
    connected: Connected
    events: list[StatusEvent]
    ping_output: str
    leftover: list[str]


def _profile(
    protocol: Protocol, host: str, methods: tuple[PPPAuth, ...], mppe: MppePolicy, bits=(128,), stateful=False
):
    return Profile(
        name="lab",
        protocol=protocol,
        gateways=(Gateway(host),),
        auth=Auth(username="vmlab", ppp_methods=methods),
        ppp=PPPOptions(mppe=mppe, mppe_bits=bits, mppe_stateful=stateful, lcp_echo_interval=5),
    )


def _our_network_state() -> list[str]:
    """Our TUN devices and every address/route on them, read in the current namespace."""
    found: list[str] = []
    with IPRoute() as ipr:
        for link in ipr.get_links():
            name = link.get("ifname")
            if name.startswith("cw"):
                found.append(f"device {name}")
        for route in ipr.get_routes(family=2):
            if route.get("proto") == 119:  # routes we add carry our proto number
                found.append(f"route {route.get('dst')}/{route['dst_len']}")
    return found


async def _run_ping(*args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec("ping", *args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode()


async def _ping(target: str) -> str:
    """100 pings once the path answers: the server's pppd configures its side of the link a
    moment after IPCP completes (about 0.3 s in the emulated VM), so the first echo may be lost."""
    for _ in range(20):
        if (await _run_ping("-c", "1", "-W", "0.5", target))[0] == 0:
            break
    return (await _run_ping("-c", str(PINGS), "-i", "0.05", "-W", "2", "-q", target))[1]


def _connect(lab: Lab, profile: Profile, password: str, body: Callable[[Connected], Awaitable[str]] | None) -> Outcome:
    events: list[StatusEvent] = []

    async def main() -> Outcome:
        stack = build_stack(profile, {"password": password}, events.append, DirectApplier())
        connected = await stack.connect()
        try:
            output = await body(connected) if body else ""
        finally:
            await stack.close()
        return Outcome(connected, events, output, [])

    with lab.entered():
        try:
            outcome = asyncio.run(main())
        finally:
            leftover = _our_network_state()
    outcome.leftover = leftover
    return outcome


def _ping_peer(connected: Connected) -> Awaitable[str]:
    assert connected.settings.peer_ipv4 is not None
    return _ping(connected.settings.peer_ipv4)


def _received(ping_output: str) -> int:
    match = re.search(r"(\d+) received", ping_output)
    assert match, ping_output
    return int(match.group(1))


def _check_up(outcome: Outcome, lab: Lab, network: str, server: str) -> dict[str, str]:
    negotiated = outcome.connected.negotiated.as_dict()
    settings = outcome.connected.settings
    assert ipaddress.ip_address(settings.local_ipv4) in ipaddress.ip_network(network), settings
    assert settings.peer_ipv4 == server
    assert settings.dns_servers == lab.dns_servers
    assert _received(outcome.ping_output) == PINGS, outcome.ping_output
    assert outcome.leftover == [], outcome.leftover
    print(f"\n{outcome.connected.negotiated.protocol}: {negotiated}\n{outcome.ping_output.strip()}")
    return negotiated


def test_pptp_mschapv2_mppe128_against_pptpd(lab: Lab) -> None:
    offset = lab.log_offset()
    profile = _profile(Protocol.PPTP, lab.gateway, (PPPAuth.MSCHAPV2,), MppePolicy.REQUIRE)
    outcome = _connect(lab, profile, lab.password, _ping_peer)
    negotiated = _check_up(outcome, lab, "10.66.0.0/24", "10.66.0.1")
    assert negotiated["authentication"] == "MS-CHAPv2"
    assert negotiated["encryption"] == "MPPE-128 stateless"
    lines = lab.wait_for_server_log(offset, r"pppd.*MPPE 128-bit stateless compression enabled")
    assert any(re.search(r"pppd.*peer from calling number 10\.77\.0\.1 authorized", line) for line in lines), lines


def test_pptp_legacy_server_with_stateful_mppe40(lab: Lab) -> None:
    offset = lab.log_offset()
    profile = _profile(
        Protocol.PPTP, lab.legacy_gateway, (PPPAuth.MSCHAPV2,), MppePolicy.REQUIRE, bits=(40,), stateful=True
    )
    outcome = _connect(lab, profile, lab.password, _ping_peer)
    negotiated = _check_up(outcome, lab, "10.66.1.0/24", "10.66.1.1")
    # We ask for stateful MPPE (pppd never does, but accepts it): pppd's packets to us are stateful,
    # ours to it stay stateless as pppd asked; both directions carried every ping.
    assert negotiated["encryption"] == "MPPE-40 stateless sending, MPPE-40 stateful receiving"
    lines = lab.wait_for_server_log(offset, r"pppd.*MPPE 40-bit \w+ compression enabled")
    assert any(re.search(r"pppd.*sent \[CCP ConfAck id=0x\w+ <mppe -H -M -S \+L", line) for line in lines), lines


@pytest.mark.parametrize(
    ("method", "host_attr", "network", "server", "shown"),
    [
        (PPPAuth.MSCHAPV2, "gateway", "10.99.0.0/24", "10.99.0.1", "MS-CHAPv2"),
        (PPPAuth.CHAP_MD5, "legacy_gateway", "10.99.1.0/24", "10.99.1.1", "CHAP-MD5"),
        (PPPAuth.PAP, "legacy_gateway", "10.99.1.0/24", "10.99.1.1", "PAP"),
    ],
)
def test_l2tp_against_xl2tpd(lab: Lab, method: PPPAuth, host_attr: str, network: str, server: str, shown: str) -> None:
    offset = lab.log_offset()
    profile = _profile(Protocol.L2TP, getattr(lab, host_attr), (method,), MppePolicy.ALLOW)
    outcome = _connect(lab, profile, lab.password, _ping_peer)
    negotiated = _check_up(outcome, lab, network, server)
    assert negotiated["authentication"] == shown
    lines = lab.wait_for_server_log(offset, r"xl2tpd.*(Connection established|Call established)")
    assert any(lab.host in line for line in lines if "xl2tpd" in line), lines


@pytest.mark.parametrize(("protocol", "host_attr"), [(Protocol.PPTP, "gateway"), (Protocol.L2TP, "gateway")])
def test_wrong_password_fails_with_a_clear_message(lab: Lab, protocol: Protocol, host_attr: str) -> None:
    profile = _profile(protocol, getattr(lab, host_attr), (PPPAuth.MSCHAPV2,), MppePolicy.ALLOW)
    with pytest.raises(StackError) as info:
        _connect(lab, profile, "not-the-password", None)
    assert "rejected the user name or password" in info.value.reason, info.value.reason
    with lab.entered():
        assert _our_network_state() == []


def test_no_server_fails_with_a_clear_message(lab: Lab) -> None:
    profile = _profile(Protocol.PPTP, "10.77.0.99", (PPPAuth.MSCHAPV2,), MppePolicy.REQUIRE)
    with pytest.raises(StackError) as info:
        _connect(lab, profile, lab.password, None)
    assert "10.77.0.99" in info.value.reason, info.value.reason


def test_foreground_cli_connects_and_cleans_up_on_sigint(lab: Lab, tmp_path, isolated_xdg) -> None:
    """`connection-wizard connect NAME --foreground` as an administrator runs it, then Ctrl-C."""
    import os
    import signal
    import sys
    import time

    env = dict(os.environ)
    added = subprocess.run(
        [
            sys.executable,
            "-m",
            "wizard",
            "add",
            "--name",
            "Lab PPTP",
            "--protocol",
            "pptp",
            "--gateway",
            lab.gateway,
            "--username",
            lab.user,
            "--credential-policy",
            "username_only",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert added.returncode == 0, added.stderr
    proc = subprocess.Popen(
        [
            "ip",
            "netns",
            "exec",
            lab.namespace,
            sys.executable,
            "-m",
            "wizard",
            "connect",
            "Lab PPTP",
            "--foreground",
            "--secrets-stdin",
        ],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(lab.password + "\n")
    proc.stdin.close()
    lines: list[str] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        lines.append(line)
        if line.strip().startswith("interface ") or not line:
            break
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=20)
    rest = proc.stdout.read()
    output = "".join(lines) + rest
    assert proc.returncode == 0, output
    assert "encryption       MPPE-128 stateless" in output and "disconnected: disconnected (SIGINT)" in output, output
    assert lab.password not in output
    with lab.entered():
        assert _our_network_state() == []
