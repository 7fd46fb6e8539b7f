"""IKEv1 payload bodies (RFC 2408 §3.4-3.15, RFC 2407 §4.6, RFC 3947, draft-dukes-ike-mode-cfg).

Each class decodes from a payload body (the bytes after the generic header) and encodes back to one.
Every decoder reads through :class:`~wizard.engine.buffer.Reader`, so malformed input raises only
:class:`~wizard.engine.errors.ParseError`.
"""

from __future__ import annotations

from dataclasses import dataclass

from wizard.engine.buffer import Reader, Writer
from wizard.engine.errors import ParseError
from wizard.engine.ike.payloads import (
    Attribute,
    Payload,
    decode_attributes,
    decode_chain,
    encode_attributes,
    encode_chain,
)
from wizard.engine.ike.v1.constants import DOI_IPSEC, SIT_IDENTITY_ONLY, PayloadType


@dataclass(frozen=True)
class Transform:
    """A transform: an id (KEY_IKE in phase 1, the ESP cipher in phase 2) and its SA attributes."""

    number: int
    transform_id: int
    attributes: tuple[Attribute, ...] = ()

    def get(self, attr_type: int) -> int | None:
        for a in self.attributes:
            if a.type == attr_type:
                return a.int_value
        return None

    def encode(self) -> bytes:
        return Writer().u8(self.number).u8(self.transform_id).u16(0).write(encode_attributes(self.attributes)).getvalue()

    @classmethod
    def decode(cls, body: bytes) -> Transform:
        r = Reader(body)
        number, tid = r.u8(), r.u8()
        r.u16()
        return cls(number, tid, tuple(decode_attributes(r.read_rest())))


@dataclass(frozen=True)
class Proposal:
    """A proposal: protocol, the sender's SPI (empty in phase 1) and alternative transforms."""

    number: int
    protocol: int
    spi: bytes
    transforms: tuple[Transform, ...]

    def encode(self) -> bytes:
        if len(self.transforms) > 255:
            raise ValueError("too many transforms")
        w = Writer().u8(self.number).u8(self.protocol).u8(len(self.spi)).u8(len(self.transforms)).write(self.spi)
        _, chain = encode_chain([Payload(PayloadType.TRANSFORM, t.encode()) for t in self.transforms])
        return w.write(chain).getvalue()

    @classmethod
    def decode(cls, body: bytes) -> Proposal:
        r = Reader(body)
        number, protocol, spi_size, count = r.u8(), r.u8(), r.u8(), r.u8()
        spi = r.read(spi_size)
        rest = r.read_rest()
        transforms: list[Transform] = []
        if count:
            chain = decode_chain(PayloadType.TRANSFORM, rest)
            for p in chain.payloads:
                if p.type != PayloadType.TRANSFORM:
                    raise ParseError(f"payload type {p.type} inside a proposal")
                transforms.append(Transform.decode(p.body))
        elif rest:
            raise ParseError("proposal with no transforms has trailing data")
        if len(transforms) != count:
            raise ParseError(f"proposal says {count} transforms but holds {len(transforms)}")
        return cls(number, protocol, spi, tuple(transforms))


@dataclass(frozen=True)
class SAPayload:
    """Security Association payload (RFC 2408 §3.4, RFC 2407 §4.6.1)."""

    proposals: tuple[Proposal, ...]
    doi: int = DOI_IPSEC
    situation: int = SIT_IDENTITY_ONLY

    def encode(self) -> bytes:
        w = Writer().u32(self.doi).u32(self.situation)
        _, chain = encode_chain([Payload(PayloadType.PROPOSAL, p.encode()) for p in self.proposals])
        return w.write(chain).getvalue()

    @classmethod
    def decode(cls, body: bytes) -> SAPayload:
        r = Reader(body)
        doi, situation = r.u32(), r.u32()
        if doi != DOI_IPSEC:
            raise ParseError(f"SA payload for DOI {doi}, not IPsec")
        if situation & ~0x7:
            raise ParseError(f"unknown situation {situation:#x}")
        chain = decode_chain(PayloadType.PROPOSAL, r.read_rest())
        proposals = []
        for p in chain.payloads:
            if p.type != PayloadType.PROPOSAL:
                raise ParseError(f"payload type {p.type} inside an SA payload")
            proposals.append(Proposal.decode(p.body))
        if not proposals:
            raise ParseError("SA payload without proposals")
        return cls(tuple(proposals), doi, situation)


