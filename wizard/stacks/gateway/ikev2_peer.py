"""One IKEv2 remote-access client of the gateway: the ``ikev2`` service.

An :class:`Ikev2Peer` is an :class:`IpsecPeer` whose IKE engine is a :class:`GatewayResponder`
(PSK, certificate or EAP-MSCHAPv2 sign-in) and whose data path is the ``ikev1_xauth`` one: an
address from the shared pool handed out in the configuration payload, an ESP tunnel SA, and a TUN
device per client (``server_address`` local, the client's address as peer); packets that arrive
while the device is being set up are held. What differs from IKEv1: inbound ESP tells the engine
which SA it came on (an IKEv2 rekey we answered switches over when the client's first packet on the
new SA arrives), and a negotiation that never got past IKE_SA_INIT (a cookie or INVALID_KE answer
the client never followed) is dropped after :data:`HALF_OPEN_LIMIT` seconds.
"""

from __future__ import annotations

import asyncio

from wizard.engine.esp import spi_of_payload
from wizard.engine.ike.v1 import events as iev
from wizard.engine.ike.v1.connection import IKEv1Connection
from wizard.engine.ike.v2 import events as v2ev
from wizard.engine.ike.v2.config import AddressLease
from wizard.engine.ike.v2.connection import IKEv2Connection
from wizard.engine.ike.v2.state import State
from wizard.stacks.gateway.ikev2_responder import GatewayResponder, responder_configs
from wizard.stacks.gateway.ipsec_server import IpsecPeer, IpsecServer

SERVICE = "ikev2"
HALF_OPEN_LIMIT = 30.0


class Ikev2Peer(IpsecPeer):
    """One IKEv2 client: its responder, ESP SAs, raw ESP socket, pool address and TUN device."""

    def __init__(self, server: IpsecServer, address: str, local: str) -> None:
        super().__init__(server, address, local, SERVICE)
        self.label = f"ikev2 {address}"
        self._reaper: asyncio.TimerHandle | None = self.loop.call_later(HALF_OPEN_LIMIT, self._reap)

    def _responder(self, local: str, address: str, service: str) -> IKEv1Connection | IKEv2Connection:
        config = self.server.shared.config
        configs = responder_configs(
            self.server.policy, config.users, local, address, self._address_lease, config.host_name
        )
        return GatewayResponder(configs)

    @property
    def v2(self) -> GatewayResponder:
        assert isinstance(self.ike, GatewayResponder)
        return self.ike

    @staticmethod
    def starts_over(current: IpsecPeer, spi_i: bytes) -> bool:
        """An IKE_SA_INIT request with a new SPI replaces an IKEv1 peer or an IKEv2 one that has an IKE SA.

        There is no IKE_SA_INIT inside an IKE SA (IKEv2 rekeys with CREATE_CHILD_SA), so the client
        has started over; a peer still without an IKE SA takes the request itself (a cookie retry).
        """
        if not isinstance(current, Ikev2Peer):
            return True
        sa = current.v2.ike_sa
        return sa is not None and sa.spi_i != spi_i

    def _address_lease(self, who: str) -> AddressLease | None:
        """The configuration payload: an address from the shared pool and the gateway's DNS servers."""
        address = self._allocate(repr(who))
        if address is None:
            return None
        return AddressLease(address, None, self.server.shared.config.dns_servers)

    # -- events ----------------------------------------------------------------------------------

    def _handle(self, event: iev.Event) -> None:
        if isinstance(event, v2ev.IKESAUp):
            self._ike_up(event)
        elif isinstance(event, v2ev.ChildSAUp):
            if self.lease is None:
                self.log(f"{self.label}: the client asked for no address (configuration payload); closing")
                self.ike.close(self.loop.time(), "this gateway serves remote-access clients that take an address")
                self.flush()
                return
            self._install(event.sa, "up")
            self._start_tun()
        elif isinstance(event, v2ev.ChildSAInboundReady):
            self.esp.add_inbound(event.new, self.loop.time())
            self.server.spis[event.new.spi_in] = self
        elif isinstance(event, v2ev.ChildSARekeyed):
            self._install(event.new, "rekeyed")
        elif isinstance(event, v2ev.ConnectionFailed):
            refused = event.notify == "AUTHENTICATION_FAILED"
            who = f"client {self.v2.peer_id!r}: " if refused and self.v2.peer_id else ""
            self.log(f"{self.label}: {'auth failed' if refused else 'failed'}: {who}{event.reason}")
        else:  # NAT, deletes, a dead client and the end are handled as for IKEv1
            super()._handle(event)

    def _ike_up(self, event: v2ev.IKESAUp) -> None:
        if event.rekey:
            self.log(f"{self.label}: IKE SA rekeyed: {event.suite}")
            return
        if self._reaper is not None:
            self._reaper.cancel()
            self._reaper = None
        self.user = event.eap_identity or None
        self.log(f"{self.label}: IKE SA up: {event.suite}, client {event.peer_id} ({event.peer_auth})")
        if self.user:
            self.log(f"{self.label}: auth ok: user {self.user!r} ({event.peer_auth})")

    # -- ESP -------------------------------------------------------------------------------------

    def on_esp(self, esp: bytes) -> None:
        now = self.loop.time()
        packet = self.esp.unprotect(esp, now)
        if packet is None:
            return
        spi = spi_of_payload(esp)
        current = self.esp.child
        if current is not None and spi == current.spi_in:
            self.v2.note_traffic(now)
        else:  # a new SA from a rekey we answered: the engine switches our sending to it
            self.v2.note_traffic(now, spi)
            self.flush()
        self._tunnel_in(packet)

    # -- end -------------------------------------------------------------------------------------

    def _reap(self) -> None:
        self._reaper = None
        if not self.closed.done() and self.v2.state in (State.IDLE, State.SA_INIT):
            self.loop.create_task(self._teardown("the client did not continue after IKE_SA_INIT"))

    async def _teardown(self, reason: str) -> None:
        if self._reaper is not None:
            self._reaper.cancel()
            self._reaper = None
        await super()._teardown(reason)
