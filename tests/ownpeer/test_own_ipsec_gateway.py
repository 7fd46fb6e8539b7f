"""Our IPsec clients against our own IPsec gateway, over veth between two network namespaces.

The same checks as against the lab's strongSwan: L2TP/IPsec with a modern and a legacy suite (the
gateway allows legacy), an IKEv1 XAUTH tunnel with a Mode Config address; 100 pings through each
come back; a wrong pre-shared key, a wrong XAUTH password and an unacceptable proposal fail with
plain-language reasons; nothing is left behind in either namespace, and the gateway never prints
a secret.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import ipaddress
import json
import random
import re
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.ownpeer.conftest import (
    DNS,
    POOL,
    SERVER_ADDRESS,
    USERS,
    GatewayLab,
    GatewayProcess,
    gateway_config,
    ip,
    namespaces,
    running_gateway,
)
from tests.ownpeer.test_own_gateway import (
    PINGS,
    _gateway_devices,
    _network_state,
    _ping,
    _received,
)
from wizard.net import netns
from wizard.profiles.model import (
    Auth,
    CryptoPolicy,
    Gateway,
    MppePolicy,
    PPPAuth,
    PPPOptions,
    Profile,
    Protocol,
    SecretKind,
)
from wizard.stacks.applier import DirectApplier
from wizard.stacks.base import Connected, Disconnected, StackError, StatusEvent
from wizard.stacks.registry import build_stack

pytestmark = pytest.mark.root

PSK = "own-gateway-psk-31"
MODERN = (("aes256-sha256-modp2048",), ("aes256-sha256",))
LEGACY = (("3des-sha1-modp1024",), ("3des-sha1",))

IPSEC: dict[str, Any] = {
    "psk": PSK,
    "services": ["l2tp_ipsec", "ikev1_xauth"],
    "ike_proposals": ["aes256-sha256-modp2048", "aes128-sha256-modp2048", "3des-sha1-modp1024"],
    "esp_proposals": ["aes256-sha256", "aes128-sha256", "3des-sha1"],
    "allow_legacy": True,
}


def ipsec_changes(**ipsec: Any) -> dict[str, Any]:
    """Gateway configuration changes: IPsec services only (no plain PPTP or L2TP)."""
    return {
        "protocols": [],
        "l2tp": {"allowed_auth": ["mschapv2"], "mppe": "allow"},
        "ipsec": {**IPSEC, **ipsec},
    }


@pytest.fixture(scope="module")
def ipsec_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayLab]:
    with running_gateway(tmp_path_factory.mktemp("ipsec-gateway"), changes=ipsec_changes()) as lab:
        yield lab


def _profile(protocol: Protocol, host: str, user: str, proposals: tuple[tuple[str, ...], tuple[str, ...]]) -> Profile:
    ike, esp = proposals
    return Profile(
        name="own ipsec",
        protocol=protocol,
        gateways=(Gateway(host),),
        auth=Auth(username=user, secrets=(SecretKind.PASSWORD, SecretKind.PSK), ppp_methods=(PPPAuth.MSCHAPV2,)),
        ppp=PPPOptions(mppe=MppePolicy.REFUSE, lcp_echo_interval=5),
        crypto=CryptoPolicy(ike_proposals=ike, esp_proposals=esp, allow_legacy=proposals == LEGACY),
    )


def _run(lab: GatewayLab, profile: Profile, secrets: dict[str, str], target: str | None) -> tuple[Connected, str, list[str]]:
    """Connect in the client namespace, ping ``target`` (None: no ping), disconnect; leftovers after."""
    events: list[StatusEvent] = []

    async def main() -> tuple[Connected, str]:
        stack = build_stack(profile, secrets, events.append, DirectApplier())
        connected = await stack.connect()
        try:
            output = await _ping(lab, target) if target else ""
        finally:
            await stack.close()
        return connected, output

    with netns.entered(lab.ns.client):
        try:
            connected, output = asyncio.run(main())
        finally:
            leftover = _network_state()
    return connected, output, leftover


def _secrets(user: str, psk: str = PSK) -> dict[str, str]:
    return {"password": USERS[user], "psk": psk}


def _in_pool(address: str | None) -> bool:
    low, high = (int(ipaddress.IPv4Address(a)) for a in POOL)
    return address is not None and low <= int(ipaddress.IPv4Address(address)) <= high


def test_garbage_on_the_ike_ports_does_not_disturb_the_gateway(ipsec_lab: GatewayLab) -> None:
    """Junk on UDP 500 and 4500 (some shaped like IKE or ESP) and raw ESP junk: dropped; it serves on."""
    rng = random.Random(11)
    gateway = ipsec_lab.ns.gateway_addr
    with netns.entered(ipsec_lab.ns.client):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            for i in range(300):
                junk = rng.randbytes(rng.randrange(0, 300))
                header = rng.randbytes(8) + bytes(8) + bytes([1, 0x10, 2, 0]) + bytes(4) + (28 + len(junk)).to_bytes(4, "big")
                udp.sendto(header + junk if i % 3 == 0 else junk, (gateway, 500))
                udp.sendto(bytes(4) + header + junk if i % 3 == 1 else junk, (gateway, 4500))
        with socket.socket(socket.AF_INET, socket.SOCK_RAW, 50) as raw:
            for _ in range(50):
                raw.sendto(rng.randbytes(rng.randrange(8, 200)), (gateway, 0))
    assert ipsec_lab.gateway.proc.poll() is None
    assert "Traceback" not in ipsec_lab.gateway.output


@pytest.mark.parametrize(
    ("proposals", "suite"),
    [(MODERN, "AES-256/SHA-256/MODP-2048"), (LEGACY, "3DES/SHA-1/MODP-1024")],
    ids=["aes256-sha256-modp2048", "3des-sha1-modp1024"],
)
def test_l2tp_ipsec(ipsec_lab: GatewayLab, proposals: tuple[tuple[str, ...], tuple[str, ...]], suite: str) -> None:
    mark = ipsec_lab.gateway.mark()
    profile = _profile(Protocol.L2TP_IPSEC, ipsec_lab.ns.gateway_addr, "bob", proposals)
    connected, output, leftover = _run(ipsec_lab, profile, _secrets("bob"), SERVER_ADDRESS)
    settings, negotiated = connected.settings, connected.negotiated.as_dict()
    print(f"\nl2tp_ipsec {proposals[0][0]}: {negotiated}\n{output.strip()}")
    assert _in_pool(settings.local_ipv4) and settings.peer_ipv4 == SERVER_ADDRESS, settings
    assert settings.dns_servers == DNS
    assert suite in negotiated["ike"], negotiated
    assert negotiated["esp"].startswith(f"ESP transport {proposals[1][0].split('-')[0]}"), negotiated
    assert negotiated["authentication"] == "MS-CHAPv2"
    assert _received(output) == PINGS, output
    assert leftover == [], leftover
    assert _gateway_devices(ipsec_lab) == []
    gw, client = ipsec_lab.gateway, ipsec_lab.ns.client_addr
    gw.wait_for(rf"ipsec {client}: IKE SA up: .*{re.escape(suite)}", mark)
    gw.wait_for(rf"ipsec {client}: IPsec SA up: ESP transport .*\[17/1701\]", mark)
    gw.wait_for(rf"l2tp {client}:1701: connected", mark)
    gw.wait_for(r"l2tp .*: auth ok: user 'bob' \(MS-CHAPv2\)", mark)
    gw.wait_for(rf"l2tp .*: user 'bob' got address {settings.local_ipv4} ", mark)
    gw.wait_for(rf"ipsec {client}: closed: .*\((\d+) packets in, (\d+) packets out\)", mark)


def test_ikev1_xauth_tunnel_with_virtual_ip(ipsec_lab: GatewayLab) -> None:
    mark = ipsec_lab.gateway.mark()
    profile = _profile(Protocol.IKEV1_XAUTH, ipsec_lab.ns.gateway_addr, "alice", MODERN)
    connected, output, leftover = _run(ipsec_lab, profile, _secrets("alice"), SERVER_ADDRESS)
    settings, negotiated = connected.settings, connected.negotiated.as_dict()
    print(f"\nikev1_xauth: {negotiated}\n{output.strip()}")
    assert _in_pool(settings.local_ipv4), settings
    assert settings.dns_servers == DNS
    assert negotiated["esp"].startswith("ESP tunnel aes256"), negotiated
    assert negotiated["authentication"] == "pre-shared key + XAUTH"
    assert _received(output) == PINGS, output
    assert leftover == [], leftover
    assert _gateway_devices(ipsec_lab) == []
    gw, client = ipsec_lab.gateway, ipsec_lab.ns.client_addr
    gw.wait_for(rf"ipsec {client}: auth ok: user 'alice' \(XAUTH\)", mark)
    gw.wait_for(rf"ipsec {client}: user 'alice' got address {settings.local_ipv4} on cwg\d+", mark)
    line = gw.wait_for(rf"ipsec {client}: closed: .*\((\d+) packets in, (\d+) packets out\)", mark)
    packets_in = int(re.search(r"\((\d+) packets in", line).group(1))  # type: ignore[union-attr]
    assert packets_in >= PINGS, line


def test_wrong_psk_fails_in_plain_language(ipsec_lab: GatewayLab) -> None:
    mark = ipsec_lab.gateway.mark()
    profile = _profile(Protocol.L2TP_IPSEC, ipsec_lab.ns.gateway_addr, "bob", MODERN)
    with pytest.raises(StackError) as info:
        _run(ipsec_lab, profile, _secrets("bob", psk="not-the-key"), None)
    print(f"\nwrong PSK: {info.value.reason}")
    assert "pre-shared key" in info.value.reason, info.value.reason
    with netns.entered(ipsec_lab.ns.client):
        assert _network_state() == []
    line = ipsec_lab.gateway.wait_for(rf"ipsec {ipsec_lab.ns.client_addr}: (failed|closed): ", mark)
    print(line)


def test_wrong_xauth_password_fails_in_plain_language(ipsec_lab: GatewayLab) -> None:
    mark = ipsec_lab.gateway.mark()
    profile = _profile(Protocol.IKEV1_XAUTH, ipsec_lab.ns.gateway_addr, "alice", MODERN)
    with pytest.raises(StackError) as info:
        _run(ipsec_lab, profile, {"password": "not-alices-password", "psk": PSK}, None)
    assert "rejected the user name or password" in info.value.reason, info.value.reason
    with netns.entered(ipsec_lab.ns.client):
        assert _network_state() == []
    ipsec_lab.gateway.wait_for(rf"ipsec {ipsec_lab.ns.client_addr}: auth failed: user 'alice' \(XAUTH\)", mark)
    assert _gateway_devices(ipsec_lab) == []


def test_unacceptable_proposal_names_what_was_offered(ipsec_lab: GatewayLab) -> None:
    mark = ipsec_lab.gateway.mark()
    profile = _profile(Protocol.L2TP_IPSEC, ipsec_lab.ns.gateway_addr, "bob", (("aes256-sha512-modp4096",), MODERN[1]))
    with pytest.raises(StackError) as info:
        _run(ipsec_lab, profile, _secrets("bob"), None)
    reason = info.value.reason
    print(f"\nunacceptable proposal: {reason}")
    assert "NO_PROPOSAL_CHOSEN" in reason and "MODP-4096" in reason, reason
    ipsec_lab.gateway.wait_for(rf"ipsec {ipsec_lab.ns.client_addr}: failed: .*MODP-4096", mark)


@pytest.mark.parametrize("protocol", [Protocol.L2TP_IPSEC, Protocol.IKEV1_XAUTH])
def test_esp_in_udp_4500_when_the_gateway_claims_a_nat(tmp_path: Path, protocol: Protocol) -> None:
    """``force_encapsulation``: the gateway's NAT-D says it is behind a NAT, so ESP rides in UDP 4500 both ways."""
    with running_gateway(tmp_path, changes=ipsec_changes(force_encapsulation=True)) as lab:
        user = "bob" if protocol is Protocol.L2TP_IPSEC else "alice"
        connected, output, leftover = _run(lab, _profile(protocol, lab.ns.gateway_addr, user, MODERN), _secrets(user), SERVER_ADDRESS)
        negotiated = connected.negotiated.as_dict()
        print(f"\n{protocol.value} over UDP 4500: {negotiated}\n{output.strip()}")
        assert negotiated["nat-t"].startswith("UDP 4500"), negotiated
        assert _received(output) == PINGS, output
        assert leftover == []
        lab.gateway.wait_for(rf"ipsec {lab.ns.client_addr}: NAT detected: IKE and ESP move to UDP 4500")
        lab.gateway.wait_for(rf"ipsec {lab.ns.client_addr}: IPsec SA up: .*UDP-encapsulated")
        lab.gateway.wait_for(rf"ipsec {lab.ns.client_addr}: closed: ")
        assert _gateway_devices(lab) == []


