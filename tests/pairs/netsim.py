"""A deterministic lossy link for in-memory client/server pair tests.

Packets put on the link may be dropped, duplicated, reordered or delayed, decided by a seeded
``random.Random`` so a failing run can be replayed exactly. The clock is simulated: tests advance it
and deliver whatever is due; nothing sleeps.
"""

from __future__ import annotations

import heapq
import itertools
import random
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Impairment:
    """Probabilities (0..1) of each impairment and the delay range in seconds."""

    loss: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0
    min_delay: float = 0.001
    max_delay: float = 0.005
    reorder_extra_delay: float = 0.05


@dataclass
class LossyLink:
    """One direction of a link. ``send`` at a time, ``deliver(now)`` returns what has arrived."""

    impairment: Impairment = field(default_factory=Impairment)
    seed: int = 0
    sent: int = 0
    dropped: int = 0
    duplicated: int = 0

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._queue: list[tuple[float, int, bytes]] = []
        self._counter = itertools.count()

    def send(self, data: bytes, now: float) -> None:
        self.sent += 1
        imp = self.impairment
        if self._rng.random() < imp.loss:
            self.dropped += 1
            return
        copies = 2 if self._rng.random() < imp.duplicate else 1
        self.duplicated += copies - 1
        for _ in range(copies):
            delay = self._rng.uniform(imp.min_delay, imp.max_delay)
            if self._rng.random() < imp.reorder:
                delay += imp.reorder_extra_delay
            heapq.heappush(self._queue, (now + delay, next(self._counter), data))

    def next_arrival(self) -> float | None:
        return self._queue[0][0] if self._queue else None

    def deliver(self, now: float) -> list[bytes]:
        out: list[bytes] = []
        while self._queue and self._queue[0][0] <= now:
            out.append(heapq.heappop(self._queue)[2])
        return out
