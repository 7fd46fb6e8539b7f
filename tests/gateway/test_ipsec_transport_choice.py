"""How the gateway tells host-to-host transport mode from L2TP/IPsec: not in phase 1, by the Quick Mode IDs.

Our real client configurations (from the registry) negotiate in memory with the responder
configuration the gateway's IPsec server builds; the child SA that comes up names the service.
"""

from __future__ import annotations

import copy
import dataclasses
import random
from typing import Any

import pytest

from tests.pairs.ikev1_harness import CLIENT, GATEWAY, Pair, rng_bytes
from wizard.engine.crypto.suites import cipher, integrity
from wizard.engine.ike.v1.config import IKEv1Config
from wizard.engine.ike.v1.connection import IKEv1Connection
from wizard.engine.ike.v1.events import ChildSA, ChildSAUp, ConnectionFailed
from wizard.engine.ike.v1.identities import TrafficSelector
from wizard.profiles.model import Auth, Gateway, Profile, Protocol, SecretKind
from wizard.stacks.gateway.config import GatewayConfigError, config_from_dict
from wizard.stacks.gateway.ipsec_server import IpsecServer, phase1_start
from wizard.stacks.gateway.ipsec_transport import quick_mode_service, refusal, responder_selector
from wizard.stacks.gateway.shared import GatewayShared
from wizard.stacks.registry import ikev1_config_factory

PSK = "s3cret"
BASE: dict[str, Any] = {
    "protocols": [],
    "users": {"bob": "builder-42"},
    "server_address": "10.123.0.1",
    "client_pool": "10.123.0.10-10.123.0.20",
    "ipsec": {"psk": PSK},
}
BOTH = ("l2tp_ipsec", "ipsec_transport")


def _server(services: tuple[str, ...]) -> IpsecServer:
    data = copy.deepcopy(BASE)
    data["ipsec"]["services"] = list(services)
    return IpsecServer(GatewayShared(config_from_dict(data), lambda _line: None), None)


def _client(mode: str) -> IKEv1Config:
    protocol = Protocol.IPSEC_TRANSPORT if mode == "transport" else Protocol.L2TP_IPSEC
    secrets = (SecretKind.PSK,) if mode == "transport" else (SecretKind.PSK, SecretKind.PASSWORD)
    profile = Profile(name="choice", protocol=protocol, gateways=(Gateway(GATEWAY),), auth=Auth(username="bob", secrets=secrets))
    config = ikev1_config_factory(profile, {"psk": PSK, "password": "builder-42"}, mode=mode)(CLIENT, GATEWAY)
    return dataclasses.replace(config, random_bytes=rng_bytes(1))


def _negotiate(mode: str, services: tuple[str, ...]) -> tuple[Pair, IpsecServer]:
    server = _server(services)
    client = _client(mode)
    gateway = server.ike_config(GATEWAY, CLIENT, _phase1_service(client, services), lambda _user: None)
    pair = Pair(client, dataclasses.replace(gateway, random_bytes=rng_bytes(2)))
    pair.start()
    pair.run(30.0, stop=lambda p: bool(p.events("r", ChildSAUp)) or bool(p.events("i", ConnectionFailed)))
    return pair, server


def _phase1_service(client: IKEv1Config, services: tuple[str, ...]) -> str:
    conn = IKEv1Connection("initiator", client)
    conn.connect(0.0)
    (first,) = conn.datagrams_to_send()
    start = phase1_start(first.data, 500, services)
    assert start is not None
    return start.service


@pytest.mark.parametrize(
    ("mode", "services", "service"),
    [
        ("transport", BOTH, "ipsec_transport"),
        ("l2tp", BOTH, "l2tp_ipsec"),
        ("transport", ("ipsec_transport",), "ipsec_transport"),
        ("l2tp", ("l2tp_ipsec",), "l2tp_ipsec"),
    ],
)
def test_the_quick_mode_ids_name_the_service(mode: str, services: tuple[str, ...], service: str) -> None:
    pair, server = _negotiate(mode, services)
    (up,) = pair.events("r", ChildSAUp)
    assert up.sa.mode == "transport"
    assert quick_mode_service(up.sa, services, server.l2tp_port) == service


def test_a_host_to_host_client_at_an_l2tp_only_gateway_is_refused_in_quick_mode() -> None:
    pair, _ = _negotiate("transport", ("l2tp_ipsec",))
    assert not pair.events("r", ChildSAUp)
    failed = pair.events("i", ConnectionFailed)
    assert failed and "traffic selectors" in failed[0].reason, failed


