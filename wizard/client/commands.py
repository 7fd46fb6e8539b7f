"""CLI subcommands that talk to the helper: ``connect``, ``disconnect``, ``status`` and ``helper``.

Kept apart from ``wizard/cli.py`` (which only registers them) so the CLI file stays small. Secrets
come from the user's keyring, or a no-echo prompt, or ``--secrets-stdin`` (one per line); they go
to the helper inside the connect request and nowhere else.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from wizard.client.client import DEFAULT_SOCKET, HelperClient, HelperError
from wizard.logsetup import register_secret
from wizard.profiles.model import Profile
from wizard.profiles.secrets import SecretStore
from wizard.profiles.store import ProfileStore

log = logging.getLogger("wizard.cli")
EXIT_FAILED = 1
EXIT_USAGE = 2
FINAL_STATES = ("connected", "failed", "disconnected")

Command = Callable[[argparse.Namespace, ProfileStore], int]
SECRET_LABELS = {"password": "Password", "psk": "Pre-shared key", "key_passphrase": "Private key passphrase"}


def add_helper_commands(sub: Any) -> None:
    """Register the subcommands on the CLI's subparsers object."""
    connect = sub.add_parser("connect", help="connect a stored connection (through the helper)")
    connect.add_argument("name", help="connection name or id")
    connect.add_argument(
        "--secrets-stdin", action="store_true", help="read the secrets from standard input, one per line"
    )
    connect.add_argument("--no-wait", action="store_true", help="return as soon as the helper has started connecting")
    connect.add_argument(
        "--foreground",
        action="store_true",
        help="run the connection in this process instead of the helper (root); Ctrl-C disconnects",
    )
    connect.add_argument(
        "--timeout", type=float, default=120.0, help="seconds to wait for the connection (default 120)"
    )
    _socket_flag(connect)

    disconnect = sub.add_parser("disconnect", help="disconnect (the only active connection, or NAME)")
    disconnect.add_argument("name", nargs="?", help="connection name, profile id or session id")
    _socket_flag(disconnect)

    status = sub.add_parser("status", help="show active connections and their counters")
    status.add_argument("--watch", action="store_true", help="keep showing live counters until Ctrl-C")
    _socket_flag(status)

    helper = sub.add_parser("helper", help="run the privileged helper daemon (as root; normally started by systemd)")
    _socket_flag(helper)
    helper.add_argument(
        "--state-dir", type=Path, default=Path("/run/connection-wizard"), help="journal and lock directory"
    )
    helper.add_argument("--group", default="connection-wizard", help="group whose members may use the helper")
    helper.add_argument(
        "--dns", default="auto", choices=("auto", "resolved", "resolv-conf", "off"), help="how to set DNS"
    )
    helper.add_argument(
        "--resolv-conf", type=Path, default=Path("/etc/resolv.conf"), help="resolv.conf to edit without resolved"
    )
    helper.add_argument("--no-polkit", action="store_true", help="do not ask polkit (group membership decides alone)")
    helper.add_argument("--verbose", action="store_true", help="log debug messages")
    helper.add_argument(
        "--stack-factory", default="wizard.stacks.registry:build_stack_in_helper", help=argparse.SUPPRESS
    )
    helper.add_argument("--socket-mode", type=lambda v: int(v, 8), default=0o660, help=argparse.SUPPRESS)


def _socket_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--socket", type=Path, default=DEFAULT_SOCKET, help=f"helper socket (default {DEFAULT_SOCKET})")


def _fail(message: str, code: int = EXIT_FAILED) -> int:
    print(f"connection-wizard: error: {message}", file=sys.stderr)
    return code


def _run(coro: Any) -> int:
    try:
        result: int = asyncio.run(coro)
    except HelperError as exc:
        return _fail(exc.message)
    return result


# --- connect -------------------------------------------------------------------------------------


