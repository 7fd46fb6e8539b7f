"""IPV6CP (RFC 5072): each side picks a random 64-bit interface identifier for its link-local address.

A zero identifier or one equal to ours is Nak'd with a fresh random suggestion (section 4.1).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from wizard.engine.ppp.frame import PROTO_IPV6CP, Option
from wizard.engine.ppp.fsm import ACK, REJECT, ControlProtocol, OptionVerdict, Timers, nak

OPT_INTERFACE_ID = 1
OPT_COMPRESSION = 2

_ZERO = bytes(8)


def link_local(iid: bytes) -> str:
    """fe80::/64 address text for an interface identifier."""
    groups = [iid[i : i + 2].hex() for i in range(0, 8, 2)]
    return "fe80::" + ":".join(g.lstrip("0") or "0" for g in groups)


class IPV6CP(ControlProtocol):
    protocol = PROTO_IPV6CP
    name = "IPV6CP"

    def __init__(self, send: Callable[[int, bytes], None], timers: Timers, random_bytes: Callable[[int], bytes]) -> None:
        super().__init__(send, timers)
        self._random = random_bytes
        self._ask = True
        self._want = self._fresh()
        self.local_iid: bytes | None = None
        self.peer_iid: bytes | None = None

    def _fresh(self, *avoid: bytes | None) -> bytes:
        while True:
            value = self._random(8)
            if value != _ZERO and value not in avoid:
                return value

    def reset_options(self) -> None:
        self._ask = True

    def request_options(self) -> list[Option]:
        return [Option(OPT_INTERFACE_ID, self._want)] if self._ask else []

    def request_naked(self, options: Sequence[Option]) -> None:
        for option in options:
            if option.type == OPT_INTERFACE_ID and len(option.data) == 8:
                suggested = option.data
                if suggested != _ZERO and suggested != self.peer_iid:
                    self._want = suggested
                else:
                    self._want = self._fresh(self._want, self.peer_iid)

    def request_rejected(self, options: Sequence[Option]) -> None:
        if any(o.type == OPT_INTERFACE_ID for o in options):
            self._ask = False

    def request_acked(self, options: Sequence[Option]) -> None:
        self.local_iid = None
        for option in options:
            if option.type == OPT_INTERFACE_ID:
                self.local_iid = option.data

    def check_option(self, option: Option) -> OptionVerdict:
        if option.type != OPT_INTERFACE_ID or len(option.data) != 8:
            return REJECT
        if option.data == _ZERO or option.data == self._want:
            if option.data == self._want:
                self._want = self._fresh(self._want)  # collision: both sides pick again
            return nak(Option(OPT_INTERFACE_ID, self._fresh(self._want, option.data)))
        return ACK

    def peer_request_acked(self, options: Sequence[Option]) -> None:
        self.peer_iid = None
        for option in options:
            if option.type == OPT_INTERFACE_ID:
                self.peer_iid = option.data
