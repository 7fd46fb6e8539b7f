"""Stacks over the IKEv1/ESP channel: L2TP/IPsec (the Windows default) and IKEv1 XAUTH tunnels.

L2TP/IPsec: an ESP *transport* SA protects UDP between us and the gateway's port 1701; L2TP
datagrams are wrapped in UDP/IP packets here (no kernel socket: this kernel has no ESP), protected,
and unwrapped on the way back. IKEv1 XAUTH: the gateway checks user and password after Main Mode,
pushes a virtual address and DNS (Mode Config), and an ESP *tunnel* SA carries every packet of a
TUN device.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import struct
from collections.abc import Callable

from wizard.engine.errors import ParseError
from wizard.engine.esp.ip import build_outer, fix_l4_checksum, parse_ip
from wizard.engine.ike.v1.config import IKEv1Config
from wizard.engine.ike.v2.config import IKEv2Config
from wizard.engine.ppp.config import PPPConfig
from wizard.net.config import PolicyRouting
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
from wizard.stacks.ipsec_channel import IpsecChannel, local_address_towards
from wizard.stacks.l2tp import L2TP_PORT, L2tpStack
from wizard.stacks.ppp_stack import CLOSE_GRACE, RouteChoice, resolve
from wizard.stacks.tunnel_stack import TunnelStack

UDP = 17
IkeConfigFactory = Callable[[str, str], IKEv1Config | IKEv2Config]  # (our address, the gateway's) -> config
ESP_TUNNEL_MTU = 1400  # 1500 minus outer IP, UDP-encapsulation, ESP header, IV, padding and ICV


def udp_packet(src: str, sport: int, dst: str, dport: int, payload: bytes) -> bytes:
    """A complete IPv4/UDP packet with a correct checksum."""
    header = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0)
    packet = build_outer(ipaddress.ip_address(src), ipaddress.ip_address(dst), UDP, header + payload)
    return fix_l4_checksum(packet)


def udp_payload(packet: bytes) -> tuple[int, int, bytes] | None:
    """(source port, destination port, payload) of a UDP packet, or None for anything else."""
    try:
        parsed = parse_ip(packet)
    except ParseError:
        return None
    if parsed.protocol != UDP or len(parsed.payload) < 8:
        return None
    sport, dport, length, _ = struct.unpack("!HHHH", parsed.payload[:8])
    if length < 8 or length > len(parsed.payload):
        return None
    return sport, dport, parsed.payload[8:length]


class _EspUdpTransport:
    """L2TP's datagram transport when the datagrams must ride in the ESP transport SA."""

    def __init__(self, channel: IpsecChannel, local: str, port: int, peer: str) -> None:
        self.channel = channel
        self.local = local
        self.port = port
        self.peer = peer
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def local_address(self) -> tuple[str, int]:
        return self.local, self.port

    def send(self, data: bytes) -> None:
        self.channel.send_packet(udp_packet(self.local, self.port, self.peer, L2TP_PORT, data))

    def close(self) -> None:
        self._closed = True


class L2tpIpsecStack(L2tpStack):
    """L2TP over an IKEv1 transport-mode SA (the Windows "L2TP/IPsec with pre-shared key")."""

    protocol = "l2tp_ipsec"
    L2TP_SOURCE_PORT = 1701  # as Windows sends it; no kernel socket is bound, so nothing can clash

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
        ike_config: IkeConfigFactory,
    ) -> None:
        super().__init__(
            gateway, ppp_config, status, applier, routing=routing, connect_timeout=connect_timeout, tun_name=tun_name
        )
        self.make_ike_config = ike_config
        self.ipsec: IpsecChannel | None = None

    async def _open_transport(self) -> _EspUdpTransport:
        local = local_address_towards(self.gateway_address)
        self.ike_config = self.make_ike_config(local, self.gateway_address)
        self.ipsec = IpsecChannel(self.ike_config, self.status, self._on_inner_packet)
        self.ipsec.lost.add_done_callback(lambda f: self._carrier_lost(f.result()))
        await self.ipsec.open()
        await self._until(self.ipsec.child_up, "ike")
        return _EspUdpTransport(self.ipsec, self.ike_config.local_address, self.L2TP_SOURCE_PORT, self.gateway_address)

    def _on_inner_packet(self, packet: bytes) -> None:
        parsed = udp_payload(packet)
        if parsed is None or parsed[0] != L2TP_PORT or parsed[1] != self.L2TP_SOURCE_PORT:
            self.counters.dropped += 1
            return
        self._on_datagram(parsed[2])

    async def _close_carrier(self, reason: str) -> None:
        try:
            await super()._close_carrier(reason)
        finally:
            if self.ipsec is not None:
                await self.ipsec.close(reason)

    def _transport_items(self) -> list[tuple[str, str]]:
        return self.ipsec.items() if self.ipsec is not None else []


