"""Crash recovery: ``kill -9`` the helper mid-session; the next start puts the system back exactly.

Compared against a snapshot taken before connecting: links, addresses, routes (all tables, both
families), the whole nftables ruleset and resolv.conf (here a symlink, as on systems where it
points into /run). The crashed helper's changes are checked to be there first, so the test cannot
pass by accident.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helper.conftest import (
    ORIGINAL_RESOLV,
    HelperProcess,
    Lab,
    Users,
    in_ns,
    make_profile,
    nft_cleanup,
    open_client,
    wait_state,
    workdir,
)

pytestmark = pytest.mark.root


def snapshot(lab: Lab, resolv_conf: Path) -> dict[str, Any]:
    def ip_json(*args: str) -> Any:
        return json.loads(in_ns(lab.a, "ip", "-j", *args, check=True).stdout or "[]")

    routes = set()
    for family in ("-4", "-6"):
        for r in ip_json(family, "route", "show", "table", "all"):
            routes.add((r.get("dst"), r.get("dev"), r.get("gateway", ""), r.get("protocol", ""), r.get("table", "main")))
    addresses = {
        (link["ifname"], a["local"], a["prefixlen"]) for link in ip_json("addr") for a in link.get("addr_info", [])
    }
    ruleset = json.loads(in_ns(lab.a, "nft", "-j", "list", "ruleset", check=True).stdout)["nftables"]
    return {
        "links": sorted(link["ifname"] for link in ip_json("link")),
        "addresses": addresses,
        "routes": routes,
        "nft": [item for item in ruleset if "metainfo" not in item],
        "resolv_link": os.readlink(resolv_conf) if resolv_conf.is_symlink() else None,
        "resolv_bytes": resolv_conf.read_bytes(),
    }


@pytest.fixture
def crash_dir() -> Iterator[Path]:
    base = workdir()
    (base / "real-resolv.conf").write_bytes(ORIGINAL_RESOLV)
    (base / "resolv.conf").symlink_to("real-resolv.conf")
    yield base
    shutil.rmtree(base, ignore_errors=True)


def test_restart_after_kill_9_removes_everything_the_crashed_helper_changed(
    lab: Lab, users: Users, crash_dir: Path
) -> None:
    before = snapshot(lab, crash_dir / "resolv.conf")
    first = HelperProcess(lab.a, crash_dir, users.group).start()
    try:
        asyncio.run(_connect_and_leave_it_up(first, users))
        during = snapshot(lab, crash_dir / "resolv.conf")
        first.kill()  # SIGKILL: no cleanup of any kind
        after_crash = snapshot(lab, crash_dir / "resolv.conf")
    finally:
        first.kill()

    # What the crashed helper leaves behind (the TUN device and its routes die with its fd):
    assert any(item.get("table", {}).get("name") == "connection_wizard" for item in after_crash["nft"])
    assert ("192.0.2.2", "va", "", "119", "main") in after_crash["routes"]  # the gateway's host route
    assert after_crash["resolv_link"] is None and b"nameserver 10.99.0.53" in after_crash["resolv_bytes"]
    assert any(link.startswith("cwt") for link in during["links"])
    journals = list((crash_dir / "state" / "journal").glob("*.json"))
    assert len(journals) == 1
    kinds = {e["type"] for e in json.loads(journals[0].read_text())["entries"]}
    assert kinds == {"link", "nft_table", "resolv_conf"}

    second = HelperProcess(lab.a, crash_dir, users.group).start()
    try:
        assert snapshot(lab, crash_dir / "resolv.conf") == before
        assert list((crash_dir / "state" / "journal").glob("*.json")) == []
        assert any("recovery: undid" in line for line in second.log)
        asyncio.run(_still_serves(second, users))
    finally:
        second.stop()
        nft_cleanup(lab.a)


async def _connect_and_leave_it_up(helper: HelperProcess, users: Users) -> None:
    profile = make_profile("Crashy", kill_switch=True, split_domains=("corp.example",))
    async with await open_client(helper, users.alice) as client:
        await client.subscribe()
        sid = (await client.connect(profile, {"password": "right"}))["id"]
        await wait_state(client, sid, {"connected"})


async def _still_serves(helper: HelperProcess, users: Users) -> None:
    async with await open_client(helper, users.bob) as client:
        assert (await client.hello())["uid"] == users.bob.uid
        assert await client.list_sessions() == []
