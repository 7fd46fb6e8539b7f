"""The gateway's ``ipsec`` section and how the IPsec server tells its services apart from the first message."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest

from wizard.engine.ike.v1.config import IKEv1Config
from wizard.engine.ike.v1.connection import IKEv1Connection
from wizard.stacks.gateway.config import GatewayConfigError, config_from_dict
from wizard.stacks.gateway.ipsec_server import phase1_start

BASE: dict[str, Any] = {
    "protocols": [],
    "users": {"alice": "hunter2-alice"},
    "server_address": "10.123.0.1",
    "client_pool": "10.123.0.10-10.123.0.20",
    "ipsec": {"psk": "hunter2-psk"},
}


def _with(**ipsec: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data["ipsec"].update(ipsec)
    return data


def test_minimal_ipsec_section_serves_both_services_with_modern_defaults() -> None:
    config = config_from_dict(BASE)
    assert config.protocols == ()
    assert config.ipsec is not None
    assert config.ipsec.services == ("l2tp_ipsec", "ikev1_xauth")
    assert config.ipsec.psk == "hunter2-psk" and not config.ipsec.allow_legacy
    assert config.ipsec.ike_proposals[0] == "aes256-sha256-modp2048"
    assert "hunter2-psk" not in repr(config)


def test_legacy_proposals_need_allow_legacy() -> None:
    legacy = {"ike_proposals": ["3des-sha1-modp1024"], "esp_proposals": ["3des-sha1"]}
    with pytest.raises(GatewayConfigError) as info:
        config_from_dict(_with(**legacy))
    assert info.value.field == "ipsec.ike_proposals[0]" and "allow_legacy" in info.value.message
    config = config_from_dict(_with(allow_legacy=True, **legacy))
    assert config.ipsec is not None and config.ipsec.ike_proposals == ("3des-sha1-modp1024",)


def test_without_ipsec_protocols_must_not_be_empty() -> None:
    data = copy.deepcopy(BASE)
    del data["ipsec"]
    with pytest.raises(GatewayConfigError) as info:
        config_from_dict(data)
    assert info.value.field == "protocols"


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"psk": ""}, "ipsec.psk", "non-empty"),
        ({"psk": 7}, "ipsec.psk", "non-empty"),
        ({"servcies": []}, "ipsec.servcies", "unknown field"),
        ({"services": []}, "ipsec.services", "at least one"),
        ({"services": ["ikev3"]}, "ipsec.services[0]", "not served"),
        ({"services": ["l2tp_ipsec", "l2tp_ipsec"]}, "ipsec.services[1]", "twice"),
        ({"ike_proposals": ["aes256-sha256"]}, "ipsec.ike_proposals[0]", "Diffie-Hellman"),
        ({"ike_proposals": ["aes256gcm16-prfsha256-modp2048"]}, "ipsec.ike_proposals", "IKEv1"),
        ({"esp_proposals": ["rot13-sha1"]}, "ipsec.esp_proposals[0]", "unknown algorithm"),
        ({"esp_proposals": []}, "ipsec.esp_proposals", "at least one"),
        ({"allow_legacy": "yes"}, "ipsec.allow_legacy", "true or false"),
        ({"dpd_interval": -1}, "ipsec.dpd_interval", "0 to 3600"),
        ({"force_encapsulation": 1}, "ipsec.force_encapsulation", "true or false"),
    ],
)
def test_mistakes_name_their_field(change: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(GatewayConfigError) as info:
        config_from_dict(_with(**change))
    assert info.value.field == field, info.value
    assert words in info.value.message, info.value.message
    assert "hunter2" not in str(info.value)


def test_ipsec_section_must_be_an_object() -> None:
    data = copy.deepcopy(BASE)
    data["ipsec"] = ["psk"]
    with pytest.raises(GatewayConfigError) as info:
        config_from_dict(data)
    assert info.value.field == "ipsec"


def _first_message(xauth: bool) -> bytes:
    config = IKEv1Config(
        local_address="192.0.2.2",
        peer_address="192.0.2.1",
        psk="k",
        xauth=xauth,
        xauth_username="alice" if xauth else None,
        xauth_password="pw" if xauth else None,
        random_bytes=random.Random(3).randbytes,
    )
    conn = IKEv1Connection("initiator", config)
    conn.connect(0.0)
    (datagram,) = conn.datagrams_to_send()
    return datagram.data


def test_the_first_main_mode_message_names_the_service() -> None:
    both = ("l2tp_ipsec", "ikev1_xauth")
    plain, xauth = _first_message(False), _first_message(True)
    assert phase1_start(plain, 500, both) is not None
    assert phase1_start(plain, 500, both).service == "l2tp_ipsec"  # type: ignore[union-attr]
    start = phase1_start(xauth, 500, both)
    assert start is not None and start.service == "ikev1_xauth" and start.cookie == xauth[:8]
    # On the NAT-T port the message sits behind the non-ESP marker.
    assert phase1_start(bytes(4) + xauth, 4500, both) == start
    # Only one service: that one (the engine then refuses a mismatch with a plain reason).
    assert phase1_start(xauth, 500, ("l2tp_ipsec",)).service == "l2tp_ipsec"  # type: ignore[union-attr]


def test_anything_but_a_first_message_is_not_a_start() -> None:
    both = ("l2tp_ipsec", "ikev1_xauth")
    message = _first_message(False)
    assert phase1_start(message[:8] + b"\x01" * 8 + message[16:], 500, both) is None  # responder cookie set
    assert phase1_start(message, 4500, both) is None  # no non-ESP marker on 4500
    rng = random.Random(5)
    for _ in range(300):
        junk = bytearray(message)
        for _ in range(rng.randrange(1, 6)):
            junk[rng.randrange(len(junk))] = rng.randrange(256)
        phase1_start(bytes(junk), 500, both)  # never raises
        phase1_start(rng.randbytes(rng.randrange(0, 80)), 500, both)
