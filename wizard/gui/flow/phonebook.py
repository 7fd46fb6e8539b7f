"""Gateway phonebooks the wizard can pick a host from.

A phonebook is a list of gateways an administrator hands out. Until branded bundles land we read
three shapes: our profile export (its gateways), ``{"gateways": [...]}`` and a bare list, where each
entry is ``{"host", "label", "region"}`` or just a host string. Every entry is validated; a file
that fails says which entry and why.
"""

from __future__ import annotations

import json
from pathlib import Path

from wizard.gui.flow.i18n import tr
from wizard.profiles.codec import import_document
from wizard.profiles.errors import ValidationError
from wizard.profiles.model import Gateway
from wizard.profiles.store import MAX_PROFILE_BYTES

MAX_ENTRIES = 500


def gateways_from_data(data: object) -> list[Gateway]:
    """The phonebook entries in ``data``; raises ValidationError naming the bad entry."""
    if isinstance(data, dict) and ("format" in data or "schema_version" in data):
        return list(import_document(data).gateways)
    entries = data.get("gateways") if isinstance(data, dict) else data
    if not isinstance(entries, list) or not entries:
        raise ValidationError(
            "", tr("this file holds no gateways"), tr("a profile export, {\"gateways\": [...]} or a list of hosts")
        )
    if len(entries) > MAX_ENTRIES:
        raise ValidationError("", tr("the phonebook has more than {n} entries").format(n=MAX_ENTRIES))
    found: list[Gateway] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        where = f"gateways[{i}]"
        if isinstance(entry, str):
            entry = {"host": entry}
        if not isinstance(entry, dict) or not isinstance(entry.get("host"), str):
            raise ValidationError(where, tr("each entry needs a host"), tr("text, or an object with host, label, region"))
        unknown = set(entry) - {"host", "label", "region"}
        if unknown:
            raise ValidationError(f"{where}.{sorted(unknown)[0]}", tr("unknown field"), "host, label, region")
        label, region = entry.get("label", ""), entry.get("region", "")
        if not isinstance(label, str) or not isinstance(region, str) or len(label) > 100 or len(region) > 100:
            raise ValidationError(where, tr("label and region must be text of at most 100 characters"))
        gateway = Gateway(entry["host"].strip(), label.strip(), region.strip())
        try:
            gateway.validate()
        except ValidationError as exc:
            raise exc.under(where) from None
        if gateway.host.casefold() not in seen:
            seen.add(gateway.host.casefold())
            found.append(gateway)
    return found


def load_phonebook(path: Path) -> list[Gateway]:
    """Read a phonebook file; every failure is a ValidationError with a message for the user."""
    try:
        if path.stat().st_size > MAX_PROFILE_BYTES:
            raise ValidationError("", tr("the file is larger than {n} bytes").format(n=MAX_PROFILE_BYTES))
        raw = path.read_bytes()
    except OSError as exc:
        raise ValidationError("", tr("cannot read the file ({why})").format(why=exc.strerror)) from None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValidationError("", tr("the file is not a JSON phonebook")) from None
    return gateways_from_data(data)


def gateway_title(gateway: Gateway) -> str:
    """How a phonebook entry reads in a picker: ``Berlin office (EU) - vpn-ber.example.com``."""
    extra = f" ({gateway.region})" if gateway.region else ""
    return f"{gateway.label}{extra} - {gateway.host}" if gateway.label else f"{gateway.host}{extra}"
