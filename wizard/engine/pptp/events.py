"""Events emitted by the PPTP control connection and the GRE session."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    """Base of all PPTP events."""


@dataclass(frozen=True)
class ControlConnected(Event):
    """The Start-Control-Connection exchange succeeded; fields describe the peer."""

    peer_host_name: str
    peer_vendor: str
    peer_firmware_revision: int
    peer_framing_capabilities: int = 0
    peer_bearer_capabilities: int = 0
    peer_maximum_channels: int = 0


@dataclass(frozen=True)
class CallEstablished(Event):
    """The outgoing call is up; GRE may flow. Hand these numbers to :class:`GRESession`.

    ``peer_recv_window`` bounds how many unacknowledged packets we may send; ``peer_processing_delay``
    is in tenths of a second (RFC 2637 section 2.7).
    """

    local_call_id: int
    peer_call_id: int
    connect_speed: int
    peer_recv_window: int
    peer_processing_delay: int = 0


@dataclass(frozen=True)
class CallCleared(Event):
    """The call is gone (or was never set up); ``reason`` is a sentence for the UI."""

    reason: str
    by_peer: bool = False


@dataclass(frozen=True)
class ControlClosed(Event):
    """The control connection is finished; the driver may close the TCP socket after flushing."""

    reason: str
    by_peer: bool = False


@dataclass(frozen=True)
class EchoTimeout(Event):
    """The peer did not answer an Echo-Request in time; ``ControlClosed`` follows."""

    waited: float


@dataclass(frozen=True)
class LinkInfoReceived(Event):
    """The PNS (client) told us the PPP ACCMs it negotiated (Set-Link-Info)."""

    send_accm: int
    receive_accm: int


@dataclass(frozen=True)
class WanErrorReported(Event):
    """The PAC (server) reported line error counters (WAN-Error-Notify); informational."""

    crc_errors: int
    framing_errors: int
    hardware_overruns: int
    buffer_overruns: int
    timeout_errors: int
    alignment_errors: int


@dataclass(frozen=True)
class PPPFrameReceived(Event):
    """One PPP frame (no HDLC framing, no FCS) arrived in order over GRE."""

    frame: bytes
