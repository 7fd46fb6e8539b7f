"""The sans-IO IKEv1 connection: phase 1, XAUTH, Mode Config, Quick Mode, DPD, rekeying, deletes.

Notes for the driver:

* :meth:`IKEv1Connection.datagrams_to_send` returns :class:`Datagram` tuples ``(data, dest_port)``;
  ``datagram.source_port`` names the local socket (500, or 4500 after NAT-T floated). Data for the
  NAT-T port already begins with the four-byte non-ESP marker, and :meth:`receive_datagram` expects
  datagrams exactly as they arrived (marker included) with ``local_port`` saying which socket got them.
* Responder role: create one connection per peer when a Main/Aggressive Mode first message arrives;
  after :class:`~wizard.engine.ike.v1.events.Closed` create a new one for the peer's next attempt.
  Pass ``remote_address``/``remote_port`` as observed (NAT-D and replies use them).
* Report inbound ESP traffic with :meth:`note_traffic` so DPD stays quiet on a busy tunnel.
"""

from __future__ import annotations

import hashlib

from wizard.engine.errors import LocalProtocolError, ParseError
from wizard.engine.ike import failures
from wizard.engine.ike.payloads import (
    HEADER_SIZE,
    ExchangeType,
    Header,
    V1Flags,
    decode_chain,
    decode_header,
)
from wizard.engine.ike.v1 import informational as info
from wizard.engine.ike.v1.aggressive_mode import AggressiveMode
from wizard.engine.ike.v1.children import QuickModeMixin
from wizard.engine.ike.v1.constants import ERROR_NOTIFY_MAX, NotifyType, PayloadType, ProtocolId
from wizard.engine.ike.v1.dpd import DeadPeerDetection
from wizard.engine.ike.v1.events import (
    Event,
    NATDetected,
    PeerDead,
    PhaseOneUp,
)
from wizard.engine.ike.v1.exchange import (
    EXCHANGE_LINGER,
    PROBE_IKE_PROPOSALS,
    PSK_ERROR_NOTIFIES,
    XAUTH_WAIT,
    Datagram,
    Exchange,
    Phase1,
    Probe,
    Role,
    State,
)
from wizard.engine.ike.v1.main_mode import MainMode, ProbeAnswer
from wizard.engine.ike.v1.messages import DeletePayload, NotifyPayload
from wizard.engine.ike.v1.natt import NatTVariant, unframe
from wizard.engine.ike.v1.phase1 import Phase1Context, Phase1Failure, is_rsa
from wizard.engine.ike.v1.phase1 import is_xauth as method_is_xauth
from wizard.engine.ike.v1.proposals import Phase1Suite, phase1_suites
from wizard.engine.ike.v1.sa import ZERO_COOKIE, IsakmpSA, encode_message
from wizard.engine.ike.v1.transactions import TransactionsMixin


