"""Addresses, MTU and routes for a tunnel interface, applied so that they can be undone exactly.

Every change that succeeds is recorded as an :class:`AppliedChange` (JSON-serialisable, so the
helper's journal can persist it and a restarted helper can undo a crashed session's changes);
``revert()`` removes exactly those, newest first, and nothing else. Routes carry our own routing
protocol number (``ROUTE_PROTO``) so ``ip route show proto 119`` finds any leftovers.

Uses pyroute2's ``AsyncIPRoute``: the synchronous ``IPRoute`` cannot run inside an asyncio loop.
pyroute2 silently ignores misspelled keyword arguments, so tests read every effect back.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from pyroute2.netlink.exceptions import NetlinkError

from wizard.net.errors import NetConfigError

ROUTE_PROTO = 119  # rtm_protocol of our routes; unassigned in iproute2's rt_protos
RT_TABLE_MAIN = 254
RTN_LOCAL = 2
_GONE = (errno.ENODEV, errno.ESRCH, errno.ENOENT, errno.EADDRNOTAVAIL)


FULL_TUNNEL_V4 = ("0.0.0.0/1", "128.0.0.0/1")
FULL_TUNNEL_V6 = ("::/1", "8000::/1")

__all__ = [
    "AppliedChange",
    "ChangeKind",
    "InterfaceAddress",
    "LinkConfigurator",
    "NetConfigError",
    "TunnelSettings",
    "revert_changes",
]


class ChangeKind(StrEnum):
    LINK_UP = "link_up"
    MTU = "mtu"
    ADDRESS = "address"
    ROUTE = "route"
    RULE = "rule"  # a policy routing rule: not bound to a device


@dataclass(frozen=True)
class AppliedChange:
    """One change we made to the kernel's network state, with what it takes to undo it."""

    kind: ChangeKind
    ifname: str
    ifindex: int
    address: str = ""  # ADDRESS: our local address; ROUTE: destination network "a.b.c.d/n"
    prefixlen: int = 0  # ADDRESS only
    peer: str = ""  # ADDRESS: point-to-point peer, "" when none
    gateway: str = ""  # ROUTE: next hop, "" for a route straight into the device
    mtu: int = 0  # MTU: the value we set
    previous_mtu: int = 0  # MTU: the value to restore
    table: int = RT_TABLE_MAIN  # ROUTE and RULE
    source: str = ""  # ROUTE: preferred source address ("" for the kernel's choice)
    fwmark: int = 0  # RULE: packets carrying this mark skip the rule (they are the tunnel's own)
    priority: int = 0  # RULE

    def to_json(self) -> dict[str, str | int]:
        data: dict[str, str | int] = asdict(self)
        data["kind"] = self.kind.value
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AppliedChange:
        """Inverse of ``to_json``; raises ValueError on anything malformed."""
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fields in a network change record: {sorted(unknown)}")
        kwargs: dict[str, Any] = {}
        for name in known:
            if name not in data:
                continue
            value = data[name]
            want = (
                int if name in ("ifindex", "prefixlen", "mtu", "previous_mtu", "table", "fwmark", "priority") else str
            )
            if type(value) is not want:
                raise ValueError(f"field {name!r} of a network change record must be {want.__name__}")
            kwargs[name] = value
        if "kind" not in kwargs or "ifname" not in kwargs or "ifindex" not in kwargs:
            raise ValueError("a network change record needs kind, ifname and ifindex")
        kwargs["kind"] = ChangeKind(kwargs["kind"])
        return cls(**kwargs)


@dataclass(frozen=True)
class InterfaceAddress:
    """An address for the tunnel; ``peer`` makes it point-to-point (like ppp0)."""

    local: str
    prefixlen: int | None = None  # default: 32 for IPv4, 128 for IPv6
    peer: str | None = None


