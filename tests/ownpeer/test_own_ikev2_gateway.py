"""Our IKEv2 client against our own gateway's ``ikev2`` service, over veth between two network namespaces.

The same checks as against the lab's strongSwan: a pre-shared key, certificates both ways (a
throwaway CA made here; the gateway's certificate names its address) and EAP-MSCHAPv2 against the
gateway's users with the gateway proving itself by certificate. Each client gets an address from
the pool and the DNS servers from the configuration payload, and 100 pings to the gateway's
``server_address`` come back through the ESP tunnel. An IKEv1 XAUTH client is served by the same
sockets meanwhile. A wrong key, a wrong password and a certificate from an unknown CA fail with
plain-language reasons; SIGTERM deletes the SAs; nothing is left behind in either namespace and
the gateway never prints a secret.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import random
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.gateway.ikev2_pki import PkiFiles, write_pki
from tests.ownpeer import test_own_ipsec_gateway
from tests.ownpeer.conftest import (
    DNS,
    POOL,
    SERVER_ADDRESS,
    USERS,
    GatewayLab,
    Namespaces,
    gateway_config,
    namespaces,
    running_gateway,
)
from tests.ownpeer.test_own_gateway import PINGS, _gateway_devices, _network_state, _ping, _received
from tests.ownpeer.test_own_ipsec_gateway import _behind_a_nat, _run
from wizard.engine.ike.v2.config import IKEv2Config
from wizard.engine.ike.v2.connection import IKEv2Connection
from wizard.net import netns
from wizard.profiles.model import Auth, AuthMethod, Gateway, Profile, Protocol, SecretKind
from wizard.stacks.applier import DirectApplier
from wizard.stacks.base import Connected, Disconnected, StackError, StatusEvent
from wizard.stacks.gateway import ikev2_peer
from wizard.stacks.gateway.config import config_from_dict
from wizard.stacks.gateway.ipsec_server import IpsecServer
from wizard.stacks.gateway.shared import GatewayShared
from wizard.stacks.registry import build_stack

pytestmark = pytest.mark.root

PSK = "own-ikev2-psk-58"
WRONG = ("not-the-ikev2-key", "not-alices-password")
GATEWAY_ADDRESS = Namespaces("", "").gateway_addr


def ikev2_changes(**ipsec: Any) -> dict[str, Any]:
    """IPsec only: IKEv2 with every sign-in, and IKEv1 XAUTH on the same ports."""
    return {
        "protocols": [],
        "ipsec": {
            "psk": PSK,
            "services": ["ikev1_xauth", "ikev2"],
            "certificate_file": "gateway.pem",  # relative: next to the configuration file
            "private_key_file": "gateway.key",
            "ca_file": "ca.pem",
            **ipsec,
        },
    }


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, PkiFiles]:
    directory = tmp_path_factory.mktemp("ikev2-gateway")
    return directory, write_pki(directory, GATEWAY_ADDRESS)


@pytest.fixture(scope="module")
def ikev2_lab(pki_dir: tuple[Path, PkiFiles]) -> Iterator[GatewayLab]:
    with running_gateway(pki_dir[0], changes=ikev2_changes()) as lab:
        yield lab


def _auth(kind: str, pki: PkiFiles, user: str = "alice") -> Auth:
    if kind == "psk":
        return Auth(method=AuthMethod.PSK, secrets=(SecretKind.PSK,))
    if kind == "eap":
        return Auth(method=AuthMethod.EAP_MSCHAPV2, username=user, secrets=(SecretKind.PASSWORD,), ca_file=str(pki.ca))
    stranger = kind == "stranger"
    return Auth(
        method=AuthMethod.CERTIFICATE,
        secrets=(),
        certificate_file=str(pki.stranger_cert if stranger else pki.client_cert),
        private_key_file=str(pki.stranger_key if stranger else pki.client_key),
        ca_file=str(pki.ca),
    )


def _profile(kind: str, pki: PkiFiles, host: str) -> Profile:
    return Profile(name=f"own ikev2 {kind}", protocol=Protocol.IKEV2, gateways=(Gateway(host),), auth=_auth(kind, pki))


def _in_pool(address: str | None) -> bool:
    low, high = (int(ipaddress.IPv4Address(a)) for a in POOL)
    return address is not None and low <= int(ipaddress.IPv4Address(address)) <= high


def _counts(line: str) -> tuple[int, int]:
    m = re.search(r"\((\d+) packets in, (\d+) packets out\)", line)
    assert m, line
    return int(m.group(1)), int(m.group(2))


def test_ikev2_shaped_garbage_does_not_disturb_the_gateway(ikev2_lab: GatewayLab) -> None:
    """Runs first: IKE_SA_INIT-shaped junk (it makes a peer that never gets an IKE SA) and other IKEv2
    junk on both ports; the gateway prints no traceback and the client in the next test connects."""
    rng = random.Random(7)
    gateway = ikev2_lab.ns.gateway_addr
    with netns.entered(ikev2_lab.ns.client), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        for i in range(300):
            junk = rng.randbytes(rng.randrange(0, 300))
            flags = 0x08 if i % 2 else rng.randrange(256)
            header = rng.randbytes(8) + bytes(8) + bytes([33, 0x20, 34, flags]) + bytes(4) + (28 + len(junk)).to_bytes(4, "big")
            udp.sendto(header + junk, (gateway, 500))
            udp.sendto(bytes(4) + header + junk, (gateway, 4500))
    assert ikev2_lab.gateway.proc.poll() is None
    time.sleep(0.2)
    assert "Traceback" not in ikev2_lab.gateway.output


@pytest.mark.parametrize(
    ("kind", "shown", "client_auth"),
    [
        ("psk", "pre-shared key", r"psk"),
        ("cert", "certificate", r"ECDSA/SHA256 \(RFC 7427\)"),
        ("eap", "EAP-MSCHAPv2 (gateway: certificate)", r"eap \(EAP-MSCHAPv2\)"),
    ],
)
def test_ikev2_virtual_ip_dns_and_pings(
    ikev2_lab: GatewayLab, pki_dir: tuple[Path, PkiFiles], kind: str, shown: str, client_auth: str
) -> None:
    pki = pki_dir[1]
    mark = ikev2_lab.gateway.mark()
    secrets = {"psk": PSK, "password": USERS["alice"]}
    connected, output, leftover = _run(ikev2_lab, _profile(kind, pki, ikev2_lab.ns.gateway_addr), secrets, SERVER_ADDRESS)
    settings, negotiated = connected.settings, connected.negotiated.as_dict()
    print(f"\nikev2 {kind}: {negotiated}\n{output.strip()}")
    assert _in_pool(settings.local_ipv4), settings
    assert settings.dns_servers == DNS
    assert negotiated["authentication"] == shown
    assert negotiated["ike"].startswith("IKEv2 "), negotiated
    gateway_auth = "psk" if kind == "psk" else "RSA/SHA256 (RFC 7427)"
    assert negotiated["ike"].endswith(f"; gateway: {gateway_auth})"), negotiated
    assert negotiated["esp"].startswith("ESP tunnel"), negotiated
    assert _received(output) == PINGS, output
    assert leftover == [], leftover
    assert _gateway_devices(ikev2_lab) == []
    gw, client = ikev2_lab.gateway, ikev2_lab.ns.client_addr
    gw.wait_for(rf"ikev2 {client}: IKE SA up: .*, client .* \({client_auth}\)$", mark)
    if kind == "eap":
        gw.wait_for(rf"ikev2 {client}: auth ok: user 'alice' \(eap \(EAP-MSCHAPv2\)\)", mark)
    gw.wait_for(rf"ikev2 {client}: IPsec SA up: ESP tunnel", mark)
    gw.wait_for(rf"ikev2 {client}: .*got address {re.escape(settings.local_ipv4 or '')} on cwg\d+", mark)
    line = gw.wait_for(rf"ikev2 {client}: closed: the client closed the connection", mark)
    packets_in, packets_out = _counts(line)
    assert packets_in >= PINGS and packets_out >= PINGS, line


def test_ikev1_xauth_on_the_same_ports(ikev2_lab: GatewayLab, pki_dir: tuple[Path, PkiFiles]) -> None:
    """The IKEv1 path is untouched: an XAUTH client is served beside the IKEv2 ones."""
    mark = ikev2_lab.gateway.mark()
    profile = Profile(
        name="own xauth",
        protocol=Protocol.IKEV1_XAUTH,
        gateways=(Gateway(ikev2_lab.ns.gateway_addr),),
        auth=Auth(username="bob", secrets=(SecretKind.PASSWORD, SecretKind.PSK)),
    )
    connected, output, leftover = _run(ikev2_lab, profile, {"psk": PSK, "password": USERS["bob"]}, SERVER_ADDRESS)
    assert _in_pool(connected.settings.local_ipv4)
    assert _received(output) == PINGS, output
    assert leftover == []
    ikev2_lab.gateway.wait_for(rf"ipsec {ikev2_lab.ns.client_addr}: auth ok: user 'bob' \(XAUTH\)", mark)


@pytest.mark.parametrize(
    ("kind", "secrets", "client_says", "gateway_says"),
    [
        ("psk", {"psk": WRONG[0]}, "the pre-shared key is probably wrong", r"auth failed: client '.*': .*pre-shared key is probably wrong"),
        ("eap", {"password": WRONG[1]}, "rejected the user name or password", r"auth failed: client 'alice': .*user 'alice'"),
        ("stranger", {}, "rejected our certificate", r"auth failed: client '.*stranger\.test.*': .*not trusted"),
    ],
    ids=["wrong-psk", "wrong-eap-password", "untrusted-certificate"],
)
def test_refusals_in_plain_language(
    ikev2_lab: GatewayLab,
    pki_dir: tuple[Path, PkiFiles],
    kind: str,
    secrets: dict[str, str],
    client_says: str,
    gateway_says: str,
) -> None:
    mark = ikev2_lab.gateway.mark()
    with pytest.raises(StackError) as info:
        _run(ikev2_lab, _profile(kind, pki_dir[1], ikev2_lab.ns.gateway_addr), secrets, None)
    reason = info.value.reason
    print(f"\n{kind}: {reason}")
    assert client_says in reason, reason
    with netns.entered(ikev2_lab.ns.client):
        assert _network_state() == []
    line = ikev2_lab.gateway.wait_for(rf"ikev2 {ikev2_lab.ns.client_addr}: {gateway_says}", mark)
    print(line)
    ikev2_lab.gateway.wait_for(rf"ikev2 {ikev2_lab.ns.client_addr}: closed: ", mark)
    assert _gateway_devices(ikev2_lab) == []


def test_gateway_never_prints_a_secret(ikev2_lab: GatewayLab) -> None:
    """Runs last in this module: the shared gateway has served every test above."""
    output = ikev2_lab.gateway.output
    assert "gateway: IKEv1 and IKEv2 listening on" in output, output
    assert "Traceback" not in output
    for secret in (*USERS.values(), PSK, *WRONG, "PRIVATE KEY"):
        assert secret not in output


def test_behind_a_nat_with_a_rekey_under_traffic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A client behind nftables masquerade, a gateway that requires a cookie: IKE and ESP float to UDP
    4500; halfway through 100 pings the client replaces the IPsec SA (CREATE_CHILD_SA) and not one
    ping is lost."""
    pki = write_pki(tmp_path, GATEWAY_ADDRESS)
    # The NAT lab's gateway configuration; with cookies the client's first IKE_SA_INIT is answered statelessly.
    monkeypatch.setattr(test_own_ipsec_gateway, "ipsec_changes", lambda: ikev2_changes(require_cookie=True))
    with _behind_a_nat(tmp_path) as (lab, client_ns):
        inside = dataclasses.replace(lab, ns=dataclasses.replace(lab.ns, client=client_ns))
        profile = _profile("psk", pki, lab.ns.gateway_addr)
        seen: dict[str, Any] = {}

        async def main() -> None:
            stack = build_stack(profile, {"psk": PSK}, lambda _e: None, DirectApplier())
            seen["connected"] = await stack.connect()
            try:
                ipsec = getattr(stack, "ipsec", None)
                assert ipsec is not None and ipsec.child is not None
                old = ipsec.child.spi_in
                ping = asyncio.ensure_future(_ping(inside, SERVER_ADDRESS))
                await asyncio.sleep(0.8)
                assert ipsec.rekey_child()
                seen["ping"] = await ping
                seen["spis"] = (old, ipsec.child.spi_in)
            finally:
                await stack.close()

        with netns.entered(client_ns):
            try:
                asyncio.run(main())
            finally:
                leftover = _network_state()
        negotiated = seen["connected"].negotiated.as_dict()
        print(f"\nikev2 behind a NAT: {negotiated}\nacross a rekey: {seen['ping'].strip()}")
        assert negotiated["nat-t"].startswith("UDP 4500"), negotiated
        assert seen["spis"][0] != seen["spis"][1]
        assert _received(seen["ping"]) == PINGS, seen["ping"]
        assert leftover == []
        public = re.escape(lab.ns.client_addr)  # the NAT's address on the gateway's side
        lab.gateway.wait_for(rf"ikev2 {public}: NAT detected: IKE and ESP move to UDP 4500")
        lab.gateway.wait_for(rf"ikev2 {public}: IKE SA up: .*, client 10\.78\.0\.2 \(psk\)")
        # The gateway names its inbound SPI first: the client's outbound one.
        lab.gateway.wait_for(rf"ikev2 {public}: IPsec SA rekeyed: .*UDP-encapsulated, .*SPIs \S+/{seen['spis'][1]:08x}$")
        lab.gateway.wait_for(rf"ikev2 {public}: IPsec SA \S+/{seen['spis'][0]:08x} deleted")
        lab.gateway.wait_for(rf"ikev2 {public}: closed: ")
        assert _gateway_devices(lab) == []