@contextlib.contextmanager
def _behind_a_nat(tmp: Path) -> Iterator[tuple[GatewayLab, str]]:
    """Our gateway, and a client namespace whose traffic a router namespace masquerades (nftables).

    gateway 192.0.2.1 -- veth -- 192.0.2.2 router 10.78.0.1 -- veth -- 10.78.0.2 client.
    Yields the lab (its ``ns.client`` is the router's namespace) and the client's namespace.
    """
    with namespaces() as ns:
        client = f"{ns.client}n"
        subprocess.run(["ip", "netns", "del", client], capture_output=True, check=False)
        ip("netns", "add", client)
        try:
            ip("-n", client, "link", "set", "lo", "up")
            ip("-n", ns.client, "link", "add", "vn", "type", "veth", "peer", "name", "vx", "netns", client)
            ip("-n", ns.client, "addr", "add", "10.78.0.1/24", "dev", "vn")
            ip("-n", ns.client, "link", "set", "vn", "up")
            ip("-n", client, "addr", "add", "10.78.0.2/24", "dev", "vx")
            ip("-n", client, "link", "set", "vx", "up")
            ip("-n", client, "route", "add", "default", "via", "10.78.0.1")
            router = ("ip", "netns", "exec", ns.client)
            subprocess.run([*router, "sysctl", "-qw", "net.ipv4.ip_forward=1"], check=True)
            nft = (*router, "nft")
            subprocess.run([*nft, "add", "table", "ip", "cwnat"], check=True)
            subprocess.run([*nft, "add", "chain", "ip", "cwnat", "post", "{ type nat hook postrouting priority srcnat; }"],
                           check=True)  # fmt: skip
            subprocess.run([*nft, "add", "rule", "ip", "cwnat", "post", "oifname", "vc", "masquerade"], check=True)
            config = {**gateway_config(ns.gateway_addr), **ipsec_changes()}
            path = tmp / "gateway.json"
            path.write_text(json.dumps(config))
            gw = GatewayProcess.start(ns.gateway, path)
            try:
                gw.wait_for(r"gateway: ready")
                yield GatewayLab(ns, gw, config), client
            finally:
                gw.stop()
        finally:
            subprocess.run(["ip", "netns", "del", client], capture_output=True, check=False)


