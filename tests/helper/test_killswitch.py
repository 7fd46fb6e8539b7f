"""The kill switch with real packets: up, reconnecting, up again, and released on disconnect.

A raw packet socket on the far end of the veth (the "gateway" namespace) sees every frame the
client namespace sends. With the kill switch on, nothing may arrive for any address but the
gateway's (IPv4 and IPv6), and the gateway itself only on the VPN's ports; after a deliberate
disconnect traffic flows again. The rules are also read back with ``nft -j list ruleset``.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import json
import socket
import time
from typing import Any

import pytest

from tests.helper.conftest import HelperProcess, Lab, Users, in_ns, make_profile, open_client
from wizard.net import netns

pytestmark = pytest.mark.root
ETH_P_ALL = 0x0003
RIGHT = {"password": "right"}


class Capture:
    """Frames the client namespace sends, as seen on the gateway side of the veth."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        with netns.entered(lab.b):
            self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
            self.sock.bind((lab.b_if, 0))
        self.sock.setblocking(False)
        self.sources = {lab.a_addr, lab.a_addr6}

    def drain(self) -> None:
        with contextlib.suppress(BlockingIOError):
            while True:
                self.sock.recv(65535)

    def packets(self, settle: float = 0.3) -> list[tuple[str, str, int, int]]:
        """(source, destination, IP protocol, destination port or 0) of IP packets from the client."""
        time.sleep(settle)
        found = []
        with contextlib.suppress(BlockingIOError):
            while True:
                frame, addr = self.sock.recvfrom(65535)
                if addr[2] == socket.PACKET_OUTGOING:
                    continue  # sent by the gateway side
                parsed = _parse(frame)
                if parsed is not None and parsed[0] in self.sources:
                    found.append(parsed)
        return found

    def close(self) -> None:
        self.sock.close()


def _parse(frame: bytes) -> tuple[str, str, int, int] | None:
    ethertype = int.from_bytes(frame[12:14], "big")
    ip = frame[14:]
    if ethertype == 0x0800 and len(ip) >= 20:
        src, dst, proto = ip[12:16], ip[16:20], ip[9]
        payload = ip[(ip[0] & 0x0F) * 4 :]
    elif ethertype == 0x86DD and len(ip) >= 40:
        src, dst, proto = ip[8:24], ip[24:40], ip[6]
        payload = ip[40:]
    else:
        return None
    port = int.from_bytes(payload[2:4], "big") if proto in (6, 17) and len(payload) >= 4 else 0
    return str(ipaddress.ip_address(src)), str(ipaddress.ip_address(dst)), proto, port


