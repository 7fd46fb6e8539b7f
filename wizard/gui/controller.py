"""The app's brain shared by the tray, its fallback window and the connections window.

It owns the :class:`~wizard.gui.flow.sessions.SessionBook`, feeds it from the
:class:`~wizard.gui.service.HelperService` signals, and turns user intents ("connect Office") into
the asynchronous steps they need: fetch saved secrets off the UI thread, ask for missing ones,
send the connect request. Views listen to ``changed`` (redraw) and ``notify`` (show a notice).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from wizard.gui.flow.sessions import Notice, SessionBook
from wizard.gui.qtcompat import emit
from wizard.gui.service import HelperService
from wizard.logsetup import register_secret
from wizard.profiles.model import CredentialPolicy, Profile, Protocol, SecretKind
from wizard.profiles.store import ProfileStore

if TYPE_CHECKING:  # keyring is slow to import; the tray must show first
    from wizard.profiles.secrets import SecretStore

log = logging.getLogger("wizard.gui.controller")

#: ``ask(profile, missing secrets, ask for user name, done)``; ``done(None, "")`` means cancelled.
SecretAsker = Callable[[Profile, list[SecretKind], bool, Callable[[dict[str, str] | None, str], None]], None]


class AppController(QObject):
    changed = Signal()  # sessions, availability or profiles changed: redraw
    notify = Signal(object)  # a Notice worth a desktop notification
    profilesChanged = Signal()

    def __init__(
        self,
        store: ProfileStore,
        service: HelperService,
        secrets: SecretStore | None = None,
        *,
        clock: Callable[[], float] = time.time,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.service = service
        self._secret_store = secrets
        self.clock = clock
        self.book = SessionBook()
        self.broken: list[Any] = []
        self.prompt_parent: QWidget | None = None
        self.ask_secrets: SecretAsker = self._ask_with_dialog
        self._pending: dict[int, tuple[str, str]] = {}  # token -> (what, profile id)
        self._cancelled: set[str] = set()
        self._service_known = False  # until the first availability report, connects wait for it
        self._queued: list[str] = []
        self._given: dict[str, dict[str, str]] = {}  # profile id -> secrets typed for this connect
        service.availabilityChanged.connect(self._on_available)
        service.sessionsReset.connect(self._on_sessions)
        service.eventReceived.connect(self._on_event)
        service.callFinished.connect(self._on_finished)
        service.callFailed.connect(self._on_failed)
        self.reload_profiles()

    @property
    def secret_store(self) -> SecretStore:
        """The keyring, opened on first use (importing keyring costs ~80 ms of start-up)."""
        if self._secret_store is None:
            from wizard.profiles.secrets import SecretStore

            self._secret_store = SecretStore()
        return self._secret_store

    # --- profiles --------------------------------------------------------------------------------

    def reload_profiles(self) -> None:
        profiles, self.broken = self.store.load_all()
        self.book.set_profiles(profiles)
        emit(self.profilesChanged)
        emit(self.changed)

    def profile(self, profile_id: str) -> Profile | None:
        return next((p for p in self.book.profiles if p.id == profile_id), None)

    # --- intents ---------------------------------------------------------------------------------

    def connect_profile(self, profile_id: str, given: dict[str, str] | None = None) -> None:
        """Connect; ``given`` secrets (typed in the wizard just now) are used before asking."""
        profile = self.profile(profile_id)
        if profile is None or self.book.profile_state(profile_id) != "disconnected":
            return
        self._cancelled.discard(profile_id)
        if given:
            self._given[profile_id] = dict(given)
        self.book.connect_requested(profile_id, self.clock())
        emit(self.changed)
        if self._service_known:
            self._fetch_secrets(profile)
        else:
            self._queued.append(profile_id)

    def _fetch_secrets(self, profile: Profile) -> None:
        """Saved secrets come from the keyring in the worker thread (it may block on D-Bus)."""
        store = self.secret_store
        wanted = list(profile.saved_secrets)

        def lookup() -> dict[str, str]:
            found: dict[str, str] = {}
            for kind in wanted:
                value = store.get(profile, kind)
                if value:
                    found[kind.value] = value
            return found

        self._pending[self.service.run_blocking(lookup)] = ("secrets", profile.id)

    def disconnect_profile(self, profile_id: str) -> None:
        snapshot = self.book.session_for(profile_id)
        if snapshot is None:
            if profile_id in self.book.starting:  # not at the helper yet: just drop the request
                self._cancelled.add(profile_id)
                self.book.starting.discard(profile_id)
                self.book.log(profile_id, self.clock(), self.tr("cancelled"))
                emit(self.changed)
            return
        session_id = str(snapshot["id"])
        self.book.disconnect_requested(session_id, self.clock())
        self._pending[self.service.disconnect_session(session_id)] = ("disconnect", profile_id)
        emit(self.changed)

    def toggle(self, profile_id: str) -> None:
        """What one click on a profile does: connect it, or disconnect it if it is active."""
        if self.book.profile_state(profile_id) == "disconnected":
            self.connect_profile(profile_id)
        else:
            self.disconnect_profile(profile_id)

    # --- connect steps ---------------------------------------------------------------------------

    def _secrets_ready(self, profile_id: str, found: dict[str, str]) -> None:
        profile = self.profile(profile_id)
        given = self._given.pop(profile_id, {})
        if profile is None or profile_id in self._cancelled:
            return
        found = {**found, **given}
        missing = [k for k in profile.auth.secrets if k.value not in found]
        ask_user = profile.credential_policy is CredentialPolicy.NEVER and profile.protocol is not Protocol.IPSEC_TRANSPORT
        if not missing and not ask_user:
            self._send_connect(profile, found)
            return

        def answered(values: dict[str, str] | None, username: str) -> None:
            if values is None or profile_id in self._cancelled:
                self.book.starting.discard(profile_id)
                self.book.log(profile_id, self.clock(), self.tr("cancelled"))
                emit(self.changed)
                return
            chosen = profile
            if ask_user and username:
                # the stored profile keeps no user name; this session's copy carries it
                auth = dataclasses.replace(profile.auth, username=username)
                chosen = dataclasses.replace(profile, auth=auth, credential_policy=CredentialPolicy.USERNAME_ONLY)
            self._send_connect(chosen, {**found, **values})

        self.ask_secrets(profile, missing, ask_user, answered)

    def _send_connect(self, profile: Profile, secrets: dict[str, str]) -> None:
        for value in secrets.values():
            register_secret(value)  # masked in every log line from now on
        token = self.service.connect_profile(profile, secrets)
        secrets.clear()
        self._pending[token] = ("connect", profile.id)

    def _ask_with_dialog(
        self, profile: Profile, missing: list[SecretKind], ask_user: bool, done: Callable[[dict[str, str] | None, str], None]
    ) -> None:
        from wizard.gui.secret_prompt import open_secret_prompt

        prompt = open_secret_prompt(profile, missing, ask_user, self.prompt_parent)
        answered: list[bool] = []

        def on_answer(values: object, username: str) -> None:
            answered.append(True)
            done(dict(values) if isinstance(values, dict) else {}, username)

        prompt.answered.connect(on_answer)
        prompt.rejected.connect(lambda: None if answered else done(None, ""))

    # --- service signals -------------------------------------------------------------------------

    def _emit(self, notices: list[Notice]) -> None:
        for notice in notices:
            emit(self.notify, notice)
        emit(self.changed)

    def _on_available(self, available: bool, reason: str) -> None:
        self._service_known = True
        self._emit(self.book.set_available(available, reason, self.clock()))
        queued, self._queued = self._queued, []
        for profile_id in queued:
            profile = self.profile(profile_id)
            if profile is not None and profile_id not in self._cancelled:
                self.book.starting.add(profile_id)
                self._fetch_secrets(profile)

    def _on_sessions(self, sessions: object) -> None:
        self.book.replace_sessions(sessions if isinstance(sessions, list) else [])
        emit(self.changed)

    def _on_event(self, event: object) -> None:
        if isinstance(event, dict):
            self._emit(self.book.apply_event(event, self.clock()))

    def _on_finished(self, token: int, result: object) -> None:
        what, profile_id = self._pending.pop(token, ("", ""))
        if what == "secrets":
            self._secrets_ready(profile_id, dict(result) if isinstance(result, dict) else {})
        elif what == "connect" and isinstance(result, dict):
            self.book.connect_started(result)
            if profile_id in self._cancelled:  # cancelled while the request was on its way
                self._cancelled.discard(profile_id)
                self.disconnect_profile(profile_id)
            emit(self.changed)

    def _on_failed(self, token: int, code: str, message: str) -> None:
        what, profile_id = self._pending.pop(token, ("", ""))
        if what == "secrets":  # the keyring failed: ask for everything instead
            log.warning("keyring lookup failed: %s", message)
            self._secrets_ready(profile_id, {})
        elif what == "connect":
            profile = self.profile(profile_id)
            name = profile.name if profile else profile_id
            self._emit(self.book.connect_failed(profile_id, name, message, self.clock()))
        elif what == "disconnect":
            self.book.log(profile_id, self.clock(), self.tr("could not disconnect: {why}").format(why=message), error=True)
            emit(self.changed)