def test_an_l2tp_client_at_a_host_to_host_only_gateway_fits_no_service() -> None:
    """The engine cannot say "all protocols and nothing narrower", so the gateway refuses after Quick Mode."""
    services = ("ipsec_transport",)
    pair, server = _negotiate("l2tp", services)
    (up,) = pair.events("r", ChildSAUp)
    assert quick_mode_service(up.sa, services, server.l2tp_port) is None
    why = refusal(up.sa, services)
    assert "[17/1701]" in why and "serves only host-to-host transport mode" in why, why


def _child(local: TrafficSelector, remote: TrafficSelector, mode: str = "transport") -> ChildSA:
    return ChildSA(1000, 2000, cipher("aes256"), integrity("sha256"), b"k" * 32, b"k" * 32, b"a" * 32, b"a" * 32,
                   mode, local, remote, GATEWAY, CLIENT)  # fmt: skip


def test_selectors_that_are_neither_service_fit_none() -> None:
    host_any = (TrafficSelector.host(GATEWAY), TrafficSelector.host(CLIENT))
    assert quick_mode_service(_child(*host_any), BOTH, 1701) == "ipsec_transport"
    assert quick_mode_service(_child(*host_any, mode="tunnel"), BOTH, 1701) is None
    assert quick_mode_service(_child(*host_any), ("l2tp_ipsec",), 1701) is None
    tcp = (TrafficSelector.host(GATEWAY, 6, 22), TrafficSelector.host(CLIENT, 6, 0))
    assert quick_mode_service(_child(*tcp), BOTH, 1701) is None
    subnet = (TrafficSelector.host(GATEWAY), TrafficSelector.network("192.0.2.0/24"))
    assert quick_mode_service(_child(*subnet), BOTH, 1701) is None
    other_port = (TrafficSelector.host(GATEWAY, 17, 1702), TrafficSelector.host(CLIENT, 17, 0))
    assert quick_mode_service(_child(*other_port), BOTH, 1701) is None
    assert quick_mode_service(_child(*other_port), BOTH, 1702) == "l2tp_ipsec"
    l2tp_any_source = (TrafficSelector.host(GATEWAY, 17, 1701), TrafficSelector.host(CLIENT))
    assert quick_mode_service(_child(*l2tp_any_source), BOTH, 1701) == "l2tp_ipsec"


def test_the_responder_allows_all_protocols_only_when_host_to_host_is_served() -> None:
    assert responder_selector(GATEWAY, BOTH, 1701) == TrafficSelector.host(GATEWAY)
    assert responder_selector(GATEWAY, ("l2tp_ipsec", "ikev1_xauth"), 1701) == TrafficSelector.host(GATEWAY, 17, 1701)


def test_phase1_of_a_pre_shared_key_client_goes_to_a_transport_service() -> None:
    plain = _first(xauth=False)
    xauth = _first(xauth=True)
    assert _service(plain, ("ipsec_transport",)) == "ipsec_transport"
    assert _service(plain, ("ikev1_xauth", "ipsec_transport")) == "ipsec_transport"
    assert _service(plain, ("ipsec_transport", "l2tp_ipsec")) == "l2tp_ipsec"  # provisional; Quick Mode decides
    assert _service(xauth, ("ipsec_transport", "ikev1_xauth")) == "ikev1_xauth"


def _first(xauth: bool) -> bytes:
    config = IKEv1Config(
        local_address=CLIENT, peer_address=GATEWAY, psk="k", xauth=xauth, xauth_username="bob" if xauth else None,
        xauth_password="pw" if xauth else None, random_bytes=random.Random(3).randbytes,
    )  # fmt: skip
    conn = IKEv1Connection("initiator", config)
    conn.connect(0.0)
    (datagram,) = conn.datagrams_to_send()
    return datagram.data


def _service(message: bytes, services: tuple[str, ...]) -> str:
    start = phase1_start(message, 500, services)
    assert start is not None
    return start.service


def test_the_service_is_opt_in_and_validated() -> None:
    assert config_from_dict(copy.deepcopy(BASE)).ipsec.services == ("l2tp_ipsec", "ikev1_xauth")  # type: ignore[union-attr]
    data = copy.deepcopy(BASE)
    data["ipsec"]["services"] = ["ipsec_transport"]
    assert config_from_dict(data).ipsec.services == ("ipsec_transport",)  # type: ignore[union-attr]
    data["ipsec"]["services"] = ["host_to_host"]
    with pytest.raises(GatewayConfigError) as info:
        config_from_dict(data)
    assert "ipsec_transport" in str(info.value)
