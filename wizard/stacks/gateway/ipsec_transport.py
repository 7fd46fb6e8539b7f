"""Host-to-host IPsec on the gateway: which service a Quick Mode asks for, and the routing around it.

Phase 1 of a pre-shared-key client looks the same for L2TP/IPsec and for host-to-host transport
mode; the Quick Mode IDs tell them apart (UDP 1701, or every protocol between the two hosts).

For ``ipsec_transport`` the gateway does what the client does, in reverse: decapsulated packets
are written into a TUN device, so the gateway's kernel receives them from the client's own
address; the client's /32 is routed into that device in :data:`GATEWAY_TABLE`, behind the rule
``not fwmark GATEWAY_FWMARK lookup GATEWAY_TABLE``, so everything the gateway sends to the client
is read back and protected, except the IKE and ESP packets, whose sockets carry the mark. The rule
is shared by all transport clients: added with the first, removed with the last.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Collection
from typing import Any

from pyroute2 import AsyncIPRoute

from wizard.engine.ike.v1.events import ChildSA
from wizard.engine.ike.v1.identities import TrafficSelector
from wizard.net.config import LinkConfigurator, PolicyRouting

UDP = 17
# Not the client's 0x6377: a gateway host may also run our client towards another gateway.
GATEWAY_FWMARK = 0x6367
GATEWAY_TABLE = 0x6367
GATEWAY_RULE_PRIORITY = 0x6367


def _host_any(ts: TrafficSelector) -> bool:
    return ts.start == ts.end and ts.protocol == 0 and ts.port == 0


def responder_selector(local: str, services: Collection[str], l2tp_port: int) -> TrafficSelector:
    """IDcr a pre-shared-key client may ask for: UDP to our L2TP port, or (host-to-host) anything."""
    if "ipsec_transport" in services:
        return TrafficSelector.host(local)
    return TrafficSelector.host(local, UDP, l2tp_port)


def quick_mode_service(child: ChildSA, services: Collection[str], l2tp_port: int) -> str | None:
    """The service a negotiated transport SA is for, or None when the gateway does not serve it."""
    if child.mode != "transport":
        return None
    local, remote = child.local_ts, child.remote_ts
    if "l2tp_ipsec" in services and local.protocol == UDP and local.port == l2tp_port:
        return "l2tp_ipsec"  # whatever the client's own side says (UDP, any port, or all protocols)
    if "ipsec_transport" in services and _host_any(local) and _host_any(remote):
        return "ipsec_transport"
    return None


def refusal(child: ChildSA, services: Collection[str]) -> str:
    """Why a transport SA fits no service, in plain words for the log."""
    served = []
    if "l2tp_ipsec" in services:
        served.append("L2TP/IPsec (UDP 1701)")
    if "ipsec_transport" in services:
        served.append("host-to-host transport mode (all protocols)")
    return (
        f"the client asked to protect {child.remote_ts} <-> {child.local_ts}, "
        f"but this gateway serves only {' and '.join(served) or 'other services'}"
    )


class _Netlink:
    """An ``AsyncIPRoute`` and a :class:`LinkConfigurator` on it, closed together."""

    def __init__(self) -> None:
        self.ipr: Any = None
        self.configurator: LinkConfigurator | None = None

    async def open(self) -> LinkConfigurator:
        if self.configurator is None:
            self.ipr = AsyncIPRoute()
            await self.ipr.__aenter__()
            self.configurator = LinkConfigurator(self.ipr)
        return self.configurator

    async def revert(self) -> list[str]:
        problems: list[str] = []
        if self.configurator is not None:
            problems = await self.configurator.revert()
        if self.ipr is not None:
            with contextlib.suppress(Exception):
                await self.ipr.__aexit__(None, None, None)
        self.ipr = self.configurator = None
        return problems


class SharedPolicyRule:
    """The one ``not fwmark`` rule every transport client's route depends on, counted by its users."""

    def __init__(self) -> None:
        self.policy = PolicyRouting(GATEWAY_TABLE, GATEWAY_FWMARK, GATEWAY_RULE_PRIORITY, source="")
        self.users = 0
        self._lock = asyncio.Lock()
        self._netlink = _Netlink()

    async def acquire(self) -> None:
        async with self._lock:
            if self.users == 0:
                configurator = await self._netlink.open()
                try:
                    await configurator.add_policy_rule(self.policy)
                except BaseException:
                    await self._netlink.revert()
                    raise
            self.users += 1

    async def release(self, everyone: bool = False) -> list[str]:
        """One user fewer (``everyone``: none left); the rule goes with the last."""
        async with self._lock:
            if self.users == 0:
                return []
            self.users = 0 if everyone else self.users - 1
            return await self._netlink.revert() if self.users == 0 else []


class TransportRoute:
    """One client's route into its TUN device (MTU, link up, its /32 in the table), and the rule held."""

    def __init__(self, rule: SharedPolicyRule, client: str, local: str) -> None:
        self.rule = rule
        self.client = client
        self.local = local
        self._netlink = _Netlink()
        self._holds_rule = False

    async def apply(self, ifname: str, mtu: int) -> None:
        """Raises NetError (after undoing what it did) when the kernel refuses a step."""
        try:
            configurator = await self._netlink.open()
            await configurator.set_mtu(ifname, mtu)
            await configurator.set_up(ifname)
            await configurator.add_route(ifname, f"{self.client}/32", table=GATEWAY_TABLE, source=self.local)
            await self.rule.acquire()
            self._holds_rule = True
        except BaseException:
            await self.revert()
            raise

    async def revert(self) -> list[str]:
        problems: list[str] = []
        if self._holds_rule:
            self._holds_rule = False
            problems += await self.rule.release()
        problems += await self._netlink.revert()
        return problems
