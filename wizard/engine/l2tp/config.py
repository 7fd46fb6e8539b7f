"""Settings of an L2TP connection; defaults follow xl2tpd and RFC 2661's recommendations."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from wizard.engine.l2tp.reliable import RetransmitPolicy


@dataclass(frozen=True)
class L2TPConfig:
    """Everything an :class:`~wizard.engine.l2tp.connection.L2TPConnection` needs to know.

    ``secret`` enables tunnel authentication (Challenge / Challenge Response, section 5.1.1);
    ``hide_avps`` additionally hides session AVPs (section 4.3) and needs the secret.
    ``peer_address`` only feeds plain-language reasons ("no reply from the L2TP server at ...").
    ``random_bytes`` is injectable so tests are deterministic; ids, challenges and random vectors
    come from it.
    """

    host_name: str = "connection-wizard"
    secret: str | bytes | None = None
    hello_interval: float | None = 60.0
    retransmit_initial: float = 1.0
    retransmit_cap: float = 8.0
    max_retransmits: int = 5
    ack_delay: float = 0.2
    receive_window: int = 4
    accept_sessions: bool = True
    vendor_name: str = "Connection Wizard"
    firmware_revision: int = 0x0100
    hide_avps: bool = False
    data_sequencing: bool = False
    data_length_bit: bool = True
    peer_address: str = ""
    close_tunnel_with_session: bool = True
    setup_timeout: float = 60.0
    stop_linger: float = 10.0
    tx_connect_speed: int = 100_000_000
    bearer_capabilities: int = 0
    local_tunnel_id: int | None = None
    random_bytes: Callable[[int], bytes] = field(default=os.urandom, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not 1 <= self.receive_window <= 0xFFFF:
            raise ValueError("receive_window must be 1..65535")
        if self.retransmit_initial <= 0 or self.retransmit_cap < self.retransmit_initial:
            raise ValueError("retransmit_initial must be > 0 and <= retransmit_cap")
        if self.max_retransmits < 0:
            raise ValueError("max_retransmits must be >= 0")
        if self.hello_interval is not None and self.hello_interval <= 0:
            raise ValueError("hello_interval must be positive or None")
        if self.hide_avps and not self.secret:
            raise ValueError("hide_avps needs a tunnel secret")
        if self.local_tunnel_id is not None and not 1 <= self.local_tunnel_id <= 0xFFFF:
            raise ValueError("local_tunnel_id must be 1..65535")
        if not 0 <= self.firmware_revision <= 0xFFFF:
            raise ValueError("firmware_revision must fit 16 bits")

    @property
    def secret_bytes(self) -> bytes | None:
        if self.secret is None or self.secret in ("", b""):
            return None
        return self.secret.encode("utf-8") if isinstance(self.secret, str) else bytes(self.secret)

    @property
    def retransmit_policy(self) -> RetransmitPolicy:
        return RetransmitPolicy(
            initial=self.retransmit_initial,
            cap=self.retransmit_cap,
            max_retransmits=self.max_retransmits,
            ack_delay=self.ack_delay,
        )
