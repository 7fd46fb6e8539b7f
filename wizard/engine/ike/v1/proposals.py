"""IKEv1 proposals: profile proposal strings to SA payloads and back, and the choice among offers.

Phase 1 (RFC 2409 Appendix A): one proposal of KEY_IKE transforms, each a cipher, a hash (the PRF is its
HMAC), a DH group, the authentication method and a lifetime. Quick Mode (RFC 2407 §4.4.4, §4.5): one ESP
proposal whose transforms are ESP ciphers with an authentication algorithm attribute, the encapsulation
mode, lifetimes and (with PFS) the group.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from wizard.engine.crypto.suites import (
    Cipher,
    DHGroup,
    Integrity,
    Prf,
    cipher_by_esp_id,
    cipher_by_ikev1_id,
    dh_group_by_id,
    integrity_by_ikev1_auth_id,
    parse_proposal_string,
    prf_by_ikev1_hash_id,
    prf_for_integrity,
)
from wizard.engine.ike.payloads import Attribute
from wizard.engine.ike.v1.constants import (
    KEY_IKE,
    Encapsulation,
    IPsecAttr,
    LifeType,
    Phase1Attr,
    ProtocolId,
)
from wizard.engine.ike.v1.messages import Proposal, SAPayload, Transform


def _pretty_cipher(c: Cipher) -> str:
    if c.name in ("3des", "des"):
        return c.name.upper()
    bits = c.key_size * 8
    if c.mode == "gcm":
        return f"AES-{bits}-GCM-{c.icv_size}"
    if c.mode == "ctr":
        return f"AES-{bits}-CTR"
    return f"AES-{bits}"


def _pretty_hash(name: str) -> str:
    name = name.removeprefix("prf")
    return {"md5": "MD5", "aesxcbc": "AES-XCBC"}.get(name, name.upper().replace("SHA", "SHA-"))


def _pretty_group(g: DHGroup) -> str:
    if g.name.startswith("modp"):
        return f"MODP-{g.name[4:]}"
    if g.name.startswith("ecp"):
        return f"ECP-{g.name[3:]}"
    return "Curve25519" if g.name == "curve25519" else g.name


@dataclass(frozen=True)
class Phase1Suite:
    """One phase 1 transform's algorithms."""

    cipher: Cipher
    hash: Prf
    group: DHGroup

    @property
    def name(self) -> str:
        return f"{self.cipher.name}-{self.hash.name.removeprefix('prf')}-{self.group.name}"

    @property
    def pretty(self) -> str:
        return f"{_pretty_cipher(self.cipher)}/{_pretty_hash(self.hash.name)}/{_pretty_group(self.group)}"

    @property
    def legacy(self) -> bool:
        return self.cipher.legacy or self.hash.legacy or self.group.legacy


@dataclass(frozen=True)
class EspSuite:
    """One ESP transform's algorithms; ``integrity`` is None for AEAD ciphers."""

    cipher: Cipher
    integrity: Integrity | None

    @property
    def name(self) -> str:
        return self.cipher.name + (f"-{self.integrity.name}" if self.integrity else "")

    @property
    def pretty(self) -> str:
        return _pretty_cipher(self.cipher) + (f"/{_pretty_hash(self.integrity.name)}" if self.integrity else "")

    @property
    def legacy(self) -> bool:
        return self.cipher.legacy or bool(self.integrity and self.integrity.legacy)


def pretty_group(group: DHGroup) -> str:
    return _pretty_group(group)


def phase1_suites(proposals: Iterable[str]) -> list[Phase1Suite]:
    """Expand IKE proposal strings into phase 1 suites IKEv1 can carry (no AEAD, no XCBC hash)."""
    out: list[Phase1Suite] = []
    for text in proposals:
        p = parse_proposal_string(text, "ike")
        hashes = [prf_for_integrity(i) for i in p.integrities] if p.integrities else list(p.prfs)
        for c, h, g in itertools.product(p.ciphers, hashes, p.dh_groups):
            if c.ikev1_id is None or h.ikev1_hash_id is None:
                continue
            suite = Phase1Suite(c, h, g)
            if suite not in out:
                out.append(suite)
    return out


def esp_suites(proposals: Iterable[str]) -> tuple[list[EspSuite], DHGroup | None]:
    """Expand ESP proposal strings; also return the first PFS group named (None: no PFS asked for)."""
    out: list[EspSuite] = []
    group: DHGroup | None = None
    for text in proposals:
        p = parse_proposal_string(text, "esp")
        if p.dh_groups and group is None:
            group = p.dh_groups[0]
        integs: Sequence[Integrity | None] = p.integrities or [None]
        for c, i in itertools.product(p.ciphers, integs):
            if c.ikev1_esp_id is None or (i is None and not c.aead):
                continue
            suite = EspSuite(c, i)
            if suite not in out:
                out.append(suite)
    return out, group


