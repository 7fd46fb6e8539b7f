"""Cipher vectors: RFC 3602 §4 cases 1-4 (AES-CBC), RFC 3686 §6 (AES-CTR), FIPS 81 (DES-CBC), GCM tags."""

from __future__ import annotations

import pytest

from wizard.engine.crypto.suites import AuthenticationFailed, cipher
from wizard.engine.errors import LocalProtocolError, ParseError


def h(text: str) -> bytes:
    return bytes.fromhex("".join(text.split()))


# RFC 3602 §4, cases 1-4: (key, IV, plaintext, ciphertext), AES-128-CBC without padding.
RFC3602 = [
    ("06a9214036b8a15b512e03d534120006", "3dafba429d9eb430b422da802c9fac41", b"Single block msg",
     "e353779c1079aeb82708942dbe77181a"),
    ("c286696d887c9aa0611bbb3e2025a45a", "562e17996d093d28ddb3ba695a2e6f58", bytes(range(32)),
     "d296cd94c2cccf8a3a863028b5e1dc0a7586602d253cfff91b8266bea6d61ab1"),
    ("6c3ea0477630ce21a2ce334aa746c2cd", "c782dc4c098c66cbd9cd27d825682c81",
     b"This is a 48-byte message (exactly 3 AES blocks)",
     "d0a02b3836451753d493665d33f0e8862dea54cdb293abc7506939276772f8d5021c19216bad525c8579695d83ba2684"),
    ("56e47a38c5598974bc46903dba290349", "8ce82eefbea0da3c44699ed7db51b7d9", bytes(range(0xA0, 0xE0)),
     "c30e32ffedc0774e6aff6af0869f71aa0f3af07a9a31a9c684db207eb0ef8e4e"
     "35907aa632c3ffdf868bb7b29d3d46ad83ce9f9a102ee99d49a53e87f4c3da55"),
]  # fmt: skip


@pytest.mark.parametrize(("key", "iv", "plaintext", "ciphertext"), RFC3602)
def test_rfc3602_aes_cbc(key: str, iv: str, plaintext: bytes, ciphertext: str) -> None:
    c = cipher("aes128")
    assert c.encrypt(h(key), h(iv), plaintext) == h(ciphertext)
    assert c.decrypt(h(key), h(iv), h(ciphertext)) == plaintext


# RFC 3686 §6, test vectors 1-9: (cipher, key, nonce, IV, plaintext, ciphertext).
_SINGLE = b"Single block msg"
RFC3686 = [
    ("aes128ctr", "ae6852f8121067cc4bf7a5765577f39e", "00000030", "0000000000000000", _SINGLE,
     "e4095d4fb7a7b3792d6175a3261311b8"),
    ("aes128ctr", "7e24067817fae0d743d6ce1f32539163", "006cb6db", "c0543b59da48d90b", bytes(range(32)),
     "5104a106168a72d9790d41ee8edad388eb2e1efc46da57c8fce630df9141be28"),
    ("aes128ctr", "7691be035e5020a8ac6e618529f9a0dc", "00e0017b", "27777f3f4a1786f0", bytes(range(36)),
     "c1cf48a89f2ffdd9cf4652e9efdb72d74540a42bde6d7836d59a5ceaaef3105325b2072f"),
    ("aes192ctr", "16af5b145fc9f579c175f93e3bfb0eed863d06ccfdb78515", "00000048", "36733c147d6d93cb", _SINGLE,
     "4b55384fe259c9c84e7935a003cbe928"),
    ("aes192ctr", "7c5cb2401b3dc33c19e7340819e0f69c678c3db8e6f6a91a", "0096b03b", "020c6eadc2cb500d",
     bytes(range(32)), "453243fc609b23327edfaafa7131cd9f8490701c5ad4a79cfc1fe0ff42f4fb00"),
    ("aes192ctr", "02bf391ee8ecb159b959617b0965279bf59b60a786d3e0fe", "0007bdfd", "5cbd60278dcc0912",
     bytes(range(36)), "96893fc55e5c722f540b7dd1ddf7e758d288bc95c69165884536c811662f2188abee0935"),
    ("aes256ctr", "776beff2851db06f4c8a0542c8696f6c6a81af1eec96b4d37fc1d689e6c1c104", "00000060",
     "db5672c97aa8f0b2", _SINGLE, "145ad01dbf824ec7560863dc71e3e0c0"),
    ("aes256ctr", "f6d66d6bd52d59bb0796365879eff886c66dd51a5b6a99744b50590c87a23884", "00faac24",
     "c1585ef15a43d875", bytes(range(32)), "f05e231b3894612c49ee000b804eb2a9b8306b508f839d6a5530831d9344af1c"),
    ("aes256ctr", "ff7a617ce69148e4f1726e2f43581de2aa62d9f805532edff1eed687fb54153d", "001cc5b7",
     "51a51d70a1c11148", bytes(range(36)),
     "eb6c52821d0bbbf7ce7594462aca4faab407df866569fd07f48cc0b583d6071f1ec0e6b8"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "key", "nonce", "iv", "plaintext", "ciphertext"), RFC3686)
