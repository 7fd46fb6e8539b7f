"""The helper's :class:`~wizard.stacks.base.NetworkApplier`: link, DNS and kill switch, all journaled.

A stack hands over :class:`NetworkSettings` once its link is up; this turns them into addresses,
MTU and routes (``LinkConfigurator``, every change appended to the session's journal as it happens),
DNS (systemd-resolved or resolv.conf) and a kill switch that lets the new tunnel interface through.
``revert()`` undoes link and DNS changes but keeps the kill switch (reconnects stay protected); the
session releases the kill switch only on a deliberate disconnect.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wizard.net.config import LinkConfigurator
from wizard.net.dns import DnsError, DnsSettings, ResolvConfDns, ResolvedDns, restore_resolv_conf
from wizard.net.errors import NetError
from wizard.net.journal import LinkChange, ResolvConfEdit, ResolvedLink, SessionJournal
from wizard.net.killswitch import KillSwitch
from wizard.stacks.applier import tunnel_settings
from wizard.stacks.base import NetworkSettings, StackError

log = logging.getLogger("wizard.helper.applier")


def _default_ipr() -> Any:
    from pyroute2 import AsyncIPRoute

    return AsyncIPRoute()


@dataclass
class NetworkServices:
    """What all sessions share: the DNS method and the single kill switch table."""

    dns_mode: str = "off"  # "resolved", "resolv-conf" or "off"
    resolv_conf: ResolvConfDns = field(default_factory=ResolvConfDns)
    resolved: ResolvedDns = field(default_factory=ResolvedDns)
    killswitch: KillSwitch = field(default_factory=KillSwitch)
    ipr_factory: Callable[[], Any] = _default_ipr
    resolv_conf_owner: str | None = None  # one session at a time may replace resolv.conf


def dns_settings(settings: NetworkSettings) -> DnsSettings:
    return DnsSettings(
        servers=settings.dns_servers,
        search_domains=settings.search_domains,
        split_domains=settings.split_dns_domains,
        default_route=settings.full_tunnel,
    )


class HelperApplier:
    """Applies one session's network settings; one instance per connection attempt."""

    def __init__(self, owner: str, journal: SessionJournal, services: NetworkServices) -> None:
        self.owner = owner
        self.journal = journal
        self.services = services
        self.settings: NetworkSettings | None = None
        self._ipr: Any = None
        self._link: LinkConfigurator | None = None
        self._dns: ResolvConfEdit | ResolvedLink | None = None
        # The stack and the session may both revert (e.g. close() racing the end of wait_closed()):
        # one at a time, or one would close the netlink socket the other is waiting on.
        self._lock = asyncio.Lock()

    async def apply(self, settings: NetworkSettings) -> None:
        """Configure everything; on failure undo it all and raise StackError (phase "network")."""
        async with self._lock:
            if self._link is not None:
                await self._revert()
            try:
                await self._apply(settings)
            except (NetError, ValueError, OSError) as exc:
                await self._revert()
                reason = exc.reason if isinstance(exc, NetError) else str(exc)
                raise StackError(f"could not configure the network for the tunnel: {reason}", phase="network") from exc
            except BaseException:
                await self._revert()
                raise
            self.settings = settings

    async def _apply(self, settings: NetworkSettings) -> None:
        self._ipr = self.services.ipr_factory()
        self._link = LinkConfigurator(self._ipr, on_change=self.journal.record_link_change)
        await self._link.apply(settings.ifname, tunnel_settings(settings))
        dns = dns_settings(settings)
        mode = self.services.dns_mode
        if not dns.empty and mode == "resolv-conf":
            owner = self.services.resolv_conf_owner
            if owner is not None and owner != self.owner:
                # Stacking edits would restore the wrong file when sessions end out of order.
                log.warning("session %s: resolv.conf already holds session %s's DNS; leaving it", self.owner, owner)
            else:
                self._dns = self.services.resolv_conf.apply(dns, self.journal)
                self.services.resolv_conf_owner = self.owner
        elif not dns.empty and mode == "resolved":
            ifindex = int((await self._ipr.link("get", ifname=settings.ifname))[0]["index"])
            self._dns = await self.services.resolved.apply(settings.ifname, ifindex, dns, self.journal)
        await self.services.killswitch.set_tunnels(self.owner, (settings.ifname,))

    async def revert(self) -> list[str]:
        """Undo link and DNS changes (idempotent). Returns plain-language problems."""
        async with self._lock:
            return await self._revert()

    async def _revert(self) -> list[str]:
        problems: list[str] = []
        if isinstance(self._dns, ResolvConfEdit):
            problem = restore_resolv_conf(self._dns)
            if problem:
                problems.append(problem)
            if self.services.resolv_conf_owner == self.owner:
                self.services.resolv_conf_owner = None
        elif isinstance(self._dns, ResolvedLink):
            problem = await self.services.resolved.revert(self._dns)
            if problem:
                problems.append(problem)
        if self._dns is not None:
            self.journal.discard(self._dns)
            self._dns = None
        if self._link is not None:
            try:
                problems += await self._link.revert()
            except Exception as exc:  # netlink trouble: report, the journal keeps the entries
                problems.append(f"could not undo the network changes: {exc}")
            else:
                self.journal.discard_where(LinkChange)
            self._link = None
        if self._ipr is not None:
            self._ipr.close()
            self._ipr = None
        try:
            await self.services.killswitch.set_tunnels(self.owner, ())
        except NetError as exc:
            problems.append(exc.reason)
        self.settings = None
        for problem in problems:
            log.warning("session %s: %s", self.owner, problem)
        return problems


__all__ = ["DnsError", "HelperApplier", "NetworkServices", "dns_settings", "tunnel_settings"]
