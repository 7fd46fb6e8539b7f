"""AVP codec (RFC 2661 section 4.1) with AVP hiding (section 4.3).

::

    |M|H| rsvd  |      Length       |           Vendor ID           |
    |         Attribute Type        |        Attribute Value...

An :class:`AVP` always holds the plain value; ``hidden`` says whether it is (or will be) hidden on
the wire. Hiding XORs the "original length + value + padding" subformat with an MD5 key stream
seeded by the attribute type, the tunnel secret and the most recent Random Vector AVP.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from wizard.engine.buffer import Reader, Writer
from wizard.engine.errors import ParseError
from wizard.engine.l2tp.constants import KNOWN_AVP_TYPES, NEVER_HIDDEN, AVPType

M_BIT = 0x8000
H_BIT = 0x4000
RESERVED_BITS = 0x3C00
LENGTH_MASK = 0x03FF
AVP_HEADER_LEN = 6
MAX_AVP_LEN = LENGTH_MASK


class HiddenAVPError(ParseError):
    """A hidden AVP could not be revealed: no secret, or (almost surely) the wrong secret."""


@dataclass(frozen=True)
class AVP:
    """One attribute-value pair; ``value`` is the plain (revealed) value."""

    attr_type: int
    value: bytes
    mandatory: bool = False
    hidden: bool = False
    vendor_id: int = 0
    #: The four reserved flag bits; non-zero makes the AVP "unrecognized" (section 4.1).
    reserved: int = 0

    @property
    def is_known(self) -> bool:
        """True for IETF AVPs this implementation understands (section 4.2's M-bit rule)."""
        return self.vendor_id == 0 and self.reserved == 0 and self.attr_type in KNOWN_AVP_TYPES


def _key_stream_xor(data: bytes, attr_type: int, secret: bytes, vector: bytes, *, reveal: bool) -> bytes:
    """Section 4.3: b1 = MD5(type + S + RV), b(i) = MD5(S + c(i-1)); c(i) = p(i) xor b(i)."""
    out = bytearray()
    seed = attr_type.to_bytes(2, "big") + secret + vector
    for start in range(0, len(data), 16):
        block = data[start : start + 16]
        key = hashlib.md5(seed, usedforsecurity=False).digest()
        mixed = bytes(a ^ b for a, b in zip(block, key, strict=False))
        out += mixed
        cipher_block = block if reveal else mixed
        seed = secret + cipher_block
    return bytes(out)


def hide_value(attr_type: int, value: bytes, secret: bytes, vector: bytes, padding: bytes = b"") -> bytes:
    """Return the hidden form of ``value`` (section 4.3)."""
    plain = Writer().u16(len(value)).write(value).write(padding).getvalue()
    return _key_stream_xor(plain, attr_type, secret, vector, reveal=False)


def reveal_value(attr_type: int, hidden: bytes, secret: bytes, vector: bytes) -> bytes:
    """Undo :func:`hide_value`; a length that does not fit means the secret is wrong."""
    if len(hidden) < 2:
        raise HiddenAVPError("hidden AVP too short for its original length field")
    plain = _key_stream_xor(hidden, attr_type, secret, vector, reveal=True)
    original_length = int.from_bytes(plain[:2], "big")
    if original_length > len(plain) - 2:
        raise HiddenAVPError("hidden AVP did not decode (the tunnel secret probably does not match)")
    return plain[2 : 2 + original_length]


def _decode_raw(data: bytes) -> list[tuple[int, int, int, bytes]]:
    """Split into (flags, vendor, type, raw value) tuples."""
    r = Reader(data)
    out: list[tuple[int, int, int, bytes]] = []
    while not r.eof():
        flags_len = r.u16()
        length = flags_len & LENGTH_MASK
        if length < AVP_HEADER_LEN:
            raise ParseError(f"AVP length {length} is shorter than its header")
        vendor = r.u16()
        attr = r.u16()
        value = r.read(length - AVP_HEADER_LEN)
        out.append((flags_len, vendor, attr, value))
    return out


def decode_avps(data: bytes, secret: bytes | None = None) -> list[AVP]:
    """Decode a message body into AVPs, revealing hidden ones with ``secret``.

    Random Vector AVPs stay in the list (so a message re-encodes to the same bytes). Raises
    :class:`HiddenAVPError` (a ParseError) when a hidden AVP cannot be revealed.
    """
    avps: list[AVP] = []
    vector: bytes | None = None
    for flags_len, vendor, attr, raw in _decode_raw(data):
        hidden = bool(flags_len & H_BIT)
        value = raw
        if hidden:
            if vendor == 0 and attr in NEVER_HIDDEN:
                raise ParseError(f"AVP {attr} must not be hidden")
            if secret is None:
                raise HiddenAVPError("the peer sent a hidden AVP but no tunnel secret is configured")
            if vector is None:
                raise HiddenAVPError("hidden AVP without a preceding Random Vector AVP")
            value = reveal_value(attr, raw, secret, vector)
        if vendor == 0 and attr == AVPType.RANDOM_VECTOR:
            vector = raw
        avps.append(
            AVP(
                attr,
                value,
                mandatory=bool(flags_len & M_BIT),
                hidden=hidden,
                vendor_id=vendor,
                reserved=(flags_len & RESERVED_BITS) >> 10,
            )
        )
    return avps


def _encode_one(avp: AVP, value: bytes) -> bytes:
    length = AVP_HEADER_LEN + len(value)
    if length > MAX_AVP_LEN:
        raise ValueError(f"AVP {avp.attr_type} of {length} bytes does not fit the 10-bit length field")
    if not 0 <= avp.reserved <= 0xF:
        raise ValueError("reserved AVP bits out of range")
    flags = length | (M_BIT if avp.mandatory else 0) | (H_BIT if avp.hidden else 0) | (avp.reserved << 10)
    return Writer().u16(flags).u16(avp.vendor_id).u16(avp.attr_type).write(value).getvalue()


def encode_avps(
    avps: Iterable[AVP],
    secret: bytes | None = None,
    random_bytes: Callable[[int], bytes] | None = None,
) -> bytes:
    """Encode AVPs; hidden ones need ``secret`` and a Random Vector before them.

    If a hidden AVP is not preceded by a Random Vector AVP, one is made with ``random_bytes`` and
    inserted just before it (the Message Type AVP stays first, as section 4.4.1 requires).
    """
    parts: list[bytes] = []
    vector: bytes | None = None
    for avp in avps:
        if avp.vendor_id == 0 and avp.attr_type == AVPType.RANDOM_VECTOR:
            vector = avp.value
        if not avp.hidden:
            parts.append(_encode_one(avp, avp.value))
            continue
        if secret is None:
            raise ValueError("hiding an AVP needs the tunnel secret")
        if avp.vendor_id == 0 and avp.attr_type in NEVER_HIDDEN:
            raise ValueError(f"AVP {avp.attr_type} must not be hidden")
        if vector is None:
            if random_bytes is None:
                raise ValueError("hiding an AVP needs a Random Vector or a random source")
            vector = random_bytes(16)
            parts.append(_encode_one(random_vector_avp(vector), vector))
        parts.append(_encode_one(avp, hide_value(avp.attr_type, avp.value, secret, vector)))
    return b"".join(parts)


def random_vector_avp(vector: bytes) -> AVP:
    return AVP(AVPType.RANDOM_VECTOR, vector, mandatory=True)


# --- typed values ------------------------------------------------------------------------------


def _uint(value: bytes, size: int, what: str) -> int:
    if len(value) != size:
        raise ParseError(f"{what} must be {size} bytes, got {len(value)}")
    return int.from_bytes(value, "big")


def u16_value(value: bytes, what: str = "AVP") -> int:
    return _uint(value, 2, what)


def u32_value(value: bytes, what: str = "AVP") -> int:
    return _uint(value, 4, what)


def u64_value(value: bytes, what: str = "AVP") -> int:
    return _uint(value, 8, what)


def text_value(value: bytes) -> str:
    """Host names, vendor names and error messages: bytes from the peer, decoded for display."""
    return value.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class ResultCode:
    """Result Code AVP value (section 4.4.2): result, optional error code and message."""

    result: int
    error: int | None = None
    message: str = ""

    def encode(self) -> bytes:
        w = Writer().u16(self.result)
        if self.error is not None or self.message:
            w.u16(self.error or 0).write(self.message.encode("utf-8"))
        return w.getvalue()

    @classmethod
    def decode(cls, value: bytes) -> ResultCode:
        r = Reader(value)
        result = r.u16()
        if r.eof():
            return cls(result)
        if r.remaining < 2:
            raise ParseError("Result Code AVP with a truncated error code")
        error = r.u16()
        return cls(result, error, text_value(r.read_rest()))


@dataclass(frozen=True)
class Q931Cause:
    """Q.931 Cause Code AVP value (section 4.4.10), sent in a CDN."""

    cause_code: int
    cause_msg: int
    advisory: str = ""

    def encode(self) -> bytes:
        return Writer().u16(self.cause_code).u8(self.cause_msg).write(self.advisory.encode()).getvalue()

    @classmethod
    def decode(cls, value: bytes) -> Q931Cause:
        r = Reader(value)
        return cls(r.u16(), r.u8(), text_value(r.read_rest()))


@dataclass(frozen=True)
class ProtocolVersion:
    """Protocol Version AVP value (section 4.4.3): L2TPv2 sends version 1, revision 0."""

    version: int = 1
    revision: int = 0

    def encode(self) -> bytes:
        return bytes((self.version, self.revision))

    @classmethod
    def decode(cls, value: bytes) -> ProtocolVersion:
        if len(value) != 2:
            raise ParseError(f"Protocol Version AVP must be 2 bytes, got {len(value)}")
        return cls(value[0], value[1])


def find(avps: Sequence[AVP], attr_type: int) -> AVP | None:
    """The first IETF AVP of a type, or None."""
    for avp in avps:
        if avp.vendor_id == 0 and avp.attr_type == attr_type:
            return avp
    return None
