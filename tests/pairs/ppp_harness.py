"""Drive a PPP client and server against each other over two LossyLinks on a simulated clock."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.pairs.netsim import Impairment, LossyLink
from wizard.engine.ppp import (
    ConnectionClosed,
    ConnectionFailed,
    Event,
    IPPacketReceived,
    NetworkUp,
    PPPConfig,
    PPPConnection,
)

USERS = {"alice": "correct horse", "DOMAIN\\bob": "battery staple"}
SERVER = {"local_ipv4": "10.7.0.1", "peer_ipv4": "10.7.0.2", "dns_servers": ("10.7.0.53", "10.7.0.54")}
LOSSY = Impairment(loss=0.2, duplicate=0.2, reorder=0.2)


def seeded_random(seed: int) -> Callable[[int], bytes]:
    rng = random.Random(seed)
    return lambda n: bytes(rng.getrandbits(8) for _ in range(n))


def client_config(**overrides: object) -> PPPConfig:
    values: dict[str, object] = {"username": "alice", "password": "correct horse", "echo_interval": 0.0}
    values.update(overrides)
    return PPPConfig(**values)  # type: ignore[arg-type]


def server_config(**overrides: object) -> PPPConfig:
    values: dict[str, object] = {"users": USERS, "echo_interval": 0.0, **SERVER}
    values.update(overrides)
    return PPPConfig(**values)  # type: ignore[arg-type]


@dataclass
class Pair:
    client: PPPConnection
    server: PPPConnection
    c2s: LossyLink
    s2c: LossyLink
    now: float = 0.0
    client_events: list[Event] = field(default_factory=list)
    server_events: list[Event] = field(default_factory=list)
    server_silent: bool = False
    tamper_s2c: Callable[[bytes], bytes | None] | None = None  # rewrite or (None) drop a frame
    tamper_c2s: Callable[[bytes], bytes | None] | None = None

    def pump(self) -> None:
        for frame in self.client.frames_to_send():
            kept = self.tamper_c2s(frame) if self.tamper_c2s is not None else frame
            if kept is not None:
                self.c2s.send(kept, self.now)
        for frame in self.server.frames_to_send():
            kept = self.tamper_s2c(frame) if self.tamper_s2c is not None else frame
            if kept is not None and not self.server_silent:
                self.s2c.send(kept, self.now)
        while (event := self.client.next_event()) is not None:
            self.client_events.append(event)
        while (event := self.server.next_event()) is not None:
            self.server_events.append(event)

    def step(self, limit: float) -> bool:
        """Advance the clock to the next timer or arrival (not past ``limit``); False when idle."""
        self.pump()
        candidates = [self.c2s.next_arrival(), self.s2c.next_arrival(), self.client.get_timer()]
        if not self.server_silent:
            candidates.append(self.server.get_timer())
        due = [t for t in candidates if t is not None]
        if not due:
            return False
        self.now = max(self.now, min(min(due), limit))
        for frame in self.c2s.deliver(self.now):
            if not self.server_silent:
                self.server.receive_frame(frame, self.now)
        for frame in self.s2c.deliver(self.now):
            self.client.receive_frame(frame, self.now)
        self.client.handle_timer(self.now)
        if not self.server_silent:
            self.server.handle_timer(self.now)
        for conn in (self.client, self.server) if not self.server_silent else (self.client,):
            timer = conn.get_timer()
            assert timer is None or timer > self.now, f"{conn.role} timer {timer} is not in the future"
        self.pump()
        return True

    def run_until(self, condition: Callable[[], bool], limit: float = 300.0) -> bool:
        while not condition():
            if self.now >= limit:
                return False
            if not self.step(limit):
                self.now = limit  # nothing is pending: time simply passes
        return True

    def advance(self, seconds: float) -> None:
        end = self.now + seconds
        self.run_until(lambda: self.now >= end, end)

    def both_up(self) -> bool:
        return self.client.network_up and self.server.network_up

    def both_ended(self) -> bool:
        return bool(terminal(self.client_events)) and bool(terminal(self.server_events))

    def received(self, side: str) -> list[bytes]:
        events = self.client_events if side == "client" else self.server_events
        return [e.packet for e in events if isinstance(e, IPPacketReceived)]


def make_pair(
    client: PPPConfig,
    server: PPPConfig,
    impairment: Impairment | None = None,
    seed: int = 0,
) -> Pair:
    imp = impairment or Impairment()
    pair = Pair(
        PPPConnection("client", client, random_bytes=seeded_random(seed * 7 + 1)),
        PPPConnection("server", server, random_bytes=seeded_random(seed * 7 + 2)),
        LossyLink(imp, seed=seed * 2 + 1),
        LossyLink(imp, seed=seed * 2 + 2),
    )
    pair.client.start(0.0)
    pair.server.start(0.0)
    pair.pump()
    return pair


def terminal(events: list[Event]) -> list[ConnectionFailed | ConnectionClosed]:
    return [e for e in events if isinstance(e, ConnectionFailed | ConnectionClosed)]


def network_up(events: list[Event]) -> NetworkUp:
    ups = [e for e in events if isinstance(e, NetworkUp)]
    assert ups, f"no NetworkUp in {events}"
    return ups[-1]


def ipv4_packet(tag: int, size: int = 84) -> bytes:
    """A well-formed-looking IPv4/UDP packet whose header carries ``tag`` in the identification."""
    header = bytes([0x45, 0]) + size.to_bytes(2, "big") + (tag & 0xFFFF).to_bytes(2, "big") + bytes([0, 0, 64, 17])
    return header + bytes(2) + bytes([10, 7, 0, 2, 10, 7, 0, 1]) + bytes((tag + i) & 0xFF for i in range(size - 20))


def ipv6_packet(tag: int, size: int = 96) -> bytes:
    header = bytes([0x60, 0, 0, 0]) + (size - 40).to_bytes(2, "big") + bytes([17, 64])
    return header + bytes(32) + bytes((tag + i) & 0xFF for i in range(size - 40))