class IkeTunnelStack(TunnelStack):
    """IKEv1 with XAUTH and Mode Config: ESP tunnel mode through a TUN device."""

    protocol = "ikev1_xauth"
    fwmark = 0  # no policy routing: the host route to the gateway keeps IKE/ESP out of the tunnel

    def __init__(
        self,
        gateway: str,
        ike_config: IkeConfigFactory,
        status: StatusSink,
        applier: NetworkApplier,
        *,
        routing: RouteChoice | None = None,
        connect_timeout: float = 45.0,
        tun_name: str = "cw%d",
    ) -> None:
        super().__init__(status, applier, tun_name)
        self.gateway = gateway
        self.make_ike_config = ike_config
        self.ike_config: IKEv1Config | IKEv2Config | None = None
        self.routing = routing or RouteChoice()
        self.connect_timeout = connect_timeout
        self.ipsec: IpsecChannel | None = None

    async def connect(self) -> Connected:
        self._begin()
        assert self._user_closed is not None
        try:
            async with asyncio.timeout(self.connect_timeout):
                peer = await resolve(self.gateway)
                self.ike_config = self.make_ike_config(local_address_towards(peer), peer)
                self.ipsec = IpsecChannel(self.ike_config, self.status, self._from_gateway, fwmark=self.fwmark)
                await self.ipsec.open()
                waiting: list[asyncio.Future[object]] = [self.ipsec.child_up, self.ipsec.lost, self._user_closed]  # type: ignore[list-item]
                await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                if self.ipsec.lost.done():
                    raise StackError(self.ipsec.lost.result(), "ike")
                if self._user_closed.done():
                    raise StackError("you cancelled the connection", "ike")
            return await self._configure()
        except TimeoutError:
            await self._teardown("connection attempt timed out")
            raise StackError(
                f"the IPsec gateway at {self.gateway} did not finish connecting within {self.connect_timeout:g} s",
                "timeout",
            ) from None
        except (StackError, NetError, OSError) as exc:
            reason = getattr(exc, "reason", None) or str(exc)
            await self._teardown(reason)
            raise StackError(reason) from None
        except BaseException:
            await self._teardown("connection attempt aborted")
            raise

    async def _configure(self) -> Connected:
        assert self.ipsec is not None and self.ike_config is not None
        lease = self.ipsec.lease
        if lease is None or lease.address is None:
            raise StackError("the gateway assigned no address (Mode Config); ask the administrator for an address pool")
        self.status(Progress("network", "configuring the tunnel interface"))
        self.tun = TunDevice.create(self.tun_name)
        pushed_routes = tuple(lease.split_include) if self.routing.full_tunnel is False else ()
        dns = self.routing.dns_servers + (lease.dns if self.routing.use_pushed_dns else ())
        settings = NetworkSettings(
            ifname=self.tun.name,
            local_ipv4=lease.address,
            dns_servers=tuple(dict.fromkeys(dns)),
            search_domains=self.routing.search_domains + ((lease.domain,) if lease.domain else ()),
            split_dns_domains=self.routing.split_dns_domains,
            mtu=ESP_TUNNEL_MTU,
            full_tunnel=self.routing.full_tunnel,
            routes=self.routing.routes + pushed_routes,
            vpn_gateway=self.ike_config.peer_address,
        )
        await self._apply(settings)
        self.tun.start_reading(self._from_tun)
        negotiated = Negotiated(
            protocol=self.protocol,
            items=(
                ("gateway", f"{self.gateway} ({self.ike_config.peer_address})"),
                *self.ipsec.items(),
                ("authentication", self.auth_label()),
                ("address", lease.address),
                ("dns", ", ".join(settings.dns_servers) or "-"),
                ("mtu", str(ESP_TUNNEL_MTU)),
                ("interface", self.tun.name),
            ),
        )
        connected = Connected(negotiated, settings)
        self.status(connected)
        return connected

    def auth_label(self) -> str:
        return "pre-shared key + XAUTH"

    def _from_tun(self, packet: bytes) -> None:
        if self.ipsec is not None and self.ipsec.send_packet(packet):
            self.counters.note_out(len(packet))
        else:
            self.counters.dropped += 1

    def _from_gateway(self, packet: bytes) -> None:
        self.counters.note_in(len(packet))
        if self.tun is None or not self.tun.write(packet):
            self.counters.dropped += 1

    def _endings(self) -> list[asyncio.Future[str]]:
        assert self.ipsec is not None
        return [self.ipsec.lost]

    async def _stop_protocols(self, reason: str) -> None:
        if self.ipsec is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.ipsec.close(reason), CLOSE_GRACE)


