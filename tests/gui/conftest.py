"""Fixtures for GUI tests: a fake helper on a short socket path, the service and the controller."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from tests.gui.fake_helper import FakeHelper
from tests.memory_keyring import MemoryKeyring
from wizard.gui.controller import AppController
from wizard.gui.service import HelperService
from wizard.profiles.model import Auth, Gateway, MppePolicy, PPPOptions, Profile, Protocol
from wizard.profiles.secrets import SecretStore
from wizard.profiles.store import ProfileStore


@pytest.fixture
def socket_path() -> Iterator[Path]:
    """Unix socket paths must stay under 108 bytes, so not under pytest's long tmp_path."""
    directory = Path(tempfile.mkdtemp(prefix="cwg-"))
    yield directory / "helper.sock"
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def fake_helper(socket_path: Path) -> Iterator[FakeHelper]:
    helper = FakeHelper(socket_path).start()
    yield helper
    helper.shutdown()


@pytest.fixture
def service(qtbot: QtBot, socket_path: Path) -> Iterator[HelperService]:
    svc = HelperService(socket_path, retry_initial=0.05, retry_max=0.2)
    yield svc
    svc.stop()


@pytest.fixture
def keyring() -> SecretStore:
    return SecretStore(MemoryKeyring())


@pytest.fixture
def store(tmp_path: Path) -> ProfileStore:
    return ProfileStore(tmp_path / "config")


def l2tp_profile(name: str, username: str = "alice") -> Profile:
    return Profile(
        name=name,
        protocol=Protocol.L2TP,
        gateways=(Gateway("192.0.2.2"),),
        auth=Auth(username=username),
        ppp=PPPOptions(mppe=MppePolicy.ALLOW),
    )


@pytest.fixture
def profiles(store: ProfileStore, keyring: SecretStore) -> dict[str, Profile]:
    """Office (password saved), Home (password not saved), Lab (user name 'bad': the fake refuses it)."""
    made = {"Office": l2tp_profile("Office"), "Home": l2tp_profile("Home", "bob"), "Lab": l2tp_profile("Lab", "bad")}
    for profile in made.values():
        store.save(profile)
    keyring.set(made["Office"], made["Office"].auth.secrets[0], "office-pw")
    keyring.set(made["Lab"], made["Lab"].auth.secrets[0], "lab-pw")
    return made


@pytest.fixture
def controller(qtbot: QtBot, store: ProfileStore, keyring: SecretStore, service: HelperService) -> AppController:
    ctl = AppController(store, service, keyring)
    answers: list[tuple[str, list[str], bool]] = []

    def ask(profile, missing, ask_user, done):  # type: ignore[no-untyped-def]
        answers.append((profile.name, [k.value for k in missing], ask_user))
        done({k.value: f"typed-{k.value}" for k in missing}, "typed-user" if ask_user else "")

    ctl.ask_secrets = ask
    ctl.asked = answers  # type: ignore[attr-defined]
    return ctl
