"""Helpers shared by the tests that build throwaway network namespaces (tests/net, tests/ownpeer)."""

from __future__ import annotations

import os
import re
import subprocess

import pytest


def ip(*args: str) -> str:
    proc = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {proc.stderr.strip()}")
    return proc.stdout


def require_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root: creates network namespaces, veth pairs, TUN devices and raw sockets")


def remove_stale_namespaces(prefix: str, suffixes: str) -> None:
    """Delete ``<prefix><pid>-<n><suffix>`` namespaces left by a test run whose process is gone."""
    for line in ip("netns", "list").splitlines():
        name = line.split()[0] if line.strip() else ""
        m = re.fullmatch(rf"{re.escape(prefix)}(\d+)-\d+[{suffixes}]", name)
        if m and not os.path.exists(f"/proc/{m.group(1)}"):
            subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)
