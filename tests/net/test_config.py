"""LinkConfigurator against a real kernel: every change is read back, and revert leaves no trace."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
from pyroute2 import AsyncIPRoute

from tests.net.conftest import NsPair
from wizard.net import netns
from wizard.net.config import (
    ROUTE_PROTO,
    AppliedChange,
    ChangeKind,
    InterfaceAddress,
    LinkConfigurator,
    TunnelSettings,
    revert_changes,
)
from wizard.net.errors import NetConfigError
from wizard.net.tun import TunDevice

pytestmark = pytest.mark.root
T = TypeVar("T")

# One route as read back: (family, "dst/len", output interface name, gateway or "", protocol, table)
Route = tuple[int, str, str, str, int, int]


async def routes(ipr: Any) -> set[Route]:
    names = {link["index"]: link.get("ifname") async for link in await ipr.get_links()}
    found = set()
    for family in (2, 10):
        async for r in await ipr.get_routes(family=family, table=None):
            dst = r.get("dst") or ("0.0.0.0" if family == 2 else "::")
            found.add(
                (family, f"{dst}/{r['dst_len']}", names.get(r.get("oif"), "?"), r.get("gateway") or "",
                 r["proto"], r["table"])
            )  # fmt: skip
    return found


async def addresses(ipr: Any, index: int) -> set[tuple[str, str, int]]:
    return {
        (a.get("local") or "", a.get("address") or "", a["prefixlen"]) async for a in await ipr.get_addr(index=index)
    }


async def link_state(ipr: Any, ifname: str) -> tuple[bool, int]:
    link = (await ipr.link("get", ifname=ifname))[0]
    return bool(link["flags"] & 1), int(link.get("mtu"))


def ours(found: set[Route]) -> set[tuple[int, str, str, str]]:
    return {r[:4] for r in found if r[4] == ROUTE_PROTO}


def in_ns(name: str, body: Callable[[], Awaitable[T]]) -> T:
    """Run ``body`` in a fresh event loop with this thread inside namespace ``name``."""
    with netns.entered(name):
        return asyncio.run(body())


def test_full_tunnel_apply_read_back_revert(ns_pair: NsPair) -> None:
    async def body() -> None:
        with TunDevice.create("cwtest%d") as tun:
            async with AsyncIPRoute() as ipr:
                before_routes = await routes(ipr)
                index = tun.ifindex
                before_addrs = await addresses(ipr, index)
                assert await link_state(ipr, tun.name) == (False, 1500)

                journal: list[dict[str, Any]] = []
                cfg = LinkConfigurator(ipr, on_change=lambda c: journal.append(c.to_json()))
                settings = TunnelSettings(
                    addresses=(
                        InterfaceAddress("10.99.0.10", peer="10.99.0.1"),
                        InterfaceAddress("fd00:77::10", prefixlen=64),
                    ),
                    mtu=1400,
                    full_tunnel=True,
                    split_prefixes=("10.50.0.0/16",),
                    vpn_gateway="198.51.100.7",
                )
                await cfg.apply(tun.name, settings)

                assert await link_state(ipr, tun.name) == (True, 1400)
                assert {a for a in await addresses(ipr, index) if not a[1].startswith("fe80:")} == {
                    ("10.99.0.10", "10.99.0.1", 32),  # IFA_LOCAL ours, IFA_ADDRESS the peer: like ppp0
                    ("", "fd00:77::10", 64),  # IPv6 without a peer reads back as IFA_ADDRESS only
                }
                t = tun.name
                assert ours(await routes(ipr)) == {
                    (2, "198.51.100.7/32", ns_pair.a_if, ns_pair.default_gw),
                    (2, "0.0.0.0/1", t, ""),
                    (2, "128.0.0.0/1", t, ""),
                    (10, "::/1", t, ""),
                    (10, "8000::/1", t, ""),
                    (2, "10.50.0.0/16", t, ""),
                }
                # The kernel now really routes through the tunnel, except for the VPN gateway.
                assert (await ipr.route("get", dst="8.8.8.8"))[0].get("oif") == index
                assert (await ipr.route("get", dst="2001:4860::8888"))[0].get("oif") == index
                gw_route = (await ipr.route("get", dst="198.51.100.7"))[0]
                assert gw_route.get("gateway") == ns_pair.default_gw
                assert [c.kind for c in cfg.changes] == [
                    ChangeKind.MTU,
                    ChangeKind.LINK_UP,
                    ChangeKind.ADDRESS,
                    ChangeKind.ADDRESS,
                    ChangeKind.ROUTE,
                    ChangeKind.ROUTE,
                    ChangeKind.ROUTE,
                    ChangeKind.ROUTE,
                    ChangeKind.ROUTE,
                    ChangeKind.ROUTE,
                ]
                assert [AppliedChange.from_json(json.loads(json.dumps(j))) for j in journal] == list(cfg.changes)

                assert await cfg.revert() == []
                assert cfg.changes == ()
                assert await routes(ipr) == before_routes
                assert await addresses(ipr, index) == before_addrs
                assert await link_state(ipr, tun.name) == (False, 1500)

    in_ns(ns_pair.a, body)


def test_split_tunnel_on_link_gateway_and_existing_route(ns_pair: NsPair) -> None:
    async def body() -> None:
        with TunDevice.create("cwtest%d") as tun:
            async with AsyncIPRoute() as ipr:
                # Someone else's route to a split prefix: we must neither fail nor remove it.
                veth = (await ipr.link_lookup(ifname=ns_pair.a_if))[0]
                await ipr.route("add", dst="10.60.0.0", dst_len=16, oif=veth, gateway=ns_pair.default_gw)
                before = await routes(ipr)
                cfg = LinkConfigurator(ipr)
                await cfg.apply(
                    tun.name,
                    TunnelSettings(
                        addresses=(InterfaceAddress("10.99.0.10", peer="10.99.0.1"),),
                        full_tunnel=False,
                        split_prefixes=("10.50.0.0/16", "10.60.0.0/16", "2001:db8:99::/48"),
                        vpn_gateway=ns_pair.b_addr,  # on the veth's subnet: device route, no gateway
                    ),
                )
                assert ours(await routes(ipr)) == {
                    (2, f"{ns_pair.b_addr}/32", ns_pair.a_if, ""),
                    (2, "10.50.0.0/16", tun.name, ""),
                    (10, "2001:db8:99::/48", tun.name, ""),
                }
                assert (await ipr.route("get", dst="8.8.8.8"))[0].get("gateway") == ns_pair.default_gw
                assert await cfg.revert() == []
                assert await routes(ipr) == before

    in_ns(ns_pair.a, body)


def test_failed_apply_reverts_everything(ns_pair: NsPair) -> None:
    async def body() -> None:
        with TunDevice.create("cwtest%d") as tun:
            async with AsyncIPRoute() as ipr:
                before = (await routes(ipr), await addresses(ipr, tun.ifindex), await link_state(ipr, tun.name))
                cfg = LinkConfigurator(ipr)
                with pytest.raises(ValueError):
                    await cfg.apply(
                        tun.name,
                        TunnelSettings(
                            addresses=(InterfaceAddress("10.99.0.10", peer="10.99.0.1"),),
                            mtu=1300,
                            vpn_gateway="198.51.100.7",
                            split_prefixes=("10.50.0.0/16", "not-a-prefix"),
                        ),
                    )
                assert cfg.changes == ()
                after = (await routes(ipr), await addresses(ipr, tun.ifindex), await link_state(ipr, tun.name))
                assert after == before

    in_ns(ns_pair.a, body)


def test_journal_replay_after_crash_removes_the_host_route(ns_pair: NsPair) -> None:
    """The helper died: the TUN went with its fd, only the gateway host route on the veth is left."""

    async def body() -> None:
        async with AsyncIPRoute() as ipr:
            before = await routes(ipr)
            journal: list[str] = []
            tun = TunDevice.create("cwtest%d")
            cfg = LinkConfigurator(ipr, on_change=lambda c: journal.append(json.dumps(c.to_json())))
            await cfg.apply(
                tun.name,
                TunnelSettings(
                    addresses=(InterfaceAddress("10.99.0.10", peer="10.99.0.1"),), vpn_gateway="198.51.100.7"
                ),
            )
            tun.close()  # "crash"
            left = ours(await routes(ipr))
            assert left == {(2, "198.51.100.7/32", ns_pair.a_if, ns_pair.default_gw)}

        async with AsyncIPRoute() as fresh:  # the restarted helper
            changes = [AppliedChange.from_json(json.loads(line)) for line in journal]
            assert await revert_changes(fresh, changes) == []
            assert await routes(fresh) == before

    in_ns(ns_pair.a, body)


def test_gateway_route_through_the_tunnel_is_refused(ns_pair: NsPair) -> None:
    async def body() -> None:
        with TunDevice.create("cwtest%d") as tun:
            async with AsyncIPRoute() as ipr:
                cfg = LinkConfigurator(ipr)
                await cfg.set_up(tun.name)
                await cfg.add_full_tunnel_routes(tun.name)
                with pytest.raises(NetConfigError, match="already goes through the tunnel"):
                    await cfg.add_gateway_host_route("198.51.100.7", tunnel_ifname=tun.name)
                # Nothing needed for one of our own addresses.
                assert await cfg.add_gateway_host_route(ns_pair.a_addr) is None
                assert len(cfg.changes) == 3
                assert await cfg.revert() == []
                assert ours(await routes(ipr)) == set()

    in_ns(ns_pair.a, body)


def test_unchanged_settings_are_not_recorded_and_missing_link_is_explained(ns_pair: NsPair) -> None:
    async def body() -> None:
        async with AsyncIPRoute() as ipr:
            cfg = LinkConfigurator(ipr)
            assert await cfg.set_up(ns_pair.a_if) is None  # already up
            assert await cfg.set_mtu(ns_pair.a_if, 1500) is None  # already 1500
            assert cfg.changes == ()
            with pytest.raises(NetConfigError, match="does not exist"):
                await cfg.set_up("cwnosuch0")
            with pytest.raises(NetConfigError, match="MTU"):
                await cfg.set_mtu(ns_pair.a_if, 20)
            assert await link_state(ipr, ns_pair.a_if) == (True, 1500)

    in_ns(ns_pair.a, body)
