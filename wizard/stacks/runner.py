"""``connection-wizard connect NAME --foreground``: one connection in this process, as root.

Prints progress per phase and the negotiated parameters, then waits until Ctrl-C, SIGTERM or the
link dies, and tears everything down (no device, address or route is left behind). The helper
daemon runs the same stacks; this runner is for administrators, tests and benchmarks.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections.abc import Mapping
from typing import TextIO

from wizard.profiles.model import Profile
from wizard.stacks.applier import DirectApplier
from wizard.stacks.base import Connected, Disconnected, Progress, StackError, StatusEvent
from wizard.stacks.registry import build_stack

EXIT_FAILED = 1


class _Printer:
    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.started = time.monotonic()

    def __call__(self, event: StatusEvent) -> None:
        stamp = f"[{time.monotonic() - self.started:6.2f}s]"
        if isinstance(event, Progress):
            print(f"{stamp} {event.phase:<16} {event.message}", file=self.out, flush=True)
        elif isinstance(event, Connected):
            print(f"{stamp} connected ({event.negotiated.protocol}):", file=self.out)
            for key, value in event.negotiated.items:
                print(f"           {key:<16} {value}", file=self.out)
            self.out.flush()
        elif isinstance(event, Disconnected):
            how = "disconnected" if event.deliberate else "connection lost"
            print(f"{stamp} {how}: {event.reason}", file=self.out, flush=True)


async def run_foreground(profile: Profile, secrets: Mapping[str, str], out: TextIO = sys.stdout) -> int:
    """Connect ``profile`` and stay connected until a signal; returns the process exit code."""
    printer = _Printer(out)
    loop = asyncio.get_running_loop()
    try:
        stack = build_stack(profile, secrets, printer, DirectApplier())
    except StackError as exc:
        print(f"cannot connect: {exc.reason}", file=out, flush=True)
        return EXIT_FAILED
    stop = loop.create_future()

    def request_stop(name: str) -> None:
        if not stop.done():
            stop.set_result(name)

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, request_stop, sig.name)
    try:
        connect = loop.create_task(stack.connect())
        done, _ = await asyncio.wait({connect, stop}, return_when=asyncio.FIRST_COMPLETED)
        if connect not in done:
            await stack.close(f"stopped by {stop.result()}")
            connect.cancel()
            print(f"stopped by {stop.result()} before the connection was up", file=out, flush=True)
            return EXIT_FAILED
        try:
            connect.result()
        except StackError as exc:
            print(f"connection failed: {exc.reason}", file=out, flush=True)
            return EXIT_FAILED
        closed = loop.create_task(stack.wait_closed())
        done, _ = await asyncio.wait({closed, stop}, return_when=asyncio.FIRST_COMPLETED)
        if closed not in done:
            await stack.close(f"disconnected ({stop.result()})")
            await closed
        counters = stack.counters.snapshot()
        print(
            f"traffic: {counters['packets_in']:.0f} packets / {counters['bytes_in']:.0f} bytes in, "
            f"{counters['packets_out']:.0f} packets / {counters['bytes_out']:.0f} bytes out, "
            f"up {counters['uptime']:.1f} s",
            file=out,
            flush=True,
        )
        return 0 if stop.done() else EXIT_FAILED
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
