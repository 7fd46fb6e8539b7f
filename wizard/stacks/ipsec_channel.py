"""IKEv1 and ESP between us and one gateway: the protected carrier under L2TP/IPsec and IKEv1 tunnels.

The channel runs the sans-IO :class:`IKEv1Connection` over UDP sockets on ports 500 and 4500,
installs each negotiated child SA as a pair of ESP security associations, and moves IP packets:
:meth:`send_packet` protects one (transport mode: a packet between us and the gateway; tunnel
mode: any inner packet) and ``on_packet`` receives what the gateway protected. ESP travels in raw IP
protocol 50 when no NAT is found and in UDP 4500 (RFC 3948) when one is.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Callable
from typing import cast

from wizard.engine.errors import ParseError
from wizard.engine.esp import (
    UdpPayloadKind,
    classify_udp_payload,
    nat_keepalive,
    spi_of_payload,
)
from wizard.engine.ike.v1 import events as iev
from wizard.engine.ike.v1.config import IKEv1Config
from wizard.engine.ike.v1.connection import IKEv1Connection
from wizard.engine.ike.v2 import events as v2ev
from wizard.engine.ike.v2.config import IKEv2Config
from wizard.engine.ike.v2.connection import IKEv2Connection
from wizard.net.transports import SO_MARK, RawIpEndpoint
from wizard.stacks.base import Progress, StatusSink
from wizard.stacks.esp_sas import EspSAs, describe_child
from wizard.stacks.timer import EngineTimer

ESP_PROTOCOL = 50
NAT_KEEPALIVE_INTERVAL = 20.0


def local_address_towards(peer: str) -> str:
    """The source address the kernel would use to reach ``peer``."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect((peer, 500))
        return str(probe.getsockname()[0])


class _IkePort(asyncio.DatagramProtocol):
    def __init__(self, channel: IpsecChannel, port: int) -> None:
        self.channel = channel
        self.port = port
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)  # selector transports don't subclass it

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self.channel._on_udp(data, self.port, str(addr[0]), int(addr[1]))

    def error_received(self, exc: Exception) -> None:
        self.channel.status(Progress("ike", f"the network reported: {exc}"))