@dataclass(frozen=True)
class TunnelSettings:
    """What a connected session asks for. Full tunnel routes IPv6 too when an IPv6 address is given."""

    addresses: tuple[InterfaceAddress, ...] = ()
    mtu: int | None = None
    full_tunnel: bool = True
    split_prefixes: tuple[str, ...] = ()
    vpn_gateway: str | None = None  # its traffic must keep using the old route (host route)
    policy: PolicyRouting | None = None  # split prefixes go into a table of their own, behind a rule


@dataclass(frozen=True)
class PolicyRouting:
    """Route the split prefixes in ``table``, used by every packet not marked ``fwmark``.

    Host-to-host IPsec needs it: the gateway's own address goes through the tunnel, while our
    IKE and ESP packets to that same address (sent from sockets marked ``fwmark``) must not.
    """

    table: int
    fwmark: int
    priority: int
    source: str  # our real address, so tunnelled packets carry it


@dataclass
class LinkConfigurator:
    """Applies changes through an ``AsyncIPRoute`` opened in the right namespace; ``revert()`` undoes."""

    ipr: Any  # pyroute2.AsyncIPRoute (untyped library)
    on_change: Callable[[AppliedChange], None] | None = None  # e.g. the journal's append
    _changes: list[AppliedChange] = field(default_factory=list, init=False, repr=False)

    @property
    def changes(self) -> tuple[AppliedChange, ...]:
        return tuple(self._changes)

    def _record(self, change: AppliedChange) -> AppliedChange:
        self._changes.append(change)
        if self.on_change is not None:
            self.on_change(change)
        return change

    async def _link(self, ifname: str) -> Any:
        try:
            links = await self.ipr.link("get", ifname=ifname)
        except NetlinkError as exc:
            if exc.code in _GONE:
                raise NetConfigError(f"the network interface {ifname} does not exist") from exc
            raise
        return links[0]

    async def _index(self, ifname: str) -> int:
        return int((await self._link(ifname))["index"])

    async def set_up(self, ifname: str) -> AppliedChange | None:
        """Bring the link up; recorded only if it was down (so revert leaves others' links alone)."""
        link = await self._link(ifname)
        if link["flags"] & 1:
            return None
        await self.ipr.link("set", index=link["index"], state="up")
        return self._record(AppliedChange(ChangeKind.LINK_UP, ifname, int(link["index"])))

    async def set_mtu(self, ifname: str, mtu: int) -> AppliedChange | None:
        link = await self._link(ifname)
        previous = int(link.get("mtu"))
        if previous == mtu:
            return None
        try:
            await self.ipr.link("set", index=link["index"], mtu=mtu)
        except NetlinkError as exc:
            raise NetConfigError(f"could not set the MTU of {ifname} to {mtu}: {exc.args[-1]}") from exc
        return self._record(AppliedChange(ChangeKind.MTU, ifname, int(link["index"]), mtu=mtu, previous_mtu=previous))

    async def add_address(self, ifname: str, address: InterfaceAddress) -> AppliedChange:
        local = ipaddress.ip_address(address.local)
        peer = ipaddress.ip_address(address.peer) if address.peer else None
        if peer is not None and peer.version != local.version:
            raise ValueError(f"address {local} and peer {peer} are of different IP versions")
        prefixlen = address.prefixlen if address.prefixlen is not None else local.max_prefixlen
        if not 0 < prefixlen <= local.max_prefixlen:
            raise ValueError(f"bad prefix length {prefixlen} for {local}")
        index = await self._index(ifname)
        change = AppliedChange(ChangeKind.ADDRESS, ifname, index, str(local), prefixlen, peer=str(peer) if peer else "")
        try:
            await self.ipr.addr("add", **_addr_request(change))
        except NetlinkError as exc:
            raise NetConfigError(f"could not add address {local} to {ifname}: {exc.args[-1]}") from exc
        return self._record(change)

    async def add_route(
        self, ifname: str, destination: str, gateway: str | None = None, *, table: int = RT_TABLE_MAIN, source: str = ""
    ) -> AppliedChange | None:
        """Route ``destination`` via ``ifname`` (and ``gateway``). None if an equal route exists."""
        net = ipaddress.ip_network(destination)
        via = ipaddress.ip_address(gateway) if gateway else None
        if via is not None and via.version != net.version:
            raise ValueError(f"gateway {via} cannot route {net}")
        index = await self._index(ifname)
        change = AppliedChange(
            ChangeKind.ROUTE,
            ifname,
            index,
            address=str(net),
            gateway=str(via) if via else "",
            table=table,
            source=source,
        )
        try:
            await self.ipr.route("add", **_route_request(change))
        except NetlinkError as exc:
            if exc.code == errno.EEXIST:
                return None  # someone else's route: not ours to remove later
            raise NetConfigError(f"could not add a route to {net} via {ifname}: {exc.args[-1]}") from exc
        return self._record(change)

    async def add_policy_rule(self, policy: PolicyRouting, family: int = socket.AF_INET) -> AppliedChange:
        """``not fwmark M lookup T``: everything but the tunnel's own packets uses ``policy.table``."""
        change = AppliedChange(
            ChangeKind.RULE,
            "",
            0,
            address="::/0" if family == socket.AF_INET6 else "0.0.0.0/0",
            table=policy.table,
            fwmark=policy.fwmark,
            priority=policy.priority,
        )
        try:
            await self.ipr.rule("add", **_rule_request(change))
        except NetlinkError as exc:
            raise NetConfigError(
                f"could not add the policy routing rule for table {policy.table}: {exc.args[-1]}"
            ) from exc
        return self._record(change)

    async def add_full_tunnel_routes(self, ifname: str, ipv6: bool = False) -> list[AppliedChange]:
        """Two /1 routes per family: more specific than any default route, which stays untouched."""
        prefixes = FULL_TUNNEL_V4 + (FULL_TUNNEL_V6 if ipv6 else ())
        return await self.add_split_routes(ifname, prefixes)

    async def add_split_routes(
        self, ifname: str, prefixes: Iterable[str], policy: PolicyRouting | None = None
    ) -> list[AppliedChange]:
        added = []
        for prefix in prefixes:
            change = await self.add_route(
                ifname, prefix, table=policy.table if policy else RT_TABLE_MAIN, source=policy.source if policy else ""
            )
            if change is not None:
                added.append(change)
        return added

    async def add_gateway_host_route(self, vpn_gateway: str, tunnel_ifname: str | None = None) -> AppliedChange | None:
        """Pin the VPN server's address to the route it uses now (normally the old default route).

        Call before adding tunnel routes. Returns None when nothing is needed (local address) or a
        host route already exists.
        """
        target = ipaddress.ip_address(vpn_gateway)
        try:
            found = await self.ipr.route("get", dst=str(target))
        except NetlinkError as exc:
            raise NetConfigError(f"there is no route to the VPN server {target}: {exc.args[-1]}") from exc
        route = found[0]
        if route["type"] == RTN_LOCAL:
            return None
        oif = route.get("oif")
        if oif is None:
            raise NetConfigError(f"the route to the VPN server {target} has no output interface")
        ifname = str((await self.ipr.link("get", index=oif))[0].get("ifname"))
        if tunnel_ifname is not None and ifname == tunnel_ifname:
            raise NetConfigError(f"the route to the VPN server {target} already goes through the tunnel")
        host = ipaddress.ip_network(f"{target}/{target.max_prefixlen}")
        return await self.add_route(ifname, str(host), route.get("gateway"))

    async def apply(self, ifname: str, settings: TunnelSettings) -> None:
        """Everything for one session, in a safe order. On failure, undo it all and raise."""
        try:
            if settings.mtu is not None:
                await self.set_mtu(ifname, settings.mtu)
            await self.set_up(ifname)
            for address in settings.addresses:
                await self.add_address(ifname, address)
            if settings.vpn_gateway is not None:
                await self.add_gateway_host_route(settings.vpn_gateway, tunnel_ifname=ifname)
            if settings.full_tunnel:
                has_v6 = any(ipaddress.ip_address(a.local).version == 6 for a in settings.addresses)
                await self.add_full_tunnel_routes(ifname, ipv6=has_v6)
            await self.add_split_routes(ifname, settings.split_prefixes, settings.policy)
            if settings.policy is not None:
                await self.add_policy_rule(settings.policy)
        except BaseException:
            await self.revert()
            raise

    async def revert(self) -> list[str]:
        """Undo our changes, newest first. Returns plain-language problems (empty when all went)."""
        problems = await revert_changes(self.ipr, self._changes)
        self._changes.clear()
        return problems


