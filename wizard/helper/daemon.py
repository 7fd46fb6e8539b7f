"""``connection-wizard helper``: start-up, the listening socket, shutdown.

Order matters: take the lock (one helper per state directory), undo whatever a crashed helper left
behind (journal recovery), and only then listen. The socket is either handed over by systemd
(``LISTEN_FDS``) or created here: directory 0755, socket 0660 owned by root and the helper group.
If that group does not exist the socket is root-only (0600) and the log says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import signal
import socket
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from wizard.helper.applier import NetworkServices
from wizard.helper.peer import HELPER_GROUP, group_id
from wizard.helper.polkit import PolkitAuthority
from wizard.helper.recovery import recover
from wizard.helper.server import HelperServer
from wizard.helper.session import DEFAULT_STACK_FACTORY, SessionContext
from wizard.logsetup import RedactingFilter
from wizard.net.dns import RESOLV_CONF, ResolvConfDns, ResolvedDns, resolved_running
from wizard.net.journal import Journal, JournalError
from wizard.net.killswitch import KillSwitch

log = logging.getLogger("wizard.helper")

RUN_DIR = Path("/run/connection-wizard")
DEFAULT_SOCKET = RUN_DIR / "helper.sock"
SD_LISTEN_FDS_START = 3
DNS_MODES = ("auto", "resolved", "resolv-conf", "off")


class HelperStartError(Exception):
    """The helper cannot start; the message says why and what to do."""


@dataclass
class HelperConfig:
    socket_path: Path = DEFAULT_SOCKET
    state_dir: Path = RUN_DIR
    group: str = HELPER_GROUP
    socket_mode: int = 0o660
    dns: str = "auto"
    resolv_conf: Path = RESOLV_CONF
    stack_factory: str = DEFAULT_STACK_FACTORY
    nft: str = "nft"
    resolvectl: str = "resolvectl"
    polkit: bool = True
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def journal_dir(self) -> Path:
        return self.state_dir / "journal"


def dns_mode(config: HelperConfig) -> str:
    if config.dns != "auto":
        return config.dns
    return "resolved" if resolved_running() else "resolv-conf"


def _activated_socket() -> socket.socket | None:
    """The listening socket systemd passed us, if any (sd_listen_fds semantics)."""
    if os.environ.get("LISTEN_PID") != str(os.getpid()):
        return None
    try:
        count = int(os.environ.get("LISTEN_FDS", "0"))
    except ValueError:
        return None
    for name in ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"):
        os.environ.pop(name, None)
    if count < 1:
        return None
    sock = socket.socket(fileno=SD_LISTEN_FDS_START)
    if sock.family != socket.AF_UNIX:
        raise HelperStartError("systemd handed over a socket that is not a Unix socket; check the .socket unit")
    os.set_inheritable(sock.fileno(), False)
    sock.setblocking(False)
    return sock


def _bind_socket(config: HelperConfig) -> socket.socket:
    path = config.socket_path
    parent = path.parent
    if not parent.exists():
        parent.mkdir(parents=True, mode=0o755)
        os.chmod(parent, 0o755)
    if path.exists() or path.is_symlink():
        if not stat.S_ISSOCK(os.lstat(path).st_mode):
            raise HelperStartError(f"{path} exists and is not a socket; remove it and start again")
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(str(path))
        except OSError:
            path.unlink()  # stale: nobody listens
        else:
            raise HelperStartError(f"another helper already listens on {path}")
        finally:
            probe.close()
    gid = group_id(config.group)
    mode = config.socket_mode if gid is not None else 0o600
    if gid is None:
        log.warning(
            "the group %r does not exist: only root can use the helper (create it with systemd-sysusers)", config.group
        )
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(0o177)  # no window in which the socket is more open than ``mode``
    try:
        sock.bind(str(path))
    finally:
        os.umask(old_umask)
    os.chown(path, 0, gid if gid is not None else 0)
    os.chmod(path, mode)
    sock.listen(64)
    sock.setblocking(False)
    return sock


def _take_lock(state_dir: Path) -> int:
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o755)
    fd = os.open(state_dir / "helper.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise HelperStartError(f"another helper is already running with the state directory {state_dir}") from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


async def serve(config: HelperConfig, ready: Callable[[], None] | None = None) -> None:
    """Recover, listen, serve until cancelled or signalled; then end every session cleanly."""
    lock_fd = _take_lock(config.state_dir)
    try:
        journal = Journal(config.journal_dir)
        try:
            journal.prepare()
        except JournalError as exc:
            raise HelperStartError(exc.reason) from None
        services = NetworkServices(
            dns_mode=dns_mode(config),
            resolv_conf=ResolvConfDns(config.resolv_conf),
            resolved=ResolvedDns(config.resolvectl),
            killswitch=KillSwitch(nft=config.nft),
        )
        for line in await recover(journal, services.ipr_factory, services.resolved, config.nft):
            log.warning("recovery: %s", line)
        ctx = SessionContext(journal=journal, services=services, stack_factory=config.stack_factory)
        server = HelperServer(ctx, config.group, PolkitAuthority(enabled=config.polkit))
        activated = _activated_socket()
        sock = activated or _bind_socket(config)
        listener = await asyncio.start_unix_server(server.handle_connection, sock=sock, limit=2**16)
        server.start_ticker()
        log.info("helper listening (DNS via %s)", services.dns_mode)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        if ready is not None:
            ready()
        try:
            await stop.wait()
        finally:
            log.info("helper stopping")
            listener.close()
            await server.shutdown()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(listener.wait_closed(), 2.0)
            if activated is None:  # systemd owns an activated socket's file
                with contextlib.suppress(OSError):
                    config.socket_path.unlink()
    finally:
        os.close(lock_fd)


def setup_helper_logging(verbose: bool = False) -> None:
    """Log to stderr (the journal under systemd), through the redacting filter."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)


def run(config: HelperConfig, verbose: bool = False) -> int:
    """Blocking entry point for the CLI; returns the exit status."""
    if os.geteuid() != 0:
        raise HelperStartError(
            "the helper configures the network and must run as root (it normally runs as a systemd service)"
        )
    if config.dns not in DNS_MODES:
        raise HelperStartError(f"unknown DNS mode {config.dns!r} (allowed: {', '.join(DNS_MODES)})")
    setup_helper_logging(verbose)
    print("helper: starting", file=sys.stderr, flush=True)
    asyncio.run(
        serve(config, ready=lambda: print(f"helper: ready on {config.socket_path}", file=sys.stderr, flush=True))
    )
    return 0
