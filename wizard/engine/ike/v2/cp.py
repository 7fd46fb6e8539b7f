"""The configuration payload (RFC 7296 §3.15): the client's CFG_REQUEST, the gateway's CFG_REPLY."""

from __future__ import annotations

import contextlib
import ipaddress

from wizard.engine.ike.v2.config import AddressLease
from wizard.engine.ike.v2.constants import CfgAttr, CfgType
from wizard.engine.ike.v2.events import ConfigReceived
from wizard.engine.ike.v2.messages import CfgAttribute, CPPayload, ip4_value, ip6_value


def request(ipv6: bool) -> CPPayload:
    wanted = [CfgAttr.INTERNAL_IP4_ADDRESS, CfgAttr.INTERNAL_IP4_DNS]
    if ipv6:
        wanted += [CfgAttr.INTERNAL_IP6_ADDRESS, CfgAttr.INTERNAL_IP6_DNS]
    return CPPayload(CfgType.REQUEST, tuple(CfgAttribute(t) for t in wanted))


def _ip4(v: bytes) -> str | None:
    return str(ipaddress.IPv4Address(v)) if len(v) == 4 else None


def parse_reply(cp: CPPayload) -> ConfigReceived:
    """Values from a CFG_REPLY; a malformed single attribute is skipped, not fatal."""
    address = netmask = address6 = domain = None
    dns: list[str] = []
    nbns: list[str] = []
    dns6: list[str] = []
    split: list[str] = []
    for a in cp.attributes:
        v = a.value
        if a.type == CfgAttr.INTERNAL_IP4_ADDRESS and address is None:
            address = _ip4(v)
        elif a.type == CfgAttr.INTERNAL_IP4_NETMASK:
            netmask = _ip4(v)
        elif a.type == CfgAttr.INTERNAL_IP4_DNS and (x := _ip4(v)):
            dns.append(x)
        elif a.type == CfgAttr.INTERNAL_IP4_NBNS and (x := _ip4(v)):
            nbns.append(x)
        elif a.type == CfgAttr.INTERNAL_IP6_ADDRESS and len(v) == 17 and address6 is None:
            address6 = f"{ipaddress.IPv6Address(v[:16])}/{min(v[16], 128)}"
        elif a.type == CfgAttr.INTERNAL_IP6_DNS and len(v) == 16:
            dns6.append(str(ipaddress.IPv6Address(v)))
        elif a.type == CfgAttr.INTERNAL_IP4_SUBNET and len(v) == 8:
            with contextlib.suppress(ValueError):
                split.append(str(ipaddress.IPv4Network(f"{_ip4(v[:4])}/{_ip4(v[4:])}", strict=False)))
        elif a.type == CfgAttr.INTERNAL_IP6_SUBNET and len(v) == 17:
            with contextlib.suppress(ValueError):
                split.append(str(ipaddress.IPv6Network(f"{ipaddress.IPv6Address(v[:16])}/{v[16]}", strict=False)))
        elif a.type == CfgAttr.INTERNAL_DNS_DOMAIN and v:
            domain = v.decode("utf-8", "replace")
    return ConfigReceived(address, netmask, tuple(dns), tuple(nbns), domain, tuple(split), None, address6, tuple(dns6))


def reply(lease: AddressLease, requested: CPPayload) -> CPPayload:
    """Answer only the address families the client asked for; DNS and subnets always go along."""
    asked = {a.type for a in requested.attributes}
    attrs: list[CfgAttribute] = []
    if lease.address and (CfgAttr.INTERNAL_IP4_ADDRESS in asked or not asked):
        attrs.append(CfgAttribute(CfgAttr.INTERNAL_IP4_ADDRESS, ip4_value(lease.address)))
        if lease.netmask:
            attrs.append(CfgAttribute(CfgAttr.INTERNAL_IP4_NETMASK, ip4_value(lease.netmask)))
    if lease.address6 and (CfgAttr.INTERNAL_IP6_ADDRESS in asked or not asked):
        attrs.append(CfgAttribute(CfgAttr.INTERNAL_IP6_ADDRESS, ip6_value(lease.address6)))
    for d in lease.dns:
        attrs.append(CfgAttribute(CfgAttr.INTERNAL_IP4_DNS, ip4_value(d)))
    for d in lease.dns6:
        attrs.append(CfgAttribute(CfgAttr.INTERNAL_IP6_DNS, ipaddress.IPv6Address(d).packed))
    for net in lease.subnets:
        n = ipaddress.ip_network(net, strict=False)
        if n.version == 4:
            attrs.append(CfgAttribute(CfgAttr.INTERNAL_IP4_SUBNET, n.network_address.packed + n.netmask.packed))
        else:
            attrs.append(CfgAttribute(CfgAttr.INTERNAL_IP6_SUBNET, n.network_address.packed + bytes((n.prefixlen,))))
    if lease.domain:
        attrs.append(CfgAttribute(CfgAttr.INTERNAL_DNS_DOMAIN, lease.domain.encode()))
    return CPPayload(CfgType.REPLY, tuple(attrs))
