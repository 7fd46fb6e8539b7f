"""Errors of the network layer; each carries a plain-language ``reason`` for the UI."""

from __future__ import annotations


class NetError(Exception):
    """Base class: something in the host's network stack refused what we asked."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NetConfigError(NetError):
    """An address, MTU or route change failed."""


class TransportError(NetError):
    """A socket could not be opened or connected."""
