"""``connection-wizard demo``: a real VPN connection on one machine, end to end.

Two throwaway network namespaces joined by a veth pair stand for "home" and "office". The office
runs our own gateway (PPTP and L2TP responders); at home the privileged helper runs, and this
process (the app) asks it over its Unix socket to connect a profile, exactly as the GUI and the CLI
do. The demo pings the office through the tunnel, shows the live counters, disconnects, and removes
everything it created. Needs root (namespaces, TUN devices).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from wizard.client.client import HelperClient, HelperError
from wizard.profiles.model import Auth, Gateway, MppePolicy, PPPOptions, Profile, Protocol

OFFICE_NS, HOME_NS = "cw-demo-office", "cw-demo-home"
OFFICE_ADDR, HOME_ADDR = "198.51.100.1", "198.51.100.2"
OFFICE_PPP = "10.123.0.1"
USER, PASSWORD = "demo", "demo-password-1"


def _sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=check)


@contextlib.contextmanager
def _namespaces() -> Iterator[None]:
    for ns in (OFFICE_NS, HOME_NS):
        _sh("ip", "netns", "del", ns, check=False)
        _sh("ip", "netns", "add", ns)
        _sh("ip", "-n", ns, "link", "set", "lo", "up")
    try:
        _sh("ip", "link", "add", "cwd-office", "netns", OFFICE_NS, "type", "veth", "peer", "cwd-home", "netns", HOME_NS)
        _sh("ip", "-n", OFFICE_NS, "addr", "add", f"{OFFICE_ADDR}/24", "dev", "cwd-office")
        _sh("ip", "-n", HOME_NS, "addr", "add", f"{HOME_ADDR}/24", "dev", "cwd-home")
        for ns, dev in ((OFFICE_NS, "cwd-office"), (HOME_NS, "cwd-home")):
            _sh("ip", "-n", ns, "link", "set", dev, "up")
        _sh("ip", "-n", HOME_NS, "route", "add", "default", "via", OFFICE_ADDR)
        yield
    finally:
        for ns in (OFFICE_NS, HOME_NS):
            _sh("ip", "netns", "del", ns, check=False)


@contextlib.contextmanager
def _process(argv: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as sink:
        proc = subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _profiles() -> list[Profile]:
    common = {"gateways": (Gateway(OFFICE_ADDR, label="Demo office"),), "auth": Auth(username=USER)}
    return [
        Profile(name="Demo L2TP", protocol=Protocol.L2TP, ppp=PPPOptions(mppe=MppePolicy.REFUSE), **common),  # type: ignore[arg-type]
        Profile(
            name="Demo PPTP",
            protocol=Protocol.PPTP,
            ppp=PPPOptions(mppe=MppePolicy.REQUIRE, mppe_bits=(128,)),
            **common,  # type: ignore[arg-type]
        ),
    ]


async def _wait_for_socket(path: Path, helper: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if helper.poll() is not None:
            raise RuntimeError("the helper exited during start-up")
        if path.exists():
            with contextlib.suppress(OSError, HelperError):
                async with await HelperClient.open(path) as client:
                    await client.hello()
                    return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"the helper did not answer on {path} within {timeout:g} s")


async def _ping(count: int) -> str:
    proc = await asyncio.create_subprocess_exec(
        "ip",
        "netns",
        "exec",
        HOME_NS,
        "ping",
        "-c",
        str(count),
        "-i",
        "0.2",
        "-q",
        OFFICE_PPP,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    lines = out.decode().strip().splitlines()
    return lines[-2] if len(lines) >= 2 else out.decode().strip()


async def _one_connection(socket: Path, profile: Profile, out: TextIO) -> bool:
    print(f"\n== {profile.name}: {profile.protocol.label} to {OFFICE_ADDR}", file=out, flush=True)
    async with await HelperClient.open(socket) as client:
        await client.subscribe()
        session = await client.connect(profile, {"password": PASSWORD})
        sid = session["id"]
        while True:
            event = await client.next_event(timeout=30)
            if event is None or event.get("session") != sid:
                continue
            kind = event.get("event")
            if kind == "progress":
                print(f"   [{event['phase']}] {event['message']}", file=out, flush=True)
            elif kind == "error":
                print(f"   problem: {event['reason']}", file=out, flush=True)
            elif kind == "state" and event.get("state") in ("connected", "failed", "disconnected"):
                state = event["state"]
                break
        if state != "connected":
            print(f"   {profile.name} did not connect ({state})", file=out, flush=True)
            return False
        info = event.get("info", {})
        for key, value in (info.get("negotiated") or {}).items():
            print(f"   {key:<16} {value}", file=out)
        print(f"   ping {OFFICE_PPP} through the tunnel: {await _ping(10)}", file=out, flush=True)
        counters = (await client.status(sid))[0].get("counters", {})
        print(
            "   counters: {packets_in} packets / {bytes_in} bytes in, {packets_out} packets / {bytes_out} bytes out, "
            "up {uptime} s".format_map(
                {k: counters.get(k, "?") for k in ("packets_in", "bytes_in", "packets_out", "bytes_out", "uptime")}
            ),
            file=out,
            flush=True,
        )
        await client.disconnect(sid)
        print(f"   disconnected {profile.name}", file=out, flush=True)
        return True


async def _demo(workdir: Path, out: TextIO) -> int:
    gateway_config = workdir / "gateway.json"
    gateway_config.write_text(
        json.dumps(
            {
                "version": 1,
                "listen": OFFICE_ADDR,
                "protocols": ["pptp", "l2tp"],
                "users": {USER: PASSWORD},
                "server_address": OFFICE_PPP,
                "client_pool": "10.123.0.10-10.123.0.50",
                "dns_servers": [OFFICE_PPP],
                "pptp": {"mppe": "require"},
                "l2tp": {"mppe": "refuse"},
            }
        )
    )
    socket = workdir / "helper.sock"
    me = [sys.executable] if getattr(sys, "frozen", False) else [sys.executable, "-m", "wizard"]  # PyInstaller
    gateway_argv = ["ip", "netns", "exec", OFFICE_NS, *me, "gateway", "--config", str(gateway_config)]
    helper_argv = [
        "ip",
        "netns",
        "exec",
        HOME_NS,
        *me,
        "helper",
        "--socket",
        str(socket),
        "--state-dir",
        str(workdir / "state"),
        "--dns",
        "off",
        "--no-polkit",
    ]
    print(
        f"office: our gateway on {OFFICE_ADDR} (namespace {OFFICE_NS}); home: the helper (namespace {HOME_NS})",
        file=out,
        flush=True,
    )
    with _process(gateway_argv, workdir / "gateway.log"), _process(helper_argv, workdir / "helper.log") as helper:
        await _wait_for_socket(socket, helper)
        results = [await _one_connection(socket, profile, out) for profile in _profiles()]
    ok = all(results)
    print(f"\ndemo {'finished: every connection worked' if ok else 'FAILED'}", file=out)
    if not ok:
        for name in ("gateway.log", "helper.log"):
            print(f"--- {name}\n{(workdir / name).read_text(errors='replace')[-3000:]}", file=out)
    return 0 if ok else 1


def run_demo(out: TextIO = sys.stdout) -> int:
    """The README's main job. Returns the exit code."""
    if os.geteuid() != 0:
        print("The demo builds two network namespaces and TUN devices, so it needs root.", file=out)
        return 2
    with tempfile.TemporaryDirectory(prefix="cw-demo-") as tmp, _namespaces():
        try:
            return asyncio.run(_demo(Path(tmp), out))
        except (HelperError, RuntimeError, OSError, TimeoutError) as exc:
            print(f"demo FAILED: {exc}", file=out)
            return 1