def gather_secrets(profile: Profile, from_stdin: bool, store: SecretStore | None = None) -> dict[str, str]:
    """Every secret the profile needs: keyring first, then a prompt (or stdin)."""
    secrets: dict[str, str] = {}
    keyring = store if store is not None else (SecretStore() if profile.saved_secrets and not from_stdin else None)
    for kind in profile.auth.secrets:
        value = keyring.get(profile, kind) if keyring is not None and kind in profile.saved_secrets else None
        if value is None and from_stdin:
            line = sys.stdin.readline()
            if not line:
                raise ValueError(f"expected the {kind.value} on standard input, found end of input")
            value = line.rstrip("\r\n")
        if value is None:
            value = getpass.getpass(f"{SECRET_LABELS.get(kind.value, kind.value)} for {profile.name}: ")
        register_secret(value)
        secrets[kind.value] = value
    return secrets


def cmd_connect(args: argparse.Namespace, store: ProfileStore) -> int:
    profile = store.find(args.name)
    try:
        secrets = gather_secrets(profile, args.secrets_stdin)
    except ValueError as exc:
        return _fail(str(exc), EXIT_USAGE)
    if args.foreground:
        if os.geteuid() != 0:
            return _fail(
                "--foreground needs root (it creates the TUN device and routes itself); "
                "without it, the helper connects for you",
                EXIT_USAGE,
            )
        from wizard.stacks.runner import run_foreground

        log.info("connecting profile %s in the foreground", profile.id)
        return asyncio.run(run_foreground(profile, secrets))
    log.info("connecting profile %s through the helper", profile.id)
    return _run(_connect(args, profile, secrets))


async def _connect(
    args: argparse.Namespace, profile: Profile, secrets: dict[str, str], out: TextIO = sys.stdout
) -> int:
    async with await HelperClient.open(args.socket) as client:
        await client.subscribe()
        session = await client.connect(profile, secrets)
        secrets.clear()
        sid = session["id"]
        print(f"Connecting {profile.name!r} ({profile.protocol.label}, session {sid})...", file=out, flush=True)
        if args.no_wait:
            return 0
        deadline = time.monotonic() + args.timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                event = await client.next_event(timeout=max(0.1, remaining))
            except TimeoutError:
                print(f"Still connecting after {args.timeout:g} s; see 'connection-wizard status'.", file=out)
                return EXIT_FAILED
            if event is None:
                return _fail("the helper closed the connection")
            if event.get("session") != sid and event.get("event") != "note":
                continue
            kind = event.get("event")
            if kind == "progress":
                print(f"  [{event.get('phase')}] {event.get('message')}", file=out, flush=True)
            elif kind == "error":
                print(f"  problem: {event.get('reason')}", file=out, flush=True)
            elif kind == "note":
                print(f"  note: {event.get('message')}", file=out, flush=True)
            elif kind == "state" and event.get("state") in FINAL_STATES:
                info = event.get("info") or {}
                if event.get("state") == "connected":
                    print(f"Connected {profile.name!r}.", file=out)
                    print(format_session(info), file=out)
                    return 0
                if event.get("state") == "failed":
                    print(f"  {event.get('message')}", file=out)
                return _fail(f"could not connect {profile.name!r}: {event.get('reason') or event.get('message')}")


# --- disconnect ----------------------------------------------------------------------------------


def pick_session(sessions: list[dict[str, Any]], name: str | None) -> dict[str, Any]:
    """The session ``name`` means (profile name, profile id or session id), or the only one."""
    if name is None:
        if len(sessions) == 1:
            return sessions[0]
        if not sessions:
            raise LookupError("there is no active connection")
        names = ", ".join(repr(s["name"]) for s in sessions)
        raise LookupError(f"there are {len(sessions)} connections ({names}); say which one to disconnect")
    matches = [s for s in sessions if name in (s["name"], s["profile_id"], s["id"])]
    if len(matches) != 1:
        if not matches:
            raise LookupError(f"{name!r} is not connected")
        raise LookupError(
            f"{name!r} matches {len(matches)} sessions; give a session id from 'connection-wizard status'"
        )
    return matches[0]


def cmd_disconnect(args: argparse.Namespace, store: ProfileStore) -> int:
    return _run(_disconnect(args))


