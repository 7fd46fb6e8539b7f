"""IKEv2 proposals (RFC 7296 §3.3): profile strings to SA payloads, the responder's choice, the
initiator's check of that choice, and readable names for failure messages.

A profile string such as ``aes256gcm16-aes128gcm16-prfsha256-modp2048-ecp256`` becomes one proposal
with several transforms of each type; the responder picks one of each.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from wizard.engine.crypto.suites import (
    Cipher,
    DHGroup,
    Integrity,
    Prf,
    cipher_by_ikev2_id,
    dh_group_by_id,
    integrity_by_ikev2_id,
    parse_proposal_string,
    prf_by_ikev2_id,
)
from wizard.engine.crypto.suites import Proposal as ProfileProposal
from wizard.engine.ike.v2.constants import ProtocolId, TransformType
from wizard.engine.ike.v2.messages import Proposal, SAPayload, Transform

ESN_NONE = 0
ESN_ON = 1


@dataclass(frozen=True)
class IkeSuite:
    cipher: Cipher
    integrity: Integrity | None
    prf: Prf
    group: DHGroup

    @property
    def name(self) -> str:
        parts = [self.cipher.name] + ([self.integrity.name] if self.integrity else []) + [self.prf.name, self.group.name]
        return "-".join(parts)

    @property
    def legacy(self) -> bool:
        return any(x.legacy for x in (self.cipher, self.integrity, self.prf, self.group) if x is not None)


@dataclass(frozen=True)
class EspSuite:
    cipher: Cipher
    integrity: Integrity | None
    group: DHGroup | None = None

    @property
    def name(self) -> str:
        parts = [self.cipher.name] + ([self.integrity.name] if self.integrity else [])
        return "-".join(parts + ([self.group.name] if self.group else []))


def profile_proposals(texts: Iterable[str], kind: str) -> list[ProfileProposal]:
    return [parse_proposal_string(t, "ike" if kind == "ike" else "esp") for t in texts]


def _encr(c: Cipher) -> Transform:
    return Transform(TransformType.ENCR, c.ikev2_id, c.key_length_attribute)


def ike_sa_payload(offers: Sequence[ProfileProposal], spi: bytes = b"") -> SAPayload:
    """The SA payload the initiator sends (empty SPI in IKE_SA_INIT, the new SPI when rekeying)."""
    out: list[Proposal] = []
    for n, p in enumerate(offers, 1):
        ts: list[Transform] = [_encr(c) for c in p.ciphers]
        ts += [Transform(TransformType.PRF, f.ikev2_id) for f in p.prfs]
        if not p.aead:
            ts += [Transform(TransformType.INTEG, i.ikev2_id) for i in p.integrities]
        ts += [Transform(TransformType.DH, g.number) for g in p.dh_groups]
        out.append(Proposal(n, ProtocolId.IKE, spi, tuple(ts)))
    return SAPayload(tuple(out))


def esp_sa_payload(offers: Sequence[ProfileProposal], spi: bytes, *, pfs: DHGroup | None) -> SAPayload:
    """ESP proposals; DH transforms only when ``pfs`` is set (never in IKE_AUTH), the forced group first."""
    out: list[Proposal] = []
    for n, p in enumerate(offers, 1):
        ts: list[Transform] = [_encr(c) for c in p.ciphers]
        if not p.aead:
            ts += [Transform(TransformType.INTEG, i.ikev2_id) for i in p.integrities]
        if pfs is not None:
            groups = [pfs] + [g for g in p.dh_groups if g != pfs]
            ts += [Transform(TransformType.DH, g.number) for g in groups]
        ts.append(Transform(TransformType.ESN, ESN_NONE))
        out.append(Proposal(n, ProtocolId.ESP, spi, tuple(ts)))
    return SAPayload(tuple(out))


def ike_offer_names(offers: Sequence[ProfileProposal]) -> list[str]:
    return [p.text for p in offers]


# --- reading transforms off the wire ---------------------------------------------------------------


def _cipher(t: Transform) -> Cipher | None:
    return cipher_by_ikev2_id(t.id, t.key_length)


def _integ(t: Transform) -> Integrity | None:
    return integrity_by_ikev2_id(t.id)


def _prf(t: Transform) -> Prf | None:
    return prf_by_ikev2_id(t.id)


def _group(t: Transform) -> DHGroup | None:
    return dh_group_by_id(t.id)


def describe_proposal(p: Proposal) -> str:
    """strongSwan-style text for a wire proposal (unknown transforms by number)."""
    names: list[str] = []
    for t in p.transforms:
        obj: Cipher | Integrity | Prf | DHGroup | None = None
        if t.type == TransformType.ENCR:
            obj = _cipher(t)
        elif t.type == TransformType.INTEG:
            obj = _integ(t) if t.id else None
            if t.id == 0:
                continue
        elif t.type == TransformType.PRF:
            obj = _prf(t)
        elif t.type == TransformType.DH:
            obj = _group(t) if t.id else None
            if t.id == 0:
                continue
        else:
            continue
        names.append(obj.name if obj is not None else f"{TransformType(t.type).name.lower()}{t.id}")
    return "-".join(names) or "an empty proposal"


def describe_sa(sa: SAPayload) -> list[str]:
    return [describe_proposal(p) for p in sa.proposals]


# --- responder: choose ------------------------------------------------------------------------------


_T = TypeVar("_T")


def _pick(theirs: Sequence[Transform], ours: Sequence[_T], conv: Callable[[Transform], _T | None]) -> tuple[Transform, _T] | None:
    """The first of the peer's transforms (its preference order) that we also allow."""
    for t in theirs:
        obj = conv(t)
        if obj is not None and obj in ours:
            return t, obj
    return None


