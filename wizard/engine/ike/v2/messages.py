"""IKEv2 payload bodies (RFC 7296 §3.3-3.16, RFC 7383 §2.5): decode raises only ParseError.

The generic payload header and the message header live in :mod:`wizard.engine.ike.payloads` (shared with
IKEv1); these classes encode and decode what follows the generic header.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from wizard.engine.buffer import Reader, Writer
from wizard.engine.errors import ParseError
from wizard.engine.ike.payloads import Payload
from wizard.engine.ike.v2.constants import ATTR_KEY_LENGTH, PayloadType, ProtocolId, TSType

MAX_PROPOSALS = 64
MAX_TRANSFORMS = 64


# --- SA, proposals, transforms (§3.3) --------------------------------------------------------------


@dataclass(frozen=True)
class Transform:
    """One transform; ``key_length`` is the Key Length attribute in bits (variable-length ciphers)."""

    type: int
    id: int
    key_length: int | None = None

    def encode(self, last: bool) -> bytes:
        attrs = b""
        if self.key_length is not None:
            attrs = Writer().u16(0x8000 | ATTR_KEY_LENGTH).u16(self.key_length).getvalue()
        w = Writer().u8(0 if last else 3).u8(0).u16(8 + len(attrs)).u8(self.type).u8(0).u16(self.id)
        return w.write(attrs).getvalue()


@dataclass(frozen=True)
class Proposal:
    number: int
    protocol: int
    spi: bytes
    transforms: tuple[Transform, ...]

    def encode(self, last: bool) -> bytes:
        body = b"".join(t.encode(i == len(self.transforms) - 1) for i, t in enumerate(self.transforms))
        length = 8 + len(self.spi) + len(body)
        w = Writer().u8(0 if last else 2).u8(0).u16(length).u8(self.number).u8(self.protocol)
        return w.u8(len(self.spi)).u8(len(self.transforms)).write(self.spi).write(body).getvalue()

    def of_type(self, kind: int) -> tuple[Transform, ...]:
        return tuple(t for t in self.transforms if t.type == kind)


def _decode_transform(r: Reader) -> tuple[Transform, bool, bool]:
    """(transform, more follow, has unknown attributes)."""
    last = r.u8()
    if last not in (0, 3):
        raise ParseError(f"bad transform substructure marker {last}")
    r.u8()
    length = r.u16()
    if length < 8:
        raise ParseError(f"transform length {length} below 8")
    body = Reader(r.read(length - 4))
    ttype = body.u8()
    body.u8()
    tid = body.u16()
    key_length: int | None = None
    unknown = False
    while not body.eof():
        word = body.u16()
        if word & 0x8000:
            value = body.u16()
            if word & 0x7FFF == ATTR_KEY_LENGTH:
                key_length = value
            else:
                unknown = True
        else:
            body.read(body.u16())
            unknown = True
    return Transform(ttype, tid, key_length), last == 3, unknown


@dataclass(frozen=True)
class SAPayload:
    proposals: tuple[Proposal, ...]
    # Proposals we could not use because a transform carried an attribute we do not understand (§3.3.6).
    skipped: tuple[int, ...] = field(default=(), compare=False)

    def encode(self) -> bytes:
        return b"".join(p.encode(i == len(self.proposals) - 1) for i, p in enumerate(self.proposals))

    @classmethod
    def decode(cls, data: bytes) -> SAPayload:
        r = Reader(data)
        proposals: list[Proposal] = []
        skipped: list[int] = []
        more = True
        while more:
            if len(proposals) + len(skipped) >= MAX_PROPOSALS:
                raise ParseError("too many proposals")
            last = r.u8()
            if last not in (0, 2):
                raise ParseError(f"bad proposal substructure marker {last}")
            more = last == 2
            r.u8()
            length = r.u16()
            if length < 8:
                raise ParseError(f"proposal length {length} below 8")
            p = Reader(r.read(length - 4))
            number, protocol, spi_size, count = p.u8(), p.u8(), p.u8(), p.u8()
            spi = p.read(spi_size)
            if count > MAX_TRANSFORMS:
                raise ParseError("too many transforms")
            transforms: list[Transform] = []
            bad = False
            for i in range(count):
                t, more_t, unknown = _decode_transform(p)
                bad = bad or unknown
                transforms.append(t)
                if more_t != (i < count - 1):
                    raise ParseError("transform count and substructure markers disagree")
            if not p.eof():
                raise ParseError("bytes after the last transform of a proposal")
            if bad:
                skipped.append(number)
            else:
                proposals.append(Proposal(number, protocol, spi, tuple(transforms)))
        if not r.eof():
            raise ParseError("bytes after the last proposal")
        return cls(tuple(proposals), tuple(skipped))


# --- simple payloads ----------------------------------------------------------------------------


@dataclass(frozen=True)
class KEPayload:
    group: int
    data: bytes

    def encode(self) -> bytes:
        return Writer().u16(self.group).u16(0).write(self.data).getvalue()

    @classmethod
    def decode(cls, data: bytes) -> KEPayload:
        r = Reader(data)
        group = r.u16()
        r.u16()
        return cls(group, r.read_rest())


@dataclass(frozen=True)
class IdPayload:
    """IDi/IDr; the encoded body is what the AUTH computation MACs (RestOfInitIDPayload, §2.15)."""

    id_type: int
    data: bytes

    def encode(self) -> bytes:
        return Writer().u8(self.id_type).write(b"\x00\x00\x00").write(self.data).getvalue()

    @classmethod
    def decode(cls, data: bytes) -> IdPayload:
        r = Reader(data)
        id_type = r.u8()
        r.read(3)
        rest = r.read_rest()
        if not rest:
            raise ParseError("empty identification data")
        return cls(id_type, rest)


@dataclass(frozen=True)
class CertPayload:
    encoding: int
    data: bytes

    def encode(self) -> bytes:
        return bytes((self.encoding,)) + self.data

    @classmethod
    def decode(cls, data: bytes) -> CertPayload:
        r = Reader(data)
        return cls(r.u8(), r.read_rest())


@dataclass(frozen=True)
class CertReqPayload:
    """CERTREQ: SHA-1 hashes of the trusted CAs' SubjectPublicKeyInfo (§3.7)."""

    encoding: int
    authorities: tuple[bytes, ...]

    def encode(self) -> bytes:
        return bytes((self.encoding,)) + b"".join(self.authorities)

    @classmethod
    def decode(cls, data: bytes) -> CertReqPayload:
        r = Reader(data)
        encoding = r.u8()
        rest = r.read_rest()
        if len(rest) % 20:
            return cls(encoding, ())  # some peers send a DN or nothing useful: ignore, it is only a hint
        return cls(encoding, tuple(rest[i : i + 20] for i in range(0, len(rest), 20)))