def _addr_request(change: AppliedChange) -> dict[str, Any]:
    # IFA_LOCAL is our address, IFA_ADDRESS the peer's (or ours again when there is no peer).
    return {
        "index": change.ifindex,
        "family": socket.AF_INET6 if ":" in change.address else socket.AF_INET,
        "local": change.address,
        "address": change.peer or change.address,
        "prefixlen": change.prefixlen,
    }


def _route_request(change: AppliedChange) -> dict[str, Any]:
    net = ipaddress.ip_network(change.address)
    request: dict[str, Any] = {
        "family": socket.AF_INET6 if net.version == 6 else socket.AF_INET,
        "dst": str(net.network_address),
        "dst_len": net.prefixlen,
        "oif": change.ifindex,
        "table": change.table,
        "proto": ROUTE_PROTO,
    }
    if change.gateway:
        request["gateway"] = change.gateway
    if change.source:
        request["prefsrc"] = change.source
    return request


FIB_RULE_INVERT = 0x2


def _rule_request(change: AppliedChange) -> dict[str, Any]:
    return {
        "family": socket.AF_INET6 if ":" in change.address else socket.AF_INET,
        "table": change.table,
        "priority": change.priority,
        "fwmark": change.fwmark,
        "fwmask": 0xFFFFFFFF,
        "flags": FIB_RULE_INVERT,
    }


