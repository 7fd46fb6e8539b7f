"""The .desktop entries for the app and the tray (autostart) are valid and point at real things."""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

RESOURCES = Path(__file__).resolve().parents[2] / "resources"


def entry(name: str) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment, method-assign]
    parser.read(RESOURCES / name, encoding="utf-8")
    return parser["Desktop Entry"]


@pytest.mark.parametrize(("name", "command"), [("connection-wizard.desktop", "gui"), ("connection-wizard-tray.desktop", "tray")])
def test_entries(name: str, command: str) -> None:
    desktop = entry(name)
    assert desktop["Type"] == "Application" and desktop["Exec"] == f"connection-wizard {command}"
    assert (RESOURCES / "icons" / f"{desktop['Icon']}.svg").is_file()
    assert desktop["Terminal"] == "false"


def test_tray_entry_starts_at_login() -> None:
    assert entry("connection-wizard-tray.desktop")["X-GNOME-Autostart-enabled"] == "true"


def test_validator_accepts_them() -> None:
    tool = shutil.which("desktop-file-validate")
    if tool is None:
        pytest.skip("desktop-file-validate is not installed (desktop-file-utils)")
    files = [str(RESOURCES / "connection-wizard.desktop"), str(RESOURCES / "connection-wizard-tray.desktop")]
    run = subprocess.run([tool, *files], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
