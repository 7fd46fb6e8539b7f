"""The sans-IO IKEv2 connection (RFC 7296): IKE_SA_INIT, IKE_AUTH (PSK, certificates, EAP), the
configuration payload, CREATE_CHILD_SA rekeys, INFORMATIONAL (deletes, liveness, MOBIKE), NAT-T,
fragmentation and retransmission.

Notes for the driver:

* :meth:`IKEv2Connection.datagrams_to_send` returns :class:`~wizard.engine.ike.v2.state.Datagram`
  tuples ``(data, dest_port)`` with ``source_port``, ``dest_address`` and ``source_address``. Data for
  the NAT-T port already begins with the non-ESP marker; :meth:`receive_datagram` expects datagrams
  exactly as they arrived (marker included) with ``local_port`` naming the socket that got them.
* The initiator moves to port 4500 after IKE_SA_INIT when a NAT is found or MOBIKE is on; the
  responder answers from the port a request arrived on, to the address and port it came from.
* Responder role: create one connection per peer when an IKE_SA_INIT request arrives; after
  :class:`~wizard.engine.ike.v2.events.Closed` create a new one for the peer's next attempt.
* Report inbound ESP with :meth:`note_traffic` (pass ``spi_in`` for SAs announced by
  ``ChildSAInboundReady``) so liveness checks stay quiet and rekeys switch over without loss.
"""

from __future__ import annotations

from wizard.engine.errors import LocalProtocolError, ParseError
from wizard.engine.ike.payloads import decode_header
from wizard.engine.ike.v1.natt import unframe
from wizard.engine.ike.v2.children import ChildrenMixin
from wizard.engine.ike.v2.config import IKEv2Config
from wizard.engine.ike.v2.events import Event
from wizard.engine.ike.v2.ike_auth import IkeAuthMixin
from wizard.engine.ike.v2.informational import InformationalMixin
from wizard.engine.ike.v2.sa_init import SAInitMixin
from wizard.engine.ike.v2.state import Datagram, IkeSA, Role, State


class IKEv2Connection(InformationalMixin, ChildrenMixin, IkeAuthMixin, SAInitMixin):
    """One IKEv2 peer relationship as initiator (client) or responder (gateway)."""

    def __init__(self, role: Role, config: IKEv2Config) -> None:
        super().__init__(role, config)

    @property
    def established(self) -> bool:
        return self.state is State.ESTABLISHED

    @property
    def ike_sa(self) -> IkeSA | None:
        return self._ike

    def connect(self, now: float) -> None:
        """Initiator: start IKE_SA_INIT."""
        if self.role != "initiator":
            raise LocalProtocolError("only the initiator connects; a responder waits for the peer")
        if self.state is not State.IDLE:
            raise LocalProtocolError("connect() was already called")
        self.state = State.SA_INIT
        self._start_sa_init(now)

    def receive_datagram(
        self,
        data: bytes,
        now: float,
        *,
        local_port: int = 500,
        remote_address: str | None = None,
        remote_port: int | None = None,
    ) -> None:
        """Feed one UDP payload as received on ``local_port``; malformed input is dropped and counted."""
        self.stats.received += 1
        if self.state is State.CLOSED:
            self.stats.unexpected_dropped += 1
            return
        src = (remote_address or self.peer_address, remote_port if remote_port is not None else self.peer_port)
        try:
            msg = unframe(data, local_port, self.config.nat_t_port)
            header = decode_header(msg)
            if header.major_version != 2:
                raise ParseError(f"IKE version {header.major_version}.{header.minor_version} is not IKEv2")
            self._dispatch(header, msg[: header.length], now, local_port, src)
        except ParseError:
            self.stats.malformed_dropped += 1
        except ValueError:
            # An impossible value that slipped past a parser (e.g. in an address); drop like malformed input.
            self.stats.malformed_dropped += 1

    def datagrams_to_send(self) -> list[Datagram]:
        out, self._out = self._out, []
        return out

    def next_event(self) -> Event | None:
        return self._events.popleft() if self._events else None

    def get_timer(self) -> float | None:
        if self.state is State.CLOSED:
            return None
        times: list[float] = []
        if self._request is not None and self._request.next_at is not None:
            times.append(self._request.next_at)
        for t in (self._dpd_time(), self._ike_rekey_time(), self._ike_expire_time(), self._setup_deadline):
            if t is not None:
                times.append(t)
        times += self._child_times()
        return min(times) if times else None

    def handle_timer(self, now: float) -> None:
        if self.state is State.CLOSED:
            return
        req = self._request
        if req is not None and req.next_at is not None and req.next_at <= now:
            self._retransmit(now)
        if self._setup_deadline is not None and now >= self._setup_deadline and self.state is not State.ESTABLISHED:
            self._fail(f"{self.peer_label} stopped before authentication finished", now, tell_peer=False)
        if self._closed():
            return
        self._dpd_tick(now)
        if self._closed():
            return
        self._lifetimes_tick(now)
        self._pump(now)

    def close(self, now: float, reason: str = "closed by the user") -> None:
        """Delete the IKE SA (and with it every child), telling the peer, and finish with Closed."""
        if self.state is State.CLOSED:
            return
        self._shutdown(now, reason, by_peer=False)


__all__ = ["Datagram", "IKEv2Connection", "Role", "State"]
