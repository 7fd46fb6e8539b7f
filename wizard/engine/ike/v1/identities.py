"""Phase 1 identities and Quick Mode traffic selectors, both carried in ID payloads (RFC 2407 §4.6.2)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from cryptography import x509

from wizard.engine.errors import ParseError
from wizard.engine.ike.v1.constants import IdType
from wizard.engine.ike.v1.der import name_to_text
from wizard.engine.ike.v1.messages import IdPayload

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_ID_NAMES: dict[int, str] = {
    IdType.IPV4_ADDR: "IPv4 address",
    IdType.IPV6_ADDR: "IPv6 address",
    IdType.FQDN: "host name",
    IdType.USER_FQDN: "e-mail identity",
    IdType.DER_ASN1_DN: "distinguished name",
    IdType.KEY_ID: "key id",
}


@dataclass(frozen=True)
class Identity:
    """A phase 1 identity: ID type and its data as sent on the wire."""

    id_type: int
    data: bytes

    @classmethod
    def parse(cls, text: str) -> Identity:
        """``10.0.0.1`` / ``2001:db8::1`` / ``user@example.com`` / ``host.example`` / ``C=XX, O=x, CN=y``."""
        text = text.strip()
        try:
            addr = ipaddress.ip_address(text)
        except ValueError:
            pass
        else:
            return cls.from_address(addr)
        if "=" in text:
            return cls.from_dn(text)
        if "@" in text:
            return cls(IdType.USER_FQDN, text.encode())
        return cls(IdType.FQDN, text.encode())

    @classmethod
    def from_address(cls, addr: IPAddress | str) -> Identity:
        addr = ipaddress.ip_address(addr)
        return cls(IdType.IPV4_ADDR if addr.version == 4 else IdType.IPV6_ADDR, addr.packed)

    @classmethod
    def from_dn(cls, text: str) -> Identity:
        """An RFC 4514-ish ``C=XX, O=vmlab, CN=client`` string as DER (most significant first, as written)."""
        parts = [p.strip() for p in text.split(",") if p.strip()]
        oids = {"C": x509.NameOID.COUNTRY_NAME, "O": x509.NameOID.ORGANIZATION_NAME,
                "OU": x509.NameOID.ORGANIZATIONAL_UNIT_NAME, "CN": x509.NameOID.COMMON_NAME,
                "L": x509.NameOID.LOCALITY_NAME, "ST": x509.NameOID.STATE_OR_PROVINCE_NAME,
                "E": x509.NameOID.EMAIL_ADDRESS, "DC": x509.NameOID.DOMAIN_COMPONENT}  # fmt: skip
        attrs = []
        for part in parts:
            key, _, value = part.partition("=")
            oid = oids.get(key.strip().upper())
            if oid is None:
                raise ValueError(f"unknown DN attribute {key!r} in {text!r}")
            attrs.append(x509.NameAttribute(oid, value.strip()))
        return cls(IdType.DER_ASN1_DN, x509.Name(attrs).public_bytes())

    @classmethod
    def from_name(cls, name: x509.Name) -> Identity:
        return cls(IdType.DER_ASN1_DN, name.public_bytes())

    @classmethod
    def from_payload(cls, p: IdPayload) -> Identity:
        return cls(p.id_type, p.data)

    def payload(self) -> IdPayload:
        return IdPayload(self.id_type, self.data)

    def __str__(self) -> str:
        try:
            if self.id_type in (IdType.IPV4_ADDR, IdType.IPV6_ADDR):
                return str(ipaddress.ip_address(self.data))
            if self.id_type in (IdType.FQDN, IdType.USER_FQDN, IdType.KEY_ID):
                return self.data.decode("utf-8", "replace")
            if self.id_type == IdType.DER_ASN1_DN:
                return name_to_text(self.data)
        except (ValueError, ParseError):
            pass
        return f"{_ID_NAMES.get(self.id_type, f'ID type {self.id_type}')} {self.data.hex()}"

    def describe(self) -> str:
        return f"{_ID_NAMES.get(self.id_type, f'ID type {self.id_type}')} {self}"


@dataclass(frozen=True)
class TrafficSelector:
    """An address range plus IP protocol and port (0 = any), as a Quick Mode ID payload carries it."""

    start: IPAddress
    end: IPAddress
    protocol: int = 0
    port: int = 0

    def __post_init__(self) -> None:
        if self.start.version != self.end.version or int(self.start) > int(self.end):
            raise ValueError(f"bad traffic selector range {self.start}-{self.end}")

    @classmethod
    def host(cls, addr: IPAddress | str, protocol: int = 0, port: int = 0) -> TrafficSelector:
        a = ipaddress.ip_address(addr)
        return cls(a, a, protocol, port)

    @classmethod
    def network(cls, net: str, protocol: int = 0, port: int = 0) -> TrafficSelector:
        n = ipaddress.ip_network(net, strict=False)
        return cls(n.network_address, n.broadcast_address, protocol, port)

    @property
    def version(self) -> int:
        return self.start.version

    def contains(self, other: TrafficSelector) -> bool:
        return (
            self.version == other.version
            and int(self.start) <= int(other.start)
            and int(other.end) <= int(self.end)
            and self.protocol in (0, other.protocol)
            and self.port in (0, other.port)
        )

    def _prefix(self) -> int | None:
        size = int(self.end) - int(self.start) + 1
        if size & (size - 1) or int(self.start) % size:
            return None
        return self.start.max_prefixlen - (size.bit_length() - 1)

    def to_payload(self) -> IdPayload:
        v4 = self.version == 4
        if self.start == self.end:
            return IdPayload(IdType.IPV4_ADDR if v4 else IdType.IPV6_ADDR, self.start.packed, self.protocol, self.port)
        prefix = self._prefix()
        if prefix is not None:
            mask = ipaddress.ip_network(f"{self.start}/{prefix}").netmask.packed
            kind = IdType.IPV4_ADDR_SUBNET if v4 else IdType.IPV6_ADDR_SUBNET
            return IdPayload(kind, self.start.packed + mask, self.protocol, self.port)
        kind = IdType.IPV4_ADDR_RANGE if v4 else IdType.IPV6_ADDR_RANGE
        return IdPayload(kind, self.start.packed + self.end.packed, self.protocol, self.port)

    @classmethod
    def from_payload(cls, p: IdPayload) -> TrafficSelector:
        """Raises ParseError for identity types that are not addresses."""
        d = p.data
        sizes: dict[int, int] = {IdType.IPV4_ADDR: 4, IdType.IPV4_ADDR_SUBNET: 8, IdType.IPV4_ADDR_RANGE: 8,
                IdType.IPV6_ADDR: 16, IdType.IPV6_ADDR_SUBNET: 32, IdType.IPV6_ADDR_RANGE: 32}  # fmt: skip
        size = sizes.get(p.id_type)
        if size is None:
            raise ParseError(f"ID type {p.id_type} is not a traffic selector")
        if len(d) != size:
            raise ParseError(f"ID type {p.id_type} needs {size} bytes, got {len(d)}")
        if p.id_type in (IdType.IPV4_ADDR, IdType.IPV6_ADDR):
            a = ipaddress.ip_address(d)
            return cls(a, a, p.protocol, p.port)
        half = size // 2
        first, second = ipaddress.ip_address(d[:half]), ipaddress.ip_address(d[half:])
        if p.id_type in (IdType.IPV4_ADDR_RANGE, IdType.IPV6_ADDR_RANGE):
            if int(first) > int(second):
                raise ParseError("traffic selector range ends before it starts")
            return cls(first, second, p.protocol, p.port)
        mask = int(second)
        bits = second.max_prefixlen
        inverted = ~mask & ((1 << bits) - 1)
        if inverted & (inverted + 1):
            raise ParseError("subnet mask is not contiguous")
        base = int(first) & mask
        return cls(ipaddress.ip_address(base) if bits == 32 else ipaddress.IPv6Address(base),
                   ipaddress.ip_address(base | inverted) if bits == 32 else ipaddress.IPv6Address(base | inverted),
                   p.protocol, p.port)  # fmt: skip

    def __str__(self) -> str:
        if self.start == self.end:
            text = str(self.start)
        elif (prefix := self._prefix()) is not None:
            text = f"{self.start}/{prefix}"
        else:
            text = f"{self.start}-{self.end}"
        if self.protocol:
            text += f"[{self.protocol}/{self.port or 'any'}]"
        return text
