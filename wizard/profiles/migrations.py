"""Upgrade profile JSON written by older versions to the current schema.

Each step takes the dict of version N and returns version N+1; steps never drop information a
user entered. Version 1 was the first draft format: one ``gateway`` string, ``type`` for the
protocol, a boolean ``kill_switch`` and ``password_saved`` instead of a credential policy.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from wizard.profiles.errors import ValidationError
from wizard.profiles.model import SCHEMA_VERSION as CURRENT


def _v1_to_v2(old: dict[str, Any]) -> dict[str, Any]:
    new = {k: v for k, v in old.items() if k not in ("gateway", "type", "kill_switch", "password_saved")}
    if "gateway" in old:
        new["gateways"] = [{"host": old["gateway"]}]
    if "type" in old:
        new["protocol"] = old["type"]
    if "kill_switch" in old:
        new["kill_switch"] = {"enabled": old["kill_switch"]}
    if "password_saved" in old:
        new["credential_policy"] = "save" if old["password_saved"] is True else "username_only"
    new["schema_version"] = 2
    return new


_STEPS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _v1_to_v2}


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of ``data`` at the current schema version (the input is never modified)."""
    version = data.get("schema_version", 1)
    if isinstance(version, bool) or not isinstance(version, int):
        raise ValidationError("schema_version", f"{version!r} is not a schema version", f"1 to {CURRENT}")
    if version > CURRENT:
        raise ValidationError(
            "schema_version",
            f"version {version} was written by a newer Connection Wizard",
            f"1 to {CURRENT}; update Connection Wizard to read it",
        )
    if version < 1:
        raise ValidationError("schema_version", f"{version} is not a schema version", f"1 to {CURRENT}")
    current = copy.deepcopy(data)
    while version < CURRENT:
        current = _STEPS[version](current)
        version += 1
    return current
