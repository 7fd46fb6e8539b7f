"""The common life of a PPP-based client stack (PPTP, L2TP, later L2TP/IPsec).

A subclass only provides the carrier: open it (``_open_carrier``), send a PPP frame over it
(``_carrier_send``) and close it (``_close_carrier``), calling ``_carrier_lost`` if it dies. This
class runs PPP over it, creates the TUN device, hands the settings to the applier, and tears
everything down in reverse order whatever went wrong.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import ipaddress
import socket
from dataclasses import dataclass
from typing import TypeVar

from wizard.engine.ppp.config import PPPConfig
from wizard.engine.ppp.events import NetworkUp
from wizard.net.errors import NetError
from wizard.net.tun import TunDevice
from wizard.stacks.base import (
    Connected,
    Negotiated,
    NetworkApplier,
    NetworkSettings,
    Progress,
    StackError,
    StatusSink,
)
from wizard.stacks.ppp_link import PppLink
from wizard.stacks.tunnel_stack import TunnelStack

T = TypeVar("T")
CLOSE_GRACE = 3.0  # seconds for polite termination (LCP Terminate, StopCCN, Call-Clear)
LATE_REASON_GRACE = 0.5  # seconds to let PPP's own failure reason arrive after the carrier dropped


@dataclass(frozen=True)
class RouteChoice:
    """The routing part of a profile, as a stack needs it."""

    full_tunnel: bool = True
    routes: tuple[str, ...] = ()
    dns_servers: tuple[str, ...] = ()  # profile DNS, used with or instead of the negotiated ones
    use_pushed_dns: bool = True
    search_domains: tuple[str, ...] = ()
    split_dns_domains: tuple[str, ...] = ()


class PppStack(TunnelStack):
    protocol = "ppp"

    def __init__(
        self,
        gateway: str,
        ppp_config: PPPConfig,
        status: StatusSink,
        applier: NetworkApplier,
        *,
        routing: RouteChoice | None = None,
        connect_timeout: float = 30.0,
        tun_name: str = "cw%d",
    ) -> None:
        super().__init__(status, applier, tun_name)
        self.gateway = gateway
        self.gateway_address = ""
        self.ppp_config = ppp_config
        self.routing = routing or RouteChoice()
        self.connect_timeout = connect_timeout
        self.link: PppLink | None = None
        self._lost: asyncio.Future[str] | None = None
        self._early_frames: list[bytes] = []

    # -- for subclasses --------------------------------------------------------------------------

    @abc.abstractmethod
    async def _open_carrier(self) -> None:
        """Open the carrier to ``self.gateway_address`` until PPP frames can flow."""

    @abc.abstractmethod
    def _carrier_send(self, frame: bytes) -> None: ...

    @abc.abstractmethod
    async def _close_carrier(self, reason: str) -> None:
        """Close politely (bounded by the caller), then release sockets."""

    @abc.abstractmethod
    def _carrier_items(self) -> list[tuple[str, str]]:
        """Carrier facts for the negotiated-parameters list."""

    def _carrier_lost(self, reason: str) -> None:
        if self._lost is not None and not self._lost.done():
            self._lost.set_result(reason)

    def _carrier_frame(self, frame: bytes) -> None:
        if self.link is not None:
            self.link.receive_frame(frame)
        elif len(self._early_frames) < 16:
            # The server may start LCP the moment the call is up, before our link exists;
            # dropping its first Configure-Request would cost a full restart interval.
            self._early_frames.append(frame)

    async def _until(self, future: asyncio.Future[T], phase: str) -> T:
        """Wait for ``future`` unless the carrier or PPP ends first; then raise StackError."""
        assert self._lost is not None and self._user_closed is not None
        watch: list[asyncio.Future[object]] = [future, self._lost, self._user_closed]  # type: ignore[list-item]
        if self.link is not None:
            watch.append(self.link.ended)  # type: ignore[arg-type]
        done, _ = await asyncio.wait(watch, return_when=asyncio.FIRST_COMPLETED)
        if future in done:
            return future.result()
        if self._user_closed.done():
            raise StackError("you cancelled the connection", phase)
        if self.link is not None and not self.link.ended.done():
            # A server that rejects us sends PPP's reason (e.g. a CHAP Failure) and then hangs up;
            # the hang-up may be read first, but the reason is what the user needs.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self.link.ended), LATE_REASON_GRACE)
        if self.link is not None and self.link.ended.done():
            raise StackError(self.link.ended.result()[0], phase)
        raise StackError(self._lost.result(), phase)

    # -- VpnStack --------------------------------------------------------------------------------

    async def connect(self) -> Connected:
        loop = self._begin()
        self._lost = loop.create_future()
        try:
            async with asyncio.timeout(self.connect_timeout):
                self.gateway_address = await resolve(self.gateway)
                await self._open_carrier()
                self.link = PppLink("client", self.ppp_config, self._carrier_send, self.status, self.counters)
                self.link.start()
                for frame in self._early_frames:
                    self.link.receive_frame(frame)
                self._early_frames.clear()
                up = await self._until(self.link.up, "ppp")
            return await self._configure(up)
        except TimeoutError:
            await self._teardown("connection attempt timed out")
            raise StackError(
                f"the {self.protocol.upper()} server at {self.gateway} did not finish connecting within "
                f"{self.connect_timeout:g} s",
                "timeout",
            ) from None
        except (StackError, NetError) as exc:
            await self._teardown(exc.reason)
            raise StackError(exc.reason) from None
        except BaseException:
            await self._teardown("connection attempt aborted")
            raise

    async def _configure(self, up: NetworkUp) -> Connected:
        assert self.link is not None
        self.status(Progress("network", "configuring the tunnel interface"))
        self.tun = TunDevice.create(self.tun_name)
        dns = self.routing.dns_servers + (up.dns if self.routing.use_pushed_dns else ())
        settings = NetworkSettings(
            ifname=self.tun.name,
            local_ipv4=up.local_ipv4,
            peer_ipv4=up.peer_ipv4,
            local_ipv6=link_local(up.local_ipv6_iid),
            peer_ipv6=link_local(up.peer_ipv6_iid),
            dns_servers=tuple(dict.fromkeys(dns)),
            search_domains=self.routing.search_domains,
            split_dns_domains=self.routing.split_dns_domains,
            mtu=up.mtu,
            full_tunnel=self.routing.full_tunnel,
            routes=self.routing.routes,
            vpn_gateway=self.gateway_address,
        )
        await self._apply(settings)
        self.link.attach_tun(self.tun)
        negotiated = Negotiated(
            protocol=self.protocol,
            items=(
                ("gateway", f"{self.gateway} ({self.gateway_address})"),
                *self._carrier_items(),
                ("authentication", up.auth_method or "none"),
                ("encryption", up.mppe or "none (PPP is not encrypted)"),
                ("address", up.local_ipv4),
                ("peer address", up.peer_ipv4 or "-"),
                ("dns", ", ".join(settings.dns_servers) or "-"),
                ("mtu", str(up.mtu)),
                ("interface", self.tun.name),
            ),
        )
        connected = Connected(negotiated, settings)
        self.status(connected)
        return connected

    def _endings(self) -> list[asyncio.Future[str]]:
        assert self.link is not None and self._lost is not None
        return [self.link.ended_reason, self._lost]

    async def _stop_protocols(self, reason: str) -> None:
        carrier_gone = self._lost is not None and self._lost.done()
        if self.link is not None and not self.link.ended.done():
            if carrier_gone:
                self.link.lower_layer_down(reason)  # nobody is left to answer a Terminate-Request
            else:
                self.link.close(reason)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(self.link.ended), CLOSE_GRACE)
        if self.link is not None:
            self.link.stop()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._close_carrier(reason), CLOSE_GRACE)


def link_local(interface_id: bytes | None) -> str | None:
    """The fe80::/64 address IPV6CP's interface identifier stands for (RFC 5072 §5)."""
    if interface_id is None or len(interface_id) != 8:
        return None
    return str(ipaddress.IPv6Address(b"\xfe\x80" + bytes(6) + interface_id))


async def resolve(host: str) -> str:
    """The IPv4 address of ``host`` (an address is returned as is)."""
    try:
        return str(ipaddress.IPv4Address(host))
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, None, family=socket.AF_INET, type=socket.SOCK_DGRAM)
    except OSError as exc:
        raise StackError(f"cannot find the server {host!r}: {exc.strerror or exc}", "resolve") from None
    return str(infos[0][4][0])
