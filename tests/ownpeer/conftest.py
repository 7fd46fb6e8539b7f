"""Our own gateway in one network namespace, our client in another, joined by a veth pair.

``gateway_lab`` (module scope) creates namespaces ``cwo-PID-Ng`` (gateway, veth 192.0.2.1) and
``cwo-PID-Nc`` (client, 192.0.2.2; the gateway also has 192.0.2.3), writes a gateway configuration and starts
``main_gateway`` as a subprocess through ``ip netns exec``; its output is collected line by line.
The namespaces are deleted and the gateway killed even when a test fails; leftovers of a killed run
(namespaces named after a dead pid) are removed by the next run.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.netns_util import ip, remove_stale_namespaces, require_root

REPO = Path(__file__).resolve().parents[2]
PREFIX = "cwo-"
_counter = itertools.count()

USERS = {"alice": "wonderland-7", "bob": "builder-42"}
SERVER_ADDRESS = "10.123.0.1"
POOL = ("10.123.0.10", "10.123.0.20")
DNS = ("10.123.0.53", "10.123.0.54")


def gateway_config(listen: str) -> dict[str, Any]:
    return {
        "listen": listen,
        "protocols": ["pptp", "l2tp"],
        "users": USERS,
        "server_address": SERVER_ADDRESS,
        "client_pool": f"{POOL[0]}-{POOL[1]}",
        "dns_servers": list(DNS),
        "mtu": 1400,
        "mru": 1400,
        "lcp_echo_interval": 10,
        "pptp": {"allowed_auth": ["mschapv2"], "mppe": "require"},
        "l2tp": {"allowed_auth": ["mschapv2", "chap-md5", "pap"], "mppe": "allow"},
    }


def _remove_stale() -> None:
    remove_stale_namespaces(PREFIX, "gc")


@dataclass(frozen=True)
class Namespaces:
    gateway: str
    client: str
    gateway_addr: str = "192.0.2.1"
    client_addr: str = "192.0.2.2"
    gateway_second_addr: str = "192.0.2.3"  # for a gateway listening on 0.0.0.0: replies must come from it


@contextmanager
def namespaces() -> Iterator[Namespaces]:
    require_root()
    _remove_stale()
    n = next(_counter)
    ns = Namespaces(gateway=f"{PREFIX}{os.getpid()}-{n}g", client=f"{PREFIX}{os.getpid()}-{n}c")
    try:
        for name in (ns.gateway, ns.client):
            ip("netns", "add", name)
            ip("-n", name, "link", "set", "lo", "up")
        ip("-n", ns.gateway, "link", "add", "vg", "type", "veth", "peer", "name", "vc", "netns", ns.client)
        for name, ifname, addr in ((ns.gateway, "vg", ns.gateway_addr), (ns.client, "vc", ns.client_addr)):
            ip("-n", name, "addr", "add", f"{addr}/24", "dev", ifname)
            ip("-n", name, "link", "set", ifname, "up")
        ip("-n", ns.gateway, "addr", "add", f"{ns.gateway_second_addr}/24", "dev", "vg")
        # The client's "old default route", so a full tunnel has something to pin the gateway to.
        ip("-n", ns.client, "route", "add", "default", "via", "192.0.2.254")
        yield ns
    finally:
        for name in (ns.gateway, ns.client):
            subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)


@dataclass
class GatewayProcess:
    """``main_gateway`` running in a namespace; ``lines`` fills as it prints."""

    proc: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)

    @classmethod
    def start(cls, namespace: str, config_path: Path) -> GatewayProcess:
        code = (
            "import sys; from pathlib import Path; from wizard.stacks.gateway import main_gateway; "
            "sys.exit(main_gateway(Path(sys.argv[1])))"
        )
        proc = subprocess.Popen(
            ["ip", "netns", "exec", namespace, sys.executable, "-u", "-c", code, str(config_path)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        gw = cls(proc)
        threading.Thread(target=gw._pump, daemon=True).start()
        return gw

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    @property
    def output(self) -> str:
        with self.cond:
            return "\n".join(self.lines)

    def mark(self) -> int:
        with self.cond:
            return len(self.lines)

    def wait_for(self, pattern: str, since: int = 0, timeout: float = 10.0) -> str:
        """The first line from ``since`` on that matches ``pattern``; fails with the output if none."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for line in self.lines[since:]:
                    if regex.search(line):
                        return line
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    break
                self.cond.wait(left)
        pytest.fail(f"the gateway did not print /{pattern}/ in time; its output:\n" + self.output)

    def stop(self, timeout: float = 15.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return -9


@dataclass
class GatewayLab:
    ns: Namespaces
    gateway: GatewayProcess
    config: dict[str, Any]


@contextmanager
def running_gateway(
    tmp: Path, listen: str | None = None, changes: dict[str, Any] | None = None
) -> Iterator[GatewayLab]:
    with namespaces() as ns:
        config = {**gateway_config(listen or ns.gateway_addr), **(changes or {})}
        path = tmp / "gateway.json"
        path.write_text(json.dumps(config))
        gw = GatewayProcess.start(ns.gateway, path)
        try:
            gw.wait_for(r"gateway: ready")
            yield GatewayLab(ns, gw, config)
        finally:
            gw.stop()


@pytest.fixture(scope="module")
def gateway_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayLab]:
    require_root()
    with running_gateway(tmp_path_factory.mktemp("gateway")) as lab:
        yield lab
