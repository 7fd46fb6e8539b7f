"""Kill switch table handling, back-off, applier translation and CLI helpers, one at a time."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Iterator

import pytest

from tests.helper.conftest import PREFIX, require_root, run
from wizard.client.commands import format_session, pick_session
from wizard.helper.applier import dns_settings, tunnel_settings
from wizard.helper.session import backoff_delay, load_stack_factory
from wizard.net import netns
from wizard.net.killswitch import Allowance, KillSwitch, Service, render, services_for, table_exists
from wizard.stacks.base import NetworkSettings, StackError


@pytest.fixture
def empty_ns() -> Iterator[str]:
    require_root()
    name = f"{PREFIX}-ks-{id(object())}"
    run("ip", "netns", "add", name)
    try:
        yield name
    finally:
        run("ip", "netns", "del", name, check=False)


def rules_text(ns: str) -> str:
    return subprocess.run(["ip", "netns", "exec", ns, "nft", "list", "ruleset"], capture_output=True, text=True, check=True).stdout


@pytest.mark.root
def test_kill_switch_table_is_shared_and_goes_with_the_last_holder(empty_ns: str) -> None:
    one = Allowance(("192.0.2.2",), services_for(["pptp"]), ("cw0",))
    two = Allowance(("2001:db8::2",), services_for(["ikev2"]), allow_lan=True)

    async def body() -> list[str]:
        ks = KillSwitch()
        seen = []
        await ks.hold("a", one)
        seen.append(rules_text(empty_ns))
        await ks.hold("b", two)
        seen.append(rules_text(empty_ns))
        await ks.set_tunnels("a", ())
        seen.append(rules_text(empty_ns))
        await ks.release("a")
        seen.append(rules_text(empty_ns))
        assert await table_exists()
        await ks.release("b")
        assert not await table_exists()
        await ks.release("b")  # twice is fine
        return seen

    with netns.entered(empty_ns):
        first, both, no_tunnel, only_two = asyncio.run(body())
    assert 'oifname "cw0" accept' in first and "tcp dport 1723 accept" in first and "gre" in first
    assert "192.0.2.2" in both and "2001:db8::2 udp dport { 500, 4500 }" in both and "10.0.0.0/8" in both
    assert "cw0" not in no_tunnel and "192.0.2.2" in no_tunnel
    assert "192.0.2.2" not in only_two and "2001:db8::2" in only_two
    assert rules_text(empty_ns) == ""


@pytest.mark.root
def test_refused_rules_raise_and_keep_the_previous_table(empty_ns: str) -> None:
    async def body() -> None:
        ks = KillSwitch(nft="false")  # an nft that always fails
        with pytest.raises(Exception) as err:
            await ks.hold("a", Allowance(("192.0.2.2",), ()))
        assert "refused" in str(err.value)
        assert not ks.active

    with netns.entered(empty_ns):
        asyncio.run(body())


def test_render_never_lets_text_into_the_script() -> None:
    with pytest.raises(ValueError):
        Allowance(("192.0.2.2; flush ruleset",), ())
    with pytest.raises(ValueError):
        Allowance(("192.0.2.2",), (), tunnels=('cw0" accept; #',))
    with pytest.raises(ValueError):
        Service("icmp")
    with pytest.raises(ValueError):
        Service("udp")
    script = render([Allowance(("192.0.2.2",), services_for(["l2tp"]))])
    assert script.splitlines()[:2] == ["table inet connection_wizard {}", "delete table inet connection_wizard"]
    assert script.count("policy drop;") == 3 and script.count("counter drop") == 3


def test_services_per_protocol() -> None:
    assert services_for(["l2tp"]) == (Service("udp", 1701),)
    assert set(services_for(["pptp"])) == {Service("tcp", 1723), Service("gre")}
    assert set(services_for(["ikev2", "l2tp_ipsec"])) == {
        Service("udp", 500), Service("udp", 4500), Service("esp"), Service("ah"), Service("udp", 1701)}  # fmt: skip


def test_backoff_doubles_up_to_the_cap() -> None:
    assert [backoff_delay(n, 2.0, 60.0) for n in range(7)] == [2, 4, 8, 16, 32, 60, 60]
    assert backoff_delay(10_000, 0.5, 30.0) == 30.0


def test_missing_stack_factory_is_a_plain_stack_error() -> None:
    with pytest.raises(StackError) as err:
        load_stack_factory("wizard.stacks.nothing_here:build_stack")
    assert "no protocol stacks" in err.value.reason


def test_applier_translates_stack_settings() -> None:
    settings = NetworkSettings(
        ifname="ppp0", local_ipv4="10.0.0.2", peer_ipv4="10.0.0.1", local_ipv6="fd00::2", dns_servers=("10.0.0.53",),
        split_dns_domains=("corp.example",), mtu=1400, full_tunnel=False, routes=("10.1.2.3/16",), vpn_gateway="192.0.2.2",
    )  # fmt: skip
    tunnel = tunnel_settings(settings)
    assert [(a.local, a.prefixlen, a.peer) for a in tunnel.addresses] == [("10.0.0.2", 32, "10.0.0.1"), ("fd00::2", 64, None)]
    assert tunnel.split_prefixes == ("10.1.0.0/16",) and not tunnel.full_tunnel and tunnel.mtu == 1400
    assert tunnel.vpn_gateway == "192.0.2.2"
    dns = dns_settings(settings)
    assert dns.split_domains == ("corp.example",) and dns.default_route is False


SESSIONS = [
    {"id": "s1", "profile_id": "p1", "name": "Office", "state": "connected"},
    {"id": "s2", "profile_id": "p2", "name": "Lab", "state": "reconnecting"},
]


def test_pick_session_by_name_id_or_the_only_one() -> None:
    assert pick_session(SESSIONS, "Lab")["id"] == "s2"
    assert pick_session(SESSIONS, "p1")["id"] == "s1"
    assert pick_session(SESSIONS[:1], None)["id"] == "s1"
    for sessions, name, text in ((SESSIONS, None, "say which"), ([], None, "no active"), (SESSIONS, "Home", "not connected")):
        with pytest.raises(LookupError) as err:
            pick_session(sessions, name)
        assert text in str(err.value)


def test_format_session_shows_counters_and_negotiated() -> None:
    text = format_session({
        "id": "s1", "name": "Office", "state": "connected", "protocol": "l2tp", "kill_switch": True,
        "counters": {"uptime": 61, "bytes_in": 2048, "bytes_out": 10, "packets_in": 2, "packets_out": 1,
                     "rate_in": 1024, "rate_out": 0},
        "negotiated": {"encryption": "MPPE-128"},
    })  # fmt: skip
    assert "in 2.0 KiB (2 packets, 1.0 KiB/s)" in text and "out 10 B" in text
    assert "kill switch: on" in text and "encryption: MPPE-128" in text
    assert json.dumps(text)


def test_shipped_units_match_the_code() -> None:
    import configparser
    from pathlib import Path
    from xml.dom import minidom

    from wizard.client.client import DEFAULT_SOCKET, HELPER_GROUP
    from wizard.helper.daemon import DEFAULT_SOCKET as HELPER_SOCKET
    from wizard.helper.peer import HELPER_GROUP as PEER_GROUP

    resources = Path(__file__).resolve().parents[2] / "resources"
    socket_unit = configparser.ConfigParser(strict=False, interpolation=None)
    socket_unit.read(resources / "systemd" / "connection-wizard.socket")
    assert socket_unit["Socket"]["ListenStream"] == str(DEFAULT_SOCKET) == str(HELPER_SOCKET)
    assert socket_unit["Socket"]["SocketGroup"] == HELPER_GROUP == PEER_GROUP
    assert socket_unit["Socket"]["SocketMode"] == "0660" and socket_unit["Socket"]["DirectoryMode"] == "0755"
    service = configparser.ConfigParser(strict=False, interpolation=None)
    service.read(resources / "systemd" / "connection-wizard.service")
    assert service["Service"]["ExecStart"].endswith("connection-wizard helper")
    assert "RuntimeDirectory" not in service["Service"]  # would delete the journal on a crash
    sysusers = (resources / "sysusers.d" / "connection-wizard.conf").read_text()
    assert f"g {HELPER_GROUP} -" in sysusers
    policy = minidom.parse(str(resources / "polkit" / "org.connectionwizard.helper.policy"))
    actions = {a.getAttribute("id") for a in policy.getElementsByTagName("action")}
    assert actions == {"org.connectionwizard.helper.connect-system-wide", "org.connectionwizard.helper.kill-switch"}


def test_connect_secrets_come_from_the_keyring_then_the_prompt(monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    from tests.helper.conftest import make_profile
    from tests.memory_keyring import MemoryKeyring
    from wizard.client import commands
    from wizard.profiles.model import Auth, SecretKind
    from wizard.profiles.secrets import SecretStore

    profile = make_profile("Keyring")
    profile = replace(profile, auth=Auth(username="u", secrets=(SecretKind.PASSWORD, SecretKind.PSK)))
    store = SecretStore(MemoryKeyring())
    store.set(profile, SecretKind.PASSWORD, "from-keyring")
    asked: list[str] = []
    monkeypatch.setattr(commands.getpass, "getpass", lambda prompt: asked.append(prompt) or "typed-psk")
    assert commands.gather_secrets(profile, from_stdin=False, store=store) == {"password": "from-keyring", "psk": "typed-psk"}
    assert asked == ["Pre-shared key for Keyring: "]
