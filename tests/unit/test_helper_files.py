"""Certificate files travel inline: the helper never opens a path written into a user's profile."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wizard.helper.rpc import ConnectParams, RpcError, parse_request
from wizard.profiles.codec import profile_to_dict
from wizard.profiles.errors import ProfileError
from wizard.profiles.files import read_profile_files
from wizard.profiles.model import Auth, AuthMethod, Gateway, Profile, Protocol, SecretKind
from wizard.stacks.base import StackError
from wizard.stacks.registry import build_stack_in_helper

PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def _profile(ca_file: str) -> Profile:
    return Profile(
        name="eap",
        protocol=Protocol.IKEV2,
        gateways=(Gateway("vpn.example.com"),),
        auth=Auth(method=AuthMethod.EAP_MSCHAPV2, username="alice", secrets=(SecretKind.PASSWORD,), ca_file=ca_file),
    )


def _connect(profile: Profile, files: object) -> bytes:
    params = {"profile": profile_to_dict(profile), "secrets": {"password": "pw"}, "files": files}
    return json.dumps({"version": 1, "id": 1, "method": "connect", "params": params}).encode()


def test_connect_carries_the_files_the_profile_names() -> None:
    parsed = parse_request(_connect(_profile("/home/alice/ca.pem"), {"ca_file": PEM}))
    params = parsed.params
    assert isinstance(params, ConnectParams) and params.files == {"ca_file": PEM}
    assert PEM not in repr(params)


@pytest.mark.parametrize(
    ("files", "problem"),
    [
        ({"ssh_key": PEM}, "unknown file"),
        ({"certificate_file": PEM}, "the profile names no such file"),
        ({"ca_file": "root:x:0:0"}, "is not PEM text"),
        ({"ca_file": 5}, "must be PEM text"),
        ("ca.pem", "must be an object"),
    ],
)
def test_bad_files_are_refused_by_name(files: object, problem: str) -> None:
    with pytest.raises(RpcError) as info:
        parse_request(_connect(_profile("/home/alice/ca.pem"), files))
    assert problem in str(info.value) and "root:x" not in str(info.value)


def test_the_helper_stack_factory_never_reads_the_path(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text(PEM)  # it exists and is readable, yet the helper must not open it
    with pytest.raises(StackError, match="was not sent with the connect request"):
        build_stack_in_helper(_profile(str(ca)), {"password": "pw"}, lambda e: None, None)  # type: ignore[arg-type]


def test_client_reads_the_files_in_the_users_session(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text(PEM)
    assert read_profile_files(_profile(str(ca))) == {"ca_file": PEM}
    with pytest.raises(ProfileError, match="cannot read the ca file"):
        read_profile_files(_profile(str(tmp_path / "missing.pem")))
