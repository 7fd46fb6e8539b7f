"""Names a crypto policy may use in proposals, and which of them are legacy.

Proposals use strongSwan-style strings (``aes256-sha256-modp2048`` for IKE, ``aes128gcm16`` or
``aes256-sha256`` for ESP) because administrators already write them that way. The engine's suite
table (IANA ids, key sizes) lives in ``wizard.engine.crypto``; this table only decides what a profile
may ask for and what the UI must label weak.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["encryption", "integrity", "prf", "dh"]
ProposalKind = Literal["ike", "esp"]


@dataclass(frozen=True)
class Algorithm:
    name: str
    kind: Kind
    legacy: bool
    why_weak: str = ""


_WEAK_DES = "DES has a 56-bit key and is broken by brute force"
_WEAK_3DES = "3DES has a 64-bit block (Sweet32) and is deprecated"
_WEAK_MD5 = "MD5 is broken for collision resistance and deprecated for IPsec"
_WEAK_SMALL_DH = "a Diffie-Hellman group under 2048 bits can be broken by a well-funded attacker (Logjam)"

ALGORITHMS: dict[str, Algorithm] = {
    a.name: a
    for a in (
        Algorithm("aes128", "encryption", False),
        Algorithm("aes192", "encryption", False),
        Algorithm("aes256", "encryption", False),
        Algorithm("aes128ctr", "encryption", False),
        Algorithm("aes192ctr", "encryption", False),
        Algorithm("aes256ctr", "encryption", False),
        Algorithm("aes128gcm8", "encryption", False),
        Algorithm("aes128gcm12", "encryption", False),
        Algorithm("aes128gcm16", "encryption", False),
        Algorithm("aes192gcm16", "encryption", False),
        Algorithm("aes256gcm8", "encryption", False),
        Algorithm("aes256gcm12", "encryption", False),
        Algorithm("aes256gcm16", "encryption", False),
        Algorithm("3des", "encryption", True, _WEAK_3DES),
        Algorithm("des", "encryption", True, _WEAK_DES),
        Algorithm("sha1", "integrity", False),
        Algorithm("sha256", "integrity", False),
        Algorithm("sha384", "integrity", False),
        Algorithm("sha512", "integrity", False),
        Algorithm("aesxcbc", "integrity", False),
        Algorithm("md5", "integrity", True, _WEAK_MD5),
        Algorithm("prfsha1", "prf", False),
        Algorithm("prfsha256", "prf", False),
        Algorithm("prfsha384", "prf", False),
        Algorithm("prfsha512", "prf", False),
        Algorithm("prfaesxcbc", "prf", False),
        Algorithm("prfmd5", "prf", True, _WEAK_MD5),
        Algorithm("modp768", "dh", True, _WEAK_SMALL_DH),
        Algorithm("modp1024", "dh", True, _WEAK_SMALL_DH),
        Algorithm("modp1536", "dh", True, _WEAK_SMALL_DH),
        Algorithm("modp2048", "dh", False),
        Algorithm("modp3072", "dh", False),
        Algorithm("modp4096", "dh", False),
        Algorithm("ecp256", "dh", False),
        Algorithm("ecp384", "dh", False),
        Algorithm("ecp521", "dh", False),
        Algorithm("curve25519", "dh", False),
    )
}

DEFAULT_IKE_PROPOSALS: tuple[str, ...] = (
    "aes256gcm16-prfsha384-ecp384",
    "aes256-sha256-modp2048",
    "aes128-sha256-modp2048",
    "aes128gcm16-prfsha256-curve25519",
)
DEFAULT_ESP_PROPOSALS: tuple[str, ...] = ("aes256gcm16", "aes128gcm16", "aes256-sha256", "aes128-sha256")


def parse_proposal(text: str, kind: ProposalKind) -> list[Algorithm]:
    """Split a proposal string into known algorithms; raise ValueError naming the unknown part."""
    parts = [p for p in text.strip().lower().split("-")]
    if not text.strip() or any(not p for p in parts):
        raise ValueError(f"{text!r} is not a proposal; write algorithms joined by '-', e.g. aes256-sha256-modp2048")
    algorithms: list[Algorithm] = []
    for part in parts:
        algorithm = ALGORITHMS.get(part)
        if algorithm is None:
            raise ValueError(f"unknown algorithm {part!r} in {text!r}")
        algorithms.append(algorithm)
    kinds = {a.kind for a in algorithms}
    if "encryption" not in kinds:
        raise ValueError(f"{text!r} names no encryption algorithm")
    aead = any("gcm" in a.name for a in algorithms)
    if not aead and "integrity" not in kinds:
        raise ValueError(f"{text!r} needs an integrity algorithm (e.g. sha256) or an AEAD cipher (e.g. aes256gcm16)")
    if kind == "ike" and "dh" not in kinds:
        raise ValueError(f"IKE proposal {text!r} needs a Diffie-Hellman group (e.g. modp2048 or ecp256)")
    return algorithms


def weak_parts(text: str, kind: ProposalKind) -> list[Algorithm]:
    """The legacy algorithms a (valid) proposal uses."""
    return [a for a in parse_proposal(text, kind) if a.legacy]
