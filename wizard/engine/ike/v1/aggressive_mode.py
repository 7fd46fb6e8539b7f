"""Aggressive Mode (RFC 2409 §5, PSK only): three messages, identities in the clear. Opt-in only.

    Initiator                                        Responder
    HDR, SA, KE, Ni, IDii, VID*                 -->
                                                <--  HDR, SA, KE, Nr, IDir, HASH_R, VID*, NAT-D*
    HDR, HASH_I, NAT-D*                         -->  (to port 4500 when a NAT was found)

All transforms of the offer share the DH group of the first, since KE goes out before the choice.
"""

from __future__ import annotations

from collections.abc import Sequence

from wizard.engine.ike import failures
from wizard.engine.ike.payloads import Payload
from wizard.engine.ike.v1.constants import NotifyType, PayloadType
from wizard.engine.ike.v1.main_mode import MainMode, ProbeAnswer
from wizard.engine.ike.v1.messages import Proposal, SAPayload
from wizard.engine.ike.v1.phase1 import Phase1Failure, Step, UnexpectedMessage, one
from wizard.engine.ike.v1.proposals import Lifetime, Phase1Offer, offered_phase1_names, phase1_sa, select_phase1


class AggressiveMode(MainMode):
    """One Aggressive Mode negotiation (PSK)."""

    def start(self) -> list[Payload]:
        group = self.ctx.suites[0].group
        self.ctx.suites = [s for s in self.ctx.suites if s.group == group]
        method = self.method()
        sa = phase1_sa(self.ctx.suites, method, Lifetime(self.config.ike_lifetime))
        self.sa_body = sa.encode()
        self.offer = Phase1Offer(self.ctx.suites[0], method, Lifetime(self.config.ike_lifetime))
        out = [Payload(PayloadType.SA, self.sa_body), *self.make_ke_nonce(), self.id_payload(), *self.our_vids()]
        self.state = "wait_am2"
        return out

    def handle(self, payloads: Sequence[Payload], encrypted: bool) -> Step:
        if encrypted and self.state != "wait_am3":
            raise UnexpectedMessage("unexpected encrypted Aggressive Mode message")
        if self.state == "wait_am2":
            return self._wait_am2(payloads)
        if self.state == "start":
            return self._am1(payloads)
        if self.state == "wait_am3":
            return self._wait_am3(payloads)
        raise UnexpectedMessage(f"unexpected Aggressive Mode message in state {self.state}")

    def _wait_am2(self, payloads: Sequence[Payload]) -> Step:
        offer = self.check_reply_sa(payloads)
        if self.ctx.probe:
            raise ProbeAnswer(offer)
        assert self.offer is not None
        if offer.suite.group != self.offer.suite.group:
            raise Phase1Failure(f"{self.label} chose a DH group we did not send a key for", NotifyType.NO_PROPOSAL_CHOSEN)
        self.take_vids(payloads)
        self._accept(offer)
        self.take_ke_nonce(payloads)
        self.derive_keys()
        self.take_peer_id(payloads)
        self.verify_peer(payloads)
        nat = self.nat_d_in(payloads)
        out = [*self.auth_payloads(), *self.nat_d_out()]
        self.state = "done"
        return Step(send=out, done=True, float_ports=bool(nat and nat.detected))

    def _am1(self, payloads: Sequence[Payload]) -> Step:
        body = one(payloads, PayloadType.SA).body
        sa = SAPayload.decode(body)
        self.sa_body = body
        self.take_vids(payloads)
        ke_size = len(one(payloads, PayloadType.KE).body)
        suites = [s for s in self.ctx.suites if s.group.public_size == ke_size]
        choice = select_phase1(sa, suites, [self.method()])
        if choice is None:
            reason = failures.no_proposal_responder(
                "the IKE (phase 1) SA", offered_phase1_names(sa), [s.pretty for s in self.ctx.suites], peer=self.label
            )
            raise Phase1Failure(reason, NotifyType.NO_PROPOSAL_CHOSEN)
        proposal, transform, offer = choice
        self._accept(offer)
        self.take_ke_nonce(payloads)
        self.take_peer_id(payloads)
        out = [Payload(PayloadType.SA, SAPayload((Proposal(proposal.number, proposal.protocol, b"", (transform,)),)).encode())]
        out += self.make_ke_nonce()
        self.derive_keys()
        out += [self.id_payload(), *self.auth_payloads(), *self.our_vids(reply=True), *self.nat_d_out()]
        self.state = "wait_am3"
        return Step(send=out)

    def _wait_am3(self, payloads: Sequence[Payload]) -> Step:
        self.verify_peer(payloads)
        self.nat_d_in(payloads)
        self.state = "done"
        return Step(done=True)