def test_rfc3686_aes_ctr(name: str, key: str, nonce: str, iv: str, plaintext: bytes, ciphertext: str) -> None:
    c = cipher(name)
    keymat = h(key) + h(nonce)  # RFC 3686 §5.1: the nonce is the last 4 bytes of the keying material
    assert c.keymat_size == len(keymat)
    assert c.encrypt(keymat, h(iv), plaintext) == h(ciphertext)
    assert c.decrypt(keymat, h(iv), h(ciphertext)) == plaintext


# FIPS 81 Appendix C, Table C1: DES-CBC of "Now is the time for all " with key 0123456789abcdef.
FIPS81_KEY = h("0123456789abcdef")
FIPS81_IV = h("1234567890abcdef")
FIPS81_PLAINTEXT = b"Now is the time for all "
FIPS81_CIPHERTEXT = h("e5c7cdde872bf27c43e934008c389c0f683788499a7c05f6")


def test_fips81_des_cbc() -> None:
    des = cipher("des")
    assert des.encrypt(FIPS81_KEY, FIPS81_IV, FIPS81_PLAINTEXT) == FIPS81_CIPHERTEXT
    assert des.decrypt(FIPS81_KEY, FIPS81_IV, FIPS81_CIPHERTEXT) == FIPS81_PLAINTEXT


def test_3des_with_equal_keys_is_des() -> None:
    assert cipher("3des").encrypt(FIPS81_KEY * 3, FIPS81_IV, FIPS81_PLAINTEXT) == FIPS81_CIPHERTEXT


# GCM: McGrew & Viega, "The Galois/Counter Mode of Operation", test case 4 (AES-128, 60-byte plaintext,
# 20-byte AAD), written as RFC 4106 keying material (key || 4-byte salt) and 8-byte IV.
GCM_KEY = h("feffe9928665731c6d6a8f9467308308")
GCM_NONCE = h("cafebabefacedbaddecaf888")
GCM_AAD = h("feedfacedeadbeeffeedfacedeadbeefabaddad2")
GCM_PLAINTEXT = h(
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525"
    "b16aedf5aa0de657ba637b39"
)
GCM_CIPHERTEXT = h(
    "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa05"
    "1ba30b396a0aac973d58e091"
)
GCM_TAG = h("5bc94fbc3221a5db94fae95ae7121a47")


@pytest.mark.parametrize("icv", [8, 12, 16])
def test_gcm_with_truncated_icv(icv: int) -> None:
    c = cipher(f"aes128gcm{icv}")
    keymat = GCM_KEY + GCM_NONCE[:4]
    sealed = c.encrypt(keymat, GCM_NONCE[4:], GCM_PLAINTEXT, GCM_AAD)
    assert sealed == GCM_CIPHERTEXT + GCM_TAG[:icv]
    assert c.decrypt(keymat, GCM_NONCE[4:], sealed, GCM_AAD) == GCM_PLAINTEXT
    with pytest.raises(AuthenticationFailed):
        c.decrypt(keymat, GCM_NONCE[4:], sealed[:-1] + bytes([sealed[-1] ^ 1]), GCM_AAD)
    with pytest.raises(AuthenticationFailed):
        c.decrypt(keymat, GCM_NONCE[4:], sealed, GCM_AAD + b"x")
    with pytest.raises(ParseError):
        c.decrypt(keymat, GCM_NONCE[4:], sealed[: icv - 1])


def test_cipher_argument_checks() -> None:
    c = cipher("aes256")
    with pytest.raises(LocalProtocolError):
        c.encrypt(bytes(31), bytes(16), bytes(16))
    with pytest.raises(LocalProtocolError):
        c.encrypt(bytes(32), bytes(15), bytes(16))
    with pytest.raises(LocalProtocolError):
        c.encrypt(bytes(32), bytes(16), bytes(15))  # the caller pads CBC
    with pytest.raises(ParseError):
        c.decrypt(bytes(32), bytes(16), bytes(17))
