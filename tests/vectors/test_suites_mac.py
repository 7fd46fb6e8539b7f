"""Integrity and PRF vectors: RFC 2202 (HMAC-MD5/SHA-1), RFC 4231 (HMAC-SHA-2), RFC 3566 (AES-XCBC-MAC-96),
RFC 4434 (AES-XCBC-PRF-128), and RFC 7296 §2.13 prf+ structure."""

from __future__ import annotations

import pytest

from wizard.engine.crypto.suites import integrity, prf, prf_plus
from wizard.engine.errors import LocalProtocolError


def h(text: str) -> bytes:
    return bytes.fromhex("".join(text.split()))


# RFC 2202 §2 (HMAC-MD5) and §3 (HMAC-SHA-1): (key, data, md5, sha1). Cases 6/7 use an 80-byte key.
RFC2202 = [
    (b"\x0b" * 16, b"Hi There", "9294727a3638bb1c13f48ef8158bfc9d", None),
    (b"\x0b" * 20, b"Hi There", None, "b617318655057264e28bc0b6fb378c8ef146be00"),
    (b"Jefe", b"what do ya want for nothing?", "750c783e6ab0b503eaa86e310a5db738",
     "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"),
    (b"\xaa" * 16, b"\xdd" * 50, "56be34521d144c88dbb8c733f0e8b3f6", None),
    (b"\xaa" * 20, b"\xdd" * 50, None, "125d7342b9ac11cd91a39af48aa17b4f63f175d3"),
    (bytes(range(1, 26)), b"\xcd" * 50, "697eaf0aca3a3aea3a75164746ffaa79", "4c9007f4026250c6bc8414f9bf50c86c2d7235da"),
    (b"\x0c" * 16, b"Test With Truncation", "56461ef2342edc00f9bab995690efd4c", None),
    (b"\x0c" * 20, b"Test With Truncation", None, "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04"),
    (b"\xaa" * 80, b"Test Using Larger Than Block-Size Key - Hash Key First", "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd",
     "aa4ae5e15272d00e95705637ce8a3b55ed402112"),
    (b"\xaa" * 80, b"Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data",
     "6f630fad67cda0ee1fb1f562db3aa53e", "e8e99d0f45237d786d6bbaa7965c7808bbff1a91"),
]  # fmt: skip

_CASE6_DATA = b"Test Using Larger Than Block-Size Key - Hash Key First"
_CASE7_DATA = (
    b"This is a test using a larger than block-size key and a larger than block-size data. "
    b"The key needs to be hashed before being used by the HMAC algorithm."
)
# RFC 4231 §4.2-4.8: (key, data, sha256, sha384, sha512). Case 5 (truncation) is separate below.
RFC4231 = [
    (b"\x0b" * 20, b"Hi There",
     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
     "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6",
     "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4"
     "be9d914eeb61f1702e696c203a126854"),
    (b"Jefe", b"what do ya want for nothing?",
     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
     "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649",
     "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fd"
     "caeab1a34d4a6b4b636e070a38bce737"),
    (b"\xaa" * 20, b"\xdd" * 50,
     "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
     "88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b2a5ab39dc13814b94e3ab6e101a34f27",
     "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39bf3e848279a722c806b485a47e67c807"
     "b946a337bee8942674278859e13292fb"),
    (bytes(range(1, 26)), b"\xcd" * 50,
     "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
     "3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e6801dd23c4a7d679ccf8a386c674cffb",
     "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3dba91ca5c11aa25eb4d679275cc5788063"
     "a5f19741120c4f2de2adebeb10a298dd"),
    (b"\xaa" * 131, _CASE6_DATA,
     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
     "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c60c2ef6ab4030fe8296248df163f44952",
     "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e52"
     "95e64f73f63f0aec8b915a985d786598"),
    (b"\xaa" * 131, _CASE7_DATA,
     "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
     "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5a678cc31e799176d3860e6110c46523e",
     "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944b6022cac3c4982b10d5eeb55c3e4de15"
     "134676fb6de0446065c97440fa8c6a58"),
]  # fmt: skip
# RFC 4231 §4.6: truncated output, first 128 bits only.
RFC4231_TRUNCATED = (b"\x0c" * 20, b"Test With Truncation", "a3b6167473100ee06e0c796c2955552b")


@pytest.mark.parametrize(("key", "data", "md5", "sha1"), RFC2202)
def test_rfc2202(key: bytes, data: bytes, md5: str | None, sha1: str | None) -> None:
    for name, expected in (("prfmd5", md5), ("prfsha1", sha1)):
        if expected is not None:
            assert prf(name).prf(key, data) == h(expected)


