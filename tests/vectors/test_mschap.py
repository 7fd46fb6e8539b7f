"""MS-CHAPv2 (RFC 2759) and MS-CHAPv1 (RFC 2433) known-answer tests."""

from __future__ import annotations

import pytest

from wizard.engine.crypto import mschap
from wizard.engine.crypto.des import expand_des_key

# RFC 2759 section 9.2 "Hash Example": user "User", password "clientPass".
USER_NAME = "User"
USER_NAME_BYTES = bytes.fromhex("55 73 65 72")
PASSWORD = "clientPass"
PASSWORD_UNICODE = bytes.fromhex("63 00 6C 00 69 00 65 00 6E 00 74 00 50 00 61 00 73 00 73 00")
AUTHENTICATOR_CHALLENGE = bytes.fromhex("5B 5D 7C 7D 7B 3F 2F 3E 3C 2C 60 21 32 26 26 28")
PEER_CHALLENGE = bytes.fromhex("21 40 23 24 25 5E 26 2A 28 29 5F 2B 3A 33 7C 7E")
CHALLENGE = bytes.fromhex("D0 2E 43 86 BC E9 12 26")
PASSWORD_HASH = bytes.fromhex("44 EB BA 8D 53 12 B8 D6 11 47 44 11 F5 69 89 AE")
NT_RESPONSE = bytes.fromhex("82 30 9E CD 8D 70 8B 5E A0 8F AA 39 81 CD 83 54 42 33 11 4A 3D 85 D6 DF")
PASSWORD_HASH_HASH = bytes.fromhex("41 C0 0C 58 4B D2 D9 1C 40 17 A2 A1 2F A5 9F 3F")
AUTHENTICATOR_RESPONSE = "S=407A5589115FD0D6209F510FE9C04566932CDA56"

# RFC 2759 section 9.3 "Example of DES Key Generation" (password "MyPw"): first key.
DES_RAW_KEY_1 = bytes.fromhex("FC 15 6A F7 ED CD 6C")
DES_PARITY_KEY_1 = bytes.fromhex("FD 0B 5B 5E 7F 6E 34 D9")

# RFC 2433 appendix B.2 (MS-CHAPv1) for password "MyPw".
V1_CHALLENGE = bytes.fromhex("10 2D B5 DF 08 5D 30 41")
V1_PASSWORD = "MyPw"
V1_PASSWORD_UNICODE = bytes.fromhex("4D 00 79 00 50 00 77 00")
V1_PASSWORD_HASH = bytes.fromhex("FC 15 6A F7 ED CD 6C 0E DD E3 33 7D 42 7F 4E AC")
V1_NT_RESPONSE = bytes.fromhex("4E 9D 3C 8F 9C FD 38 5D 5B F4 D3 24 67 91 95 6C A4 C3 51 AB 40 9A 3D 61")

# RFC 3079 section 2.5 (MS-CHAPv1 key derivation samples) LmPasswordHash("clientPass").
LM_PASSWORD_HASH = bytes.fromhex("76 A1 52 93 60 96 D7 83 0E 23 90 22 74 04 AF D2")


def test_rfc2759_encodings() -> None:
    assert USER_NAME.encode("ascii") == USER_NAME_BYTES
    assert PASSWORD.encode("utf-16-le") == PASSWORD_UNICODE


def test_rfc2759_challenge_hash() -> None:
    assert mschap.challenge_hash(PEER_CHALLENGE, AUTHENTICATOR_CHALLENGE, USER_NAME) == CHALLENGE


def test_rfc2759_password_hashes() -> None:
    assert mschap.nt_password_hash(PASSWORD) == PASSWORD_HASH
    assert mschap.hash_nt_password_hash(PASSWORD_HASH) == PASSWORD_HASH_HASH


def test_rfc2759_challenge_response() -> None:
    assert mschap.challenge_response(CHALLENGE, PASSWORD_HASH) == NT_RESPONSE


def test_rfc2759_nt_response() -> None:
    nt = mschap.generate_nt_response(AUTHENTICATOR_CHALLENGE, PEER_CHALLENGE, USER_NAME, PASSWORD)
    assert nt == NT_RESPONSE