def send_udp(lab: Lab, host: str, port: int) -> bool:
    """Send one datagram from the client namespace; False when the kernel refused it (EPERM)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with netns.entered(lab.a):
        sock = socket.socket(family, socket.SOCK_DGRAM)
    with sock:
        try:
            sock.sendto(b"kill switch probe", (host, port))
        except PermissionError:
            return False
        except OSError as exc:
            if exc.errno == errno.EPERM:
                return False
            raise
    return True


def ping(lab: Lab, host: str) -> bool:
    # A dropped echo request fails at once (EPERM), but ping still waits out -W: keep it short.
    return in_ns(lab.a, "ping", "-c", "1", "-W", "0.3", host).returncode == 0


def probe_everything(lab: Lab) -> dict[str, bool]:
    return {
        "udp other": send_udp(lab, lab.other, 1701),
        "udp other6": send_udp(lab, lab.other6, 1701),
        "udp gateway dns": send_udp(lab, lab.gateway, 53),
        "udp gateway l2tp": send_udp(lab, lab.gateway, 1701),
        "udp gateway6 l2tp": send_udp(lab, lab.gateway6, 1701),
        "ping other": ping(lab, lab.other),
        "ping other6": ping(lab, lab.other6),
    }


def assert_blocked(lab: Lab, capture: Capture) -> None:
    capture.drain()
    results = probe_everything(lab)
    seen = capture.packets()
    leaked = [p for p in seen if p[1] not in (lab.gateway, lab.gateway6) and not p[1].startswith(("ff02:", "fe80:"))]
    assert leaked == [], f"packets escaped the kill switch: {leaked}"
    assert not [p for p in seen if p[1] == lab.gateway and p[3] == 53], "the gateway got traffic on a non-VPN port"
    assert (lab.gateway, 17, 1701) in {p[1:] for p in seen}, "the VPN's own traffic to the gateway must pass"
    assert (lab.gateway6, 17, 1701) in {p[1:] for p in seen}
    assert results == {
        "udp other": False,
        "udp other6": False,
        "udp gateway dns": False,
        "udp gateway l2tp": True,
        "udp gateway6 l2tp": True,
        "ping other": False,
        "ping other6": False,
    }


def assert_open(lab: Lab, capture: Capture) -> None:
    capture.drain()
    results = probe_everything(lab)
    seen = {p[1] for p in capture.packets()}
    assert all(results.values()), results
    assert {lab.other, lab.other6, lab.gateway} <= seen


def our_table(lab: Lab) -> dict[str, Any]:
    ruleset = json.loads(in_ns(lab.a, "nft", "-j", "list", "ruleset", check=True).stdout)["nftables"]
    chains = {i["chain"]["name"]: i["chain"] for i in ruleset if "chain" in i and i["chain"]["table"] == "connection_wizard"}
    rules = [i["rule"] for i in ruleset if "rule" in i and i["rule"]["table"] == "connection_wizard"]
    return {"chains": chains, "rules": rules}


def tunnel_allowed(table: dict[str, Any], ifname: str) -> bool:
    return any(ifname in json.dumps(r["expr"]) for r in table["rules"] if r["chain"] == "output")


def test_kill_switch_blocks_everything_but_the_gateway_until_deliberate_disconnect(
    helper: HelperProcess, users: Users, lab: Lab
) -> None:
    capture = Capture(lab)
    try:
        assert_open(lab, capture)  # the probes and the capture work at all
        assert our_table(lab)["chains"] == {}
        asyncio.run(_session(helper, users, lab, capture))
        assert our_table(lab)["chains"] == {}
        assert_open(lab, capture)
    finally:
        capture.close()


async def _session(helper: HelperProcess, users: Users, lab: Lab, capture: Capture) -> None:
    # Two gateways (a phonebook): the kill switch lets the VPN reach both, over IPv4 and IPv6.
    profile = make_profile(
        "Locked", "flaky-2", more_gateways=(lab.gateway6,), kill_switch=True, reconnect_delay=1.0
    )  # up for 2 s, then reconnecting for 2 x 1 s; a round of probes takes about 0.4 s
    async with await open_client(helper, users.alice) as client:
        await client.subscribe()
        sid = (await client.connect(profile, RIGHT))["id"]
        checked: list[str] = []
        while len(checked) < 3:
            event = await client.next_event(timeout=15)
            assert event is not None
            if event.get("session") != sid or event["event"] != "state":
                continue
            state, ifname = event["state"], event["info"]["ifname"]
            if state == "connected" and not checked:
                table = our_table(lab)
                assert {c["hook"]: c["policy"] for c in table["chains"].values()} == {
                    "output": "drop", "input": "drop", "forward": "drop"}  # fmt: skip
                assert tunnel_allowed(table, ifname)
                assert in_ns(lab.a, "ping", "-c", "1", "-W", "1", "198.51.100.9").returncode == 0  # via the tunnel
                assert_blocked(lab, capture)

                checked.append("up")
            elif state == "reconnecting" and checked == ["up"]:
                table = our_table(lab)
                assert table["chains"], "the kill switch must stay while reconnecting"
                assert not any(r["chain"] == "output" and "cwt" in json.dumps(r["expr"]) for r in table["rules"])
                assert_blocked(lab, capture)
                checked.append("reconnecting")
            elif state == "connected" and checked == ["up", "reconnecting"]:
                assert tunnel_allowed(our_table(lab), ifname)
                assert_blocked(lab, capture)
                checked.append("up again")
        final = await client.disconnect(sid)
        assert final["state"] == "disconnected"


def test_kill_switch_stays_after_giving_up_until_disconnect(helper: HelperProcess, users: Users, lab: Lab) -> None:
    """Fail-closed: a session that cannot connect keeps blocking until the user says so."""

    async def body() -> None:
        async with await open_client(helper, users.bob) as client:
            await client.subscribe()
            sid = (await client.connect(make_profile("Locked out", kill_switch=True), {"password": "wrong"}))["id"]
            while True:
                event = await client.next_event(timeout=10)
                assert event is not None
                if event.get("session") == sid and event["event"] == "state" and event["state"] == "failed":
                    break
            assert "kill switch" in event["message"]
            assert our_table(lab)["chains"]
            assert not send_udp(lab, lab.other, 9)
            assert [s["state"] for s in await client.list_sessions()] == ["failed"]
            assert (await client.disconnect(sid))["state"] == "disconnected"
            assert our_table(lab)["chains"] == {}
            assert send_udp(lab, lab.other, 9)

    asyncio.run(body())
