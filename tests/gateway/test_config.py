"""Gateway configuration: a full and a minimal file parse as documented; every mistake names its field."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest

from wizard.stacks.gateway import main_gateway
from wizard.stacks.gateway.config import GatewayConfigError, config_from_dict, load_config, parse_config

FULL: dict[str, Any] = {
    "version": 1,
    "listen": "192.0.2.1",
    "protocols": ["pptp", "l2tp"],
    "users": {"alice": "hunter2-alice", "bob": "hunter2-bob"},
    "allowed_auth": ["mschapv2"],
    "mppe": "allow",
    "mppe_bits": [128],
    "mppe_stateful": False,
    "server_address": "10.123.0.1",
    "client_pool": "10.123.0.10-10.123.0.99",
    "dns_servers": ["10.123.0.53", "10.123.0.54"],
    "mtu": 1400,
    "mru": 1450,
    "lcp_echo_interval": 20,
    "host_name": "lab-gateway",
    "pptp": {"mppe": "require", "mppe_bits": [40, 128], "port": 11723},
    "l2tp": {"allowed_auth": ["mschapv2", "chap-md5", "pap"], "secret": "hunter2-tunnel", "port": 11701},
}

MINIMAL: dict[str, Any] = {
    "protocols": ["l2tp"],
    "users": {"alice": "hunter2-alice"},
    "server_address": "10.123.0.1",
    "client_pool": "10.123.0.2-10.123.0.3",
}

SECRETS = ("hunter2-alice", "hunter2-bob", "hunter2-tunnel")


def test_full_config() -> None:
    config = parse_config(json.dumps(FULL))
    assert config.listen == "192.0.2.1"
    assert config.protocols == ("pptp", "l2tp")
    assert dict(config.users) == FULL["users"]
    assert (config.server_address, config.pool_first, config.pool_last) == ("10.123.0.1", "10.123.0.10", "10.123.0.99")
    assert config.pool_size == 90
    assert config.dns_servers == ("10.123.0.53", "10.123.0.54")
    assert (config.mtu, config.mru, config.lcp_echo_interval, config.host_name) == (1400, 1450, 20.0, "lab-gateway")
    assert config.l2tp_secret == "hunter2-tunnel"
    pptp, l2tp = config.policies["pptp"], config.policies["l2tp"]
    # Sections override the top level field by field; the rest is inherited.
    assert (pptp.allowed_auth, pptp.mppe, pptp.mppe_bits, pptp.port) == (("mschapv2",), "require", (40, 128), 11723)
    assert (l2tp.allowed_auth, l2tp.mppe, l2tp.mppe_bits, l2tp.port) == (
        ("mschapv2", "chap-md5", "pap"),
        "allow",
        (128,),
        11701,
    )


def test_minimal_config_defaults() -> None:
    config = config_from_dict(MINIMAL)
    assert config.listen == "0.0.0.0"
    assert config.dns_servers == ()
    assert config.l2tp_secret is None
    assert config.mtu is None and config.mru == 1400
    for protocol in ("pptp", "l2tp"):
        policy = config.policies[protocol]
        assert (policy.allowed_auth, policy.mppe, policy.mppe_bits, policy.mppe_stateful) == (
            ("mschapv2",),
            "allow",
            (128,),
            False,
        )
    assert config.policies["pptp"].port == 1723 and config.policies["l2tp"].port == 1701


def test_ppp_configs_share_one_pool() -> None:
    config = config_from_dict(FULL)
    pool = config.address_pool()
    pptp, l2tp = config.ppp_config("pptp", pool), config.ppp_config("l2tp", pool)
    assert pptp.address_pool is pool and l2tp.address_pool is pool
    assert pptp.local_ipv4 == l2tp.local_ipv4 == "10.123.0.1"
    assert pptp.dns_servers == ("10.123.0.53", "10.123.0.54")
    assert pptp.mppe == "require" and pptp.mppe_bits == (40, 128)
    assert l2tp.allowed_auth == ("mschapv2", "chap-md5", "pap") and l2tp.mru == 1450
    assert pptp.server_name == "lab-gateway" and pptp.echo_interval == 20.0
    assert dict(pptp.users) == FULL["users"]
    assert pool.available == 90
    assert pool.allocate() == "10.123.0.10"


def _with(change: dict[str, Any], *, drop: str | None = None, base: dict[str, Any] = FULL) -> dict[str, Any]:
    data = copy.deepcopy(base)
    for key, value in change.items():
        if "." in key:
            section, sub = key.split(".", 1)
            data.setdefault(section, {})[sub] = value
        else:
            data[key] = value
    if drop:
        del data[drop]
    return data


BAD: list[tuple[dict[str, Any], str | None, str, str]] = [
    # (change, field dropped, field named in the error, words in the message)
    ({"listne": "1.2.3.4"}, None, "listne", "unknown field"),
    ({"l2tp.secrte": "x"}, None, "l2tp.secrte", "unknown field"),
    ({"pptp.secret": "x"}, None, "pptp.secret", "unknown field"),
    ({}, "protocols", "protocols", "is required"),
    ({}, "users", "users", "is required"),
    ({}, "server_address", "server_address", "is required"),
    ({}, "client_pool", "client_pool", "is required"),
    ({"version": 2}, None, "version", "must be 1"),
    ({"protocols": []}, None, "protocols", "at least one"),
    ({"protocols": ["ipsec"]}, None, "protocols[0]", "not served"),
    ({"protocols": ["pptp", "pptp"]}, None, "protocols[1]", "twice"),
    ({"protocols": "pptp"}, None, "protocols", "JSON list"),
    ({"users": {}}, None, "users", "at least one user"),
    ({"users": ["alice"]}, None, "users", "JSON object"),
    ({"users": {"alice": ""}}, None, "users.alice", "non-empty string"),
    ({"users": {"alice": 42}}, None, "users.alice", "non-empty string"),
    ({"users": {"": "pw"}}, None, "users", "printable"),
    ({"listen": "nope"}, None, "listen", "not an IPv4 address"),
    ({"listen": "2001:db8::1"}, None, "listen", "not an IPv4 address"),
    ({"listen": 1}, None, "listen", "must be a string"),
    ({"server_address": "0.0.0.0"}, None, "server_address", "not a usable address"),
    ({"server_address": "224.0.0.1"}, None, "server_address", "not a unicast"),
    ({"client_pool": "10.123.0.99-10.123.0.10"}, None, "client_pool", "is empty"),
    ({"client_pool": "10.123.0.0-10.123.0.9"}, None, "client_pool", "server address 10.123.0.1"),
    ({"client_pool": "10.123.0.0/24"}, None, "client_pool", "not a range"),
    ({"client_pool": "10.0.0.0-10.2.0.0"}, None, "client_pool", "at most"),
    ({"client_pool": "10.123.0.10-10.123.0.x"}, None, "client_pool", "not an IPv4 address"),
    ({"dns_servers": "10.0.0.53"}, None, "dns_servers", "JSON list"),
    ({"dns_servers": ["10.0.0.53", "dns"]}, None, "dns_servers[1]", "not an IPv4 address"),
    ({"mtu": 100}, None, "mtu", "out of range"),
    ({"mtu": "1400"}, None, "mtu", "whole number"),
    ({"mru": True}, None, "mru", "whole number"),
    ({"mru": 1400.5}, None, "mru", "whole number"),
    ({"lcp_echo_interval": -1}, None, "lcp_echo_interval", "out of range"),
    ({"host_name": ""}, None, "host_name", "1 to 64"),
    ({"mppe": "maybe"}, None, "mppe", "require, allow, refuse"),
    ({"l2tp.mppe": "maybe"}, None, "l2tp.mppe", "require, allow, refuse"),
    ({"pptp.allowed_auth": ["pap"]}, None, "pptp.mppe", "PPTP but none"),
    ({"mppe": "require", "l2tp.allowed_auth": ["chap-md5"]}, None, "mppe", "L2TP but none"),  # inherited
    ({"mppe_bits": [64]}, None, "mppe_bits[0]", "40, 56 or 128"),
    ({"pptp.mppe_bits": [128, 128]}, None, "pptp.mppe_bits[1]", "at most once"),
    ({"mppe_bits": []}, None, "mppe_bits", "at least one"),
    ({"mppe_stateful": "yes"}, None, "mppe_stateful", "true or false"),
    ({"allowed_auth": ["kerberos"]}, None, "allowed_auth[0]", "not a method"),
    ({"l2tp.allowed_auth": ["pap", "pap"]}, None, "l2tp.allowed_auth[1]", "twice"),
    ({"l2tp.allowed_auth": []}, None, "l2tp.allowed_auth", "at least one"),
    ({"l2tp.secret": ""}, None, "l2tp.secret", "must not be empty"),
    ({"l2tp.secret": 1234}, None, "l2tp.secret", "must be a string"),
    ({"l2tp.port": 0}, None, "l2tp.port", "out of range"),
    ({"pptp": []}, None, "pptp", "JSON object"),
]


@pytest.mark.parametrize(("change", "drop", "field", "words"), BAD, ids=[f"{b[2]}-{i}" for i, b in enumerate(BAD)])
def test_mistakes_name_their_field(change: dict[str, Any], drop: str | None, field: str, words: str) -> None:
    with pytest.raises(GatewayConfigError) as info:
        config_from_dict(_with(change, drop=drop))
    assert info.value.field == field, str(info.value)
    assert words in info.value.message, str(info.value)
    assert str(info.value).startswith(f"{field}: ")
    for secret in SECRETS:
        assert secret not in str(info.value)


def test_a_password_in_the_wrong_type_is_not_echoed() -> None:
    with pytest.raises(GatewayConfigError) as info:
        config_from_dict(_with({"users": {"alice": ["hunter2-alice"]}}))
    assert "hunter2" not in str(info.value)
    assert info.value.field == "users.alice"


def test_repr_hides_secrets() -> None:
    config = config_from_dict(FULL)
    text = repr(config)
    for secret in SECRETS:
        assert secret not in text
    assert "10.123.0.1" in text


def test_not_json_and_not_an_object() -> None:
    with pytest.raises(GatewayConfigError, match=r"not valid JSON: .* line 2 column"):
        parse_config('{"protocols": ["pptp"],\n oops}')
    with pytest.raises(GatewayConfigError, match="must be a JSON object"):
        parse_config("[]")


def test_load_config_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "gw.json"
    path.write_text(json.dumps(MINIMAL))
    assert load_config(path).protocols == ("l2tp",)
    with pytest.raises(GatewayConfigError, match="cannot read the gateway configuration"):
        load_config(tmp_path / "missing.json")


def test_main_gateway_reports_a_bad_config_and_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "gw.json"
    path.write_text(json.dumps(_with({"users": {"alice": ""}, "mppe": "maybe"})))
    out = io.StringIO()
    assert main_gateway(path, out) == 2
    assert out.getvalue().startswith("gateway: bad configuration: users.alice: ")
    for secret in SECRETS:
        assert secret not in out.getvalue()