def test_rfc2759_authenticator_response() -> None:
    got = mschap.generate_authenticator_response(
        PASSWORD, NT_RESPONSE, PEER_CHALLENGE, AUTHENTICATOR_CHALLENGE, USER_NAME
    )
    assert got == AUTHENTICATOR_RESPONSE
    assert len(got) == mschap.AUTHENTICATOR_RESPONSE_LENGTH


def _check(received: str | bytes, password: str = PASSWORD, user: str = USER_NAME) -> bool:
    return mschap.check_authenticator_response(
        received, password, NT_RESPONSE, PEER_CHALLENGE, AUTHENTICATOR_CHALLENGE, user
    )


def test_check_authenticator_response_accepts_rfc_value() -> None:
    assert _check(AUTHENTICATOR_RESPONSE)
    assert _check(AUTHENTICATOR_RESPONSE.encode("ascii"))
    assert _check(AUTHENTICATOR_RESPONSE.lower().replace("s=", "S="))
    assert _check(AUTHENTICATOR_RESPONSE + " M=Access granted")


@pytest.mark.parametrize(
    "received",
    [
        "S=407A5589115FD0D6209F510FE9C04566932CDA57",  # last digit changed
        "S=0000000000000000000000000000000000000000",
        "S=407A5589115FD0D6209F510FE9C04566932CDA5",  # one digit short
        AUTHENTICATOR_RESPONSE + "0",  # trailing garbage without the space separator
        "X=407A5589115FD0D6209F510FE9C04566932CDA56",
        "",
        b"\xff" * 42,
    ],
)
def test_check_authenticator_response_rejects_wrong_values(received: str | bytes) -> None:
    assert not _check(received)


def test_check_authenticator_response_rejects_wrong_password() -> None:
    # A server that does not know the password cannot produce the right S= value.
    assert not _check(AUTHENTICATOR_RESPONSE, password="clientPasS")


def test_domain_prefix_is_stripped_for_challenge_hash() -> None:
    assert mschap.strip_domain("CORP\\User") == "User"
    assert mschap.strip_domain("User") == "User"
    assert mschap.strip_domain("A\\B\\User") == "User"
    assert mschap.challenge_hash(PEER_CHALLENGE, AUTHENTICATOR_CHALLENGE, "CORP\\User") == CHALLENGE
    nt = mschap.generate_nt_response(AUTHENTICATOR_CHALLENGE, PEER_CHALLENGE, "CORP\\User", PASSWORD)
    assert nt == NT_RESPONSE
    assert _check(AUTHENTICATOR_RESPONSE, user="CORP\\User")


def test_rfc2759_des_key_parity_expansion() -> None:
    assert expand_des_key(DES_RAW_KEY_1) == DES_PARITY_KEY_1
    assert V1_PASSWORD_HASH[:7] == DES_RAW_KEY_1


def test_rfc2433_mschapv1_response() -> None:
    assert V1_PASSWORD.encode("utf-16-le") == V1_PASSWORD_UNICODE
    assert mschap.nt_password_hash(V1_PASSWORD) == V1_PASSWORD_HASH
    assert mschap.mschapv1_nt_response(V1_CHALLENGE, V1_PASSWORD) == V1_NT_RESPONSE


def test_rfc3079_lm_password_hash() -> None:
    assert mschap.lm_password_hash(PASSWORD) == LM_PASSWORD_HASH


@pytest.mark.parametrize(
    ("func", "args"),
    [
        (mschap.challenge_hash, (PEER_CHALLENGE[:15], AUTHENTICATOR_CHALLENGE, USER_NAME)),
        (mschap.challenge_hash, (PEER_CHALLENGE, AUTHENTICATOR_CHALLENGE + b"\x00", USER_NAME)),
        (mschap.challenge_response, (CHALLENGE[:7], PASSWORD_HASH)),
        (mschap.mschapv1_nt_response, (V1_CHALLENGE + b"\x00", V1_PASSWORD)),
    ],
)
def test_wrong_lengths_are_rejected(func: object, args: tuple[object, ...]) -> None:
    with pytest.raises(ValueError):
        func(*args)  # type: ignore[operator]