@pytest.mark.parametrize(("key", "data", "sha256", "sha384", "sha512"), RFC4231)
def test_rfc4231_prf(key: bytes, data: bytes, sha256: str, sha384: str, sha512: str) -> None:
    assert prf("prfsha256").prf(key, data) == h(sha256)
    assert prf("prfsha384").prf(key, data) == h(sha384)
    assert prf("prfsha512").prf(key, data) == h(sha512)


def test_rfc4231_truncation() -> None:
    key, data, expected = RFC4231_TRUNCATED
    assert prf("prfsha256").prf(key, data)[:16] == h(expected)


@pytest.mark.parametrize(
    ("name", "prf_name", "key_size", "icv_size"),
    [("md5", "prfmd5", 16, 12), ("sha1", "prfsha1", 20, 12), ("sha256", "prfsha256", 32, 16),
     ("sha384", "prfsha384", 48, 24), ("sha512", "prfsha512", 64, 32)],
)  # fmt: skip
def test_integrity_is_truncated_hmac(name: str, prf_name: str, key_size: int, icv_size: int) -> None:
    """RFC 2403/2404/4868: the ICV is the leftmost bits of the HMAC with a key of the hash's output size."""
    integ = integrity(name)
    key = bytes(range(key_size))
    data = b"ESP header and payload"
    icv = integ.mac(key, data)
    assert (integ.key_size, integ.icv_size, len(icv)) == (key_size, icv_size, icv_size)
    assert icv == prf(prf_name).prf(key, data)[:icv_size]
    assert integ.verify(key, data, icv)
    assert not integ.verify(key, data, bytes(icv_size))
    assert not integ.verify(key, data + b"x", icv)
    with pytest.raises(LocalProtocolError):
        integ.mac(key[:-1], data)


# RFC 3566 §4.6: key 000102...0f; (message, AES-XCBC-MAC full 128 bits).
RFC3566_KEY = bytes(range(16))
RFC3566 = [
    (b"", "75f0251d528ac01c4573dfd584d79f29"),
    (bytes(range(3)), "5b376580ae2f19afe7219ceef172756f"),
    (bytes(range(16)), "d2a246fa349b68a79998a4394ff7a263"),
    (bytes(range(20)), "47f51b4564966215b8985c63055ed308"),
    (bytes(range(32)), "f54f0ec8d2b9f3d36807734bd5283fd4"),
    (bytes(range(34)), "becbb3bccdb518a30677d5481fb6b4d8"),
    (bytes(1000), "f0dafee895db30253761103b5d84528f"),
]


@pytest.mark.parametrize(("message", "mac"), RFC3566)
def test_rfc3566_aes_xcbc_mac_96(message: bytes, mac: str) -> None:
    integ = integrity("aesxcbc")
    assert integ.mac(RFC3566_KEY, message) == h(mac)[:12]
    assert integ.verify(RFC3566_KEY, message, h(mac)[:12])


# RFC 4434 §4: AES-XCBC-PRF-128 with the message 000102...13 and keys of 16, 10 and 18 bytes.
RFC4434_MESSAGE = bytes(range(20))
RFC4434 = [
    (bytes(range(16)), "47f51b4564966215b8985c63055ed308"),
    (bytes(range(10)), "0fa087af7d866e7653434e602fdde835"),
    (bytes(range(16)) + b"\xed\xcb", "8cd3c93ae598a9803006ffb67c40e9e4"),
]


@pytest.mark.parametrize(("key", "output"), RFC4434)
def test_rfc4434_aes_xcbc_prf(key: bytes, output: str) -> None:
    assert prf("prfaesxcbc").prf(key, RFC4434_MESSAGE) == h(output)


def test_prf_plus_structure() -> None:
    """RFC 7296 §2.13: T1 = prf(K, S | 0x01), T2 = prf(K, T1 | S | 0x02), ..."""
    p = prf("prfsha256")
    key, seed = b"K" * 32, b"Ni | Nr | SPIi | SPIr"
    t1 = p.prf(key, seed + b"\x01")
    t2 = p.prf(key, t1 + seed + b"\x02")
    t3 = p.prf(key, t2 + seed + b"\x03")
    assert prf_plus(p, key, seed, 70) == (t1 + t2 + t3)[:70]
    assert prf_plus(p, key, seed, 255 * 32)[-32:] != bytes(32)
    with pytest.raises(LocalProtocolError):
        prf_plus(p, key, seed, 255 * 32 + 1)


def test_hash_for_ikev1() -> None:
    assert prf("prfsha1").hash(b"abc") == h("a9993e364706816aba3e25717850c26c9cd0d89d")  # FIPS 180 "abc"
    assert prf("prfmd5").hash(b"") == h("d41d8cd98f00b204e9800998ecf8427e")  # RFC 1321 A.5
    with pytest.raises(LocalProtocolError):
        prf("prfaesxcbc").hash(b"abc")
