"""The three error types every protocol core shares.

Parsers raise :class:`ParseError` (never ``IndexError`` or ``struct.error``) so a driver can drop and
count a malformed packet with one ``except`` clause.
"""

from __future__ import annotations


class ProtocolError(Exception):
    """Base class of all engine errors."""


class ParseError(ProtocolError):
    """Bytes from the wire could not be decoded; the packet is dropped and counted."""


class LocalProtocolError(ProtocolError):
    """We used the API wrongly (e.g. sent data before the session was up)."""


class RemoteProtocolError(ProtocolError):
    """The peer broke the protocol; ``reason`` is a plain-language sentence for the UI."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
