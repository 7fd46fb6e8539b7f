"""``connection-wizard probe HOST``: the gateway probe on the command line.

Exit codes: 0 when the gateway answered in at least one protocol, 1 when nothing answered, 2 for a
mistake in the command (one line on stderr, like every other subcommand).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from wizard.probe.report import ALL_PROTOCOLS, ProbeProtocol, format_report
from wizard.profiles.errors import ValidationError
from wizard.profiles.model import check_host
from wizard.profiles.store import ProfileStore

EXIT_USAGE = 2


def _protocol_list(text: str) -> tuple[ProbeProtocol, ...]:
    try:
        return tuple(ProbeProtocol(p.strip().lower()) for p in text.split(",") if p.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"choose from {','.join(p.value for p in ALL_PROTOCOLS)}") from None


def add_probe_command(sub: Any) -> None:
    """Register ``probe`` on the main parser's subparsers."""
    p = sub.add_parser("probe", help="find which VPN protocols and IKE suites a gateway accepts (no credentials)")
    p.add_argument("host", help="gateway host name or IP address")
    p.add_argument("--timeout", type=float, default=2.0, metavar="SECONDS",
                   help="wait for each protocol's first answer (default 2)")  # fmt: skip
    p.add_argument("--only", type=_protocol_list, metavar="LIST",
                   help=f"probe only these protocols ({','.join(p.value for p in ALL_PROTOCOLS)})")  # fmt: skip
    p.add_argument("--no-walk", action="store_true", help="offer only the first IKE suite of each version")
    p.add_argument("--ike-source-port", type=int, default=0, metavar="PORT",
                   help="send IKE from this UDP port (500 needs root; default: an ephemeral port)")  # fmt: skip
    p.add_argument("--json", action="store_true", help="print the report as JSON")


def cmd_probe(args: argparse.Namespace, store: ProfileStore) -> int:
    from wizard.probe.run import ProbeError, probe_blocking  # the engines load only when probing

    try:
        check_host(args.host, "host")
        report = probe_blocking(
            args.host, timeout=args.timeout, protocols=args.only or ALL_PROTOCOLS, walk=not args.no_walk,
            ike_source_port=args.ike_source_port,
        )  # fmt: skip
    except ValidationError as exc:
        return _fail(f"{exc}")
    except ProbeError as exc:
        return _fail(str(exc))
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(format_report(report))
    return 0 if report.speaks else 1


def _fail(message: str) -> int:
    print(f"connection-wizard: error: {message}", file=sys.stderr)
    return EXIT_USAGE
