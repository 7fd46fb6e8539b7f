"""Counters an IKEv1 connection keeps (dropped packets are counted, never raised)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class IKEv1Stats:
    received: int = 0
    sent: int = 0
    malformed_dropped: int = 0
    unknown_sa_dropped: int = 0
    unexpected_dropped: int = 0
    decrypt_failed: int = 0
    hash_failed: int = 0
    duplicates: int = 0
    retransmissions: int = 0
    dpd_sent: int = 0
    dpd_acked: int = 0
    ike_rekeys: int = 0
    child_rekeys: int = 0
