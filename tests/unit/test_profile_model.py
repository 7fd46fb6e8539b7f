"""Rules a single field's type cannot express."""

from __future__ import annotations

import dataclasses

import pytest

from wizard.profiles.errors import ValidationError
from wizard.profiles.model import (
    Auth,
    AuthMethod,
    CredentialPolicy,
    CryptoPolicy,
    Gateway,
    MppePolicy,
    PPPOptions,
    Profile,
    Protocol,
    Routing,
    SecretKind,
    TunnelMode,
    default_mppe,
)

BASE = Profile(name="Office", protocol=Protocol.L2TP_IPSEC, gateways=(Gateway("vpn.example.com"),))


def _invalid(field: str, **changes: object) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        dataclasses.replace(BASE, **changes).validate()  # type: ignore[arg-type]
    assert info.value.field == field, str(info.value)
    return info.value


def test_base_profile_is_valid_and_modern() -> None:
    BASE.validate()
    assert BASE.crypto.weaknesses() == []


@pytest.mark.parametrize("name", ["", " Office", "Office ", "a" * 101, "tab\there"])
def test_bad_names(name: str) -> None:
    _invalid("name", name=name)


def test_gateway_host_is_checked() -> None:
    error = _invalid("gateways[1].host", gateways=(Gateway("vpn.example.com"), Gateway("not a host")))
    assert "not a host name" in error.problem


def test_at_least_one_gateway() -> None:
    _invalid("gateways", gateways=())


def test_legacy_ike_needs_allow_legacy() -> None:
    weak = CryptoPolicy(ike_proposals=("3des-sha1-modp1024",))
    error = _invalid("crypto.ike_proposals[0]", crypto=weak)
    assert "allow_legacy" in str(error) and "3DES" in str(error)
    allowed = dataclasses.replace(BASE, crypto=dataclasses.replace(weak, allow_legacy=True))
    allowed.validate()
    assert any("3des" in w for w in allowed.weaknesses())


@pytest.mark.parametrize(
    ("proposal", "problem"),
    [("aes256-sha256", "Diffie-Hellman"), ("aes256-foo-modp2048", "unknown algorithm 'foo'"), ("", "not a proposal")],
)
def test_bad_ike_proposals(proposal: str, problem: str) -> None:
    error = _invalid("crypto.ike_proposals[0]", crypto=CryptoPolicy(ike_proposals=(proposal,)))
    assert problem in str(error)


def test_automatic_needs_fallback_and_pptp_needs_legacy() -> None:
    _invalid("fallback", protocol=Protocol.AUTOMATIC)
    _invalid("fallback", protocol=Protocol.AUTOMATIC, fallback=(Protocol.IKEV2, Protocol.PPTP))
    _invalid("fallback", protocol=Protocol.AUTOMATIC, fallback=(Protocol.AUTOMATIC,))
    _invalid("fallback", protocol=Protocol.L2TP, fallback=(Protocol.L2TP,))
    ok = dataclasses.replace(
        BASE,
        protocol=Protocol.AUTOMATIC,
        fallback=(Protocol.IKEV2, Protocol.PPTP),
        crypto=CryptoPolicy(allow_legacy=True),
    )
    ok.validate()
    assert ok.protocols == (Protocol.IKEV2, Protocol.PPTP)


def test_pptp_is_always_labelled_weak() -> None:
    pptp = dataclasses.replace(BASE, protocol=Protocol.PPTP, ppp=PPPOptions(mppe=MppePolicy.REQUIRE))
    pptp.validate()
    assert any(w.startswith("PPTP") for w in pptp.weaknesses())
    assert any("MPPE" in w for w in pptp.weaknesses())


def test_ppp_ranges() -> None:
    _invalid("ppp.mppe_bits", ppp=PPPOptions(mppe_bits=(64,)))
    _invalid("ppp.mru", ppp=PPPOptions(mru=100))


def test_routes_and_split_tunnel() -> None:
    _invalid("routing.routes[0]", routing=Routing(mode=TunnelMode.SPLIT, routes=("10.0.0.0/33",)))
    _invalid("routing.routes", routing=Routing(mode=TunnelMode.SPLIT, use_pushed_routes=False))


def test_auth_secret_requirements() -> None:
    _invalid("auth.secrets", auth=Auth(method=AuthMethod.PSK, secrets=(SecretKind.PASSWORD,)))
    _invalid("auth.certificate_file", auth=Auth(method=AuthMethod.CERTIFICATE, secrets=()))


def test_never_policy_stores_no_user_name() -> None:
    _invalid("auth.username", auth=Auth(username="alice"), credential_policy=CredentialPolicy.NEVER)
    assert dataclasses.replace(BASE, credential_policy=CredentialPolicy.USERNAME_ONLY).saved_secrets == ()
    assert BASE.saved_secrets == BASE.auth.secrets


def test_default_mppe_follows_the_protocol() -> None:
    assert default_mppe(Protocol.PPTP) is MppePolicy.REQUIRE
    assert default_mppe(Protocol.L2TP) is MppePolicy.ALLOW
    assert default_mppe(Protocol.L2TP_IPSEC) is MppePolicy.REFUSE
