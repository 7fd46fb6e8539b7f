"""Profiles on disk: one JSON file per profile under the user's XDG config directory.

Writes are atomic (temp file in the same directory, fsync, rename) so a crash never leaves half a
profile. A file that cannot be read is reported and skipped; it is never deleted or overwritten, so
the user (or support) can still repair it by hand.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from wizard.profiles.codec import profile_from_dict, profile_to_json
from wizard.profiles.errors import ProfileNotFound, ValidationError
from wizard.profiles.model import Profile

APP_NAME = "connection-wizard"
MAX_PROFILE_BYTES = 1 << 20


def default_config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME))


@dataclass(frozen=True)
class BrokenProfile:
    """A profile file we could not load, and why (shown to the user, never auto-repaired)."""

    path: Path
    reason: str


class ProfileStore:
    """Loads, saves and removes profiles in ``<config>/profiles/<id>.json``."""

    def __init__(self, config_dir: Path | None = None) -> None:
        self.config_dir = config_dir or default_config_dir()
        self.directory = self.config_dir / "profiles"

    def _path(self, profile_id: str) -> Path:
        return self.directory / f"{profile_id}.json"

    def load_all(self) -> tuple[list[Profile], list[BrokenProfile]]:
        """Every readable profile sorted by name, and every file that could not be read."""
        profiles: list[Profile] = []
        broken: list[BrokenProfile] = []
        if not self.directory.is_dir():
            return profiles, broken
        for path in sorted(self.directory.glob("*.json")):
            try:
                profile = self._load_file(path)
            except ValidationError as exc:
                broken.append(BrokenProfile(path, str(exc)))
                continue
            if path.stem != profile.id:
                broken.append(BrokenProfile(path, f"file name does not match the profile id {profile.id}"))
                continue
            profiles.append(profile)
        profiles.sort(key=lambda p: p.name.casefold())
        return profiles, broken

    def _load_file(self, path: Path) -> Profile:
        try:
            if path.stat().st_size > MAX_PROFILE_BYTES:
                raise ValidationError("", f"the file is larger than {MAX_PROFILE_BYTES} bytes")
            raw = path.read_bytes()
        except OSError as exc:
            raise ValidationError("", f"cannot read the file ({exc.strerror})") from None
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            raise ValidationError("", f"the file is not valid JSON ({exc})") from None
        return profile_from_dict(data)

    def find(self, name_or_id: str) -> Profile:
        """Look a profile up by exact id, else by name (case-insensitive)."""
        profiles, _ = self.load_all()
        for profile in profiles:
            if profile.id == name_or_id:
                return profile
        wanted = name_or_id.casefold()
        for profile in profiles:
            if profile.name.casefold() == wanted:
                return profile
        names = ", ".join(p.name for p in profiles) or "none stored yet"
        raise ProfileNotFound(f"no connection named {name_or_id!r} (stored: {names})")

    def save(self, profile: Profile, *, replace: bool = False) -> Path:
        """Validate and write ``profile``; refuse a duplicate name unless it is the same profile."""
        profile.validate()
        profiles, _ = self.load_all()
        for other in profiles:
            if other.id == profile.id and not replace:
                raise ValidationError("id", f"a connection with id {profile.id} already exists ({other.name!r})")
            if other.id != profile.id and other.name.casefold() == profile.name.casefold():
                raise ValidationError("name", f"a connection named {other.name!r} already exists", "a different name")
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self._path(profile.id)
        atomic_write(path, profile_to_json(profile).encode())
        return path

    def remove(self, profile: Profile) -> None:
        path = self._path(profile.id)
        try:
            path.unlink()
        except FileNotFoundError:
            raise ProfileNotFound(f"connection {profile.name!r} is not stored") from None


def atomic_write(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` so readers see the old or the new file, never a torn one."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