# --- phase 1 -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lifetime:
    seconds: int | None = None
    kilobytes: int | None = None


def _lifetime_attrs(life_type_attr: int, duration_attr: int, lifetime: Lifetime) -> list[Attribute]:
    attrs: list[Attribute] = []
    if lifetime.seconds:
        attrs += [Attribute.tv(life_type_attr, LifeType.SECONDS), Attribute.number(duration_attr, lifetime.seconds)]
    if lifetime.kilobytes:
        attrs += [Attribute.tv(life_type_attr, LifeType.KILOBYTES), Attribute.number(duration_attr, lifetime.kilobytes)]
    return attrs


def _parse_lifetime(attrs: Sequence[Attribute], life_type_attr: int, duration_attr: int) -> Lifetime | None:
    seconds = kilobytes = None
    current: int | None = None
    for a in attrs:
        if a.type == life_type_attr:
            current = a.int_value
        elif a.type == duration_attr:
            if current == LifeType.SECONDS:
                seconds = a.int_value
            elif current == LifeType.KILOBYTES:
                kilobytes = a.int_value
            else:
                return None
    return Lifetime(seconds, kilobytes)


def phase1_transform(number: int, suite: Phase1Suite, auth_method: int, lifetime: Lifetime) -> Transform:
    attrs = [Attribute.tv(Phase1Attr.ENCRYPTION, suite.cipher.ikev1_id or 0)]
    if suite.cipher.key_length_attribute is not None:
        attrs.append(Attribute.tv(Phase1Attr.KEY_LENGTH, suite.cipher.key_length_attribute))
    attrs += [
        Attribute.tv(Phase1Attr.HASH, suite.hash.ikev1_hash_id or 0),
        Attribute.tv(Phase1Attr.AUTH_METHOD, auth_method),
        Attribute.tv(Phase1Attr.GROUP, suite.group.number),
        *_lifetime_attrs(Phase1Attr.LIFE_TYPE, Phase1Attr.LIFE_DURATION, lifetime),
    ]
    return Transform(number, KEY_IKE, tuple(attrs))


def phase1_sa(suites: Sequence[Phase1Suite], auth_method: int, lifetime: Lifetime) -> SAPayload:
    transforms = tuple(phase1_transform(i + 1, s, auth_method, lifetime) for i, s in enumerate(suites))
    return SAPayload((Proposal(1, ProtocolId.ISAKMP, b"", transforms),))


@dataclass(frozen=True)
class Phase1Offer:
    """A decoded phase 1 transform."""

    suite: Phase1Suite
    auth_method: int
    lifetime: Lifetime


def parse_phase1_transform(t: Transform) -> Phase1Offer | None:
    """None when the transform uses something we do not implement or is malformed."""
    if t.transform_id != KEY_IKE:
        return None
    enc, hash_id, auth, group_id = (t.get(Phase1Attr.ENCRYPTION), t.get(Phase1Attr.HASH),
                                    t.get(Phase1Attr.AUTH_METHOD), t.get(Phase1Attr.GROUP))  # fmt: skip
    if enc is None or hash_id is None or auth is None or group_id is None or t.get(Phase1Attr.PRF) is not None:
        return None
    c = cipher_by_ikev1_id(enc, t.get(Phase1Attr.KEY_LENGTH))
    h = prf_by_ikev1_hash_id(hash_id)
    g = dh_group_by_id(group_id)
    life = _parse_lifetime(t.attributes, Phase1Attr.LIFE_TYPE, Phase1Attr.LIFE_DURATION)
    if c is None or h is None or g is None or life is None:
        return None
    return Phase1Offer(Phase1Suite(c, h, g), auth, life)


def phase1_offers(sa: SAPayload) -> list[tuple[Proposal, Transform, Phase1Offer | None]]:
    out: list[tuple[Proposal, Transform, Phase1Offer | None]] = []
    for p in sa.proposals:
        if p.protocol != ProtocolId.ISAKMP:
            continue
        out += [(p, t, parse_phase1_transform(t)) for t in p.transforms]
    return out


def select_phase1(
    sa: SAPayload, ours: Sequence[Phase1Suite], auth_methods: Iterable[int]
) -> tuple[Proposal, Transform, Phase1Offer] | None:
    """Responder: the first offered transform (initiator's order) that our policy allows."""
    methods = set(auth_methods)
    for p, t, offer in phase1_offers(sa):
        if offer is not None and offer.suite in ours and offer.auth_method in methods:
            return p, t, offer
    return None


