"""Logging that can never leak a secret.

Every secret the process learns is registered with :func:`register_secret`; a filter on the root
logger replaces registered values (and ``password=...``-style pairs) with ``[redacted]`` before any
handler sees the record. The log file lives in the user's XDG state directory.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import platformdirs

_secrets: set[str] = set()
_PAIRS = re.compile(r"(?i)\b(password|passwd|psk|secret|passphrase|pin)(\s*[=:]\s*)(\S+)")
REDACTED = "[redacted]"


def register_secret(value: str) -> None:
    """Mask ``value`` in every later log record (values shorter than 3 characters are ignored)."""
    if len(value) >= 3:
        _secrets.add(value)


def redact(text: str) -> str:
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return _PAIRS.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = redact(record.getMessage())
        record.msg, record.args = message, None
        return True


def log_dir() -> Path:
    return Path(platformdirs.user_state_dir("connection-wizard"))


def setup_logging(level: int = logging.INFO) -> Path | None:
    """Log to ``<state>/wizard.log``; returns its path, or None if it cannot be written."""
    root = logging.getLogger()
    if any(isinstance(f, RedactingFilter) for f in root.filters):
        return None
    path = log_dir() / "wizard.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handler: logging.Handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        return None
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addFilter(RedactingFilter())
    root.addHandler(handler)
    root.setLevel(level)
    return path