class Ikev2Stack(IkeTunnelStack):
    """IKEv2 remote access: PSK, certificates or EAP-MSCHAPv2, a virtual address from the CP payload."""

    protocol = "ikev2"

    def auth_label(self) -> str:
        assert isinstance(self.ike_config, IKEv2Config)
        return {"psk": "pre-shared key", "cert": "certificate", "eap": "EAP-MSCHAPv2 (gateway: certificate)"}.get(
            self.ike_config.auth, self.ike_config.auth
        )


class IpsecTransportStack(IkeTunnelStack):
    """Host-to-host IPsec: every packet between us and the gateway host, in an ESP transport SA.

    The gateway's address is routed into the TUN device from a table of its own, behind a rule
    that skips packets marked ``fwmark``; our IKE and ESP sockets carry that mark, so they reach
    the gateway directly while everything else to it is protected.
    """

    protocol = "ipsec_transport"
    fwmark = 0x6377
    table = 0x6377
    rule_priority = 0x6377
    _hosts = b""  # our address and the gateway's, packed: the only source and destination sent

    async def _configure(self) -> Connected:
        assert self.ipsec is not None and self.ike_config is not None
        self.status(Progress("network", "routing traffic to the gateway through IPsec"))
        self.tun = TunDevice.create(self.tun_name)
        local, peer = self.ike_config.local_address, self.ike_config.peer_address
        self._hosts = ipaddress.IPv4Address(local).packed + ipaddress.IPv4Address(peer).packed
        settings = NetworkSettings(
            ifname=self.tun.name,
            mtu=ESP_TUNNEL_MTU,
            full_tunnel=False,
            routes=(f"{peer}/32",),
            policy=PolicyRouting(self.table, self.fwmark, self.rule_priority, source=local),
        )
        await self._apply(settings)
        self.tun.start_reading(self._from_tun)
        negotiated = Negotiated(
            protocol=self.protocol,
            items=(
                ("gateway", f"{self.gateway} ({peer})"),
                *self.ipsec.items(),
                ("authentication", "pre-shared key" if self.ike_config.auth == "psk" else "certificate"),
                ("protected", f"all traffic between {local} and {peer}"),
                ("interface", self.tun.name),
            ),
        )
        connected = Connected(negotiated, settings)
        self.status(connected)
        return connected

    def _from_tun(self, packet: bytes) -> None:
        # The SA carries IPv4 between the two hosts only; the gateway rebuilds the header from the
        # SA's addresses, so anything else (another source address, IPv6) must not go in.
        if len(packet) < 20 or packet[0] >> 4 != 4 or packet[12:20] != self._hosts:
            self.counters.dropped += 1
            return
        super()._from_tun(packet)
