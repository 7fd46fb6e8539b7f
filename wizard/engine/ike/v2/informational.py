"""INFORMATIONAL (RFC 7296 §1.4): deletes, liveness checks (DPD, §2.4) and MOBIKE address updates
(RFC 4555 §3.5) in both roles.

A liveness check is an empty request sent after ``dpd_interval`` seconds without hearing from the peer;
its retransmissions running out means the peer is dead. MOBIKE: the initiator moves the IKE and child
SAs to a new local address with UPDATE_SA_ADDRESSES (plus NAT_D and a COOKIE2 echoed by the responder).
"""

from __future__ import annotations

from dataclasses import replace

from wizard.engine.errors import LocalProtocolError
from wizard.engine.ike.payloads import ExchangeType, Payload
from wizard.engine.ike.v2 import reasons
from wizard.engine.ike.v2.constants import NotifyType, PayloadType, ProtocolId
from wizard.engine.ike.v2.core import ConnectionCore, has_notify
from wizard.engine.ike.v2.events import AddressesUpdated, ChildSADeleted, ChildSARekeyed, NATDetected
from wizard.engine.ike.v2.messages import DeletePayload, notifies
from wizard.engine.ike.v2.sa_init import nat_hash
from wizard.engine.ike.v2.state import ChildEntry, IkeSA, State

_COOKIE2_SIZE = 16


