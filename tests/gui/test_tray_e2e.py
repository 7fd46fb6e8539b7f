"""End to end under Xvfb with a real tray host: our gateway, the real helper, the tray app.

Debian 12 has no stalonetray; ``trayer`` (a small XEmbed system tray) does the job under Xvfb.
The gateway runs in one network namespace, the helper (with the real protocol stacks) in another,
and the GUI on the Xvfb display talks to the helper over its socket. The GUI side is driven in
its own process (``e2e_tray_driver.py``): profile created by typing into the wizard, connect and
disconnect by mouse clicks on the tray menu; screenshots go to ``$CW_SCREENSHOTS`` or a temp dir.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.root


def _require() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root: network namespaces, the helper, TUN devices")
    for tool in ("Xvfb", "trayer"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (apt-get install xvfb trayer)")
    if importlib.util.find_spec("wizard.stacks.gateway") is None:
        pytest.skip("our gateway (wizard.stacks.gateway) is not in this tree")


@contextlib.contextmanager
def xvfb_with_trayer() -> Iterator[str]:
    """A fresh Xvfb display with trayer docked at the top right; yields the DISPLAY value."""
    read_fd, write_fd = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1024x600x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        display = f":{pipe.readline().strip()}"
    env = {**os.environ, "DISPLAY": display}
    tray = subprocess.Popen(
        ["trayer", "--edge", "top", "--align", "right", "--widthtype", "pixel", "--width", "96", "--height", "28",
         "--transparent", "false", "--tint", "0x303030", "--SetDockType", "true"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        time.sleep(0.8)  # trayer claims the _NET_SYSTEM_TRAY selection
        yield display
    finally:
        for proc in (tray, xvfb):
            proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(5)


@contextlib.contextmanager
def real_helper(netns: str, workdir: Path) -> Iterator[Path]:
    """``connection-wizard helper`` with the real stacks, in the client namespace."""
    socket_path = workdir / "helper.sock"
    resolv = workdir / "resolv.conf"
    resolv.write_text("nameserver 192.0.2.53\n")
    argv = [
        "ip", "netns", "exec", netns, sys.executable, "-m", "wizard", "helper", "--socket", str(socket_path),
        "--state-dir", str(workdir / "state"), "--group", "root", "--dns", "resolv-conf", "--resolv-conf", str(resolv),
    ]  # fmt: skip
    proc = subprocess.Popen(argv, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    lines: list[str] = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        lines.append(line.rstrip())
        if line.startswith("helper: ready"):
            break
    else:
        proc.kill()
        pytest.fail("the helper did not start:\n" + "\n".join(lines))
    threading.Thread(target=lambda: [lines.append(x.rstrip()) for x in proc.stderr], daemon=True).start()  # type: ignore[union-attr]
    try:
        yield socket_path
    finally:
        proc.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(15)
        if proc.poll() is None:
            proc.kill()


def test_wizard_then_connect_and_disconnect_from_the_tray(tmp_path: Path) -> None:
    _require()
    from tests.ownpeer.conftest import USERS, running_gateway

    shots = Path(os.environ.get("CW_SCREENSHOTS", tmp_path / "screenshots"))
    work = Path(tempfile.mkdtemp(prefix="cwe-"))
    try:
        with running_gateway(tmp_path) as lab, real_helper(lab.ns.client, work) as socket_path, xvfb_with_trayer() as display:
            env = {
                **os.environ,
                "DISPLAY": display,
                "QT_QPA_PLATFORM": "xcb",
                "PYTHONPATH": str(REPO),
                "XDG_CONFIG_HOME": str(tmp_path / "config"),
                "XDG_STATE_HOME": str(tmp_path / "state"),
            }
            user = "alice"
            run = subprocess.run(
                [sys.executable, "-m", "tests.gui.e2e_tray_driver", str(socket_path), str(tmp_path / "profiles"),
                 str(shots), lab.ns.client, lab.ns.gateway_addr, user, USERS[user]],
                cwd=REPO, env=env, capture_output=True, text=True, timeout=180, check=False,
            )  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)
    assert run.stdout.strip(), f"the driver printed nothing; stderr:\n{run.stderr}"
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert run.returncode == 0, f"{result}\n{run.stderr}"
    assert result["system_tray"] is True and result["tray_geometry"][2] > 0
    assert result["profile"]["protocol"] == "l2tp" and result["profile"]["host"] == "192.0.2.1"
    assert result["state"] == "connected" and result["overall"] == "connected" and result["icon_is_connected"]
    assert result["ping_ok"]
    assert result["counters"]["bytes_in"] > 0 and result["counters"]["bytes_out"] > 0
    assert result["negotiated"]["address"].startswith("10.123.0.")
    assert "Own gateway: connected for" in result["tooltip"] and result["negotiated"]["address"] in result["tooltip"]
    assert result["final_state"] == "disconnected" and result["final_overall"] == "disconnected"
    assert result["notices"] == ["connected"]  # the disconnect was ours: no alarm
    for name in ("e2e-screen-connected.png", "e2e-screen-menu-connected.png", "e2e-tray-menu-connected.png", "e2e-wizard-summary.png"):
        assert (shots / name).stat().st_size > 1000
