"""The IPsec/IKE algorithm table: every cipher, integrity check, PRF and DH group with its IANA ids.

One table (:data:`SUITE_TABLE`) names each algorithm once, with the ids it has in IKEv1 Main Mode
attributes (RFC 2409 App. A), in IKEv1 Quick Mode (ESP transform ids, RFC 2407 §4.4.4; auth algorithm
attribute, RFC 2407 §4.5) and in IKEv2 (RFC 7296 §3.3.2 and the IANA registry), its key and block
sizes and whether it is legacy. Names are the profile proposal names of
:mod:`wizard.profiles.algorithms`. All primitives come from ``cryptography``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import constant_time, hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher as _CryptoCipher
from cryptography.hazmat.primitives.ciphers import algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from wizard.engine.crypto.dh import (
    MODP_768,
    MODP_1024,
    MODP_1536,
    MODP_2048,
    MODP_3072,
    MODP_4096,
    DHGroup,
    DHKey,
    InvalidPublicValue,
    ecp_group,
    modp_group,
    x25519_group,
)
from wizard.engine.errors import LocalProtocolError, ParseError
from wizard.profiles.algorithms import ProposalKind, parse_proposal

__all__ = [
    "SUITE_TABLE",
    "AuthenticationFailed",
    "BoundCipher",
    "BoundIntegrity",
    "Cipher",
    "DHGroup",
    "DHKey",
    "Integrity",
    "InvalidPublicValue",
    "Prf",
    "Proposal",
    "cipher",
    "cipher_by_esp_id",
    "cipher_by_ikev1_id",
    "cipher_by_ikev2_id",
    "dh_group",
    "integrity",
    "integrity_by_ikev1_ah_id",
    "integrity_by_ikev1_auth_id",
    "integrity_by_ikev2_id",
    "parse_proposal_string",
    "prf",
    "prf_by_ikev1_hash_id",
    "prf_by_ikev2_id",
    "prf_for_integrity",
    "prf_plus",
]


class AuthenticationFailed(ParseError):
    """An ICV or AEAD tag did not verify: the packet is forged, corrupted or keyed differently."""


CipherMode = Literal["cbc", "ctr", "gcm"]


# --------------------------------------------------------------------------------------------------
# Ciphers


class BoundCipher:
    """A cipher with its keying material fixed, so per-packet calls skip key set-up."""

    __slots__ = ("_aesgcm", "_algo", "_key", "_salt", "cipher")

    def __init__(self, spec: Cipher, keymat: bytes) -> None:
        if len(keymat) != spec.keymat_size:
            raise LocalProtocolError(f"{spec.name} needs {spec.keymat_size} bytes of keying material, got {len(keymat)}")
        self.cipher = spec
        self._key = keymat[: spec.key_size]
        self._salt = keymat[spec.key_size :]
        self._aesgcm = AESGCM(self._key) if spec.mode == "gcm" else None
        if spec.mode == "gcm":
            self._algo: algorithms.AES | TripleDES = algorithms.AES(self._key)
        elif spec.name in ("3des", "des"):
            self._algo = TripleDES(self._key * 3 if spec.key_size == 8 else self._key)
        else:
            self._algo = algorithms.AES(self._key)

    def _check_iv(self, iv: bytes) -> None:
        if len(iv) != self.cipher.iv_size:
            raise LocalProtocolError(f"{self.cipher.name} needs a {self.cipher.iv_size}-byte IV, got {len(iv)}")

    def encrypt(self, iv: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
        """CBC: the caller pads to ``block_size``. GCM: returns ciphertext || ICV (``icv_size`` bytes)."""
        self._check_iv(iv)
        spec = self.cipher
        if spec.mode == "gcm":
            assert self._aesgcm is not None
            sealed = self._aesgcm.encrypt(self._salt + iv, plaintext, aad or None)
            return sealed[: len(plaintext) + spec.icv_size]
        if spec.mode == "cbc" and len(plaintext) % spec.block_size:
            raise LocalProtocolError(f"{spec.name} plaintext must be padded to {spec.block_size} bytes")
        enc = _CryptoCipher(self._algo, self._mode(iv)).encryptor()
        return enc.update(plaintext) + enc.finalize()

    def decrypt(self, iv: bytes, ciphertext: bytes, aad: bytes = b"") -> bytes:
        """Inverse of :meth:`encrypt`; raises ParseError on a bad length, AuthenticationFailed on a bad tag."""
        self._check_iv(iv)
        spec = self.cipher
        if spec.mode == "gcm":
            if len(ciphertext) < spec.icv_size:
                raise ParseError(f"{spec.name} ciphertext shorter than its {spec.icv_size}-byte ICV")
            body, tag = ciphertext[: -spec.icv_size], ciphertext[-spec.icv_size :]
            try:
                if spec.icv_size == 16:
                    assert self._aesgcm is not None
                    return self._aesgcm.decrypt(self._salt + iv, ciphertext, aad or None)
                gcm = _CryptoCipher(
                    self._algo, modes.GCM(self._salt + iv, tag, min_tag_length=spec.icv_size)
                ).decryptor()
                if aad:
                    gcm.authenticate_additional_data(aad)
                return gcm.update(body) + gcm.finalize()
            except InvalidTag as exc:
                raise AuthenticationFailed(f"{spec.name} authentication tag does not verify") from exc
        if spec.mode == "cbc" and len(ciphertext) % spec.block_size:
            raise ParseError(f"{spec.name} ciphertext is not a multiple of {spec.block_size} bytes")
        dec = _CryptoCipher(self._algo, self._mode(iv)).decryptor()
        return dec.update(ciphertext) + dec.finalize()

    def _mode(self, iv: bytes) -> modes.CBC | modes.CTR:
        if self.cipher.mode == "ctr":
            # RFC 3686 §4: nonce (4) || IV (8) || block counter starting at 1.
            return modes.CTR(self._salt + iv + b"\x00\x00\x00\x01")
        return modes.CBC(iv)


@dataclass(frozen=True)
class Cipher:
    """An encryption transform. ``key_size`` excludes the salt (GCM, CTR): keying material is key || salt.

    ``block_size`` is the padding granularity ESP and IKE must respect (1 for CTR and GCM, which need
    none beyond ESP's 4-byte alignment).
    """

    name: str
    mode: CipherMode
    key_size: int
    salt_size: int
    block_size: int
    iv_size: int
    aead: bool
    icv_size: int
    legacy: bool
    ikev1_id: int | None
    ikev1_esp_id: int | None
    ikev2_id: int
    description: str = ""

    @property
    def keymat_size(self) -> int:
        """Bytes of keying material to draw from the KDF: key then salt (RFC 4106 §8.1, RFC 3686 §5.1)."""
        return self.key_size + self.salt_size

    @property
    def key_length_attribute(self) -> int | None:
        """The Key Length attribute in bits, for variable-length ciphers (AES); None for DES and 3DES."""
        return None if self.name in ("3des", "des") else self.key_size * 8

    def bind(self, key: bytes) -> BoundCipher:
        return BoundCipher(self, key)

    def encrypt(self, key: bytes, iv: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
        return BoundCipher(self, key).encrypt(iv, plaintext, aad)

    def decrypt(self, key: bytes, iv: bytes, ciphertext: bytes, aad: bytes = b"") -> bytes:
        return BoundCipher(self, key).decrypt(iv, ciphertext, aad)


def _aes_cbc(bits: int) -> Cipher:
    return Cipher(f"aes{bits}", "cbc", bits // 8, 0, 16, 16, False, 0, False, 7, 12, 12, f"AES-{bits}-CBC (RFC 3602)")


def _aes_ctr(bits: int) -> Cipher:
    return Cipher(f"aes{bits}ctr", "ctr", bits // 8, 4, 1, 8, False, 0, False, None, 13, 13, f"AES-{bits}-CTR (RFC 3686)")


_GCM_IDS = {8: 18, 12: 19, 16: 20}


def _aes_gcm(bits: int, icv: int) -> Cipher:
    ident = _GCM_IDS[icv]
    return Cipher(
        f"aes{bits}gcm{icv}", "gcm", bits // 8, 4, 1, 8, True, icv, False, None, ident, ident,
        f"AES-{bits}-GCM with a {icv}-byte ICV (RFC 4106)",
    )  # fmt: skip


# --------------------------------------------------------------------------------------------------
# Integrity


def _hash_algorithm(name: str) -> hashes.HashAlgorithm:
    return {"md5": hashes.MD5(), "sha1": hashes.SHA1(), "sha256": hashes.SHA256(),
            "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}[name]  # fmt: skip


_XCBC_BLOCK = 16


def _aes_ecb_block(key: bytes, block: bytes) -> bytes:
    enc = _CryptoCipher(algorithms.AES(key), modes.ECB()).encryptor()
    return enc.update(block) + enc.finalize()


def _xor(a: bytes, b: bytes) -> bytes:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(len(a), "big")


class _XcbcMac:
    """AES-XCBC-MAC (RFC 3566 §4): CBC-MAC under K1 with the last block whitened by K2 or K3."""

    __slots__ = ("_k1", "_k2", "_k3")

    def __init__(self, key: bytes) -> None:
        if len(key) != 16:
            raise LocalProtocolError("AES-XCBC-MAC needs a 16-byte key")
        self._k1 = _aes_ecb_block(key, b"\x01" * 16)
        self._k2 = _aes_ecb_block(key, b"\x02" * 16)
        self._k3 = _aes_ecb_block(key, b"\x03" * 16)

    def mac(self, data: bytes) -> bytes:
        if data and len(data) % _XCBC_BLOCK == 0:
            head, last = data[:-_XCBC_BLOCK], _xor(data[-_XCBC_BLOCK:], self._k2)
        else:
            cut = len(data) - len(data) % _XCBC_BLOCK
            tail = data[cut:] + b"\x80" + b"\x00" * (_XCBC_BLOCK - 1 - (len(data) - cut))
            head, last = data[:cut], _xor(tail, self._k3)
        enc = _CryptoCipher(algorithms.AES(self._k1), modes.CBC(b"\x00" * 16)).encryptor()
        return (enc.update(head + last) + enc.finalize())[-_XCBC_BLOCK:]


def _xcbc_prf_key(key: bytes) -> bytes:
    """RFC 4434 §2: zero-pad a short key; a long key is first reduced by XCBC under a zero key."""
    if len(key) == 16:
        return key
    if len(key) < 16:
        return key + b"\x00" * (16 - len(key))
    return _XcbcMac(b"\x00" * 16).mac(key)


class BoundIntegrity:
    """An integrity transform with its key fixed (the HMAC key schedule is computed once)."""

    __slots__ = ("_hmac", "_xcbc", "integrity")

    def __init__(self, spec: Integrity, key: bytes) -> None:
        if len(key) != spec.key_size:
            raise LocalProtocolError(f"{spec.name} needs a {spec.key_size}-byte key, got {len(key)}")
        self.integrity = spec
        self._xcbc = _XcbcMac(key) if spec.hash_name == "" else None
        self._hmac = None if self._xcbc else hmac.HMAC(key, _hash_algorithm(spec.hash_name))

    def mac(self, data: bytes) -> bytes:
        if self._xcbc is not None:
            return self._xcbc.mac(data)[: self.integrity.icv_size]
        assert self._hmac is not None
        h = self._hmac.copy()
        h.update(data)
        return h.finalize()[: self.integrity.icv_size]

    def verify(self, data: bytes, icv: bytes) -> bool:
        return constant_time.bytes_eq(self.mac(data), icv)


@dataclass(frozen=True)
class Integrity:
    """An integrity transform (HMAC truncated per RFC 2403/2404/4868, or AES-XCBC-MAC-96 per RFC 3566)."""

    name: str
    hash_name: str  # "" for AES-XCBC
    key_size: int
    icv_size: int
    legacy: bool
    ikev1_auth_id: int
    ikev2_id: int
    description: str = ""
    ikev1_ah_id: int | None = None  # IKEv1 AH transform id (RFC 2407 §4.4.3 registry)

    def bind(self, key: bytes) -> BoundIntegrity:
        return BoundIntegrity(self, key)

    def mac(self, key: bytes, data: bytes) -> bytes:
        return BoundIntegrity(self, key).mac(data)

    def verify(self, key: bytes, data: bytes, icv: bytes) -> bool:
        return BoundIntegrity(self, key).verify(data, icv)


# --------------------------------------------------------------------------------------------------
# PRFs


@dataclass(frozen=True)
class Prf:
    """A pseudo-random function: HMAC-<hash> (RFC 2104/4868) or AES-XCBC-PRF-128 (RFC 4434)."""

    name: str
    hash_name: str  # "" for AES-XCBC
    key_size: int
    output_size: int
    legacy: bool
    ikev1_hash_id: int | None
    ikev2_id: int
    description: str = ""

    def prf(self, key: bytes, data: bytes) -> bytes:
        if not self.hash_name:
            return _XcbcMac(_xcbc_prf_key(key)).mac(data)
        h = hmac.HMAC(key, _hash_algorithm(self.hash_name))
        h.update(data)
        return h.finalize()

    def hash(self, data: bytes) -> bytes:
        """The PRF's underlying hash (IKEv1 HASH payloads, NAT-D); AES-XCBC has none."""
        if not self.hash_name:
            raise LocalProtocolError(f"{self.name} has no underlying hash function")
        h = hashes.Hash(_hash_algorithm(self.hash_name))
        h.update(data)
        return h.finalize()


def prf_plus(prf_: Prf, key: bytes, seed: bytes, length: int) -> bytes:
    """RFC 7296 §2.13: T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n), concatenated to ``length``."""
    if length > 255 * prf_.output_size:
        raise LocalProtocolError(f"prf+ with {prf_.name} yields at most {255 * prf_.output_size} bytes")
    out = bytearray()
    t = b""
    n = 1
    while len(out) < length:
        t = prf_.prf(key, t + seed + bytes([n]))
        out += t
        n += 1
    return bytes(out[:length])


# --------------------------------------------------------------------------------------------------
# The table

SuiteEntry = Cipher | Integrity | Prf | DHGroup

SUITE_TABLE: tuple[SuiteEntry, ...] = (
    # Ciphers. IKEv1 attribute: 7 AES-CBC, 5 3DES-CBC, 1 DES-CBC (RFC 2409 App. A, RFC 3602 §5.1).
    # ESP transform ids (RFC 2407 §4.4.4 registry) equal the IKEv2 ENCR ids: 2 DES, 3 3DES, 12 AES-CBC,
    # 13 AES-CTR, 18/19/20 AES-GCM with an 8/12/16-byte ICV.
    _aes_cbc(128),
    _aes_cbc(192),
    _aes_cbc(256),
    _aes_ctr(128),
    _aes_ctr(192),
    _aes_ctr(256),
    *(_aes_gcm(bits, icv) for bits in (128, 192, 256) for icv in (8, 12, 16)),
    Cipher("3des", "cbc", 24, 0, 8, 8, False, 0, True, 5, 3, 3, "3DES-EDE-CBC (RFC 2451)"),
    Cipher("des", "cbc", 8, 0, 8, 8, False, 0, True, 1, 2, 2, "DES-CBC (RFC 2405)"),
    # Integrity. IKEv1 auth algorithm attribute (RFC 2407 §4.5): 1 HMAC-MD5, 2 HMAC-SHA, 5/6/7 HMAC-SHA2-256/
    # 384/512 (RFC 4868 §4), 9 AES-XCBC-MAC (RFC 3566 §5). IKEv2 INTEG ids: 1 MD5-96, 2 SHA1-96,
    # 5 AES-XCBC-96, 12/13/14 SHA2-256-128/384-192/512-256. IKEv1 AH transform ids: 2 MD5, 3 SHA,
    # 5/6/7 SHA2-256/384/512, 9 AES-XCBC-MAC.
    Integrity("md5", "md5", 16, 12, True, 1, 1, "HMAC-MD5-96 (RFC 2403)", ikev1_ah_id=2),
    Integrity("sha1", "sha1", 20, 12, False, 2, 2, "HMAC-SHA1-96 (RFC 2404)", ikev1_ah_id=3),
    Integrity("sha256", "sha256", 32, 16, False, 5, 12, "HMAC-SHA2-256-128 (RFC 4868)", ikev1_ah_id=5),
    Integrity("sha384", "sha384", 48, 24, False, 6, 13, "HMAC-SHA2-384-192 (RFC 4868)", ikev1_ah_id=6),
    Integrity("sha512", "sha512", 64, 32, False, 7, 14, "HMAC-SHA2-512-256 (RFC 4868)", ikev1_ah_id=7),
    Integrity("aesxcbc", "", 16, 12, False, 9, 5, "AES-XCBC-MAC-96 (RFC 3566)", ikev1_ah_id=9),
    # PRFs. IKEv1 hash attribute (RFC 2409 App. A, RFC 4868 §4): 1 MD5, 2 SHA, 4/5/6 SHA2-256/384/512.
    # IKEv2 PRF ids: 1 HMAC-MD5, 2 HMAC-SHA1, 4 AES128-XCBC, 5/6/7 HMAC-SHA2-256/384/512.
    Prf("prfmd5", "md5", 16, 16, True, 1, 1, "PRF-HMAC-MD5"),
    Prf("prfsha1", "sha1", 20, 20, False, 2, 2, "PRF-HMAC-SHA1"),
    Prf("prfsha256", "sha256", 32, 32, False, 4, 5, "PRF-HMAC-SHA2-256 (RFC 4868)"),
    Prf("prfsha384", "sha384", 48, 48, False, 5, 6, "PRF-HMAC-SHA2-384 (RFC 4868)"),
    Prf("prfsha512", "sha512", 64, 64, False, 6, 7, "PRF-HMAC-SHA2-512 (RFC 4868)"),
    Prf("prfaesxcbc", "", 16, 16, False, None, 4, "AES-XCBC-PRF-128 (RFC 4434)"),
    # DH groups: the IANA number is both the IKEv1 group description and the IKEv2 transform id.
    # Private sizes follow RFC 3526 §8's exponent estimates, rounded up.
    modp_group(1, "modp768", MODP_768, True, 32),
    modp_group(2, "modp1024", MODP_1024, True, 32),
    modp_group(5, "modp1536", MODP_1536, True, 32),
    modp_group(14, "modp2048", MODP_2048, False, 40),
    modp_group(15, "modp3072", MODP_3072, False, 54),
    modp_group(16, "modp4096", MODP_4096, False, 64),
    ecp_group(19, "ecp256", "secp256r1", 32),
    ecp_group(20, "ecp384", "secp384r1", 48),
    ecp_group(21, "ecp521", "secp521r1", 66),
    x25519_group(31, "curve25519"),
)

CIPHERS: dict[str, Cipher] = {e.name: e for e in SUITE_TABLE if isinstance(e, Cipher)}
INTEGRITIES: dict[str, Integrity] = {e.name: e for e in SUITE_TABLE if isinstance(e, Integrity)}
PRFS: dict[str, Prf] = {e.name: e for e in SUITE_TABLE if isinstance(e, Prf)}
DH_GROUPS: dict[str, DHGroup] = {e.name: e for e in SUITE_TABLE if isinstance(e, DHGroup)}
_DH_BY_NUMBER: dict[int, DHGroup] = {g.number: g for g in DH_GROUPS.values()}
_PRF_FOR_INTEGRITY = {"md5": "prfmd5", "sha1": "prfsha1", "sha256": "prfsha256", "sha384": "prfsha384",
                      "sha512": "prfsha512", "aesxcbc": "prfaesxcbc"}  # fmt: skip


def cipher(name: str) -> Cipher:
    try:
        return CIPHERS[name.lower()]
    except KeyError:
        raise KeyError(f"unknown cipher {name!r}; known: {', '.join(CIPHERS)}") from None


def integrity(name: str) -> Integrity:
    try:
        return INTEGRITIES[name.lower()]
    except KeyError:
        raise KeyError(f"unknown integrity algorithm {name!r}; known: {', '.join(INTEGRITIES)}") from None


def prf(name: str) -> Prf:
    try:
        return PRFS[name.lower()]
    except KeyError:
        raise KeyError(f"unknown PRF {name!r}; known: {', '.join(PRFS)}") from None


def dh_group(name_or_number: str | int) -> DHGroup:
    """By profile name (``modp2048``) or IANA number (14); raises KeyError for unknown groups."""
    if isinstance(name_or_number, int):
        group = _DH_BY_NUMBER.get(name_or_number)
    else:
        group = DH_GROUPS.get(name_or_number.lower())
    if group is None:
        raise KeyError(f"unknown Diffie-Hellman group {name_or_number!r}")
    return group


def dh_group_by_id(number: int) -> DHGroup | None:
    """For ids read off the wire: None when we do not implement the group."""
    return _DH_BY_NUMBER.get(number)


def _match_key_length(c: Cipher, key_bits: int | None) -> bool:
    if c.key_length_attribute is None:
        return key_bits is None or key_bits == c.key_size * 8 or (c.name == "3des" and key_bits == 168)
    # A missing Key Length attribute is only unambiguous for fixed-size ciphers; AES requires it.
    return key_bits == c.key_size * 8


def _cipher_by(attr: Callable[[Cipher], int | None], ident: int, key_bits: int | None) -> Cipher | None:
    for c in CIPHERS.values():
        if attr(c) == ident and _match_key_length(c, key_bits):
            return c
    return None


def cipher_by_ikev1_id(ident: int, key_bits: int | None = None) -> Cipher | None:
    """IKEv1 Phase 1 encryption algorithm attribute plus the Key Length attribute (bits), if any."""
    return _cipher_by(lambda c: c.ikev1_id, ident, key_bits)


def cipher_by_esp_id(ident: int, key_bits: int | None = None) -> Cipher | None:
    """IKEv1 Quick Mode ESP transform id plus the Key Length attribute (bits), if any."""
    return _cipher_by(lambda c: c.ikev1_esp_id, ident, key_bits)


def cipher_by_ikev2_id(ident: int, key_bits: int | None = None) -> Cipher | None:
    """IKEv2 ENCR transform id plus the Key Length attribute (bits), if any."""
    return _cipher_by(lambda c: c.ikev2_id, ident, key_bits)


def integrity_by_ikev1_auth_id(ident: int) -> Integrity | None:
    return next((i for i in INTEGRITIES.values() if i.ikev1_auth_id == ident), None)


def integrity_by_ikev1_ah_id(ident: int) -> Integrity | None:
    return next((i for i in INTEGRITIES.values() if i.ikev1_ah_id == ident), None)


def integrity_by_ikev2_id(ident: int) -> Integrity | None:
    return next((i for i in INTEGRITIES.values() if i.ikev2_id == ident), None)


def prf_by_ikev1_hash_id(ident: int) -> Prf | None:
    return next((p for p in PRFS.values() if p.ikev1_hash_id == ident), None)


def prf_by_ikev2_id(ident: int) -> Prf | None:
    return next((p for p in PRFS.values() if p.ikev2_id == ident), None)


def prf_for_integrity(integ: Integrity) -> Prf:
    """The PRF built on the same primitive (IKEv1 derives both from one hash attribute)."""
    return PRFS[_PRF_FOR_INTEGRITY[integ.name]]


# --------------------------------------------------------------------------------------------------
# Proposal strings

# When an IKE proposal names an AEAD cipher but no PRF, offer these (as strongSwan does).
_AEAD_DEFAULT_PRFS = ("prfsha256", "prfsha384", "prfsha512")


@dataclass(frozen=True)
class Proposal:
    """The algorithms one profile proposal string allows, in the order written."""

    text: str
    kind: ProposalKind
    ciphers: tuple[Cipher, ...]
    integrities: tuple[Integrity, ...] = ()
    prfs: tuple[Prf, ...] = ()
    dh_groups: tuple[DHGroup, ...] = ()
    legacy_names: tuple[str, ...] = field(default=())

    @property
    def legacy(self) -> bool:
        return bool(self.legacy_names)

    @property
    def aead(self) -> bool:
        return all(c.aead for c in self.ciphers)


def parse_proposal_string(text: str, kind: ProposalKind) -> Proposal:
    """Turn ``aes256-sha256-modp2048`` into algorithm objects; ValueError with a readable message if invalid.

    Validation is :func:`wizard.profiles.algorithms.parse_proposal`'s. For IKE without an explicit PRF the
    PRFs follow the integrity algorithms (or a default set for AEAD). ESP ignores PRFs, which it cannot use.
    """
    algos = parse_proposal(text, kind)
    ciphers = tuple(CIPHERS[a.name] for a in algos if a.kind == "encryption")
    aead = [c for c in ciphers if c.aead]
    if aead and len(aead) != len(ciphers):
        raise ValueError(f"{text!r} mixes AEAD ciphers ({aead[0].name}) with ciphers that need integrity")
    integs = () if aead else tuple(INTEGRITIES[a.name] for a in algos if a.kind == "integrity")
    groups = tuple(DH_GROUPS[a.name] for a in algos if a.kind == "dh")
    prfs: tuple[Prf, ...] = ()
    if kind == "ike":
        prfs = tuple(PRFS[a.name] for a in algos if a.kind == "prf")
        if not prfs:
            names = [_PRF_FOR_INTEGRITY[i.name] for i in integs] if integs else list(_AEAD_DEFAULT_PRFS)
            prfs = tuple(PRFS[n] for n in dict.fromkeys(names))
    legacy_names = tuple(a.name for a in algos if a.legacy)
    return Proposal(text, kind, ciphers, integs, prfs, groups, legacy_names)