def test_sigterm_deletes_the_ike_sa(tmp_path: Path) -> None:
    """A client is up; SIGTERM: the gateway deletes its IKE SA (INFORMATIONAL) and the client hears it."""
    pki = write_pki(tmp_path, GATEWAY_ADDRESS)
    with running_gateway(tmp_path, changes=ikev2_changes(services=["ikev2"])) as lab:
        profile = _profile("cert", pki, lab.ns.gateway_addr)
        events: list[StatusEvent] = []

        async def main() -> tuple[Connected, Disconnected]:
            stack = build_stack(profile, {}, events.append, DirectApplier())
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
        print(f"\nikev2 SIGTERM: {down.reason}\n{output}")
        assert "gateway: IKEv2 listening on" in output
        assert down.reason == "the gateway closed the connection", down.reason  # its IKE SA delete
        assert re.search(r"ikev2 .*: closed: the gateway was stopped", output), output
        assert "gateway: stopped" in output
        assert _gateway_devices(lab, settle=0) == []


def test_a_negotiation_that_stops_after_the_first_message_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    """In process: a gateway that requires cookies answers an IKE_SA_INIT with one; the client never
    comes back, and after the half-open limit its peer (raw ESP socket included) is gone."""
    monkeypatch.setattr(ikev2_peer, "HALF_OPEN_LIMIT", 0.3)
    with namespaces() as ns:
        config = config_from_dict(
            {**gateway_config(ns.gateway_addr), "protocols": [], "ipsec": {"psk": PSK, "services": ["ikev2"], "require_cookie": True}}
        )
        initiator = IKEv2Connection("initiator", IKEv2Config(local_address=ns.client_addr, peer_address=ns.gateway_addr, psk=PSK))
        initiator.connect(0.0)
        first = initiator.datagrams_to_send()[0].data
        lines: list[str] = []

        async def main() -> tuple[list[str], bytes, bool]:
            server = IpsecServer(GatewayShared(config, lines.append), None)
            await server.start()
            try:
                with netns.entered(ns.client):
                    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                sock.setblocking(False)
                with sock:
                    await asyncio.get_running_loop().sock_sendto(sock, first, (ns.gateway_addr, 500))
                    async with asyncio.timeout(2):
                        reply = await asyncio.get_running_loop().sock_recv(sock, 2048)
                    peers = list(server.peers)
                    peer = server.peers[ns.client_addr]
                    await asyncio.sleep(0.6)
                    return peers, reply, peer.closed.done() and not server.peers
            finally:
                await server.stop("the test is over")

        with netns.entered(ns.gateway):
            peers, reply, gone = asyncio.run(main())
    assert peers == [ns.client_addr]
    assert reply[:8] == first[:8] and reply[8:16] == bytes(8) and len(reply) < 100  # a COOKIE notify only
    assert gone, lines
    assert any(re.search(r"ikev2 .*: closed: the client did not continue after IKE_SA_INIT", line) for line in lines), lines
