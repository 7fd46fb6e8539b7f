"""Counters an L2TP connection keeps, for diagnostics and tests (never raised, only counted)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class L2TPStats:
    """Mutable counters; read them from ``L2TPConnection.stats``."""

    malformed_dropped: int = 0
    wrong_tunnel_dropped: int = 0
    unknown_session_dropped: int = 0
    control_sent: int = 0
    control_received: int = 0
    retransmissions: int = 0
    duplicates_received: int = 0
    out_of_order_queued: int = 0
    out_of_window_dropped: int = 0
    zlb_sent: int = 0
    zlb_received: int = 0
    hellos_sent: int = 0
    data_sent: int = 0
    data_received: int = 0
    data_out_of_order_dropped: int = 0
    ignored_messages: int = 0
