"""Importing a profile file: read, check and describe it before anything is stored.

The preview is what the import dialog shows (and what ``connection-wizard import --dry-run``
prints): the connection that would be created, its weaknesses, and whether its name is taken.
An import always gets a new id, so importing the same file twice never overwrites a connection.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from wizard.gui.flow.i18n import tr
from wizard.profiles.codec import import_document, profile_from_dict, profile_to_dict
from wizard.profiles.errors import ValidationError
from wizard.profiles.model import Profile
from wizard.profiles.store import MAX_PROFILE_BYTES
from wizard.summary import describe_profile

IMPORT_SUFFIXES = (".json", ".cwprofile")


@dataclass(frozen=True)
class ImportPreview:
    path: Path
    profile: Profile | None = None
    description: str = ""
    warnings: list[str] = field(default_factory=list)
    error: str = ""
    name_taken: bool = False

    @property
    def ok(self) -> bool:
        return self.profile is not None


def path_from_uri(uri: str) -> Path | None:
    """A local file path from a drag-and-drop URI (``file:///…``) or plain path; None otherwise."""
    if uri.startswith("/"):
        return Path(uri)
    parsed = urlparse(uri)
    if parsed.scheme != "file" or parsed.netloc not in ("", "localhost"):
        return None
    return Path(unquote(parsed.path))


def looks_importable(path: Path) -> bool:
    """Whether a dragged file is worth offering to import (the preview does the real check)."""
    return path.suffix.lower() in IMPORT_SUFFIXES


def preview_import(path: Path, taken_names: Iterable[str] = ()) -> ImportPreview:
    """Read ``path`` and describe what importing it would create; never raises for a bad file."""
    try:
        if path.stat().st_size > MAX_PROFILE_BYTES:
            return ImportPreview(path, error=tr("The file is larger than 1 MiB; it is not a connection profile."))
        raw = path.read_bytes()
    except OSError as exc:
        return ImportPreview(path, error=tr("Cannot read {path}: {why}.").format(path=path, why=exc.strerror))
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return ImportPreview(path, error=tr("{name} is not a connection profile (it is not JSON).").format(name=path.name))
    try:
        profile = fresh_copy(import_document(data))
    except ValidationError as exc:
        return ImportPreview(path, error=tr("{name} cannot be imported: {why}").format(name=path.name, why=exc))
    taken = profile.name.casefold() in {n.casefold() for n in taken_names}
    return ImportPreview(path, profile, describe_profile(profile), profile.weaknesses(), name_taken=taken)


def fresh_copy(profile: Profile, name: str | None = None) -> Profile:
    """``profile`` with a new id (and optionally a new name), validated."""
    data = profile_to_dict(profile)
    data.pop("id")
    if name is not None:
        data["name"] = name
    return profile_from_dict(data)


def unused_name(base: str, taken: Iterable[str]) -> str:
    """``Office``, else ``Office (2)``, ``Office (3)``… not in ``taken`` (case-insensitive)."""
    names = {n.casefold() for n in taken}
    if base.casefold() not in names:
        return base
    stem = base[:90]
    for n in range(2, 1000):
        candidate = f"{stem} ({n})"
        if candidate.casefold() not in names:
            return candidate
    raise ValueError("no free name")
