"""The LNS for L2TP/IPsec: the same :class:`L2tpServer`, fed from ESP transport SAs as well as UDP 1701.

A tunnel that started inside ESP is keyed by (the client's outer address, its inner UDP port) and
answers only through its :class:`EspRoute`; when the IPsec SA is gone its replies are dropped,
never sent in the clear. Plain UDP from a peer that has a protected tunnel is dropped too. The UDP
socket is only opened when plain L2TP is also served (``"l2tp"`` in ``protocols``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from wizard.stacks.gateway.l2tp_server import L2tpServer, L2tpTunnel
from wizard.stacks.gateway.shared import GatewayShared
from wizard.stacks.gateway.udp_server import Peer
from wizard.stacks.ipsec_stacks import udp_packet


@dataclass
class EspRoute:
    """How L2TP replies reach one client: as UDP packets protected by its ESP transport SA."""

    client: str  # the inner packet's addresses and ports, as the client sent them
    client_port: int
    gateway: str
    gateway_port: int
    send_packet: Callable[[bytes], bool]
    alive: bool = True

    def send(self, data: bytes) -> bool:
        if not self.alive:
            return False
        return self.send_packet(udp_packet(self.gateway, self.gateway_port, self.client, self.client_port, data))


class IpsecL2tpServer(L2tpServer):
    """L2tpServer whose tunnels may live inside ESP; ``plain_udp`` also serves L2TP without IPsec."""

    def __init__(self, shared: GatewayShared, *, plain_udp: bool) -> None:
        super().__init__(shared)
        self.plain_udp = plain_udp
        self.esp_routes: dict[Peer, EspRoute] = {}
        self._delivering: Peer | None = None  # a tunnel replaced during this delivery keeps its route

    async def start(self) -> None:
        if self.plain_udp:
            await super().start()

    def from_esp(self, data: bytes, key: Peer, local: str, route: EspRoute) -> None:
        """One L2TP datagram that arrived inside ESP from the client ``key`` names."""
        if key in self.tunnels and key not in self.esp_routes:
            self.dropped += 1  # a plain tunnel from the same address and port: keep them apart
            return
        self.esp_routes[key] = route
        self._delivering = key
        try:
            super()._on_datagram(data, key, local)
        finally:
            self._delivering = None
        if key not in self.tunnels:
            self.esp_routes.pop(key, None)  # not a tunnel start: nothing to route

    def _on_datagram(self, data: bytes, peer: Peer, local: str | None) -> None:
        if peer in self.esp_routes:
            self.dropped += 1  # cleartext aimed at a protected tunnel
            return
        super()._on_datagram(data, peer, local)

    def udp_send(self, data: bytes, peer: Peer, local: str | None) -> None:
        route = self.esp_routes.get(peer)
        if route is not None:
            if not route.send(data):
                self.dropped += 1
            return
        super().udp_send(data, peer, local)

    def carrier_lost(self, key: Peer, reason: str) -> None:
        """The IPsec SA under this tunnel is gone: end it at once (no StopCCN can reach the client)."""
        route = self.esp_routes.get(key)
        if route is not None:
            route.alive = False
        tunnel = self.tunnels.get(key)
        if tunnel is not None:
            self.shared.log(f"{tunnel.label}: the IPsec SA carrying it is gone ({reason})")
            tunnel._finish()
        self.esp_routes.pop(key, None)

    def release(self, tunnel: L2tpTunnel) -> None:
        super().release(tunnel)
        if tunnel.peer != self._delivering and self.tunnels.get(tunnel.peer) is None:
            self.esp_routes.pop(tunnel.peer, None)
