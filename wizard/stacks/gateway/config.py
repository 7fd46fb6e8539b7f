"""The gateway's JSON configuration, validated strictly: every error names the field at fault.

Example (every key but ``protocols``, ``users``, ``server_address`` and ``client_pool`` is optional)::

    {
      "version": 1,
      "listen": "192.0.2.1",
      "protocols": ["pptp", "l2tp"],
      "users": {"alice": "correct horse"},
      "allowed_auth": ["mschapv2"],
      "mppe": "allow",
      "mppe_bits": [128],
      "mppe_stateful": false,
      "server_address": "10.123.0.1",
      "client_pool": "10.123.0.10-10.123.0.99",
      "dns_servers": ["10.123.0.1"],
      "mtu": 1400,
      "mru": 1400,
      "lcp_echo_interval": 30,
      "host_name": "connection-wizard",
      "pptp": {"mppe": "require", "port": 1723},
      "l2tp": {"allowed_auth": ["mschapv2", "chap-md5", "pap"], "secret": "tunnel secret", "port": 1701},
      "ipsec": {"psk": "shared secret", "services": ["l2tp_ipsec", "ikev1_xauth"]}
    }

The ``pptp`` and ``l2tp`` sections override ``allowed_auth``, ``mppe``, ``mppe_bits`` and
``mppe_stateful`` for that protocol (PPTP normally requires MPPE; L2TP without IPsec rarely has it).
The optional ``ipsec`` section (see :mod:`wizard.stacks.gateway.ipsec_config`) adds L2TP/IPsec,
IKEv1 XAUTH and (opt-in) host-to-host transport mode and IKEv2; with it ``protocols`` may be empty (IPsec only). Passwords, the tunnel secret and the
pre-shared key never appear in an error message or a repr. Certificate and key files named in the
``ipsec`` section are read relative to the configuration file's directory.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wizard.engine.ppp.config import AUTH_METHODS, MPPE_BITS, MPPE_MODES, PPPConfig
from wizard.engine.ppp.ipcp import AddressPool
from wizard.stacks.gateway.ipsec_config import IpsecConfigError, IpsecPolicy, ipsec_policy_from_dict

PROTOCOLS = ("pptp", "l2tp")
DEFAULT_PORTS = {"pptp": 1723, "l2tp": 1701}
MAX_POOL = 65534
CONFIG_VERSION = 1

_TOP_KEYS = {
    "version",
    "listen",
    "protocols",
    "users",
    "allowed_auth",
    "mppe",
    "mppe_bits",
    "mppe_stateful",
    "server_address",
    "client_pool",
    "dns_servers",
    "mtu",
    "mru",
    "lcp_echo_interval",
    "host_name",
    "pptp",
    "l2tp",
    "ipsec",
}
_PPP_KEYS = {"allowed_auth", "mppe", "mppe_bits", "mppe_stateful"}
_SECTION_KEYS = {"pptp": _PPP_KEYS | {"port"}, "l2tp": _PPP_KEYS | {"port", "secret"}}


class GatewayConfigError(ValueError):
    """The configuration is unusable; ``field`` is its dotted path (``"l2tp.mppe"``)."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}" if field_name else message)
        self.field = field_name
        self.message = message


@dataclass(frozen=True)
class ProtocolPolicy:
    """PPP authentication and encryption for one protocol."""

    allowed_auth: tuple[str, ...]
    mppe: str
    mppe_bits: tuple[int, ...]
    mppe_stateful: bool
    port: int


