"""The gateway's IPsec side: IKEv1 responders on UDP 500/4500, ESP, and the two services behind it.

One :class:`IpsecServer` owns the two UDP sockets and a table of :class:`IpsecPeer` by client
address; each peer runs one ``IKEv1Connection("responder")`` (a fresh one after it closed), its ESP
SAs (:class:`EspSAs`) and a raw ESP socket connected to the client, opened as soon as the client
first speaks so the kernel (which has no ESP) never answers its ESP with protocol-unreachable.
ESP arrives on that raw socket, or in UDP 4500 after NAT-T, where it is sorted by SPI.

Services, chosen from the client's first Main Mode message (XAUTH auth methods or not) and, for a
pre-shared-key client, from its Quick Mode IDs (:mod:`.ipsec_transport`):

* ``l2tp_ipsec``: a transport SA for UDP to our L2TP port; the L2TP datagrams inside go to the LNS
  (:class:`IpsecL2tpServer`) and its replies go back through the SA.
* ``ikev1_xauth``: XAUTH against the gateway's users, a Mode Config address from the shared pool,
  and a tunnel SA whose packets go in and out of a TUN device (``server_address`` local, the
  client's address as peer), so the kernel routes between the client and the gateway's inside.
* ``ipsec_transport``: a transport SA for every protocol between the client and the gateway host;
  packets go in and out of a TUN device with no address, the client's /32 routed into it from a
  table of its own (:class:`TransportRoute`), so the gateway's own traffic to the client is protected.
* ``ikev2``: IKEv2 datagrams (major version 2 in the IKE header) go to an :class:`Ikev2Peer` instead,
  an :class:`IpsecPeer` whose responder is IKEv2 and whose tunnel is the ``ikev1_xauth`` one
  (see :mod:`.ikev2_peer`). The version of a client's first message decides; a client that starts
  over with the other version replaces its peer.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hmac
import ipaddress
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wizard.engine.errors import ParseError
from wizard.engine.esp import UdpPayloadKind, classify_udp_payload, spi_of_payload
from wizard.engine.ike.payloads import HEADER_SIZE, ExchangeType, V1Flags, decode_chain, decode_header
from wizard.engine.ike.v1 import events as iev
from wizard.engine.ike.v1.config import ChildConfig, IKEv1Config, ModeConfigLease
from wizard.engine.ike.v1.connection import IKEv1Connection
from wizard.engine.ike.v1.constants import PayloadType
from wizard.engine.ike.v1.identities import TrafficSelector
from wizard.engine.ike.v1.messages import SAPayload
from wizard.engine.ike.v1.natt import unframe
from wizard.engine.ike.v1.phase1 import is_xauth
from wizard.engine.ike.v1.proposals import phase1_offers
from wizard.engine.ike.v1.sa import ZERO_COOKIE
from wizard.engine.ike.v2.connection import IKEv2Connection
from wizard.net.errors import NetError, TransportError
from wizard.net.transports import SO_MARK, RawIpEndpoint
from wizard.net.tun import TunDevice
from wizard.stacks.applier import DirectApplier
from wizard.stacks.base import NetworkSettings
from wizard.stacks.esp_sas import EspSAs, describe_child
from wizard.stacks.gateway.ikev2_responder import ikev2_header, sa_init_spi
from wizard.stacks.gateway.ipsec_config import IpsecPolicy
from wizard.stacks.gateway.ipsec_l2tp import EspRoute, IpsecL2tpServer
from wizard.stacks.gateway.ipsec_transport import (
    GATEWAY_FWMARK,
    SharedPolicyRule,
    TransportRoute,
    quick_mode_service,
    refusal,
    responder_selector,
)
from wizard.stacks.gateway.session import TUN_NAME
from wizard.stacks.gateway.shared import GatewayShared
from wizard.stacks.gateway.udp_server import Peer, UdpServer
from wizard.stacks.ipsec_stacks import ESP_TUNNEL_MTU, udp_payload
from wizard.stacks.timer import EngineTimer

if TYPE_CHECKING:
    from wizard.stacks.gateway.ikev2_peer import Ikev2Peer

ESP_PROTOCOL = 50
IKE_PORT = 500
NAT_T_PORT = 4500
UDP = 17
TRANSPORT_SERVICES = ("l2tp_ipsec", "ipsec_transport")  # pre-shared key only: alike in phase 1
MAX_PEERS = 256
CLOSE_GRACE = 2.0
EARLY_PACKETS = 64


@dataclass(frozen=True)
class Phase1Start:
    """A client's first Main Mode message: its cookie and the service it asks for."""

    cookie: bytes
    service: str