@dataclass(frozen=True)
class IdPayload:
    """Identification payload (RFC 2407 §4.6.2): type, protocol, port and the identity data."""

    id_type: int
    data: bytes
    protocol: int = 0
    port: int = 0

    def encode(self) -> bytes:
        return Writer().u8(self.id_type).u8(self.protocol).u16(self.port).write(self.data).getvalue()

    @classmethod
    def decode(cls, body: bytes) -> IdPayload:
        r = Reader(body)
        id_type, protocol, port = r.u8(), r.u8(), r.u16()
        return cls(id_type, r.read_rest(), protocol, port)


@dataclass(frozen=True)
class CertPayload:
    """Certificate (RFC 2408 §3.9) or certificate request (§3.10, ``data`` = CA DN) payload."""

    encoding: int
    data: bytes

    def encode(self) -> bytes:
        return bytes([self.encoding]) + self.data

    @classmethod
    def decode(cls, body: bytes) -> CertPayload:
        r = Reader(body)
        return cls(r.u8(), r.read_rest())


@dataclass(frozen=True)
class NotifyPayload:
    """Notification payload (RFC 2408 §3.14)."""

    notify_type: int
    protocol: int = 1
    spi: bytes = b""
    data: bytes = b""
    doi: int = DOI_IPSEC

    def encode(self) -> bytes:
        w = Writer().u32(self.doi).u8(self.protocol).u8(len(self.spi)).u16(self.notify_type)
        return w.write(self.spi).write(self.data).getvalue()

    @classmethod
    def decode(cls, body: bytes) -> NotifyPayload:
        r = Reader(body)
        doi, protocol, spi_size, notify_type = r.u32(), r.u8(), r.u8(), r.u16()
        spi = r.read(spi_size)
        return cls(notify_type, protocol, spi, r.read_rest(), doi)


@dataclass(frozen=True)
class DeletePayload:
    """Delete payload (RFC 2408 §3.15); ISAKMP SAs are named by 16-byte cookie pairs."""

    protocol: int
    spis: tuple[bytes, ...]
    doi: int = DOI_IPSEC

    def encode(self) -> bytes:
        size = len(self.spis[0]) if self.spis else 0
        if any(len(s) != size for s in self.spis):
            raise ValueError("all SPIs in a delete payload have one size")
        w = Writer().u32(self.doi).u8(self.protocol).u8(size).u16(len(self.spis))
        for s in self.spis:
            w.write(s)
        return w.getvalue()

    @classmethod
    def decode(cls, body: bytes) -> DeletePayload:
        r = Reader(body)
        doi, protocol, size, count = r.u32(), r.u8(), r.u8(), r.u16()
        spis = tuple(r.read(size) for _ in range(count))
        if not r.eof():
            raise ParseError("trailing bytes in delete payload")
        return cls(protocol, spis, doi)


@dataclass(frozen=True)
class AttributePayload:
    """Mode config / XAUTH attribute payload (draft-dukes-ike-mode-cfg §3.2)."""

    cfg_type: int
    identifier: int
    attributes: tuple[Attribute, ...]

    def get(self, attr_type: int) -> Attribute | None:
        for a in self.attributes:
            if a.type == attr_type:
                return a
        return None

    def all(self, attr_type: int) -> list[Attribute]:
        return [a for a in self.attributes if a.type == attr_type]

    def encode(self) -> bytes:
        w = Writer().u8(self.cfg_type).u8(0).u16(self.identifier)
        return w.write(encode_attributes(self.attributes)).getvalue()

    @classmethod
    def decode(cls, body: bytes) -> AttributePayload:
        r = Reader(body)
        cfg_type = r.u8()
        r.u8()
        identifier = r.u16()
        return cls(cfg_type, identifier, tuple(decode_attributes(r.read_rest())))
