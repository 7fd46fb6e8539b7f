"""The real helper, as root, in throwaway network namespaces, with real unprivileged users.

* ``users``: a test group and three users made with useradd (two members, one outsider), removed
  at the end; names carry our pid so a killed run's leftovers are recognisable.
* ``lab``: namespaces ``a`` (the client machine, where the helper runs) and ``b`` (the "gateway"
  192.0.2.2 / 2001:db8:1::2, plus another host .3 / ::3 on the same link) joined by a veth pair.
* ``HelperProcess``: ``connection-wizard helper`` started under ``ip netns exec`` with the test
  stack (tests/helper/fakestack.py), a private socket, state directory and resolv.conf.
* ``connect_as(path, user)``: a client socket whose SO_PEERCRED is that user's (the test process
  switches its effective ids only around ``connect()``).
"""

from __future__ import annotations

import contextlib
import grp
import itertools
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from wizard.client.client import HelperClient
from wizard.profiles.model import (
    DNS,
    Auth,
    Gateway,
    MppePolicy,
    PPPOptions,
    Profile,
    Protocol,
    Reconnect,
    Routing,
    TunnelMode,
)
from wizard.profiles.model import KillSwitch as KillSwitchPolicy

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "cwh"
_counter = itertools.count()
ORIGINAL_RESOLV = b"# test resolv.conf\nnameserver 192.0.2.53\nsearch example.org\noptions edns0 trust-ad\n"


def run(*argv: str, check: bool = True) -> str:
    proc = subprocess.run(list(argv), capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {proc.stderr.strip()}")
    return proc.stdout


def require_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root: runs the helper, creates users, network namespaces, TUN devices and nftables tables")


# --- users ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TestUser:
    name: str
    uid: int
    gid: int
    groups: tuple[int, ...]


@dataclass(frozen=True)
class Users:
    group: str
    gid: int
    alice: TestUser  # member
    bob: TestUser  # member
    mallory: TestUser  # not a member


def _remove_stale_users() -> None:
    for entry in pwd.getpwall():
        m = re.fullmatch(rf"{PREFIX}(\d+)[abc]", entry.pw_name)
        if m and not os.path.exists(f"/proc/{m.group(1)}"):
            run("userdel", entry.pw_name, check=False)
    for group in grp.getgrall():
        m = re.fullmatch(rf"{PREFIX}(\d+)g", group.gr_name)
        if m and not os.path.exists(f"/proc/{m.group(1)}"):
            run("groupdel", group.gr_name, check=False)


@pytest.fixture(scope="session")
def users() -> Iterator[Users]:
    require_root()
    _remove_stale_users()
    tag = f"{PREFIX}{os.getpid()}"
    group = f"{tag}g"
    names = [f"{tag}a", f"{tag}b", f"{tag}c"]
    run("groupadd", group)
    try:
        for name in names:
            extra = ["-G", group] if not name.endswith("c") else []
            run("useradd", "-M", "-N", "-s", "/usr/sbin/nologin", *extra, name)
        gid = grp.getgrnam(group).gr_gid

        def user(name: str) -> TestUser:
            entry = pwd.getpwnam(name)
            return TestUser(name, entry.pw_uid, entry.pw_gid, tuple(os.getgrouplist(name, entry.pw_gid)))

        yield Users(group, gid, user(names[0]), user(names[1]), user(names[2]))
    finally:
        for name in names:
            run("userdel", name, check=False)
        run("groupdel", group, check=False)


@contextlib.contextmanager
def effective_user(user: TestUser) -> Iterator[None]:
    """Switch this process's effective uid/gid/groups (only briefly: around a connect())."""
    saved_groups = os.getgroups()
    os.setgroups(list(user.groups))
    os.setegid(user.gid)
    os.seteuid(user.uid)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)
        os.setgroups(saved_groups)


