"""Our IKEv1 engine against the lab's real strongSwan (charon): scenarios d (PSK, transport, udp/1701) and
e (PSK + XAUTH, tunnel, Mode Config), legacy suites, NAT-T, DPD, rekeys and the plain-language failures.

Each test drives :class:`IKEv1Connection` with plain UDP sockets on 10.77.0.1:500/4500 inside the lab's
namespace, and checks charon's own log as well, so a pass means the real peer agreed.
"""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

import pytest

from tests.interop.conftest import Lab
from wizard.engine.ike.v1.config import ChildConfig, IKEv1Config
from wizard.engine.ike.v1.connection import IKEv1Connection, State
from wizard.engine.ike.v1.events import (
    ChildSADeleted,
    ChildSARekeyed,
    ChildSAUp,
    Closed,
    ConnectionFailed,
    Event,
    ModeConfigReceived,
    NATDetected,
    PhaseOneUp,
    XauthDone,
)
from wizard.engine.ike.v1.identities import TrafficSelector

pytestmark = pytest.mark.interop


class Driver:
    """A blocking driver: two UDP sockets, the wall clock, and the engine."""

    def __init__(self, lab: Lab, conn: IKEv1Connection) -> None:
        self.lab = lab
        self.conn = conn
        self.events: list[Event] = []
        self.socks: dict[int, socket.socket] = {}
        self.t0 = time.monotonic()

    def now(self) -> float:
        return time.monotonic() - self.t0

    def open(self, stack: ExitStack) -> None:
        for port in (500, 4500):
            s = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((self.lab.host, port))
            self.socks[port] = s

    def pump(self, until: Callable[[], bool], timeout: float) -> None:
        deadline = self.now() + timeout
        while True:
            for d in self.conn.datagrams_to_send():
                self.socks[d.source_port].sendto(d.data, (self.lab.gateway, d.dest_port))
            while (e := self.conn.next_event()) is not None:
                self.events.append(e)
            if until() or self.now() > deadline:
                return
            t = self.conn.get_timer()
            wait = 0.1 if t is None else max(0.0, min(0.1, t - self.now()))
            ready, _, _ = select.select(list(self.socks.values()), [], [], wait)
            for s in ready:
                data, addr = s.recvfrom(65535)
                self.conn.receive_datagram(data, self.now(), local_port=s.getsockname()[1], remote_address=addr[0], remote_port=addr[1])
            t = self.conn.get_timer()
            if t is not None and t <= self.now():
                self.conn.handle_timer(self.now())

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]


@contextmanager
def driven(lab: Lab, cfg: IKEv1Config) -> Iterator[Driver]:
    with lab.entered(), ExitStack() as stack:
        d = Driver(lab, IKEv1Connection("initiator", cfg))
        d.open(stack)
        try:
            yield d
        finally:
            if d.conn.state is not State.CLOSED:
                d.conn.close(d.now())
                d.pump(lambda: False, 0.3)


def l2tp_child(lab: Lab, esp: tuple[str, ...] = ("aes256-sha256", "aes128-sha1")) -> ChildConfig:
    return ChildConfig(mode="transport", esp_proposals=esp, local_ts=TrafficSelector.host(lab.host, 17, 1701),
                       remote_ts=TrafficSelector.host(lab.gateway, 17, 1701))  # fmt: skip


def config(lab: Lab, **kw: object) -> IKEv1Config:
    base: dict[str, object] = {"local_address": lab.host, "peer_address": lab.gateway, "psk": lab.psk,
                               "child": l2tp_child(lab), "dpd_interval": None}  # fmt: skip
    base.update(kw)
    return IKEv1Config(**base)  # type: ignore[arg-type]


def connect(d: Driver, timeout: float = 30.0) -> None:
    d.conn.connect(d.now())
    d.pump(lambda: bool(d.of(ChildSAUp) or d.of(Closed)), timeout)
    assert not d.of(ConnectionFailed), d.of(ConnectionFailed)
    assert d.of(ChildSAUp), f"no IPsec SA; events: {d.events}"


@pytest.mark.parametrize(("ike", "esp", "suite"), [
    ("aes256-sha256-modp2048", "aes256-sha256", "AES-256/SHA-256/MODP-2048"),
    ("3des-sha1-modp1024", "3des-sha1", "3DES/SHA-1/MODP-1024"),
])  # fmt: skip
def test_scenario_d_main_mode_psk_transport(lab: Lab, ike: str, esp: str, suite: str) -> None:
    offset = lab.log_offset()
    cfg = config(lab, ike_proposals=(ike,), allow_legacy=True, child=l2tp_child(lab, (esp,)))
    with driven(lab, cfg) as d:
        connect(d)
        assert d.of(PhaseOneUp)[0].suite == suite and d.of(PhaseOneUp)[0].peer_id == lab.gateway
        child = d.of(ChildSAUp)[0].sa
        assert child.mode == "transport" and child.cipher.name == esp.split("-")[0]
        spi = f"{child.spi_out:08x}"
        lines = lab.wait_for_server_log(offset, rf"CHILD_SA l2tp\{{\d+\}} established with SPIs {spi}_i")
        assert any("udp/l2f" in line for line in lines)
        d.conn.close(d.now())
        d.pump(lambda: False, 0.5)
    lab.wait_for_server_log(offset, r"received DELETE for IKE_SA ikev1-l2tp")


