"""Events an SA reports through ``next_event()``: lifetime thresholds that call for a rekey."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

LifetimeReason = Literal["bytes", "packets", "seconds", "sequence numbers"]


@dataclass(frozen=True)
class SoftLifetimeExpired:
    """Time to rekey: the SA still works, but its soft limit was reached."""

    spi: int
    direction: str
    reason: LifetimeReason


@dataclass(frozen=True)
class HardLifetimeExpired:
    """The SA is dead: outbound refuses to send, inbound drops every packet."""

    spi: int
    direction: str
    reason: LifetimeReason


SAEvent = SoftLifetimeExpired | HardLifetimeExpired