def connect_as(path: Path, user: TestUser | None) -> socket.socket:
    """A socket connected to ``path`` whose peer credentials are ``user``'s (root when None)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        if user is None:
            sock.connect(str(path))
        else:
            with effective_user(user):
                sock.connect(str(path))
    except BaseException:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


# --- namespaces ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lab:
    a: str
    b: str
    a_addr: str = "192.0.2.1"
    gateway: str = "192.0.2.2"
    other: str = "192.0.2.3"
    a_addr6: str = "2001:db8:1::1"
    gateway6: str = "2001:db8:1::2"
    other6: str = "2001:db8:1::3"
    a_if: str = "va"
    b_if: str = "vb"


def _remove_stale_netns() -> None:
    for line in run("ip", "netns", "list").splitlines():
        name = line.split()[0] if line.strip() else ""
        m = re.fullmatch(rf"{PREFIX}-(\d+)-\d+[ab]", name)
        if m and not os.path.exists(f"/proc/{m.group(1)}"):
            run("ip", "netns", "del", name, check=False)


@contextlib.contextmanager
def make_lab() -> Iterator[Lab]:
    _remove_stale_netns()
    n = next(_counter)
    lab = Lab(a=f"{PREFIX}-{os.getpid()}-{n}a", b=f"{PREFIX}-{os.getpid()}-{n}b")
    try:
        for name in (lab.a, lab.b):
            run("ip", "netns", "add", name)
            run("ip", "-n", name, "link", "set", "lo", "up")
            for conf in ("all", "default"):  # link-local addresses usable at once (no DAD wait)
                run("ip", "netns", "exec", name, "sysctl", "-qw", f"net.ipv6.conf.{conf}.accept_dad=0")
        run("ip", "-n", lab.a, "link", "add", lab.a_if, "type", "veth", "peer", "name", lab.b_if, "netns", lab.b)
        run("ip", "-n", lab.a, "addr", "add", f"{lab.a_addr}/24", "dev", lab.a_if)
        run("ip", "-n", lab.a, "addr", "add", f"{lab.a_addr6}/64", "dev", lab.a_if, "nodad")
        for addr in (lab.gateway, lab.other):
            run("ip", "-n", lab.b, "addr", "add", f"{addr}/24", "dev", lab.b_if)
        for addr in (lab.gateway6, lab.other6):
            run("ip", "-n", lab.b, "addr", "add", f"{addr}/64", "dev", lab.b_if, "nodad")
        for ns, ifname in ((lab.a, lab.a_if), (lab.b, lab.b_if)):
            run("ip", "-n", ns, "link", "set", ifname, "up")
        run("ip", "-n", lab.a, "route", "add", "default", "via", "192.0.2.254")
        run("ip", "-n", lab.a, "-6", "route", "add", "default", "via", "2001:db8:1::ff")
        _wait_for_link_local(lab)
        yield lab
    finally:
        for name in (lab.a, lab.b):
            run("ip", "netns", "del", name, check=False)


def _wait_for_link_local(lab: Lab, timeout: float = 5.0) -> None:
    """IPv6 works on a fresh veth only once the kernel has given it a link-local address."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all("fe80::" in run("ip", "-n", ns, "-6", "addr", "show", "dev", ifname, "scope", "link")
               for ns, ifname in ((lab.a, lab.a_if), (lab.b, lab.b_if))):  # fmt: skip
            return
        time.sleep(0.05)
    raise RuntimeError("the test veth pair got no IPv6 link-local addresses")


# --- the helper ----------------------------------------------------------------------------------


