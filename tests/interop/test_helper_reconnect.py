"""The helper reconnects when the real gateway's daemon dies and comes back (issue: the helper).

The helper runs in the lab's namespace; this process is the app talking to it over its socket.
Mid-session the lab's pptpd (and its per-call pptpctrl/pppd) are killed on the VM, then started
again: the session must go to "reconnecting" and come back by itself within the back-off.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.interop.conftest import Lab
from wizard.client.client import HelperClient
from wizard.profiles.model import Auth, Gateway, MppePolicy, PPPOptions, Profile, Protocol, Reconnect

pytestmark = pytest.mark.interop

START_PPTPD = "pptpd -c /etc/pptpd.conf -p /run/pptpd.pid; pptpd -c /etc/pptpd-legacy.conf -p /run/pptpd-legacy.pid"


async def _until_state(
    client: HelperClient, sid: str, states: set[str], seen: list[str], timeout: float
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        event = await client.next_event(timeout=max(0.1, deadline - time.monotonic()))
        assert event is not None, "the helper closed the connection"
        if event.get("session") == sid and event.get("event") == "state":
            seen.append(event["state"])
            if event["state"] in states:
                return event


def test_session_comes_back_after_the_gateway_daemon_restarts(lab: Lab, tmp_path: Path) -> None:
    socket_path = tmp_path / "helper.sock"
    helper = subprocess.Popen(
        [
            "ip",
            "netns",
            "exec",
            lab.namespace,
            sys.executable,
            "-m",
            "wizard",
            "helper",
            "--socket",
            str(socket_path),
            "--state-dir",
            str(tmp_path / "state"),
            "--dns",
            "off",
            "--no-polkit",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    profile = Profile(
        name="Lab reconnect",
        protocol=Protocol.PPTP,
        gateways=(Gateway(lab.gateway),),
        auth=Auth(username=lab.user),
        ppp=PPPOptions(mppe=MppePolicy.REQUIRE, lcp_echo_interval=2, lcp_echo_failures=2),
        reconnect=Reconnect(enabled=True, initial_delay=1.0, max_delay=4.0),
    )
    seen: list[str] = []

    async def scenario() -> tuple[float, dict[str, Any]]:
        for _ in range(100):
            if socket_path.exists():
                break
            await asyncio.sleep(0.1)
        async with await HelperClient.open(socket_path) as client:
            await client.subscribe()
            sid = (await client.connect(profile, {"password": lab.password}))["id"]
            await _until_state(client, sid, {"connected", "failed"}, seen, 60)
            assert seen[-1] == "connected", seen
            lab.vm_shell("pkill -x pptpd; pkill -x pptpctrl; pkill -x pppd; sleep 1")
            await _until_state(client, sid, {"reconnecting", "failed", "disconnected"}, seen, 30)
            assert seen[-1] == "reconnecting", seen
            lab.vm_shell(START_PPTPD)
            t0 = time.monotonic()
            back = await _until_state(client, sid, {"connected", "failed", "disconnected"}, seen, 60)
            took = time.monotonic() - t0
            await client.disconnect(sid)
            await _until_state(client, sid, {"disconnected"}, seen, 30)
            return took, back

    try:
        took, back = asyncio.run(scenario())
    finally:
        helper.terminate()
        helper.wait(20)
        lab.vm_shell(f"pgrep -x pptpd >/dev/null || ({START_PPTPD})")
    assert back["state"] == "connected", seen
    assert back["info"]["attempt"] >= 2, back["info"]
    print(f"\nstates: {' -> '.join(seen)}; back {took:.1f} s after pptpd restarted")
