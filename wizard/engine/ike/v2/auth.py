"""IKEv2 signature authentication: RSA (method 1), ECDSA (RFC 4754, methods 9-11) and the RFC 7427
Digital Signature method (14) with an AlgorithmIdentifier; certificate payloads and checks.

Certificate chains and identity matching reuse IKEv1's helpers (the ID types share their numbers).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

from wizard.engine.buffer import Reader
from wizard.engine.errors import ParseError
from wizard.engine.ike.v1.auth import AuthError as V1AuthError
from wizard.engine.ike.v1.auth import identity_matches_certificate, verify_chain
from wizard.engine.ike.v1.identities import Identity
from wizard.engine.ike.v2.constants import AuthMethod, CertEncoding, HashAlgorithm
from wizard.engine.ike.v2.messages import AuthPayload, CertPayload, CertReqPayload

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey


class AuthFailure(Exception):
    """The peer's authentication did not hold; ``reason`` is plain language for the UI."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- DER AlgorithmIdentifiers (RFC 7427 §3, Appendix A) --------------------------------------------


def _der(tag: int, body: bytes) -> bytes:
    n = len(body)
    if n < 0x80:
        return bytes((tag, n)) + body
    size = (n.bit_length() + 7) // 8
    return bytes((tag, 0x80 | size)) + n.to_bytes(size, "big") + body


def der_oid(dotted: str) -> bytes:
    parts = [int(x) for x in dotted.split(".")]
    out = bytearray((40 * parts[0] + parts[1],))
    for value in parts[2:]:
        chunk = [value & 0x7F]
        value >>= 7
        while value:
            chunk.append(0x80 | (value & 0x7F))
            value >>= 7
        out += bytes(reversed(chunk))
    return _der(0x06, bytes(out))


_HASHES: dict[str, hashes.HashAlgorithm] = {
    "sha1": hashes.SHA1(), "sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512(),
}  # fmt: skip
_HASH_IDS = {"sha1": HashAlgorithm.SHA1, "sha256": HashAlgorithm.SHA2_256, "sha384": HashAlgorithm.SHA2_384,
             "sha512": HashAlgorithm.SHA2_512}  # fmt: skip
_RSA_OIDS = {"sha1": "1.2.840.113549.1.1.5", "sha256": "1.2.840.113549.1.1.11",
             "sha384": "1.2.840.113549.1.1.12", "sha512": "1.2.840.113549.1.1.13"}  # fmt: skip
_ECDSA_OIDS = {"sha1": "1.2.840.10045.4.1", "sha256": "1.2.840.10045.4.3.2",
               "sha384": "1.2.840.10045.4.3.3", "sha512": "1.2.840.10045.4.3.4"}  # fmt: skip
_NULL = b"\x05\x00"


def algorithm_identifier(kind: str, hash_name: str) -> bytes:
    """``kind`` is "rsa" (PKCS#1 v1.5, NULL parameters) or "ecdsa" (no parameters)."""
    if kind == "rsa":
        return _der(0x30, der_oid(_RSA_OIDS[hash_name]) + _NULL)
    return _der(0x30, der_oid(_ECDSA_OIDS[hash_name]))


_KNOWN_ALG_IDS: dict[bytes, tuple[str, str]] = {}
for _h in _RSA_OIDS:
    _KNOWN_ALG_IDS[algorithm_identifier("rsa", _h)] = ("rsa", _h)
    _KNOWN_ALG_IDS[_der(0x30, der_oid(_RSA_OIDS[_h]))] = ("rsa", _h)  # parameters omitted
    _KNOWN_ALG_IDS[algorithm_identifier("ecdsa", _h)] = ("ecdsa", _h)
_PSS_OID = der_oid("1.2.840.113549.1.1.10")

SUPPORTED_HASHES: tuple[int, ...] = (HashAlgorithm.SHA2_256, HashAlgorithm.SHA2_384, HashAlgorithm.SHA2_512)


def encode_hash_algorithms(algorithms: Sequence[int]) -> bytes:
    return b"".join(a.to_bytes(2, "big") for a in algorithms)


def decode_hash_algorithms(data: bytes) -> tuple[int, ...]:
    if len(data) % 2:
        raise ParseError("SIGNATURE_HASH_ALGORITHMS has an odd length")
    return tuple(int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2))


# --- signing and verifying ------------------------------------------------------------------------

_ECDSA_CLASSIC = {"secp256r1": (AuthMethod.ECDSA_256, "sha256", 32), "secp384r1": (AuthMethod.ECDSA_384, "sha384", 48),
                  "secp521r1": (AuthMethod.ECDSA_521, "sha512", 66)}  # fmt: skip


def _pick_hash(peer_hashes: Sequence[int]) -> str | None:
    for name in ("sha256", "sha384", "sha512"):
        if _HASH_IDS[name] in peer_hashes:
            return name
    return None


def sign(key: PrivateKey, octets: bytes, peer_hashes: Sequence[int], *, prefer_rfc7427: bool = True) -> AuthPayload:
    """AUTH over ``octets``: RFC 7427 when the peer announced a hash we share, else the classic method."""
    hash_name = _pick_hash(peer_hashes) if prefer_rfc7427 else None
    if hash_name is not None:
        if isinstance(key, rsa.RSAPrivateKey):
            sig = key.sign(octets, padding.PKCS1v15(), _HASHES[hash_name])
            alg = algorithm_identifier("rsa", hash_name)
        else:
            sig = key.sign(octets, ec.ECDSA(_HASHES[hash_name]))
            alg = algorithm_identifier("ecdsa", hash_name)
        return AuthPayload(AuthMethod.DIGITAL_SIGNATURE, bytes((len(alg),)) + alg + sig)
    if isinstance(key, rsa.RSAPrivateKey):
        return AuthPayload(AuthMethod.RSA, key.sign(octets, padding.PKCS1v15(), hashes.SHA1()))
    method, hname, size = _ECDSA_CLASSIC[key.curve.name]
    r, s = utils.decode_dss_signature(key.sign(octets, ec.ECDSA(_HASHES[hname])))
    return AuthPayload(method, r.to_bytes(size, "big") + s.to_bytes(size, "big"))


