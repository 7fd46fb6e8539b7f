"""The CLI end to end, as a user runs it, with the real Secret Service behind keyring."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import secretstorage

PASSWORD = "Corr3ct-Horse-Battery-Staple"
PSK = "psk-Ab9f!shared"


def run(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wizard", *args], input=stdin, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def env(secret_service: dict[str, str], isolated_xdg: Path) -> dict[str, str]:
    merged = dict(secret_service)
    for var in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        merged[var] = os.environ[var]
    merged["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    return merged


def _keyring_items(env: dict[str, str], profile_id: str) -> dict[str, str]:
    saved = {k: os.environ.get(k) for k in ("DBUS_SESSION_BUS_ADDRESS",)}
    os.environ["DBUS_SESSION_BUS_ADDRESS"] = env["DBUS_SESSION_BUS_ADDRESS"]
    try:
        with secretstorage.dbus_init() as bus:
            collection = secretstorage.get_default_collection(bus)
            items = collection.search_items({"service": f"connection-wizard/{profile_id}"})
            return {item.get_attributes()["username"]: item.get_secret().decode() for item in items}
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def test_add_list_show_export_import_remove(env: dict[str, str], tmp_path: Path, isolated_xdg: Path) -> None:
    added = run(
        env,
        "add",
        "--name",
        "Head office",
        "--protocol",
        "l2tp_ipsec",
        "--gateway",
        "vpn.example.com,Main,EU",
        "--gateway",
        "203.0.113.7,Backup",
        "--username",
        "alice",
        "--password-stdin",
        "--psk-stdin",
        "--split-tunnel",
        "--route",
        "10.0.0.0/8",
        "--dns",
        "10.0.0.53",
        "--split-dns-domain",
        "corp.example.com",
        "--kill-switch",
        "on",
        stdin=f"{PASSWORD}\n{PSK}\n",
    )
    assert added.returncode == 0, added.stderr
    assert "Saved password, psk in the keyring" in added.stdout

    listed = run(env, "list")
    assert listed.returncode == 0 and "Head office" in listed.stdout and "L2TP/IPsec" in listed.stdout

    shown = run(env, "show", "head office", "--json")
    document = json.loads(shown.stdout)
    profile_id = document["id"]
    assert document["routing"] == {"mode": "split", "routes": ["10.0.0.0/8"], "use_pushed_routes": True}
    assert [g["host"] for g in document["gateways"]] == ["vpn.example.com", "203.0.113.7"]
    assert document["ppp"]["mppe"] == "refuse"  # IPsec encrypts; MPPE inside it is pointless

    # The secrets really are in the Secret Service, under the profile's own service name.
    assert _keyring_items(env, profile_id) == {"password": PASSWORD, "psk": PSK}
    human = run(env, "show", "Head office")
    assert "saved in keyring: password, psk" in human.stdout

    export_file = tmp_path / "office.json"
    exported = run(env, "export", "Head office", str(export_file))
    assert exported.returncode == 0, exported.stderr
    text = export_file.read_text()
    assert PASSWORD not in text and PSK not in text
    assert json.loads(text)["profile"]["name"] == "Head office"

    # Nothing on disk (profiles, logs, caches) holds a secret; the log exists and mentions the save.
    log_text = (isolated_xdg / "state" / "connection-wizard" / "wizard.log").read_text()
    assert f"saved psk for profile {profile_id}" in log_text
    for path in isolated_xdg.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert PASSWORD.encode() not in content and PSK.encode() not in content, path

    preview = run(env, "import", str(export_file), "--dry-run")
    assert preview.returncode == 0 and "dry run" in preview.stdout
    clash = run(env, "import", str(export_file))
    assert clash.returncode == 2 and "already exists" in clash.stderr
    imported = run(env, "import", str(export_file), "--rename", "Head office copy")
    assert imported.returncode == 0, imported.stderr

    removed = run(env, "remove", "Head office")
    assert removed.returncode == 0, removed.stderr
    assert _keyring_items(env, profile_id) == {}
    assert "Head office copy" in run(env, "list").stdout
    assert run(env, "show", "Head office").returncode == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["add", "--name", "X", "--protocol", "l2tpv3", "--gateway", "h.example"], "protocol: 'l2tpv3' is not allowed"),
        (["add", "--name", "X", "--protocol", "l2tp"], "gateways: is required"),
        (["add", "--name", "X", "--protocol", "l2tp", "--gateway", "a b"], "[--gateway]"),
        (["add", "--name", "X", "--protocol", "l2tp", "--gateway", "h.example", "--mru", "big"], "invalid int value"),
        (
            [
                "add",
                "--name",
                "X",
                "--protocol",
                "ikev2",
                "--gateway",
                "h.example",
                "--ike-proposal",
                "des-md5-modp768",
            ],
            "set allow_legacy",
        ),
        (
            ["add", "--name", "X", "--protocol", "l2tp", "--gateway", "h.example", "--route", "10.0.0.0/40"],
            "routing.routes[0]: '10.0.0.0/40' is not a network",
        ),
        (["show", "nobody"], "no connection named 'nobody'"),
        (["edit", "nobody", "--mru", "1300"], "no connection named"),
        (["import", "/nonexistent/file.json"], "cannot read"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_gets_a_clear_message_and_exit_2(env: dict[str, str], args: list[str], message: str) -> None:
    result = run(env, *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_corrupt_profile_file_is_reported_not_deleted(env: dict[str, str], isolated_xdg: Path) -> None:
    assert run(env, "add", "--name", "Good", "--protocol", "l2tp", "--gateway", "10.1.1.1").returncode == 0
    folder = isolated_xdg / "config" / "connection-wizard" / "profiles"
    broken = folder / "33333333-3333-4333-8333-333333333333.json"
    broken.write_text("{ this is not json")
    listed = run(env, "list")
    assert listed.returncode == 0 and "Good" in listed.stdout
    assert "skipped unreadable profile" in listed.stderr and broken.name in listed.stderr
    assert broken.read_text() == "{ this is not json"


def test_edit_changes_only_given_fields(env: dict[str, str]) -> None:
    assert (
        run(env, "add", "--name", "E", "--protocol", "pptp", "--gateway", "10.1.1.1", "--username", "bob").returncode
        == 0
    )
    edited = run(env, "edit", "E", "--mppe-bits", "40,128", "--kill-switch", "on")
    assert edited.returncode == 0, edited.stderr
    document = json.loads(run(env, "show", "E", "--json").stdout)
    assert document["ppp"]["mppe_bits"] == [40, 128] and document["kill_switch"]["enabled"] is True
    assert document["auth"]["username"] == "bob" and document["ppp"]["mppe"] == "require"
    assert "weak security: PPTP" in edited.stderr
