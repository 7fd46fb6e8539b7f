"""DNS for a tunnel: systemd-resolved per link when it runs, otherwise a journaled resolv.conf edit.

With resolved, the tunnel's servers and domains are set on the tunnel link only (``resolvectl``, the
same D-Bus calls resolved documents, without a D-Bus client of our own in the root helper): a full
tunnel also takes the default route (``~.``), a split tunnel gets ``~domain`` routing domains so only
those names go to the VPN's servers. Resolved forgets a link's settings when the link disappears,
and ``resolvectl revert`` undoes them explicitly.

Without resolved we replace resolv.conf. The journal entry (with the original bytes, or the symlink
it was) is written *before* the file, and restoring puts the original back byte for byte, but only
if the file still holds what we wrote: a later edit by someone else is never clobbered.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import re
import shutil
import socket
import stat
from dataclasses import dataclass
from pathlib import Path

from wizard.net.errors import NetError
from wizard.net.journal import ResolvConfEdit, ResolvedLink, SessionJournal, atomic_write

RESOLV_CONF = Path("/etc/resolv.conf")
RESOLVED_RUN_DIR = Path("/run/systemd/resolve")
MAX_NAMESERVERS = 3  # glibc reads no more
_DOMAIN = re.compile(r"[A-Za-z0-9_.-]{1,253}")
HEADER = b"# Written by Connection Wizard while a VPN is connected; the original comes back on disconnect.\n"


class DnsError(NetError):
    """DNS settings could not be applied or restored."""


@dataclass(frozen=True)
class DnsSettings:
    servers: tuple[str, ...] = ()
    search_domains: tuple[str, ...] = ()
    split_domains: tuple[str, ...] = ()  # only these names go to ``servers`` (split DNS)
    default_route: bool = True  # all other names go there too (full tunnel)

    def __post_init__(self) -> None:
        for server in self.servers:
            ipaddress.ip_address(server)
        for domain in self.search_domains + self.split_domains:
            if not _DOMAIN.fullmatch(domain) or domain.startswith("-"):
                raise ValueError(f"not a domain name: {domain!r}")

    @property
    def empty(self) -> bool:
        return not self.servers and not self.search_domains and not self.split_domains


def resolved_running() -> bool:
    """systemd-resolved is up (its runtime directory exists) and resolvectl is installed."""
    return (RESOLVED_RUN_DIR / "io.systemd.Resolve").exists() and shutil.which("resolvectl") is not None


# --- systemd-resolved ----------------------------------------------------------------------------


class ResolvedDns:
    """Per-link DNS through systemd-resolved."""

    def __init__(self, resolvectl: str = "resolvectl") -> None:
        self.resolvectl = resolvectl

    async def _run(self, *args: str) -> None:
        try:
            proc = await asyncio.create_subprocess_exec(
                self.resolvectl,
                *args,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
        except OSError as exc:
            raise DnsError(f"cannot run {self.resolvectl}: {exc.strerror}") from None
        _, err = await proc.communicate()
        if proc.returncode:
            raise DnsError(
                f"systemd-resolved refused 'resolvectl {' '.join(args[:2])}': {err.decode(errors='replace').strip()}"
            )

    async def apply(self, ifname: str, ifindex: int, settings: DnsSettings, journal: SessionJournal) -> ResolvedLink:
        entry = ResolvedLink(ifindex, ifname)
        journal.add(entry)
        domains = list(settings.search_domains) + [f"~{d.rstrip('.')}" for d in settings.split_domains]
        if settings.default_route:
            domains.append("~.")
        try:
            await self._run("dns", ifname, *settings.servers)
            await self._run("domain", ifname, *domains)
            await self._run("default-route", ifname, "yes" if settings.default_route else "no")
        except DnsError:
            await self.revert(entry)
            journal.discard(entry)
            raise
        return entry

    async def revert(self, entry: ResolvedLink) -> str | None:
        """Undo; a link that is gone already has no settings left. Returns a problem or None."""
        if not _link_is(entry.ifindex, entry.ifname):
            return None
        try:
            await self._run("revert", entry.ifname)
        except DnsError as exc:
            return exc.reason
        return None


def _link_is(ifindex: int, ifname: str) -> bool:
    try:
        return socket.if_indextoname(ifindex) == ifname
    except OSError:
        return False


# --- resolv.conf ---------------------------------------------------------------------------------


def _parse(original: bytes) -> tuple[list[str], list[str], list[str]]:
    servers: list[str] = []
    search: list[str] = []
    options: list[str] = []
    for raw in original.decode(errors="replace").splitlines():
        words = raw.split("#", 1)[0].split(";", 1)[0].split()
        if len(words) < 2:
            continue
        if words[0] == "nameserver":
            servers.append(words[1])
        elif words[0] in ("search", "domain"):
            search = words[1:]
        elif words[0] == "options":
            options.append(" ".join(words[1:]))
    return servers, search, options


def render_resolv_conf(settings: DnsSettings, original: bytes | None) -> bytes:
    """Our resolv.conf: the VPN's servers first; for a split tunnel the old servers after them."""
    old_servers, old_search, options = _parse(original or b"")
    servers = list(dict.fromkeys(settings.servers))
    if not settings.default_route:
        servers += [s for s in old_servers if s not in servers]
    search = list(dict.fromkeys([*settings.search_domains, *settings.split_domains, *old_search]))
    lines = [HEADER.decode().rstrip("\n")]
    lines += [f"nameserver {s}" for s in servers[:MAX_NAMESERVERS]]
    if search:
        lines.append("search " + " ".join(d.rstrip(".") for d in search[:32]))
    lines += [f"options {o}" for o in options]
    return ("\n".join(lines) + "\n").encode()


