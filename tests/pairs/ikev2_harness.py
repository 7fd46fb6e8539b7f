"""In-memory IKEv2 initiator/responder pair over LossyLinks with a simulated clock, an optional NAT, and an
optional ESP data plane (wizard.engine.esp SAs built from the ChildSA events, make-before-break)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from tests.pairs.netsim import Impairment, LossyLink
from wizard.engine.esp import Direction, Mode, SAConfig, SecurityAssociation, UdpEncapsulation
from wizard.engine.ike.v2 import events as ev
from wizard.engine.ike.v2.config import AddressLease, IKEv2Config
from wizard.engine.ike.v2.connection import IKEv2Connection

CLIENT = "192.0.2.10"
CLIENT2 = "192.0.2.77"
GATEWAY = "192.0.2.1"
NAT_PUBLIC = "198.51.100.7"
NAT_PORT_OFFSET = 30000
NOW = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)


def rng_bytes(seed: int) -> Callable[[int], bytes]:
    return random.Random(seed).randbytes


def client_config(**kw: object) -> IKEv2Config:
    base = IKEv2Config(local_address=CLIENT, peer_address=GATEWAY, psk="s3cret", random_bytes=rng_bytes(1),
                       wall_clock=lambda: NOW)  # fmt: skip
    return replace(base, **kw)  # type: ignore[arg-type]


def lease(_who: str) -> AddressLease:
    return AddressLease("10.88.1.1", None, ("10.77.0.53", "10.77.0.54"), subnets=("10.50.0.0/16",))


def gateway_config(**kw: object) -> IKEv2Config:
    base = IKEv2Config(local_address=GATEWAY, peer_address=CLIENT, psk="s3cret", random_bytes=rng_bytes(2),
                       lease_provider=lease, wall_clock=lambda: NOW)  # fmt: skip
    return replace(base, **kw)  # type: ignore[arg-type]


# --- a throwaway PKI ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pki:
    ca: x509.Certificate
    ca_key: rsa.RSAPrivateKey
    gateway: x509.Certificate
    gateway_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    client: x509.Certificate
    client_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def _cert(subject: str, key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, issuer: x509.Name, issuer_key: rsa.RSAPrivateKey,
          *, ca: bool = False, sans: tuple[x509.GeneralName, ...] = (), days: int = 3650) -> x509.Certificate:  # fmt: skip
    b = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if sans:
        b = b.add_extension(x509.SubjectAlternativeName(list(sans)), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


@lru_cache(maxsize=4)
def pki(kind: str = "rsa", ca_name: str = "Test CA") -> Pki:
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ca_name)])
    ca = _cert(ca_name, ca_key, ca_subject, ca_key, ca=True)

    def key() -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
        if kind == "ecdsa":
            return ec.generate_private_key(ec.SECP256R1())
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)

    gk, ck = key(), key()
    gw = _cert("gateway.test", gk, ca_subject, ca_key, sans=(x509.IPAddress(ipaddress.ip_address(GATEWAY)),
                                                              x509.DNSName("gateway.test")))  # fmt: skip
    cl = _cert("client.test", ck, ca_subject, ca_key, sans=(x509.DNSName("client.test"),))
    return Pki(ca, ca_key, gw, gk, cl, ck)


# --- the pair -----------------------------------------------------------------------------------------


def _pack(data: bytes, src: tuple[str, int], dst: tuple[str, int], esp: bool = False) -> bytes:
    head = f"{'E' if esp else 'I'}|{src[0]}|{src[1]}|{dst[0]}|{dst[1]}|".encode()
    return len(head).to_bytes(2, "big") + head + data


def _unpack(raw: bytes) -> tuple[bool, tuple[str, int], tuple[str, int], bytes]:
    n = int.from_bytes(raw[:2], "big")
    kind, sa, sp, da, dp, _ = raw[2 : 2 + n].decode().split("|")
    return kind == "E", (sa, int(sp)), (da, int(dp)), raw[2 + n :]


@dataclass
class DataPlane:
    """One side's ESP SAs, installed from the IKE events exactly as a stack would."""

    inbound: dict[int, SecurityAssociation] = field(default_factory=dict)
    outbound: SecurityAssociation | None = None
    received: list[bytes] = field(default_factory=list)
    lost: int = 0

    def sa(self, child: ev.ChildSA | object, direction: Direction, now: float) -> SecurityAssociation:
        assert isinstance(child, ev.ChildSA)
        enc = UdpEncapsulation(child.local_port, child.peer_port) if child.encapsulated else None
        spi = child.spi_in if direction is Direction.IN else child.spi_out
        key = child.enc_key_in if direction is Direction.IN else child.enc_key_out
        auth = child.auth_key_in if direction is Direction.IN else child.auth_key_out
        cfg = SAConfig(direction, spi, mode=Mode.TUNNEL, cipher=child.cipher, encryption_key=key, integrity=child.integrity,
                       integrity_key=auth, local_address=ipaddress.ip_address(child.local_address),
                       remote_address=ipaddress.ip_address(child.peer_address), udp_encapsulation=enc)  # fmt: skip
        return SecurityAssociation(cfg, now)

    def on_event(self, e: ev.Event, now: float) -> None:
        if isinstance(e, ev.ChildSAUp):
            self.inbound[e.sa.spi_in] = self.sa(e.sa, Direction.IN, now)
            self.outbound = self.sa(e.sa, Direction.OUT, now)
        elif isinstance(e, ev.ChildSAInboundReady):
            self.inbound[e.new.spi_in] = self.sa(e.new, Direction.IN, now)
        elif isinstance(e, ev.ChildSARekeyed):
            if e.new.spi_in not in self.inbound:
                self.inbound[e.new.spi_in] = self.sa(e.new, Direction.IN, now)
            self.outbound = self.sa(e.new, Direction.OUT, now)
        elif isinstance(e, ev.ChildSADeleted):
            self.inbound.pop(e.sa.spi_in, None)
            if self.outbound is not None and self.outbound.config.spi == e.sa.spi_out:
                self.outbound = None


