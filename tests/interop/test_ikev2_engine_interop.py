"""Our IKEv2 engine against the lab's real strongSwan (charon): scenarios a (PSK, virtual IP + DNS), b
(EAP-MSCHAPv2, gateway certificate from the lab CA) and c (certificates both ways), pings through the
negotiated ESP SA (UDP-encapsulated, so the host needs no ESP support), rekeys of the child and the IKE SA,
and the plain-language failures (wrong PSK, wrong password, untrusted gateway certificate).

Each test drives :class:`IKEv2Connection` with plain UDP sockets on 10.77.0.1:500/4500 inside the lab's
namespace and checks charon's log too, so a pass means the real peer agreed.
"""

from __future__ import annotations

import ipaddress
import re
import select
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.interop.conftest import Lab
from tests.pairs.ikev2_harness import pki
from wizard.engine.errors import ParseError
from wizard.engine.esp import Direction, Mode, SAConfig, SecurityAssociation, UdpEncapsulation
from wizard.engine.ike.v2 import events as ev
from wizard.engine.ike.v2.config import ChildConfig, IKEv2Config
from wizard.engine.ike.v2.connection import IKEv2Connection, State

pytestmark = pytest.mark.interop

CHILD_UP = r"CHILD_SA \S+ established"


class Driver:
    """A blocking driver: two UDP sockets, the wall clock, the engine, and an ESP-in-UDP data plane."""

    def __init__(self, lab: Lab, conn: IKEv2Connection) -> None:
        self.lab = lab
        self.conn = conn
        self.events: list[ev.Event] = []
        self.socks: dict[tuple[str, int], socket.socket] = {}
        self.t0 = time.monotonic()
        self.inbound: dict[int, SecurityAssociation] = {}
        self.outbound: SecurityAssociation | None = None
        self.replies: list[bytes] = []

    def now(self) -> float:
        return time.monotonic() - self.t0

    def open(self, stack: ExitStack, address: str | None = None) -> None:
        for port in (500, 4500):
            s = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((address or self.lab.host, port))
            self.socks[(address or self.lab.host, port)] = s

    def _sa(self, child: ev.ChildSA | object, direction: Direction) -> SecurityAssociation:
        assert isinstance(child, ev.ChildSA)
        inbound = direction is Direction.IN
        cfg = SAConfig(direction, child.spi_in if inbound else child.spi_out, mode=Mode.TUNNEL, cipher=child.cipher,
                       encryption_key=child.enc_key_in if inbound else child.enc_key_out, integrity=child.integrity,
                       integrity_key=child.auth_key_in if inbound else child.auth_key_out,
                       local_address=ipaddress.ip_address(child.local_address),
                       remote_address=ipaddress.ip_address(child.peer_address),
                       udp_encapsulation=UdpEncapsulation(child.local_port, child.peer_port))  # fmt: skip
        return SecurityAssociation(cfg, self.now())

    def _on_event(self, e: ev.Event) -> None:
        self.events.append(e)
        if isinstance(e, ev.ChildSAUp):
            self.inbound[e.sa.spi_in] = self._sa(e.sa, Direction.IN)
            self.outbound = self._sa(e.sa, Direction.OUT)
        elif isinstance(e, ev.ChildSAInboundReady):
            self.inbound[e.new.spi_in] = self._sa(e.new, Direction.IN)
        elif isinstance(e, ev.ChildSARekeyed):
            self.inbound.setdefault(e.new.spi_in, self._sa(e.new, Direction.IN))
            self.outbound = self._sa(e.new, Direction.OUT)
        elif isinstance(e, ev.ChildSADeleted):
            self.inbound.pop(e.sa.spi_in, None)

    def pump(self, until: Callable[[], bool], timeout: float) -> None:
        deadline = self.now() + timeout
        while True:
            for d in self.conn.datagrams_to_send():
                self.socks[(d.source_address, d.source_port)].sendto(d.data, (d.dest_address, d.dest_port))
            while (e := self.conn.next_event()) is not None:
                self._on_event(e)
            if until() or self.now() > deadline:
                return
            t = self.conn.get_timer()
            wait = 0.05 if t is None else max(0.0, min(0.05, t - self.now()))
            ready, _, _ = select.select(list(self.socks.values()), [], [], wait)
            for s in ready:
                data, addr = s.recvfrom(65535)
                port = s.getsockname()[1]
                if s.getsockname()[0] != self.conn.local_address:
                    continue  # an address we have moved away from
                if port == 4500 and data[:4] != b"\x00\x00\x00\x00" and len(data) > 8:
                    self._on_esp(data)
                    continue
                self.conn.receive_datagram(data, self.now(), local_port=port, remote_address=addr[0], remote_port=addr[1])
            t = self.conn.get_timer()
            if t is not None and t <= self.now():
                self.conn.handle_timer(self.now())

    def _on_esp(self, data: bytes) -> None:
        spi = int.from_bytes(data[:4], "big")
        sa = self.inbound.get(spi)
        if sa is None:
            return
        try:
            self.replies.append(sa.decapsulate_payload(data, self.now()))
        except ParseError:
            return
        self.conn.note_traffic(self.now(), spi)

    def ping(self, source: str, target: str, seq: int) -> None:
        assert self.outbound is not None
        esp = self.outbound.encapsulate_payload(icmp_echo(source, target, seq), self.now())
        self.socks[(self.conn.local_address, 4500)].sendto(esp, (self.lab.gateway, 4500))

    def of(self, kind: type) -> list:  # type: ignore[type-arg]
        return [e for e in self.events if isinstance(e, kind)]


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\x00"
    s = sum(int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def icmp_echo(source: str, target: str, seq: int) -> bytes:
    body = b"\x08\x00\x00\x00" + (0x4242).to_bytes(2, "big") + seq.to_bytes(2, "big") + b"connection-wizard!"
    body = body[:2] + _checksum(body).to_bytes(2, "big") + body[4:]
    hdr = bytearray(b"\x45\x00" + (20 + len(body)).to_bytes(2, "big") + seq.to_bytes(2, "big") + b"\x00\x00\x40\x01\x00\x00")
    hdr += ipaddress.IPv4Address(source).packed + ipaddress.IPv4Address(target).packed
    hdr[10:12] = _checksum(bytes(hdr)).to_bytes(2, "big")
    return bytes(hdr) + body


def echo_replies(packets: list[bytes]) -> set[int]:
    return {int.from_bytes(p[26:28], "big") for p in packets if len(p) >= 28 and p[9] == 1 and p[20] == 0}


@contextmanager
def driven(lab: Lab, cfg: IKEv2Config) -> Iterator[Driver]:
    with lab.entered(), ExitStack() as stack:
        d = Driver(lab, IKEv2Connection("initiator", cfg))
        d.open(stack)
        try:
            yield d
        finally:
            if d.conn.state is not State.CLOSED:
                d.conn.close(d.now())
                d.pump(lambda: False, 0.3)


def config(lab: Lab, **kw: object) -> IKEv2Config:
    base: dict[str, object] = {"local_address": lab.host, "peer_address": lab.gateway, "psk": lab.psk,
                               "dpd_interval": None, "force_encapsulation": True}  # fmt: skip
    base.update(kw)
    return IKEv2Config(**base)  # type: ignore[arg-type]


def lab_ca(lab: Lab) -> x509.Certificate:
    return x509.load_pem_x509_certificate(lab.ca_cert.read_bytes())


def connect(d: Driver, timeout: float = 40.0) -> None:
    d.conn.connect(d.now())
    d.pump(lambda: bool(d.of(ev.ChildSAUp) or d.of(ev.Closed)), timeout)
    assert not d.of(ev.ConnectionFailed), d.of(ev.ConnectionFailed)
    assert d.of(ev.ChildSAUp), f"no IPsec SA; events: {d.events}"


def ping_through(d: Driver, count: int = 5) -> None:
    lease = d.of(ev.ConfigReceived)[0]
    assert lease.address is not None
    for seq in range(count):
        d.ping(lease.address, d.lab.inside, seq)
    d.pump(lambda: len(echo_replies(d.replies)) >= count, 15)
    assert echo_replies(d.replies) >= set(range(count)), f"echo replies {sorted(echo_replies(d.replies))}"


def test_scenario_a_psk_virtual_ip_and_dns(lab: Lab) -> None:
    offset = lab.log_offset()
    with driven(lab, config(lab)) as d:
        connect(d)
        lease = d.of(ev.ConfigReceived)[0]
        assert lease.address is not None and ipaddress.ip_address(lease.address) in ipaddress.ip_network("10.88.1.0/24")
        assert set(lease.dns) == set(lab.dns_servers)
        up = d.of(ev.IKESAUp)[0]
        assert up.peer_id == lab.gateway_identity and up.peer_auth == "psk"
        ping_through(d)
    lines = lab.wait_for_server_log(offset, CHILD_UP)
    assert any("ikev2-psk" in line and "CHILD_SA" in line and "established" in line for line in lines), lines[-20:]


def test_scenario_b_eap_mschapv2_gateway_certificate(lab: Lab) -> None:
    offset = lab.log_offset()
    cfg = config(lab, auth="eap", psk=None, eap_username=lab.user, eap_password=lab.password, ca_certificates=(lab_ca(lab),),
                 peer_id=lab.gateway_identity)  # fmt: skip
    with driven(lab, cfg) as d:
        connect(d)
        up = d.of(ev.IKESAUp)[0]
        assert "MSCHAPv2" in up.auth and "RSA" in up.peer_auth
        ping_through(d)
    lines = lab.wait_for_server_log(offset, CHILD_UP)
    assert any("ikev2-eap" in line and "established" in line for line in lines), lines[-20:]
    assert any("EAP_MSCHAPV2" in line and "succeeded" in line for line in lines), lines[-20:]


def _client_credentials(lab: Lab) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    cert = x509.load_pem_x509_certificate(lab.client_cert.read_bytes())
    key = serialization.load_pem_private_key(lab.client_key.read_bytes(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return cert, key


def test_scenario_c_certificates_both_ways(lab: Lab) -> None:
    offset = lab.log_offset()
    cert, key = _client_credentials(lab)
    cfg = config(lab, auth="cert", psk=None, certificate=cert, private_key=key, ca_certificates=(lab_ca(lab),),
                 local_id=lab.client_identity)  # fmt: skip
    with driven(lab, cfg) as d:
        connect(d)
        assert d.conn.stats.fragments_sent > 0  # the certificate makes IKE_AUTH too big: RFC 7383 fragments
        ping_through(d)
    lines = lab.wait_for_server_log(offset, CHILD_UP)
    assert any("ikev2-cert" in line and "established" in line for line in lines), lines[-20:]


def test_scenario_c_classic_rsa_signature(lab: Lab) -> None:
    """Auth method 1 (RSA with SHA-1), which strongSwan still accepts, when RFC 7427 is switched off."""
    offset = lab.log_offset()
    cert, key = _client_credentials(lab)
    cfg = config(lab, auth="cert", psk=None, certificate=cert, private_key=key, ca_certificates=(lab_ca(lab),),
                 local_id=lab.client_identity, signature_rfc7427=False)  # fmt: skip
    with driven(lab, cfg) as d:
        connect(d)
    lines = lab.wait_for_server_log(offset, CHILD_UP)
    assert any("ikev2-cert" in line and "established" in line for line in lines), lines[-20:]


@pytest.mark.parametrize("pfs", [None, "modp2048"])
def test_our_rekeys_of_child_and_ike_sa(lab: Lab, pfs: str | None) -> None:
    offset = lab.log_offset()
    with driven(lab, config(lab, child=ChildConfig(pfs_group=pfs))) as d:
        connect(d)
        first_sa = d.of(ev.ChildSAUp)[0].sa
        assert d.conn.rekey_child(d.now())
        d.pump(lambda: len(d.of(ev.ChildSADeleted)) >= 1, 20)
        rekeyed = d.of(ev.ChildSARekeyed)
        assert rekeyed and rekeyed[0].old.spi_in == first_sa.spi_in
        assert rekeyed[0].new.pfs_group == (14 if pfs else None)
        ping_through(d, 3)
        assert d.conn.rekey_ike(d.now())
        d.pump(lambda: any(e.rekey for e in d.of(ev.IKESAUp)), 20)
        d.pump(lambda: False, 1.0)  # the old IKE SA's delete
        d.replies.clear()
        ping_through(d, 3)
    lines = lab.wait_for_server_log(offset, r"deleting IKE_SA .*\[\d+\] between", timeout=15)
    assert any("parsed CREATE_CHILD_SA request" in line and "N(REKEY_SA)" in line and (" KE " in line) == bool(pfs)
               for line in lines), lines[-30:]  # fmt: skip
    assert any(re.search(r"outbound CHILD_SA net\{\d+\} established", line) for line in lines), lines[-30:]
    assert any(re.search(r"IKE_SA ikev2-psk\[\d+\] rekeyed", line) for line in lines), lines[-30:]


def _charon_ids(lab: Lab, spi_i: bytes) -> tuple[str, str]:
    """(IKE SA unique id, child unique id) of our SA in `swanctl --list-sas`."""
    text = lab.vm_shell("swanctl --list-sas")
    block = ""
    for part in re.split(r"\n(?=\S)", text):
        if spi_i.hex() in part:
            block = part
    ike = re.search(r"#(\d+),", block)
    child = re.search(r"net: #(\d+),", block)
    assert ike and child, text
    return ike.group(1), child.group(1)


def test_gateway_initiated_rekeys(lab: Lab) -> None:
    """charon rekeys the child (we answer, switch without loss) and the IKE SA (it becomes the original
    initiator of the new SA, so the I flag flips); pings still pass and our final delete is accepted."""
    offset = lab.log_offset()
    with driven(lab, config(lab)) as d:
        connect(d)
        up = d.of(ev.IKESAUp)[0]
        ike_id, child_id = _charon_ids(lab, up.spi_i)
        lab.vm_shell(f"swanctl --rekey --child-id {child_id}")
        d.pump(lambda: bool(d.of(ev.ChildSARekeyed)), 20)
        assert d.of(ev.ChildSAInboundReady) and d.of(ev.ChildSARekeyed), d.events
        ping_through(d, 3)
        lab.vm_shell(f"swanctl --rekey --ike-id {ike_id}")
        d.pump(lambda: any(e.rekey for e in d.of(ev.IKESAUp)), 20)
        assert any(e.rekey for e in d.of(ev.IKESAUp)), d.events
        d.pump(lambda: False, 1.0)
        d.replies.clear()
        ping_through(d, 3)
        assert d.conn.stats.decrypt_failed == 0
    lines = lab.wait_for_server_log(offset, r"deleting IKE_SA .* between", timeout=15)
    assert any("generating CREATE_CHILD_SA request" in line and "N(REKEY_SA)" in line for line in lines), lines[-30:]
    assert any(re.search(r"IKE_SA ikev2-psk\[\d+\] rekeyed", line) for line in lines), lines[-30:]
    assert not any("INVALID" in line or "failed" in line for line in lines), lines[-30:]


def test_mobike_moves_to_a_new_local_address(lab: Lab) -> None:
    offset = lab.log_offset()
    moved = "10.77.0.9"
    with driven(lab, config(lab)) as d:
        connect(d)
        ping_through(d, 2)
        subprocess.run(["ip", "addr", "add", f"{moved}/24", "dev", "vmlab-br0"], check=True)
        try:
            with ExitStack() as stack:
                d.open(stack, moved)
                d.conn.update_local_address(moved, 4500, d.now())
                d.pump(lambda: bool(d.of(ev.AddressesUpdated)), 20)
                update = d.of(ev.AddressesUpdated)
                assert update and update[0].local_address == moved and update[0].children[0].local_address == moved
                d.replies.clear()
                ping_through(d, 3)
                d.conn.close(d.now())
                d.pump(lambda: False, 0.5)
        finally:
            subprocess.run(["ip", "addr", "del", f"{moved}/24", "dev", "vmlab-br0"], check=False)
    lines = lab.wait_for_server_log(offset, r"remote endpoint changed .* to 10\.77\.0\.9\[4500\]", timeout=15)
    assert any("UPDATE_SA_ADDRESSES" in line or "UPD_SA_ADDR" in line for line in lines), lines[-30:]
    assert any(re.search(r"remote endpoint changed .* to 10\.77\.0\.9\[4500\]", line) for line in lines), lines[-30:]


def test_wrong_psk_is_named(lab: Lab) -> None:
    with driven(lab, config(lab, psk="not-the-key")) as d:
        d.conn.connect(d.now())
        d.pump(lambda: bool(d.of(ev.Closed)), 40)
        failed = d.of(ev.ConnectionFailed)
        assert failed and "pre-shared key is probably wrong" in failed[0].reason, d.events


def test_wrong_eap_password_is_named(lab: Lab) -> None:
    cfg = config(lab, auth="eap", psk=None, eap_username=lab.user, eap_password="wrong", ca_certificates=(lab_ca(lab),))
    with driven(lab, cfg) as d:
        d.conn.connect(d.now())
        d.pump(lambda: bool(d.of(ev.Closed)), 40)
        failed = d.of(ev.ConnectionFailed)
        assert failed and "user name or password" in failed[0].reason, d.events


def test_untrusted_gateway_certificate_is_named(lab: Lab) -> None:
    other_ca = pki("rsa", "Some Other CA").ca
    cfg = config(lab, auth="eap", psk=None, eap_username=lab.user, eap_password=lab.password, ca_certificates=(other_ca,))
    with driven(lab, cfg) as d:
        d.conn.connect(d.now())
        d.pump(lambda: bool(d.of(ev.Closed)), 40)
        failed = d.of(ev.ConnectionFailed)
        assert failed and "not trusted" in failed[0].reason, d.events
