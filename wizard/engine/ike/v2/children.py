"""CREATE_CHILD_SA (RFC 7296 §1.3): rekeying Child SAs (with or without PFS) and the IKE SA, both roles,
make-before-break; plus the lifetime timers that start rekeys and expire SAs.

Child rekey order, so no packet is lost: the initiator installs the new pair when the answer arrives and
then deletes the old SA; the responder accepts traffic on the new SA at once
(:class:`~wizard.engine.ike.v2.events.ChildSAInboundReady`) but keeps sending on the old one until the
peer deletes it or sends on the new one (§2.8). The old inbound SA lingers ``rekey_linger`` seconds.
A rekey request that collides with our own is answered with TEMPORARY_FAILURE and retried later.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from wizard.engine.crypto.suites import DHGroup, DHKey, dh_group_by_id
from wizard.engine.errors import ParseError
from wizard.engine.ike.payloads import ExchangeType, Payload
from wizard.engine.ike.v2.constants import NotifyType, PayloadType, ProtocolId, notify_name
from wizard.engine.ike.v2.core import ConnectionCore, error_notifies, first, has_notify, require
from wizard.engine.ike.v2.events import ChildSADeleted, ChildSAInboundReady, ChildSARekeyed, IKESAUp
from wizard.engine.ike.v2.keys import derive_child_keys, derive_ike_keys, skeyseed_rekey
from wizard.engine.ike.v2.messages import DeletePayload, KEPayload, SAPayload, decode_nonce
from wizard.engine.ike.v2.proposals import (
    EspSuite,
    IkeSuite,
    accept_esp,
    accept_ike,
    choose_esp,
    choose_ike,
    esp_sa_payload,
    ike_sa_payload,
)
from wizard.engine.ike.v2.state import ChildEntry, IkeSA, State
from wizard.engine.ike.v2.ts import decode_ts, encode_ts, narrow

NONCE_SIZE = 32
RETRY_LATER = 10.0
SWITCH_WAIT = 5.0


@dataclass
class _ChildRekey:
    old: ChildEntry
    spi: bytes
    offer: SAPayload
    group: DHGroup | None
    dh: DHKey | None
    nonce: bytes
    ke_tries: int = 0


@dataclass
class _IkeRekey:
    old: IkeSA
    spi: bytes
    offer: SAPayload
    group: DHGroup
    dh: DHKey
    nonce: bytes
    ke_tries: int = 0


class ChildrenMixin(ConnectionCore):
    # --- public calls -------------------------------------------------------------------------------

    def rekey_child(self, now: float, spi_in: int | None = None) -> bool:
        """Replace a child SA (e.g. its kilobyte lifetime ran low); False when none can be rekeyed now."""
        if self.state is not State.ESTABLISHED:
            return False
        for c in self._children:
            if c.deleted or c.replaced_by is not None or c.rekeying or (spi_in is not None and c.sa.spi_in != spi_in):
                continue
            self._start_child_rekey(c, now)
            return True
        return False

    def rekey_ike(self, now: float) -> bool:
        """Replace the IKE SA (its children move to the new one); False when not possible now."""
        sa = self._ike
        if self.state is not State.ESTABLISHED or sa is None or sa.rekey_started or sa.deleted:
            return False
        sa.rekey_started = True
        self._enqueue(lambda t: self._send_ike_rekey(sa, t), now)
        return True

    # --- child rekey, initiator -----------------------------------------------------------------------

    def _start_child_rekey(self, c: ChildEntry, now: float, group: DHGroup | None = None, tries: int = 0) -> None:
        c.rekeying = True

        def start(t: float) -> None:
            sa = self._ike
            if self._closed() or c.deleted or c.replaced_by is not None or sa is None or not sa.established:
                c.rekeying = False
                return
            pfs = group if group is not None else self._pfs
            spi = self._child_spi()
            ctx = _ChildRekey(c, spi, esp_sa_payload(self._esp_offers, spi, pfs=pfs), pfs,
                              pfs.generate(self._rand(pfs.private_size)) if pfs else None, self._rand(NONCE_SIZE), tries)  # fmt: skip
            out: list[Payload] = [self._notify(NotifyType.REKEY_SA, b"", ProtocolId.ESP, c.sa.spi_in.to_bytes(4, "big"))]
            if c.sa.mode == "transport":
                out.append(self._notify(NotifyType.USE_TRANSPORT_MODE))
            out += [Payload(PayloadType.SA, ctx.offer.encode()), Payload(PayloadType.NONCE, ctx.nonce)]
            if pfs is not None and ctx.dh is not None:
                out.append(Payload(PayloadType.KE, KEPayload(pfs.number, ctx.dh.public_bytes()).encode()))
            out += [Payload(PayloadType.TSI, encode_ts(c.local_ts)), Payload(PayloadType.TSR, encode_ts(c.remote_ts))]
            self._send_request(sa, ExchangeType.CREATE_CHILD_SA, out, "rekey-child",
                               lambda p, t2: self._on_child_rekey_response(ctx, p, t2), self._peer_gone, t)  # fmt: skip

        self._enqueue(start, now)

    def _rekey_later(self, c: ChildEntry, now: float) -> None:
        c.rekeying = False
        c.rekey_at = now + RETRY_LATER * (1 + self._rand(1)[0] / 255.0)

    def _on_child_rekey_response(self, ctx: _ChildRekey, payloads: tuple[Payload, ...], now: float) -> None:
        c = ctx.old
        for n in error_notifies(payloads):
            if n.notify_type == NotifyType.INVALID_KE_PAYLOAD and len(n.data) == 2 and ctx.ke_tries < 2:
                group = dh_group_by_id(int.from_bytes(n.data, "big"))
                if group is not None:
                    c.rekeying = False
                    self._start_child_rekey(c, now, group, ctx.ke_tries + 1)
                    return
            if n.notify_type == NotifyType.CHILD_SA_NOT_FOUND:
                c.deleted = True
                self._emit(ChildSADeleted(c.sa, f"{self.peer_label} no longer knows the IPsec SA", True))
                self._maybe_no_children(now)
                return
            self.last_failure = f"{self.peer_label} refused to rekey the IPsec SA ({notify_name(n.notify_type)})"
            self._rekey_later(c, now)
            return
        sa = self._ike
        assert sa is not None and sa.suite is not None and sa.keys is not None
        sa_p = SAPayload.decode(require(payloads, PayloadType.SA, "SA").body)
        suite = accept_esp(sa_p, ctx.offer, pfs=ctx.group)
        nr = decode_nonce(require(payloads, PayloadType.NONCE, "nonce").body)
        g_ir = b""
        ke_p = first(payloads, PayloadType.KE)
        if suite is None or (ctx.group is not None) != (ke_p is not None) or (ctx.group is not None and suite.group != ctx.group):
            self.last_failure = f"{self.peer_label} answered the IPsec SA rekey with a proposal we did not offer"
            self._rekey_later(c, now)
            return
        if ke_p is not None and ctx.dh is not None and ctx.group is not None:
            ke = KEPayload.decode(ke_p.body)
            if ke.group != ctx.group.number:
                raise ParseError("rekey answer with a key exchange of another group")
            g_ir = ctx.dh.shared_secret(ke.data)
        tsi, tsr = decode_ts(require(payloads, PayloadType.TSI, "TSi").body), decode_ts(require(payloads, PayloadType.TSR, "TSr").body)
        keys = derive_child_keys(sa.suite.prf, sa.keys.sk_d, ctx.nonce, nr, suite.cipher, suite.integrity, g_ir)
        new = self._new_child(suite, ctx.spi, sa_p.proposals[0].spi, keys, we_initiated=True, local_ts=tsi, remote_ts=tsr,
                              transport=c.sa.mode == "transport", now=now)  # fmt: skip
        c.rekeying = False
        if c.deleted:  # the peer deleted it meanwhile: drop the new one too
            self._delete_child(new, now, "the IPsec SA it replaced is gone", by_peer=False)
            return
        c.replaced_by = new
        self.stats.child_rekeys += 1
        self._emit(ChildSARekeyed(c.sa, new.sa))
        delete = Payload(PayloadType.DELETE, DeletePayload(ProtocolId.ESP, (c.sa.spi_in.to_bytes(4, "big"),)).encode())

        def deleted(_p: object, t: float) -> None:
            self._retire(c, t, "rekeyed")

        self._informational(sa, [delete], now, "delete-child", deleted)

    def _retire(self, c: ChildEntry, now: float, reason: str) -> None:
        """A rekeyed-away SA: keep its inbound half ``rekey_linger`` seconds, then report it deleted."""
        if not c.deleted and c.delete_at is None:
            c.delete_at = now + self.config.rekey_linger
            c.delete_reason = reason

    # --- IKE rekey, initiator ---------------------------------------------------------------------------

    def _send_ike_rekey(self, old: IkeSA, now: float, group: DHGroup | None = None, tries: int = 0) -> None:
        if self._closed() or old is not self._ike or old.deleted:
            old.rekey_started = False
            return
        assert old.suite is not None
        group = group or old.suite.group
        spi = self._spi(8)
        ctx = _IkeRekey(old, spi, ike_sa_payload(self._ike_offers, spi), group, group.generate(self._rand(group.private_size)),
                        self._rand(NONCE_SIZE), tries)  # fmt: skip
        out = [Payload(PayloadType.SA, ctx.offer.encode()), Payload(PayloadType.NONCE, ctx.nonce),
               Payload(PayloadType.KE, KEPayload(group.number, ctx.dh.public_bytes()).encode())]  # fmt: skip
        self._send_request(old, ExchangeType.CREATE_CHILD_SA, out, "rekey-ike",
                           lambda p, t: self._on_ike_rekey_response(ctx, p, t), self._peer_gone, now)  # fmt: skip

    def _on_ike_rekey_response(self, ctx: _IkeRekey, payloads: tuple[Payload, ...], now: float) -> None:
        old = ctx.old
        for n in error_notifies(payloads):
            if n.notify_type == NotifyType.INVALID_KE_PAYLOAD and len(n.data) == 2 and ctx.ke_tries < 2:
                group = dh_group_by_id(int.from_bytes(n.data, "big"))
                if group is not None:
                    self._enqueue(partial(self._send_ike_rekey, old, group=group, tries=ctx.ke_tries + 1), now)
                    return
            old.rekey_started = False
            self._ike_rekey_retry_at = now + RETRY_LATER * (1 + self._rand(1)[0] / 255.0)
            self.last_failure = f"{self.peer_label} refused to rekey the IKE SA ({notify_name(n.notify_type)})"
            return
        sa_p = SAPayload.decode(require(payloads, PayloadType.SA, "SA").body)
        suite = accept_ike(sa_p, ctx.offer)
        if suite is None or len(sa_p.proposals[0].spi) != 8:
            old.rekey_started = False
            self._ike_rekey_retry_at = now + RETRY_LATER
            return
        ke = KEPayload.decode(require(payloads, PayloadType.KE, "KE").body)
        nr = decode_nonce(require(payloads, PayloadType.NONCE, "nonce").body)
        if ke.group != ctx.group.number or suite.group != ctx.group:
            raise ParseError("IKE rekey answer with another Diffie-Hellman group")
        shared = ctx.dh.shared_secret(ke.data)
        assert old.keys is not None
        new = IkeSA(ctx.spi, sa_p.proposals[0].spi, True, ni=ctx.nonce, nr=nr)
        self._adopt_ike(old, new, suite, shared, now)
        delete = Payload(PayloadType.DELETE, DeletePayload(ProtocolId.IKE).encode())

        def gone(_p: object, _t: float) -> None:
            old.deleted = True
            self._sas.pop(old.key(), None)

        self._informational(old, [delete], now, "delete-ike", gone)

    def _adopt_ike(self, old: IkeSA, new: IkeSA, suite: IkeSuite, shared: bytes, now: float) -> None:
        assert old.keys is not None
        seed = skeyseed_rekey(suite.prf, old.keys.sk_d, shared, new.ni, new.nr)
        keys = derive_ike_keys(suite.prf, seed, new.ni, new.nr, new.spi_i, new.spi_r, suite.cipher, suite.integrity)
        self._install_keys(new, suite, keys)
        new.established, new.established_at = True, now
        old.rekey_started = True
        self._ike = new
        self.stats.ike_rekeys += 1
        self._emit(IKESAUp(suite.name, self.peer_id, self.config.auth, "", new.spi_i, new.spi_r, self.nat_detected, True,
                           "", self.peer_fragmentation, self.peer_mobike))  # fmt: skip

    _ike_rekey_retry_at: float | None = None

    # --- responder ----------------------------------------------------------------------------------

    def _on_create_child_request(self, sa: IkeSA, mid: int, payloads: tuple[Payload, ...], now: float,
                                 src: tuple[str, int]) -> None:  # fmt: skip
        def answer(out: list[Payload]) -> None:
            self._respond(sa, ExchangeType.CREATE_CHILD_SA, mid, out, src)

        if self.state is not State.ESTABLISHED or sa is not self._ike:
            answer([self._notify(NotifyType.TEMPORARY_FAILURE)])
            return
        sa_p = SAPayload.decode(require(payloads, PayloadType.SA, "SA").body)
        rekey = has_notify(payloads, NotifyType.REKEY_SA)
        if rekey is None and sa_p.proposals and all(p.protocol == ProtocolId.IKE for p in sa_p.proposals):
            self._answer_ike_rekey(sa, sa_p, payloads, now, answer)
            return
        if rekey is None or rekey.protocol != ProtocolId.ESP or len(rekey.spi) != 4:
            answer([self._notify(NotifyType.NO_ADDITIONAL_SAS)])
            return
        old = self._find_child(int.from_bytes(rekey.spi, "big"), inbound=False)
        if old is None or old.replaced_by is not None or old.delete_at is not None:
            answer([self._notify(NotifyType.CHILD_SA_NOT_FOUND, b"", ProtocolId.ESP, rekey.spi)])
            return
        if old.rekeying:
            answer([self._notify(NotifyType.TEMPORARY_FAILURE)])
            return
        ni = decode_nonce(require(payloads, PayloadType.NONCE, "nonce").body)
        ke_p = first(payloads, PayloadType.KE)
        ke = KEPayload.decode(ke_p.body) if ke_p is not None else None
        group: DHGroup | None = None
        if ke is not None:
            group = dh_group_by_id(ke.group)
            acceptable = group is not None and choose_esp(sa_p, self._esp_offers, dh_required=group) is not None
            if not acceptable:
                wanted = self._pfs or next((g for p in self._esp_offers for g in p.dh_groups), None)
                if wanted is not None and choose_esp(sa_p, self._esp_offers, dh_required=wanted) is not None:
                    answer([self._notify(NotifyType.INVALID_KE_PAYLOAD, wanted.number.to_bytes(2, "big"))])
                else:
                    answer([self._notify(NotifyType.NO_PROPOSAL_CHOSEN)])
                return
        choice = choose_esp(sa_p, self._esp_offers, dh_required=group)
        if choice is None:
            answer([self._notify(NotifyType.NO_PROPOSAL_CHOSEN)])
            return
        tsi = narrow(decode_ts(require(payloads, PayloadType.TSI, "TSi").body), old.remote_ts)
        tsr = narrow(decode_ts(require(payloads, PayloadType.TSR, "TSr").body), old.local_ts)
        if not tsi or not tsr:
            answer([self._notify(NotifyType.TS_UNACCEPTABLE)])
            return
        proposal, suite = choice
        nr = self._rand(NONCE_SIZE)
        g_ir = b""
        out_ke: list[Payload] = []
        if ke is not None and group is not None:
            dh = group.generate(self._rand(group.private_size))
            g_ir = dh.shared_secret(ke.data)
            out_ke = [Payload(PayloadType.KE, KEPayload(group.number, dh.public_bytes()).encode())]
        spi_in = self._child_spi()
        peer_spi = next(p.spi for p in sa_p.proposals if p.number == proposal.number and p.protocol == ProtocolId.ESP)
        assert sa.suite is not None and sa.keys is not None
        keys = derive_child_keys(sa.suite.prf, sa.keys.sk_d, ni, nr, suite.cipher, suite.integrity, g_ir)
        transport = old.sa.mode == "transport"
        new = self._new_child(EspSuite(suite.cipher, suite.integrity, suite.group), spi_in, peer_spi, keys,
                              we_initiated=False, local_ts=tsr, remote_ts=tsi, transport=transport, now=now)  # fmt: skip
        chosen = type(proposal)(proposal.number, ProtocolId.ESP, spi_in, proposal.transforms)
        out = [Payload(PayloadType.SA, SAPayload((chosen,)).encode()), Payload(PayloadType.NONCE, nr), *out_ke,
               Payload(PayloadType.TSI, encode_ts(tsi)), Payload(PayloadType.TSR, encode_ts(tsr))]  # fmt: skip
        if transport:
            out.append(self._notify(NotifyType.USE_TRANSPORT_MODE))
        answer(out)
        old.replaced_by = new
        old.pending_switch = new
        old.switch_at = now + SWITCH_WAIT
        self.stats.child_rekeys += 1
        self._emit(ChildSAInboundReady(old.sa, new.sa))

    def _switch(self, old: ChildEntry, now: float) -> None:
        """Rekey responder: the peer uses the new SA, so we may send on it too."""
        new = old.pending_switch
        if new is None:
            return
        old.pending_switch = None
        old.switch_at = None
        self._emit(ChildSARekeyed(old.sa, new.sa))

    def _answer_ike_rekey(self, sa: IkeSA, sa_p: SAPayload, payloads: tuple[Payload, ...], now: float,
                          answer: Callable[[list[Payload]], None]) -> None:  # fmt: skip
        if sa.rekey_started or (self._request is not None and self._request.kind == "rekey-ike"):
            answer([self._notify(NotifyType.TEMPORARY_FAILURE)])
            return
        ke = KEPayload.decode(require(payloads, PayloadType.KE, "KE").body)
        ni = decode_nonce(require(payloads, PayloadType.NONCE, "nonce").body)
        choice = choose_ike(sa_p, self._ike_offers, ke_group=ke.group)
        if choice is None:
            answer([self._notify(NotifyType.NO_PROPOSAL_CHOSEN)])
            return
        proposal, suite = choice
        if suite.group.number != ke.group:
            answer([self._notify(NotifyType.INVALID_KE_PAYLOAD, suite.group.number.to_bytes(2, "big"))])
            return
        peer_spi = next(p.spi for p in sa_p.proposals if p.number == proposal.number)
        if len(peer_spi) != 8:
            raise ParseError("IKE rekey proposal without an 8-byte SPI")
        dh = suite.group.generate(self._rand(suite.group.private_size))
        shared = dh.shared_secret(ke.data)
        nr = self._rand(NONCE_SIZE)
        spi = self._spi(8)
        chosen = type(proposal)(proposal.number, ProtocolId.IKE, spi, proposal.transforms)
        answer([Payload(PayloadType.SA, SAPayload((chosen,)).encode()), Payload(PayloadType.NONCE, nr),
                Payload(PayloadType.KE, KEPayload(suite.group.number, dh.public_bytes()).encode())])  # fmt: skip
        new = IkeSA(peer_spi, spi, False, ni=ni, nr=nr)
        self._adopt_ike(sa, new, suite, shared, now)

    # --- timers ---------------------------------------------------------------------------------------

    def _ike_rekey_time(self) -> float | None:
        sa = self._ike
        cfg = self.config
        if sa is None or not sa.established or sa.rekey_started or not cfg.ike_lifetime:
            return None
        if self._ike_rekey_retry_at is not None:
            return self._ike_rekey_retry_at
        margin = min(cfg.ike_rekey_margin, cfg.ike_lifetime / 2)
        if self.role == "responder":
            margin /= 2
        return sa.established_at + cfg.ike_lifetime - margin

    def _ike_expire_time(self) -> float | None:
        sa = self._ike
        if sa is None or not sa.established or not self.config.ike_lifetime:
            return None
        return sa.established_at + self.config.ike_lifetime

    def _child_times(self) -> list[float]:
        out: list[float] = []
        for c in self._children:
            if c.deleted:
                continue
            for t in (c.delete_at, c.switch_at if c.pending_switch else None,
                      c.rekey_at if not c.rekeying and c.replaced_by is None else None,
                      c.expire_at if c.replaced_by is None else None):  # fmt: skip
                if t is not None:
                    out.append(t)
        return out

    def _lifetimes_tick(self, now: float) -> None:
        end = self._ike_expire_time()
        if end is not None and now >= end:
            self._fail(f"the IKE SA reached the end of its lifetime and {self.peer_label} did not agree to rekey it "
                       f"({self.last_failure or 'no answer'}); reconnect", now)  # fmt: skip
            return
        t = self._ike_rekey_time()
        if t is not None and now >= t:
            self._ike_rekey_retry_at = None
            self.rekey_ike(now)
        for c in list(self._children):
            if self._closed():
                return
            if c.deleted:
                continue
            if c.delete_at is not None and now >= c.delete_at:
                c.deleted = True
                self._emit(ChildSADeleted(c.sa, c.delete_reason or "rekeyed", False))
            elif c.pending_switch is not None and c.switch_at is not None and now >= c.switch_at:
                self._switch(c, now)
            elif c.replaced_by is None and not c.rekeying and c.rekey_at is not None and now >= c.rekey_at:
                c.rekey_at = None
                self._start_child_rekey(c, now)
            elif c.replaced_by is None and c.expire_at is not None and now >= c.expire_at:
                self._delete_child(c, now, "the IPsec SA expired", by_peer=False)
                self._maybe_no_children(now)
        self._children = [c for c in self._children if not c.deleted]

    def _maybe_no_children(self, now: float) -> None:
        idle = not self.children and not any(c.rekeying for c in self._children)
        if self.state is State.ESTABLISHED and self.config.child is not None and idle:
            self._shutdown(now, f"{self.peer_label} closed the connection (no IPsec SA is left)", by_peer=True)
