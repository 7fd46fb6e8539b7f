"""What every part of one gateway shares: its configuration, address pool, log and live sessions."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import TextIO

from wizard.engine.ppp.ipcp import AddressPool
from wizard.stacks.gateway.config import GatewayConfig
from wizard.stacks.gateway.session import Log, ServerSession


def line_printer(out: TextIO | None = None) -> Log:
    """One timestamped progress line per call, flushed at once (tests and systemd read it live)."""

    def log(message: str) -> None:
        print(f"{time.strftime('%H:%M:%S')} {message}", file=out or sys.stdout, flush=True)

    return log


@dataclass
class GatewayShared:
    config: GatewayConfig
    log: Log
    pool: AddressPool = field(init=False)
    sessions: set[ServerSession] = field(default_factory=set)
    stopping: bool = False

    def __post_init__(self) -> None:
        self.pool = self.config.address_pool()
