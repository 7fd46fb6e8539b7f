"""IKEv2 key derivation (RFC 7296 §2.13-2.18) and the AUTH octets (§2.15-2.16).

SKEYSEED = prf(Ni | Nr, g^ir); {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} =
prf+(SKEYSEED, Ni | Nr | SPIi | SPIr); a rekeyed IKE SA uses prf(SK_d(old), g^ir(new) | Ni | Nr);
child keying material is prf+(SK_d, [g^ir(new) |] Ni | Nr), initiator-to-responder keys first.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field

from wizard.engine.crypto.suites import Cipher, Integrity, Prf, prf_plus

KEY_PAD = b"Key Pad for IKEv2"


def nonce_key(prf: Prf, ni: bytes, nr: bytes) -> bytes:
    """§2.14: a fixed-key-size PRF (AES-XCBC-PRF-128) keys on the first 64 bits of each nonce."""
    if not prf.hash_name:
        return ni[:8] + nr[:8]
    return ni + nr


def skeyseed(prf: Prf, ni: bytes, nr: bytes, g_ir: bytes) -> bytes:
    return prf.prf(nonce_key(prf, ni, nr), g_ir)


def skeyseed_rekey(prf: Prf, sk_d_old: bytes, g_ir: bytes, ni: bytes, nr: bytes) -> bytes:
    """§2.18: SKEYSEED of an IKE SA replacing one whose SK_d is ``sk_d_old`` (``prf`` is the new SA's)."""
    return prf.prf(sk_d_old, g_ir + ni + nr)


@dataclass(frozen=True)
class IkeKeys:
    """The seven IKE SA keys; ``sk_ai``/``sk_ar`` are empty with an AEAD cipher. Never printed."""

    sk_d: bytes = field(repr=False)
    sk_ai: bytes = field(repr=False)
    sk_ar: bytes = field(repr=False)
    sk_ei: bytes = field(repr=False)
    sk_er: bytes = field(repr=False)
    sk_pi: bytes = field(repr=False)
    sk_pr: bytes = field(repr=False)


def derive_ike_keys(
    prf: Prf, seed: bytes, ni: bytes, nr: bytes, spi_i: bytes, spi_r: bytes, cipher: Cipher, integrity: Integrity | None
) -> IkeKeys:
    """Split prf+(SKEYSEED, Ni | Nr | SPIi | SPIr) in the §2.14 order."""
    a = integrity.key_size if integrity is not None else 0
    e = cipher.keymat_size
    p = prf.key_size
    km = prf_plus(prf, seed, ni + nr + spi_i + spi_r, 3 * p + 2 * a + 2 * e)
    parts: list[bytes] = []
    at = 0
    for size in (p, a, a, e, e, p, p):
        parts.append(km[at : at + size])
        at += size
    return IkeKeys(*parts)


@dataclass(frozen=True)
class ChildKeys:
    """ESP keys by direction of the exchange that created the child (initiator to responder first)."""

    enc_i: bytes = field(repr=False)
    auth_i: bytes = field(repr=False)
    enc_r: bytes = field(repr=False)
    auth_r: bytes = field(repr=False)


def child_keymat(prf: Prf, sk_d: bytes, ni: bytes, nr: bytes, length: int, g_ir: bytes = b"") -> bytes:
    return prf_plus(prf, sk_d, g_ir + ni + nr, length)


def derive_child_keys(
    prf: Prf, sk_d: bytes, ni: bytes, nr: bytes, cipher: Cipher, integrity: Integrity | None, g_ir: bytes = b""
) -> ChildKeys:
    """§2.17: encryption then integrity key for initiator-to-responder, then the same for the reverse."""
    e = cipher.keymat_size
    a = integrity.key_size if integrity is not None else 0
    km = child_keymat(prf, sk_d, ni, nr, 2 * (e + a), g_ir)
    return ChildKeys(km[:e], km[e : e + a], km[e + a : 2 * e + a], km[2 * e + a :])


def signed_octets(message: bytes, peer_nonce: bytes, prf: Prf, sk_p: bytes, id_body: bytes) -> bytes:
    """§2.15: the sender's first message | the peer's nonce | prf(SK_p, the sender's ID payload body)."""
    return message + peer_nonce + prf.prf(sk_p, id_body)


def shared_key_auth(prf: Prf, secret: bytes, octets: bytes) -> bytes:
    """§2.15/2.16: AUTH = prf(prf(secret, "Key Pad for IKEv2"), signed octets) for PSK and EAP MSK."""
    return prf.prf(prf.prf(secret, KEY_PAD), octets)


def same(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)