async def revert_changes(ipr: Any, changes: Sequence[AppliedChange]) -> list[str]:
    """Undo ``changes`` newest first; what is already gone (e.g. the TUN closed) counts as undone.

    Also used on helper start-up with changes read back from the journal.
    """
    problems: list[str] = []
    for change in reversed(changes):
        try:
            if change.kind is ChangeKind.RULE:
                await ipr.rule("del", **_rule_request(change))
                continue
            if not await _same_link(ipr, change):
                continue  # the interface is gone (or its index now names another): nothing to undo
            if change.kind is ChangeKind.ROUTE:
                await ipr.route("del", **_route_request(change))
            elif change.kind is ChangeKind.ADDRESS:
                await ipr.addr("del", **_addr_request(change))
            elif change.kind is ChangeKind.MTU:
                await ipr.link("set", index=change.ifindex, mtu=change.previous_mtu)
            elif change.kind is ChangeKind.LINK_UP:
                await ipr.link("set", index=change.ifindex, state="down")
        except NetlinkError as exc:
            if exc.code not in _GONE:
                problems.append(f"could not undo {_describe(change)}: {exc.args[-1]}")
    return problems


async def _same_link(ipr: Any, change: AppliedChange) -> bool:
    try:
        links = await ipr.link("get", index=change.ifindex)
    except NetlinkError as exc:
        if exc.code in _GONE:
            return False
        raise
    return bool(links) and links[0].get("ifname") == change.ifname


def _describe(change: AppliedChange) -> str:
    if change.kind is ChangeKind.RULE:
        return f"the policy routing rule for table {change.table}"
    if change.kind is ChangeKind.ROUTE:
        via = f" via {change.gateway}" if change.gateway else ""
        return f"the route to {change.address}{via} on {change.ifname}"
    if change.kind is ChangeKind.ADDRESS:
        return f"the address {change.address} on {change.ifname}"
    if change.kind is ChangeKind.MTU:
        return f"the MTU of {change.ifname}"
    return f"bringing {change.ifname} up"
