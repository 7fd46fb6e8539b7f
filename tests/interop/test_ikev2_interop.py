"""Our IKEv2 stack against the lab's real strongSwan: scenarios a (PSK), b (EAP-MSCHAPv2, the gateway
proves itself with a certificate) and c (certificates both ways). Each gets a virtual address and DNS
from the configuration payload and pings the gateway's inside address 100 times through ESP tunnel
mode; charon's log must show the CHILD_SA; nothing is left behind."""

from __future__ import annotations

import ipaddress

import pytest

from tests.interop.conftest import Lab
from tests.interop.test_ipsec_interop import _run
from tests.interop.test_ppp_interop import PINGS, _received
from wizard.profiles.model import Auth, AuthMethod, Gateway, Profile, Protocol, SecretKind
from wizard.stacks.base import StackError

pytestmark = pytest.mark.interop


def _auth(lab: Lab, kind: str) -> Auth:
    if kind == "psk":
        return Auth(method=AuthMethod.PSK, secrets=(SecretKind.PSK,))
    if kind == "eap":
        return Auth(
            method=AuthMethod.EAP_MSCHAPV2, username=lab.user, secrets=(SecretKind.PASSWORD,), ca_file=str(lab.ca_cert)
        )
    return Auth(
        method=AuthMethod.CERTIFICATE,
        secrets=(),
        certificate_file=str(lab.client_cert),
        private_key_file=str(lab.client_key),
        ca_file=str(lab.ca_cert),
        local_id=lab.client_identity,
    )


@pytest.mark.parametrize(
    ("kind", "pool", "connection", "shown"),
    [
        ("psk", "10.88.1.0/24", "ikev2-psk", "pre-shared key"),
        ("eap", "10.88.2.0/24", "ikev2-eap", "EAP-MSCHAPv2 (gateway: certificate)"),
        ("cert", "10.88.3.0/24", "ikev2-cert", "certificate"),
    ],
)
def test_ikev2_against_strongswan(lab: Lab, kind: str, pool: str, connection: str, shown: str) -> None:
    offset = lab.log_offset()
    profile = Profile(
        name=f"lab ikev2 {kind}", protocol=Protocol.IKEV2, gateways=(Gateway(lab.gateway),), auth=_auth(lab, kind)
    )
    connected, output, leftover = _run(lab.namespace, profile, {"password": lab.password, "psk": lab.psk}, lab.inside)
    settings = connected.settings
    negotiated = connected.negotiated.as_dict()
    assert ipaddress.ip_address(settings.local_ipv4) in ipaddress.ip_network(pool), settings
    assert settings.dns_servers == lab.dns_servers
    assert negotiated["authentication"] == shown and negotiated["esp"].startswith("ESP tunnel")
    assert _received(output) == PINGS, output
    assert leftover == [], leftover
    print(f"\nikev2 {kind}: {negotiated}\n{output.strip()}")
    lab.wait_for_server_log(offset, rf"charon.*<{connection}\|\d+> CHILD_SA \S+ established")


def test_ikev2_wrong_eap_password_fails_in_plain_language(lab: Lab) -> None:
    profile = Profile(
        name="lab ikev2 bad", protocol=Protocol.IKEV2, gateways=(Gateway(lab.gateway),), auth=_auth(lab, "eap")
    )
    with pytest.raises(StackError) as info:
        _run(lab.namespace, profile, {"password": "wrong-password"}, "")
    assert "password" in info.value.reason, info.value.reason
