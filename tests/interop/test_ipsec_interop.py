"""Our IKEv1/ESP stacks against the lab's real strongSwan (and xl2tpd behind it).

L2TP/IPsec (scenario d+g: IKEv1 Main Mode PSK, ESP transport for UDP 1701, then xl2tpd + pppd with
MS-CHAPv2), with modern and with legacy algorithms; IKEv1 XAUTH + Mode Config tunnel (scenario e);
wrong PSK and an unacceptable proposal; and NAT-T through a masquerading NAT built here with
nftables. Each connection pings through the tunnel 100 times; charon's own log must agree.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.interop.conftest import Lab
from tests.interop.test_ppp_interop import PINGS, _our_network_state, _ping, _received
from wizard.net import netns
from wizard.profiles.model import (
    Auth,
    CryptoPolicy,
    Gateway,
    MppePolicy,
    PPPOptions,
    Profile,
    Protocol,
    SecretKind,
)
from wizard.stacks.applier import DirectApplier
from wizard.stacks.base import Connected, StackError, StatusEvent
from wizard.stacks.registry import build_stack

pytestmark = pytest.mark.interop

MODERN_IKE, MODERN_ESP = ("aes256-sha256-modp2048",), ("aes256-sha256",)
LEGACY_IKE, LEGACY_ESP = ("3des-sha1-modp1024",), ("3des-sha1",)


def _profile(protocol: Protocol, host: str, ike: tuple[str, ...], esp: tuple[str, ...]) -> Profile:
    legacy = any("3des" in p or "modp1024" in p for p in ike + esp)
    return Profile(
        name="lab ipsec",
        protocol=protocol,
        gateways=(Gateway(host),),
        auth=Auth(username="vmlab", secrets=(SecretKind.PASSWORD, SecretKind.PSK)),
        ppp=PPPOptions(mppe=MppePolicy.REFUSE),
        crypto=CryptoPolicy(ike_proposals=ike, esp_proposals=esp, allow_legacy=legacy),
    )


def _run(
    namespace: str, profile: Profile, secrets: dict[str, str], target: str | None
) -> tuple[Connected, str, list[str]]:
    events: list[StatusEvent] = []

    async def main() -> tuple[Connected, str]:
        stack = build_stack(profile, secrets, events.append, DirectApplier())
        connected = await stack.connect()
        try:
            output = await _ping(target or connected.settings.peer_ipv4 or "") if target != "" else ""
        finally:
            await stack.close()
        return connected, output

    with netns.entered(namespace):
        try:
            connected, output = asyncio.run(main())
        finally:
            leftover = _our_network_state()
    return connected, output, leftover


def _secrets(lab: Lab, psk: str | None = None) -> dict[str, str]:
    return {"password": lab.password, "psk": psk or lab.psk}


@pytest.mark.parametrize(
    ("ike", "esp", "suite"),
    [
        (MODERN_IKE, MODERN_ESP, "AES_CBC_256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048"),
        (LEGACY_IKE, LEGACY_ESP, "3DES_CBC/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_1024"),
    ],
    ids=["aes256-sha256-modp2048", "3des-sha1-modp1024"],
)
def test_l2tp_ipsec_against_strongswan_and_xl2tpd(
    lab: Lab, ike: tuple[str, ...], esp: tuple[str, ...], suite: str
) -> None:
    offset = lab.log_offset()
    connected, output, leftover = _run(
        lab.namespace, _profile(Protocol.L2TP_IPSEC, lab.gateway, ike, esp), _secrets(lab), None
    )
    negotiated = connected.negotiated.as_dict()
    assert ipaddress.ip_address(connected.settings.local_ipv4) in ipaddress.ip_network("10.99.0.0/24")
    assert connected.settings.dns_servers == lab.dns_servers
    assert negotiated["esp"].startswith("ESP transport") and negotiated["authentication"] == "MS-CHAPv2"
    assert _received(output) == PINGS, output
    assert leftover == [], leftover
    print(f"\nl2tp_ipsec {ike[0]}: {negotiated}\n{output.strip()}")
    lines = lab.wait_for_server_log(offset, r"charon.*CHILD_SA ikev1-l2tp\{\d+\} established")
    assert any(suite in line and "selected proposal" in line for line in lines), [x for x in lines if "proposal" in x]
    assert any("xl2tpd" in line and "Connection established" in line for line in lab.server_log_since(offset))


def test_ikev1_xauth_tunnel_with_virtual_ip(lab: Lab) -> None:
    offset = lab.log_offset()
    profile = _profile(Protocol.IKEV1_XAUTH, lab.gateway, MODERN_IKE, MODERN_ESP)
    connected, output, leftover = _run(lab.namespace, profile, _secrets(lab), lab.inside)
    settings = connected.settings
    assert ipaddress.ip_address(settings.local_ipv4) in ipaddress.ip_network("10.88.4.0/24"), settings
    assert settings.dns_servers == lab.dns_servers
    assert connected.negotiated.as_dict()["esp"].startswith("ESP tunnel")
    assert _received(output) == PINGS, output
    assert leftover == [], leftover
    print(f"\nikev1_xauth: {connected.negotiated.as_dict()}\n{output.strip()}")
    lines = lab.wait_for_server_log(offset, r"charon.*CHILD_SA ikev1-xauth\{\d+\} established")
    assert any("XAuth authentication of 'vmlab' successful" in line for line in lines), lines


def test_wrong_psk_fails_in_plain_language(lab: Lab) -> None:
    profile = _profile(Protocol.L2TP_IPSEC, lab.gateway, MODERN_IKE, MODERN_ESP)
    with pytest.raises(StackError) as info:
        _run(lab.namespace, profile, _secrets(lab, psk="not-the-key"), "")
    assert "pre-shared key" in info.value.reason, info.value.reason
    with netns.entered(lab.namespace):
        assert _our_network_state() == []


def test_unacceptable_proposal_names_what_was_offered(lab: Lab) -> None:
    profile = _profile(Protocol.L2TP_IPSEC, lab.gateway, ("aes256-sha512-modp4096",), MODERN_ESP)
    with pytest.raises(StackError) as info:
        _run(lab.namespace, profile, _secrets(lab), "")
    reason = info.value.reason
    assert "NO_PROPOSAL_CHOSEN" in reason and "MODP-4096" in reason, reason


NAT_NS = "cwnat-client"


@contextmanager
def _behind_nat(lab: Lab) -> Iterator[str]:
    """A client namespace whose traffic the lab namespace masquerades to 10.77.0.1 (nftables)."""

    def sh(*argv: str) -> None:
        subprocess.run(argv, check=True, capture_output=True)

    subprocess.run(["ip", "netns", "del", NAT_NS], capture_output=True, check=False)
    sh("ip", "netns", "add", NAT_NS)
    try:
        sh("ip", "link", "add", "natc-in", "netns", lab.namespace, "type", "veth", "peer", "natc-out", "netns", NAT_NS)
        sh("ip", "-n", lab.namespace, "addr", "add", "10.78.0.1/24", "dev", "natc-in")
        sh("ip", "-n", lab.namespace, "link", "set", "natc-in", "up")
        sh("ip", "-n", NAT_NS, "addr", "add", "10.78.0.2/24", "dev", "natc-out")
        sh("ip", "-n", NAT_NS, "link", "set", "natc-out", "up")
        sh("ip", "-n", NAT_NS, "link", "set", "lo", "up")
        sh("ip", "-n", NAT_NS, "route", "add", "default", "via", "10.78.0.1")
        sh("ip", "netns", "exec", lab.namespace, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        nft = ("ip", "netns", "exec", lab.namespace, "nft")
        sh(*nft, "add", "table", "ip", "cw_nat_test")
        sh(*nft, "add", "chain", "ip", "cw_nat_test", "post", "{ type nat hook postrouting priority srcnat; }")
        sh(
            *nft,
            "add",
            "rule",
            "ip",
            "cw_nat_test",
            "post",
            "ip",
            "saddr",
            "10.78.0.0/24",
            "oifname",
            "vmlab-br0",
            "masquerade",
        )
        yield NAT_NS
    finally:
        subprocess.run(
            ["ip", "netns", "exec", lab.namespace, "nft", "delete", "table", "ip", "cw_nat_test"],
            capture_output=True,
            check=False,
        )
        subprocess.run(["ip", "-n", lab.namespace, "link", "del", "natc-in"], capture_output=True, check=False)
        subprocess.run(["ip", "netns", "del", NAT_NS], capture_output=True, check=False)


def test_nat_t_floats_to_4500_behind_a_nat(lab: Lab) -> None:
    offset = lab.log_offset()
    with _behind_nat(lab) as namespace:
        profile = _profile(Protocol.L2TP_IPSEC, lab.gateway, MODERN_IKE, MODERN_ESP)
        connected, output, leftover = _run(namespace, profile, _secrets(lab), None)
    negotiated = connected.negotiated.as_dict()
    assert negotiated["nat-t"].startswith("UDP 4500"), negotiated
    assert _received(output) == PINGS, output
    assert leftover == [], leftover
    print(f"\nNAT-T: {negotiated}\n{output.strip()}")
    lines = lab.wait_for_server_log(offset, r"charon.*CHILD_SA ikev1-l2tp\{\d+\} established")
    assert any(re.search(r"remote host is behind NAT", line) for line in lines), [x for x in lines if "NAT" in x]
    assert any(re.search(r"10\.77\.0\.1\[4500\]", line) for line in lines)