class ResolvConfDns:
    """Replaces one resolv.conf (path configurable for tests) and restores it exactly."""

    def __init__(self, path: Path = RESOLV_CONF) -> None:
        self.path = path

    def apply(self, settings: DnsSettings, journal: SessionJournal) -> ResolvConfEdit:
        symlink: str | None = None
        original: bytes | None = None
        mode = 0o644
        try:
            info = os.lstat(self.path)
            if stat.S_ISLNK(info.st_mode):
                symlink = os.readlink(self.path)
                with contextlib.suppress(OSError):
                    original = self.path.read_bytes()  # only to carry its options over
            else:
                original = self.path.read_bytes()
                mode = stat.S_IMODE(info.st_mode)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise DnsError(f"cannot read {self.path}: {exc.strerror}") from None
        written = render_resolv_conf(settings, original)
        entry = ResolvConfEdit(str(self.path), None if symlink else original, symlink, written, mode)
        journal.add(entry)  # first the way back, then the change
        try:
            atomic_write(self.path, written, mode=0o644)
        except OSError as exc:
            journal.discard(entry)
            raise DnsError(f"cannot write {self.path}: {exc.strerror}") from None
        return entry


def restore_resolv_conf(entry: ResolvConfEdit) -> str | None:
    """Put the original back if the file still holds what we wrote. Returns a problem or None."""
    path = Path(entry.path)
    try:
        if path.is_symlink() or path.read_bytes() != entry.written:
            return f"{path} was changed by someone else after we edited it; left as it is"
    except FileNotFoundError:
        return f"{path} was removed by someone else after we edited it; left as it is"
    except OSError as exc:
        return f"cannot read {path}: {exc.strerror}"
    try:
        if entry.symlink is not None:
            tmp = path.with_name(f".{path.name}.{os.getpid()}.link")
            tmp.unlink(missing_ok=True)
            os.symlink(entry.symlink, tmp)
            os.replace(tmp, path)
        elif entry.original is not None:
            atomic_write(path, entry.original, mode=entry.mode)
        else:
            path.unlink()
    except OSError as exc:
        return f"cannot restore {path}: {exc.strerror}"
    return None
