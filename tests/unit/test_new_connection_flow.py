"""The New Connection flow without Qt: steps, per-field errors, the resulting profile."""

from __future__ import annotations

import pytest

from wizard.gui.flow.new_connection import STEPS, NewConnectionFlow
from wizard.profiles.model import CredentialPolicy, MppePolicy, Protocol, SecretKind


def test_steps_run_in_order() -> None:
    flow = NewConnectionFlow()
    step: str | None = STEPS[0]
    seen = []
    while step is not None:
        seen.append(step)
        step = flow.next_step(step)
    assert seen == ["type", "gateway", "signin", "summary"]


def test_gateway_errors_name_each_field() -> None:
    flow = NewConnectionFlow()
    assert set(flow.errors("gateway")) == {"name", "host"}
    flow.set("name", " Office")
    flow.set("host", "vpn example")
    errors = flow.errors("gateway")
    assert "spaces" in errors["name"] and "not a host name" in errors["host"]
    flow.set("name", "Office")
    flow.set("host", "vpn.example.com")
    assert flow.errors("gateway") == {}


@pytest.mark.parametrize(
    ("protocol", "secrets"),
    [
        (Protocol.L2TP_IPSEC, {SecretKind.PASSWORD, SecretKind.PSK}),
        (Protocol.IKEV1_XAUTH, {SecretKind.PASSWORD, SecretKind.PSK}),
        (Protocol.L2TP, {SecretKind.PASSWORD}),
        (Protocol.PPTP, {SecretKind.PASSWORD}),
    ],
)
def test_signin_asks_for_the_secrets_the_protocol_needs(protocol: Protocol, secrets: set[SecretKind]) -> None:
    flow = NewConnectionFlow()
    flow.set("protocol", protocol.value)
    assert set(flow.needed_secrets()) == secrets
    assert set(flow.errors("signin")) == {"username"} | {s.value for s in secrets}


def test_profile_from_answers_keeps_secrets_out() -> None:
    flow = NewConnectionFlow()
    flow.set("protocol", Protocol.PPTP.value)
    flow.set("name", "Old VPN")
    flow.set("host", "198.51.100.4")
    flow.set("username", "carol")
    flow.set("save_password", False)
    flow.secrets[SecretKind.PASSWORD] = "s3cret-value"
    profile = flow.profile()
    assert profile.protocol is Protocol.PPTP and profile.ppp.mppe is MppePolicy.REQUIRE
    assert profile.credential_policy is CredentialPolicy.USERNAME_ONLY
    assert "s3cret-value" not in repr(profile) and "s3cret-value" not in repr(flow)
