"""A minimal DER reader for X.501 Names, so ID_DER_ASN1_DN identities can be shown and compared.

``cryptography`` builds Names but cannot parse one outside a certificate. Only the structure
SEQUENCE OF SET OF SEQUENCE {OID, string} is read; anything else raises ParseError.
"""

from __future__ import annotations

from wizard.engine.buffer import Reader
from wizard.engine.errors import ParseError

_SHORT = {
    "2.5.4.3": "CN",
    "2.5.4.6": "C",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "1.2.840.113549.1.9.1": "E",
    "0.9.2342.19200300.100.1.25": "DC",
}


def _tlv(r: Reader) -> tuple[int, bytes]:
    tag = r.u8()
    first = r.u8()
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 3:
            raise ParseError("unsupported DER length")
        length = int.from_bytes(r.read(count), "big")
    return tag, r.read(length)


def _oid(data: bytes) -> str:
    if not data:
        raise ParseError("empty OID")
    parts = [min(data[0] // 40, 2), data[0] - 40 * min(data[0] // 40, 2)]
    value = 0
    for b in data[1:]:
        value = value << 7 | (b & 0x7F)
        if not b & 0x80:
            parts.append(value)
            value = 0
    return ".".join(map(str, parts))


def name_attributes(der: bytes) -> list[tuple[str, str]]:
    """[(short name or dotted OID, value)] in encoded order."""
    r = Reader(der)
    tag, body = _tlv(r)
    if tag != 0x30 or not r.eof():
        raise ParseError("a DN is one DER SEQUENCE")
    out: list[tuple[str, str]] = []
    seq = Reader(body)
    while not seq.eof():
        tag, rdn = _tlv(seq)
        if tag != 0x31:
            raise ParseError("a DN holds SETs")
        inner = Reader(rdn)
        while not inner.eof():
            tag, atv = _tlv(inner)
            if tag != 0x30:
                raise ParseError("an RDN holds SEQUENCEs")
            a = Reader(atv)
            tag, oid = _tlv(a)
            if tag != 0x06:
                raise ParseError("attribute type is not an OID")
            _, value = _tlv(a)
            name = _oid(oid)
            out.append((_SHORT.get(name, name), value.decode("utf-8", "replace")))
    return out


def name_to_text(der: bytes) -> str:
    return ", ".join(f"{k}={v}" for k, v in name_attributes(der))
