"""How long from launching the tray app until its icon is visible in a real system tray.

    .venv/bin/python tests/bench/bench_tray_startup.py [--runs 10]

Starts Xvfb with trayer (an XEmbed tray host) and a fake helper, then launches the tray app as a
fresh process again and again. Each child reports when its icon was embedded in the tray (the
tray host gave it a geometry); the time is measured from just before the parent spawned it, so
the Python start-up and every import are included. Prints the figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def child(socket_path: str, config_dir: str) -> None:
    """The measured process: the tray app, quitting as soon as its icon is in the tray."""
    marks = {"start": time.monotonic()}
    from PySide6.QtCore import QTimer

    from wizard.gui.tray import TrayApp, run_tray
    from wizard.profiles.store import ProfileStore

    marks["imported"] = time.monotonic()

    def ready(tray: TrayApp) -> None:
        marks["event loop"] = time.monotonic()
        timer = QTimer(tray)

        def poll() -> None:
            icon = tray.tray
            if icon is not None and icon.isVisible() and icon.geometry().width() > 0:
                marks["visible"] = time.monotonic()
                print(" ".join(f"{k.replace(' ', '_')}={v:.6f}" for k, v in marks.items()), flush=True)
                tray.quit()

        timer.timeout.connect(poll)
        timer.start(2)

    run_tray(ProfileStore(Path(config_dir)), Path(socket_path), argv=["bench"], on_ready=ready)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--child", nargs=2, metavar=("SOCKET", "CONFIG"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return 0
    for tool in ("Xvfb", "trayer"):
        if shutil.which(tool) is None:
            print(f"{tool} is needed (apt-get install xvfb trayer)", file=sys.stderr)
            return 2
    sys.path.insert(0, str(REPO))
    from tests.gui.fake_helper import running_fake_helper
    from tests.gui.test_tray_e2e import xvfb_with_trayer
    from wizard.profiles.model import Auth, Gateway, Profile, Protocol
    from wizard.profiles.store import ProfileStore

    work = Path(tempfile.mkdtemp(prefix="cwb-"))
    store = ProfileStore(work / "config")
    for name in ("Office", "Lab", "Branch"):
        store.save(Profile(name=name, protocol=Protocol.L2TP, gateways=(Gateway("192.0.2.1"),), auth=Auth(username="a")))
    totals: list[float] = []
    phases: dict[str, list[float]] = {}
    try:
        with running_fake_helper(work / "helper.sock"), xvfb_with_trayer() as display:
            env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb", "PYTHONPATH": str(REPO)}
            for _ in range(args.runs):
                launched = time.monotonic()
                out = subprocess.run(
                    [sys.executable, __file__, "--child", str(work / "helper.sock"), str(work / "config")],
                    env=env, capture_output=True, text=True, timeout=60, check=False,
                )  # fmt: skip
                line = next((x for x in out.stdout.splitlines() if x.startswith("start=")), "")
                if not line:
                    print(f"run failed:\n{out.stderr}", file=sys.stderr)
                    return 1
                marks = {k: float(v) for k, v in (item.split("=") for item in line.split())}
                totals.append(marks["visible"] - launched)
                previous = launched
                for key in ("start", "imported", "event_loop", "visible"):
                    phases.setdefault(key, []).append(marks[key] - previous)
                    previous = marks[key]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"tray visible after launch, {len(totals)} runs (Xvfb + trayer, fake helper, 3 profiles):")
    print(f"  median {statistics.median(totals) * 1000:.0f} ms, min {min(totals) * 1000:.0f} ms, max {max(totals) * 1000:.0f} ms")
    labels = {"start": "python start-up", "imported": "imports (Qt, wizard)", "event_loop": "QApplication + tray set-up",
              "visible": "until embedded in the tray"}  # fmt: skip
    for key, values in phases.items():
        print(f"  {labels[key]:<28} median {statistics.median(values) * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