def phase1_start(data: bytes, local_port: int, services: tuple[str, ...]) -> Phase1Start | None:
    """The start of a negotiation, or None for any other datagram (or an unreadable one).

    XAUTH is negotiated in phase 1 (an XAUTH authentication method in the proposals), so the
    first message already tells an IKEv1 XAUTH client from an L2TP/IPsec one.
    """
    try:
        msg = unframe(data, local_port, NAT_T_PORT)
        header = decode_header(msg)
        if (
            header.major_version != 1
            or header.exchange_type not in (ExchangeType.IDENTITY_PROTECTION, ExchangeType.AGGRESSIVE)
            or header.spi_r != ZERO_COOKIE
            or header.message_id != 0
            or header.flags & V1Flags.ENCRYPTION
        ):
            return None
        payloads = decode_chain(header.next_payload, msg[HEADER_SIZE : header.length]).payloads
        sa = next((p for p in payloads if p.type == PayloadType.SA), None)
        if sa is None:
            return None
        offers = phase1_offers(SAPayload.decode(sa.body))
    except ParseError:
        return None
    wants_xauth = any(offer is not None and is_xauth(offer.auth_method) for _, _, offer in offers)
    if wants_xauth and "ikev1_xauth" in services:
        return Phase1Start(header.spi_i, "ikev1_xauth")
    if not wants_xauth:  # L2TP/IPsec or host-to-host: Quick Mode will tell
        for service in TRANSPORT_SERVICES:
            if service in services:
                return Phase1Start(header.spi_i, service)
    return Phase1Start(header.spi_i, services[0])  # the engine refuses it: NO_PROPOSAL_CHOSEN, said plainly


def _starts_over(peer: IpsecPeer, start: Phase1Start) -> bool:
    """A new phase 1 replaces a peer that never got established or used another service.

    An established peer keeps its connection: a new phase 1 there is the client's ISAKMP rekey.
    """
    return start.cookie not in peer.cookies and (not peer.established or start.service != peer.phase1_service)


def _esp_endpoint(local: str, remote: str, on_packet: Callable[[bytes], None], mark: int = 0) -> RawIpEndpoint:
    """A raw ESP socket to ``remote`` sending from ``local`` (the address the client talks to).

    ``mark``: SO_MARK, so host-to-host policy routing leaves the ESP packets themselves alone.
    """
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, ESP_PROTOCOL)
    except OSError as exc:
        raise TransportError(f"could not open a raw ESP socket: {exc.strerror or exc}") from None
    try:
        sock.setblocking(False)
        if mark:
            sock.setsockopt(socket.SOL_SOCKET, SO_MARK, mark)
        sock.bind((local, 0))
        sock.connect((remote, 0))
    except OSError as exc:
        sock.close()
        raise TransportError(f"could not address {remote} with ESP from {local}: {exc.strerror or exc}") from None
    return RawIpEndpoint(sock, ESP_PROTOCOL, remote, on_packet, None, asyncio.get_running_loop())


