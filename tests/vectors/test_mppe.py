"""MPPE key derivation (RFC 3079) known-answer tests.

Section 3.5 derives the keys of the RFC 2759 section 9.2 exchange from the server's point of
view (IsSend = IsServer = TRUE, i.e. Magic3): the printed "SendStartKey" is the server's send key
and therefore the client's receive key.
"""

from __future__ import annotations

import pytest

from wizard.engine.crypto import mppe
from wizard.engine.crypto.mschap import hash_nt_password_hash, lm_password_hash, nt_password_hash
from wizard.engine.crypto.rc4 import rc4

# RFC 3079 section 3.5 initial values (the same as RFC 2759 section 9.2).
USER_NAME = "User"
PASSWORD = "clientPass"
AUTHENTICATOR_CHALLENGE = bytes.fromhex("5B 5D 7C 7D 7B 3F 2F 3E 3C 2C 60 21 32 26 26 28")
PEER_CHALLENGE = bytes.fromhex("21 40 23 24 25 5E 26 2A 28 29 5F 2B 3A 33 7C 7E")
NT_RESPONSE = bytes.fromhex("82 30 9E CD 8D 70 8B 5E A0 8F AA 39 81 CD 83 54 42 33 11 4A 3D 85 D6 DF")
# RFC 3079 section 3.5.x steps 1-3.
PASSWORD_HASH = bytes.fromhex("44 EB BA 8D 53 12 B8 D6 11 47 44 11 F5 69 89 AE")
PASSWORD_HASH_HASH = bytes.fromhex("41 C0 0C 58 4B D2 D9 1C 40 17 A2 A1 2F A5 9F 3F")
MASTER_KEY = bytes.fromhex("FD EC E3 71 7A 8C 83 8C B3 88 E5 27 AE 3C DD 31")

# RFC 3079 section 3.5.1 (40-bit): GetAsymmetricStartKey, first session key, sample message.
SEND_START_KEY_40 = bytes.fromhex("8B 7C DC 14 9B 99 3A 1B")
SEND_SESSION_KEY_40 = bytes.fromhex("D1 26 9E C4 9F A6 2E 3E")
SAMPLE_PLAINTEXT = b"test message"
SAMPLE_CIPHERTEXT_40 = bytes.fromhex("92 91 37 91 7E 58 03 D6 68 D7 58 98")

# RFC 3079 section 3.5.2 (56-bit).
SEND_START_KEY_56 = bytes.fromhex("8B 7C DC 14 9B 99 3A 1B")
SEND_SESSION_KEY_56 = bytes.fromhex("D1 5C 00 C4 9F A6 2E 3E")

# RFC 3079 section 3.5.3 (128-bit).
SEND_START_KEY_128 = bytes.fromhex("8B 7C DC 14 9B 99 3A 1B A1 18 CB 15 3F 56 DC CB")
SEND_SESSION_KEY_128 = bytes.fromhex("40 5C B2 24 7A 79 56 E6 E2 11 00 7A E2 7B 22 D4")

# RFC 3079 section 2.5 (MS-CHAPv1, password "clientPass", challenge of RFC 2433 B.2).
V1_CHALLENGE = bytes.fromhex("10 2D B5 DF 08 5D 30 41")
V1_LM_PASSWORD_HASH = bytes.fromhex("76 A1 52 93 60 96 D7 83 0E 23 90 22 74 04 AF D2")
# Section 2.5.1/2.5.2 GetKey output before the 40/56-bit salt is applied.
V1_GET_KEY_8 = bytes.fromhex("D8 08 01 53 8C EC 4A 08")
# Section 2.5.3; its step 3 misprints one octet ("AC CA D1"); step 4 and the session key
# follow from "AC C1 D1", used here.
V1_START_KEY_128 = bytes.fromhex("A8 94 78 50 CF C0 AC C1 D1 78 9F B6 2D DC DD B0")
V1_SESSION_KEY_128 = bytes.fromhex("59 D1 59 BC 09 F7 6F 1D A2 A8 6A 28 FF EC 0B 1E")


def test_rfc3079_3_5_password_hashes_and_master_key() -> None:
    assert nt_password_hash(PASSWORD) == PASSWORD_HASH
    assert hash_nt_password_hash(PASSWORD_HASH) == PASSWORD_HASH_HASH
    assert mppe.get_master_key(PASSWORD_HASH_HASH, NT_RESPONSE) == MASTER_KEY


