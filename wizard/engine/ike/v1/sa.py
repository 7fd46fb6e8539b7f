"""One ISAKMP SA: cookies, negotiated suite, keys and the CBC IV chain of every exchange.

IKEv1 encrypts payloads in CBC with an IV that chains through each exchange (RFC 2409 Appendix B):
phase 1 starts from hash(g^xi | g^xr); each later exchange starts from hash(last phase 1 block | M-ID)
and continues with the last ciphertext block of the previous message of the same exchange. A message
that fails to decrypt or verify must not advance the chain, so decryption returns the next IV and the
caller commits it once the message checked out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wizard.engine.buffer import Writer
from wizard.engine.crypto.suites import BoundCipher
from wizard.engine.errors import ParseError
from wizard.engine.ike.payloads import (
    HEADER_SIZE,
    Chain,
    Header,
    Payload,
    V1Flags,
    decode_chain,
    encode_chain,
)
from wizard.engine.ike.v1.keys import Phase1Keys, exchange_iv
from wizard.engine.ike.v1.proposals import Phase1Suite

ZERO_COOKIE = bytes(8)


def encode_message(
    cky_i: bytes, cky_r: bytes, exchange: int, mid: int, payloads: list[Payload], *, flags: int = 0, body: bytes | None = None
) -> bytes:
    """A plaintext message, or (with ``body``) a header in front of already encrypted payloads."""
    first, chain = encode_chain(payloads)
    data = chain if body is None else body
    header = Header(cky_i, cky_r, first, exchange, flags, mid, HEADER_SIZE + len(data))
    return header.encode() + data


def pad(data: bytes, block: int) -> bytes:
    """Zero padding to the cipher block; none when already aligned (payload lengths bound the content)."""
    extra = -len(data) % block
    return data + bytes(extra)


@dataclass
class IsakmpSA:
    """State of one phase 1 SA (a rekey creates a new one with new cookies)."""

    initiator: bool
    cky_i: bytes
    cky_r: bytes = ZERO_COOKIE
    suite: Phase1Suite | None = None
    auth_method: int = 0
    keys: Phase1Keys | None = None
    lifetime_seconds: int | None = None
    established: bool = False
    established_at: float = 0.0
    deleted: bool = False
    rekey_started: bool = False
    is_rekey: bool = False
    peer_id: str = ""
    dpd_supported: bool = False
    xauth_done: bool = False
    xauth_user: str = ""
    last_phase1_block: bytes = b""
    _cipher: BoundCipher | None = field(default=None, repr=False)
    _ivs: dict[int, bytes] = field(default_factory=dict, repr=False)

    @property
    def cookies(self) -> bytes:
        return self.cky_i + self.cky_r

    def install_keys(self, suite: Phase1Suite, keys: Phase1Keys, iv0: bytes) -> None:
        self.suite = suite
        self.keys = keys
        self._cipher = suite.cipher.bind(keys.enc_key)
        self._ivs[0] = iv0

    @property
    def has_keys(self) -> bool:
        return self._cipher is not None

    def _iv(self, mid: int) -> bytes:
        iv = self._ivs.get(mid)
        if iv is None:
            if not self.last_phase1_block or self.suite is None:
                raise ParseError("exchange before phase 1 completed")
            iv = exchange_iv(self.suite.hash, self.last_phase1_block, mid, self.suite.cipher.block_size)
        return iv

    def encrypt(self, exchange: int, mid: int, payloads: list[Payload], flags: int = 0) -> bytes:
        """Encrypt and frame a message; advances the exchange's IV chain."""
        assert self._cipher is not None and self.suite is not None
        first, chain = encode_chain(payloads)
        ct = self._cipher.encrypt(self._iv(mid), pad(chain, self.suite.cipher.block_size))
        self._ivs[mid] = ct[-self.suite.cipher.block_size :]
        header = Header(self.cky_i, self.cky_r, first, exchange, flags | V1Flags.ENCRYPTION, mid, HEADER_SIZE + len(ct))
        return header.encode() + ct

    def decrypt(self, header: Header, data: bytes) -> tuple[Chain, bytes, bytes]:
        """(chain, plaintext, next IV); raises ParseError. Call :meth:`commit_iv` once it verified."""
        if self._cipher is None or self.suite is None:
            raise ParseError("encrypted message before keys exist")
        ct = data[HEADER_SIZE : header.length]
        bs = self.suite.cipher.block_size
        if not ct or len(ct) % bs:
            raise ParseError(f"encrypted body of {len(ct)} bytes is not a multiple of the {bs}-byte block")
        plain = self._cipher.decrypt(self._iv(header.message_id), ct)
        chain = decode_chain(header.next_payload, plain, allow_trailing=True)
        return chain, plain, ct[-bs:]

    def commit_iv(self, mid: int, iv: bytes) -> None:
        self._ivs[mid] = iv

    def finish_phase1(self) -> None:
        """Phase 1 is over: its last CBC block seeds every later exchange's IV."""
        self.last_phase1_block = self._ivs.get(0, b"")

    def forget_exchange(self, mid: int) -> None:
        self._ivs.pop(mid, None)


def hash_payload_rest(chain: Chain, plain: bytes) -> bytes:
    """The bytes after the leading HASH payload up to the last payload (padding excluded)."""
    if not chain.spans:
        return b""
    return plain[chain.spans[0][1] : chain.end]


def u32(value: int) -> bytes:
    return Writer().u32(value).getvalue()