def test_scenario_e_xauth_mode_config_tunnel(lab: Lab) -> None:
    offset = lab.log_offset()
    child = ChildConfig(mode="tunnel", remote_ts=TrafficSelector.network("0.0.0.0/0"))
    cfg = config(lab, xauth=True, xauth_username=lab.user, xauth_password=lab.password, mode_config=True, child=child)
    with driven(lab, cfg) as d:
        connect(d)
        assert d.of(PhaseOneUp)[0].auth == "psk+xauth" and d.of(XauthDone)[0].success
        (cfg_event,) = d.of(ModeConfigReceived)
        assert cfg_event.address is not None and cfg_event.address.startswith("10.88.4.")
        assert cfg_event.dns == lab.dns_servers
        sa = d.of(ChildSAUp)[0].sa
        assert sa.mode == "tunnel" and str(sa.local_ts) == cfg_event.address and str(sa.remote_ts) == "0.0.0.0/0"
        lab.wait_for_server_log(offset, rf"CHILD_SA net\{{\d+\}} established .* 0\.0\.0\.0/0 === {cfg_event.address}/32")


def test_xauth_wrong_password(lab: Lab) -> None:
    child = ChildConfig(mode="tunnel", remote_ts=TrafficSelector.network("0.0.0.0/0"))
    cfg = config(lab, xauth=True, xauth_username=lab.user, xauth_password="wrong", mode_config=True, child=child)
    with driven(lab, cfg) as d:
        d.conn.connect(d.now())
        d.pump(lambda: bool(d.of(Closed)), 30)
        assert d.of(ConnectionFailed)[0].reason == "the gateway rejected the user name or password (XAUTH)"


def test_nat_traversal_floats_to_4500(lab: Lab) -> None:
    offset = lab.log_offset()
    with driven(lab, config(lab, force_encapsulation=True)) as d:
        connect(d)
        assert d.of(NATDetected)[0].local_behind_nat
        sa = d.of(ChildSAUp)[0].sa
        assert sa.encapsulated and sa.local_port == sa.peer_port == 4500
        lab.wait_for_server_log(offset, r"received packet: from 10\.77\.0\.1\[4500\] to 10\.77\.0\.2\[4500\]")
        lab.wait_for_server_log(offset, r"CHILD_SA l2tp\{\d+\} established")


def test_dpd_answered_and_rekeys(lab: Lab) -> None:
    offset = lab.log_offset()
    with driven(lab, config(lab, dpd_interval=1.0)) as d:
        connect(d)
        d.pump(lambda: d.conn.stats.dpd_acked >= 1, 10)
        assert d.conn.stats.dpd_acked >= 1
        old = d.of(ChildSAUp)[0].sa
        assert d.conn.rekey_child(d.now())
        d.pump(lambda: bool(d.of(ChildSARekeyed)), 20)
        (rekeyed,) = d.of(ChildSARekeyed)
        assert rekeyed.old == old and rekeyed.new.spi_in != old.spi_in
        lab.wait_for_server_log(offset, rf"CHILD_SA l2tp\{{\d+\}} established with SPIs {rekeyed.new.spi_out:08x}_i")
        assert d.conn.rekey_ike(d.now())
        d.pump(lambda: len(d.of(PhaseOneUp)) == 2, 20)
        assert d.of(PhaseOneUp)[1].rekey
        lab.wait_for_server_log(offset, r"received DELETE for IKE_SA ikev1-l2tp")
        # The child survives the ISAKMP SA rekey; a further child rekey runs on the new ISAKMP SA.
        assert d.conn.rekey_child(d.now())
        d.pump(lambda: len(d.of(ChildSARekeyed)) == 2, 20)
        assert len(d.of(ChildSARekeyed)) == 2 and not d.of(Closed)
        assert any(e.reason == "replaced by a rekeyed IPsec SA" for e in d.of(ChildSADeleted)) or d.conn.state is State.ESTABLISHED


def test_wrong_psk_is_named(lab: Lab) -> None:
    with driven(lab, config(lab, psk="not-the-key")) as d:
        d.conn.connect(d.now())
        d.pump(lambda: bool(d.of(Closed)), 60)
        assert d.of(ConnectionFailed)[0].reason == "the gateway could not decrypt our identity: the pre-shared key is probably wrong"


def test_unacceptable_proposal_is_named(lab: Lab) -> None:
    with driven(lab, config(lab, ike_proposals=("aes256-sha512-modp4096",))) as d:
        d.conn.connect(d.now())
        d.pump(lambda: bool(d.of(Closed)), 60)
        reason = d.of(ConnectionFailed)[0].reason
        assert reason.startswith("NO_PROPOSAL_CHOSEN: we offered AES-256/SHA-512/MODP-4096 for the IKE (phase 1) SA; ")
        assert "the gateway accepts none of them, only AES-256/SHA-256/MODP-2048" in reason


def test_unacceptable_esp_proposal_is_named(lab: Lab) -> None:
    with driven(lab, config(lab, child=l2tp_child(lab, ("aes192-sha512",)))) as d:
        d.conn.connect(d.now())
        d.pump(lambda: bool(d.of(Closed)), 60)
        reason = d.of(ConnectionFailed)[0].reason
        assert reason.startswith("NO_PROPOSAL_CHOSEN: we offered AES-192/SHA-512 for the IPsec SA (transport mode); ")
        assert "only AES-256/SHA-256" in reason
