"""The Encrypted payload (RFC 7296 §3.14, AEAD per RFC 5282) and its fragments (RFC 7383 §2.5).

``seal`` builds whole messages (one, or several SKF fragments when a size limit is given); ``open``
authenticates and decrypts one datagram. Integrity covers the header through the ciphertext; with AES-GCM
the header and the SK/SKF headers are the associated data and the nonce is salt | IV.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from wizard.engine.buffer import Writer
from wizard.engine.crypto.suites import AuthenticationFailed, BoundCipher, BoundIntegrity
from wizard.engine.errors import ParseError
from wizard.engine.ike.payloads import GENERIC_HEADER_SIZE, HEADER_SIZE, Header, decode_chain
from wizard.engine.ike.v2.constants import PayloadType
from wizard.engine.ike.v2.messages import FragmentHeader

FRAGMENT_HEADER_SIZE = 4


@dataclass(frozen=True)
class Opened:
    """A decrypted SK payload, or one fragment of a message (``fragment`` set)."""

    first_inner: int
    plaintext: bytes
    fragment: FragmentHeader | None = None


class Protector:
    """One direction's keys of an IKE SA: seals what we send or opens what the peer sends."""

    def __init__(self, cipher: BoundCipher, integrity: BoundIntegrity | None, random_bytes: Callable[[int], bytes]) -> None:
        self.cipher = cipher
        self.integrity = integrity
        self._rand = random_bytes
        spec = cipher.cipher
        self._icv = spec.icv_size if spec.aead else (integrity.integrity.icv_size if integrity else 0)

    @property
    def overhead(self) -> int:
        """Bytes an SK payload adds around its plaintext, excluding padding: header, IV, pad length, ICV."""
        return GENERIC_HEADER_SIZE + self.cipher.cipher.iv_size + 1 + self._icv

    def _seal_one(self, header: Header, first_inner: int, plain: bytes, frag: FragmentHeader | None) -> bytes:
        spec = self.cipher.cipher
        block = max(spec.block_size, 1)
        padlen = (block - (len(plain) + 1) % block) % block
        padded = plain + bytes(padlen) + bytes((padlen,))
        extra = FRAGMENT_HEADER_SIZE if frag is not None else 0
        body_len = extra + spec.iv_size + len(padded) + self._icv
        ptype = PayloadType.SKF if frag is not None else PayloadType.SK
        total = HEADER_SIZE + GENERIC_HEADER_SIZE + body_len
        hdr = Header(header.spi_i, header.spi_r, ptype, header.exchange_type, header.flags, header.message_id, total,
                     2, 0).encode()  # fmt: skip
        sk = Writer().u8(first_inner).u8(0).u16(GENERIC_HEADER_SIZE + body_len).getvalue()
        if frag is not None:
            sk += frag.encode()
        iv = self._rand(spec.iv_size)
        if spec.aead:
            return hdr + sk + iv + self.cipher.encrypt(iv, padded, hdr + sk)
        body = hdr + sk + iv + self.cipher.encrypt(iv, padded)
        assert self.integrity is not None
        return body + self.integrity.mac(body)

    def seal(self, header: Header, first_inner: int, plain: bytes, *, max_size: int | None = None) -> list[bytes]:
        """One message, or RFC 7383 fragments of at most ``max_size`` bytes when it would be larger."""
        whole = self._seal_one(header, first_inner, plain, None)
        if max_size is None or len(whole) <= max_size:
            return [whole]
        block = max(self.cipher.cipher.block_size, 1)
        # Room for padded content in one fragment; the padded length is a multiple of the block size.
        limit = max_size - HEADER_SIZE - GENERIC_HEADER_SIZE - FRAGMENT_HEADER_SIZE - self.cipher.cipher.iv_size - self._icv
        room = max((limit // block) * block - 1, 16)
        chunks = [plain[i : i + room] for i in range(0, len(plain), room)]
        total = len(chunks)
        if total > 0xFFFF:
            raise ValueError("message too large to fragment")
        return [
            self._seal_one(header, first_inner if n == 1 else 0, chunk, FragmentHeader(n, total))
            for n, chunk in enumerate(chunks, 1)
        ]

    def open(self, header: Header, msg: bytes) -> Opened:
        """Authenticate and decrypt ``msg`` (exactly ``header.length`` bytes); ParseError on any failure."""
        chain = decode_chain(header.next_payload, msg[HEADER_SIZE:], stop_types=frozenset({PayloadType.SK, PayloadType.SKF}))
        if not chain.payloads or chain.payloads[-1].type not in (PayloadType.SK, PayloadType.SKF) or chain.trailing:
            raise ParseError("message does not end with an Encrypted payload")
        last = chain.payloads[-1]
        start = HEADER_SIZE + chain.spans[-1][0] + GENERIC_HEADER_SIZE
        frag: FragmentHeader | None = None
        if last.type == PayloadType.SKF:
            if len(chain.payloads) != 1:
                raise ParseError("an Encrypted Fragment payload must be the only payload")
            frag = FragmentHeader.decode(msg[start : start + FRAGMENT_HEADER_SIZE])
            start += FRAGMENT_HEADER_SIZE
        spec = self.cipher.cipher
        rest = msg[start:]
        if len(rest) < spec.iv_size + self._icv + 1:
            raise ParseError("Encrypted payload too short")
        iv = rest[: spec.iv_size]
        if spec.aead:
            plain = self.cipher.decrypt(iv, rest[spec.iv_size :], msg[:start])
        else:
            assert self.integrity is not None
            body, icv = msg[: len(msg) - self._icv], msg[len(msg) - self._icv :]
            if not self.integrity.verify(body, icv):
                raise AuthenticationFailed("IKE message integrity check failed")
            plain = self.cipher.decrypt(iv, rest[spec.iv_size : len(rest) - self._icv])
        if not plain:
            raise ParseError("empty Encrypted payload")
        padlen = plain[-1]
        if padlen + 1 > len(plain):
            raise ParseError("Encrypted payload pad length exceeds its content")
        return Opened(chain.next_after, plain[: len(plain) - 1 - padlen], frag)


@dataclass
class Reassembly:
    """Fragments of one message id collected until all have arrived (RFC 7383 §2.6)."""

    total: int
    first_inner: int = 0
    parts: dict[int, bytes] | None = None

    def add(self, opened: Opened) -> bytes | None:
        """Store a verified fragment; return the whole plaintext once complete."""
        frag = opened.fragment
        assert frag is not None
        if self.parts is None:
            self.parts = {}
        if frag.total != self.total:
            if frag.total < self.total:
                return None  # an older, smaller split: ignore
            self.total, self.parts, self.first_inner = frag.total, {}, 0
        self.parts.setdefault(frag.number, opened.plaintext)
        if frag.number == 1:
            self.first_inner = opened.first_inner
        if len(self.parts) == self.total:
            return b"".join(self.parts[n] for n in range(1, self.total + 1))
        return None
