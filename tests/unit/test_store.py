"""The profile store: atomic writes, clear duplicates, broken files reported and left alone."""

from __future__ import annotations

import dataclasses
import json
import os
import stat
from pathlib import Path

import pytest

from wizard.profiles.codec import profile_to_json
from wizard.profiles.errors import ProfileNotFound, ValidationError
from wizard.profiles.model import Gateway, Profile, Protocol
from wizard.profiles.store import ProfileStore, atomic_write

OFFICE = Profile(name="Office", protocol=Protocol.L2TP, gateways=(Gateway("vpn.example.com"),))


def test_save_find_remove(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path)
    path = store.save(OFFICE)
    assert path.name == f"{OFFICE.id}.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert store.find("office") == OFFICE
    assert store.find(OFFICE.id) == OFFICE
    store.remove(OFFICE)
    with pytest.raises(ProfileNotFound, match="no connection named 'Office'"):
        store.find("Office")


def test_duplicate_names_are_refused_case_insensitively(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path)
    store.save(OFFICE)
    twin = Profile(name="OFFICE", protocol=Protocol.PPTP, gateways=(Gateway("10.0.0.1"),))
    with pytest.raises(ValidationError, match="already exists"):
        store.save(twin)
    with pytest.raises(ValidationError, match="already exists"):
        store.save(OFFICE)
    store.save(dataclasses.replace(OFFICE, gateways=(Gateway("10.1.1.1"),)), replace=True)
    assert store.find("Office").gateways[0].host == "10.1.1.1"


def test_broken_files_are_reported_and_never_touched(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path)
    store.save(OFFICE)
    garbage = store.directory / "0a0b0c0d-0000-4000-8000-000000000000.json"
    garbage.write_bytes(b'{"name": 42')
    wrong_field = store.directory / "11111111-1111-4111-8111-111111111111.json"
    wrong_field.write_text(json.dumps({"schema_version": 2, "name": "X", "protocol": "l2tp", "gateways": "nope"}))
    before = {p: p.read_bytes() for p in (garbage, wrong_field)}
    profiles, broken = store.load_all()
    assert profiles == [OFFICE]
    reasons = {b.path: b.reason for b in broken}
    assert "not valid JSON" in reasons[garbage]
    assert "gateways: must be a list" in reasons[wrong_field]
    store.save(Profile(name="Second", protocol=Protocol.L2TP, gateways=(Gateway("10.0.0.9"),)))
    assert {p: p.read_bytes() for p in (garbage, wrong_field)} == before


def test_file_named_after_another_id_is_reported(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path)
    store.directory.mkdir(parents=True)
    (store.directory / "22222222-2222-4222-8222-222222222222.json").write_text(profile_to_json(OFFICE))
    profiles, broken = store.load_all()
    assert profiles == [] and "does not match" in broken[0].reason


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "store"
    folder.mkdir()
    target = folder / "p.json"
    atomic_write(target, b"old")

    def boom(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError, match="No space"):
        atomic_write(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in folder.iterdir()] == ["p.json"]
