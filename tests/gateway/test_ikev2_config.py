"""The ``ipsec`` section's ``ikev2`` service: accepted sign-ins, the gateway's certificate, and mistakes
named by their field."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests.gateway.ikev2_pki import PkiFiles, _name, certificate, key_pem, pem, write_pki
from wizard.stacks.gateway.config import GatewayConfigError, config_from_dict, load_config

GATEWAY = "192.0.2.1"
BASE: dict[str, Any] = {
    "listen": GATEWAY,
    "protocols": [],
    "users": {"alice": "hunter2-alice"},
    "server_address": "10.123.0.1",
    "client_pool": "10.123.0.10-10.123.0.20",
    "ipsec": {"psk": "hunter2-psk", "services": ["ikev2"]},
}


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PkiFiles:
    return write_pki(tmp_path_factory.mktemp("pki"), GATEWAY)


def _with(drop: tuple[str, ...] = (), top: dict[str, Any] | None = None, **ipsec: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data["ipsec"].update(ipsec)
    for key in drop:
        del data["ipsec"][key]
    data.update(top or {})
    return data


def _files(pki: PkiFiles, ca: bool = True) -> dict[str, str]:
    out = {"certificate_file": str(pki.gateway_cert), "private_key_file": str(pki.gateway_key)}
    return {**out, "ca_file": str(pki.ca)} if ca else out


def test_ikev2_with_a_psk_only() -> None:
    config = config_from_dict(BASE)
    ipsec = config.ipsec
    assert ipsec is not None and ipsec.ikev2 is not None
    assert ipsec.services == ("ikev2",) and ipsec.ikev1_services == ()
    assert ipsec.ikev2.client_auth == ("psk",)
    assert ipsec.ikev2.certificate is None and not ipsec.ikev2.require_cookie
    assert "hunter2" not in repr(config)


def test_every_method_the_files_allow_by_default(pki: PkiFiles) -> None:
    config = config_from_dict(_with(services=["ikev1_xauth", "ikev2"], **_files(pki)))
    ipsec = config.ipsec
    assert ipsec is not None and ipsec.ikev2 is not None
    assert ipsec.ikev1_services == ("ikev1_xauth",)
    assert ipsec.ikev2.client_auth == ("psk", "cert", "eap")
    assert ipsec.ikev2.certificate is not None and ipsec.ikev2.names(GATEWAY)
    assert len(ipsec.ikev2.ca_certificates) == 1 and ipsec.ikev2.certificate_chain == ()
    assert "PRIVATE" not in repr(ipsec.ikev2) and "private_key=" not in repr(ipsec.ikev2)


def test_relative_file_names_are_read_next_to_the_configuration(tmp_path: Path) -> None:
    files = write_pki(tmp_path, GATEWAY)
    data = _with(drop=("psk",), certificate_file=files.gateway_cert.name, private_key_file="./gateway.key")
    path = tmp_path / "gateway.json"
    path.write_text(json.dumps(data))
    config = load_config(path)
    assert config.ipsec is not None and config.ipsec.ikev2 is not None
    assert config.ipsec.psk == ""  # not needed: EAP only
    assert config.ipsec.ikev2.client_auth == ("eap",)


def test_ikev2_alone_may_use_aead_ike_proposals() -> None:
    config = config_from_dict(_with(ike_proposals=["aes256gcm16-prfsha256-ecp256"], esp_proposals=["aes256gcm16"]))
    assert config.ipsec is not None and config.ipsec.ike_proposals == ("aes256gcm16-prfsha256-ecp256",)
    with pytest.raises(GatewayConfigError) as info:
        config_from_dict(_with(services=["ikev1_xauth", "ikev2"], ike_proposals=["aes256gcm16-prfsha256-ecp256"]))
    assert info.value.field == "ipsec.ike_proposals" and "IKEv1" in info.value.message


def test_local_id_must_be_named_by_the_certificate(pki: PkiFiles) -> None:
    config = config_from_dict(_with(local_id="gateway.test", top={"listen": "0.0.0.0"}, **_files(pki)))
    assert config.ipsec is not None and config.ipsec.ikev2 is not None
    assert config.ipsec.ikev2.local_id == "gateway.test"
    with pytest.raises(GatewayConfigError) as info:
        config_from_dict(_with(local_id="vpn.example.org", **_files(pki)))
    assert info.value.field == "ipsec.local_id" and "does not name vpn.example.org" in info.value.message


def test_the_certificate_must_name_the_listen_address_without_local_id(pki: PkiFiles) -> None:
    with pytest.raises(GatewayConfigError) as info:
        config_from_dict(_with(top={"listen": "192.0.2.9"}, **_files(pki)))
    assert info.value.field == "ipsec.certificate_file", info.value
    assert "does not name 192.0.2.9" in info.value.message and "local_id" in info.value.message
    # Listening on every address: the client's view is unknown, the gateway presents the address contacted.
    config_from_dict(_with(top={"listen": "0.0.0.0"}, **_files(pki)))


def _other_key(tmp: Path) -> Path:
    path = tmp / "other.key"
    path.write_bytes(key_pem(ec.generate_private_key(ec.SECP256R1())))
    return path


def _encrypted_key(tmp: Path) -> Path:
    path = tmp / "encrypted.key"
    path.write_bytes(key_pem(ec.generate_private_key(ec.SECP256R1()), b"passphrase"))
    return path


def _expired_certificate(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = certificate(_name("old"), key, _name("old"), key, days=(-30, -1))
    (tmp / "old.pem").write_bytes(pem(cert))
    (tmp / "old.key").write_bytes(key_pem(key))
    return tmp / "old.pem", tmp / "old.key"


@pytest.mark.parametrize(
    ("case", "field", "words"),
    [
        ("psk listed, none given", "ipsec.psk", "required"),
        ("nothing to sign in with", "ipsec.ikev2_auth", "needs a psk, or certificate_file"),
        ("eap without a certificate", "ipsec.ikev2_auth[0]", "eap needs certificate_file"),
        ("cert without a CA", "ipsec.ikev2_auth[1]", "ca_file"),
        ("unknown method", "ipsec.ikev2_auth[0]", "not a method"),
        ("method twice", "ipsec.ikev2_auth[1]", "twice"),
        ("empty method list", "ipsec.ikev2_auth", "non-empty"),
        ("certificate without key", "ipsec.private_key_file", "required with certificate_file"),
        ("key without certificate", "ipsec.certificate_file", "required with private_key_file"),
        ("key of another certificate", "ipsec.private_key_file", "does not belong"),
        ("encrypted key", "ipsec.private_key_file", "encrypted"),
        ("missing file", "ipsec.certificate_file", "cannot read"),
        ("CA file without a certificate", "ipsec.ca_file", "no PEM certificate"),
        ("CA without the gateway's certificate", "ipsec.ca_file", "certificate_file and private_key_file"),
        ("CA unused", "ipsec.ca_file", "not used"),
        ("certificate unused", "ipsec.certificate_file", "not used"),
        ("expired certificate", "ipsec.certificate_file", "expired"),
        ("cookie flag", "ipsec.require_cookie", "true or false"),
        ("bad local_id", "ipsec.local_id", "host name"),
        ("IKEv2 keys without the service", "ipsec.ikev2_auth", "only by the ikev2 service"),
        ("file name not a string", "ipsec.certificate_file", "file name"),
    ],
)
def test_mistakes_name_their_field(pki: PkiFiles, tmp_path: Path, case: str, field: str, words: str) -> None:
    files = _files(pki)
    changes: dict[str, dict[str, Any]] = {
        "psk listed, none given": _with(drop=("psk",), ikev2_auth=["psk", "eap"], **files),
        "nothing to sign in with": _with(drop=("psk",)),
        "eap without a certificate": _with(ikev2_auth=["eap"]),
        "cert without a CA": _with(ikev2_auth=["psk", "cert"], **_files(pki, ca=False)),
        "unknown method": _with(ikev2_auth=["mschapv2"]),
        "method twice": _with(ikev2_auth=["psk", "psk"]),
        "empty method list": _with(ikev2_auth=[]),
        "certificate without key": _with(certificate_file=str(pki.gateway_cert)),
        "key without certificate": _with(private_key_file=str(pki.gateway_key)),
        "key of another certificate": _with(**{**files, "private_key_file": str(_other_key(tmp_path))}),
        "encrypted key": _with(**{**files, "private_key_file": str(_encrypted_key(tmp_path))}),
        "missing file": _with(**{**files, "certificate_file": str(tmp_path / "nowhere.pem")}),
        "CA file without a certificate": _with(**{**files, "ca_file": str(pki.gateway_key)}),
        "CA without the gateway's certificate": _with(ca_file=str(pki.ca)),
        "CA unused": _with(ikev2_auth=["psk", "eap"], **files),
        "certificate unused": _with(ikev2_auth=["psk"], **_files(pki, ca=False)),
        "expired certificate": _with(**dict(zip(("certificate_file", "private_key_file"), map(str, _expired_certificate(tmp_path)), strict=True))),
        "cookie flag": _with(require_cookie="yes"),
        "bad local_id": _with(local_id=""),
        "IKEv2 keys without the service": _with(services=["ikev1_xauth"], ikev2_auth=["psk"]),
        "file name not a string": _with(certificate_file=7, private_key_file=str(pki.gateway_key)),
    }
    with pytest.raises(GatewayConfigError) as info:
        config_from_dict(changes[case])
    assert info.value.field == field, info.value
    assert words in info.value.message, info.value.message
    assert "hunter2" not in str(info.value)