class IKEv1Connection(TransactionsMixin, QuickModeMixin):
    """One IKEv1 peer relationship as initiator (client) or responder (gateway)."""

    @property
    def established(self) -> bool:
        return self.state is State.ESTABLISHED

    @property
    def ike_sa(self) -> IsakmpSA | None:
        return self._ike

    def connect(self, now: float) -> None:
        """Initiator: start Main Mode (or Aggressive Mode when configured)."""
        if self.role != "initiator":
            raise LocalProtocolError("only the initiator connects; a responder waits for the peer")
        if self.state is not State.IDLE:
            raise LocalProtocolError("connect() was already called")
        self.state = State.PHASE1
        self._start_phase1(now, self._suites)

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
        try:
            msg = unframe(data, local_port, self.config.nat_t_port)
            header = decode_header(msg)
            self._dispatch(header, msg[: header.length], now, local_port, remote_address, remote_port)
        except ParseError:
            self.stats.malformed_dropped += 1

    def datagrams_to_send(self) -> list[Datagram]:
        out, self._out = self._out, []
        return out

    def next_event(self) -> Event | None:
        return self._events.popleft() if self._events else None

    def get_timer(self) -> float | None:
        if self.state is State.CLOSED:
            return None
        times: list[float] = [ex.next_at for ex in self._exchanges.values() if ex.waiting and ex.next_at is not None]
        if self._xauth_deadline is not None:
            times.append(self._xauth_deadline)
        if self._dpd_active() and self._dpd is not None:
            times.append(self._dpd.timer())
        ike = self._ike
        if ike is not None and not ike.deleted:
            t = self._ike_rekey_time(ike)
            if t is not None:
                times.append(t)
        for c in self._children:
            if c.deleted:
                continue
            for t2 in (c.rekey_at if not (c.rekeying or c.replaced) else None, c.expire_at, c.delete_at):
                if t2 is not None:
                    times.append(t2)
        return min(times) if times else None

    def handle_timer(self, now: float) -> None:
        if self.state is State.CLOSED:
            return
        for ex in list(self._exchanges.values()):
            if self._closed():
                return
            if ex.waiting and ex.next_at is not None and ex.next_at <= now:
                self._retransmit(ex, now)
        if self._closed():
            return
        if self._xauth_deadline is not None and now >= self._xauth_deadline:
            self._xauth_deadline = None
            self._fail(f"{self.peer_label} never asked for the XAUTH user name and password; check that the gateway "
                       "expects XAUTH for this connection", now, None)  # fmt: skip
            return
        self._dpd_tick(now)
        if self._closed():
            return
        self._ike_lifetime_tick(now)
        self._children_tick(now)
        self._gc(now)

    def close(self, now: float, reason: str = "closed by the user") -> None:
        """Delete every SA (telling the peer) and finish with :class:`Closed`."""
        if self.state is State.CLOSED:
            return
        self._shutdown(now, reason, by_peer=False)

    def submit_xauth(self, username: str, password: str, now: float) -> None:
        """Answer an XAUTH prompt (after XauthRequested) when the config holds no credentials."""
        self._xauth_creds = (username, password)
        pending = self._xauth_pending
        if pending is not None:
            self._xauth_pending = None
            self._send_xauth_reply(pending.exchange, pending.prompt, now)

    def note_traffic(self, now: float) -> None:
        """Inbound ESP from the peer: it is alive (DPD need not ask)."""
        if self._dpd is not None:
            self._dpd.heard(now)

    def rekey_child(self, now: float, spi_in: int | None = None) -> bool:
        """Start a Quick Mode replacing a child (e.g. its kilobyte lifetime ran low); False if impossible."""
        for c in self._children:
            if c.deleted or c.replaced or c.rekeying or (spi_in is not None and c.sa.spi_in != spi_in):
                continue
            if self._ike is None or not self._ike.established or self.config.child is None:
                return False
            c.rekeying = True
            self._start_quick(now, rekey_of=c)
            return True
        return False

    def rekey_ike(self, now: float) -> bool:
        """Start a new phase 1 that will replace the current ISAKMP SA."""
        ike = self._ike
        if ike is None or not ike.established or ike.rekey_started or self.state is State.CLOSED:
            return False
        ike.rekey_started = True
        self._start_phase1(now, self._suites, rekey=True)
        return True

    def _dispatch(
        self, header: Header, msg: bytes, now: float, local_port: int, remote_address: str | None, remote_port: int | None
    ) -> None:
        if header.major_version != 1:
            raise ParseError(f"IKE major version {header.major_version} on an IKEv1 connection")
        et = header.exchange_type
        encrypted = bool(header.flags & V1Flags.ENCRYPTION)
        sa = self._sas.get(header.spi_i)
        if sa is None:
            phase1_start = et in (ExchangeType.IDENTITY_PROTECTION, ExchangeType.AGGRESSIVE)
            if phase1_start and header.spi_r == ZERO_COOKIE and not encrypted and header.message_id == 0:
                self._observe(local_port, remote_address, remote_port)
                self._responder_phase1(header, msg, now)
            else:
                self.stats.unknown_sa_dropped += 1
            return
        if header.spi_r != sa.cky_r:
            learning = sa.initiator and sa.cky_r == ZERO_COOKIE and not sa.established
            if not learning and not (header.spi_r == ZERO_COOKIE and et == ExchangeType.INFORMATIONAL and not encrypted):
                self.stats.unknown_sa_dropped += 1
                return
        digest = hashlib.sha256(msg).digest()
        ex = self._exchanges.get((sa.cky_i, header.message_id))
        if ex is not None and ex.last_in == digest:
            self.stats.duplicates += 1
            if ex.last_out is not None:
                self._send_raw(ex.last_out)
            return
        if ex is not None and digest in ex.seen:
            self.stats.duplicates += 1  # an older message of this exchange: answered long ago
            return
        if et in (ExchangeType.IDENTITY_PROTECTION, ExchangeType.AGGRESSIVE):
            if header.message_id != 0:
                raise ParseError("phase 1 message with a message id")
            self._on_phase1(sa, header, msg, digest, now, local_port, remote_address, remote_port)
        elif et == ExchangeType.INFORMATIONAL:
            self._on_informational(sa, header, msg, digest, now)
        elif not sa.established or sa.deleted or not encrypted:
            self.stats.unexpected_dropped += 1
        elif et == ExchangeType.QUICK_MODE:
            self._on_quick(sa, header, msg, digest, now)
        elif et == ExchangeType.TRANSACTION:
            self._on_transaction(sa, header, msg, digest, now)
        else:
            self.stats.unexpected_dropped += 1

    def _observe(self, local_port: int, remote_address: str | None, remote_port: int | None) -> None:
        if self.role != "responder":
            return
        self.local_port = local_port
        if remote_address:
            self.peer_address = remote_address
        if remote_port:
            self.peer_port = remote_port

    def _context(self, suites: list[Phase1Suite], probe: bool = False) -> Phase1Context:
        return Phase1Context(
            config=self.config,
            suites=list(suites),
            local=(self.config.local_address, self.local_port),
            peer=(self.peer_address, self.peer_port),
            peer_label=self.peer_label,
            probe=probe,
            xauth_client=self.role == "initiator",
        )

    def _start_phase1(self, now: float, suites: list[Phase1Suite], *, rekey: bool = False, probe: bool = False) -> IsakmpSA:
        sa = IsakmpSA(initiator=True, cky_i=self._new_cookie(), is_rekey=rekey)
        cls = AggressiveMode if self.config.aggressive else MainMode
        handler = cls(self._context(suites, probe), sa, True, aggressive=self.config.aggressive)
        payloads = handler.start()
        self._sas[sa.cky_i] = sa
        self._phase1[sa.cky_i] = handler
        et = ExchangeType.AGGRESSIVE if self.config.aggressive else ExchangeType.IDENTITY_PROTECTION
        ex = self._new_exchange(sa, "phase1", 0)
        ex.phase1 = handler
        ex.initial = not rekey and not probe
        self._send(ex, encode_message(sa.cky_i, sa.cky_r, et, 0, payloads), now, expect_reply=True)
        return sa

    def _responder_phase1(self, header: Header, msg: bytes, now: float) -> None:
        if self.state not in (State.IDLE, State.ESTABLISHED, State.QUICK_MODE):
            self.stats.unexpected_dropped += 1
            return
        if self.state is State.IDLE and self.role != "responder":
            self.stats.unexpected_dropped += 1
            return
        aggressive = header.exchange_type == ExchangeType.AGGRESSIVE
        if aggressive != self.config.aggressive:
            self.stats.unexpected_dropped += 1
            return
        rekey = self._ike is not None
        sa = IsakmpSA(initiator=False, cky_i=header.spi_i, cky_r=self._new_cookie(), is_rekey=rekey)
        cls = AggressiveMode if aggressive else MainMode
        handler = cls(self._context(self._suites), sa, False, aggressive=aggressive)
        payloads = decode_chain(header.next_payload, msg[HEADER_SIZE:]).payloads
        try:
            step = handler.handle(payloads, False)
        except Phase1Failure as f:
            if f.send and f.notify is not None:
                self._send_raw(info.plain_notify(sa.cky_i, sa.cky_r, f.notify))
            if not rekey:
                self.state = State.PHASE1
                self._fail(f.reason, now, f.notify)
            return
        if self.state is State.IDLE:
            self.state = State.PHASE1
        self._sas[sa.cky_i] = sa
        self._phase1[sa.cky_i] = handler
        ex = self._new_exchange(sa, "phase1", 0)
        ex.phase1 = handler
        ex.initial = not rekey
        self._accepted(ex, hashlib.sha256(msg).digest())
        assert step.send is not None
        self._send(ex, encode_message(sa.cky_i, sa.cky_r, header.exchange_type, 0, step.send), now, expect_reply=True)

    def _on_phase1(
        self,
        sa: IsakmpSA,
        header: Header,
        msg: bytes,
        digest: bytes,
        now: float,
        local_port: int,
        remote_address: str | None,
        remote_port: int | None,
    ) -> None:
        handler = self._phase1.get(sa.cky_i)
        ex = self._exchanges.get((sa.cky_i, 0))
        if handler is None or ex is None or handler.state == "done":
            self.stats.unexpected_dropped += 1
            return
        encrypted = bool(header.flags & V1Flags.ENCRYPTION)
        learned = sa.initiator and sa.cky_r == ZERO_COOKIE
        if learned:
            if header.spi_r == ZERO_COOKIE:
                raise ParseError("responder cookie missing")
            sa.cky_r = header.spi_r
        iv = b""
        try:
            if encrypted:
                try:
                    payloads, _, iv = self._decrypt(sa, header, msg)
                except ParseError:
                    if handler.state in ("wait_mm6", "wait_mm5", "wait_am3") and not is_rsa(handler.auth_method):
                        self._phase1_failed(sa, ex, Phase1Failure(self._psk_reason(handler), NotifyType.PAYLOAD_MALFORMED), now)
                        return
                    raise
            else:
                payloads = decode_chain(header.next_payload, msg[HEADER_SIZE:]).payloads
            if not encrypted or handler.state in ("wait_mm5",):
                self._observe(local_port, remote_address, remote_port)
            handler.ctx.local = (self.config.local_address, self.local_port)
            handler.ctx.peer = (self.peer_address, self.peer_port)
            step = handler.handle(payloads, encrypted)
        except ParseError:
            if learned:
                sa.cky_r = ZERO_COOKIE
            raise
        except ProbeAnswer as answer:
            self._probe_answered_ike(answer, now)
            return
        except Phase1Failure as f:
            if learned:
                sa.cky_r = ZERO_COOKIE
            if not encrypted and handler.initiator and ex.rejected.count(f.reason) < 1:
                # Anyone can forge an unprotected reply: remember why it was wrong and keep waiting. The
                # peer's retransmission of the same answer (or a timeout) ends the negotiation with it.
                ex.rejected.append(f.reason)
                self.stats.malformed_dropped += 1
                return
            self._phase1_failed(sa, ex, f, now)
            return
        if encrypted:
            sa.commit_iv(0, iv)
            self._observe(local_port, remote_address, remote_port)
        self._accepted(ex, digest)
        if self._dpd is not None and sa is self._ike:
            self._dpd.heard(now)
        nat = handler.nat
        if nat is not None and not self.nat_detected and (nat.detected or self.config.force_encapsulation):
            self.nat_detected = True
            self.local_behind_nat = nat.local_behind_nat or self.config.force_encapsulation
            self._emit(NATDetected(self.local_behind_nat, nat.peer_behind_nat, self.config.nat_t_port))
        self._nat_variant = handler.variant
        if step.float_ports or (self.role == "initiator" and self.nat_detected and handler.variant is not NatTVariant.NONE):
            self.local_port = self.peer_port = self.config.nat_t_port
        if step.send is not None:
            et = header.exchange_type
            data = (sa.encrypt(et, 0, step.send) if step.encrypted
                    else encode_message(sa.cky_i, sa.cky_r, et, 0, step.send))  # fmt: skip
            self._send(ex, data, now, expect_reply=not step.done)
        else:
            ex.waiting = False
            ex.finished_at = now
        if step.done:
            self._phase1_done(sa, handler, now)

    def _psk_reason(self, handler: Phase1) -> str:
        if handler.initiator:
            return failures.wrong_psk_sent(self.peer_label)
        return f"the identity from {self.peer_label} could not be decrypted: the pre-shared key is probably wrong"

    def _phase1_failed(self, sa: IsakmpSA, ex: Exchange, f: Phase1Failure, now: float) -> None:
        if f.send and f.notify is not None:
            self._send_raw(info.plain_notify(sa.cky_i, sa.cky_r, f.notify))
        self._drop_sa(sa)
        if ex.initial:
            self._fail(f.reason, now, f.notify)
        elif self._probe is not None and self._probe.sa is sa:
            self._probe_failed(now, probed=True)

    def _phase1_done(self, sa: IsakmpSA, handler: Phase1, now: float) -> None:
        sa.established = True
        sa.established_at = now
        sa.finish_phase1()
        sa.peer_id = str(handler.peer_identity) if handler.peer_identity else ""
        sa.dpd_supported = handler.dpd
        self._phase1.pop(sa.cky_i, None)
        old = self._ike
        rekey = old is not None
        self._ike = sa
        assert handler.offer is not None
        method = handler.offer.auth_method
        auth = ("rsa" if is_rsa(method) else "psk") + ("+xauth" if method_is_xauth(method) else "")
        self._emit(PhaseOneUp(handler.offer.suite.pretty, sa.peer_id, auth, sa.cky_i, sa.cky_r,
                              self.nat_detected, rekey, handler.aggressive))  # fmt: skip
        if self.config.dpd_interval is not None and handler.dpd:
            seq = int.from_bytes(self._rand(4), "big") & 0x7FFFFFFF
            cfg = self.config
            self._dpd = DeadPeerDetection(cfg.dpd_interval or 30.0, cfg.dpd_retries, cfg.retransmit_initial,
                                          cfg.retransmit_factor, cfg.retransmit_cap, seq, now)  # fmt: skip
        if old is not None:
            self.stats.ike_rekeys += 1
            if not old.deleted:
                self._delete_ike_sa(old, now)
            if method_is_xauth(method):
                if self.role == "responder":
                    self._send_xauth_request(sa, now)
            else:
                sa.xauth_done = True
            return
        if not method_is_xauth(method):
            sa.xauth_done = True
        if sa.initiator:
            if method_is_xauth(method):
                self.state = State.XAUTH
                self._xauth_deadline = now + XAUTH_WAIT
            elif self.config.mode_config:
                self._start_mode_config(now)
            else:
                self._start_first_child(now)
        else:
            if method_is_xauth(method):
                self.state = State.XAUTH
                self._send_xauth_request(sa, now)
            else:
                self.state = State.QUICK_MODE

    def _start_ike_probe(self, now: float) -> None:
        offered = [s.pretty for s in self._suites]
        wider = [s for s in phase1_suites(PROBE_IKE_PROPOSALS) if s not in self._suites]
        self._probe = Probe("ike", offered, "the IKE (phase 1) SA")
        if not wider:
            self._probe_failed(now, probed=False)
            return
        self._probe.sa = self._start_phase1(now, wider, probe=True)

    def _probe_answered_ike(self, answer: ProbeAnswer, now: float) -> None:
        probe = self._probe
        if probe is not None and probe.sa is not None:
            self._drop_sa(probe.sa)
        suite = answer.offer.suite
        offered = probe.offered if probe else [s.pretty for s in self._suites]
        reason = failures.no_proposal_initiator(
            "the IKE (phase 1) SA", offered, peer=self.peer_label, probe_choice=suite.pretty,
            probe_choice_legacy=suite.legacy, allow_legacy=self.config.allow_legacy,
        )  # fmt: skip
        self._probe = None
        self._fail(reason, now, NotifyType.NO_PROPOSAL_CHOSEN)

    def _probe_failed(self, now: float, *, probed: bool) -> None:
        probe = self._probe
        self._probe = None
        if probe is None:
            return
        if probe.sa is not None and probe.kind == "ike":
            self._drop_sa(probe.sa)
        list_name = "IKE proposals" if probe.kind == "ike" else "ESP proposals"
        reason = failures.no_proposal_initiator(probe.what, probe.offered, peer=self.peer_label, probed=probed, list_name=list_name)
        self._fail(reason, now, NotifyType.NO_PROPOSAL_CHOSEN)

    def _on_informational(self, sa: IsakmpSA, header: Header, msg: bytes, digest: bytes, now: float) -> None:
        encrypted = bool(header.flags & V1Flags.ENCRYPTION)
        handler = self._phase1.get(sa.cky_i)
        if not encrypted:
            if handler is None or not handler.initiator or sa.established:
                self.stats.unexpected_dropped += 1
                return
            payloads = decode_chain(header.next_payload, msg[HEADER_SIZE:], allow_trailing=True).payloads
            for p in payloads:
                if p.type == PayloadType.NOTIFY:
                    n = NotifyPayload.decode(p.body)
                    if 0 < n.notify_type <= ERROR_NOTIFY_MAX:
                        self._phase1_peer_error(sa, handler, n.notify_type, now)
                        return
            return
        if not sa.has_keys:
            raise ParseError("encrypted informational before keys")
        if not sa.established:
            # During phase 1 the IV chain is the phase 1 one; a peer error here after our identity
            # went out means it could not decrypt us (or we cannot decrypt it): the PSK differs.
            if handler is not None and handler.state in ("wait_mm6",) and not is_rsa(handler.auth_method):
                ex0 = self._exchanges.get((sa.cky_i, 0))
                if ex0 is not None:
                    self._phase1_failed(sa, ex0, Phase1Failure(failures.wrong_psk_sent(self.peer_label), None, send=False), now)
                    return
            self.stats.unexpected_dropped += 1
            return
        payloads, rest, iv = self._decrypt(sa, header, msg)
        self._check_hash1(sa, header.message_id, payloads, rest)
        sa.commit_iv(header.message_id, iv)
        ex = self._exchanges.get((sa.cky_i, header.message_id)) or self._new_exchange(sa, "peer", header.message_id)
        self._accepted(ex, digest)
        ex.finished_at = now
        for p in payloads[1:]:
            if self._closed():
                return
            if p.type == PayloadType.NOTIFY:
                self._on_notify(sa, ex, NotifyPayload.decode(p.body), now)
            elif p.type == PayloadType.DELETE:
                self._on_delete(sa, DeletePayload.decode(p.body), now)
        if self._dpd is not None:
            self._dpd.heard(now)

    def _on_notify(self, sa: IsakmpSA, ex: Exchange, n: NotifyPayload, now: float) -> None:
        if n.notify_type == NotifyType.R_U_THERE:
            if len(n.data) == 4:
                ack = self._informational(sa, [info.dpd_notify(sa, True, int.from_bytes(n.data, "big"))], now)
                ex.last_out = ack.last_out
            return
        if n.notify_type == NotifyType.R_U_THERE_ACK:
            if self._dpd is not None and len(n.data) == 4 and self._dpd.acked(int.from_bytes(n.data, "big"), now):
                self.stats.dpd_acked += 1
            return
        if not 0 < n.notify_type <= ERROR_NOTIFY_MAX:
            return
        pending = [e for e in self._exchanges.values()
                   if e.kind == "quick" and e.waiting and e.quick is not None and e.quick.initiator]  # fmt: skip
        if pending:
            qex = next((e for e in pending if e.quick is not None and e.quick.spi_in == n.spi), pending[-1])
            self._quick_rejected(qex, n.notify_type, now)
            return
        if self.state in (State.XAUTH, State.MODE_CONFIG):
            self._fail(failures.peer_notify(self.peer_label, n.notify_type, "sign-in"), now, n.notify_type)

    def _phase1_peer_error(self, sa: IsakmpSA, handler: Phase1, code: int, now: float) -> None:
        ex = self._exchanges.get((sa.cky_i, 0))
        if ex is None:
            return
        probe = self._probe
        if probe is not None and probe.sa is sa:
            self._probe_failed(now, probed=code == NotifyType.NO_PROPOSAL_CHOSEN)
            return
        if code == NotifyType.NO_PROPOSAL_CHOSEN and handler.state in ("wait_mm2", "wait_am2"):
            if ex.initial and self.config.probe_on_no_proposal:
                self._drop_sa(sa)
                self._start_ike_probe(now)
                return
            reason = failures.no_proposal_initiator("the IKE (phase 1) SA", [s.pretty for s in self._suites], peer=self.peer_label)
        elif handler.state in ("wait_mm6",) and code in PSK_ERROR_NOTIFIES and not is_rsa(handler.auth_method):
            reason = failures.wrong_psk_sent(self.peer_label)
        elif code == NotifyType.INVALID_ID_INFORMATION:
            reason = f"{self.peer_label} rejected our identity: check the local identity the profile sends"
        elif handler.aggressive and handler.state == "wait_am2" and code == NotifyType.AUTHENTICATION_FAILED:
            reason = (f"{self.peer_label} refused Aggressive Mode (AUTHENTICATION_FAILED): many gateways disable it for "
                      "pre-shared keys; use Main Mode, or check the pre-shared key and identity")  # fmt: skip
        else:
            stage = "authentication" if handler.state in ("wait_mm6", "wait_am2") else "the IKE (phase 1) negotiation"
            reason = failures.peer_notify(self.peer_label, code, stage)
        self._phase1_failed(sa, ex, Phase1Failure(reason, code, send=False), now)

    def _on_delete(self, sa: IsakmpSA, d: DeletePayload, now: float) -> None:
        if d.protocol == ProtocolId.ISAKMP:
            for cookies in d.spis:
                target = self._sas.get(cookies[:8])
                if target is None or target.cookies != cookies:
                    continue
                target.deleted = True
                if target is self._ike:
                    self._ike_deleted_by_peer(now)
            return
        if d.protocol != ProtocolId.ESP:
            return
        for spi in d.spis:
            value = int.from_bytes(spi, "big")
            for c in self._children:
                if not c.deleted and value in (c.sa.spi_out, c.sa.spi_in):
                    self._delete_child(c, now, f"{self.peer_label} deleted the IPsec SA", by_peer=True, notify=False)
        self._maybe_finished_by_peer(now)

    def _ike_deleted_by_peer(self, now: float) -> None:
        newer = [s for s in self._sas.values() if s.established and not s.deleted]
        if newer:
            self._ike = newer[-1]
            return
        pending_rekey = any(not s.established for s in self._sas.values() if s.initiator and s.is_rekey)
        if self.role == "initiator" and self.children and not pending_rekey:
            assert self._ike is not None
            self._ike.rekey_started = True
            self._start_phase1(now, self._suites, rekey=True)
            return
        if not pending_rekey and not self.children:
            reason = f"{self.peer_label} ended the connection"
            if self.last_failure:
                reason += f" after this side refused its IPsec SA ({self.last_failure})"
            if self.state is State.QUICK_MODE and self.role == "initiator":
                self._fail(f"{self.peer_label} ended the connection before the IPsec SA was set up", now, None)
                return
            self._shutdown(now, reason, by_peer=True, tell_peer=False)

    def _maybe_finished_by_peer(self, now: float) -> None:
        if self.state is State.ESTABLISHED and not self.children:
            self._shutdown(now, f"{self.peer_label} closed the connection (deleted the last IPsec SA)", by_peer=True)

    def _exchange_timed_out(self, ex: Exchange, now: float) -> None:
        if ex.kind == "phase1":
            handler = ex.phase1
            probe = self._probe
            if probe is not None and probe.sa is ex.sa:
                self._probe_failed(now, probed=False)
                return
            self._drop_sa(ex.sa)
            if not ex.initial:
                if self._ike is not None:
                    self._ike.rekey_started = False
                return
            waiting_identity = handler is not None and handler.state in ("wait_mm6",)
            if ex.rejected:
                self._fail(ex.rejected[-1], now, None)
                return
            if waiting_identity and handler is not None and not is_rsa(handler.auth_method):
                reason = (f"no reply from {self.peer_label} after we sent our identity: the pre-shared key is probably "
                          "wrong" + (", or a NAT or firewall drops UDP port 4500" if self.nat_detected else ""))  # fmt: skip
            else:
                stage = "authentication" if waiting_identity else "the IKE (phase 1) negotiation"
                reason = failures.no_reply(self.peer_label, stage, self.nat_detected)
            self._fail(reason, now, None)
        elif ex.kind == "quick" and ex.quick is not None:
            if ex.quick.initiator:
                probe = self._probe
                if probe is not None and probe.kind == "esp" and probe.mid == ex.mid:
                    self._probe_failed(now, probed=False)
                    return
                self._quick_failed(ex, failures.no_reply(self.peer_label, "Quick Mode", self.nat_detected), None, now)
        elif ex.kind == "xauth_req" or ex.kind == "xauth_set":
            self._fail(f"{self.peer_label} did not answer the XAUTH request", now, None)
        elif ex.kind == "cfg":
            self._fail(f"{self.peer_label} did not answer the Mode Config request", now, None)

    def _dpd_active(self) -> bool:
        ike = self._ike
        return (self._dpd is not None and ike is not None and ike.established and not ike.deleted
                and self.state is State.ESTABLISHED)  # fmt: skip

    def _dpd_tick(self, now: float) -> None:
        dpd = self._dpd
        ike = self._ike
        if not self._dpd_active() or dpd is None or ike is None or not dpd.due(now):
            return
        if dpd.dead():
            reason = f"{self.peer_label} stopped answering (dead peer detection, {dpd.tries} probes unanswered)"
            self._emit(PeerDead(reason))
            self._shutdown(now, reason, by_peer=False)
            return
        seq = dpd.next_probe(now)
        self.stats.dpd_sent += 1
        self._informational(ike, [info.dpd_notify(ike, False, seq)], now)

    def _ike_rekey_time(self, sa: IsakmpSA) -> float | None:
        life = sa.lifetime_seconds
        if not sa.established or not life:
            return None
        if self.role == "initiator" and not sa.rekey_started:
            return sa.established_at + life - min(self.config.ike_rekey_margin, life / 2)
        return sa.established_at + life

    def _ike_lifetime_tick(self, now: float) -> None:
        sa = self._ike
        if sa is None or sa.deleted or not sa.established or not sa.lifetime_seconds:
            return
        t = self._ike_rekey_time(sa)
        if t is None or now < t:
            return
        if self.role == "initiator" and not sa.rekey_started:
            self.rekey_ike(now)
            return
        if now >= sa.established_at + sa.lifetime_seconds:
            self._delete_ike_sa(sa, now)
            if not self.children:
                self._shutdown(now, "the IKE SA expired", by_peer=False)

    def _gc(self, now: float) -> None:
        for key, ex in list(self._exchanges.items()):
            if not ex.waiting and ex.finished_at is not None and now - ex.finished_at > EXCHANGE_LINGER and ex.kind != "phase1":
                ex.sa.forget_exchange(ex.mid)
                del self._exchanges[key]
        for sa in list(self._sas.values()):
            busy = any(ex.sa is sa and ex.waiting for ex in self._exchanges.values())
            old = sa.established_at and now - sa.established_at > EXCHANGE_LINGER
            if sa.deleted and sa is not self._ike and not busy and old:
                self._drop_sa(sa)


__all__ = ["Datagram", "IKEv1Connection", "Role", "State"]
