"""MD4 against the RFC 1320 appendix A.5 test suite."""

from __future__ import annotations

import pytest

from wizard.engine.crypto.md4 import md4

# RFC 1320 appendix A.5 "Test suite": (message, MD4 digest).
RFC1320_A5 = [
    (b"", "31d6cfe0d16ae931b73c59d7e0c089c0"),
    (b"a", "bde52cb31de33e46245e05fbdbd6fb24"),
    (b"abc", "a448017aaf21d8525fc10ae87aa6729d"),
    (b"message digest", "d9130a8164549fe818874806e1c7014b"),
    (b"abcdefghijklmnopqrstuvwxyz", "d79e1c308aa5bbcdeea8ed63df412da9"),
    (
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        "043f8582f241db351ce627e153e7f0e4",
    ),
    (
        b"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
        "e33b4ddc9c38f2199c3e7b164fcc0536",
    ),
]


@pytest.mark.parametrize(("message", "digest"), RFC1320_A5)
def test_rfc1320_a5(message: bytes, digest: str) -> None:
    assert md4(message).hex() == digest


@pytest.mark.parametrize("length", [55, 56, 63, 64, 65, 119, 120, 128])
def test_padding_boundaries_differ(length: int) -> None:
    # Lengths around the 56-byte padding boundary take one or two final blocks; a padding
    # bug would typically make neighbouring lengths collide or crash.
    a = md4(b"x" * length)
    b = md4(b"x" * (length + 1))
    assert len(a) == 16
    assert a != b
