"""Older schema versions load; newer ones are refused with advice."""

from __future__ import annotations

import pytest

from wizard.profiles.codec import profile_from_dict
from wizard.profiles.errors import ValidationError
from wizard.profiles.migrations import migrate
from wizard.profiles.model import SCHEMA_VERSION, CredentialPolicy, Protocol

V1 = {
    "name": "Old office",
    "id": "6d1f7f2e-8a4b-4f63-9d3c-0f5b1a2c3d4e",
    "type": "l2tp",
    "gateway": "vpn.example.com",
    "kill_switch": True,
    "password_saved": False,
}


def test_v1_profile_is_migrated() -> None:
    profile = profile_from_dict(V1)
    assert profile.protocol is Protocol.L2TP
    assert [g.host for g in profile.gateways] == ["vpn.example.com"]
    assert profile.kill_switch.enabled is True
    assert profile.credential_policy is CredentialPolicy.USERNAME_ONLY


def test_migration_does_not_modify_its_input() -> None:
    before = dict(V1)
    migrated = migrate(V1)
    assert before == V1 and migrated["schema_version"] == SCHEMA_VERSION


@pytest.mark.parametrize("version", [SCHEMA_VERSION + 1, 0, "2", True])
def test_unknown_versions_are_refused(version: object) -> None:
    with pytest.raises(ValidationError) as info:
        migrate({"schema_version": version})
    assert info.value.field == "schema_version"
