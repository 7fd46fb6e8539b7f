"""L2TPv2 (RFC 2661) sans-IO engine: header and AVP codecs, reliable control channel, sessions.

The stack drives :class:`L2TPConnection`; see :mod:`wizard.engine.l2tp.connection` for what the
UDP driver must do (ports, demultiplexing, lingering after close).
"""

from wizard.engine.l2tp.config import L2TPConfig
from wizard.engine.l2tp.connection import L2TPConnection, TunnelState
from wizard.engine.l2tp.events import (
    Event,
    PPPFrameReceived,
    SessionClosed,
    SessionUp,
    TunnelClosed,
    TunnelUp,
)
from wizard.engine.l2tp.stats import L2TPStats

__all__ = [
    "Event",
    "L2TPConfig",
    "L2TPConnection",
    "L2TPStats",
    "PPPFrameReceived",
    "SessionClosed",
    "SessionUp",
    "TunnelClosed",
    "TunnelState",
    "TunnelUp",
]
