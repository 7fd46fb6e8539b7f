"""Mode Config (draft-dukes-ike-mode-cfg-02): the client pulls a virtual address and DNS servers.

Pull: client REQUEST (empty attributes naming what it wants) -> gateway REPLY (values). Push: gateway
SET -> client ACK. Both run as transaction exchanges (type 6) protected by HASH = prf(SKEYID_a, M-ID | ATTR).
"""

from __future__ import annotations

import contextlib
import ipaddress

from wizard.engine.errors import ParseError
from wizard.engine.ike.payloads import Attribute
from wizard.engine.ike.v1.config import ModeConfigLease
from wizard.engine.ike.v1.constants import CfgAttr, CfgType
from wizard.engine.ike.v1.events import ModeConfigReceived
from wizard.engine.ike.v1.messages import AttributePayload

REQUESTED = (
    CfgAttr.INTERNAL_IP4_ADDRESS,
    CfgAttr.INTERNAL_IP4_NETMASK,
    CfgAttr.INTERNAL_IP4_DNS,
)


def request(identifier: int) -> AttributePayload:
    return AttributePayload(CfgType.REQUEST, identifier, tuple(Attribute.tlv(t, b"") for t in REQUESTED))


def _ip4(value: bytes) -> str | None:
    if len(value) != 4:
        return None
    return str(ipaddress.IPv4Address(value))


def parse(payload: AttributePayload) -> ModeConfigReceived:
    """Values from a REPLY or SET; malformed single attributes are skipped, not fatal."""
    address = netmask = domain = banner = address6 = None
    dns: list[str] = []
    nbns: list[str] = []
    dns6: list[str] = []
    split: list[str] = []
    for a in payload.attributes:
        v = a.value
        if a.type == CfgAttr.INTERNAL_IP4_ADDRESS and address is None:
            address = _ip4(v)
        elif a.type == CfgAttr.INTERNAL_IP4_NETMASK:
            netmask = _ip4(v)
        elif a.type == CfgAttr.INTERNAL_IP4_DNS and (x := _ip4(v)):
            dns.append(x)
        elif a.type == CfgAttr.INTERNAL_IP4_NBNS and (x := _ip4(v)):
            nbns.append(x)
        elif a.type == CfgAttr.INTERNAL_IP6_ADDRESS and len(v) in (16, 17):
            address6 = str(ipaddress.IPv6Address(v[:16]))
        elif a.type == CfgAttr.INTERNAL_IP6_DNS and len(v) == 16:
            dns6.append(str(ipaddress.IPv6Address(v)))
        elif a.type == CfgAttr.INTERNAL_IP4_SUBNET and len(v) == 8:
            with contextlib.suppress(ValueError):
                split.append(str(ipaddress.IPv4Network(f"{_ip4(v[:4])}/{_ip4(v[4:])}", strict=False)))
        elif a.type == CfgAttr.UNITY_DEF_DOMAIN and v:
            domain = v.decode("utf-8", "replace")
        elif a.type == CfgAttr.UNITY_BANNER and v:
            banner = v.decode("utf-8", "replace")
    return ModeConfigReceived(address, netmask, tuple(dns), tuple(nbns), domain, tuple(split), banner, address6, tuple(dns6))


def reply(request_payload: AttributePayload, lease: ModeConfigLease) -> AttributePayload:
    attrs = [Attribute.tlv(CfgAttr.INTERNAL_IP4_ADDRESS, ipaddress.IPv4Address(lease.address).packed)]
    if lease.netmask:
        attrs.append(Attribute.tlv(CfgAttr.INTERNAL_IP4_NETMASK, ipaddress.IPv4Address(lease.netmask).packed))
    attrs += [Attribute.tlv(CfgAttr.INTERNAL_IP4_DNS, ipaddress.IPv4Address(d).packed) for d in lease.dns]
    for net in lease.split_include:
        n = ipaddress.IPv4Network(net, strict=False)
        attrs.append(Attribute.tlv(CfgAttr.INTERNAL_IP4_SUBNET, n.network_address.packed + n.netmask.packed))
    if lease.domain:
        attrs.append(Attribute.tlv(CfgAttr.UNITY_DEF_DOMAIN, lease.domain.encode()))
    if lease.banner:
        attrs.append(Attribute.tlv(CfgAttr.UNITY_BANNER, lease.banner.encode()))
    return AttributePayload(CfgType.REPLY, request_payload.identifier, tuple(attrs))


def ack(set_payload: AttributePayload) -> AttributePayload:
    """Acknowledge a SET by naming the attribute types we accepted (values empty)."""
    seen: list[int] = []
    for a in set_payload.attributes:
        if a.type not in seen:
            seen.append(a.type)
    return AttributePayload(CfgType.ACK, set_payload.identifier, tuple(Attribute.tlv(t, b"") for t in seen))


def check_reply(payload: AttributePayload) -> ModeConfigReceived:
    info = parse(payload)
    if info.address is None and info.address6 is None:
        raise ParseError("the Mode Config reply holds no address")
    return info
