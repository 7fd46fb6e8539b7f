"""``connection-wizard gateway --config FILE``: serve PPTP and L2TP clients (root).

Our own responder for tests, demos and small labs: users with passwords, one address pool, DNS
servers handed out over IPCP, MPPE per protocol. See :mod:`wizard.stacks.gateway.config` for the
file format. Prints one line per client event (connect, auth ok/failed with the user name,
address assigned, disconnect); never a password or the tunnel secret.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TextIO

from wizard.net.errors import NetError
from wizard.stacks.gateway.config import GatewayConfig, GatewayConfigError, load_config, parse_config
from wizard.stacks.gateway.server import Gateway
from wizard.stacks.gateway.shared import line_printer

EXIT_CONFIG = 2
EXIT_FAILED = 1

__all__ = ["Gateway", "GatewayConfig", "GatewayConfigError", "load_config", "main_gateway", "parse_config"]


def main_gateway(config_path: Path, out: TextIO | None = None) -> int:
    """Run the gateway in the foreground until SIGINT/SIGTERM; returns the process exit code."""
    stream = out or sys.stdout
    try:
        config = load_config(config_path)
    except GatewayConfigError as exc:
        print(f"gateway: bad configuration: {exc}", file=stream, flush=True)
        return EXIT_CONFIG
    gateway = Gateway(config, line_printer(stream))
    try:
        return asyncio.run(gateway.run())
    except NetError as exc:
        print(f"gateway: cannot start: {exc.reason}", file=stream, flush=True)
        return EXIT_FAILED
