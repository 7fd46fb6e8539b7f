"""SA lifetimes in bytes, packets and seconds, each with a soft (rekey) and a hard (stop) limit."""

from __future__ import annotations

from dataclasses import dataclass

from wizard.engine.esp.events import HardLifetimeExpired, LifetimeReason, SAEvent, SoftLifetimeExpired


@dataclass(frozen=True)
class Lifetime:
    """None means unlimited. Soft limits should be below hard ones; IKE rekeys when a soft one fires."""

    soft_bytes: int | None = None
    hard_bytes: int | None = None
    soft_packets: int | None = None
    hard_packets: int | None = None
    soft_seconds: float | None = None
    hard_seconds: float | None = None


class LifetimeTracker:
    """Counts use of one SA against its :class:`Lifetime` and queues the events once each."""

    __slots__ = ("_direction", "_spi", "bytes", "created", "events", "hard_reason", "limits", "packets", "soft_reason")

    def __init__(self, limits: Lifetime, created: float, spi: int, direction: str) -> None:
        self.limits = limits
        self.created = created
        self.bytes = 0
        self.packets = 0
        self.soft_reason: LifetimeReason | None = None
        self.hard_reason: LifetimeReason | None = None
        self.events: list[SAEvent] = []
        self._spi = spi
        self._direction = direction

    def soft(self, reason: LifetimeReason) -> None:
        if self.soft_reason is None:
            self.soft_reason = reason
            self.events.append(SoftLifetimeExpired(self._spi, self._direction, reason))

    def hard(self, reason: LifetimeReason) -> None:
        if self.hard_reason is None:
            self.soft(reason)
            self.hard_reason = reason
            self.events.append(HardLifetimeExpired(self._spi, self._direction, reason))

    def count(self, nbytes: int, now: float) -> None:
        self.bytes += nbytes
        self.packets += 1
        self.check(now)

    def check(self, now: float) -> None:
        lim = self.limits
        age = now - self.created
        checks: tuple[tuple[LifetimeReason, float, float | None, float | None], ...] = (
            ("bytes", self.bytes, lim.soft_bytes, lim.hard_bytes),
            ("packets", self.packets, lim.soft_packets, lim.hard_packets),
            ("seconds", age, lim.soft_seconds, lim.hard_seconds),
        )
        for reason, used, soft, hard in checks:
            if hard is not None and used >= hard:
                self.hard(reason)
            if soft is not None and used >= soft:
                self.soft(reason)

    def next_deadline(self) -> float | None:
        lim = self.limits
        times = []
        if lim.soft_seconds is not None and self.soft_reason is None:
            times.append(self.created + lim.soft_seconds)
        if lim.hard_seconds is not None and self.hard_reason is None:
            times.append(self.created + lim.hard_seconds)
        return min(times) if times else None