@dataclass
class HelperProcess:
    """``connection-wizard helper`` in namespace ``netns`` with everything under ``workdir``."""

    netns: str
    workdir: Path
    group: str
    socket_mode: str = "660"
    dns: str = "resolv-conf"
    stack_factory: str = "tests.helper.fakestack:build_stack"
    polkit: bool = False  # hermetic: a polkit on the test machine must not decide the kill switch tests
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    log: list[str] = field(default_factory=list)

    @property
    def socket_path(self) -> Path:
        return self.workdir / "run" / "helper.sock"

    @property
    def resolv_conf(self) -> Path:
        return self.workdir / "resolv.conf"

    @property
    def journal_dir(self) -> Path:
        return self.workdir / "state" / "journal"

    def start(self, timeout: float = 20.0) -> HelperProcess:
        argv = [
            "ip", "netns", "exec", self.netns, sys.executable, "-m", "wizard", "helper",
            "--socket", str(self.socket_path), "--state-dir", str(self.workdir / "state"),
            "--group", self.group, "--dns", self.dns, "--resolv-conf", str(self.resolv_conf),
            "--stack-factory", self.stack_factory, "--socket-mode", self.socket_mode,
        ]  # fmt: skip
        if not self.polkit:
            argv.append("--no-polkit")
        env = {**os.environ, "PYTHONPATH": str(ROOT), **self.env}
        self.proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
        assert self.proc.stderr is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline().decode(errors="replace")
            if not line:
                break
            self.log.append(line.rstrip("\n"))
            if line.startswith("helper: ready"):
                _drain_in_background(self.proc, self.log)
                return self
        self.kill()
        raise RuntimeError("the helper did not start:\n" + "\n".join(self.log))

    def stop(self, timeout: float = 15.0) -> int:
        if self.proc is None:
            return 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self.proc = None
        return code

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
            self.proc = None


def _drain_in_background(proc: subprocess.Popen[bytes], log: list[str]) -> None:
    import threading

    def pump() -> None:
        assert proc.stderr is not None
        for raw in proc.stderr:
            log.append(raw.decode(errors="replace").rstrip("\n"))

    threading.Thread(target=pump, daemon=True).start()


def workdir() -> Path:
    """A directory other users can traverse (pytest's tmp_path is 0700)."""
    path = Path(tempfile.mkdtemp(prefix="cwh-"))
    path.chmod(0o755)
    return path


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    require_root()
    with make_lab() as made:
        yield made


@pytest.fixture(scope="module")
def helper(lab: Lab, users: Users) -> Iterator[HelperProcess]:
    """One helper for a module's tests (starting one costs about a second)."""
    base = workdir()
    (base / "resolv.conf").write_bytes(ORIGINAL_RESOLV)
    process = HelperProcess(lab.a, base, users.group).start()
    try:
        yield process
    finally:
        process.stop()
        nft_cleanup(lab.a)
        shutil.rmtree(base, ignore_errors=True)


def nft_cleanup(netns: str) -> None:
    run("ip", "netns", "exec", netns, "nft", "delete", "table", "inet", "connection_wizard", check=False)


# --- profiles and clients ------------------------------------------------------------------------


def make_profile(
    name: str,
    username: str = "tester",
    *,
    gateway: str = "192.0.2.2",
    more_gateways: tuple[str, ...] = (),
    kill_switch: bool = False,
    split: tuple[str, ...] = (),
    split_domains: tuple[str, ...] = (),
    reconnect_delay: float = 0.2,
) -> Profile:
    """An L2TP profile the test stack understands (its behaviour is picked by ``username``)."""
    return Profile(
        name=name,
        protocol=Protocol.L2TP,
        gateways=tuple(Gateway(g) for g in (gateway, *more_gateways)),
        auth=Auth(username=username),
        ppp=PPPOptions(mppe=MppePolicy.ALLOW),
        routing=Routing(mode=TunnelMode.SPLIT, routes=split) if split else Routing(),
        dns=DNS(split_domains=split_domains),
        kill_switch=KillSwitchPolicy(enabled=kill_switch, allow_lan=False),
        reconnect=Reconnect(initial_delay=reconnect_delay, max_delay=max(1.0, reconnect_delay), max_attempts=5),
    )


async def open_client(helper: HelperProcess, user: TestUser | None) -> HelperClient:
    return await HelperClient.open(helper.socket_path, sock=connect_as(helper.socket_path, user))


async def wait_state(client: HelperClient, session_id: str, states: set[str], timeout: float = 10.0) -> dict[str, Any]:
    """Read events until ``session_id`` enters one of ``states``; returns that state event."""
    deadline = time.monotonic() + timeout
    while True:
        event = await client.next_event(timeout=max(0.01, deadline - time.monotonic()))
        assert event is not None, "the helper closed the connection"
        if event.get("session") == session_id and event.get("event") == "state" and event.get("state") in states:
            return event


def in_ns(netns: str, *argv: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", "netns", "exec", netns, *argv], capture_output=True, text=True, check=check)
