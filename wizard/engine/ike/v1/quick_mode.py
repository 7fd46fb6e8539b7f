"""Quick Mode (RFC 2409 §5.5): one ESP SA pair, optional PFS, traffic selectors, NAT-T encapsulation.

    Initiator                                                Responder
    HDR*, HASH(1), SA, Ni, [KE], [IDci, IDcr], [NAT-OAi, NAT-OAr]  -->
                                                  <--  HDR*, HASH(2), SA, Nr, [KE], [IDci, IDcr], [NAT-OA*]
    HDR*, HASH(3)                                                   -->

Keys: KEYMAT = prf(SKEYID_d, [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b) expanded (§5.5), once per
direction with the SPI of the receiving side; encryption key first, then the integrity key.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from wizard.engine.crypto.suites import DHGroup, DHKey
from wizard.engine.errors import ParseError
from wizard.engine.ike import failures
from wizard.engine.ike.payloads import Payload, decode_attributes
from wizard.engine.ike.v1 import keys as kdf
from wizard.engine.ike.v1.constants import IdType, IPsecAttr, NotifyType, PayloadType, ProtocolId
from wizard.engine.ike.v1.identities import TrafficSelector
from wizard.engine.ike.v1.messages import IdPayload, NotifyPayload, Proposal, SAPayload
from wizard.engine.ike.v1.proposals import (
    EspOffer,
    EspSuite,
    Lifetime,
    encapsulation_for,
    encapsulation_mode,
    esp_offers,
    esp_sa,
    offered_esp_names,
    parse_esp_transform,
    pretty_group,
)
from wizard.engine.ike.v1.sa import IsakmpSA

NONCE_SIZE = 32


class QuickModeFailure(Exception):
    def __init__(self, reason: str, notify: int | None = None, spi: bytes = b"") -> None:
        super().__init__(reason)
        self.reason = reason
        self.notify = notify
        self.spi = spi


class QuickModeProbeAnswer(Exception):
    """The peer picked ``offer`` from a diagnostic ESP offer."""

    def __init__(self, offer: EspOffer, peer_spi: bytes) -> None:
        super().__init__(offer.suite.pretty)
        self.offer = offer
        self.peer_spi = peer_spi


@dataclass
class QuickModeParams:
    """What the connection decided for this exchange."""

    suites: list[EspSuite]
    pfs_group: DHGroup | None
    tunnel: bool
    udp: bool
    draft_nat_t: bool
    local_ts: TrafficSelector
    remote_ts: TrafficSelector
    lifetime: Lifetime
    send_ids: bool = True
    nat_oa: tuple[str, str] | None = None  # (our original address, the peer's address as we see it)
    probe: bool = False


@dataclass
class QuickModeResult:
    """The negotiated SA pair (the connection turns it into a ChildSA event)."""

    spi_in: bytes
    spi_out: bytes
    suite: EspSuite
    enc_key_in: bytes = field(repr=False)
    enc_key_out: bytes = field(repr=False)
    auth_key_in: bytes = field(repr=False)
    auth_key_out: bytes = field(repr=False)
    tunnel: bool
    udp: bool
    local_ts: TrafficSelector
    remote_ts: TrafficSelector
    lifetime: Lifetime
    pfs_group: int | None
    nat_oa_peer: str | None = None


@dataclass
class QuickMode:
    """One Quick Mode exchange in one role, on an established ISAKMP SA."""

    sa: IsakmpSA
    message_id: int
    initiator: bool
    rand: Callable[[int], bytes]
    peer_label: str
    params: QuickModeParams | None = None
    spi_in: bytes = b""
    state: str = "start"
    ni: bytes = b""
    nr: bytes = b""
    dh: DHKey | None = field(default=None, repr=False)
    peer_ke: bytes = b""
    offer: EspOffer | None = None
    result: QuickModeResult | None = None
    rekey_of: object = None
    peer_nat_oa: str | None = None

    @property
    def _prf(self) -> kdf.PrfLike:
        assert self.sa.suite is not None
        return self.sa.suite.hash

    @property
    def _skeyid_a(self) -> bytes:
        assert self.sa.keys is not None
        return self.sa.keys.skeyid_a

    # --- initiator -------------------------------------------------------------------------------

    def start(self) -> list[Payload]:
        """QM1 payloads, HASH(1) first."""
        p = self.params
        assert p is not None
        self.spi_in = self._new_spi()
        encap = encapsulation_for(p.tunnel, p.udp, p.draft_nat_t)
        sa = esp_sa(self.spi_in, p.suites, encap, p.lifetime, p.pfs_group)
        self.ni = self.rand(NONCE_SIZE)
        rest = [Payload(PayloadType.SA, sa.encode()), Payload(PayloadType.NONCE, self.ni)]
        if p.pfs_group is not None:
            self.dh = p.pfs_group.generate(self.rand(p.pfs_group.private_size))
            rest.append(Payload(PayloadType.KE, self.dh.public_bytes()))
        if p.send_ids:
            rest += [Payload(PayloadType.ID, p.local_ts.to_payload().encode()),
                     Payload(PayloadType.ID, p.remote_ts.to_payload().encode())]  # fmt: skip
        rest += self._nat_oa_out()
        self.state = "wait_qm2"
        return self._with_hash(rest, lambda body: kdf.qm_hash1(self._prf, self._skeyid_a, self.message_id, body))

    def handle_qm2(self, payloads: Sequence[Payload], rest: bytes) -> list[Payload]:
        """Verify HASH(2), take the choice; returns QM3's payloads. The result is in :attr:`result`."""
        p = self.params
        assert p is not None
        self._check_hash(payloads, kdf.qm_hash2(self._prf, self._skeyid_a, self.message_id, self.ni, rest))
        sa = SAPayload.decode(_one(payloads, PayloadType.SA).body)
        if len(sa.proposals) != 1 or len(sa.proposals[0].transforms) != 1:
            raise QuickModeFailure(f"{self.peer_label} answered Quick Mode with more than one proposal", NotifyType.BAD_PROPOSAL_SYNTAX)
        proposal = sa.proposals[0]
        if proposal.protocol != ProtocolId.ESP or len(proposal.spi) != 4:
            raise QuickModeFailure(f"{self.peer_label} answered Quick Mode without an ESP SPI", NotifyType.INVALID_SPI)
        offer = parse_esp_transform(proposal.transforms[0])
        if offer is not None and p.probe:
            raise QuickModeProbeAnswer(offer, proposal.spi)
        if offer is None or offer.suite not in p.suites:
            raise QuickModeFailure(f"{self.peer_label} chose an ESP transform we did not offer", NotifyType.NO_PROPOSAL_CHOSEN)
        if (offer.group or None) != p.pfs_group:
            raise QuickModeFailure(f"{self.peer_label} answered with a different PFS group", NotifyType.NO_PROPOSAL_CHOSEN)
        mode = encapsulation_mode(offer.encapsulation)
        if mode is None or mode[0] != p.tunnel:
            raise QuickModeFailure(f"{self.peer_label} answered with a different encapsulation mode", NotifyType.NO_PROPOSAL_CHOSEN)
        self.nr = _one(payloads, PayloadType.NONCE).body
        g_qm = self._pfs_secret(payloads)
        ids = [IdPayload.decode(x.body) for x in payloads if x.type == PayloadType.ID]
        if ids and not (len(ids) == 2 and _same_ids(ids, p.local_ts, p.remote_ts, transport=not p.tunnel)):
            raise QuickModeFailure(f"{self.peer_label} changed the traffic selectors", NotifyType.INVALID_ID_INFORMATION)
        self._take_nat_oa(payloads)
        lifetime = _min_lifetime(p.lifetime, offer.lifetime, _responder_lifetime(payloads))
        self.result = self._keys(offer.suite, proposal.spi, g_qm, p.local_ts, p.remote_ts, mode[1], p.tunnel, lifetime, offer.group_id)
        self.state = "done"
        return [Payload(PayloadType.HASH, kdf.qm_hash3(self._prf, self._skeyid_a, self.message_id, self.ni, self.nr))]

    # --- responder -------------------------------------------------------------------------------

    def handle_qm1(
        self,
        payloads: Sequence[Payload],
        rest: bytes,
        suites: Sequence[EspSuite],
        pfs_group: DHGroup | None,
        tunnel: bool,
        allowed_local: TrafficSelector,
        allowed_remote: TrafficSelector,
        lifetime: Lifetime,
        nat_detected: bool,
        nat_oa_ok: Callable[[TrafficSelector], bool],
    ) -> list[Payload]:
        """Verify HASH(1), choose a transform, check the selectors; returns QM2's payloads."""
        self._check_hash(payloads, kdf.qm_hash1(self._prf, self._skeyid_a, self.message_id, rest))
        sa = SAPayload.decode(_one(payloads, PayloadType.SA).body)
        self.ni = _one(payloads, PayloadType.NONCE).body
        ke = next((x.body for x in payloads if x.type == PayloadType.KE), None)
        choice: tuple[Proposal, EspOffer] | None = None
        for proposal, transform, offer in esp_offers(sa):
            if offer is None or offer.suite not in suites or len(proposal.spi) != 4:
                continue
            mode = encapsulation_mode(offer.encapsulation)
            if mode is None or mode[0] != tunnel:
                continue
            if (offer.group is None) != (ke is None):
                continue
            if offer.group is not None and pfs_group is not None and offer.group != pfs_group:
                continue
            if offer.group is None and pfs_group is not None:
                continue
            choice = (Proposal(proposal.number, proposal.protocol, proposal.spi, (transform,)), offer)
            break
        if choice is None:
            ours = [s.pretty + (f"/{pretty_group(pfs_group)}" if pfs_group else "") for s in suites]
            what = "the IPsec SA (" + ("tunnel" if tunnel else "transport") + " mode)"
            raise QuickModeFailure(failures.no_proposal_responder(what, offered_esp_names(sa), ours, peer=self.peer_label),
                                   NotifyType.NO_PROPOSAL_CHOSEN)  # fmt: skip
        proposal, offer = choice
        ids = [IdPayload.decode(x.body) for x in payloads if x.type == PayloadType.ID]
        if ids:
            if len(ids) != 2:
                raise QuickModeFailure("Quick Mode needs both IDci and IDcr or neither", NotifyType.INVALID_ID_INFORMATION)
            try:
                remote_ts = TrafficSelector.from_payload(ids[0])
                local_ts = TrafficSelector.from_payload(ids[1])
            except ParseError as exc:
                raise QuickModeFailure(f"{self.peer_label} sent unusable traffic selectors: {exc}", NotifyType.INVALID_ID_INFORMATION) from exc
        else:
            remote_ts, local_ts = allowed_remote, allowed_local
        self._take_nat_oa(payloads)
        remote_ok = allowed_remote.contains(remote_ts) or (nat_detected and not tunnel and nat_oa_ok(remote_ts))
        if not remote_ok or not allowed_local.contains(local_ts):
            raise QuickModeFailure(
                f"{self.peer_label} asked for traffic selectors {remote_ts} <-> {local_ts}, but this side allows only "
                f"{allowed_remote} <-> {allowed_local}",
                NotifyType.INVALID_ID_INFORMATION,
            )
        mode = encapsulation_mode(offer.encapsulation)
        assert mode is not None
        self.offer = offer
        self.spi_in = self._new_spi()
        self.nr = self.rand(NONCE_SIZE)
        reply_sa = SAPayload((Proposal(proposal.number, proposal.protocol, self.spi_in, proposal.transforms),))
        out = [Payload(PayloadType.SA, reply_sa.encode()), Payload(PayloadType.NONCE, self.nr)]
        g_qm = None
        if offer.group is not None:
            assert ke is not None
            self.dh = offer.group.generate(self.rand(offer.group.private_size))
            out.append(Payload(PayloadType.KE, self.dh.public_bytes()))
            g_qm = self._shared(ke)
        if ids:
            out += [Payload(PayloadType.ID, ids[0].encode()), Payload(PayloadType.ID, ids[1].encode())]
        life = _min_lifetime(lifetime, offer.lifetime, None)
        self.result = self._keys(offer.suite, proposal.spi, g_qm, local_ts, remote_ts, mode[1], tunnel, life, offer.group_id)
        self.state = "wait_qm3"
        return self._with_hash(out, lambda body: kdf.qm_hash2(self._prf, self._skeyid_a, self.message_id, self.ni, body))

    def handle_qm3(self, payloads: Sequence[Payload]) -> None:
        self._check_hash(payloads, kdf.qm_hash3(self._prf, self._skeyid_a, self.message_id, self.ni, self.nr))
        self.state = "done"

    # --- helpers ---------------------------------------------------------------------------------

    def _new_spi(self) -> bytes:
        while True:
            spi = self.rand(4)
            if int.from_bytes(spi, "big") > 255:  # 1..255 are reserved (RFC 4303 §2.1)
                return spi

    def _with_hash(self, rest: list[Payload], compute: Callable[[bytes], bytes]) -> list[Payload]:
        from wizard.engine.ike.payloads import encode_chain

        _, body = encode_chain(rest)
        return [Payload(PayloadType.HASH, compute(body)), *rest]

    def _check_hash(self, payloads: Sequence[Payload], expected: bytes) -> None:
        if not payloads or payloads[0].type != PayloadType.HASH:
            raise QuickModeFailure("Quick Mode message does not start with HASH", NotifyType.INVALID_HASH_INFORMATION)
        if not kdf.same(payloads[0].body, expected):
            raise QuickModeFailure(f"the Quick Mode hash from {self.peer_label} did not verify", NotifyType.INVALID_HASH_INFORMATION)

    def _shared(self, peer_public: bytes) -> bytes:
        assert self.dh is not None
        try:
            return self.dh.shared_secret(peer_public)
        except ParseError as exc:
            raise QuickModeFailure(f"{self.peer_label} sent an invalid PFS key exchange value: {exc}", NotifyType.INVALID_KEY_INFORMATION) from exc

    def _pfs_secret(self, payloads: Sequence[Payload]) -> bytes | None:
        ke = next((x.body for x in payloads if x.type == PayloadType.KE), None)
        if self.dh is None:
            if ke is not None:
                raise QuickModeFailure(f"{self.peer_label} sent a KE payload without PFS", NotifyType.INVALID_PAYLOAD_TYPE)
            return None
        if ke is None:
            raise QuickModeFailure(f"{self.peer_label} did not answer our PFS key exchange", NotifyType.NO_PROPOSAL_CHOSEN)
        return self._shared(ke)

    def _nat_oa_out(self) -> list[Payload]:
        p = self.params
        if p is None or p.nat_oa is None or p.tunnel or not p.udp:
            return []
        ptype = PayloadType.NAT_OA_DRAFT if p.draft_nat_t else PayloadType.NAT_OA
        return [Payload(ptype, _nat_oa_body(a)) for a in p.nat_oa]

    def _take_nat_oa(self, payloads: Sequence[Payload]) -> None:
        oas = [x.body for x in payloads if x.type in (PayloadType.NAT_OA, PayloadType.NAT_OA_DRAFT)]
        if oas:
            try:
                self.peer_nat_oa = _parse_nat_oa(oas[0])
            except ParseError:
                self.peer_nat_oa = None

    def _keys(
        self,
        suite: EspSuite,
        spi_out: bytes,
        g_qm: bytes | None,
        local_ts: TrafficSelector,
        remote_ts: TrafficSelector,
        udp: bool,
        tunnel: bool,
        lifetime: Lifetime,
        group_id: int | None,
    ) -> QuickModeResult:
        assert self.sa.keys is not None
        enc_len = suite.cipher.keymat_size
        auth_len = suite.integrity.key_size if suite.integrity else 0
        ni, nr = self.ni, self.nr
        d = self.sa.keys.skeyid_d

        def derive(spi: bytes) -> tuple[bytes, bytes]:
            km = kdf.keymat(self._prf, d, ProtocolId.ESP, spi, ni, nr, enc_len + auth_len, g_qm)
            return km[:enc_len], km[enc_len:]

        enc_in, auth_in = derive(self.spi_in)
        enc_out, auth_out = derive(spi_out)
        return QuickModeResult(self.spi_in, spi_out, suite, enc_in, enc_out, auth_in, auth_out, tunnel, udp,
                               local_ts, remote_ts, lifetime, group_id, self.peer_nat_oa)  # fmt: skip


