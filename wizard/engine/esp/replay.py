"""Anti-replay window with a bitmap and 64-bit extended sequence numbers (RFC 4303 §3.4.3, App. A)."""

from __future__ import annotations

from wizard.engine.esp.errors import ReplayedPacket

_LOW = 0xFFFFFFFF


class ReplayWindow:
    """Bit ``i`` of the bitmap stands for sequence number ``highest - i``.

    ``check`` runs before the ICV (cheap rejection), ``accept`` only after it verified, so a forged packet
    cannot move the window.
    """

    __slots__ = ("_bitmap", "_highest", "_mask", "esn", "size")

    def __init__(self, size: int, esn: bool, highest: int = 0) -> None:
        if size < 1:
            raise ValueError("the replay window holds at least one packet")
        self.size = size
        self.esn = esn
        self._mask = (1 << size) - 1
        self._highest = highest
        self._bitmap = 1  # the starting point counts as seen: sequence number 0 is never sent

    @property
    def highest(self) -> int:
        return self._highest

    def infer(self, seq_low: int) -> int:
        """The full sequence number of a packet carrying the low 32 bits ``seq_low`` (RFC 4303 App. A2.2)."""
        if not self.esn:
            return seq_low
        w = self.size
        tl = self._highest & _LOW
        th = self._highest >> 32
        if tl >= w - 1:
            seqh = th if seq_low >= tl - w + 1 else th + 1
        else:
            seqh = th - 1 if seq_low >= (tl - w + 1) & _LOW else th
        if seqh < 0:
            raise ReplayedPacket(f"sequence number {seq_low} lies before the start of the SA")
        return (seqh << 32) | seq_low

    def check(self, seq: int) -> None:
        if seq > self._highest:
            return
        diff = self._highest - seq
        if diff >= self.size:
            raise ReplayedPacket(f"sequence number {seq} is left of the replay window (highest {self._highest})")
        if (self._bitmap >> diff) & 1:
            raise ReplayedPacket(f"sequence number {seq} was already received")

    def accept(self, seq: int) -> None:
        if seq > self._highest:
            shift = seq - self._highest
            self._bitmap = 1 if shift >= self.size else ((self._bitmap << shift) | 1) & self._mask
            self._highest = seq
        else:
            self._bitmap |= 1 << (self._highest - seq)
