"""MS-CHAPv2 (RFC 2759) and MS-CHAPv1 (RFC 2433) response computations.

Pure functions over bytes; the PPP auth layer owns packet formats and state. MS-CHAP is weak
(DES over an unsalted MD4 hash) but PPTP/L2TP servers still demand it.
"""

from __future__ import annotations

import hashlib
import hmac

from wizard.engine.crypto.des import des_encrypt_block
from wizard.engine.crypto.md4 import md4

# RFC 2759 section 8.7 GenerateAuthenticatorResponse magic constants.
_MAGIC1 = b"Magic server to client signing constant"
_MAGIC2 = b"Pad to make it do more than one iteration"

_LM_MAGIC = b"KGS!@#$%"  # RFC 2433 appendix A.3 StdText

AUTHENTICATOR_RESPONSE_LENGTH = 42  # "S=" + 40 hex digits


def strip_domain(username: str) -> str:
    """Drop a leading ``DOMAIN\\`` from a Windows-style user name (RFC 2759 section 4).

    Applied by :func:`challenge_hash` itself, so callers pass the full name everywhere; the
    CHAP Name field on the wire keeps the domain. Splits at the last backslash, as pppd does.
    """
    return username.rsplit("\\", 1)[-1]


def nt_password_hash(password: str) -> bytes:
    """NtPasswordHash: MD4 of the UTF-16LE password (RFC 2759 section 8.3)."""
    return md4(password.encode("utf-16-le"))


def hash_nt_password_hash(pw_hash: bytes) -> bytes:
    """HashNtPasswordHash: MD4 of the NT hash (RFC 2759 section 8.4)."""
    return md4(pw_hash)


def challenge_hash(peer_challenge: bytes, authenticator_challenge: bytes, username: str) -> bytes:
    """ChallengeHash: first 8 bytes of SHA1(peer || authenticator || user) (RFC 2759 section 8.2).

    The user name is domain-stripped here (see :func:`strip_domain`) and encoded as UTF-8.
    """
    _check_len("peer challenge", peer_challenge, 16)
    _check_len("authenticator challenge", authenticator_challenge, 16)
    user = strip_domain(username).encode("utf-8")
    return hashlib.sha1(peer_challenge + authenticator_challenge + user).digest()[:8]


def challenge_response(challenge: bytes, pw_hash: bytes) -> bytes:
    """ChallengeResponse: three DES encryptions of the challenge under the zero-padded hash.

    RFC 2759 section 8.5 / RFC 2433 appendix A.5; returns 24 bytes.
    """
    _check_len("challenge", challenge, 8)
    _check_len("password hash", pw_hash, 16)
    z = pw_hash + b"\x00" * 5
    return b"".join(des_encrypt_block(z[i : i + 7], challenge) for i in (0, 7, 14))


def generate_nt_response(authenticator_challenge: bytes, peer_challenge: bytes, username: str, password: str) -> bytes:
    """GenerateNTResponse (RFC 2759 section 8.1): the 24-byte NT-Response the client sends."""
    chal = challenge_hash(peer_challenge, authenticator_challenge, username)
    return challenge_response(chal, nt_password_hash(password))


def generate_authenticator_response(
    password: str,
    nt_response: bytes,
    peer_challenge: bytes,
    authenticator_challenge: bytes,
    username: str,
) -> str:
    """GenerateAuthenticatorResponse (RFC 2759 section 8.7): ``"S="`` + 40 uppercase hex digits.

    The server proves it knows the password too; the client must check it (mutual auth).
    """
    _check_len("NT-Response", nt_response, 24)
    pw_hash_hash = hash_nt_password_hash(nt_password_hash(password))
    digest = hashlib.sha1(pw_hash_hash + nt_response + _MAGIC1).digest()
    chal = challenge_hash(peer_challenge, authenticator_challenge, username)
    digest = hashlib.sha1(digest + chal + _MAGIC2).digest()
    return "S=" + digest.hex().upper()


def check_authenticator_response(
    received: str | bytes,
    password: str,
    nt_response: bytes,
    peer_challenge: bytes,
    authenticator_challenge: bytes,
    username: str,
) -> bool:
    """Constant-time check of the server's ``S=...`` string from a Success packet.

    ``received`` may be the whole Success message (``"S=<hex> M=<text>"``): only the leading
    42 characters are compared, and hex case is ignored.
    """
    raw = received.encode("latin-1", "replace") if isinstance(received, str) else bytes(received)
    if len(raw) > AUTHENTICATOR_RESPONSE_LENGTH:
        if raw[AUTHENTICATOR_RESPONSE_LENGTH : AUTHENTICATOR_RESPONSE_LENGTH + 1] != b" ":
            return False
        raw = raw[:AUTHENTICATOR_RESPONSE_LENGTH]
    expected = generate_authenticator_response(
        password, nt_response, peer_challenge, authenticator_challenge, username
    ).encode("ascii")
    return hmac.compare_digest(raw.upper(), expected)


def lm_password_hash(password: str) -> bytes:
    """LmPasswordHash (RFC 2433 appendix A.2): only for RFC 3079's 40/56-bit MS-CHAPv1 keys.

    The password is upper-cased, cut or zero-padded to 14 bytes (Latin-1 stands in for the
    OEM code page) and its halves DES-encrypt the constant ``KGS!@#$%``.
    """
    raw = password.upper().encode("latin-1", "replace")[:14].ljust(14, b"\x00")
    return des_encrypt_block(raw[:7], _LM_MAGIC) + des_encrypt_block(raw[7:], _LM_MAGIC)


def mschapv1_nt_response(challenge: bytes, password: str) -> bytes:
    """NtChallengeResponse for MS-CHAPv1 (RFC 2433 appendix A.5): 24 bytes from an 8-byte challenge."""
    return challenge_response(challenge, nt_password_hash(password))


def _check_len(what: str, value: bytes, n: int) -> None:
    if len(value) != n:
        raise ValueError(f"{what} must be {n} bytes, got {len(value)}")
