"""The gateway's IKEv2 responder in memory: one connection accepts PSK, certificate and EAP-MSCHAPv2
clients, choosing by the client's first IKE_AUTH request; refusals keep the engine's plain reasons.
Also: telling IKEv2 datagrams from IKEv1 ones on the shared ports."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.gateway.ikev2_pki import PkiFiles, write_pki
from tests.pairs.ikev2_harness import CLIENT, GATEWAY, Pair, client_config
from wizard.engine.ike.v1.config import IKEv1Config
from wizard.engine.ike.v1.connection import IKEv1Connection
from wizard.engine.ike.v1.natt import NON_ESP_MARKER
from wizard.engine.ike.v2 import events as ev
from wizard.engine.ike.v2.config import AddressLease, IKEv2Config
from wizard.engine.ike.v2.connection import IKEv2Connection
from wizard.stacks.gateway.config import config_from_dict
from wizard.stacks.gateway.ikev2_responder import (
    GatewayResponder,
    client_auth_kind,
    ikev2_header,
    responder_configs,
    sa_init_spi,
)

USERS = {"alice": "wonderland-7"}
PSK = "own-ikev2-psk"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PkiFiles:
    return write_pki(tmp_path_factory.mktemp("pki"), GATEWAY)


def _gateway(pki: PkiFiles, **ipsec: Any) -> GatewayResponder:
    section = {
        "psk": PSK,
        "services": ["ikev2"],
        "certificate_file": str(pki.gateway_cert),
        "private_key_file": str(pki.gateway_key),
        "ca_file": str(pki.ca),
        **ipsec,
    }
    config = config_from_dict({"listen": GATEWAY, "protocols": [], "users": USERS, "server_address": "10.123.0.1",
                               "client_pool": "10.123.0.10-10.123.0.20", "ipsec": section})  # fmt: skip
    assert config.ipsec is not None
    leases: list[str] = []

    def lease(who: str) -> AddressLease:
        leases.append(who)
        return AddressLease("10.123.0.10", None, ("10.123.0.53",))

    return GatewayResponder(responder_configs(config.ipsec, config.users, GATEWAY, CLIENT, lease))


def _client_cert(path: Path, key: Path) -> dict[str, Any]:
    return {
        "certificate": x509.load_pem_x509_certificate(path.read_bytes()),
        "private_key": serialization.load_pem_private_key(key.read_bytes(), None),
    }


def _client(pki: PkiFiles, kind: str, **changes: Any) -> IKEv2Config:
    ca = (x509.load_pem_x509_certificate(pki.ca.read_bytes()),)
    base = client_config(peer_id=GATEWAY, wall_clock=_now, ca_certificates=ca)
    if kind == "psk":
        return replace(base, **{"psk": PSK, **changes})
    if kind == "cert":
        return replace(base, auth="cert", psk=None, **{**_client_cert(pki.client_cert, pki.client_key), **changes})
    eap = {"eap_username": "alice", "eap_password": USERS["alice"], "local_id": "alice"}
    return replace(base, auth="eap", psk=None, **{**eap, **changes})


def _pair(client: IKEv2Config, gateway: GatewayResponder) -> Pair:
    pair = Pair(client, gateway.config)
    pair.r = gateway
    pair.responders = [gateway]
    pair.start()
    pair.run(60.0, lambda q: q.up() or bool(q.events("i", ev.Closed)))
    return pair


@pytest.mark.parametrize(
    ("kind", "gateway_auth", "client_auth"),
    [
        ("psk", "psk", "psk"),
        ("cert", "RSA/SHA256 (RFC 7427)", "ECDSA/SHA256 (RFC 7427)"),
        ("eap", "RSA/SHA256 (RFC 7427)", "eap (EAP-MSCHAPv2)"),
    ],
)
def test_one_gateway_serves_every_sign_in(pki: PkiFiles, kind: str, gateway_auth: str, client_auth: str) -> None:
    gateway = _gateway(pki)
    pair = _pair(_client(pki, kind), gateway)
    assert pair.up(), (pair.iev, pair.rev)
    assert gateway.client_auth == kind
    i_up, r_up = pair.events("i", ev.IKESAUp)[0], pair.events("r", ev.IKESAUp)[0]
    assert (i_up.peer_auth, r_up.peer_auth) == (gateway_auth, client_auth)
    if kind == "eap":
        assert r_up.eap_identity == "alice"
    config = pair.events("i", ev.ConfigReceived)[0]
    assert config.address == "10.123.0.10" and config.dns == ("10.123.0.53",)
    assert str(pair.events("r", ev.ChildSAUp)[0].sa.remote_ts).startswith("10.123.0.10")


def test_a_method_the_gateway_does_not_accept_is_refused_plainly(pki: PkiFiles) -> None:
    gateway = _gateway(pki, ikev2_auth=["psk"], certificate_file=None, private_key_file=None, ca_file=None)
    pair = _pair(_client(pki, "eap"), gateway)
    assert not pair.up()
    reason = pair.events("r", ev.ConnectionFailed)[0].reason
    assert "asked for EAP" in reason and "pre-shared key" in reason, reason
    assert pair.events("i", ev.ConnectionFailed)


def test_wrong_psk_and_untrusted_certificate(pki: PkiFiles) -> None:
    pair = _pair(_client(pki, "psk", psk="not-the-key"), _gateway(pki))
    assert "pre-shared key is probably wrong" in pair.events("r", ev.ConnectionFailed)[0].reason
    assert "pre-shared key" in pair.events("i", ev.ConnectionFailed)[0].reason
    stranger = _client(pki, "cert", **_client_cert(pki.stranger_cert, pki.stranger_key))
    pair = _pair(stranger, _gateway(pki))
    assert "is not trusted" in pair.events("r", ev.ConnectionFailed)[0].reason


def test_wrong_eap_password(pki: PkiFiles) -> None:
    pair = _pair(_client(pki, "eap", eap_password="not-alices"), _gateway(pki))
    assert not pair.up()
    assert "rejected the user name or password" in pair.events("i", ev.ConnectionFailed)[0].reason
    assert "user 'alice'" in pair.events("r", ev.ConnectionFailed)[0].reason


def test_require_cookie_answers_the_first_request_with_a_cookie(pki: PkiFiles) -> None:
    from wizard.engine.ike.payloads import decode_chain, decode_header
    from wizard.engine.ike.v2.constants import NotifyType, PayloadType
    from wizard.engine.ike.v2.messages import NotifyPayload

    gateway = _gateway(pki, require_cookie=True)
    pair = _pair(_client(pki, "psk"), gateway)
    assert pair.up()
    first = pair.r_sent[0][0]
    header = decode_header(first)
    payloads = decode_chain(header.next_payload, first[28:]).payloads
    assert [NotifyPayload.decode(p.body).notify_type for p in payloads if p.type == PayloadType.NOTIFY] == [NotifyType.COOKIE]
    assert header.spi_r == bytes(8)  # stateless: no IKE SA yet


def test_auth_kind_of_a_first_auth_request() -> None:
    from wizard.engine.ike.payloads import Payload
    from wizard.engine.ike.v2.constants import AuthMethod, PayloadType
    from wizard.engine.ike.v2.messages import AuthPayload

    def auth(method: int) -> tuple[Payload, ...]:
        return (Payload(PayloadType.IDI, b"\x01\x00\x00\x00" + bytes(4)), Payload(PayloadType.AUTH, AuthPayload(method, b"x").encode()))

    assert client_auth_kind(auth(AuthMethod.PSK)) == "psk"
    assert client_auth_kind(auth(AuthMethod.DIGITAL_SIGNATURE)) == "cert"
    assert client_auth_kind(auth(AuthMethod.ECDSA_256)) == "cert"
    assert client_auth_kind(auth(AuthMethod.PSK)[:1]) == "eap"
    assert client_auth_kind((Payload(PayloadType.AUTH, b"\x02"),)) is None


def test_ikev2_datagrams_are_told_from_ikev1_ones() -> None:
    v2 = IKEv2Connection("initiator", client_config())
    v2.connect(0.0)
    first = v2.datagrams_to_send()[0].data
    header = ikev2_header(first, 500)
    assert header is not None and sa_init_spi(header) == first[:8]
    assert ikev2_header(NON_ESP_MARKER + first, 4500) is not None
    assert ikev2_header(first, 4500) is None  # no non-ESP marker: ESP, not IKE
    v1 = IKEv1Connection("initiator", IKEv1Config(local_address=CLIENT, peer_address=GATEWAY, psk="x"))
    v1.connect(0.0)
    assert ikev2_header(v1.datagrams_to_send()[0].data, 500) is None
    assert ikev2_header(b"\x00" * 10, 500) is None
    # A response, or a later request, starts nothing.
    response = first[:19] + bytes([first[19] | 0x20]) + first[20:]
    later = first[:8] + b"\x01" * 8 + first[16:]
    for data in (response, later):
        h = ikev2_header(data, 500)
        assert h is not None and sa_init_spi(h) is None
