"""Main Mode (identity protection exchange, RFC 2409 §5), both roles, PSK or RSA signatures.

    Initiator                         Responder
    HDR, SA, VID*                -->
                                 <--  HDR, SA, VID*
    HDR, KE, Ni, [CR], NAT-D*    -->
                                 <--  HDR, KE, Nr, [CR], NAT-D*
    HDR*, IDii, [CERT], HASH_I|SIG_I, [N(INITIAL-CONTACT)]   -->   (to port 4500 when a NAT was found)
                                 <--  HDR*, IDir, [CERT], HASH_R|SIG_R
"""

from __future__ import annotations

from collections.abc import Sequence

from wizard.engine.ike import failures
from wizard.engine.ike.payloads import Payload
from wizard.engine.ike.v1.constants import NotifyType, PayloadType
from wizard.engine.ike.v1.messages import Proposal, SAPayload
from wizard.engine.ike.v1.phase1 import Phase1Base, Phase1Failure, Step, UnexpectedMessage, one
from wizard.engine.ike.v1.proposals import (
    Lifetime,
    Phase1Offer,
    offered_phase1_names,
    phase1_sa,
    select_phase1,
)


class ProbeAnswer(Exception):
    """The peer picked ``offer`` from a diagnostic offer; the negotiation stops there."""

    def __init__(self, offer: Phase1Offer) -> None:
        super().__init__(offer.suite.pretty)
        self.offer = offer


class MainMode(Phase1Base):
    """One Main Mode negotiation; the connection calls :meth:`start` (initiator) and :meth:`handle`."""

    def start(self) -> list[Payload]:
        sa = phase1_sa(self.ctx.suites, self.method(), Lifetime(self.config.ike_lifetime))
        self.sa_body = sa.encode()
        self.state = "wait_mm2"
        return [Payload(PayloadType.SA, self.sa_body), *self.our_vids()]

    def handle(self, payloads: Sequence[Payload], encrypted: bool) -> Step:
        expect_encrypted = self.state in ("wait_mm6", "wait_mm5")
        if encrypted != expect_encrypted:
            raise UnexpectedMessage("message encryption does not match the Main Mode step")
        step = getattr(self, f"_{self.state}", None)
        if step is None:
            raise UnexpectedMessage(f"unexpected Main Mode message in state {self.state}")
        result: Step = step(payloads)
        return result

    # --- initiator -------------------------------------------------------------------------------

    def _wait_mm2(self, payloads: Sequence[Payload]) -> Step:
        offer = self.check_reply_sa(payloads)
        if self.ctx.probe:
            raise ProbeAnswer(offer)
        self.take_vids(payloads)
        self._accept(offer)
        out = [*self.make_ke_nonce(), *self.cert_request(), *self.nat_d_out()]
        self.state = "wait_mm4"
        return Step(send=out)

    def _wait_mm4(self, payloads: Sequence[Payload]) -> Step:
        self.take_ke_nonce(payloads)
        self.peer_sent_cr = any(p.type == PayloadType.CR for p in payloads)
        self.derive_keys()
        nat = self.nat_d_in(payloads)
        out = [self.id_payload(), *self.auth_payloads(), *self.initial_contact()]
        self.state = "wait_mm6"
        return Step(send=out, encrypted=True, float_ports=bool(nat and nat.detected))

    def _wait_mm6(self, payloads: Sequence[Payload]) -> Step:
        self.take_peer_id(payloads)
        self.verify_peer(payloads)
        self.state = "done"
        return Step(done=True)

    # --- responder -------------------------------------------------------------------------------

    def _start(self, payloads: Sequence[Payload]) -> Step:
        body = one(payloads, PayloadType.SA).body
        sa = SAPayload.decode(body)
        self.sa_body = body
        self.take_vids(payloads)
        choice = select_phase1(sa, self.ctx.suites, [self.method()])
        if choice is None:
            reason = failures.no_proposal_responder(
                "the IKE (phase 1) SA", offered_phase1_names(sa), [s.pretty for s in self.ctx.suites], peer=self.label
            )
            raise Phase1Failure(reason, NotifyType.NO_PROPOSAL_CHOSEN)
        proposal, transform, offer = choice
        self._accept(offer)
        reply = SAPayload((Proposal(proposal.number, proposal.protocol, b"", (transform,)),))
        self.state = "wait_mm3"
        return Step(send=[Payload(PayloadType.SA, reply.encode()), *self.our_vids(reply=True)])

    def _wait_mm3(self, payloads: Sequence[Payload]) -> Step:
        self.take_ke_nonce(payloads)
        self.peer_sent_cr = any(p.type == PayloadType.CR for p in payloads)
        out = [*self.make_ke_nonce(), *self.cert_request()]
        self.derive_keys()
        self.nat_d_in(payloads)
        out += self.nat_d_out()
        self.state = "wait_mm5"
        return Step(send=out)

    def _wait_mm5(self, payloads: Sequence[Payload]) -> Step:
        self.take_peer_id(payloads)
        self.verify_peer(payloads)
        out = [self.id_payload(), *self.auth_payloads()]
        self.state = "done"
        return Step(send=out, encrypted=True, done=True)

    def _accept(self, offer: Phase1Offer) -> None:
        ours = self.config.ike_lifetime
        life = min(ours, offer.lifetime.seconds) if offer.lifetime.seconds else ours
        self.offer = Phase1Offer(offer.suite, offer.auth_method, Lifetime(life))
        self.sa.suite = offer.suite
        self.sa.auth_method = offer.auth_method
        self.sa.lifetime_seconds = life