class IpsecChannel:
    """One IKE initiator (IKEv1 or IKEv2, by the config's type) and its ESP SAs to one gateway."""

    def __init__(
        self,
        config: IKEv1Config | IKEv2Config,
        status: StatusSink,
        on_packet: Callable[[bytes], None],
        *,
        fwmark: int = 0,
    ) -> None:
        self.config = config
        self.fwmark = fwmark  # marks our IKE/ESP sockets so policy routing keeps them out of the tunnel
        self.status = status
        self.on_packet = on_packet
        self.loop = asyncio.get_running_loop()
        self.version = 2 if isinstance(config, IKEv2Config) else 1
        self.ike: IKEv1Connection | IKEv2Connection = (
            IKEv2Connection("initiator", config)
            if isinstance(config, IKEv2Config)
            else IKEv1Connection("initiator", config)
        )
        self.peer = config.peer_address
        self.local = config.local_address
        self.child_up: asyncio.Future[iev.ChildSA] = self.loop.create_future()
        self.lost: asyncio.Future[str] = self.loop.create_future()
        self.lease: iev.ModeConfigReceived | None = None
        self.ike_up: str | None = None  # "IKEv1 AES-256/SHA-256/MODP-2048 (psk)" once authenticated
        self.child: iev.ChildSA | None = None
        self.dropped = 0
        self._ports: dict[int, _IkePort] = {}
        self._raw: RawIpEndpoint | None = None
        self.esp = EspSAs()
        self._timer = EngineTimer(self.loop, self.ike.get_timer, self.ike.handle_timer, self._flush)
        self._keepalive: asyncio.TimerHandle | None = None
        self._closed: asyncio.Future[None] = self.loop.create_future()

    # -- life ------------------------------------------------------------------------------------

    async def open(self) -> None:
        """Bind the IKE ports, open the ESP socket and send the first IKE message."""
        for port in (self.config.local_port, self.config.nat_t_port):
            protocol = _IkePort(self, port)
            try:
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                if self.fwmark:
                    sock.setsockopt(socket.SOL_SOCKET, SO_MARK, self.fwmark)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((self.local, port))
                await self.loop.create_datagram_endpoint(_factory(protocol), sock=sock)
            except OSError as exc:
                raise OSError(
                    exc.errno, f"cannot use UDP port {port} for IKE ({exc.strerror}); is another IPsec client running?"
                ) from None
            self._ports[port] = protocol
        # Without a raw ESP socket the kernel (which has no ESP here) answers the gateway's ESP
        # with ICMP protocol-unreachable.
        self._raw = RawIpEndpoint.open(ESP_PROTOCOL, self.peer, self._on_esp, mark=self.fwmark)
        self.status(Progress("ike", f"contacting the IPsec gateway at {self.peer} (IKEv{self.version}, UDP 500)"))
        self.ike.connect(self.loop.time())
        self._flush()

    async def close(self, reason: str) -> None:
        """Delete the SAs politely (INFORMATIONAL delete), then release every socket."""
        if not self.lost.done() and self.ike.established:
            self.ike.close(self.loop.time(), reason)
            self._flush()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._closed), 2.0)
        self._release()

    def rekey_child(self) -> bool:
        """Replace the IPsec SA now (Quick Mode), as its lifetime would; False when none is up."""
        started = self.ike.rekey_child(self.loop.time())
        self._flush()
        return started

    def _release(self) -> None:
        self._timer.cancel()
        if self._keepalive is not None:
            self._keepalive.cancel()
        for port in self._ports.values():
            if port.transport is not None:
                port.transport.close()
        self._ports.clear()
        if self._raw is not None:
            self._raw.close()
            self._raw = None

    def _fail(self, reason: str) -> None:
        if not self.lost.done():
            self.lost.set_result(reason)

    # -- IKE -------------------------------------------------------------------------------------

    def _on_udp(self, data: bytes, local_port: int, address: str, port: int) -> None:
        if address != self.peer:
            self.dropped += 1
            return
        if local_port == self.config.nat_t_port:
            try:
                kind = classify_udp_payload(data)
            except ParseError:
                self.dropped += 1
                return
            if kind is UdpPayloadKind.KEEPALIVE:
                return
            if kind is UdpPayloadKind.ESP:
                self._on_esp(data)
                return
        self.ike.receive_datagram(
            data, self.loop.time(), local_port=local_port, remote_address=address, remote_port=port
        )
        self._flush()

    def _flush(self) -> None:
        for datagram in self.ike.datagrams_to_send():
            port = self._ports.get(datagram.source_port)
            if port is not None and port.transport is not None:
                port.transport.sendto(datagram.data, (self.peer, datagram.dest_port))
        while (event := self.ike.next_event()) is not None:
            self._handle(event)
        if self.lost.done() and not self.ike.established:
            self._timer.cancel()
        else:
            self._timer.rearm()

    def _handle(self, event: iev.Event) -> None:
        if isinstance(event, iev.PhaseOneUp | v2ev.IKESAUp):
            how = event.auth if isinstance(event, iev.PhaseOneUp) else f"{event.auth}; gateway: {event.peer_auth}"
            self.ike_up = f"IKEv{self.version} {event.suite} ({how})"
            what = "rekeyed" if event.rekey else "up"
            self.status(Progress("ike", f"IKE SA {what}: {event.suite}, gateway {event.peer_id}"))
        elif isinstance(event, v2ev.ChildSAInboundReady):
            self.esp.add_inbound(event.new, self.loop.time())
        elif isinstance(event, v2ev.AddressesUpdated):
            for child in event.children:
                self._install(child)
            self.status(Progress("ike", f"MOBIKE: now {event.local_address} -> {event.peer_address}"))
        elif isinstance(event, iev.NATDetected):
            self.status(Progress("ike", f"NAT detected: IKE and ESP move to UDP {event.port}"))
            if event.local_behind_nat:
                self._schedule_keepalive()
        elif isinstance(event, iev.XauthDone):
            if event.success:
                self.status(Progress("xauth", f"signed in as {event.username}"))
        elif isinstance(event, iev.ModeConfigReceived):
            self.lease = event
            self.status(
                Progress("mode-config", f"the gateway assigned {event.address} (DNS {', '.join(event.dns) or '-'})")
            )
        elif isinstance(event, iev.ChildSAUp):
            self._install(event.sa)
            self.status(Progress("quick-mode", describe_child(event.sa)))
            if not self.child_up.done():
                self.child_up.set_result(event.sa)
        elif isinstance(event, iev.ChildSARekeyed):
            self._install(event.new)
            self.status(Progress("quick-mode", f"IPsec SA rekeyed: {describe_child(event.new)}"))
        elif isinstance(event, iev.ChildSADeleted):
            if self.esp.remove(event.sa):
                self._fail(event.reason)
        elif isinstance(event, iev.PeerDead | iev.ConnectionFailed):
            self._fail(event.reason)
        elif isinstance(event, iev.Closed):
            self._fail(event.reason)
            if not self._closed.done():
                self._closed.set_result(None)

    # -- ESP -------------------------------------------------------------------------------------

    def _install(self, child: iev.ChildSA) -> None:
        self.esp.install(child, self.loop.time())
        self.child = child

    def send_packet(self, packet: bytes) -> bool:
        """Protect and send one IP packet; False (and counted) when no SA is up or it cannot be sent."""
        esp = self.esp.protect(packet, self.loop.time())
        if esp is None:
            return False
        encapsulation = self.esp.encapsulation
        if encapsulation is not None:
            port = self._ports.get(encapsulation.local_port)
            if port is None or port.transport is None:
                self.esp.counters.dropped_out += 1
                return False
            port.transport.sendto(esp, (self.peer, encapsulation.remote_port))
            return True
        return self._raw is not None and self._raw.send(esp)

    def _on_esp(self, esp: bytes) -> None:
        packet = self.esp.unprotect(esp, self.loop.time())  # drops are counted there
        if packet is not None:
            if isinstance(self.ike, IKEv2Connection):
                spi = spi_of_payload(esp)
                self.ike.note_traffic(self.loop.time(), spi)
                if self.child is not None and spi != self.child.spi_in:
                    self._flush()  # first packet on a rekeyed SA: let the engine switch us over now
            else:
                self.ike.note_traffic(self.loop.time())
            self.on_packet(packet)

    def _schedule_keepalive(self) -> None:
        def send() -> None:
            port = self._ports.get(self.config.nat_t_port)
            if port is not None and port.transport is not None and not self.lost.done():
                port.transport.sendto(nat_keepalive(), (self.peer, self.config.nat_t_port))
                self._keepalive = self.loop.call_later(NAT_KEEPALIVE_INTERVAL, send)

        if self._keepalive is None:
            self._keepalive = self.loop.call_later(NAT_KEEPALIVE_INTERVAL, send)

    def items(self) -> list[tuple[str, str]]:
        """Negotiated parameters for the UI."""
        out: list[tuple[str, str]] = []
        if self.ike_up is not None:
            out.append(("ike", self.ike_up))
        if self.child is not None:
            out.append(("esp", describe_child(self.child)))
            out.append(
                ("nat-t", "UDP 4500 (NAT detected)" if self.child.encapsulated else "no NAT: ESP in IP protocol 50")
            )
            lifetime = self.child.lifetime_seconds
            if lifetime and self.config.child is not None:
                margin = min(self.config.child.rekey_margin, lifetime / 2)
                at = time.strftime("%H:%M:%S", time.localtime(time.time() + lifetime - margin))
                out.append(("next rekey", f"about {at} (IPsec SA lifetime {lifetime} s)"))
        return out


def _factory(protocol: _IkePort) -> Callable[[], _IkePort]:
    return lambda: protocol