@pytest.mark.parametrize(
    ("bits", "start_key", "session_key"),
    [
        (40, SEND_START_KEY_40, SEND_SESSION_KEY_40),
        (56, SEND_START_KEY_56, SEND_SESSION_KEY_56),
        (128, SEND_START_KEY_128, SEND_SESSION_KEY_128),
    ],
)
def test_rfc3079_3_5_start_and_session_keys(bits: int, start_key: bytes, session_key: bytes) -> None:
    n = mppe.key_length_for_bits(bits)
    assert mppe.get_asymmetric_start_key(MASTER_KEY, n, is_send=True, is_server=True) == start_key
    assert mppe.initial_session_key(start_key, bits) == session_key
    # The same value from the bare GetNewKeyFromSHA step (salted only for 40/56 bit).
    raw = mppe.get_new_key_from_sha(start_key, start_key, n)
    assert mppe.reduce_key(raw, bits) == session_key


def test_rfc3079_3_5_1_sample_encrypted_message() -> None:
    assert rc4(SEND_SESSION_KEY_40, SAMPLE_PLAINTEXT) == SAMPLE_CIPHERTEXT_40


@pytest.mark.parametrize("n", [8, 16])
def test_mschapv2_keys_are_mirrored(n: int) -> None:
    server_send, server_recv = mppe.mppe_keys_from_mschapv2(PASSWORD, NT_RESPONSE, True, n)
    client_send, client_recv = mppe.mppe_keys_from_mschapv2(PASSWORD, NT_RESPONSE, False, n)
    # The RFC's printed key is the server's send key and the client's receive key.
    assert server_send == client_recv == SEND_START_KEY_128[:n]
    assert client_send == server_recv
    assert client_send != client_recv
    assert len(client_send) == n


def test_rfc3079_2_5_mschapv1_lm_keys() -> None:
    assert lm_password_hash(PASSWORD) == V1_LM_PASSWORD_HASH
    send, recv = mppe.mppe_keys_from_mschapv1(PASSWORD, V1_CHALLENGE, 8)
    assert send == recv == V1_LM_PASSWORD_HASH[:8]
    assert mppe.get_new_key_from_sha(send, send, 8) == V1_GET_KEY_8
    assert mppe.initial_session_key(send, 40) == b"\xd1\x26\x9e" + V1_GET_KEY_8[3:]
    assert mppe.initial_session_key(send, 56) == b"\xd1" + V1_GET_KEY_8[1:]


def test_rfc3079_2_5_3_mschapv1_128_bit() -> None:
    send, recv = mppe.mppe_keys_from_mschapv1(PASSWORD, V1_CHALLENGE, 16)
    assert send == recv == V1_START_KEY_128
    assert mppe.initial_session_key(send, 128) == V1_SESSION_KEY_128


def test_mschapv1_nt_based_short_keys_on_request() -> None:
    # pppd's variant: 8-byte keys cut from Get_Start_Key rather than the LM hash.
    send, _ = mppe.mppe_keys_from_mschapv1(PASSWORD, V1_CHALLENGE, 8, use_lm_hash=False)
    assert send == V1_START_KEY_128[:8]


def test_change_key_follows_rfc3078_7_3() -> None:
    # No published vector covers a key change; check the documented steps one by one:
    # interim = GetNewKeyFromSHA(start, current), new = RC4(interim, interim), then salt.
    for bits, start, current in (
        (40, SEND_START_KEY_40, SEND_SESSION_KEY_40),
        (56, SEND_START_KEY_56, SEND_SESSION_KEY_56),
        (128, SEND_START_KEY_128, SEND_SESSION_KEY_128),
    ):
        n = mppe.key_length_for_bits(bits)
        interim = mppe.get_new_key_from_sha(start, current, n)
        expected = mppe.reduce_key(rc4(interim, interim), bits)
        changed = mppe.change_key(start, current, bits)
        assert changed == expected
        assert changed != current
        if bits == 40:
            assert changed[:3] == b"\xd1\x26\x9e"
        elif bits == 56:
            assert changed[:1] == b"\xd1"


# Regression values produced by this implementation (not printed in any RFC): the key after the
# first change from the section 3.5 session keys. They pin the behaviour so a refactor cannot
# silently change what goes on the wire.
FIRST_CHANGED_KEY = {
    40: "d1269ece4d98d181",
    56: "d16182a2ab481407",
    128: "726f10500e2b54135b1b74d7682f0471",
}


@pytest.mark.parametrize("bits", [40, 56, 128])
def test_first_key_change_regression(bits: int) -> None:
    start = {40: SEND_START_KEY_40, 56: SEND_START_KEY_56, 128: SEND_START_KEY_128}[bits]
    session = mppe.initial_session_key(start, bits)
    assert mppe.change_key(start, session, bits).hex() == FIRST_CHANGED_KEY[bits]


def test_key_length_for_bits() -> None:
    assert [mppe.key_length_for_bits(b) for b in (40, 56, 128)] == [8, 8, 16]
    with pytest.raises(ValueError):
        mppe.key_length_for_bits(64)
