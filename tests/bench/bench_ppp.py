"""Benchmark (figures, not assertions): PPTP and L2TP through our own gateway over veth.

Run as root:  .venv/bin/python -m tests.bench.bench_ppp [--seconds 5]

Two throwaway network namespaces joined by a veth pair; our gateway (PPTP + L2TP responders) in
one, our client stack in the other. For each protocol it prints the connect time (connect request
to the first echo reply through the tunnel) and iperf3 TCP throughput through the tunnel, with the
plain veth throughput beside it for scale. Everything is userspace Python on both ends, so the
tunnel figures are the cost of two engines, not one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from wizard.net import netns
from wizard.profiles.model import Auth, Gateway, MppePolicy, PPPAuth, PPPOptions, Profile, Protocol
from wizard.stacks.applier import DirectApplier
from wizard.stacks.registry import build_stack

GW_NS, CLIENT_NS = "cwbench-gw", "cwbench-cl"
GW_ADDR, CLIENT_ADDR = "192.0.2.1", "192.0.2.2"
SERVER_PPP = "10.123.0.1"
USER, PASSWORD = "bench", "bench-password"


def sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=check)


@contextmanager
def namespaces() -> Iterator[None]:
    for ns in (GW_NS, CLIENT_NS):
        sh("ip", "netns", "del", ns, check=False)
        sh("ip", "netns", "add", ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
    sh("ip", "link", "add", "cwb-gw", "netns", GW_NS, "type", "veth", "peer", "cwb-cl", "netns", CLIENT_NS)
    sh("ip", "-n", GW_NS, "addr", "add", f"{GW_ADDR}/24", "dev", "cwb-gw")
    sh("ip", "-n", CLIENT_NS, "addr", "add", f"{CLIENT_ADDR}/24", "dev", "cwb-cl")
    sh("ip", "-n", GW_NS, "link", "set", "cwb-gw", "up")
    sh("ip", "-n", CLIENT_NS, "link", "set", "cwb-cl", "up")
    sh("ip", "-n", CLIENT_NS, "route", "add", "default", "via", GW_ADDR)
    try:
        yield
    finally:
        for ns in (GW_NS, CLIENT_NS):
            sh("ip", "netns", "del", ns, check=False)


@contextmanager
def gateway(config_dir: Path) -> Iterator[None]:
    config = {
        "version": 1,
        "listen": GW_ADDR,
        "protocols": ["pptp", "l2tp"],
        "users": {USER: PASSWORD},
        "server_address": SERVER_PPP,
        "client_pool": "10.123.0.10-10.123.0.20",
        "dns_servers": [SERVER_PPP],
        "pptp": {"mppe": "require"},
        "l2tp": {"mppe": "refuse"},
    }
    path = config_dir / "gateway.json"
    path.write_text(json.dumps(config))
    code = f"import sys; from pathlib import Path; from wizard.stacks.gateway import main_gateway; sys.exit(main_gateway(Path({str(path)!r})))"
    proc = subprocess.Popen(
        ["ip", "netns", "exec", GW_NS, sys.executable, "-c", code],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    iperf = subprocess.Popen(
        ["ip", "netns", "exec", GW_NS, "iperf3", "-s"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    time.sleep(1.5)
    try:
        yield
    finally:
        for p in (proc, iperf):
            p.terminate()
            p.wait(10)


async def iperf(target: str, seconds: int) -> float:
    proc = await asyncio.create_subprocess_exec(
        "iperf3", "-c", target, "-t", str(seconds), "-J", stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out, _ = await proc.communicate()
    result = json.loads(out)
    if "error" in result:
        raise RuntimeError(result["error"])
    return float(result["end"]["sum_received"]["bits_per_second"]) / 1e6


async def first_echo(target: str) -> None:
    while True:
        proc = await asyncio.create_subprocess_exec("ping", "-c", "1", "-W", "0.2", target, stdout=subprocess.DEVNULL)
        if await proc.wait() == 0:
            return


async def measure(protocol: Protocol, seconds: int) -> tuple[float, float, str]:
    profile = Profile(
        name="bench",
        protocol=protocol,
        gateways=(Gateway(GW_ADDR),),
        auth=Auth(username=USER, ppp_methods=(PPPAuth.MSCHAPV2,)),
        ppp=PPPOptions(mppe=MppePolicy.REQUIRE if protocol is Protocol.PPTP else MppePolicy.REFUSE),
    )
    t0 = time.perf_counter()
    stack = build_stack(profile, {"password": PASSWORD}, lambda event: None, DirectApplier())
    connected = await stack.connect()
    await first_echo(SERVER_PPP)
    connect_time = time.perf_counter() - t0
    try:
        mbits = await iperf(SERVER_PPP, seconds)
    finally:
        await stack.close()
    return connect_time, mbits, connected.negotiated.as_dict().get("encryption", "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("bench_ppp needs root (network namespaces, TUN)", file=sys.stderr)
        return 2
    with namespaces(), tempfile.TemporaryDirectory() as tmp, gateway(Path(tmp)):
        rows: list[tuple[str, str, str]] = []
        with netns.entered(CLIENT_NS):
            plain = asyncio.run(iperf(GW_ADDR, args.seconds))
            rows.append(("plain veth", "-", f"{plain:9.1f}"))
            for protocol in (Protocol.PPTP, Protocol.L2TP):
                connect_time, mbits, encryption = asyncio.run(measure(protocol, args.seconds))
                rows.append(
                    (f"{protocol.value.upper()} ({encryption})", f"{connect_time * 1000:7.0f} ms", f"{mbits:9.1f}")
                )
    print(f"{'path':<44} {'connect':>10} {'TCP Mbit/s':>10}")
    for name, connect, mbits in rows:
        print(f"{name:<44} {connect:>10} {mbits:>10}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