@pytest.mark.parametrize("protocol", [Protocol.L2TP_IPSEC, Protocol.IKEV1_XAUTH])
def test_nat_traversal_through_a_real_nat(tmp_path: Path, protocol: Protocol) -> None:
    """A client behind nftables masquerade: NAT-T floats to UDP 4500 and 100 pings come back."""
    with _behind_a_nat(tmp_path) as (lab, client_ns):
        user = "bob" if protocol is Protocol.L2TP_IPSEC else "alice"
        profile = _profile(protocol, lab.ns.gateway_addr, user, MODERN)
        inside = dataclasses.replace(lab, ns=dataclasses.replace(lab.ns, client=client_ns))
        connected, output, leftover = _run(inside, profile, _secrets(user), SERVER_ADDRESS)
        negotiated = connected.negotiated.as_dict()
        print(f"\n{protocol.value} behind a NAT: {negotiated}\n{output.strip()}")
        assert negotiated["nat-t"].startswith("UDP 4500"), negotiated
        assert _received(output) == PINGS, output
        assert leftover == []
        public = re.escape(lab.ns.client_addr)  # the NAT's address on the gateway's side
        lab.gateway.wait_for(rf"ipsec {public}: NAT detected: IKE and ESP move to UDP 4500")
        lab.gateway.wait_for(rf"ipsec {public}: IKE SA up: .*, client 10\.78\.0\.2")
        lab.gateway.wait_for(rf"ipsec {public}: IPsec SA up: .*UDP-encapsulated")
        lab.gateway.wait_for(rf"ipsec {public}: closed: ")
        assert _gateway_devices(lab) == []


