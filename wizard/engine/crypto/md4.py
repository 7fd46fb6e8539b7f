"""MD4 (RFC 1320), because hashlib no longer ships it and MS-CHAP is built on it.

Only used for NT password hashes; MD4 is broken as a general-purpose hash.
"""

from __future__ import annotations

import struct

_MASK = 0xFFFFFFFF


def _rotl(x: int, n: int) -> int:
    x &= _MASK
    return ((x << n) | (x >> (32 - n))) & _MASK


def _compress(state: tuple[int, int, int, int], block: bytes) -> tuple[int, int, int, int]:
    x = struct.unpack("<16I", block)
    a, b, c, d = state

    def f(x_: int, y: int, z: int) -> int:
        return (x_ & y) | (~x_ & z)

    def g(x_: int, y: int, z: int) -> int:
        return (x_ & y) | (x_ & z) | (y & z)

    def h(x_: int, y: int, z: int) -> int:
        return x_ ^ y ^ z

    # Round 1: message words in order, shifts 3, 7, 11, 19.
    for i in range(0, 16, 4):
        a = _rotl(a + f(b, c, d) + x[i], 3)
        d = _rotl(d + f(a, b, c) + x[i + 1], 7)
        c = _rotl(c + f(d, a, b) + x[i + 2], 11)
        b = _rotl(b + f(c, d, a) + x[i + 3], 19)
    # Round 2: words by column, constant sqrt(2), shifts 3, 5, 9, 13.
    for i in range(4):
        a = _rotl(a + g(b, c, d) + x[i] + 0x5A827999, 3)
        d = _rotl(d + g(a, b, c) + x[i + 4] + 0x5A827999, 5)
        c = _rotl(c + g(d, a, b) + x[i + 8] + 0x5A827999, 9)
        b = _rotl(b + g(c, d, a) + x[i + 12] + 0x5A827999, 13)
    # Round 3: bit-reversed word order, constant sqrt(3), shifts 3, 9, 11, 15.
    for i in (0, 2, 1, 3):
        a = _rotl(a + h(b, c, d) + x[i] + 0x6ED9EBA1, 3)
        d = _rotl(d + h(a, b, c) + x[i + 8] + 0x6ED9EBA1, 9)
        c = _rotl(c + h(d, a, b) + x[i + 4] + 0x6ED9EBA1, 11)
        b = _rotl(b + h(c, d, a) + x[i + 12] + 0x6ED9EBA1, 15)
    return (
        (state[0] + a) & _MASK,
        (state[1] + b) & _MASK,
        (state[2] + c) & _MASK,
        (state[3] + d) & _MASK,
    )


def md4(data: bytes) -> bytes:
    """Return the 16-byte MD4 digest of ``data``."""
    data = bytes(data)
    bit_len = (8 * len(data)) & 0xFFFFFFFFFFFFFFFF
    padded = data + b"\x80" + b"\x00" * ((55 - len(data)) % 64) + struct.pack("<Q", bit_len)
    state = (0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476)
    for off in range(0, len(padded), 64):
        state = _compress(state, padded[off : off + 64])
    return struct.pack("<4I", *state)