def inner_packet(n: int, src: str = "10.88.1.1", dst: str = "10.50.0.1") -> bytes:
    """A minimal IPv4/UDP packet carrying a sequence number (tunnel-mode payload)."""
    payload = n.to_bytes(4, "big") * 4
    udp = (1000).to_bytes(2, "big") + (2000).to_bytes(2, "big") + (8 + len(payload)).to_bytes(2, "big") + b"\x00\x00" + payload
    total = 20 + len(udp)
    hdr = bytearray(b"\x45\x00" + total.to_bytes(2, "big") + b"\x00\x00\x00\x00\x40\x11\x00\x00")
    hdr += ipaddress.IPv4Address(src).packed + ipaddress.IPv4Address(dst).packed
    s = sum(int.from_bytes(hdr[i : i + 2], "big") for i in range(0, 20, 2))
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    hdr[10:12] = (~s & 0xFFFF).to_bytes(2, "big")
    return bytes(hdr) + udp


@dataclass
class Pair:
    icfg: IKEv2Config
    rcfg: IKEv2Config
    impairment: Impairment = field(default_factory=Impairment)
    seed: int = 0
    nat: bool = False
    now: float = 0.0
    cut: bool = False  # drop everything (dead peer)
    esp_lossless: bool = True  # ESP packets are never dropped by the link (rekey tests count them)

    def __post_init__(self) -> None:
        self.i = IKEv2Connection("initiator", self.icfg)
        self.r = IKEv2Connection("responder", self.rcfg)
        self.responders = [self.r]
        self.i2r = LossyLink(self.impairment, self.seed)
        self.r2i = LossyLink(self.impairment, self.seed + 1000)
        self.esp_i2r = LossyLink(replace(self.impairment, loss=0.0 if self.esp_lossless else self.impairment.loss), self.seed + 1)
        self.esp_r2i = LossyLink(replace(self.impairment, loss=0.0 if self.esp_lossless else self.impairment.loss), self.seed + 2)
        self.iev: list[ev.Event] = []
        self.rev: list[ev.Event] = []
        self.idata = DataPlane()
        self.rdata = DataPlane()
        self.i_sent: list[tuple[bytes, int, int]] = []
        self.r_sent: list[tuple[bytes, int, int]] = []
        self.client_address = self.icfg.local_address

    def start(self) -> None:
        self.i.connect(self.now)
        self._flush()

    def _nat_src(self, src: tuple[str, int]) -> tuple[str, int]:
        return (NAT_PUBLIC, src[1] + NAT_PORT_OFFSET) if self.nat else src

    def _flush(self) -> None:
        for d in self.i.datagrams_to_send():
            self.i_sent.append((d.data, d.source_port, d.dest_port))
            if not self.cut:
                self.i2r.send(_pack(d.data, (d.source_address, d.source_port), (d.dest_address, d.dest_port)), self.now)
        for d in self.r.datagrams_to_send():
            self.r_sent.append((d.data, d.source_port, d.dest_port))
            if not self.cut:
                self.r2i.send(_pack(d.data, (d.source_address, d.source_port), (d.dest_address, d.dest_port)), self.now)
        while (e := self.i.next_event()) is not None:
            self.iev.append(e)
            self.idata.on_event(e, self.now)
        while (e := self.r.next_event()) is not None:
            self.rev.append(e)
            self.rdata.on_event(e, self.now)

    def _deliver(self) -> None:
        for raw in self.i2r.deliver(self.now):
            _, src, dst, data = _unpack(raw)
            if self.cut:
                continue
            if self.r.state.name == "CLOSED":
                self.r = IKEv2Connection("responder", self.rcfg)
                self.responders.append(self.r)
            s = self._nat_src(src)
            self.r.receive_datagram(data, self.now, local_port=dst[1], remote_address=s[0], remote_port=s[1])
        for raw in self.r2i.deliver(self.now):
            _, src, dst, data = _unpack(raw)
            if self.cut:
                continue
            if dst[0] != self.client_address and not self.nat:
                continue  # the client moved away from that address
            local = dst[1] - NAT_PORT_OFFSET if self.nat else dst[1]
            self.i.receive_datagram(data, self.now, local_port=local, remote_address=src[0], remote_port=src[1])
        for link, plane, conn in ((self.esp_i2r, self.rdata, self.r), (self.esp_r2i, self.idata, self.i)):
            for raw in link.deliver(self.now):
                _, _, _, data = _unpack(raw)
                spi = int.from_bytes(data[:4], "big")
                sa = plane.inbound.get(spi)
                if sa is None:
                    plane.lost += 1
                    continue
                try:
                    pkt = sa.decapsulate_payload(data, self.now)
                except Exception:
                    plane.lost += 1
                    continue
                plane.received.append(pkt)
                conn.note_traffic(self.now, spi)

    def send_esp(self, from_initiator: bool, packet: bytes) -> bool:
        plane, link = (self.idata, self.esp_i2r) if from_initiator else (self.rdata, self.esp_r2i)
        if plane.outbound is None:
            return False
        data = plane.outbound.encapsulate_payload(packet, self.now)
        if not self.cut:
            link.send(_pack(data, ("x", 0), ("y", 0), esp=True), self.now)
        return True

    def step(self) -> bool:
        """Advance to the next thing that happens; False when nothing is pending."""
        self._deliver()
        for conn in (self.i, self.r):
            t = conn.get_timer()
            if t is not None and t <= self.now:
                conn.handle_timer(self.now)
        self._flush()
        candidates = [x for x in (self.i2r.next_arrival(), self.r2i.next_arrival(), self.esp_i2r.next_arrival(),
                                  self.esp_r2i.next_arrival(), self.i.get_timer(), self.r.get_timer()) if x is not None]  # fmt: skip
        if not candidates:
            return False
        self.now = max(min(candidates), self.now + 1e-6)
        return True

    def run(self, until: float, stop: Callable[[Pair], bool] | None = None) -> None:
        while self.now <= until:
            self._deliver()
            for conn in (self.i, self.r):
                t = conn.get_timer()
                if t is not None and t <= self.now:
                    conn.handle_timer(self.now)
            self._flush()
            if stop is not None and stop(self):
                return
            candidates = [x for x in (self.i2r.next_arrival(), self.r2i.next_arrival(), self.esp_i2r.next_arrival(),
                                      self.esp_r2i.next_arrival(), self.i.get_timer(), self.r.get_timer())
                          if x is not None]  # fmt: skip
            if not candidates:
                return
            nxt = max(min(candidates), self.now + 1e-6)
            if nxt > until:
                self.now = until
                return
            self.now = nxt

    def up(self) -> bool:
        return bool(self.events("i", ev.ChildSAUp)) and bool(self.events("r", ev.ChildSAUp))

    def events(self, side: str, kind: type) -> list:  # type: ignore[type-arg]
        return [e for e in (self.iev if side == "i" else self.rev) if isinstance(e, kind)]
