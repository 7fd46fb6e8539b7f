"""Quick Mode orchestration and the IPsec SA (child) table: setup, rekeys, expiry, deletes."""

from __future__ import annotations

from wizard.engine.errors import ParseError
from wizard.engine.ike import failures
from wizard.engine.ike.payloads import (
    ExchangeType,
    Header,
    Payload,
)
from wizard.engine.ike.v1 import informational as info
from wizard.engine.ike.v1.constants import NotifyType, ProtocolId
from wizard.engine.ike.v1.core import ConnectionCore
from wizard.engine.ike.v1.events import (
    ChildSA,
    ChildSARekeyed,
    ChildSAUp,
)
from wizard.engine.ike.v1.exchange import (
    PROBE_ESP_PROPOSALS,
    ChildEntry,
    Exchange,
    Probe,
    State,
)
from wizard.engine.ike.v1.identities import TrafficSelector
from wizard.engine.ike.v1.natt import NatTVariant
from wizard.engine.ike.v1.proposals import EspSuite, Lifetime, esp_suites
from wizard.engine.ike.v1.quick_mode import QuickMode, QuickModeFailure, QuickModeParams, QuickModeProbeAnswer
from wizard.engine.ike.v1.sa import IsakmpSA


class QuickModeMixin(ConnectionCore):
    """Quick Mode as initiator and responder, and what happens to children over time."""

    def _qm_params(self, suites: list[EspSuite], probe: bool = False) -> QuickModeParams:
        child = self.config.child
        assert child is not None
        local_addr = self.virtual_address or self.config.local_address
        local_ts = child.local_ts or TrafficSelector.host(local_addr)
        remote_ts = child.remote_ts or TrafficSelector.host(self.peer_virtual_address or self.peer_address)
        tunnel = child.mode == "tunnel"
        udp = self.nat_detected and self._nat_variant is not NatTVariant.NONE
        return QuickModeParams(
            suites=suites,
            pfs_group=self._pfs,
            tunnel=tunnel,
            udp=udp,
            draft_nat_t=self._nat_variant is NatTVariant.DRAFT,
            local_ts=local_ts,
            remote_ts=remote_ts,
            lifetime=Lifetime(child.lifetime_seconds, child.lifetime_kilobytes),
            send_ids=child.send_ids,
            nat_oa=(self.config.local_address, self.peer_address) if udp and not tunnel else None,
            probe=probe,
        )

    def _start_first_child(self, now: float) -> None:
        if self.config.child is None:
            self.state = State.ESTABLISHED
            return
        self.state = State.QUICK_MODE
        ex = self._start_quick(now)
        ex.initial = True

    def _start_quick(self, now: float, rekey_of: ChildEntry | None = None, probe_suites: list[EspSuite] | None = None) -> Exchange:
        sa = self._ike
        assert sa is not None
        ex = self._new_exchange(sa, "quick")
        params = self._qm_params(probe_suites if probe_suites is not None else self._esp, probe=probe_suites is not None)
        qm = QuickMode(sa, ex.mid, True, self._rand, self.peer_label, params, rekey_of=rekey_of)
        ex.quick = qm
        self._send(ex, sa.encrypt(ExchangeType.QUICK_MODE, ex.mid, qm.start()), now, expect_reply=True)
        return ex

    def _on_quick(self, sa: IsakmpSA, header: Header, msg: bytes, digest: bytes, now: float) -> None:
        payloads, rest, iv = self._decrypt(sa, header, msg)
        key = (sa.cky_i, header.message_id)
        ex = self._exchanges.get(key)
        if ex is None:
            self._quick_responder(sa, header, payloads, rest, iv, digest, now)
            return
        qm = ex.quick
        if qm is None:
            self.stats.unexpected_dropped += 1
            return
        if qm.initiator and qm.state == "wait_qm2":
            try:
                out = qm.handle_qm2(payloads, rest)
            except QuickModeProbeAnswer as answer:
                sa.commit_iv(header.message_id, iv)
                self._quick_probe_answered(ex, answer, now)
                return
            except QuickModeFailure as f:
                if f.notify == NotifyType.INVALID_HASH_INFORMATION:
                    self.stats.hash_failed += 1
                    raise ParseError(f.reason) from None
                sa.commit_iv(header.message_id, iv)
                self._quick_failed(ex, f.reason, f.notify, now)
                return
            sa.commit_iv(header.message_id, iv)
            self._accepted(ex, digest)
            self._send(ex, sa.encrypt(ExchangeType.QUICK_MODE, ex.mid, out), now, expect_reply=False)
            if self._dpd is not None:
                self._dpd.heard(now)
            assert qm.result is not None
            rekey_of = qm.rekey_of if isinstance(qm.rekey_of, ChildEntry) else None
            self._child_up(qm, ours=True, rekey_of=rekey_of, now=now)
        elif not qm.initiator and qm.state == "wait_qm3":
            try:
                qm.handle_qm3(payloads)
            except QuickModeFailure:
                self.stats.hash_failed += 1
                raise ParseError("HASH(3) did not verify") from None
            sa.commit_iv(header.message_id, iv)
            self._accepted(ex, digest)
            ex.waiting = False
            ex.finished_at = now
            if self._dpd is not None:
                self._dpd.heard(now)
            self._child_up(qm, ours=False, rekey_of=None, now=now)
        else:
            self.stats.unexpected_dropped += 1

    def _quick_responder(
        self, sa: IsakmpSA, header: Header, payloads: tuple[Payload, ...], rest: bytes, iv: bytes, digest: bytes, now: float
    ) -> None:
        child = self.config.child
        self._implicit_xauth_ack(sa, now)
        if child is None or not sa.xauth_done or self._closed():
            self.stats.unexpected_dropped += 1
            return
        qm = QuickMode(sa, header.message_id, False, self._rand, self.peer_label)
        allowed_remote = child.remote_ts or TrafficSelector.host(self.peer_virtual_address or self.peer_address)
        allowed_local = child.local_ts or TrafficSelector.host(self.virtual_address or self.config.local_address)
        try:
            out = qm.handle_qm1(
                payloads, rest, self._esp, self._pfs, child.mode == "tunnel", allowed_local, allowed_remote,
                Lifetime(child.lifetime_seconds, child.lifetime_kilobytes), self.nat_detected,
                lambda ts: ts.start == ts.end,
            )  # fmt: skip
        except QuickModeFailure as f:
            if f.notify == NotifyType.INVALID_HASH_INFORMATION:
                self.stats.hash_failed += 1
                raise ParseError(f.reason) from None
            sa.commit_iv(header.message_id, iv)
            ex = self._new_exchange(sa, "peer", header.message_id)
            self._accepted(ex, digest)
            ex.finished_at = now
            if f.notify is not None:
                self._informational(sa, [info.notify(f.notify, ProtocolId.ESP, f.spi)], now)
            self.last_failure = f.reason
            return
        sa.commit_iv(header.message_id, iv)
        ex = self._new_exchange(sa, "quick", header.message_id)
        ex.quick = qm
        self._accepted(ex, digest)
        self._send(ex, sa.encrypt(ExchangeType.QUICK_MODE, ex.mid, out), now, expect_reply=True)
        if self._dpd is not None:
            self._dpd.heard(now)

    def _quick_rejected(self, ex: Exchange, code: int, now: float) -> None:
        ex.waiting = False
        ex.finished_at = now
        qm = ex.quick
        assert qm is not None and qm.params is not None
        probe = self._probe
        if probe is not None and probe.kind == "esp" and probe.mid == ex.mid:
            self._probe_failed(now, probed=code == NotifyType.NO_PROPOSAL_CHOSEN)
            return
        if code == NotifyType.NO_PROPOSAL_CHOSEN:
            offered = [self._esp_label(s) for s in self._esp]
            if ex.initial and self.config.probe_on_no_proposal:
                wider = [s for s in esp_suites(PROBE_ESP_PROPOSALS)[0] if s not in self._esp]
                self._probe = Probe("esp", offered, self._child_what())
                if wider:
                    pex = self._start_quick(now, probe_suites=wider)
                    assert pex.quick is not None
                    self._probe.mid = pex.mid
                    self._probe.spi_in = pex.quick.spi_in
                    return
                self._probe_failed(now, probed=False)
                return
            reason = failures.no_proposal_initiator(self._child_what(), offered, peer=self.peer_label, list_name="ESP proposals")
        elif code == NotifyType.INVALID_ID_INFORMATION:
            p = qm.params
            reason = (f"{self.peer_label} rejected the traffic selectors {p.local_ts} <-> {p.remote_ts} "
                      "(INVALID_ID_INFORMATION): check the local and remote networks of the profile")  # fmt: skip
        else:
            reason = failures.peer_notify(self.peer_label, code, "Quick Mode")
        self._quick_failed(ex, reason, code, now)

    def _esp_label(self, suite: EspSuite) -> str:
        from wizard.engine.ike.v1.proposals import pretty_group

        return suite.pretty + (f"/{pretty_group(self._pfs)}" if self._pfs else "")

    def _child_what(self) -> str:
        mode = self.config.child.mode if self.config.child else "transport"
        return f"the IPsec SA ({mode} mode)"

    def _quick_probe_answered(self, ex: Exchange, answer: QuickModeProbeAnswer, now: float) -> None:
        ex.waiting = False
        ex.finished_at = now
        probe = self._probe
        self._probe = None
        if ex.quick is not None and self._ike is not None:
            self._informational(self._ike, [info.delete_esp([ex.quick.spi_in])], now)
        suite = answer.offer.suite
        choice = suite.pretty + (f"/{answer.offer.group.name.upper()}" if answer.offer.group else "")
        reason = failures.no_proposal_initiator(
            probe.what if probe else self._child_what(), probe.offered if probe else [], peer=self.peer_label,
            probe_choice=choice, probe_choice_legacy=suite.legacy, allow_legacy=self.config.allow_legacy,
            list_name="ESP proposals",
        )  # fmt: skip
        self._fail(reason, now, NotifyType.NO_PROPOSAL_CHOSEN)

    def _quick_failed(self, ex: Exchange, reason: str, notify: int | None, now: float) -> None:
        ex.waiting = False
        ex.finished_at = now
        qm = ex.quick
        if qm is not None and isinstance(qm.rekey_of, ChildEntry):
            self._retry_rekey_later(qm.rekey_of, now)
            return
        if ex.initial or not self.children:
            self._fail(reason, now, notify)

    def _retry_rekey_later(self, c: ChildEntry, now: float, delay: float = 10.0) -> None:
        """A child rekey did not complete: try again while the old SA still has time left."""
        c.rekeying = False
        if c.expire_at is None or now + delay < c.expire_at:
            c.rekey_at = now + delay
        else:
            c.rekey_at = None

    def _child_up(self, qm: QuickMode, *, ours: bool, rekey_of: ChildEntry | None, now: float) -> None:
        r = qm.result
        assert r is not None
        child_cfg = self.config.child
        assert child_cfg is not None
        sa = ChildSA(
            spi_in=int.from_bytes(r.spi_in, "big"),
            spi_out=int.from_bytes(r.spi_out, "big"),
            cipher=r.suite.cipher,
            integrity=r.suite.integrity,
            enc_key_in=r.enc_key_in,
            enc_key_out=r.enc_key_out,
            auth_key_in=r.auth_key_in,
            auth_key_out=r.auth_key_out,
            mode="tunnel" if r.tunnel else "transport",
            local_ts=r.local_ts,
            remote_ts=r.remote_ts,
            local_address=self.config.local_address,
            peer_address=self.peer_address,
            encapsulated=r.udp,
            local_port=self.local_port,
            peer_port=self.peer_port,
            lifetime_seconds=r.lifetime.seconds,
            lifetime_kilobytes=r.lifetime.kilobytes,
            pfs_group=r.pfs_group,
            nat_oa_local=self.config.local_address if r.udp and not r.tunnel else None,
            nat_oa_peer=r.nat_oa_peer,
        )
        life = r.lifetime.seconds
        margin = min(child_cfg.rekey_margin, life / 2) if life else 0.0
        entry = ChildEntry(sa, now, ours, now + life - margin if (life and ours) else None, now + life if life else None)
        old = rekey_of
        if old is None:
            old = next((c for c in self._children if not c.deleted and not c.replaced
                        and c.sa.local_ts == sa.local_ts and c.sa.remote_ts == sa.remote_ts), None)  # fmt: skip
        self._children.append(entry)
        if old is not None and not old.deleted and not old.replaced:
            old.replaced = True
            old.rekeying = False
            old.delete_at = now + self.config.rekey_overlap
            self.stats.child_rekeys += 1
            self._emit(ChildSARekeyed(old.sa, sa))
        else:
            self._emit(ChildSAUp(sa))
        if self.state in (State.QUICK_MODE, State.XAUTH, State.MODE_CONFIG):
            self.state = State.ESTABLISHED

    def _children_tick(self, now: float) -> None:
        for c in list(self._children):
            if self.state is State.CLOSED:
                return
            if c.deleted:
                continue
            if c.delete_at is not None and now >= c.delete_at:
                self._delete_child(c, now, "replaced by a rekeyed IPsec SA", by_peer=False)
            elif c.expire_at is not None and now >= c.expire_at:
                self._delete_child(c, now, "the IPsec SA expired", by_peer=False)
                self._maybe_finished_by_peer(now)
            elif c.rekey_at is not None and now >= c.rekey_at and not c.rekeying and not c.replaced:
                if self._ike is not None and self._ike.established and not self._ike.deleted and self.state is State.ESTABLISHED:
                    c.rekeying = True
                    self._start_quick(now, rekey_of=c)
                else:
                    c.rekey_at = None
        self._children = [c for c in self._children if not c.deleted]