def _one(payloads: Sequence[Payload], ptype: int) -> Payload:
    for p in payloads:
        if p.type == ptype:
            return p
    raise QuickModeFailure(f"a required {PayloadType(ptype).name} payload is missing from Quick Mode", NotifyType.PAYLOAD_MALFORMED)


def _nat_oa_body(address: str) -> bytes:
    a = ipaddress.ip_address(address)
    return bytes([IdType.IPV4_ADDR if a.version == 4 else IdType.IPV6_ADDR, 0, 0, 0]) + a.packed


def _parse_nat_oa(body: bytes) -> str:
    if len(body) not in (8, 20) or body[0] not in (IdType.IPV4_ADDR, IdType.IPV6_ADDR):
        raise ParseError("malformed NAT-OA payload")
    return str(ipaddress.ip_address(body[4:]))


def _responder_lifetime(payloads: Sequence[Payload]) -> Lifetime | None:
    for x in payloads:
        if x.type != PayloadType.NOTIFY:
            continue
        try:
            n = NotifyPayload.decode(x.body)
            if n.notify_type != NotifyType.RESPONDER_LIFETIME:
                continue
            attrs = decode_attributes(n.data)
        except ParseError:
            continue
        seconds = kb = None
        current = None
        for a in attrs:
            if a.type == IPsecAttr.LIFE_TYPE:
                current = a.int_value
            elif a.type == IPsecAttr.LIFE_DURATION:
                if current == 1:
                    seconds = a.int_value
                elif current == 2:
                    kb = a.int_value
        return Lifetime(seconds, kb)
    return None


def _min_lifetime(ours: Lifetime, theirs: Lifetime, notified: Lifetime | None) -> Lifetime:
    def pick(*values: int | None) -> int | None:
        present = [v for v in values if v]
        return min(present) if present else None

    n = notified or Lifetime()
    return Lifetime(pick(ours.seconds, theirs.seconds, n.seconds), pick(ours.kilobytes, theirs.kilobytes, n.kilobytes))


def _same_ids(ids: list[IdPayload], local: TrafficSelector, remote: TrafficSelector, *, transport: bool) -> bool:
    """Whether the responder echoed our IDci/IDcr.

    In transport mode behind a NAT (RFC 3947 §5.2) a responder such as strongSwan answers with the
    addresses it sees, i.e. our NAT's public address: then only the ID type, protocol and port
    must match; the real addresses travel in NAT-OA.
    """
    wanted = (local.to_payload(), remote.to_payload())
    if all(got.encode() == want.encode() for got, want in zip(ids, wanted, strict=True)):
        return True
    if not transport:
        return False
    return all(
        (got.id_type, got.protocol, got.port) == (want.id_type, want.protocol, want.port)
        for got, want in zip(ids, wanted, strict=True)
    )
