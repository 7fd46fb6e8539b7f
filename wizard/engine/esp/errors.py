"""Why an ESP/AH packet was dropped. Every receive-side error is a ParseError so a driver needs one except."""

from __future__ import annotations

from wizard.engine.crypto.suites import AuthenticationFailed
from wizard.engine.errors import LocalProtocolError, ParseError

__all__ = [
    "AuthenticationFailed",
    "BadPadding",
    "DummyPacket",
    "ExpiredSA",
    "NotESP",
    "ReplayedPacket",
    "SAExhausted",
    "WrongSPI",
]


class ReplayedPacket(ParseError):
    """The sequence number was seen before or lies left of the anti-replay window."""


class BadPadding(ParseError):
    """The self-describing padding (1, 2, 3, ...) or the pad length is wrong (RFC 4303 §2.4)."""


class WrongSPI(ParseError):
    """The packet is for another SA; the caller demultiplexes by SPI before calling us."""


class ExpiredSA(ParseError):
    """The inbound SA reached its hard lifetime; packets for it are no longer accepted."""


class DummyPacket(ParseError):
    """A valid packet with next header 59 (RFC 4303 §2.6 traffic flow confidentiality): nothing to deliver."""


class NotESP(ParseError):
    """A UDP datagram on the NAT-T port that is IKE (non-ESP marker) or a NAT keepalive, not ESP."""


class SAExhausted(LocalProtocolError):
    """The outbound SA reached its hard lifetime or ran out of sequence numbers: rekey before sending more."""