@dataclass(frozen=True)
class GatewayConfig:
    protocols: tuple[str, ...]
    users: Mapping[str, str] = field(repr=False)
    server_address: str
    pool_first: str
    pool_last: str
    policies: Mapping[str, ProtocolPolicy]
    listen: str = "0.0.0.0"
    dns_servers: tuple[str, ...] = ()
    l2tp_secret: str | None = field(default=None, repr=False)
    mtu: int | None = None
    mru: int = 1400
    lcp_echo_interval: float = 30.0
    host_name: str = "connection-wizard"
    ipsec: IpsecPolicy | None = None

    @property
    def pool_size(self) -> int:
        return int(ipaddress.IPv4Address(self.pool_last)) - int(ipaddress.IPv4Address(self.pool_first)) + 1

    def address_pool(self) -> AddressPool:
        """A fresh pool; share one between all protocols so no address is handed out twice."""
        return AddressPool.from_range(self.pool_first, self.pool_last)

    def ppp_config(self, protocol: str, pool: AddressPool) -> PPPConfig:
        """The server-side PPP settings for ``protocol``'s sessions."""
        policy = self.policies[protocol]
        return PPPConfig(
            users=self.users,
            allowed_auth=policy.allowed_auth,
            mppe=policy.mppe,
            mppe_bits=policy.mppe_bits,
            allow_stateful=policy.mppe_stateful,
            mru=self.mru,
            echo_interval=self.lcp_echo_interval,
            local_ipv4=self.server_address,
            address_pool=pool,
            dns_servers=self.dns_servers,
            server_name=self.host_name,
        )