def choose_ike(
    sa: SAPayload, offers: Sequence[ProfileProposal], *, ke_group: int | None = None
) -> tuple[Proposal, IkeSuite] | None:
    """The first acceptable combination, preferring one whose DH group matches ``ke_group``.

    Returns the answer proposal (the peer's number, one transform of each type, no SPI yet) and the suite.
    """
    candidates: list[tuple[Proposal, IkeSuite]] = []
    for p in sa.proposals:
        if p.protocol != ProtocolId.IKE:
            continue
        for ours in offers:
            c = _pick(p.of_type(TransformType.ENCR), ours.ciphers, _cipher)
            f = _pick(p.of_type(TransformType.PRF), ours.prfs, _prf)
            groups = list(ours.dh_groups)
            theirs_dh = list(p.of_type(TransformType.DH))
            if ke_group is not None:
                theirs_dh.sort(key=lambda t: t.id != ke_group)
            g = _pick(theirs_dh, groups, _group)
            if c is None or f is None or g is None:
                continue
            cipher = c[1]
            integ: tuple[Transform, Integrity] | None = None
            if not cipher.aead:
                integ = _pick(p.of_type(TransformType.INTEG), ours.integrities, _integ)
                if integ is None:
                    continue
            elif any(t.id != 0 for t in p.of_type(TransformType.INTEG)):
                continue  # AEAD with a real integrity transform is malformed (RFC 5282 §8)
            chosen = [c[0], f[0]] + ([integ[0]] if integ else []) + [g[0]]
            prf_obj, grp = f[1], g[1]
            integ_obj = integ[1] if integ else None
            suite = IkeSuite(cipher, integ_obj, prf_obj, grp)
            candidates.append((Proposal(p.number, ProtocolId.IKE, b"", tuple(chosen)), suite))
            break
    if not candidates:
        return None
    if ke_group is not None:
        for cand in candidates:
            if cand[1].group.number == ke_group:
                return cand
    return candidates[0]


