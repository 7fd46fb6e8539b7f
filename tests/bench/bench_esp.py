"""Benchmark (figures, not assertions): ESP/AH encapsulate and decapsulate throughput per suite.

Run:  .venv/bin/python -m tests.bench.bench_esp [--seconds 1] [--size 1400]

Each suite gets an outbound and an inbound tunnel-mode SA; the script times encapsulate() of one
inner packet size in a loop, then decapsulate() of the packets it produced, and prints packets per
second and Mbit/s of inner packet data. This is the per-packet cost of the Python engine alone (no
sockets, no TUN), i.e. an upper bound for the userspace data plane on this machine.
"""

from __future__ import annotations

import argparse
import time

from tests.esp_packets import V4_INNER_A, V4_INNER_B, sa_pair, udp_packet
from wizard.engine.esp import Mode, SAProtocol

SUITES: list[tuple[str, str | None, str | None, SAProtocol, bool]] = [
    ("aes128gcm16", "aes128gcm16", None, SAProtocol.ESP, False),
    ("aes256gcm16", "aes256gcm16", None, SAProtocol.ESP, False),
    ("aes128gcm8", "aes128gcm8", None, SAProtocol.ESP, False),
    ("aes256gcm16 + NAT-T", "aes256gcm16", None, SAProtocol.ESP, True),
    ("aes128-sha1", "aes128", "sha1", SAProtocol.ESP, False),
    ("aes256-sha256", "aes256", "sha256", SAProtocol.ESP, False),
    ("aes256-sha512", "aes256", "sha512", SAProtocol.ESP, False),
    ("aes128ctr-sha256", "aes128ctr", "sha256", SAProtocol.ESP, False),
    ("aes128-aesxcbc", "aes128", "aesxcbc", SAProtocol.ESP, False),
    ("3des-sha1", "3des", "sha1", SAProtocol.ESP, False),
    ("ah-sha256", None, "sha256", SAProtocol.AH, False),
]


def measure(enc: str | None, integ: str | None, protocol: SAProtocol, udp: bool, size: int, seconds: float) -> tuple[float, float]:
    out, inb = sa_pair(enc, integ, mode=Mode.TUNNEL, protocol=protocol, udp=udp, esn=True, replay_window=1 << 20)
    packet = udp_packet(V4_INNER_A, V4_INNER_B, 5000, 5001, bytes(size - 28))
    wires: list[bytes] = []
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        for _ in range(200):
            wires.append(out.encapsulate(packet, 0.0))
    enc_elapsed = time.perf_counter() - start
    start = time.perf_counter()
    for wire in wires:
        inb.decapsulate(wire, 0.0)
    dec_elapsed = time.perf_counter() - start
    assert inb.stats.packets == len(wires)
    return len(wires) / enc_elapsed, len(wires) / dec_elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=1.0, help="time spent encapsulating per suite")
    parser.add_argument("--size", type=int, default=1400, help="inner IP packet size in bytes")
    args = parser.parse_args()
    print(f"ESP/AH engine throughput, tunnel mode, {args.size}-byte inner IPv4 packets, one core, no I/O")
    print(f"{'suite':<22} {'encap pkt/s':>12} {'encap Mbit/s':>13} {'decap pkt/s':>12} {'decap Mbit/s':>13}")
    for label, enc, integ, protocol, udp in SUITES:
        enc_pps, dec_pps = measure(enc, integ, protocol, udp, args.size, args.seconds)
        bits = args.size * 8 / 1e6
        print(f"{label:<22} {enc_pps:>12,.0f} {enc_pps * bits:>13,.1f} {dec_pps:>12,.0f} {dec_pps * bits:>13,.1f}")


if __name__ == "__main__":
    main()
