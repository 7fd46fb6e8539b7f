"""Benchmark (figures, not assertions): connect time and iperf3 TCP throughput through IPsec over veth.

Run as root:  .venv/bin/python -m tests.bench.bench_ipsec [--seconds 5] [--skip-strongswan]

Paths, each between two network namespaces joined by a veth pair:

* plain veth: no tunnel (the ceiling);
* our L2TP/IPsec client against our own gateway (IKEv1 + ESP transport + L2TP + PPP, all userspace);
* our IKEv1 XAUTH client against our own gateway (ESP tunnel mode into TUN devices);
* strongSwan's userspace ESP: two charon daemons with the kernel-libipsec plugin (IKEv2, ESP tunnel
  mode in UDP 4500, host-to-host selectors), the reference for a userspace data plane on a kernel
  without ESP. If its Debian packages are missing the script installs them with apt-get; when that
  is impossible it says so and prints the other rows.

Connect time runs from the connect request (our stack's ``connect()``; ``swanctl --initiate``) to
the first ICMP echo reply through the tunnel. Both ends use aes256-sha256 ESP and
aes256-sha256-modp2048 IKE. Throughput is iperf3 TCP, client to server, receiver side.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.ownpeer.conftest import SERVER_ADDRESS, USERS, Namespaces, namespaces, running_gateway
from wizard.net import netns
from wizard.profiles.model import (
    Auth,
    CryptoPolicy,
    Gateway,
    MppePolicy,
    PPPAuth,
    PPPOptions,
    Profile,
    Protocol,
    SecretKind,
)
from wizard.stacks.applier import DirectApplier
from wizard.stacks.base import StatusEvent
from wizard.stacks.registry import build_stack

PSK = "bench-psk-5521"
IKE = "aes256-sha256-modp2048"
ESP = "aes256-sha256"
CHARON = Path("/usr/lib/ipsec/charon")
STRONGSWAN_PACKAGES = ("strongswan-charon", "strongswan-swanctl", "libcharon-extra-plugins")
IPERF_PORT = 5201


@dataclass
class Row:
    path: str
    connect_ms: float | None
    mbit: float | None
    note: str = ""


# --- measuring ----------------------------------------------------------------------------------


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return int(~total & 0xFFFF)


async def first_echo_reply(target: str, timeout: float = 10.0) -> float:
    """Send ICMP echo requests every 5 ms from the current namespace; the loop time of the first reply."""
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    sock.setblocking(False)
    ident = os.getpid() & 0xFFFF
    got: asyncio.Future[float] = loop.create_future()

    def on_readable() -> None:
        with contextlib.suppress(BlockingIOError):
            while True:
                data, addr = sock.recvfrom(2048)
                ihl = (data[0] & 0x0F) * 4
                kind, _, _, rid = struct.unpack("!BBHH", data[ihl : ihl + 6])
                if kind == 0 and rid == ident and addr[0] == target and not got.done():
                    got.set_result(loop.time())

    loop.add_reader(sock.fileno(), on_readable)
    try:
        deadline = loop.time() + timeout
        seq = 0
        while not got.done() and loop.time() < deadline:
            seq += 1
            header = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + b"cw-bench"
            packet = header[:2] + struct.pack("!H", _checksum(header)) + header[4:]
            with contextlib.suppress(OSError):
                sock.sendto(packet, (target, 0))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(got), 0.005)
        if not got.done():
            raise TimeoutError(f"no echo reply from {target} within {timeout:g} s")
        return got.result()
    finally:
        loop.remove_reader(sock.fileno())
        sock.close()


@contextlib.contextmanager
def iperf_server(namespace: str) -> Iterator[None]:
    proc = subprocess.Popen(
        ["ip", "netns", "exec", namespace, "iperf3", "-s", "-1", "-p", str(IPERF_PORT)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            out = subprocess.run(
                ["ip", "netns", "exec", namespace, "ss", "-Htln", f"sport = :{IPERF_PORT}"],
                capture_output=True,
                text=True,
                check=False,
            ).stdout
            if out.strip():
                break
            time.sleep(0.05)
        yield
    finally:
        if proc.poll() is None:
            proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _iperf_result(output: str) -> float:
    data = json.loads(output)
    if "error" in data:
        raise RuntimeError(f"iperf3: {data['error']}")
    return float(data["end"]["sum_received"]["bits_per_second"]) / 1e6


async def iperf_async(namespace: str, target: str, seconds: float) -> float:
    """Mbit/s received by the server; runs as a subprocess so this event loop keeps moving packets."""
    proc = await asyncio.create_subprocess_exec(
        "ip", "netns", "exec", namespace, "iperf3", "-c", target, "-p", str(IPERF_PORT), "-t", f"{seconds:g}", "-J",
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await proc.communicate()
    return _iperf_result(out.decode())


def iperf(namespace: str, target: str, seconds: float) -> float:
    out = subprocess.run(
        ["ip", "netns", "exec", namespace, "iperf3", "-c", target, "-p", str(IPERF_PORT), "-t", f"{seconds:g}", "-J"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return _iperf_result(out)


# --- the paths ----------------------------------------------------------------------------------


def plain_veth(seconds: float) -> Row:
    with namespaces() as ns, iperf_server(ns.gateway):
        return Row("plain veth", None, iperf(ns.client, ns.gateway_addr, seconds))


def _profile(protocol: Protocol, host: str) -> Profile:
    return Profile(
        name="bench",
        protocol=protocol,
        gateways=(Gateway(host),),
        auth=Auth(username="alice", secrets=(SecretKind.PASSWORD, SecretKind.PSK), ppp_methods=(PPPAuth.MSCHAPV2,)),
        ppp=PPPOptions(mppe=MppePolicy.REFUSE),
        crypto=CryptoPolicy(ike_proposals=(IKE,), esp_proposals=(ESP,)),
    )


def ours(protocol: Protocol, label: str, seconds: float, tmp: Path) -> Row:
    changes = {
        "protocols": [],
        "l2tp": {"allowed_auth": ["mschapv2"], "mppe": "allow"},
        "ipsec": {"psk": PSK, "ike_proposals": [IKE], "esp_proposals": [ESP]},
    }
    with running_gateway(tmp, changes=changes) as lab, iperf_server(lab.ns.gateway):
        events: list[StatusEvent] = []

        async def main() -> tuple[float, float, str]:
            loop = asyncio.get_running_loop()
            start = loop.time()
            stack = build_stack(_profile(protocol, lab.ns.gateway_addr), {"password": USERS["alice"], "psk": PSK},
                                events.append, DirectApplier())  # fmt: skip
            connected = await stack.connect()
            try:
                first = await first_echo_reply(SERVER_ADDRESS)
                mbit = await iperf_async(lab.ns.client, SERVER_ADDRESS, seconds)
            finally:
                await stack.close()
            return (first - start) * 1000, mbit, connected.negotiated.as_dict().get("esp", "")

        with netns.entered(lab.ns.client):
            connect_ms, mbit, esp = asyncio.run(main())
        return Row(label, connect_ms, mbit, esp.split(", SPIs")[0])


# --- strongSwan with kernel-libipsec -------------------------------------------------------------


def ensure_strongswan() -> str | None:
    """None when charon with kernel-libipsec is usable (installing it if needed), else why not."""
    plugin = Path("/usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so")
    if CHARON.exists() and plugin.exists() and shutil.which("swanctl"):
        return None
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return "strongSwan is not installed and apt-get is not available to install it"
    print(f"installing {', '.join(STRONGSWAN_PACKAGES)} with apt-get ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *STRONGSWAN_PACKAGES]
    proc = subprocess.run(install, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], capture_output=True, env=env, check=False)
        proc = subprocess.run(install, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0 or not CHARON.exists() or not plugin.exists():
        last = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["unknown error"]
        return f"could not install strongSwan ({last[0]})"
    return None


STRONGSWAN_CONF = """\
charon {{
  load = random nonce openssl aes sha1 sha2 hmac gmp kdf pem pkcs1 x509 pubkey kernel-libipsec kernel-netlink socket-default vici updown
  install_virtual_ip = no
  filelog {{
    log {{
      path = {dir}/charon.log
      default = 1
    }}
  }}
  plugins {{
    kernel-libipsec {{
      allow_peer_ts = yes
    }}
    kernel-netlink {{
      fwmark = !0x42
    }}
    socket-default {{
      fwmark = 0x42
    }}
    vici {{
      socket = unix://{dir}/charon.vici
    }}
  }}
}}
"""

SWANCTL_CONF = """\
connections {{
  bench {{
    version = 2
    local_addrs = {local}
    remote_addrs = {remote}
    proposals = {ike}
    encap = yes
    local {{
      auth = psk
      id = {local}
    }}
    remote {{
      auth = psk
      id = {remote}
    }}
    children {{
      bench {{
        mode = tunnel
        local_ts = {local}/32
        remote_ts = {remote}/32
        esp_proposals = {esp}
      }}
    }}
  }}
}}
secrets {{
  ike-bench {{
    id-1 = {local}
    id-2 = {remote}
    secret = "{psk}"
  }}
}}
"""


class Charon:
    """One charon daemon in a namespace, with its own /run (pid file), config and vici socket."""

    def __init__(self, ns: str, base: Path, local: str, remote: str) -> None:
        self.ns = ns
        self.dir = base / ns
        (self.dir / "run").mkdir(parents=True)
        self.conf = self.dir / "strongswan.conf"
        self.conf.write_text(STRONGSWAN_CONF.format(dir=self.dir))
        self.swanctl = self.dir / "swanctl.conf"
        self.swanctl.write_text(SWANCTL_CONF.format(local=local, remote=remote, ike=IKE, esp=ESP, psk=PSK))
        self.uri = f"unix://{self.dir}/charon.vici"
        script = f"mount --bind {self.dir / 'run'} /run && exec {CHARON}"
        self.proc = subprocess.Popen(
            ["unshare", "-m", "--propagation", "private", "ip", "netns", "exec", ns, "sh", "-c", script],
            env={**os.environ, "STRONGSWAN_CONF": str(self.conf)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not (self.dir / "charon.vici").exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"charon did not start in {ns}; see {self.dir / 'charon.log'}")
            time.sleep(0.05)
        self.run("--load-all", "--file", str(self.swanctl))

    def run(self, *args: str) -> str:
        proc = subprocess.run(
            ["ip", "netns", "exec", self.ns, "swanctl", *args, "--uri", self.uri],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"swanctl {' '.join(args)}: {(proc.stdout + proc.stderr).strip()[-400:]}")
        return proc.stdout

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def strongswan(seconds: float, tmp: Path) -> Row:
    why = ensure_strongswan()
    if why is not None:
        return Row("strongSwan kernel-libipsec", None, None, f"not run: {why}")
    with namespaces() as ns:
        charons: list[Charon] = []
        try:
            responder = Charon(ns.gateway, tmp, ns.gateway_addr, ns.client_addr)
            charons.append(responder)
            initiator = Charon(ns.client, tmp, ns.client_addr, ns.gateway_addr)
            charons.append(initiator)
            with iperf_server(ns.gateway):
                connect_ms = _charon_connect(initiator, ns)
                mbit = iperf(ns.client, ns.gateway_addr, seconds)
            sas = initiator.run("--list-sas")
            note = "ESP tunnel aes256/sha256, UDP-encapsulated" if "UDP_ENCAP" in sas or "4500" in sas else ""
            return Row("strongSwan kernel-libipsec", connect_ms, mbit, note)
        except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
            return Row("strongSwan kernel-libipsec", None, None, f"failed: {exc}")
        finally:
            for charon in charons:
                charon.stop()


def _charon_connect(initiator: Charon, ns: Namespaces) -> float:
    async def main() -> float:
        loop = asyncio.get_running_loop()
        start = loop.time()
        proc = await asyncio.create_subprocess_exec(
            "ip", "netns", "exec", initiator.ns, "swanctl", "--initiate", "--child", "bench", "--uri", initiator.uri,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        out, _ = await proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"swanctl --initiate: {out.decode().strip()[-400:]}")
        first = await first_echo_reply(ns.gateway_addr)
        return (first - start) * 1000

    with netns.entered(ns.client):
        return asyncio.run(main())


# --- main ---------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="iperf3 duration per path")
    parser.add_argument("--skip-strongswan", action="store_true", help="leave out the strongSwan reference")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("bench_ipsec needs root (network namespaces, TUN devices, raw sockets)", file=sys.stderr)
        return 2
    if not shutil.which("iperf3"):
        print("bench_ipsec needs iperf3 (Debian package iperf3)", file=sys.stderr)
        return 2
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="cw-bench-ipsec-") as tmp:
        base = Path(tmp)
        rows.append(plain_veth(args.seconds))
        (base / "l2tp").mkdir()
        rows.append(ours(Protocol.L2TP_IPSEC, "ours: L2TP/IPsec (ESP transport)", args.seconds, base / "l2tp"))
        (base / "xauth").mkdir()
        rows.append(ours(Protocol.IKEV1_XAUTH, "ours: IKEv1 XAUTH (ESP tunnel)", args.seconds, base / "xauth"))
        if not args.skip_strongswan:
            (base / "charon").mkdir()
            rows.append(strongswan(args.seconds, base / "charon"))
    print(f"\niperf3 TCP {args.seconds:g} s per path, two namespaces over veth, {os.cpu_count()} CPUs; IKE {IKE}, ESP {ESP}")
    print(f"{'path':<36} {'connect ms':>10} {'TCP Mbit/s':>11}  note")
    for row in rows:
        connect = f"{row.connect_ms:.0f}" if row.connect_ms is not None else "-"
        mbit = f"{row.mbit:.1f}" if row.mbit is not None else "-"
        print(f"{row.path:<36} {connect:>10} {mbit:>11}  {row.note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
