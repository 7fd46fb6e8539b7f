"""Dead Peer Detection (RFC 3706): R-U-THERE after an idle interval, PeerDead when no ACK comes back.

The stack reports inbound ESP traffic through ``note_traffic`` so a busy tunnel never sends DPD.
Each retry carries a fresh sequence number; any outstanding one may be acknowledged.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class DeadPeerDetection:
    interval: float
    retries: int
    retry_initial: float
    retry_factor: float
    retry_cap: float
    seq: int
    last_heard: float = 0.0
    outstanding: set[int] = field(default_factory=set)
    tries: int = 0
    next_at: float | None = None
    probes_sent: int = 0

    def heard(self, now: float) -> None:
        self.last_heard = max(self.last_heard, now)
        self.outstanding.clear()
        self.tries = 0
        self.next_at = None

    def timer(self) -> float:
        return self.next_at if self.next_at is not None else self.last_heard + self.interval

    def due(self, now: float) -> bool:
        return now >= self.timer()

    def dead(self) -> bool:
        return self.tries > self.retries

    def next_probe(self, now: float) -> int:
        """Record a probe at ``now``; returns its sequence number."""
        self.seq = (self.seq + 1) & 0xFFFFFFFF or 1
        self.outstanding.add(self.seq)
        self.tries += 1
        self.probes_sent += 1
        wait = min(self.retry_cap, self.retry_initial * self.retry_factor ** (self.tries - 1))
        self.next_at = now + wait
        return self.seq

    def acked(self, seq: int, now: float) -> bool:
        if seq in self.outstanding:
            self.heard(now)
            return True
        return False
