"""CCP (RFC 1962) carrying only the MPPE option (RFC 3078 section 2).

Like LCP's MRU, each Configure-Request says how its sender wants to *receive*: the options we
request describe the decryptor, the peer's acknowledged request the encryptor. Several strength
bits in a request are narrowed to the strongest common one with a Nak; stateless mode (the H bit)
is insisted on unless stateful mode is allowed. MPPC compression is never negotiated.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from wizard.engine.ppp.frame import PROTO_CCP, RESET_ACK, RESET_REQ, CPPacket, Option
from wizard.engine.ppp.fsm import ACK, REJECT, ControlProtocol, OptionVerdict, State, Timers, nak

OPT_MPPE = 18

BIT_H = 0x01000000  # stateless
BIT_M = 0x00000080  # 56-bit
BIT_S = 0x00000040  # 128-bit
BIT_L = 0x00000020  # 40-bit
BIT_D = 0x00000010  # obsolete
BIT_C = 0x00000001  # MPPC compression

RESET_RETRY = 1.0  # seconds between repeated Reset-Requests (pppd's RACKTIMEOUT)

STRENGTH_BITS = {128: BIT_S, 56: BIT_M, 40: BIT_L}
_STRENGTH_MASK = BIT_S | BIT_M | BIT_L


def strongest(mask: int) -> int | None:
    """The strongest key length (in bits) whose bit is set in ``mask``."""
    for bits in (128, 56, 40):
        if mask & STRENGTH_BITS[bits]:
            return bits
    return None


def describe(bits: int, stateless: bool) -> str:
    return f"MPPE-{bits} {'stateless' if stateless else 'stateful'}"


def _option(value: int) -> Option:
    return Option(OPT_MPPE, value.to_bytes(4, "big"))


class CCP(ControlProtocol):
    protocol = PROTO_CCP
    name = "CCP"
    extended_codes = frozenset({RESET_REQ, RESET_ACK})

    def __init__(
        self,
        send: Callable[[int, bytes], None],
        timers: Timers,
        *,
        allowed_bits: Sequence[int],
        allow_stateful: bool,
        on_reset_request: Callable[[float], None] | None = None,
        peer: str = "peer",
        settings: str = "this profile",
    ) -> None:
        super().__init__(send, timers)
        self._peer_word, self._settings_word = peer, settings
        self._allowed_mask = 0
        for bits in allowed_bits:
            self._allowed_mask |= STRENGTH_BITS[bits]
        self.allow_stateful = allow_stateful
        self.on_reset_request = on_reset_request
        self._ask = True
        self._request_bits = 0
        # Results: receive direction (our request) and send direction (the peer's request).
        self.recv: tuple[int, bool] | None = None
        self.send: tuple[int, bool] | None = None
        self.refused = False
        self.fatal: str | None = None
        self._reset_not_before: float | None = None
        self.resets_received = 0
        self._last_reset: int | None = None
        self._last_reset_at: float | None = None
        self.reset_acks_received = 0
        self.reset_options()

    def _default_request(self) -> int:
        return self._allowed_mask | (0 if self.allow_stateful else BIT_H)

    def reset_options(self) -> None:
        self._ask = not self.refused
        self._request_bits = self._default_request()

    def request_options(self) -> list[Option]:
        return [_option(self._request_bits)] if self._ask else []

    def request_naked(self, options: Sequence[Option]) -> None:
        for option in options:
            if option.type != OPT_MPPE or len(option.data) != 4:
                continue
            value = int.from_bytes(option.data, "big")
            choice = strongest(value & self._allowed_mask)
            if choice is None:
                offered = strongest(value)
                self.fatal = (
                    f"the {self._peer_word} offers only MPPE-{offered} encryption, which "
                    f"{self._settings_word} does not allow"
                    if offered is not None
                    else f"the {self._peer_word} does not offer any MPPE key length"
                )
                continue
            stateless = bool(value & BIT_H) or not self.allow_stateful
            self._request_bits = STRENGTH_BITS[choice] | (BIT_H if stateless else 0)

    def request_rejected(self, options: Sequence[Option]) -> None:
        if any(o.type == OPT_MPPE for o in options):
            self._ask = False
            self.refused = True

    def request_acked(self, options: Sequence[Option]) -> None:
        self.recv = None
        for option in options:
            if option.type == OPT_MPPE:
                value = int.from_bytes(option.data, "big")
                bits = strongest(value)
                if bits is not None:
                    self.recv = (bits, bool(value & BIT_H))

    def check_option(self, option: Option) -> OptionVerdict:
        if option.type != OPT_MPPE or len(option.data) != 4:
            return REJECT  # Deflate, BSD, Predictor, MPPC-only, ...: we compress nothing
        value = int.from_bytes(option.data, "big")
        common = value & self._allowed_mask
        choice = strongest(common) or strongest(self._allowed_mask)
        assert choice is not None
        stateless = bool(value & BIT_H) or not self.allow_stateful
        wanted = STRENGTH_BITS[choice] | (BIT_H if stateless else 0)
        return ACK if value == wanted else nak(_option(wanted))

    def missing_option_hints(self, present: set[int]) -> list[Option]:
        if OPT_MPPE not in present:
            return [_option(self._default_request())]
        return []

    def peer_request_acked(self, options: Sequence[Option]) -> None:
        self.send = None
        for option in options:
            if option.type == OPT_MPPE:
                value = int.from_bytes(option.data, "big")
                bits = strongest(value)
                if bits is not None:
                    self.send = (bits, bool(value & BIT_H))

    # ----------------------------------------------------------------- Reset-Request / Reset-Ack
    def handle_extended(self, packet: CPPacket, now: float) -> None:
        if self.state is not State.OPENED:
            self.discarded += 1
            return
        if packet.code == RESET_REQ:
            # The peer lost packets: restart our encryptor and acknowledge (RFC 1962 section 4). A
            # duplicated request (same identifier, moments later) is only acknowledged: each extra
            # stateful MPPE flush is one more key change the peer could miss.
            duplicate = self._last_reset == packet.identifier and self._last_reset_at is not None
            if not duplicate or now - (self._last_reset_at or now) > self.timers.restart:
                self.resets_received += 1
                self._last_reset, self._last_reset_at = packet.identifier, now
                if self.on_reset_request is not None:
                    self.on_reset_request(now)
            self.send_packet(RESET_ACK, packet.identifier, b"")
        else:
            self.reset_acks_received += 1  # MPPE resynchronises on the FLUSHED bit instead

    def request_reset(self, now: float, *, repeat: bool) -> bool:
        """Ask the peer to flush after stateful MPPE lost packets.

        While packets keep failing the request is repeated at most once a second, like pppd's
        Reset-Ack timeout, in case the request or the FLUSHED packet answering it was lost.
        """
        if self.state is not State.OPENED:
            return False
        if repeat and self._reset_not_before is not None and now < self._reset_not_before:
            return False
        self.send_packet(RESET_REQ, self.new_id(), b"")
        self._reset_not_before = now + RESET_RETRY
        return True
