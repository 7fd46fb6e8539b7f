"""PPTP (RFC 2637): control connection over TCP 1723 and PPP over enhanced GRE, sans-IO."""

from wizard.engine.pptp.control import CallState, ControlState, ControlStats, PPTPConfig, PPTPControl
from wizard.engine.pptp.events import (
    CallCleared,
    CallEstablished,
    ControlClosed,
    ControlConnected,
    EchoTimeout,
    Event,
    LinkInfoReceived,
    PPPFrameReceived,
    WanErrorReported,
)
from wizard.engine.pptp.gre import GREPacket, strip_ipv4_header
from wizard.engine.pptp.gre_session import GRESession, GREStats
from wizard.engine.pptp.messages import ControlMessage, decode_message
from wizard.engine.pptp.stream import ControlStreamReassembler

__all__ = [
    "CallCleared",
    "CallEstablished",
    "CallState",
    "ControlClosed",
    "ControlConnected",
    "ControlMessage",
    "ControlState",
    "ControlStats",
    "ControlStreamReassembler",
    "EchoTimeout",
    "Event",
    "GREPacket",
    "GRESession",
    "GREStats",
    "LinkInfoReceived",
    "PPPFrameReceived",
    "PPTPConfig",
    "PPTPControl",
    "WanErrorReported",
    "decode_message",
    "strip_ipv4_header",
]
