"""Profile -> stack configuration: every mapping and every contradiction with a clear reason."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from wizard.profiles.model import (
    Auth,
    AuthMethod,
    Gateway,
    MppePolicy,
    PPPAuth,
    PPPOptions,
    Profile,
    Protocol,
    SecretKind,
)
from wizard.stacks.automatic import AutomaticStack
from wizard.stacks.base import StackError
from wizard.stacks.registry import build_stack, ikev1_config_factory, ikev2_config_factory, ppp_config_for


def _profile(protocol: Protocol, **auth: object) -> Profile:
    return Profile(name="p", protocol=protocol, gateways=(Gateway("vpn.example.com"),), auth=Auth(**auth))  # type: ignore[arg-type]


def _write_cert(tmp_path: Path, key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> tuple[Path, Path]:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "client.example")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "c.pem", tmp_path / "k.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def test_ppp_settings_follow_the_profile() -> None:
    profile = Profile(
        name="p",
        protocol=Protocol.PPTP,
        gateways=(Gateway("10.0.0.1"),),
        auth=Auth(username="alice", ppp_methods=(PPPAuth.MSCHAPV2, PPPAuth.PAP)),
        ppp=PPPOptions(mppe=MppePolicy.REQUIRE, mppe_bits=(40, 128), mppe_stateful=True, mru=1300),
    )
    config = ppp_config_for(profile, {"password": "pw"})
    assert (config.username, config.password, config.allowed_auth) == ("alice", "pw", ("mschapv2", "pap"))
    assert (config.mppe, config.mppe_bits, config.allow_stateful, config.mru) == ("require", (40, 128), True, 1300)


def test_mppe_required_without_an_ms_chap_method_is_refused() -> None:
    profile = _profile(Protocol.PPTP, ppp_methods=(PPPAuth.PAP,))
    profile = Profile(**{**profile.__dict__, "ppp": PPPOptions(mppe=MppePolicy.REQUIRE)})
    with pytest.raises(StackError, match="PPP settings cannot work"):
        ppp_config_for(profile, {"password": "pw"})


def test_missing_secrets_are_named() -> None:
    with pytest.raises(StackError, match="no password"):
        build_stack(_profile(Protocol.L2TP), {}, lambda e: None, None)  # type: ignore[arg-type]
    with pytest.raises(StackError, match="no pre-shared key"):
        ikev1_config_factory(_profile(Protocol.L2TP_IPSEC), {"password": "pw"}, mode="l2tp")


def test_ikev1_certificate_sign_in_uses_rsa_signatures(tmp_path: Path) -> None:
    cert, key = _write_cert(tmp_path, rsa.generate_private_key(public_exponent=65537, key_size=2048))
    profile = _profile(
        Protocol.IKEV1_XAUTH,
        method=AuthMethod.CERTIFICATE,
        secrets=(SecretKind.PASSWORD,),
        certificate_file=str(cert),
        private_key_file=str(key),
        username="alice",
    )
    config = ikev1_config_factory(profile, {"password": "pw"}, mode="xauth")("192.0.2.2", "192.0.2.1")
    assert config.auth == "rsa" and config.certificate is not None and config.private_key is not None
    assert config.xauth and config.xauth_username == "alice"


def test_ikev1_refuses_an_ecdsa_key_and_points_to_ikev2(tmp_path: Path) -> None:
    cert, key = _write_cert(tmp_path, ec.generate_private_key(ec.SECP256R1()))
    profile = _profile(
        Protocol.L2TP_IPSEC,
        method=AuthMethod.CERTIFICATE,
        secrets=(),
        certificate_file=str(cert),
        private_key_file=str(key),
    )
    with pytest.raises(StackError, match="use IKEv2"):
        ikev1_config_factory(profile, {}, mode="l2tp")


def test_ikev2_eap_needs_the_gateway_ca_and_unreadable_files_are_named(tmp_path: Path) -> None:
    eap = _profile(Protocol.IKEV2, method=AuthMethod.EAP_MSCHAPV2, username="alice")
    with pytest.raises(StackError, match="CA certificate"):
        ikev2_config_factory(eap, {"password": "pw"}, "vpn.example.com")
    missing = _profile(
        Protocol.IKEV2, method=AuthMethod.EAP_MSCHAPV2, username="alice", ca_file=str(tmp_path / "no.pem")
    )
    with pytest.raises(StackError, match="cannot read the CA certificate file"):
        ikev2_config_factory(missing, {"password": "pw"}, "vpn.example.com")


def test_ikev2_psk_config_checks_the_gateway_name() -> None:
    profile = _profile(Protocol.IKEV2, method=AuthMethod.PSK, secrets=(SecretKind.PSK,))
    config = ikev2_config_factory(profile, {"psk": "k"}, "vpn.example.com")("192.0.2.2", "192.0.2.1")
    assert config.auth == "psk" and config.peer_id == "vpn.example.com"


def test_automatic_profile_builds_the_fallback_stack() -> None:
    profile = Profile(
        name="p",
        protocol=Protocol.AUTOMATIC,
        fallback=(Protocol.IKEV2, Protocol.L2TP),
        gateways=(Gateway("vpn.example.com"),),
    )
    stack = build_stack(profile, {"password": "pw"}, lambda e: None, None)  # type: ignore[arg-type]
    assert isinstance(stack, AutomaticStack) and stack.order == (Protocol.IKEV2, Protocol.L2TP)