async def _disconnect(args: argparse.Namespace) -> int:
    async with await HelperClient.open(args.socket) as client:
        try:
            session = pick_session(await client.list_sessions(), args.name)
        except LookupError as exc:
            return _fail(str(exc), EXIT_USAGE)
        final = await client.disconnect(session["id"])
        print(f"Disconnected {session['name']!r}{_reason(final)}.")
        return 0


def _reason(session: dict[str, Any]) -> str:
    reason = session.get("reason")
    return f" ({reason})" if reason and reason != "disconnected by the user" else ""


# --- status --------------------------------------------------------------------------------------


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def format_session(s: dict[str, Any]) -> str:
    c = s.get("counters", {})
    lines = [f"{s.get('name')}  [{s.get('state')}]  {s.get('protocol')}  session {s.get('id')}"]
    if s.get("message") and s.get("state") != "connected":
        lines.append(f"  {s['message']}")
    if s.get("reason") and s.get("state") in ("reconnecting", "failed"):
        lines.append(f"  last problem: {s['reason']}")
    if s.get("state") == "connected":
        lines.append(
            f"  up {c.get('uptime', 0):.0f} s   in {_size(c.get('bytes_in', 0))} ({c.get('packets_in', 0):.0f} packets, "
            f"{_size(c.get('rate_in', 0))}/s)   out {_size(c.get('bytes_out', 0))} ({c.get('packets_out', 0):.0f} packets, "
            f"{_size(c.get('rate_out', 0))}/s)"
        )
    if s.get("next_retry_in") is not None:
        lines.append(f"  next attempt in {s['next_retry_in']:.0f} s")
    if s.get("kill_switch"):
        lines.append("  kill switch: on (traffic outside the VPN is blocked)")
    for key, value in sorted((s.get("negotiated") or {}).items()):
        lines.append(f"  {key}: {value}")
    return "\n".join(lines)


def cmd_status(args: argparse.Namespace, store: ProfileStore) -> int:
    try:
        return _run(_status(args))
    except KeyboardInterrupt:
        return 0


async def _status(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    async with await HelperClient.open(args.socket) as client:
        if not args.watch:
            sessions = await client.status()
            if not sessions:
                print("No active connections.", file=out)
            for s in sessions:
                print(format_session(s), file=out)
            return 0
        current = {s["id"]: s for s in await client.subscribe()}
        _redraw(current, out)
        async for event in client.events():
            sid = event.get("session")
            if event.get("event") == "state" and isinstance(event.get("info"), dict):
                if event.get("state") == "disconnected":
                    current.pop(sid, None)
                else:
                    current[sid] = event["info"]
            elif event.get("event") == "counters" and sid in current:
                current[sid] = {**current[sid], "counters": event["counters"]}
            elif event.get("event") == "note":
                current = {s["id"]: s for s in await client.subscribe()}
            _redraw(current, out)
        return 0


def _redraw(current: dict[str, dict[str, Any]], out: TextIO) -> None:
    if out.isatty():
        out.write("\x1b[H\x1b[2J")
    print(time.strftime("%H:%M:%S"), file=out)
    if not current:
        print("No active connections.", file=out)
    for s in current.values():
        print(format_session(s), file=out)
    out.flush()


# --- helper --------------------------------------------------------------------------------------


def cmd_helper(args: argparse.Namespace, store: ProfileStore) -> int:
    from wizard.helper.daemon import HelperConfig, HelperStartError, run

    config = HelperConfig(
        socket_path=args.socket,
        state_dir=args.state_dir,
        group=args.group,
        socket_mode=args.socket_mode,
        dns=args.dns,
        resolv_conf=args.resolv_conf,
        stack_factory=args.stack_factory,
        polkit=not args.no_polkit,
    )
    try:
        return run(config, verbose=args.verbose)
    except HelperStartError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return 0


HELPER_COMMANDS: dict[str, Command] = {
    "connect": cmd_connect,
    "disconnect": cmd_disconnect,
    "status": cmd_status,
    "helper": cmd_helper,
}
