"""Events an :class:`~wizard.engine.l2tp.connection.L2TPConnection` reports to its driver."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    """Base class of all L2TP events."""


@dataclass(frozen=True)
class TunnelUp(Event):
    """The control connection is established (LAC: SCCCN sent; LNS: SCCCN received)."""

    peer_host_name: str
    peer_tunnel_id: int
    local_tunnel_id: int = 0
    peer_vendor_name: str = ""


@dataclass(frozen=True)
class SessionUp(Event):
    """A session (call) is established; PPP frames may flow. ``session_id`` is our id."""

    session_id: int
    peer_session_id: int
    sequencing: bool = False


@dataclass(frozen=True)
class PPPFrameReceived(Event):
    """A PPP frame (as carried by L2TP, usually starting FF 03) arrived on a session."""

    frame: bytes
    session_id: int = 0


@dataclass(frozen=True)
class SessionClosed(Event):
    """A session ended; ``reason`` is a plain-language sentence for the UI."""

    reason: str
    session_id: int = 0
    by_peer: bool = False
    result_code: int | None = None
    error_code: int | None = None


@dataclass(frozen=True)
class TunnelClosed(Event):
    """The tunnel ended (always the last event); ``reason`` is a plain-language sentence."""

    reason: str
    by_peer: bool = False
    result_code: int | None = None
    error_code: int | None = None
