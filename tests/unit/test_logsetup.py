"""Secrets never reach the log file."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from wizard import logsetup


@pytest.fixture
def log_file(monkeypatch: pytest.MonkeyPatch) -> Path:
    root = logging.getLogger()
    saved = (list(root.handlers), list(root.filters), root.level)
    path = logsetup.setup_logging()
    assert path is not None
    yield path
    for handler in root.handlers[len(saved[0]) :]:
        handler.close()
    root.handlers[:], root.filters[:] = saved[0], saved[1]
    root.setLevel(saved[2])


def test_registered_secret_and_key_value_pairs_are_redacted(log_file: Path) -> None:
    logsetup.register_secret("Tr0ub4dor&3")
    log = logging.getLogger("wizard.test")
    log.info("connecting with %s for alice", "Tr0ub4dor&3")
    log.warning("server said psk=abc123xyz and password: letmein")
    text = log_file.read_text()
    assert "Tr0ub4dor&3" not in text and "abc123xyz" not in text and "letmein" not in text
    assert text.count(logsetup.REDACTED) == 3
    assert "connecting with [redacted] for alice" in text


def test_log_file_lives_in_the_state_dir(log_file: Path, isolated_xdg: Path) -> None:
    assert log_file.is_relative_to(isolated_xdg / "state")