def offered_phase1_names(sa: SAPayload) -> list[str]:
    names: list[str] = []
    for _, t, offer in phase1_offers(sa):
        name = offer.suite.pretty if offer else f"transform {t.transform_id} (unsupported algorithms)"
        if name not in names:
            names.append(name)
    return names


# --- quick mode ----------------------------------------------------------------------------------


def esp_transform(
    number: int, suite: EspSuite, encapsulation: int, lifetime: Lifetime, group: DHGroup | None
) -> Transform:
    attrs = _lifetime_attrs(IPsecAttr.LIFE_TYPE, IPsecAttr.LIFE_DURATION, lifetime)
    if group is not None:
        attrs.append(Attribute.tv(IPsecAttr.GROUP, group.number))
    attrs.append(Attribute.tv(IPsecAttr.ENCAPSULATION, encapsulation))
    if suite.integrity is not None:
        attrs.append(Attribute.tv(IPsecAttr.AUTH_ALGORITHM, suite.integrity.ikev1_auth_id))
    if suite.cipher.key_length_attribute is not None:
        attrs.append(Attribute.tv(IPsecAttr.KEY_LENGTH, suite.cipher.key_length_attribute))
    return Transform(number, suite.cipher.ikev1_esp_id or 0, tuple(attrs))


def esp_sa(
    spi: bytes,
    suites: Sequence[EspSuite],
    encapsulation: int,
    lifetime: Lifetime,
    group: DHGroup | None,
) -> SAPayload:
    transforms = tuple(esp_transform(i + 1, s, encapsulation, lifetime, group) for i, s in enumerate(suites))
    return SAPayload((Proposal(1, ProtocolId.ESP, spi, transforms),))


@dataclass(frozen=True)
class EspOffer:
    suite: EspSuite
    encapsulation: int
    lifetime: Lifetime
    group: DHGroup | None
    group_id: int | None


def parse_esp_transform(t: Transform) -> EspOffer | None:
    key_bits = t.get(IPsecAttr.KEY_LENGTH)
    c = cipher_by_esp_id(t.transform_id, key_bits)
    if c is None:
        return None
    auth_id = t.get(IPsecAttr.AUTH_ALGORITHM)
    integ = integrity_by_ikev1_auth_id(auth_id) if auth_id is not None else None
    if (auth_id is not None and integ is None) or (integ is None and not c.aead) or (integ and c.aead):
        return None
    encap = t.get(IPsecAttr.ENCAPSULATION)
    life = _parse_lifetime(t.attributes, IPsecAttr.LIFE_TYPE, IPsecAttr.LIFE_DURATION)
    if encap is None or life is None or t.get(IPsecAttr.EXT_SEQUENCE) or t.get(IPsecAttr.KEY_ROUNDS):
        return None
    group_id = t.get(IPsecAttr.GROUP)
    group = dh_group_by_id(group_id) if group_id is not None else None
    if group_id is not None and group is None:
        return None
    return EspOffer(EspSuite(c, integ), encap, life, group, group_id)


def esp_offers(sa: SAPayload) -> list[tuple[Proposal, Transform, EspOffer | None]]:
    out: list[tuple[Proposal, Transform, EspOffer | None]] = []
    for p in sa.proposals:
        if p.protocol == ProtocolId.ESP:
            out += [(p, t, parse_esp_transform(t)) for t in p.transforms]
    return out


def offered_esp_names(sa: SAPayload) -> list[str]:
    names: list[str] = []
    for _, t, offer in esp_offers(sa):
        name = offer.suite.pretty if offer else f"ESP transform {t.transform_id} (unsupported)"
        if offer and offer.group:
            name += f"/{_pretty_group(offer.group)}"
        if name not in names:
            names.append(name)
    return names


def encapsulation_for(tunnel: bool, udp: bool, draft: bool) -> int:
    if not udp:
        return Encapsulation.TUNNEL if tunnel else Encapsulation.TRANSPORT
    if draft:
        return Encapsulation.UDP_TUNNEL_DRAFT if tunnel else Encapsulation.UDP_TRANSPORT_DRAFT
    return Encapsulation.UDP_TUNNEL if tunnel else Encapsulation.UDP_TRANSPORT


def encapsulation_mode(value: int) -> tuple[bool, bool] | None:
    """(tunnel, udp) for an encapsulation attribute value, None if unknown."""
    modes: dict[int, tuple[bool, bool]] = {
        Encapsulation.TUNNEL: (True, False),
        Encapsulation.TRANSPORT: (False, False),
        Encapsulation.UDP_TUNNEL: (True, True),
        Encapsulation.UDP_TRANSPORT: (False, True),
        Encapsulation.UDP_TUNNEL_DRAFT: (True, True),
        Encapsulation.UDP_TRANSPORT_DRAFT: (False, True),
    }
    return modes.get(value)
