"""Single DES in ECB mode, only for MS-CHAP's ChallengeResponse (RFC 2759 section 8.5).

``cryptography`` has no single DES; TripleDES with K1 = K2 = K3 degenerates to it (EDE with
equal keys is one encryption).
"""

from __future__ import annotations

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes


def expand_des_key(key7: bytes) -> bytes:
    """Spread 56 key bits over 8 bytes (7 bits each); the low parity bit is set to odd parity.

    DES ignores parity bits, so the parity choice does not change the ciphertext.
    """
    if len(key7) != 7:
        raise ValueError("a DES key seed is 7 bytes")
    n = int.from_bytes(key7, "big")
    out = bytearray()
    for i in range(8):
        b = ((n >> (49 - 7 * i)) & 0x7F) << 1
        out.append(b | (1 - bin(b).count("1") % 2))
    return bytes(out)


def des_encrypt_block(key7: bytes, block: bytes) -> bytes:
    """DES-encrypt one 8-byte block with a 7-byte key seed."""
    if len(block) != 8:
        raise ValueError("DES block is 8 bytes")
    key8 = expand_des_key(key7)
    enc = Cipher(TripleDES(key8 * 3), modes.ECB()).encryptor()
    return enc.update(block) + enc.finalize()
