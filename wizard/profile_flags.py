"""Command-line flags for every profile field, shared by ``add`` and ``edit``.

Flags only build a nested dict of overrides; the profile codec then validates the result, so the
CLI and a JSON file are checked by the same rules. ``FIELD_FLAGS`` maps a field path back to its
flag so an error can say which flag to fix.
"""

from __future__ import annotations

import argparse
from typing import Any

from wizard.profiles.model import AuthMethod, CredentialPolicy, MppePolicy, PPPAuth, Protocol, SecretKind

FIELD_FLAGS: dict[str, str] = {
    "name": "--name",
    "protocol": "--protocol",
    "gateways": "--gateway",
    "fallback": "--fallback",
    "auth.method": "--auth-method",
    "auth.username": "--username",
    "auth.secrets": "--secrets",
    "auth.ppp_methods": "--ppp-auth",
    "auth.certificate_file": "--certificate",
    "auth.private_key_file": "--private-key",
    "auth.ca_file": "--ca-file",
    "auth.local_id": "--local-id",
    "auth.remote_id": "--remote-id",
    "crypto.ike_proposals": "--ike-proposal",
    "crypto.esp_proposals": "--esp-proposal",
    "crypto.allow_legacy": "--allow-legacy",
    "ppp.mppe": "--mppe",
    "ppp.mppe_bits": "--mppe-bits",
    "ppp.mppe_stateful": "--mppe-stateful",
    "ppp.mru": "--mru",
    "ppp.ipv6": "--ipv6",
    "ppp.lcp_echo_interval": "--lcp-echo-interval",
    "ppp.lcp_echo_failures": "--lcp-echo-failures",
    "routing.mode": "--full-tunnel/--split-tunnel",
    "routing.routes": "--route",
    "routing.use_pushed_routes": "--pushed-routes",
    "dns.servers": "--dns",
    "dns.search_domains": "--search-domain",
    "dns.split_domains": "--split-dns-domain",
    "dns.use_pushed": "--pushed-dns",
    "kill_switch.enabled": "--kill-switch",
    "kill_switch.allow_lan": "--allow-lan",
    "reconnect.enabled": "--reconnect",
    "reconnect.max_attempts": "--reconnect-attempts",
    "branding": "--branding",
    "credential_policy": "--credential-policy",
}


def flag_for(field: str) -> str | None:
    """The flag that sets ``field`` (``gateways[0].host`` -> ``--gateway``)."""
    while field:
        base = field.split("[", 1)[0]
        if base in FIELD_FLAGS:
            return FIELD_FLAGS[base]
        if "." not in field:
            return None
        field = field.rsplit(".", 1)[0]
    return None


def _values(enum: type[Any]) -> str:
    return ", ".join(m.value for m in enum)


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def add_profile_flags(parser: argparse.ArgumentParser, *, creating: bool) -> None:
    g = parser.add_argument_group("connection")
    g.add_argument("--name", help="display name (unique)" + (" [required]" if creating else ""))
    g.add_argument("--protocol", help=f"one of: {_values(Protocol)}")
    g.add_argument(
        "--gateway",
        action="append",
        metavar="HOST[,LABEL[,REGION]]",
        help="gateway host; repeat for a phonebook (the first is tried first)",
    )
    g.add_argument("--fallback", metavar="P1,P2,...", help="order of protocols for 'automatic'")
    g.add_argument("--branding", metavar="ID", help="branding bundle id")
    g.add_argument("--credential-policy", help=f"one of: {_values(CredentialPolicy)}")

    a = parser.add_argument_group("sign-in")
    a.add_argument("--auth-method", help=f"one of: {_values(AuthMethod)}")
    a.add_argument("--username")
    a.add_argument("--secrets", metavar="KIND,...", help=f"secrets this connection needs: {_values(SecretKind)}")
    a.add_argument("--ppp-auth", metavar="M1,M2", help=f"allowed PPP sign-in methods: {_values(PPPAuth)}")
    a.add_argument("--certificate", metavar="FILE")
    a.add_argument("--private-key", metavar="FILE")
    a.add_argument("--ca-file", metavar="FILE")
    a.add_argument("--local-id")
    a.add_argument("--remote-id")
    a.add_argument("--password-stdin", action="store_true", help="read the password from the first stdin line")
    a.add_argument("--psk-stdin", action="store_true", help="read the pre-shared key from the next stdin line")
    a.add_argument("--ask-secrets", action="store_true", help="prompt for the secrets (not echoed)")

    c = parser.add_argument_group("security")
    c.add_argument("--ike-proposal", action="append", metavar="PROPOSAL", help="e.g. aes256-sha256-modp2048; repeat")
    c.add_argument("--esp-proposal", action="append", metavar="PROPOSAL", help="e.g. aes256gcm16; repeat")
    c.add_argument("--allow-legacy", action=argparse.BooleanOptionalAction, help="allow DES/3DES/MD5/MODP-1024/PPTP")
    c.add_argument("--mppe", help=f"one of: {_values(MppePolicy)}")
    c.add_argument("--mppe-bits", metavar="BITS,...", help="40, 56 and/or 128")
    c.add_argument("--mppe-stateful", action=argparse.BooleanOptionalAction)
    c.add_argument("--mru", type=int)
    c.add_argument("--ipv6", action=argparse.BooleanOptionalAction, help="negotiate IPv6 over PPP")
    c.add_argument("--lcp-echo-interval", type=int, metavar="SECONDS")
    c.add_argument("--lcp-echo-failures", type=int, metavar="N")

    n = parser.add_argument_group("network")
    mode = n.add_mutually_exclusive_group()
    mode.add_argument("--full-tunnel", dest="tunnel_mode", action="store_const", const="full")
    mode.add_argument("--split-tunnel", dest="tunnel_mode", action="store_const", const="split")
    n.add_argument("--route", action="append", metavar="CIDR", help="route through the VPN; repeat")
    n.add_argument("--pushed-routes", action=argparse.BooleanOptionalAction, help="accept routes from the gateway")
    n.add_argument("--dns", action="append", metavar="IP", help="DNS server; repeat")
    n.add_argument("--search-domain", action="append", metavar="DOMAIN")
    n.add_argument("--split-dns-domain", action="append", metavar="DOMAIN", help="resolve only these via the VPN")
    n.add_argument("--pushed-dns", action=argparse.BooleanOptionalAction, help="accept DNS from the gateway")
    n.add_argument("--kill-switch", choices=("on", "off"))
    n.add_argument("--allow-lan", action=argparse.BooleanOptionalAction, help="kill switch lets LAN traffic through")
    n.add_argument("--reconnect", choices=("on", "off"))
    n.add_argument("--reconnect-attempts", type=int, metavar="N", help="0 = unlimited")


