"""The kill switch: an nftables table of our own that drops everything but the VPN.

One table, ``inet connection_wizard`` (IPv4 and IPv6 in one family), with base chains on the input,
output and forward hooks whose policy is *drop*. Allowed: loopback, the tunnel interfaces, the
gateways' addresses for the VPN's own protocols and ports, the link-local basics a host needs to
keep its address (IPv6 neighbour discovery, DHCP), and optionally the local LAN. The whole table is
replaced in one ``nft -f`` transaction, so there is never a moment without it while it is wanted
(also not while reconnecting, when no tunnel interface exists yet); it is deleted only when the
last session that asked for it ends on purpose. A crashed helper leaves it in place (fail-closed);
the journal lets the next helper remove it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from wizard.net.errors import NetError

TABLE_FAMILY = "inet"
TABLE_NAME = "connection_wizard"
PRIORITY = -10  # before the usual filter tables (priority 0), so they cannot accept what we drop

LAN_V4 = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "224.0.0.0/4", "255.255.255.255/32")
LAN_V6 = ("fe80::/10", "fc00::/7", "ff00::/8")
_IFNAME = re.compile(r"[A-Za-z0-9_.:@-]{1,15}")
_PROTOCOLS = ("udp", "tcp", "esp", "ah", "gre")


class KillSwitchError(NetError):
    """nftables refused our table; the connection must not go ahead unprotected."""


@dataclass(frozen=True)
class Service:
    """A protocol (and port for udp/tcp) the VPN itself uses to reach its gateway."""

    protocol: str  # udp, tcp, esp, ah, gre
    port: int | None = None

    def __post_init__(self) -> None:
        if self.protocol not in _PROTOCOLS:
            raise ValueError(f"unknown protocol {self.protocol!r}")
        if (self.protocol in ("udp", "tcp")) != (self.port is not None):
            raise ValueError("udp and tcp need a port; esp, ah and gre have none")
        if self.port is not None and not 0 < self.port < 65536:
            raise ValueError(f"bad port {self.port}")


IKE = (Service("udp", 500), Service("udp", 4500), Service("esp"), Service("ah"))
SERVICES_BY_PROTOCOL: Mapping[str, tuple[Service, ...]] = {
    "pptp": (Service("tcp", 1723), Service("gre")),
    "l2tp": (Service("udp", 1701),),
    "l2tp_ipsec": (*IKE, Service("udp", 1701)),
    "ikev2": IKE,
    "ikev1_xauth": IKE,
    "ipsec_transport": IKE,
}


def services_for(protocols: Iterable[str]) -> tuple[Service, ...]:
    """The union of what the given profile protocols (``Protocol`` values) need, in a stable order."""
    seen: dict[Service, None] = {}
    for protocol in protocols:
        for service in SERVICES_BY_PROTOCOL.get(protocol, ()):
            seen[service] = None
    return tuple(seen)


@dataclass(frozen=True)
class Allowance:
    """What one session needs to pass: its gateways, their services, its tunnel, maybe the LAN."""

    gateways: tuple[str, ...]  # IP addresses (resolve host names before the kill switch goes up)
    services: tuple[Service, ...]
    tunnels: tuple[str, ...] = ()  # interface names; empty while (re)connecting
    allow_lan: bool = False

    def __post_init__(self) -> None:
        for address in self.gateways:
            ipaddress.ip_address(address)  # raises ValueError: never let text into the script
        for name in self.tunnels:
            if not _IFNAME.fullmatch(name):
                raise ValueError(f"not an interface name: {name!r}")

    def with_tunnels(self, tunnels: tuple[str, ...]) -> Allowance:
        return Allowance(self.gateways, self.services, tunnels, self.allow_lan)


def _set(items: Iterable[str]) -> str:
    return "{ " + ", ".join(items) + " }"


def _quoted(names: Iterable[str]) -> str:
    return _set(f'"{n}"' for n in names)


def render(allowances: Iterable[Allowance], table: str = TABLE_NAME) -> str:
    """The nft script that atomically replaces our table with one allowing ``allowances``."""
    allowances = list(allowances)
    tunnels = sorted({t for a in allowances for t in a.tunnels})
    allow_lan = any(a.allow_lan for a in allowances)
    out_rules = ['oifname "lo" accept']
    in_rules = ['iifname "lo" accept']
    fwd_rules: list[str] = []
    if tunnels:
        out_rules.append(f"oifname {_quoted(tunnels)} accept")
        in_rules.append(f"iifname {_quoted(tunnels)} accept")
        fwd_rules += [f"oifname {_quoted(tunnels)} accept", f"iifname {_quoted(tunnels)} accept"]
    for allowance in allowances:
        for address in sorted(set(allowance.gateways)):
            ip = "ip6" if ipaddress.ip_address(address).version == 6 else "ip"
            out_rules += _service_rules(f"{ip} daddr {address}", "dport", allowance.services)
            in_rules.append(f"{ip} saddr {address} accept")  # replies, ICMP errors (PMTU) from the gateway
    # What a host needs to keep its own address on the physical link.
    out_rules += [
        "ip6 daddr { fe80::/10, ff02::/16 } icmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert } accept",
        "udp sport 68 udp dport 67 accept",
        "ip6 daddr { fe80::/10, ff02::/16 } udp dport 547 accept",
    ]
    in_rules += [
        "icmpv6 type { nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept",
        "udp sport 67 udp dport 68 accept",
        "ip6 saddr fe80::/10 udp sport 547 udp dport 546 accept",
    ]
    if allow_lan:
        out_rules += [f"ip daddr {_set(LAN_V4)} accept", f"ip6 daddr {_set(LAN_V6)} accept"]
        in_rules += [f"ip saddr {_set(LAN_V4)} accept", f"ip6 saddr {_set(LAN_V6)} accept"]
        fwd_rules += [f"ip daddr {_set(LAN_V4)} accept", f"ip6 daddr {_set(LAN_V6)} accept"]
    lines = [
        f"table {TABLE_FAMILY} {table} {{}}",  # so that the delete below cannot fail
        f"delete table {TABLE_FAMILY} {table}",
        f"table {TABLE_FAMILY} {table} {{",
    ]
    for chain, hook, rules in (
        ("output", "output", out_rules),
        ("input", "input", in_rules),
        ("forward", "forward", fwd_rules),
    ):
        lines.append(f"  chain {chain} {{")
        lines.append(f"    type filter hook {hook} priority {PRIORITY}; policy drop;")
        lines += [f"    {rule}" for rule in rules]
        lines.append("    counter drop")
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _service_rules(match: str, direction: str, services: Iterable[Service]) -> list[str]:
    rules: list[str] = []
    for proto in ("udp", "tcp"):
        ports = sorted({s.port for s in services if s.protocol == proto and s.port is not None})
        if ports:
            rules.append(f"{match} {proto} {direction} {_set(str(p) for p in ports)} accept")
    others = sorted({s.protocol for s in services if s.protocol not in ("udp", "tcp")})
    if others:
        rules.append(f"{match} meta l4proto {_set(others)} accept")
    return rules


async def _nft(args: list[str], script: str | None = None, nft: str = "nft") -> tuple[int, str, str]:
    try:
        proc = await asyncio.create_subprocess_exec(
            nft,
            *args,
            stdin=asyncio.subprocess.PIPE if script is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError as exc:
        raise KillSwitchError(f"the kill switch needs nftables, but '{nft}' cannot run: {exc.strerror}") from None
    out, err = await proc.communicate(script.encode() if script is not None else None)
    return proc.returncode or 0, out.decode(errors="replace"), err.decode(errors="replace").strip()


async def table_exists(table: str = TABLE_NAME, nft: str = "nft") -> bool:
    code, out, err = await _nft(["-j", "list", "tables", TABLE_FAMILY], nft=nft)
    if code != 0:
        raise KillSwitchError(f"could not list the nftables tables: {err}")
    try:
        items = json.loads(out).get("nftables", [])
    except (ValueError, AttributeError):
        raise KillSwitchError("nft printed something that is not its JSON format") from None
    return any(isinstance(i, dict) and i.get("table", {}).get("name") == table for i in items)


async def delete_table(table: str = TABLE_NAME, nft: str = "nft") -> bool:
    """Remove our table; True if it was there. Absent is fine (already released)."""
    code, _, err = await _nft(["delete", "table", TABLE_FAMILY, table], nft=nft)
    if code == 0:
        return True
    if "No such file or directory" in err:
        return False
    raise KillSwitchError(f"could not remove the kill switch table: {err}")


class KillSwitch:
    """The single table, shared by every session that asked for it (their allowances are merged)."""

    def __init__(self, table: str = TABLE_NAME, nft: str = "nft") -> None:
        self.table = table
        self.nft = nft
        self._allowances: dict[str, Allowance] = {}
        self._lock = asyncio.Lock()

    @property
    def active(self) -> bool:
        return bool(self._allowances)

    def allowance(self, owner: str) -> Allowance | None:
        return self._allowances.get(owner)

    async def hold(self, owner: str, allowance: Allowance) -> None:
        """Install or update ``owner``'s allowance; raises KillSwitchError if nft refuses."""
        async with self._lock:
            previous = self._allowances.get(owner)
            self._allowances[owner] = allowance
            try:
                await self._load()
            except KillSwitchError:
                if previous is None:
                    del self._allowances[owner]
                else:
                    self._allowances[owner] = previous
                raise

    async def set_tunnels(self, owner: str, tunnels: tuple[str, ...]) -> None:
        current = self._allowances.get(owner)
        if current is not None and current.tunnels != tunnels:
            await self.hold(owner, current.with_tunnels(tunnels))

    async def release(self, owner: str) -> None:
        """Drop ``owner``'s allowance; the table goes when nobody holds it any more."""
        async with self._lock:
            if self._allowances.pop(owner, None) is None:
                return
            if self._allowances:
                await self._load()
            else:
                await delete_table(self.table, self.nft)

    async def _load(self) -> None:
        script = render(self._allowances.values(), self.table)
        code, _, err = await _nft(["-f", "-"], script, nft=self.nft)
        if code != 0:
            raise KillSwitchError(f"nftables refused the kill switch rules: {err or 'no reason given'}")
