"""RC4 via ``cryptography``'s decrepit module, for MPPE (RFC 3078) only."""

from __future__ import annotations

from cryptography.hazmat.decrepit.ciphers.algorithms import ARC4
from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext


class Rc4:
    """A running RC4 keystream: successive :meth:`process` calls continue the stream.

    MPPE's stateful mode keeps one keystream across packets, so the context must persist.
    """

    __slots__ = ("_ctx",)

    def __init__(self, key: bytes) -> None:
        if not 5 <= len(key) <= 256:
            raise ValueError("RC4 key must be 5..256 bytes")
        self._ctx: CipherContext = Cipher(ARC4(bytes(key)), mode=None).encryptor()

    def process(self, data: bytes) -> bytes:
        """XOR ``data`` with the next ``len(data)`` keystream bytes (encrypt == decrypt)."""
        return self._ctx.update(bytes(data))


def rc4(key: bytes, data: bytes) -> bytes:
    """One-shot RC4 with a fresh keystream."""
    return Rc4(key).process(data)
