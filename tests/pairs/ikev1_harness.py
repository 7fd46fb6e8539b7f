"""In-memory IKEv1 initiator/responder pair over LossyLinks with a simulated clock (and an optional NAT)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from tests.pairs.netsim import Impairment, LossyLink
from wizard.engine.ike.v1.config import IKEv1Config
from wizard.engine.ike.v1.connection import IKEv1Connection
from wizard.engine.ike.v1.events import Event

CLIENT = "192.0.2.10"
GATEWAY = "192.0.2.1"
NAT_PUBLIC = "198.51.100.7"
NAT_PORT_OFFSET = 30000


def rng_bytes(seed: int) -> Callable[[int], bytes]:
    rng = random.Random(seed)
    return rng.randbytes


def client_config(**kw: object) -> IKEv1Config:
    base = IKEv1Config(local_address=CLIENT, peer_address=GATEWAY, psk="s3cret", random_bytes=rng_bytes(1))
    return replace(base, **kw)  # type: ignore[arg-type]


def gateway_config(**kw: object) -> IKEv1Config:
    base = IKEv1Config(local_address=GATEWAY, peer_address=CLIENT, psk="s3cret", random_bytes=rng_bytes(2))
    return replace(base, **kw)  # type: ignore[arg-type]


def _pack(data: bytes, src: int, dst: int) -> bytes:
    return src.to_bytes(2, "big") + dst.to_bytes(2, "big") + data


def _unpack(raw: bytes) -> tuple[bytes, int, int]:
    return raw[4:], int.from_bytes(raw[:2], "big"), int.from_bytes(raw[2:4], "big")


@dataclass
class Pair:
    icfg: IKEv1Config
    rcfg: IKEv1Config
    impairment: Impairment = field(default_factory=Impairment)
    seed: int = 0
    nat: bool = False
    now: float = 0.0
    cut: bool = False  # drop everything (dead peer)

    def __post_init__(self) -> None:
        self.i = IKEv1Connection("initiator", self.icfg)
        self.r = IKEv1Connection("responder", self.rcfg)
        self.responders = [self.r]
        self.i2r = LossyLink(self.impairment, self.seed)
        self.r2i = LossyLink(self.impairment, self.seed + 1000)
        self.iev: list[Event] = []
        self.rev: list[Event] = []
        self.i_sent: list[tuple[bytes, int, int]] = []

    def start(self) -> None:
        self.i.connect(self.now)
        self._flush()

    def _flush(self) -> None:
        for d in self.i.datagrams_to_send():
            self.i_sent.append((d.data, d.source_port, d.dest_port))
            if not self.cut:
                self.i2r.send(_pack(d.data, d.source_port, d.dest_port), self.now)
        for d in self.r.datagrams_to_send():
            if not self.cut:
                self.r2i.send(_pack(d.data, d.source_port, d.dest_port), self.now)
        while (e := self.i.next_event()) is not None:
            self.iev.append(e)
        while (e := self.r.next_event()) is not None:
            self.rev.append(e)

    def _deliver(self) -> None:
        for raw in self.i2r.deliver(self.now):
            data, src, dst = _unpack(raw)
            if self.cut:
                continue
            if self.r.state.name == "CLOSED":
                self.r = IKEv1Connection("responder", self.rcfg)
                self.responders.append(self.r)
            if self.nat:
                self.r.receive_datagram(data, self.now, local_port=dst, remote_address=NAT_PUBLIC,
                                        remote_port=src + NAT_PORT_OFFSET)
            else:
                self.r.receive_datagram(data, self.now, local_port=dst, remote_address=self.icfg.local_address,
                                        remote_port=src)
        for raw in self.r2i.deliver(self.now):
            data, src, dst = _unpack(raw)
            if self.cut:
                continue
            local = dst - NAT_PORT_OFFSET if self.nat else dst
            self.i.receive_datagram(data, self.now, local_port=local)

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
            candidates = [x for x in (self.i2r.next_arrival(), self.r2i.next_arrival(), self.i.get_timer(), self.r.get_timer())
                          if x is not None]
            if not candidates:
                return
            nxt = max(min(candidates), self.now + 1e-6)
            if nxt > until:
                self.now = until
                return
            self.now = nxt

    def events(self, side: str, kind: type) -> list:
        return [e for e in (self.iev if side == "i" else self.rev) if isinstance(e, kind)]
