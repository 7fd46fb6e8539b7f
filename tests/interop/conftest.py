"""The interop lab as a pytest fixture: a qemu VM with strongSwan, xl2tpd and pptpd (see lab/README.md).

``lab`` (session scope) builds the image and boots the gateway once, as root, and stops it when the
session ends (set ``CW_LAB_KEEP=1`` to leave it running for the next session). If the lab cannot come
up, every test that uses it FAILS with the reason; ``CW_SKIP_INTEROP=1`` turns that into a skip with a
loud banner at the end of the run.

Two ways to run code inside the lab's network namespace (``vmlab``, address 10.77.0.1):

* ``lab.run(argv)``: a subprocess through ``ip netns exec vmlab`` (whole process in the namespace);
* ``with lab.entered():``: moves the *current thread* into the namespace with ``setns(2)``
  (``wizard.net.netns.entered``) and back afterwards. Sockets, TUN devices, AsyncIPRoute objects and
  asyncio loops created inside the block belong to the namespace; other threads are not affected, so
  do not hand namespace work to thread pools.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest

from wizard.net import netns

LAB_DIR = Path(__file__).resolve().parent / "lab"
DEFAULT_OUTDIR = Path("/var/cache/connection-wizard-lab")
NAMESPACE = os.environ.get("VMLAB_NS", "vmlab")  # the lab scripts read the same variable
LOG_PREFIX = "vmlab-log: "
BUILD_TIMEOUT = 1800  # a fresh machine also installs qemu and debootstraps Debian
START_TIMEOUT = 400  # the lab's own wait is 300 s

_skip_reason: list[str] = []  # set when CW_SKIP_INTEROP=1 skipped the lab; shown in the banner


@dataclass(frozen=True)
class Lab:
    """Addresses, credentials and files of the running lab (values from lab/README.md)."""

    outdir: Path
    namespace: str = NAMESPACE
    host: str = "10.77.0.1"  # our side, inside the namespace
    gateway: str = "10.77.0.2"  # IKE for every IPsec scenario, main L2TP LNS, main PPTP server
    legacy_gateway: str = "10.77.0.3"  # legacy L2TP LNS and PPTP server (weaker auth, MPPE-40/stateful)
    inside: str = "10.50.0.1"  # the gateway's inside address: ping it through an IPsec tunnel
    dns_servers: tuple[str, ...] = ("10.77.0.53", "10.77.0.54")
    psk: str = "vmlabpsk"
    user: str = "vmlab"
    password: str = "vmlabpass"
    gateway_identity: str = "10.77.0.2"  # IKE ID_IPV4_ADDR of the gateway
    client_identity: str = "client.vmlab"
    timings: dict[str, float] = field(default_factory=dict, compare=False)

    @property
    def run_dir(self) -> Path:
        return self.outdir / ("run" if self.namespace == "vmlab" else f"run-{self.namespace}")

    @property
    def gateway_log(self) -> Path:
        return self.run_dir / "gateway.log"

    @property
    def ca_cert(self) -> Path:
        return self.outdir / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.outdir / "ca-key.pem"

    @property
    def gateway_cert(self) -> Path:
        return self.outdir / "gateway-cert.pem"

    @property
    def client_cert(self) -> Path:
        return self.outdir / "client-cert.pem"

    @property
    def client_key(self) -> Path:
        return self.outdir / "client-key.pem"  # PKCS#1 PEM

    def log_offset(self) -> int:
        """Current size of gateway.log: pass it to ``server_log_since`` after the test's traffic."""
        try:
            return self.gateway_log.stat().st_size
        except FileNotFoundError:
            return 0

    def server_log_since(self, offset: int) -> list[str]:
        """Server log lines (charon, xl2tpd, pptpd, pppd) written after byte ``offset``, prefix removed."""
        with self.gateway_log.open("rb") as f:
            f.seek(offset)
            text = f.read().decode("utf-8", errors="replace")
        lines = []
        for raw in text.splitlines():
            line = raw.strip("\r")
            at = line.find(LOG_PREFIX)
            if at >= 0:
                lines.append(line[at + len(LOG_PREFIX) :])
        return lines

    def wait_for_server_log(self, offset: int, pattern: str, timeout: float = 10.0) -> list[str]:
        """Poll until a server log line after ``offset`` matches ``pattern`` (regex); return all lines.

        The log reaches the host over the VM's serial console, a little after the packets.
        """
        wanted = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            lines = self.server_log_since(offset)
            if any(wanted.search(line) for line in lines) or time.monotonic() > deadline:
                return lines
            time.sleep(0.2)

    def vm_shell(self, command: str, timeout: float = 15.0) -> str:
        """Run a shell command on the gateway VM (its root serial console); returns what it printed."""
        import socket

        done = "__cw_42_done"  # the shell computes it, so the echoed command line never contains it
        with socket.socket(socket.AF_UNIX) as console:
            console.connect(str(self.run_dir / "gateway.sock"))
            console.settimeout(timeout)
            console.sendall(f"{command}; echo __cw_$((40+2))_done\n".encode())
            received = b""
            deadline = time.monotonic() + timeout
            while done.encode() not in received:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the gateway VM did not finish {command!r} within {timeout:g} s")
                received += console.recv(4096)
        text = received.decode(errors="replace")
        return text.split("\n", 1)[1].split(done, 1)[0] if "\n" in text else ""

    def run(self, argv: Sequence[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        """Run a command inside the namespace (``ip netns exec``); text output captured by default."""
        kwargs.setdefault("capture_output", True)
        kwargs.setdefault("text", True)
        kwargs.setdefault("timeout", 120)
        return subprocess.run(netns.exec_argv(self.namespace, argv), check=False, **kwargs)

    def entered(self) -> AbstractContextManager[None]:
        """Move the current thread into the namespace for the ``with`` block (see module docstring)."""
        return netns.entered(self.namespace)


def _outdir() -> Path:
    return Path(os.environ.get("CW_LAB_OUTDIR", str(DEFAULT_OUTDIR)))


def _run_lab_command(name: str, outdir: Path, timeout: float) -> tuple[float, str]:
    """Run lab/NAME OUTDIR; return (seconds, output) or fail the test with the tail of the output."""
    t0 = time.monotonic()
    try:
        proc = subprocess.run(
            [str(LAB_DIR / name), str(outdir)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        _cannot_start(f"lab/{name} did not finish within {timeout:g} s")
    output = proc.stdout + proc.stderr
    if proc.returncode != 0:
        tail = "\n".join(output.splitlines()[-30:])
        _cannot_start(f"lab/{name} failed (exit {proc.returncode}):\n{tail}")
    return time.monotonic() - t0, output


def _cannot_start(reason: str) -> NoReturn:
    message = f"the interop lab could not start: {reason}"
    if os.environ.get("CW_SKIP_INTEROP") == "1":
        _skip_reason.append(reason)
        pytest.skip(f"CW_SKIP_INTEROP=1: interop tests NOT RUN ({message})")
    pytest.fail(message + "\n(set CW_SKIP_INTEROP=1 to skip the interop tests instead)", pytrace=False)


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    if os.geteuid() != 0:
        _cannot_start("it needs root (network namespace, tap device, qemu)")
    if shutil.which("ip") is None:
        _cannot_start("iproute2's `ip` command is missing")
    outdir = _outdir()
    build_s, _ = _run_lab_command("build", outdir, BUILD_TIMEOUT)
    if shutil.which("qemu-system-x86_64") is None:
        _cannot_start("qemu-system-x86_64 is missing (lab/build installs it with apt-get)")
    start_s, _ = _run_lab_command("start", outdir, START_TIMEOUT)
    the_lab = Lab(outdir=outdir, timings={"build": build_s, "start": start_s})
    try:
        yield the_lab
    finally:
        if os.environ.get("CW_LAB_KEEP") != "1":
            t0 = time.monotonic()
            subprocess.run([str(LAB_DIR / "stop"), str(outdir)], capture_output=True, check=False, timeout=60)
            the_lab.timings["stop"] = time.monotonic() - t0
        _last_timings.update(the_lab.timings)


_last_timings: dict[str, float] = {}


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _last_timings:
        parts = ", ".join(f"{k} {v:.1f} s" for k, v in _last_timings.items())
        terminalreporter.write_line(f"interop lab: {parts}")
    if _skip_reason:
        bar = "!" * 78
        terminalreporter.write_line(bar, red=True, bold=True)
        for line in (
            bar,
            "INTEROP TESTS WERE SKIPPED (CW_SKIP_INTEROP=1): nothing was tested against real VPN servers.",
            f"Reason: {_skip_reason[0]}",
            bar,
        ):
            terminalreporter.write_line(line, red=True, bold=True)