def load_config(path: Path) -> GatewayConfig:
    """Read and validate ``path``; raises :class:`GatewayConfigError` with a plain reason."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise GatewayConfigError("", f"cannot read the gateway configuration {str(path)!r}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise GatewayConfigError("", f"the gateway configuration {str(path)!r} is not UTF-8 text") from None
    return parse_config(text, files_dir=path.parent)


def parse_config(text: str, files_dir: Path | None = None) -> GatewayConfig:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise GatewayConfigError("", f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    return config_from_dict(data, files_dir=files_dir)


def config_from_dict(data: Any, files_dir: Path | None = None) -> GatewayConfig:
    """``files_dir``: where relative file names (certificates) are read from; None: the current directory."""
    obj = _object(data, "", _TOP_KEYS)
    version = obj.get("version", CONFIG_VERSION)
    if type(version) is not int or version != CONFIG_VERSION:
        raise GatewayConfigError("version", f"must be {CONFIG_VERSION} (the only format this version reads)")
    ipsec = _ipsec(obj["ipsec"], files_dir) if "ipsec" in obj else None
    protocols = _protocols(_required(obj, "protocols", ""), ipsec is not None)
    users = _users(_required(obj, "users", ""))
    listen = _ipv4(obj.get("listen", "0.0.0.0"), "listen", allow_any=True)
    _check_ikev2_identity(ipsec, listen)
    server = _ipv4(_required(obj, "server_address", ""), "server_address")
    first, last = _pool(_required(obj, "client_pool", ""), server)
    dns = tuple(_ipv4(v, f"dns_servers[{i}]") for i, v in enumerate(_list(obj.get("dns_servers", []), "dns_servers")))
    mtu = obj.get("mtu")
    if mtu is not None:
        mtu = _int(mtu, "mtu", 576, 65535)
    mru = _int(obj.get("mru", 1400), "mru", 576, 65535)
    echo = _int(obj.get("lcp_echo_interval", 30), "lcp_echo_interval", 0, 3600)
    host_name = _string(obj.get("host_name", "connection-wizard"), "host_name")
    if not host_name or len(host_name) > 64 or not host_name.isprintable():
        raise GatewayConfigError("host_name", "must be 1 to 64 printable characters")
    base = {key: obj[key] for key in _PPP_KEYS if key in obj}
    policies: dict[str, ProtocolPolicy] = {}
    secret: str | None = None
    for protocol in PROTOCOLS:
        section = _object(obj.get(protocol, {}), protocol, _SECTION_KEYS[protocol])
        merged = {**base, **{k: v for k, v in section.items() if k in _PPP_KEYS}}
        origin = {k: (f"{protocol}.{k}" if k in section else k) for k in _PPP_KEYS}
        port = _int(section.get("port", DEFAULT_PORTS[protocol]), f"{protocol}.port", 1, 65535)
        policies[protocol] = _policy(protocol, merged, origin, port)
        if protocol == "l2tp" and "secret" in section:
            secret = _string(section["secret"], "l2tp.secret")
            if not secret:
                raise GatewayConfigError("l2tp.secret", "must not be empty (leave it out for no tunnel secret)")
    config = GatewayConfig(
        protocols=protocols,
        users=users,
        server_address=server,
        pool_first=first,
        pool_last=last,
        policies=policies,
        listen=listen,
        dns_servers=dns,
        l2tp_secret=secret,
        mtu=mtu,
        mru=mru,
        lcp_echo_interval=float(echo),
        host_name=host_name,
        ipsec=ipsec,
    )
    pool = AddressPool([])
    ppp_users = list(protocols)
    if ipsec is not None and "l2tp_ipsec" in ipsec.services and "l2tp" not in ppp_users:
        ppp_users.append("l2tp")  # L2TP/IPsec runs PPP with the l2tp section's policy
    for protocol in ppp_users:
        try:
            config.ppp_config(protocol, pool)
        except ValueError as exc:
            raise GatewayConfigError(protocol, f"these PPP settings cannot work: {exc}") from None
    return config


# --- field checkers ------------------------------------------------------------------------------


def _object(value: Any, where: str, known: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise GatewayConfigError(where, "must be a JSON object" if where else "the configuration must be a JSON object")
    for key in value:
        if key not in known:
            name = f"{where}.{key}" if where else key
            raise GatewayConfigError(name, f"unknown field; known fields here: {', '.join(sorted(known))}")
    return value


def _required(obj: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in obj:
        raise GatewayConfigError(f"{where}.{key}" if where else key, "is required")
    return obj[key]


def _string(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise GatewayConfigError(name, "must be a string")
    return value


def _int(value: Any, name: str, low: int, high: int) -> int:
    if type(value) is not int:
        raise GatewayConfigError(name, "must be a whole number")
    if not low <= value <= high:
        raise GatewayConfigError(name, f"{value} is out of range ({low} to {high})")
    return value


def _bool(value: Any, name: str) -> bool:
    if type(value) is not bool:
        raise GatewayConfigError(name, "must be true or false")
    return value


def _list(value: Any, name: str) -> list[Any]:
    if not isinstance(value, list):
        raise GatewayConfigError(name, "must be a JSON list")
    return value


def _ipv4(value: Any, name: str, *, allow_any: bool = False) -> str:
    text = _string(value, name)
    try:
        address = ipaddress.IPv4Address(text)
    except ValueError:
        raise GatewayConfigError(name, f"{text!r} is not an IPv4 address") from None
    if address.is_unspecified and not allow_any:
        raise GatewayConfigError(name, "0.0.0.0 is not a usable address here")
    if address.is_multicast or address == ipaddress.IPv4Address("255.255.255.255"):
        raise GatewayConfigError(name, f"{text} is not a unicast address")
    return str(address)


def _ipsec(value: Any, files_dir: Path | None = None) -> IpsecPolicy:
    if not isinstance(value, dict):
        raise GatewayConfigError("ipsec", "must be a JSON object")
    try:
        return ipsec_policy_from_dict(value, files_dir)
    except IpsecConfigError as exc:
        raise GatewayConfigError(f"ipsec.{exc.field}", exc.message) from None


def _check_ikev2_identity(ipsec: IpsecPolicy | None, listen: str) -> None:
    """Without ``local_id`` the gateway presents the address clients contact: its certificate must name it."""
    ikev2 = ipsec.ikev2 if ipsec is not None else None
    if ikev2 is None or ikev2.certificate is None or ikev2.local_id is not None or listen == "0.0.0.0":
        return
    if not ikev2.names(listen):
        raise GatewayConfigError(
            "ipsec.certificate_file",
            f"the certificate ({ikev2.certificate.subject.rfc4514_string()}) does not name {listen}, the address "
            "clients contact; add it as a subjectAltName or set ipsec.local_id to a name the certificate holds",
        )


def _protocols(value: Any, ipsec: bool = False) -> tuple[str, ...]:
    items = _list(value, "protocols")
    if not items and not ipsec:
        raise GatewayConfigError("protocols", f"must name at least one of {', '.join(PROTOCOLS)}")
    out: list[str] = []
    for i, item in enumerate(items):
        if item not in PROTOCOLS:
            raise GatewayConfigError(f"protocols[{i}]", f"{item!r} is not served; choose from {', '.join(PROTOCOLS)}")
        if item in out:
            raise GatewayConfigError(f"protocols[{i}]", f"{item} is listed twice")
        out.append(item)
    return tuple(out)


def _users(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise GatewayConfigError("users", 'must be a JSON object of user name to password, e.g. {"alice": "..."}')
    if not value:
        raise GatewayConfigError("users", "must list at least one user")
    for name, password in value.items():
        if not name or len(name) > 256 or not name.isprintable():
            raise GatewayConfigError("users", "a user name must be 1 to 256 printable characters")
        if not isinstance(password, str) or not password:
            # Name the user, never the value: it may be a password typed in the wrong place.
            raise GatewayConfigError(f"users.{name}", "the password must be a non-empty string")
    return dict(value)


def _pool(value: Any, server: str) -> tuple[str, str]:
    text = _string(value, "client_pool")
    parts = text.split("-")
    if len(parts) != 2:
        raise GatewayConfigError("client_pool", f"{text!r} is not a range like 10.123.0.10-10.123.0.99")
    first = _ipv4(parts[0].strip(), "client_pool")
    last = _ipv4(parts[1].strip(), "client_pool")
    low, high = int(ipaddress.IPv4Address(first)), int(ipaddress.IPv4Address(last))
    if high < low:
        raise GatewayConfigError("client_pool", f"the range {first}-{last} is empty (the first address is higher)")
    if high - low + 1 > MAX_POOL:
        raise GatewayConfigError("client_pool", f"the range holds {high - low + 1} addresses; at most {MAX_POOL}")
    if low <= int(ipaddress.IPv4Address(server)) <= high:
        raise GatewayConfigError("client_pool", f"the range contains the server address {server}")
    return first, last


def _policy(protocol: str, merged: Mapping[str, Any], origin: Mapping[str, str], port: int) -> ProtocolPolicy:
    auth_items = _list(merged.get("allowed_auth", ["mschapv2"]), origin["allowed_auth"])
    if not auth_items:
        raise GatewayConfigError(origin["allowed_auth"], "must allow at least one method")
    methods: list[str] = []
    for i, item in enumerate(auth_items):
        name = f"{origin['allowed_auth']}[{i}]"
        if item not in AUTH_METHODS:
            raise GatewayConfigError(name, f"{item!r} is not a method; choose from {', '.join(AUTH_METHODS)}")
        if item in methods:
            raise GatewayConfigError(name, f"{item} is listed twice")
        methods.append(item)
    mppe = merged.get("mppe", "allow")
    if mppe not in MPPE_MODES:
        raise GatewayConfigError(origin["mppe"], f"must be one of {', '.join(MPPE_MODES)}")
    bit_items = _list(merged.get("mppe_bits", [128]), origin["mppe_bits"])
    if not bit_items:
        raise GatewayConfigError(origin["mppe_bits"], "must list at least one key length")
    bits: list[int] = []
    for i, item in enumerate(bit_items):
        if type(item) is not int or item not in MPPE_BITS or item in bits:
            raise GatewayConfigError(f"{origin['mppe_bits']}[{i}]", "must be 40, 56 or 128, each at most once")
        bits.append(item)
    stateful = _bool(merged.get("mppe_stateful", False), origin["mppe_stateful"])
    if mppe == "require" and not any(m in ("mschapv2", "mschap", "eap") for m in methods):
        raise GatewayConfigError(
            origin["mppe"],
            f"MPPE is required for {protocol.upper()} but none of its allowed methods "
            f"({', '.join(methods)}) can key it; allow mschapv2, mschap or eap",
        )
    return ProtocolPolicy(tuple(methods), str(mppe), tuple(bits), stateful, port)