class IpsecPeer:
    """One client: its IKEv1 responder, ESP SAs, raw ESP socket and the service it uses."""

    def __init__(self, server: IpsecServer, address: str, local: str, service: str) -> None:
        self.server = server
        self.address = address
        self.local = local
        self.phase1_service = service  # what phase 1 showed; for a pre-shared-key client Quick Mode decides
        self.service = service
        self._decided = service == "ikev1_xauth"
        self.loop = asyncio.get_running_loop()
        self.label = f"ipsec {address}"
        self.log = server.shared.log
        self.ike: IKEv1Connection | IKEv2Connection = self._responder(local, address, service)
        self.esp = EspSAs()
        self.lease: str | None = None
        self._lease_packed = b""
        self.user: str | None = None
        self.tun: TunDevice | None = None
        self._applier: DirectApplier | None = None
        self._tun_task: asyncio.Task[None] | None = None
        self._early: list[bytes] | None = None  # packets that arrived before the TUN device was ready
        self._tun_ready = False
        self._routes: dict[Peer, EspRoute] = {}
        self._transport: TransportRoute | None = None
        self._local_packed = ipaddress.IPv4Address(local).packed
        self._peer_packed = ipaddress.IPv4Address(address).packed
        self.cookies: set[bytes] = set()  # initiator cookies of the phase 1 negotiations it has seen
        self.closed = self.loop.create_future()
        self.ending = False  # the teardown has begun
        self.raw = _esp_endpoint(local, address, self.on_esp, server.mark)
        self._timer = EngineTimer(self.loop, self.ike.get_timer, self.ike.handle_timer, self.flush)

    def _responder(self, local: str, address: str, service: str) -> IKEv1Connection | IKEv2Connection:
        """The IKE engine for this client (IKEv1 here; :class:`Ikev2Peer` makes an IKEv2 one)."""
        return IKEv1Connection("responder", self.server.ike_config(local, address, service, self._lease))

    @property
    def established(self) -> bool:
        return self.ike.established

    # -- IKE -------------------------------------------------------------------------------------

    def receive_ike(self, data: bytes, local_port: int, peer: Peer) -> None:
        self.ike.receive_datagram(
            data, self.loop.time(), local_port=local_port, remote_address=peer[0], remote_port=peer[1]
        )
        self.flush()

    def flush(self) -> None:
        for datagram in self.ike.datagrams_to_send():
            self.server.udp_send(
                datagram.data, datagram.source_port, (self.ike.peer_address, datagram.dest_port), self.local
            )
        while (event := self.ike.next_event()) is not None:
            self._handle(event)
        if self.closed.done():
            self._timer.cancel()
        else:
            self._timer.rearm()

    def _handle(self, event: iev.Event) -> None:
        if isinstance(event, iev.PhaseOneUp):
            what = "rekeyed" if event.rekey else "up"
            self.log(f"{self.label}: IKE SA {what}: {event.suite} ({event.auth}), client {event.peer_id}")
        elif isinstance(event, iev.NATDetected):
            self.log(f"{self.label}: NAT detected: IKE and ESP move to UDP {event.port}")
        elif isinstance(event, iev.XauthDone):
            self.user = event.username or None
            if event.success:
                self.log(f"{self.label}: auth ok: user {event.username!r} (XAUTH)")
            else:
                self.log(f"{self.label}: auth failed: user {event.username!r} (XAUTH)")
        elif isinstance(event, iev.ModeConfigReceived):
            self.log(f"{self.label}: Mode Config: handed out {event.address} (DNS {', '.join(event.dns) or '-'})")
            self._start_tun()  # now, so the device is ready when the client's first packet arrives
        elif isinstance(event, iev.ChildSAUp):
            if not self._decide(event.sa):
                return
            self._install(event.sa, "up")
            if self.service in ("ikev1_xauth", "ipsec_transport"):
                self._start_tun()
        elif isinstance(event, iev.ChildSARekeyed):
            if self._decide(event.new):
                self._install(event.new, "rekeyed")
        elif isinstance(event, iev.ChildSADeleted):
            self.server.spis.pop(event.sa.spi_in, None)
            self.esp.remove(event.sa)
            self.log(f"{self.label}: IPsec SA {event.sa.spi_in:08x}/{event.sa.spi_out:08x} deleted ({event.reason})")
        elif isinstance(event, iev.ConnectionFailed):
            self.log(f"{self.label}: failed: {event.reason}")
        elif isinstance(event, iev.PeerDead):
            self.log(f"{self.label}: the client stopped answering: {event.reason}")
        elif isinstance(event, iev.Closed):
            self.loop.create_task(self._teardown(event.reason))

    def _decide(self, child: iev.ChildSA) -> bool:
        """Quick Mode names the service of a pre-shared-key client; an SA that fits none ends the peer."""
        if self.service == "ikev1_xauth":
            return True
        services = self.server.policy.services
        service = quick_mode_service(child, services, self.server.l2tp_port)
        if service is None or (self._decided and service != self.service):
            why = refusal(child, services) if service is None else f"it already uses {self.service}"
            self.log(f"{self.label}: refused the IPsec SA: {why}")
            self.ike.close(self.loop.time(), "the gateway does not serve these traffic selectors")
            self.flush()
            return False
        if not self._decided:
            self.service, self._decided = service, True
            if service == "ipsec_transport":
                self.log(
                    f"{self.label}: host-to-host transport mode: all traffic between {self.local} and {self.address}"
                )
        return True

    def _install(self, child: iev.ChildSA, what: str) -> None:
        self.esp.install(child, self.loop.time())
        self.server.spis[child.spi_in] = self
        self.log(f"{self.label}: IPsec SA {what}: {describe_child(child)}")

    def _lease(self, user: str) -> ModeConfigLease | None:
        """Mode Config: one address per peer from the gateway's shared pool (the same on a repeat)."""
        lease = self._allocate(f"user {user!r}")
        if lease is None:
            return None
        config = self.server.shared.config
        return ModeConfigLease(lease, "255.255.255.255", config.dns_servers)

    def _allocate(self, who: str) -> str | None:
        """This client's address from the shared pool: taken on the first call, the same one after."""
        if self.lease is None:
            self.lease = self.server.shared.pool.allocate()
            if self.lease is None:
                self.log(f"{self.label}: the address pool is exhausted; refusing {who}")
                return None
            self._lease_packed = ipaddress.IPv4Address(self.lease).packed
        return self.lease

    # -- ESP -------------------------------------------------------------------------------------

    def on_esp(self, esp: bytes) -> None:
        packet = self.esp.unprotect(esp, self.loop.time())
        if packet is None:
            return
        self.ike.note_traffic(self.loop.time())
        if self.service == "l2tp_ipsec":
            self._l2tp_in(packet)
        elif self.service == "ipsec_transport":
            self._transport_in(packet)
        else:
            self._tunnel_in(packet)

    def send_packet(self, packet: bytes) -> bool:
        """Protect one IP packet and send it to the client (raw ESP or UDP-encapsulated)."""
        esp = self.esp.protect(packet, self.loop.time())
        if esp is None:
            return False
        encapsulation = self.esp.encapsulation
        if encapsulation is not None:
            return self.server.udp_send(
                esp, encapsulation.local_port, (self.ike.peer_address, encapsulation.remote_port), self.local
            )
        return self.raw.send(esp)

    def _l2tp_in(self, packet: bytes) -> None:
        lns = self.server.l2tp
        parsed = udp_payload(packet)
        if lns is None or parsed is None or parsed[1] != self.server.l2tp_port:
            self.esp.counters.dropped_in += 1
            return
        sport, dport, data = parsed
        key = (self.address, sport)
        route = self._routes.get(key)
        if route is None or not route.alive:
            client, gateway = str(ipaddress.IPv4Address(packet[12:16])), str(ipaddress.IPv4Address(packet[16:20]))
            route = EspRoute(client, sport, gateway, dport, self.send_packet)
            self._routes[key] = route
        lns.from_esp(data, key, self.local, route)

    def _tunnel_in(self, packet: bytes) -> None:
        # The SA's selectors say: from the address we handed out, nothing else (no spoofing via the tunnel).
        if self.lease is None or len(packet) < 20 or packet[0] >> 4 != 4:
            self.esp.counters.dropped_in += 1
            return
        if packet[12:16] != self._lease_packed:
            self.esp.counters.dropped_in += 1
        elif not self._tun_ready or self.tun is None:
            self._hold(packet)
        elif not self.tun.write(packet):
            self.esp.counters.dropped_in += 1

    def _transport_in(self, packet: bytes) -> None:
        # Transport mode rebuilds the header from the SA's addresses: it is from the client, to us.
        if not self._tun_ready or self.tun is None:
            self._hold(packet)
        elif not self.tun.write(packet):
            self.esp.counters.dropped_in += 1

    def _hold(self, packet: bytes) -> None:
        """Keep the first packets while the TUN device is still being configured."""
        if self._early is None:
            self._early = []
        if len(self._early) < EARLY_PACKETS and self._tun_task is not None:
            self._early.append(packet)
        else:
            self.esp.counters.dropped_in += 1

    def _start_tun(self) -> None:
        if self._tun_task is not None:
            return
        if self.service == "ipsec_transport":
            self._tun_task = self.loop.create_task(self._open_transport_tun())
        elif self.lease is not None:
            self._tun_task = self.loop.create_task(self._open_tun())

    def _from_tun(self, packet: bytes) -> None:
        if self._transport is not None and (
            len(packet) < 20 or packet[12:16] != self._local_packed or packet[16:20] != self._peer_packed
        ):
            self.esp.counters.dropped_out += 1  # a transport SA carries only packets between the two hosts
            return
        self.send_packet(packet)

    async def _open_transport_tun(self) -> None:
        rule = self.server.transport_rule
        assert rule is not None
        self._transport = TransportRoute(rule, self.address, self.local)
        config = self.server.shared.config
        try:
            self.tun = TunDevice.create(TUN_NAME)
            await self._transport.apply(self.tun.name, min(config.mtu or ESP_TUNNEL_MTU, ESP_TUNNEL_MTU))
        except (NetError, OSError) as exc:
            why = getattr(exc, "reason", None) or str(exc)
            self.log(f"{self.label}: cannot route the client's traffic through IPsec: {why}")
            self.ike.close(self.loop.time(), "the gateway could not set up host-to-host routing")
            self.flush()
            return
        if self.closed.done() or self.tun is None:
            return
        self._tun_up()
        self.log(f"{self.label}: traffic with {self.address} now goes through {self.tun.name} (ESP transport)")

    async def _open_tun(self) -> None:
        lease = self.lease
        if lease is None:
            self.log(f"{self.label}: the tunnel SA is up but no address was handed out; closing")
            self.ike.close(self.loop.time(), "no Mode Config address")
            self.flush()
            return
        config = self.server.shared.config
        try:
            self.tun = TunDevice.create(TUN_NAME)
            self._applier = DirectApplier()
            await self._applier.apply(
                NetworkSettings(
                    ifname=self.tun.name,
                    local_ipv4=config.server_address,
                    peer_ipv4=lease,
                    mtu=min(config.mtu or ESP_TUNNEL_MTU, ESP_TUNNEL_MTU),
                    full_tunnel=False,
                )
            )
        except (NetError, OSError) as exc:
            why = getattr(exc, "reason", None) or str(exc)
            self.log(f"{self.label}: cannot set up the tunnel interface: {why}")
            self.ike.close(self.loop.time(), "the gateway could not set up the tunnel interface")
            self.flush()
            return
        if self.closed.done() or self.tun is None:
            return
        self._tun_up()
        who = f"user {self.user!r}" if self.user else "the client"
        self.log(
            f"{self.label}: {who} got address {lease} on {self.tun.name} (server {config.server_address}, ESP tunnel)"
        )

    def _tun_up(self) -> None:
        """The device is configured: deliver what arrived meanwhile, then start reading."""
        assert self.tun is not None
        early, self._early = self._early or [], None
        self._tun_ready = True
        for packet in early:
            if not self.tun.write(packet):
                self.esp.counters.dropped_in += 1
        self.tun.start_reading(self._from_tun)

    # -- end -------------------------------------------------------------------------------------

    async def close(self, reason: str) -> None:
        """Delete the SAs (INFORMATIONAL delete), bounded; the Closed event tears the rest down."""
        if not self.closed.done():
            self.ike.close(self.loop.time(), reason)
            self.flush()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self.closed), CLOSE_GRACE)
        if not self.closed.done():
            await self._teardown(reason)

    async def _teardown(self, reason: str) -> None:
        if self.closed.done() or self.ending:  # once: the pool address must not be released twice
            return
        self.ending = True
        self._timer.cancel()
        for spi in list(self.esp.inbound):
            if self.server.spis.get(spi) is self:
                del self.server.spis[spi]
        self.esp.inbound.clear()
        self.esp.outbound = None
        lns = self.server.l2tp
        for key, route in self._routes.items():
            route.alive = False
            if lns is not None:
                lns.carrier_lost(key, reason)
        if self._tun_task is not None and not self._tun_task.done():
            with contextlib.suppress(Exception):
                await self._tun_task
        self._tun_ready = False
        if self.tun is not None:
            self.tun.stop_reading()
        if self._applier is not None:
            applier, self._applier = self._applier, None
            for problem in await applier.revert():
                self.log(f"{self.label}: cleanup: {problem}")
        if self._transport is not None:
            for problem in await self._transport.revert():
                self.log(f"{self.label}: cleanup: {problem}")
        if self.tun is not None:
            self.tun.close()
            self.tun = None
        if self.lease is not None:
            self.server.shared.pool.release(self.lease)
        self.raw.close()
        self.server.release(self)
        c = self.esp.counters
        self.log(f"{self.label}: closed: {reason} ({c.packets_in} packets in, {c.packets_out} packets out)")
        if not self.closed.done():
            self.closed.set_result(None)