def verify(auth: AuthPayload, public_key: object, octets: bytes, peer: str) -> str:
    """Check a signature AUTH payload; returns a short description ("RSA/SHA-256") or raises AuthFailure."""
    bad = AuthFailure(f"the signature of {peer} did not verify: its certificate does not match the key it signed with, "
                      "or the message was altered")  # fmt: skip
    try:
        if auth.method == AuthMethod.DIGITAL_SIGNATURE:
            r = Reader(auth.data)
            alg = r.read(r.u8())
            sig = r.read_rest()
            if alg.startswith(b"\x30") and _PSS_OID in alg:
                raise AuthFailure(f"{peer} signed with RSASSA-PSS, which this client does not support")
            known = _KNOWN_ALG_IDS.get(alg)
            if known is None:
                raise AuthFailure(f"{peer} used a signature algorithm this client does not know")
            kind, hname = known
            if kind == "rsa" and isinstance(public_key, rsa.RSAPublicKey):
                public_key.verify(sig, octets, padding.PKCS1v15(), _HASHES[hname])
            elif kind == "ecdsa" and isinstance(public_key, ec.EllipticCurvePublicKey):
                public_key.verify(sig, octets, ec.ECDSA(_HASHES[hname]))
            else:
                raise AuthFailure(f"{peer} signed with {kind.upper()}, but its certificate holds another key type")
            return f"{kind.upper()}/{hname.upper()} (RFC 7427)"
        if auth.method == AuthMethod.RSA:
            if not isinstance(public_key, rsa.RSAPublicKey):
                raise AuthFailure(f"{peer} used RSA authentication, but its certificate holds no RSA key")
            public_key.verify(auth.data, octets, padding.PKCS1v15(), hashes.SHA1())
            return "RSA/SHA1"
        for curve, (method, hname, size) in _ECDSA_CLASSIC.items():
            if auth.method != method:
                continue
            if not isinstance(public_key, ec.EllipticCurvePublicKey) or public_key.curve.name != curve:
                raise AuthFailure(f"{peer} used ECDSA on {curve}, which does not match its certificate's key")
            if len(auth.data) != 2 * size:
                raise bad
            rr, ss = int.from_bytes(auth.data[:size], "big"), int.from_bytes(auth.data[size:], "big")
            public_key.verify(utils.encode_dss_signature(rr, ss), octets, ec.ECDSA(_HASHES[hname]))
            return f"ECDSA/{hname.upper()}"
    except (InvalidSignature, ValueError, ParseError, UnsupportedAlgorithm) as exc:
        raise bad from exc
    raise AuthFailure(f"{peer} used authentication method {auth.method}, which this side does not support")


def is_signature_method(method: int) -> bool:
    return method in (AuthMethod.RSA, AuthMethod.ECDSA_256, AuthMethod.ECDSA_384, AuthMethod.ECDSA_521,
                      AuthMethod.DIGITAL_SIGNATURE)  # fmt: skip


# --- certificates -----------------------------------------------------------------------------------


def cert_payloads(cert: x509.Certificate, chain: Sequence[x509.Certificate]) -> list[CertPayload]:
    der = serialization.Encoding.DER
    return [CertPayload(CertEncoding.X509_SIGNATURE, c.public_bytes(der)) for c in (cert, *chain)]


def ca_hash(cert: x509.Certificate) -> bytes:
    """CERTREQ authority: SHA-1 of the CA's SubjectPublicKeyInfo (RFC 7296 §3.7)."""
    spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha1(spki).digest()


def certreq_payload(cas: Sequence[x509.Certificate]) -> CertReqPayload:
    return CertReqPayload(CertEncoding.X509_SIGNATURE, tuple(ca_hash(c) for c in cas))


def load_certificates(payloads: Sequence[CertPayload], peer: str) -> list[x509.Certificate]:
    out: list[x509.Certificate] = []
    for p in payloads:
        if p.encoding != CertEncoding.X509_SIGNATURE:
            continue
        try:
            out.append(x509.load_der_x509_certificate(p.data))
        except ValueError as exc:
            raise AuthFailure(f"{peer} sent a certificate that could not be read") from exc
    return out


def check_certificate(
    certs: Sequence[x509.Certificate], cas: Sequence[x509.Certificate], when: datetime, identity: Identity, peer: str
) -> x509.Certificate:
    """The first certificate must chain to a trusted CA and name ``identity``; returns it."""
    if not certs:
        raise AuthFailure(f"{peer} sent no certificate")
    leaf = certs[0]
    try:
        verify_chain(leaf, certs[1:], cas, when)
    except V1AuthError as exc:
        raise AuthFailure(f"the certificate of {peer} is not trusted: {exc.reason}") from exc
    if not identity_matches_certificate(identity, leaf):
        raise AuthFailure(
            f"{peer} identified itself as {identity.describe()}, which its certificate "
            f"({leaf.subject.rfc4514_string()}) does not name"
        )
    return leaf
