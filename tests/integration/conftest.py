"""A real Secret Service for the keyring tests.

The README test command runs the suite under ``dbus-run-session`` with an unlocked
gnome-keyring-daemon. When a test process has no such session (someone ran plain ``pytest``), this
fixture starts a private D-Bus daemon and keyring itself; if that is impossible it fails loudly,
because a secret test that silently skips would prove nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator

import pytest


def _secret_service_answers(env: dict[str, str]) -> bool:
    probe = (
        "import secretstorage, sys\n"
        "bus = secretstorage.dbus_init()\n"
        "sys.exit(0 if secretstorage.check_service_availability(bus) else 1)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, timeout=20, check=False)
    return result.returncode == 0


@pytest.fixture(scope="session")
def secret_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Environment variables of a session bus with an unlocked Secret Service."""
    env = dict(os.environ)
    if env.get("DBUS_SESSION_BUS_ADDRESS") and _secret_service_answers(env):
        yield env
        return
    missing = [b for b in ("dbus-daemon", "gnome-keyring-daemon") if shutil.which(b) is None]
    if missing:
        pytest.fail(
            f"SECRET SERVICE UNAVAILABLE: {', '.join(missing)} not installed. Run the README test command "
            "(it installs dbus and gnome-keyring and starts them)."
        )
    home = tmp_path_factory.mktemp("keyring-home")
    env["XDG_DATA_HOME"] = str(home / "data")
    env["XDG_RUNTIME_DIR"] = str(home / "run")
    os.makedirs(env["XDG_RUNTIME_DIR"], mode=0o700)
    bus = subprocess.run(
        ["dbus-daemon", "--session", "--fork", "--print-address=1", "--print-pid=1"],
        capture_output=True,
        text=True,
        check=True,
        timeout=20,
    ).stdout.split()
    address, pid = bus[0], int(bus[1])
    env["DBUS_SESSION_BUS_ADDRESS"] = address
    keyring = subprocess.run(
        ["gnome-keyring-daemon", "--unlock", "--components=secrets"],
        input="test-keyring-password",
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=20,
    )
    for line in keyring.stdout.splitlines():
        key, _, value = line.partition("=")
        if key:
            env[key] = value
    if not _secret_service_answers(env):
        pytest.fail("SECRET SERVICE UNAVAILABLE: gnome-keyring-daemon started but does not answer on D-Bus")
    try:
        yield env
    finally:
        os.kill(pid, 15)  # gnome-keyring-daemon exits with its bus
