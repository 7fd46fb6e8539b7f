"""IKEv1 key derivation and exchange hashes (RFC 2409 §5, §5.5, Appendix B).

Pure functions over a PRF object (``prf(key, data)``, ``hash(data)``, ``output_size``): the
negotiated phase 1 hash as HMAC. Names follow the RFC so each line can be checked against it.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Protocol


class PrfLike(Protocol):
    @property
    def output_size(self) -> int: ...

    def prf(self, key: bytes, data: bytes) -> bytes: ...

    def hash(self, data: bytes) -> bytes: ...


def skeyid_psk(prf: PrfLike, psk: bytes, ni_b: bytes, nr_b: bytes) -> bytes:
    """SKEYID = prf(pre-shared-key, Ni_b | Nr_b) (RFC 2409 §5)."""
    return prf.prf(psk, ni_b + nr_b)


def skeyid_sig(prf: PrfLike, ni_b: bytes, nr_b: bytes, g_xy: bytes) -> bytes:
    """SKEYID = prf(Ni_b | Nr_b, g^xy) for signature authentication (RFC 2409 §5)."""
    return prf.prf(ni_b + nr_b, g_xy)


@dataclass(frozen=True)
class Phase1Keys:
    """SKEYID and its three children; ``enc_key`` is SKEYID_e stretched to the cipher key size."""

    skeyid: bytes
    skeyid_d: bytes
    skeyid_a: bytes
    skeyid_e: bytes
    enc_key: bytes

    def __repr__(self) -> str:  # never print key material
        return "Phase1Keys(<secret>)"


def derive_phase1(prf: PrfLike, skeyid: bytes, g_xy: bytes, cky_i: bytes, cky_r: bytes, enc_key_size: int) -> Phase1Keys:
    """SKEYID_d, SKEYID_a, SKEYID_e (RFC 2409 §5) and the encryption key (Appendix B)."""
    tail = g_xy + cky_i + cky_r
    d = prf.prf(skeyid, tail + b"\x00")
    a = prf.prf(skeyid, d + tail + b"\x01")
    e = prf.prf(skeyid, a + tail + b"\x02")
    return Phase1Keys(skeyid, d, a, e, expand_enc_key(prf, e, enc_key_size))


def expand_enc_key(prf: PrfLike, skeyid_e: bytes, length: int) -> bytes:
    """Appendix B: use SKEYID_e directly if long enough, else K1 = prf(SKEYID_e, 0), Kn = prf(SKEYID_e, Kn-1)."""
    if len(skeyid_e) >= length:
        return skeyid_e[:length]
    out = b""
    block = b"\x00"
    while len(out) < length:
        block = prf.prf(skeyid_e, block)
        out += block
    return out[:length]


def initial_iv(prf: PrfLike, g_xi: bytes, g_xr: bytes, block_size: int) -> bytes:
    """Phase 1 IV = hash(g^xi | g^xr), truncated to the cipher block (Appendix B)."""
    return prf.hash(g_xi + g_xr)[:block_size]


def exchange_iv(prf: PrfLike, last_phase1_block: bytes, message_id: int, block_size: int) -> bytes:
    """IV of a new phase 2 / informational exchange = hash(last phase 1 CBC block | M-ID) (Appendix B)."""
    return prf.hash(last_phase1_block + message_id.to_bytes(4, "big"))[:block_size]


def hash_i(prf: PrfLike, skeyid: bytes, g_xi: bytes, g_xr: bytes, cky_i: bytes, cky_r: bytes, sai_b: bytes, idii_b: bytes) -> bytes:
    """HASH_I = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b) (RFC 2409 §5)."""
    return prf.prf(skeyid, g_xi + g_xr + cky_i + cky_r + sai_b + idii_b)


def hash_r(prf: PrfLike, skeyid: bytes, g_xi: bytes, g_xr: bytes, cky_i: bytes, cky_r: bytes, sai_b: bytes, idir_b: bytes) -> bytes:
    """HASH_R = prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b | IDir_b) (RFC 2409 §5)."""
    return prf.prf(skeyid, g_xr + g_xi + cky_r + cky_i + sai_b + idir_b)


def _mid(message_id: int) -> bytes:
    return message_id.to_bytes(4, "big")


def qm_hash1(prf: PrfLike, skeyid_a: bytes, message_id: int, rest: bytes) -> bytes:
    """HASH(1) = prf(SKEYID_a, M-ID | everything after the HASH payload) (RFC 2409 §5.5).

    Informational (§5.7) and transaction exchanges (mode-cfg draft §3.4) use the same form.
    """
    return prf.prf(skeyid_a, _mid(message_id) + rest)


def qm_hash2(prf: PrfLike, skeyid_a: bytes, message_id: int, ni_b: bytes, rest: bytes) -> bytes:
    """HASH(2) = prf(SKEYID_a, M-ID | Ni_b | everything after the HASH payload) (RFC 2409 §5.5)."""
    return prf.prf(skeyid_a, _mid(message_id) + ni_b + rest)


def qm_hash3(prf: PrfLike, skeyid_a: bytes, message_id: int, ni_b: bytes, nr_b: bytes) -> bytes:
    """HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b) (RFC 2409 §5.5)."""
    return prf.prf(skeyid_a, b"\x00" + _mid(message_id) + ni_b + nr_b)


def keymat(
    prf: PrfLike,
    skeyid_d: bytes,
    protocol: int,
    spi: bytes,
    ni_b: bytes,
    nr_b: bytes,
    length: int,
    g_qm: bytes | None = None,
) -> bytes:
    """KEYMAT = K1 | K2 | ... with K1 = prf(SKEYID_d, [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b),
    Kn = prf(SKEYID_d, Kn-1 | [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b) (RFC 2409 §5.5).

    ``spi`` is the SPI of the receiving side of the SA the keys are for.
    """
    seed = (g_qm or b"") + bytes([protocol]) + spi + ni_b + nr_b
    out = b""
    block = b""
    while len(out) < length:
        block = prf.prf(skeyid_d, block + seed)
        out += block
    return out[:length]


def nat_d_hash(prf: PrfLike, cky_i: bytes, cky_r: bytes, address: bytes, port: int) -> bytes:
    """HASH = HASH(CKY-I | CKY-R | IP | Port) with the negotiated hash (RFC 3947 §3.2)."""
    return prf.hash(cky_i + cky_r + address + port.to_bytes(2, "big"))


def same(a: bytes, b: bytes) -> bool:
    """Constant-time comparison for received hashes."""
    return hmac.compare_digest(a, b)
