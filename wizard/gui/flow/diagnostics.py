"""The "Copy diagnostics" report: what support needs, with nothing they must not see.

Secrets never reach the report: the profile holds none, log lines were redacted when recorded and
are redacted again here (with every registered secret and ``password=…`` pairs masked), and the
user name and any extra strings the caller names are replaced by placeholders.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Iterable, Mapping
from typing import Any

from wizard import __version__
from wizard.gui.flow.format import format_bytes, format_duration
from wizard.gui.flow.sessions import LogLine
from wizard.logsetup import redact
from wizard.profiles.model import Profile
from wizard.summary import describe_profile

USER_PLACEHOLDER = "[user]"


def _mask(text: str, hidden: Iterable[str]) -> str:
    for value in sorted((h for h in hidden if len(h) >= 2), key=len, reverse=True):
        text = text.replace(value, USER_PLACEHOLDER)
    return redact(text)


def diagnostics_report(
    profile: Profile,
    session: Mapping[str, Any] | None,
    log: Iterable[LogLine],
    *,
    service: str,
    versions: Mapping[str, str] | None = None,
    hidden: Iterable[str] = (),
    now: float | None = None,
) -> str:
    """A plain-text report for one connection; ``hidden`` lists more values to mask."""
    masked = [profile.auth.username, *hidden] if profile.auth.username else list(hidden)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(now))
    lines = [
        "Connection Wizard diagnostics",
        f"  created:     {stamp}",
        f"  version:     {__version__}",
        f"  system:      {platform.system()} {platform.release()} ({platform.machine()}), Python {platform.python_version()}",
    ]
    for name, value in (versions or {}).items():
        lines.append(f"  {name + ':':<12} {value}")
    lines += [f"  service:     {service}", "", "Connection", describe_profile(profile)]
    lines += ["", "Session"]
    if session is None:
        lines.append("  not connected")
    else:
        counters = session.get("counters") or {}
        lines.append(f"  state:       {session.get('state')} ({session.get('message', '')})")
        if session.get("reason"):
            lines.append(f"  reason:      {session.get('reason')}")
        lines.append(f"  uptime:      {format_duration(float(counters.get('uptime', 0)))}")
        lines.append(
            f"  traffic:     in {format_bytes(counters.get('bytes_in', 0))} ({counters.get('packets_in', 0):.0f} packets), "
            f"out {format_bytes(counters.get('bytes_out', 0))} ({counters.get('packets_out', 0):.0f} packets), "
            f"dropped {counters.get('dropped', 0):.0f}"
        )
        lines.append(f"  kill switch: {'on' if session.get('kill_switch') else 'off'}")
        for key, value in sorted((session.get("negotiated") or {}).items()):
            lines.append(f"  {key + ':':<12} {value}")
    lines += ["", "Log"]
    entries = list(log)
    if not entries:
        lines.append("  (empty)")
    for entry in entries:
        clock = time.strftime("%H:%M:%S", time.localtime(entry.time))
        lines.append(f"  {clock} {'ERROR ' if entry.error else ''}{entry.text}")
    return _mask("\n".join(lines), masked) + "\n"