def choose_esp(
    sa: SAPayload, offers: Sequence[ProfileProposal], *, dh_required: DHGroup | bool | None = False
) -> tuple[Proposal, EspSuite] | None:
    """Pick an ESP proposal. ``dh_required``: False (IKE_AUTH: ignore DH), None (no PFS allowed unless the
    peer asks), or the KE group the initiator sent (the chosen proposal must contain it)."""
    for p in sa.proposals:
        if p.protocol != ProtocolId.ESP or len(p.spi) != 4:
            continue
        for ours in offers:
            c = _pick(p.of_type(TransformType.ENCR), ours.ciphers, _cipher)
            if c is None:
                continue
            cipher = c[1]
            integ: tuple[Transform, Integrity] | None = None
            if not cipher.aead:
                integ = _pick(p.of_type(TransformType.INTEG), ours.integrities, _integ)
                if integ is None:
                    continue
            esn = p.of_type(TransformType.ESN)
            if esn and not any(t.id == ESN_NONE for t in esn):
                continue
            chosen: list[Transform] = [c[0]] + ([integ[0]] if integ else [])
            group: DHGroup | None = None
            dh = [t for t in p.of_type(TransformType.DH) if t.id != 0]
            if isinstance(dh_required, DHGroup):
                if not any(t.id == dh_required.number for t in dh):
                    continue
                if ours.dh_groups and dh_required not in ours.dh_groups:
                    continue
                group = dh_required
                chosen.append(Transform(TransformType.DH, group.number))
            elif dh_required is None and dh:
                continue  # the peer wants PFS but sent no KE payload
            if esn:
                chosen.append(Transform(TransformType.ESN, ESN_NONE))
            integ_obj = integ[1] if integ else None
            return Proposal(p.number, ProtocolId.ESP, b"", tuple(chosen)), EspSuite(cipher, integ_obj, group)
    return None


# --- initiator: check the answer ------------------------------------------------------------------


def accept_ike(answer: SAPayload, offered: SAPayload) -> IkeSuite | None:
    """The responder's single proposal must name one transform of each type we offered in it."""
    if len(answer.proposals) != 1:
        return None
    a = answer.proposals[0]
    mine = next((p for p in offered.proposals if p.number == a.number), None)
    if mine is None or a.protocol != ProtocolId.IKE:
        return None
    picked: dict[int, Transform] = {}
    for t in a.transforms:
        if t.type in picked or t not in mine.transforms:
            return None
        picked[t.type] = t
    enc, f, g = picked.get(TransformType.ENCR), picked.get(TransformType.PRF), picked.get(TransformType.DH)
    if enc is None or f is None or g is None:
        return None
    cipher, prf_obj, group = _cipher(enc), _prf(f), _group(g)
    i = picked.get(TransformType.INTEG)
    integ = _integ(i) if i is not None and i.id else None
    if cipher is None or prf_obj is None or group is None or (not cipher.aead and integ is None):
        return None
    return IkeSuite(cipher, integ, prf_obj, group)


def accept_esp(answer: SAPayload, offered: SAPayload, *, pfs: DHGroup | None) -> EspSuite | None:
    if len(answer.proposals) != 1:
        return None
    a = answer.proposals[0]
    mine = next((p for p in offered.proposals if p.number == a.number), None)
    if mine is None or a.protocol != ProtocolId.ESP or len(a.spi) != 4:
        return None
    picked: dict[int, Transform] = {}
    for t in a.transforms:
        if t.type in picked or t not in mine.transforms:
            return None
        picked[t.type] = t
    enc = picked.get(TransformType.ENCR)
    if enc is None:
        return None
    cipher = _cipher(enc)
    i = picked.get(TransformType.INTEG)
    integ = _integ(i) if i is not None and i.id else None
    if cipher is None or (not cipher.aead and integ is None):
        return None
    g = picked.get(TransformType.DH)
    group = _group(g) if g is not None and g.id else None
    if pfs is not None and group is not None and group != pfs:
        return None
    return EspSuite(cipher, integ, group)
