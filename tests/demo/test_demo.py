"""The README's first command: `connection-wizard demo` makes real connections and cleans up."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.root


@pytest.mark.skipif(os.geteuid() != 0, reason="the demo needs root (network namespaces, TUN); CI runs as root")
def test_demo_connects_through_the_helper_and_cleans_up() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "wizard", "demo"], capture_output=True, text=True, timeout=180, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "demo finished: every connection worked" in output
    assert len(re.findall(r"10 packets transmitted, 10 received", output)) == 2, output
    assert "encryption       MPPE-128 stateless" in output
    assert re.search(r"counters: 1\d packets / \d+ bytes in", output), output
    namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    assert "cw-demo" not in namespaces
