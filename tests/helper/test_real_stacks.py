"""End to end: the helper with the real protocol stacks against our own gateway in a namespace.

The helper (namespace ``a``, default stack factory) connects L2TP and PPTP sessions for an
unprivileged member to ``connection-wizard``'s own gateway (namespace ``b``) with the kill switch
on: progress from every phase, a ping through the tunnel to the gateway's inner address, DNS from
IPCP in resolv.conf, and a prompt, clean deliberate disconnect.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from tests.helper.conftest import (
    ORIGINAL_RESOLV,
    ROOT,
    HelperProcess,
    Lab,
    Users,
    in_ns,
    make_profile,
    nft_cleanup,
    open_client,
    workdir,
)
from wizard.profiles.model import CryptoPolicy, MppePolicy, PPPOptions, Protocol

pytestmark = pytest.mark.root
PASSWORD = "correct horse"
GATEWAY_CONFIG = {
    "version": 1,
    "listen": "192.0.2.2",
    "protocols": ["l2tp", "pptp"],
    "users": {"alice": PASSWORD},
    "mppe": "allow",
    "server_address": "10.123.0.1",
    "client_pool": "10.123.0.10-10.123.0.20",
    "dns_servers": ["10.123.0.1"],
}


@pytest.fixture(scope="module")
def gateway(lab: Lab) -> Iterator[list[str]]:
    base = workdir()
    (base / "gateway.json").write_text(json.dumps(GATEWAY_CONFIG))
    code = "import sys; from pathlib import Path; from wizard.stacks.gateway import main_gateway; sys.exit(main_gateway(Path(sys.argv[1])))"
    proc = subprocess.Popen(
        ["ip", "netns", "exec", lab.b, sys.executable, "-c", code, str(base / "gateway.json")],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    log: list[str] = []
    assert proc.stdout is not None
    deadline = time.monotonic() + 20
    for raw in proc.stdout:
        log.append(raw.decode(errors="replace").rstrip())
        if "gateway: ready" in log[-1] or time.monotonic() > deadline:
            break
    if not any("gateway: ready" in line for line in log):
        proc.kill()
        pytest.fail("our gateway did not start:\n" + "\n".join(log))
    try:
        yield log
    finally:
        proc.terminate()
        proc.wait(15)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def real_helper(lab: Lab, users: Users) -> Iterator[HelperProcess]:
    base = workdir()
    (base / "resolv.conf").write_bytes(ORIGINAL_RESOLV)
    process = HelperProcess(lab.a, base, users.group, stack_factory="wizard.stacks.registry:build_stack").start()
    try:
        yield process
    finally:
        process.stop()
        nft_cleanup(lab.a)
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.parametrize("protocol", [Protocol.L2TP, Protocol.PPTP])
def test_member_connects_with_the_real_stack_through_the_kill_switch(
    protocol: Protocol, real_helper: HelperProcess, gateway: list[str], users: Users, lab: Lab
) -> None:
    profile = replace(
        make_profile(f"Real {protocol.value}", "alice", kill_switch=True),
        protocol=protocol,
        ppp=PPPOptions(mppe=MppePolicy.REQUIRE if protocol is Protocol.PPTP else MppePolicy.ALLOW),
        crypto=CryptoPolicy(allow_legacy=True),
    )

    async def body() -> None:
        async with await open_client(real_helper, users.alice) as client:
            await client.subscribe()
            sid = (await client.connect(profile, {"password": PASSWORD}))["id"]
            phases = []
            while True:
                event = await client.next_event(timeout=20)
                assert event is not None
                if event.get("session") != sid:
                    continue
                if event["event"] == "progress":
                    phases.append(event["phase"])
                if event["event"] == "state" and event["state"] in ("connected", "disconnected", "failed"):
                    break
            assert event["state"] == "connected", event
            info = event["info"]
            assert info["negotiated"]["authentication"] == "MS-CHAPv2"
            assert phases[0] == "kill-switch" and "ppp-authenticate" in phases
            ping = in_ns(lab.a, "ping", "-c", "3", "-i", "0.2", "-W", "2", "10.123.0.1")
            assert ping.returncode == 0, ping.stdout
            assert in_ns(lab.a, "ping", "-c", "1", "-W", "0.3", lab.other).returncode != 0  # kill switch
            assert "nameserver 10.123.0.1" in real_helper.resolv_conf.read_text()
            counters = (await client.status(sid))[0]["counters"]
            assert counters["packets_in"] >= 1 and counters["bytes_out"] > 0
            started = time.monotonic()
            final = await client.disconnect(sid)
            assert final["state"] == "disconnected"
            assert time.monotonic() - started < 5, "a deliberate disconnect must not hang"
        assert real_helper.resolv_conf.read_bytes() == ORIGINAL_RESOLV
        assert in_ns(lab.a, "ping", "-c", "1", "-W", "1", lab.other).returncode == 0
        assert in_ns(lab.a, "ip", "route", "show", "proto", "119").stdout == ""

    asyncio.run(body())


def test_wrong_password_is_reported_in_plain_words(real_helper: HelperProcess, gateway: list[str], users: Users) -> None:
    profile = replace(make_profile("Real wrong", "alice"), ppp=PPPOptions(mppe=MppePolicy.ALLOW))

    async def body() -> None:
        async with await open_client(real_helper, users.bob) as client:
            await client.subscribe()
            sid = (await client.connect(profile, {"password": "not it"}))["id"]
            while True:
                event = await client.next_event(timeout=20)
                assert event is not None
                if event.get("session") == sid and event["event"] == "state" and event["state"] == "disconnected":
                    break
            assert "password" in event["reason"] or "rejected" in event["reason"], event["reason"]

    asyncio.run(body())
