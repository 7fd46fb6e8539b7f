"""Automatic against our own gateway, which speaks only PPTP and L2TP (no IPsec).

The profile's order is IKEv2, L2TP/IPsec, L2TP: the first two must fail with their reasons, L2TP
must win, nothing of the failed attempts may be left behind, and the profile is not changed.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.ownpeer.conftest import SERVER_ADDRESS, USERS, GatewayLab
from tests.ownpeer.test_own_gateway import _network_state
from wizard.net import netns
from wizard.profiles.model import (
    Auth,
    CryptoPolicy,
    Gateway,
    MppePolicy,
    PPPAuth,
    PPPOptions,
    Profile,
    Protocol,
    SecretKind,
)
from wizard.stacks.applier import DirectApplier
from wizard.stacks.automatic import AutomaticStack
from wizard.stacks.base import Progress, StatusEvent, StatusSink, VpnStack
from wizard.stacks.registry import build_stack

pytestmark = pytest.mark.root


def test_automatic_falls_back_to_l2tp_and_says_why(gateway_lab: GatewayLab, tmp_path: Path) -> None:
    user, password = next(iter(USERS.items()))
    profile = Profile(
        name="auto",
        protocol=Protocol.AUTOMATIC,
        fallback=(Protocol.IKEV2, Protocol.L2TP_IPSEC, Protocol.L2TP),
        gateways=(Gateway(gateway_lab.ns.gateway_addr),),
        auth=Auth(username=user, ppp_methods=(PPPAuth.MSCHAPV2,), secrets=(SecretKind.PASSWORD, SecretKind.PSK)),
        ppp=PPPOptions(mppe=MppePolicy.ALLOW),
        crypto=CryptoPolicy(),
    )
    before = profile
    events: list[StatusEvent] = []
    secrets = {"password": password, "psk": "some-psk"}

    async def main() -> tuple[dict[str, str], int]:
        applier = DirectApplier()

        def build(choice: Protocol, relay: StatusSink) -> VpnStack:
            return build_stack(profile, secrets, relay, applier, protocol=choice)

        stack = AutomaticStack(profile, secrets, events.append, applier, build=build, attempt_timeout=4.0)
        connected = await stack.connect()
        proc = await asyncio.create_subprocess_exec("ping", "-c", "5", "-i", "0.05", "-q", SERVER_ADDRESS)
        code = await proc.wait()
        await stack.close()
        return connected.negotiated.as_dict(), code

    with netns.entered(gateway_lab.ns.client):
        negotiated, ping_code = asyncio.run(main())
        leftover = _network_state()
    assert negotiated["automatic"].startswith("L2TP (no encryption) (IKEv2 failed:"), negotiated
    assert "L2TP/IPsec failed: no connection within 4 s" in negotiated["automatic"], negotiated
    assert ping_code == 0
    assert leftover == [], leftover
    progress = [e.message for e in events if isinstance(e, Progress) and e.phase == "automatic"]
    assert progress[0].startswith("trying IKEv2") and progress[-1] == "connected with L2TP (no encryption)", progress
    assert profile == before and profile.fallback == (Protocol.IKEV2, Protocol.L2TP_IPSEC, Protocol.L2TP)