@pytest.mark.parametrize("protocol", [Protocol.IKEV1_XAUTH, Protocol.L2TP_IPSEC])
def test_sigterm_hangs_up_and_deletes_the_sas(tmp_path: Path, protocol: Protocol) -> None:
    """A client is up; SIGTERM: L2TP/PPP hang up through the SA first, then the SAs are deleted."""
    with running_gateway(tmp_path, changes=ipsec_changes()) as lab:
        user = "bob" if protocol is Protocol.L2TP_IPSEC else "alice"
        profile = _profile(protocol, lab.ns.gateway_addr, user, MODERN)
        events: list[StatusEvent] = []

        async def main() -> tuple[Connected, Disconnected]:
            stack = build_stack(profile, _secrets(user), events.append, DirectApplier())
            up = await stack.connect()
            try:
                ping = await _ping(lab, SERVER_ADDRESS)
                assert _received(ping) == PINGS, ping
                lab.gateway.proc.send_signal(15)
                async with asyncio.timeout(15):
                    down = await stack.wait_closed()
            finally:
                await stack.close()
            return up, down

        with netns.entered(lab.ns.client):
            try:
                _up, down = asyncio.run(main())
            finally:
                leftover = _network_state()
        assert leftover == []
        assert not down.deliberate
        assert lab.gateway.proc.wait(10) == 0
        output = lab.gateway.output
        print(f"\n{protocol.value}: {down.reason}\n{output}")
        if protocol is Protocol.IKEV1_XAUTH:
            assert "deleted" in down.reason, down.reason
        else:  # a polite hang-up inside the SA, not a lost link
            assert re.search(r"server .*(closed the connection|hung up)", down.reason), down.reason
            assert "and 1 IPsec peer(s)" in output, output
        # XAUTH: we delete the SAs. L2TP/IPsec: the client deletes them once its tunnel has hung up,
        # unless the gateway's own shutdown gets there first; either way the SAs are deleted, not dropped.
        closer = (
            "the gateway was stopped"
            if protocol is Protocol.IKEV1_XAUTH
            else "(the client closed the connection|the gateway was stopped)"
        )
        assert re.search(rf"ipsec .*: closed: {closer}", output), output
        assert "gateway: stopped" in output
        assert _gateway_devices(lab, settle=0) == []


def test_gateway_never_prints_a_secret(ipsec_lab: GatewayLab) -> None:
    """Runs last in this module: the shared gateway has served every test above."""
    output = ipsec_lab.gateway.output
    assert "gateway: IKEv1 listening on" in output
    for secret in (*USERS.values(), PSK, "not-the-key", "not-alices-password"):
        assert secret not in output
