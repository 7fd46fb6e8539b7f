"""A crash-safe record of every change the helper makes to the system.

One JSON file per session in the journal directory (``/run/connection-wizard/journal`` by default:
``/run`` is emptied at boot, exactly when the changes it lists are gone too). Entries are written
*before* a change we can describe in advance (nftables table, resolv.conf edit) and right after
one we learn about as it happens (``LinkConfigurator.on_change``), and each write replaces the whole
file atomically (temporary file, fsync, rename), so a crash leaves either the old or the new list.
A restarted helper reads what is left (:meth:`Journal.leftovers`) and undoes it before serving.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wizard.net.config import AppliedChange

DEFAULT_JOURNAL_DIR = Path("/run/connection-wizard/journal")
JOURNAL_FORMAT = 1
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


class JournalError(Exception):
    """A journal file could not be read or written; ``reason`` is plain language."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class LinkChange:
    """An address, route, MTU or link-up change on an interface (undo: ``revert_changes``)."""

    change: AppliedChange
    type: str = "link"

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "change": self.change.to_json()}


@dataclass(frozen=True)
class NftTable:
    """An nftables table of ours (undo: delete the table)."""

    family: str
    name: str
    type: str = "nft_table"

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "family": self.family, "name": self.name}


@dataclass(frozen=True)
class ResolvConfEdit:
    """We replaced a resolv.conf (undo: put back ``original`` or the symlink, if ours is still there)."""

    path: str
    original: bytes | None  # None: there was no file
    symlink: str | None  # the original was a symlink to this target
    written: bytes  # what we wrote, so we never clobber a later edit by someone else
    mode: int = 0o644  # the original file's permission bits
    type: str = "resolv_conf"

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "path": self.path,
            "original": None if self.original is None else base64.b64encode(self.original).decode(),
            "symlink": self.symlink,
            "written": base64.b64encode(self.written).decode(),
            "mode": self.mode,
        }


@dataclass(frozen=True)
class ResolvedLink:
    """systemd-resolved holds DNS settings for a link of ours (undo: ``resolvectl revert``)."""

    ifindex: int
    ifname: str
    type: str = "resolved_link"

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "ifindex": self.ifindex, "ifname": self.ifname}


Entry = LinkChange | NftTable | ResolvConfEdit | ResolvedLink


def entry_from_json(data: Mapping[str, Any]) -> Entry:
    """Inverse of ``to_json``; raises ValueError on anything malformed."""
    kind = data.get("type")
    try:
        if kind == "link":
            return LinkChange(AppliedChange.from_json(data["change"]))
        if kind == "nft_table":
            return NftTable(_str(data, "family"), _str(data, "name"))
        if kind == "resolv_conf":
            original = data.get("original")
            symlink = data.get("symlink")
            if original is not None and not isinstance(original, str):
                raise ValueError("original must be base64 text or null")
            if symlink is not None and not isinstance(symlink, str):
                raise ValueError("symlink must be text or null")
            return ResolvConfEdit(
                path=_str(data, "path"),
                original=None if original is None else base64.b64decode(original, validate=True),
                symlink=symlink,
                written=base64.b64decode(_str(data, "written"), validate=True),
                mode=_mode(data.get("mode", 0o644)),
            )
        if kind == "resolved_link":
            ifindex = data.get("ifindex")
            if type(ifindex) is not int:
                raise ValueError("ifindex must be a whole number")
            return ResolvedLink(ifindex, _str(data, "ifname"))
    except (KeyError, TypeError) as exc:
        raise ValueError(f"malformed {kind} entry: {exc}") from None
    raise ValueError(f"unknown journal entry type {kind!r}")


def _mode(value: object) -> int:
    if type(value) is not int or not 0 <= value <= 0o7777:
        raise ValueError("mode must be permission bits")
    return value


def _str(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise ValueError(f"{key} must be text")
    return value


class SessionJournal:
    """The entries of one session; every mutation is written through to disk before it returns."""

    def __init__(self, path: Path, entries: list[Entry] | None = None) -> None:
        self.path = path
        self._entries: list[Entry] = list(entries or [])

    @property
    def session_id(self) -> str:
        return self.path.stem

    @property
    def entries(self) -> tuple[Entry, ...]:
        return tuple(self._entries)

    def add(self, entry: Entry) -> None:
        self._entries.append(entry)
        self._flush()

    def discard(self, entry: Entry) -> None:
        """Forget an entry whose change was undone (missing entries are fine)."""
        with contextlib.suppress(ValueError):
            self._entries.remove(entry)
            self._flush()

    def discard_where(self, kind: type) -> None:
        kept = [e for e in self._entries if not isinstance(e, kind)]
        if len(kept) != len(self._entries):
            self._entries = kept
            self._flush()

    def record_link_change(self, change: AppliedChange) -> None:
        """Suits ``LinkConfigurator(on_change=...)``."""
        self.add(LinkChange(change))

    def close(self) -> None:
        """Everything is undone: remove the file."""
        self._entries.clear()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def _flush(self) -> None:
        body = {"format": JOURNAL_FORMAT, "session": self.session_id, "entries": [e.to_json() for e in self._entries]}
        atomic_write(self.path, json.dumps(body, indent=1).encode() + b"\n")


class Journal:
    """The journal directory: one file per session."""

    def __init__(self, directory: Path = DEFAULT_JOURNAL_DIR) -> None:
        self.directory = directory

    def prepare(self) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(self.directory, 0o700)
        except OSError as exc:
            raise JournalError(f"cannot create the journal directory {self.directory}: {exc.strerror}") from None

    def session(self, session_id: str) -> SessionJournal:
        if not _NAME.fullmatch(session_id):
            raise ValueError(f"not a session id usable as a file name: {session_id!r}")
        if not self.directory.is_dir():
            self.prepare()
        return SessionJournal(self.directory / f"{session_id}.json")

    def leftovers(self) -> list[tuple[Path, SessionJournal | JournalError]]:
        """Journals a previous helper left behind; unreadable ones come back as errors to report."""
        if not self.directory.is_dir():
            return []
        for tmp in self.directory.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)  # a write that never reached its rename
        found: list[tuple[Path, SessionJournal | JournalError]] = []
        for path in sorted(self.directory.glob("*.json")):
            try:
                found.append((path, load(path)))
            except JournalError as exc:
                found.append((path, exc))
        return found


def load(path: Path) -> SessionJournal:
    try:
        data = json.loads(path.read_bytes())
        if not isinstance(data, dict) or data.get("format") != JOURNAL_FORMAT:
            raise ValueError("not a journal of a format we know")
        raw = data.get("entries")
        if not isinstance(raw, list):
            raise ValueError("entries must be a list")
        entries = [entry_from_json(e) if isinstance(e, dict) else _bad_entry() for e in raw]
    except (OSError, ValueError, RecursionError) as exc:
        raise JournalError(f"the journal {path} is unreadable: {exc}") from None
    return SessionJournal(path, entries)


def _bad_entry() -> Entry:
    raise ValueError("an entry is not an object")


def atomic_write(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data`` so a crash leaves the old or the new content, never a mix."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
