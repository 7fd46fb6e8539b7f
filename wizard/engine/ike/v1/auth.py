"""Phase 1 authentication helpers: IKEv1 RSA signatures and X.509 checks.

IKEv1 RSA signatures (RFC 2409 §5.1) are PKCS#1 v1.5 type 1 padding around the bare HASH_I/HASH_R, with
no DigestInfo (the hash algorithm is the negotiated one, so there is nothing to name). ``cryptography``
always adds a DigestInfo, so the padding and the RSA operation are done here with the key's numbers.
Certificates are checked against the configured CAs: signature chain, validity, CA flags, and the
peer's ID payload against the certificate's subject or subjectAltName.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Sequence
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import rsa

from wizard.engine.errors import ParseError
from wizard.engine.ike.v1.constants import IdType
from wizard.engine.ike.v1.der import name_attributes
from wizard.engine.ike.v1.identities import Identity


class AuthError(Exception):
    """Authentication failed; ``reason`` is plain language, ``notify`` the notify to send/report."""

    def __init__(self, reason: str, notify: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.notify = notify


def _emsa_pkcs1_raw(digest: bytes, k: int) -> bytes:
    if len(digest) > k - 11:
        raise ValueError("RSA key too small for this hash")
    return b"\x00\x01" + b"\xff" * (k - 3 - len(digest)) + b"\x00" + digest


def rsa_sign_raw(key: rsa.RSAPrivateKey, digest: bytes) -> bytes:
    """PKCS#1 v1.5 signature of ``digest`` without DigestInfo (RFC 2409 §5.1 SIG_I/SIG_R)."""
    numbers = key.private_numbers()
    n = numbers.public_numbers.n
    k = (n.bit_length() + 7) // 8
    m = int.from_bytes(_emsa_pkcs1_raw(digest, k), "big")
    # CRT (RFC 8017 §5.1.2) then a check against the public exponent guards against faults.
    s1 = pow(m, numbers.dmp1, numbers.p)
    s2 = pow(m, numbers.dmq1, numbers.q)
    h = (numbers.iqmp * (s1 - s2)) % numbers.p
    s = s2 + h * numbers.q
    if pow(s, numbers.public_numbers.e, n) != m:
        raise ValueError("RSA signing fault")
    return s.to_bytes(k, "big")


def rsa_verify_raw(key: rsa.RSAPublicKey, digest: bytes, signature: bytes) -> bool:
    numbers = key.public_numbers()
    k = (numbers.n.bit_length() + 7) // 8
    if len(signature) != k:
        return False
    s = int.from_bytes(signature, "big")
    if s >= numbers.n:
        return False
    em = pow(s, numbers.e, numbers.n).to_bytes(k, "big")
    try:
        expected = _emsa_pkcs1_raw(digest, k)
    except ValueError:
        return False
    return hmac.compare_digest(em, expected)


def verify_chain(
    leaf: x509.Certificate,
    intermediates: Sequence[x509.Certificate],
    anchors: Sequence[x509.Certificate],
    when: datetime,
) -> None:
    """Raise AuthError unless ``leaf`` chains to one of ``anchors`` through ``intermediates``."""
    from wizard.engine.ike.v1.constants import NotifyType

    def check_time(cert: x509.Certificate, what: str) -> None:
        if not cert.not_valid_before_utc <= when <= cert.not_valid_after_utc:
            raise AuthError(
                f"the {what} certificate {cert.subject.rfc4514_string()} is not valid now "
                f"(valid {cert.not_valid_before_utc:%Y-%m-%d} to {cert.not_valid_after_utc:%Y-%m-%d}); check the clock",
                NotifyType.INVALID_CERTIFICATE,
            )

    if not anchors:
        raise AuthError("no CA certificate is configured to check the peer's certificate", NotifyType.INVALID_CERT_AUTHORITY)
    check_time(leaf, "peer's")
    current = leaf
    pool = list(intermediates)
    for _ in range(8):
        for anchor in anchors:
            if anchor.subject == current.issuer and _issued_by(current, anchor):
                check_time(anchor, "CA")
                return
        nxt = next((c for c in pool if c.subject == current.issuer and _is_ca(c) and _issued_by(current, c)), None)
        if nxt is None:
            break
        check_time(nxt, "intermediate CA")
        pool.remove(nxt)
        current = nxt
    raise AuthError(
        f"the certificate {leaf.subject.rfc4514_string()} (issued by {leaf.issuer.rfc4514_string()}) is not "
        "trusted: it was not issued by the configured CA",
        NotifyType.INVALID_CERT_AUTHORITY,
    )


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def _san(cert: x509.Certificate) -> x509.SubjectAlternativeName | None:
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None


def _dn_equal(der: bytes, name: x509.Name) -> bool:
    if der == name.public_bytes():
        return True
    try:
        ours = name_attributes(der)
        theirs = name_attributes(name.public_bytes())
    except ParseError:  # a malformed DN simply does not match
        return False
    return [(k, v.lower()) for k, v in ours] == [(k, v.lower()) for k, v in theirs]


def identity_matches_certificate(identity: Identity, cert: x509.Certificate) -> bool:
    """RFC 4945 §3.1: the ID must appear in the certificate's subject or subjectAltName."""
    san = _san(cert)
    if identity.id_type == IdType.DER_ASN1_DN:
        return _dn_equal(identity.data, cert.subject)
    if identity.id_type in (IdType.IPV4_ADDR, IdType.IPV6_ADDR):
        try:
            addr = ipaddress.ip_address(identity.data)
        except ValueError:
            return False
        return san is not None and addr in san.get_values_for_type(x509.IPAddress)
    if identity.id_type in (IdType.FQDN, IdType.USER_FQDN):
        text = identity.data.decode("utf-8", "replace").lower()
        kind = x509.DNSName if identity.id_type == IdType.FQDN else x509.RFC822Name
        return san is not None and text in [v.lower() for v in san.get_values_for_type(kind)]
    return False


def identities_equal(a: Identity, b: Identity) -> bool:
    if a.id_type != b.id_type:
        return False
    if a.id_type == IdType.DER_ASN1_DN:
        try:
            return [(k, v.lower()) for k, v in name_attributes(a.data)] == [(k, v.lower()) for k, v in name_attributes(b.data)]
        except ParseError:
            return a.data == b.data
    if a.id_type in (IdType.FQDN, IdType.USER_FQDN):
        return a.data.lower() == b.data.lower()
    return a.data == b.data