@dataclass(frozen=True)
class AuthPayload:
    method: int
    data: bytes

    def encode(self) -> bytes:
        return Writer().u8(self.method).write(b"\x00\x00\x00").write(self.data).getvalue()

    @classmethod
    def decode(cls, data: bytes) -> AuthPayload:
        r = Reader(data)
        method = r.u8()
        r.read(3)
        rest = r.read_rest()
        if not rest:
            raise ParseError("empty AUTH data")
        return cls(method, rest)


def decode_nonce(data: bytes) -> bytes:
    """§3.9: between 16 and 256 octets."""
    if not 16 <= len(data) <= 256:
        raise ParseError(f"nonce of {len(data)} bytes (must be 16-256)")
    return data


@dataclass(frozen=True)
class NotifyPayload:
    notify_type: int
    data: bytes = b""
    protocol: int = 0
    spi: bytes = b""

    def encode(self) -> bytes:
        w = Writer().u8(self.protocol).u8(len(self.spi)).u16(self.notify_type)
        return w.write(self.spi).write(self.data).getvalue()

    @classmethod
    def decode(cls, data: bytes) -> NotifyPayload:
        r = Reader(data)
        protocol, spi_size, ntype = r.u8(), r.u8(), r.u16()
        spi = r.read(spi_size)
        return cls(ntype, r.read_rest(), protocol, spi)

    def payload(self) -> Payload:
        return Payload(PayloadType.NOTIFY, self.encode())


@dataclass(frozen=True)
class DeletePayload:
    protocol: int
    spis: tuple[bytes, ...] = ()

    def encode(self) -> bytes:
        size = 0 if self.protocol == ProtocolId.IKE else 4
        if any(len(s) != size for s in self.spis):
            raise ValueError("delete SPIs have the wrong size")
        w = Writer().u8(self.protocol).u8(size).u16(len(self.spis))
        return w.write(b"".join(self.spis)).getvalue()

    @classmethod
    def decode(cls, data: bytes) -> DeletePayload:
        r = Reader(data)
        protocol, size, count = r.u8(), r.u8(), r.u16()
        if protocol == ProtocolId.IKE:
            if size != 0 or count != 0:
                raise ParseError("an IKE SA delete carries no SPIs")
        elif size != 4:
            raise ParseError(f"delete of protocol {protocol} with {size}-byte SPIs")
        spis = tuple(r.read(size) for _ in range(count))
        if not r.eof():
            raise ParseError("bytes after the delete SPIs")
        return cls(protocol, spis)