def overrides_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """A nested dict holding only the fields the user set on the command line."""
    out: dict[str, Any] = {}

    def put(path: str, value: Any) -> None:
        if value is None:
            return
        node = out
        *parents, leaf = path.split(".")
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value

    put("name", args.name)
    put("protocol", args.protocol)
    if args.gateway:
        gateways = []
        for spec in args.gateway:
            parts = [p.strip() for p in spec.split(",", 2)]
            gateways.append(dict(zip(("host", "label", "region"), parts, strict=False)))
        put("gateways", gateways)
    put("fallback", _csv(args.fallback) if args.fallback is not None else None)
    put("branding", args.branding)
    put("credential_policy", args.credential_policy)
    put("auth.method", args.auth_method)
    put("auth.username", args.username)
    put("auth.secrets", _csv(args.secrets) if args.secrets is not None else None)
    put("auth.ppp_methods", _csv(args.ppp_auth) if args.ppp_auth is not None else None)
    put("auth.certificate_file", args.certificate)
    put("auth.private_key_file", args.private_key)
    put("auth.ca_file", args.ca_file)
    put("auth.local_id", args.local_id)
    put("auth.remote_id", args.remote_id)
    put("crypto.ike_proposals", args.ike_proposal)
    put("crypto.esp_proposals", args.esp_proposal)
    put("crypto.allow_legacy", args.allow_legacy)
    put("ppp.mppe", args.mppe)
    if args.mppe_bits is not None:
        bits = _csv(args.mppe_bits)
        put("ppp.mppe_bits", [int(b) if b.isdigit() else b for b in bits])
    put("ppp.mppe_stateful", args.mppe_stateful)
    put("ppp.mru", args.mru)
    put("ppp.ipv6", args.ipv6)
    put("ppp.lcp_echo_interval", args.lcp_echo_interval)
    put("ppp.lcp_echo_failures", args.lcp_echo_failures)
    put("routing.mode", args.tunnel_mode)
    put("routing.routes", args.route)
    put("routing.use_pushed_routes", args.pushed_routes)
    put("dns.servers", args.dns)
    put("dns.search_domains", args.search_domain)
    put("dns.split_domains", args.split_dns_domain)
    put("dns.use_pushed", args.pushed_dns)
    put("kill_switch.enabled", None if args.kill_switch is None else args.kill_switch == "on")
    put("kill_switch.allow_lan", args.allow_lan)
    put("reconnect.enabled", None if args.reconnect is None else args.reconnect == "on")
    put("reconnect.max_attempts", args.reconnect_attempts)
    return out


def default_secrets(protocol: str, method: str) -> list[str]:
    """The secrets a new connection needs when the user did not list them."""
    secrets: list[str] = []
    if method in (AuthMethod.PASSWORD.value, AuthMethod.EAP_MSCHAPV2.value):
        secrets.append(SecretKind.PASSWORD.value)
    if method == AuthMethod.PSK.value:
        secrets.append(SecretKind.PSK.value)
        if protocol in (Protocol.L2TP_IPSEC.value, Protocol.IKEV1_XAUTH.value):
            secrets.append(SecretKind.PASSWORD.value)
    elif method == AuthMethod.PASSWORD.value and protocol in (
        Protocol.L2TP_IPSEC.value,
        Protocol.IKEV1_XAUTH.value,
        Protocol.AUTOMATIC.value,
    ):
        secrets.append(SecretKind.PSK.value)
    return secrets


def merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``overrides`` into a copy of ``base`` (lists replace, objects merge)."""
    out = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out
