"""The simplest NetworkApplier: addresses, MTU and routes through pyroute2, reverted exactly.

Used by the foreground runner and the gateway. DNS is only reported here: changing the system's
resolver belongs to the helper daemon, which journals it so a crash can be undone.
"""

from __future__ import annotations

import contextlib
import ipaddress
from typing import Any

from pyroute2 import AsyncIPRoute

from wizard.net.config import InterfaceAddress, LinkConfigurator, TunnelSettings
from wizard.stacks.base import NetworkSettings


def tunnel_settings(settings: NetworkSettings) -> TunnelSettings:
    """The stack's view (negotiated addresses, routes) in the link configurator's terms.

    Shared by the foreground runner and the helper. The host route to the VPN server is kept in
    both modes: a split route may cover the server's own address.
    """
    addresses: list[InterfaceAddress] = []
    if settings.local_ipv4:
        addresses.append(InterfaceAddress(settings.local_ipv4, 32, settings.peer_ipv4))
    if settings.local_ipv6:
        prefix = 128 if settings.peer_ipv6 else 64
        addresses.append(InterfaceAddress(settings.local_ipv6, prefix, settings.peer_ipv6))
    routes = tuple(str(ipaddress.ip_network(r, strict=False)) for r in settings.routes)
    return TunnelSettings(
        addresses=tuple(addresses),
        mtu=settings.mtu,
        full_tunnel=settings.full_tunnel,
        split_prefixes=routes,
        vpn_gateway=settings.vpn_gateway,
        policy=settings.policy,
    )


class DirectApplier:
    """Applies settings in the current network namespace and undoes exactly what it added."""

    def __init__(self) -> None:
        self._ipr: Any = None
        self._configurator: LinkConfigurator | None = None

    async def apply(self, settings: NetworkSettings) -> None:
        self._ipr = AsyncIPRoute()
        await self._ipr.__aenter__()
        self._configurator = LinkConfigurator(self._ipr)
        await self._configurator.apply(settings.ifname, tunnel_settings(settings))

    async def revert(self) -> list[str]:
        problems: list[str] = []
        if self._configurator is not None:
            problems = await self._configurator.revert()
        if self._ipr is not None:
            with contextlib.suppress(Exception):
                await self._ipr.__aexit__(None, None, None)
        self._ipr = self._configurator = None
        return problems
