"""AppliedChange records and revert logic, without a kernel (a fake AsyncIPRoute records calls)."""

from __future__ import annotations

import asyncio
import errno
import json
from typing import Any

import pytest
from pyroute2.netlink.exceptions import NetlinkError

from wizard.net.config import ROUTE_PROTO, AppliedChange, ChangeKind, InterfaceAddress, LinkConfigurator, revert_changes

CHANGES = [
    AppliedChange(ChangeKind.MTU, "cw0", 7, mtu=1400, previous_mtu=1500),
    AppliedChange(ChangeKind.LINK_UP, "cw0", 7),
    AppliedChange(ChangeKind.ADDRESS, "cw0", 7, "10.99.0.10", 32, peer="10.99.0.1"),
    AppliedChange(ChangeKind.ADDRESS, "cw0", 7, "fd00::10", 64),
    AppliedChange(ChangeKind.ROUTE, "eth0", 2, "198.51.100.7/32", gateway="192.0.2.254"),
    AppliedChange(ChangeKind.ROUTE, "cw0", 7, "::/1"),
]


class FakeIPRoute:
    """Knows links by index; can be told to fail a (method, command) with an errno."""

    def __init__(self, links: dict[int, str], fail: dict[tuple[str, str], int] | None = None) -> None:
        self.links = links
        self.fail = fail or {}
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    async def _call(self, method: str, command: str, kwargs: dict[str, Any]) -> list[dict[str, Any]]:
        if (method, command) in self.fail:
            raise NetlinkError(self.fail[(method, command)])
        if method == "link" and command == "get":
            if kwargs["index"] not in self.links:
                raise NetlinkError(errno.ENODEV)
            return [{"index": kwargs["index"], "ifname": self.links[kwargs["index"]]}]
        self.calls.append((method, command, kwargs))
        return []

    async def link(self, command: str, **kwargs: Any) -> list[dict[str, Any]]:
        return await self._call("link", command, kwargs)

    async def addr(self, command: str, **kwargs: Any) -> list[dict[str, Any]]:
        return await self._call("addr", command, kwargs)

    async def route(self, command: str, **kwargs: Any) -> list[dict[str, Any]]:
        return await self._call("route", command, kwargs)


def test_json_round_trip_of_every_kind() -> None:
    text = json.dumps([c.to_json() for c in CHANGES])
    assert [AppliedChange.from_json(d) for d in json.loads(text)] == CHANGES
    assert json.loads(text)[0]["kind"] == "mtu"


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "route", "ifname": "cw0"},  # no ifindex
        {"kind": "route", "ifname": "cw0", "ifindex": "7"},  # wrong type
        {"kind": "route", "ifname": "cw0", "ifindex": True},  # bool is not an int here
        {"kind": "teleport", "ifname": "cw0", "ifindex": 7},
        {"kind": "route", "ifname": "cw0", "ifindex": 7, "colour": "blue"},
    ],
)
def test_from_json_rejects_malformed_records(data: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        AppliedChange.from_json(data)


def test_revert_undoes_newest_first_with_exact_requests() -> None:
    ipr = FakeIPRoute({7: "cw0", 2: "eth0"})
    assert asyncio.run(revert_changes(ipr, CHANGES)) == []
    assert ipr.calls == [
        ("route", "del", {"family": 10, "dst": "::", "dst_len": 1, "oif": 7, "table": 254, "proto": ROUTE_PROTO}),
        (
            "route",
            "del",
            {
                "family": 2,
                "dst": "198.51.100.7",
                "dst_len": 32,
                "oif": 2,
                "table": 254,
                "proto": ROUTE_PROTO,
                "gateway": "192.0.2.254",
            },
        ),
        ("addr", "del", {"index": 7, "family": 10, "local": "fd00::10", "address": "fd00::10", "prefixlen": 64}),
        ("addr", "del", {"index": 7, "family": 2, "local": "10.99.0.10", "address": "10.99.0.1", "prefixlen": 32}),
        ("link", "set", {"index": 7, "state": "down"}),
        ("link", "set", {"index": 7, "mtu": 1500}),
    ]


def test_revert_skips_gone_or_renamed_links() -> None:
    ipr = FakeIPRoute({2: "eth0", 7: "somebody-else0"})  # cw0 died, its index was reused
    assert asyncio.run(revert_changes(ipr, CHANGES)) == []
    assert [c[0] for c in ipr.calls] == ["route"]  # only the host route on eth0


def test_revert_reports_problems_and_goes_on() -> None:
    ipr = FakeIPRoute({7: "cw0", 2: "eth0"}, fail={("route", "del"): errno.EPERM})
    problems = asyncio.run(revert_changes(ipr, CHANGES))
    assert problems == [
        "could not undo the route to ::/1 on cw0: Operation not permitted",
        "could not undo the route to 198.51.100.7/32 via 192.0.2.254 on eth0: Operation not permitted",
    ]
    assert len(ipr.calls) == 4  # addresses, link state and MTU were still undone


def test_already_gone_counts_as_undone() -> None:
    ipr = FakeIPRoute({7: "cw0", 2: "eth0"}, fail={("route", "del"): errno.ESRCH, ("addr", "del"): errno.EADDRNOTAVAIL})
    assert asyncio.run(revert_changes(ipr, CHANGES)) == []


@pytest.mark.parametrize(
    "address",
    [
        InterfaceAddress("10.0.0.1", peer="fd00::1"),
        InterfaceAddress("10.0.0.1", prefixlen=33),
        InterfaceAddress("10.0.0.1", prefixlen=0),
        InterfaceAddress("not-an-address"),
    ],
)
def test_bad_addresses_are_refused_before_touching_the_kernel(address: InterfaceAddress) -> None:
    ipr = FakeIPRoute({7: "cw0"})
    with pytest.raises(ValueError):
        asyncio.run(LinkConfigurator(ipr).add_address("cw0", address))
    assert ipr.calls == []


def test_route_with_gateway_of_other_family_is_refused() -> None:
    ipr = FakeIPRoute({7: "cw0"})
    with pytest.raises(ValueError):
        asyncio.run(LinkConfigurator(ipr).add_route("cw0", "10.0.0.0/8", gateway="fd00::1"))
    with pytest.raises(ValueError):
        asyncio.run(LinkConfigurator(ipr).add_route("cw0", "10.0.0.1/8"))  # host bits set
    assert ipr.calls == []