class InformationalMixin(ConnectionCore):
    _cookie2: bytes = b""

    # --- responder ----------------------------------------------------------------------------------

    def _on_informational_request(self, sa: IkeSA, mid: int, payloads: tuple[Payload, ...], now: float,
                                  src: tuple[str, int]) -> None:  # fmt: skip
        out: list[Payload] = []
        deleted_children = False
        for p in payloads:
            if p.type != PayloadType.DELETE:
                continue
            d = DeletePayload.decode(p.body)
            if d.protocol == ProtocolId.IKE:
                self._respond(sa, ExchangeType.INFORMATIONAL_V2, mid, [], src)
                if sa is self._ike:
                    self._shutdown(now, f"{self.peer_label} closed the connection", by_peer=True, tell_peer=False)
                else:
                    sa.deleted = True
                    self._sas.pop(sa.key(), None)
                return
            if d.protocol != ProtocolId.ESP:
                continue
            ours: list[bytes] = []
            for spi in d.spis:
                c = self._find_child(int.from_bytes(spi, "big"), inbound=False)
                if c is None:
                    continue
                ours.append(c.sa.spi_in.to_bytes(4, "big"))
                deleted_children |= self._peer_deleted_child(c, now)
            if ours:
                out.append(Payload(PayloadType.DELETE, DeletePayload(ProtocolId.ESP, tuple(ours)).encode()))
        ns = notifies(payloads)
        update = any(n.notify_type == NotifyType.UPDATE_SA_ADDRESSES for n in ns)
        if update and self.role == "responder" and self.peer_mobike and sa is self._ike:
            out += self._mobike_answer(sa, payloads, src, now)
        for n in ns:
            if n.notify_type == NotifyType.AUTHENTICATION_FAILED:
                self._respond(sa, ExchangeType.INFORMATIONAL_V2, mid, [], src)
                self._fail(reasons.auth_rejected(self.peer_label, self.config.auth), now, n.notify_type, tell_peer=False)
                return
        self._respond(sa, ExchangeType.INFORMATIONAL_V2, mid, out, src)
        if deleted_children:
            self._maybe_no_children(now)

    def _peer_deleted_child(self, c: ChildEntry, now: float) -> bool:
        """True when a live child went away (not a rekeyed-away one)."""
        if c.pending_switch is not None:
            new = c.pending_switch
            c.pending_switch = None
            c.switch_at = None
            self._emit(ChildSARekeyed(c.sa, new.sa))
        if c.replaced_by is not None:
            if c.delete_at is None:
                c.delete_at = now + self.config.rekey_linger
                c.delete_reason = "rekeyed"
            return False
        c.deleted = True
        self._emit(ChildSADeleted(c.sa, f"{self.peer_label} deleted the IPsec SA", True))
        return True

    # --- liveness ---------------------------------------------------------------------------------------

    def _dpd_time(self) -> float | None:
        interval = self.config.dpd_interval
        if interval is None or self.state is not State.ESTABLISHED or self._request is not None or self._queue:
            return None
        return self._last_heard + interval

    def _dpd_tick(self, now: float) -> None:
        t = self._dpd_time()
        sa = self._ike
        if t is None or now < t or sa is None:
            return
        self.stats.liveness_checks += 1
        self._last_heard = now
        self._informational(sa, [], now, "liveness")

    def note_traffic(self, now: float, spi_in: int | None = None) -> None:
        """Inbound ESP from the peer: it is alive (no liveness check needed). With ``spi_in`` of a new SA
        after a rekey we answered, the peer has switched, so we switch our sending too."""
        self._last_heard = max(self._last_heard, now)
        if spi_in is None:
            return
        for c in self._children:
            if c.pending_switch is not None and c.pending_switch.sa.spi_in == spi_in:
                new = c.pending_switch
                c.pending_switch = None
                c.switch_at = None
                self._emit(ChildSARekeyed(c.sa, new.sa))

    # --- MOBIKE -----------------------------------------------------------------------------------------

    def update_local_address(self, address: str, port: int | None, now: float) -> None:
        """Our address changed (initiator): move the SAs with MOBIKE, or end the connection if the gateway
        cannot follow (the stack then reconnects). ``port`` is the local port to send from (default 4500)."""
        if self.role != "initiator":
            raise LocalProtocolError("only the initiator moves the SAs (RFC 4555)")
        if self.state in (State.IDLE, State.CLOSED):
            self.local_address = address
            if port is not None:
                self.local_port = port
            return
        if self.state is not State.ESTABLISHED or not self.peer_mobike:
            self.local_address = address
            self._fail(f"our address changed to {address} and {self.peer_label} does not support MOBIKE; reconnect", now,
                       tell_peer=False)  # fmt: skip
            return
        self.local_address = address
        self.local_port = port if port is not None else self.config.nat_t_port
        self.peer_port = self.config.nat_t_port

        def start(t: float) -> None:
            sa = self._ike
            if sa is None or self._closed():
                return
            self._cookie2 = self._rand(_COOKIE2_SIZE)
            out = [self._notify(NotifyType.UPDATE_SA_ADDRESSES), *self._nat_d(sa, (self.local_address, self.local_port),
                   (self.peer_address, self.peer_port)), self._notify(NotifyType.COOKIE2, self._cookie2)]  # fmt: skip
            self._send_request(sa, ExchangeType.INFORMATIONAL_V2, out, "mobike",
                               lambda p, t2: self._on_update_response(sa, p, t2), self._peer_gone, t)  # fmt: skip

        self._enqueue(start, now)

    def _nat_d(self, sa: IkeSA, ours: tuple[str, int], peer: tuple[str, int]) -> list[Payload]:
        src = nat_hash(sa.spi_i, sa.spi_r, self._packed(ours[0]), ours[1])
        if self.config.force_encapsulation and self.role == "initiator":
            src = self._rand(20)
        dst = nat_hash(sa.spi_i, sa.spi_r, self._packed(peer[0]), peer[1])
        return [self._notify(NotifyType.NAT_DETECTION_SOURCE_IP, src), self._notify(NotifyType.NAT_DETECTION_DESTINATION_IP, dst)]

    def _nat_flags(self, sa: IkeSA, payloads: tuple[Payload, ...], ours: tuple[str, int],
                   peer: tuple[str, int]) -> tuple[bool, bool] | None:  # fmt: skip
        ns = notifies(payloads)
        srcs = [n.data for n in ns if n.notify_type == NotifyType.NAT_DETECTION_SOURCE_IP]
        dsts = [n.data for n in ns if n.notify_type == NotifyType.NAT_DETECTION_DESTINATION_IP]
        if not srcs or not dsts:
            return None
        local = dsts[0] != nat_hash(sa.spi_i, sa.spi_r, self._packed(ours[0]), ours[1])
        remote = nat_hash(sa.spi_i, sa.spi_r, self._packed(peer[0]), peer[1]) not in srcs
        if self.config.force_encapsulation and self.role == "initiator":
            local = True
        return local, remote

    def _apply_addresses(self, flags: tuple[bool, bool] | None, now: float) -> None:
        if flags is not None:
            was = self.nat_detected
            self.local_behind_nat, self.peer_behind_nat = flags
            self.nat_detected = flags[0] or flags[1]
            if self.nat_detected and not was:
                self._emit(NATDetected(flags[0], flags[1], self.config.nat_t_port))
        moved: list[ChildEntry] = []
        for c in self._children:
            if c.deleted:
                continue
            c.sa = replace(c.sa, local_address=self.local_address, peer_address=self.peer_address, local_port=self.local_port,
                           peer_port=self.peer_port, encapsulated=self.nat_detected)  # fmt: skip
            moved.append(c)
        self._emit(AddressesUpdated(self.local_address, self.local_port, self.peer_address, self.peer_port, self.nat_detected,
                                    tuple(c.sa for c in moved if c.replaced_by is None)))  # fmt: skip

    def _on_update_response(self, sa: IkeSA, payloads: tuple[Payload, ...], now: float) -> None:
        echo = has_notify(payloads, NotifyType.COOKIE2)
        if echo is None or echo.data != self._cookie2:
            self._fail(f"{self.peer_label} did not confirm the address update (COOKIE2 missing); reconnect", now)
            return
        if has_notify(payloads, NotifyType.UNACCEPTABLE_ADDRESSES) is not None:
            self._fail(f"{self.peer_label} refused our new address {self.local_address}; reconnect", now, tell_peer=False)
            return
        flags = self._nat_flags(sa, payloads, (self.local_address, self.local_port), (self.peer_address, self.peer_port))
        self._apply_addresses(flags, now)

    def _mobike_answer(self, sa: IkeSA, payloads: tuple[Payload, ...], src: tuple[str, int], now: float) -> list[Payload]:
        self.peer_address, self.peer_port = src
        flags = self._nat_flags(sa, payloads, (self.local_address, self.local_port), src)
        out = self._nat_d(sa, (self.local_address, self.local_port), src)
        cookie2 = has_notify(payloads, NotifyType.COOKIE2)
        if cookie2 is not None:
            out.append(self._notify(NotifyType.COOKIE2, cookie2.data))
        self._apply_addresses(flags, now)
        return out