class IpsecServer:
    """UDP 500 and 4500 for IKEv1 (and ESP in UDP), one :class:`IpsecPeer` per client address."""

    def __init__(self, shared: GatewayShared, l2tp: IpsecL2tpServer | None) -> None:
        if shared.config.ipsec is None:
            raise ValueError("the configuration has no ipsec section")
        self.shared = shared
        self.policy: IpsecPolicy = shared.config.ipsec
        self.l2tp = l2tp
        self.l2tp_port = shared.config.policies["l2tp"].port
        self.peers: dict[str, IpsecPeer] = {}
        self.spis: dict[int, IpsecPeer] = {}
        self.ports: dict[int, UdpServer] = {}
        host_to_host = "ipsec_transport" in self.policy.services
        self.mark = GATEWAY_FWMARK if host_to_host else 0  # on every IKE and ESP socket
        self.transport_rule = SharedPolicyRule() if host_to_host else None
        self.dropped = 0
        self.ikev1_services = self.policy.ikev1_services
        self.ikev2_peer: type[Ikev2Peer] | None = None
        if self.policy.ikev2 is not None:
            from wizard.stacks.gateway.ikev2_peer import Ikev2Peer  # it builds on IpsecPeer

            self.ikev2_peer = Ikev2Peer

    def ike_config(
        self, local: str, peer: str, service: str, lease: Callable[[str], ModeConfigLease | None]
    ) -> IKEv1Config:
        policy = self.policy
        xauth = service == "ikev1_xauth"
        if xauth:
            child = ChildConfig(
                mode="tunnel", local_ts=TrafficSelector.network("0.0.0.0/0"), esp_proposals=policy.esp_proposals
            )
        else:
            child = ChildConfig(
                mode="transport",
                local_ts=responder_selector(local, policy.services, self.l2tp_port),
                esp_proposals=policy.esp_proposals,
            )
        users = self.shared.config.users

        def check(user: str, password: str) -> bool:
            known = users.get(user)
            return known is not None and hmac.compare_digest(known.encode("utf-8"), password.encode("utf-8"))

        return IKEv1Config(
            local_address=local,
            peer_address=peer,
            auth="psk",
            psk=policy.psk,
            ike_proposals=policy.ike_proposals,
            allow_legacy=policy.allow_legacy,
            child=child,
            xauth=xauth,
            xauth_check=check if xauth else None,
            mode_config=xauth,
            mode_config_provider=lease if xauth else None,
            dpd_interval=policy.dpd_interval,
            force_encapsulation=policy.force_encapsulation,
        )

    async def start(self) -> None:
        listen = self.shared.config.listen
        for port in (IKE_PORT, NAT_T_PORT):
            try:
                self.ports[port] = UdpServer.open((listen, port), self._receiver(port), mark=self.mark)
            except OSError as exc:
                self.stop_sockets()
                why = os.strerror(exc.errno).lower() if exc.errno else str(exc)
                hint = " (is another IPsec daemon, such as charon, running?)" if exc.errno == errno.EADDRINUSE else ""
                raise NetError(f"cannot listen on UDP {listen}:{port} for IKE: {why}{hint}") from None
        versions = " and ".join(v for v, on in (("IKEv1", self.ikev1_services), ("IKEv2", self.ikev2_peer)) if on)
        self.shared.log(
            f"gateway: {versions} listening on {listen}:{IKE_PORT} and {NAT_T_PORT} ({', '.join(self.policy.services)})"
        )

    def _receiver(self, port: int) -> Callable[[bytes, Peer, str | None], None]:
        return lambda data, peer, local: self._on_udp(port, data, peer, local)

    def udp_send(self, data: bytes, local_port: int, peer: Peer, source: str) -> bool:
        server = self.ports.get(local_port)
        return server is not None and server.send(data, peer, source)

    def _on_udp(self, port: int, data: bytes, peer: Peer, local: str | None) -> None:
        if port == NAT_T_PORT:
            try:
                kind = classify_udp_payload(data)
            except ParseError:
                self.dropped += 1
                return
            if kind is UdpPayloadKind.KEEPALIVE:
                return
            if kind is UdpPayloadKind.ESP:
                owner = self.spis.get(spi_of_payload(data))
                if owner is None:
                    self.dropped += 1
                else:
                    owner.on_esp(data)
                return
        if self.ikev2_peer is not None and (header := ikev2_header(data, port)) is not None:
            self._on_ikev2(self.ikev2_peer, sa_init_spi(header), port, data, peer, local)
            return
        current = self.peers.get(peer[0])
        start = phase1_start(data, port, self.ikev1_services) if self.ikev1_services else None
        if current is not None and current.closed.done():
            current = None
        if current is not None and start is not None and _starts_over(current, start):
            self.peers.pop(peer[0], None)
            current.log(f"{current.label}: the client started over; dropping its earlier negotiation")
            asyncio.get_running_loop().create_task(current._teardown("the client started a new negotiation"))
            current = None
        if current is None:
            if start is None or self.shared.stopping or len(self.peers) >= MAX_PEERS:
                self.dropped += 1
                return
            try:
                current = IpsecPeer(self, peer[0], local or self.shared.config.listen, start.service)
            except (TransportError, ValueError) as exc:
                self.shared.log(f"ipsec {peer[0]}: refused: {exc}")
                return
            self.peers[peer[0]] = current
        if start is not None:
            current.cookies.add(start.cookie)
        current.receive_ike(data, port, peer)

    def _on_ikev2(
        self, kind: type[Ikev2Peer], spi_i: bytes | None, port: int, data: bytes, peer: Peer, local: str | None
    ) -> None:
        """An IKEv2 datagram: to the client's IKEv2 peer; an IKE_SA_INIT request may start one."""
        current = self.peers.get(peer[0])
        if current is not None and (current.closed.done() or current.ending):
            current = None  # its teardown releases it; the client's next negotiation gets a new peer
        if current is not None and spi_i is not None and kind.starts_over(current, spi_i):
            self.peers.pop(peer[0], None)
            current.log(f"{current.label}: the client started over; dropping its earlier negotiation")
            asyncio.get_running_loop().create_task(current._teardown("the client started a new negotiation"))
            current = None
        if current is None:
            if spi_i is None or self.shared.stopping or len(self.peers) >= MAX_PEERS:
                self.dropped += 1
                return
            try:
                current = kind(self, peer[0], local or self.shared.config.listen)
            except (TransportError, ValueError) as exc:
                self.shared.log(f"ikev2 {peer[0]}: refused: {exc}")
                return
            self.peers[peer[0]] = current
        current.receive_ike(data, port, peer)

    def release(self, peer: IpsecPeer) -> None:
        if self.peers.get(peer.address) is peer:
            del self.peers[peer.address]

    def stop_sockets(self) -> None:
        for server in self.ports.values():
            server.close()
        self.ports.clear()

    async def stop(self, reason: str) -> None:
        try:
            await asyncio.gather(*(p.close(reason) for p in list(self.peers.values())), return_exceptions=True)
        finally:
            if self.transport_rule is not None:  # normally gone with the last client; never left behind
                for problem in await self.transport_rule.release(everyone=True):
                    self.shared.log(f"gateway: cleanup: {problem}")
            self.stop_sockets()