# --- traffic selectors (§3.13) ---------------------------------------------------------------------


@dataclass(frozen=True)
class TSEntry:
    """One traffic selector as on the wire (addresses packed)."""

    ts_type: int
    protocol: int
    start_port: int
    end_port: int
    start: bytes
    end: bytes

    def encode(self) -> bytes:
        w = Writer().u8(self.ts_type).u8(self.protocol).u16(8 + len(self.start) + len(self.end))
        return w.u16(self.start_port).u16(self.end_port).write(self.start).write(self.end).getvalue()


@dataclass(frozen=True)
class TSPayload:
    selectors: tuple[TSEntry, ...]

    def encode(self) -> bytes:
        return Writer().u8(len(self.selectors)).write(b"\x00\x00\x00").write(
            b"".join(s.encode() for s in self.selectors)
        ).getvalue()

    @classmethod
    def decode(cls, data: bytes) -> TSPayload:
        r = Reader(data)
        count = r.u8()
        r.read(3)
        out: list[TSEntry] = []
        for _ in range(count):
            ts_type, protocol, length = r.u8(), r.u8(), r.u16()
            if ts_type == TSType.IPV4_ADDR_RANGE:
                size = 4
            elif ts_type == TSType.IPV6_ADDR_RANGE:
                size = 16
            else:
                raise ParseError(f"unsupported traffic selector type {ts_type}")
            if length != 8 + 2 * size:
                raise ParseError(f"traffic selector length {length} does not fit type {ts_type}")
            sp, ep = r.u16(), r.u16()
            out.append(TSEntry(ts_type, protocol, sp, ep, r.read(size), r.read(size)))
        if not r.eof():
            raise ParseError("bytes after the traffic selectors")
        if not out:
            raise ParseError("a TS payload needs at least one selector")
        return cls(tuple(out))


# --- configuration payload (§3.15) -----------------------------------------------------------------


@dataclass(frozen=True)
class CfgAttribute:
    type: int
    value: bytes = b""

    def encode(self) -> bytes:
        return Writer().u16(self.type & 0x7FFF).u16(len(self.value)).write(self.value).getvalue()


@dataclass(frozen=True)
class CPPayload:
    cfg_type: int
    attributes: tuple[CfgAttribute, ...] = ()

    def encode(self) -> bytes:
        w = Writer().u8(self.cfg_type).write(b"\x00\x00\x00")
        return w.write(b"".join(a.encode() for a in self.attributes)).getvalue()

    @classmethod
    def decode(cls, data: bytes) -> CPPayload:
        r = Reader(data)
        cfg_type = r.u8()
        r.read(3)
        attrs: list[CfgAttribute] = []
        while not r.eof():
            if len(attrs) >= 256:
                raise ParseError("too many configuration attributes")
            t = r.u16() & 0x7FFF
            attrs.append(CfgAttribute(t, r.read(r.u16())))
        return cls(cfg_type, tuple(attrs))


def ip4_value(text: str) -> bytes:
    return ipaddress.IPv4Address(text).packed


def ip6_value(text: str) -> bytes:
    """INTERNAL_IP6_ADDRESS/SUBNET: 16-byte address and a prefix-length byte."""
    net = ipaddress.IPv6Interface(text if "/" in text else text + "/128")
    return net.ip.packed + bytes((net.network.prefixlen,))


# --- fragments (RFC 7383 §2.5) ---------------------------------------------------------------------


@dataclass(frozen=True)
class FragmentHeader:
    number: int
    total: int

    def encode(self) -> bytes:
        return Writer().u16(self.number).u16(self.total).getvalue()

    @classmethod
    def decode(cls, data: bytes) -> FragmentHeader:
        r = Reader(data)
        number, total = r.u16(), r.u16()
        if number == 0 or total == 0 or number > total:
            raise ParseError(f"fragment {number} of {total} is impossible")
        return cls(number, total)


def find(payloads: tuple[Payload, ...] | list[Payload], kind: int) -> list[Payload]:
    return [p for p in payloads if p.type == kind]


def notifies(payloads: tuple[Payload, ...] | list[Payload]) -> list[NotifyPayload]:
    return [NotifyPayload.decode(p.body) for p in payloads if p.type == PayloadType.NOTIFY]
