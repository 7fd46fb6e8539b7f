"""What the tray and the connections window know about sessions, without Qt.

:class:`SessionBook` folds the helper's event stream (``state``, ``progress``, ``error``,
``counters``, ``note``) and the service's availability into per-profile state, a session log, a
rate history for the graph, the tray's overall state, its tooltip and its menu. Each change that
deserves a desktop notification comes back as a :class:`Notice`, so the notification rules are
tested here and the views only show them. Log lines are redacted on the way in.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from wizard.gui.flow.format import format_bytes, format_duration
from wizard.gui.flow.i18n import tr
from wizard.logsetup import redact
from wizard.profiles.model import Profile

LOG_LINES = 500
HISTORY_POINTS = 120
USER_REASON = "disconnected by the user"
ACTIVE = frozenset({"starting", "connecting", "reconnecting", "disconnecting", "connected", "failed"})
BUSY = frozenset({"starting", "connecting", "reconnecting", "disconnecting"})


class TrayState(StrEnum):
    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    ERROR = "error"


class NoticeKind(StrEnum):
    CONNECTED = "connected"
    RECONNECTED = "reconnected"
    LOST = "lost"  # the link dropped; the helper is reconnecting
    DISCONNECTED = "disconnected"  # ended without the user asking
    FAILED = "failed"
    UNAVAILABLE = "unavailable"
    AVAILABLE = "available"


@dataclass(frozen=True)
class Notice:
    kind: NoticeKind
    title: str
    body: str
    profile_id: str = ""

    @property
    def is_error(self) -> bool:
        return self.kind in (NoticeKind.LOST, NoticeKind.DISCONNECTED, NoticeKind.FAILED, NoticeKind.UNAVAILABLE)


@dataclass(frozen=True)
class LogLine:
    time: float
    text: str
    error: bool = False


@dataclass(frozen=True)
class MenuEntry:
    """One profile's line in the tray menu, and the action under it."""

    profile_id: str
    name: str
    state: str
    title: str
    action: str | None  # "connect", "disconnect" or None
    action_label: str
    enabled: bool
    detail: str = ""  # the long status (reason of a failure, progress), for a tooltip


@dataclass
class _Track:
    """What we remember about one session beyond its snapshot."""

    ever_connected: bool = False
    user_disconnect: bool = False


@dataclass
class SessionBook:
    profiles: list[Profile] = field(default_factory=list)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)  # session id -> latest snapshot
    available: bool = False
    unavailable_reason: str = ""
    last_failure: dict[str, str] = field(default_factory=dict)  # profile id -> reason of the last failure
    starting: set[str] = field(default_factory=set)  # profile ids with a connect request in flight
    logs: dict[str, deque[LogLine]] = field(default_factory=dict)
    history: dict[str, deque[tuple[float, float, float]]] = field(default_factory=dict)
    _tracks: dict[str, _Track] = field(default_factory=dict)
    _told_unavailable: bool = False

    # --- inputs ----------------------------------------------------------------------------------

    def set_profiles(self, profiles: Iterable[Profile]) -> None:
        self.profiles = list(profiles)

    def set_available(self, available: bool, reason: str, now: float) -> list[Notice]:
        """The helper socket came back or went away."""
        notices: list[Notice] = []
        if available == self.available and (available or self._told_unavailable):
            self.unavailable_reason = "" if available else reason
            return notices
        self.available = available
        self.unavailable_reason = "" if available else reason
        if available:
            if self._told_unavailable:
                notices.append(Notice(NoticeKind.AVAILABLE, tr("VPN service is back"), tr("You can connect again.")))
            self._told_unavailable = False
            return notices
        for sid, snap in list(self.sessions.items()):
            pid = snap.get("profile_id", "")
            if snap.get("state") in ACTIVE:
                self.log(pid, now, tr("the VPN service stopped: {reason}").format(reason=reason), error=True)
                if self._tracks.get(sid, _Track()).ever_connected:
                    notices.append(
                        Notice(
                            NoticeKind.DISCONNECTED,
                            tr("{name} disconnected").format(name=snap.get("name", "")),
                            tr("The VPN service stopped."),
                            pid,
                        )
                    )
        self.sessions.clear()
        self._tracks.clear()
        self.starting.clear()
        self._told_unavailable = True
        notices.append(Notice(NoticeKind.UNAVAILABLE, tr("VPN service unavailable"), reason))
        return notices

    def replace_sessions(self, snapshots: Iterable[Mapping[str, Any]]) -> None:
        """The sessions the helper lists right after (re)subscribing."""
        self.sessions = {str(s["id"]): dict(s) for s in snapshots if "id" in s}
        self._tracks = {sid: _Track(ever_connected=s.get("state") == "connected") for sid, s in self.sessions.items()}
        for snap in self.sessions.values():
            self.starting.discard(snap.get("profile_id", ""))

    def connect_requested(self, profile_id: str, now: float) -> None:
        self.starting.add(profile_id)
        self.last_failure.pop(profile_id, None)
        self.log(profile_id, now, tr("connecting"))

    def connect_started(self, snapshot: Mapping[str, Any]) -> None:
        """The helper accepted our connect request and returned the new session's snapshot."""
        sid = str(snapshot["id"])
        self.starting.discard(str(snapshot.get("profile_id", "")))
        if sid not in self.sessions:  # the state event may have come first
            self.sessions[sid] = dict(snapshot)
        self._tracks.setdefault(sid, _Track())

    def connect_failed(self, profile_id: str, name: str, reason: str, now: float) -> list[Notice]:
        """The connect request itself was refused (or the service was unavailable)."""
        self.starting.discard(profile_id)
        self.last_failure[profile_id] = reason
        self.log(profile_id, now, tr("could not connect: {reason}").format(reason=reason), error=True)
        return [Notice(NoticeKind.FAILED, tr("Could not connect {name}").format(name=name), reason, profile_id)]

    def disconnect_requested(self, session_id: str, now: float) -> None:
        self._tracks.setdefault(session_id, _Track()).user_disconnect = True
        pid = self.sessions.get(session_id, {}).get("profile_id", "")
        self.last_failure.pop(pid, None)
        self.log(pid, now, tr("disconnecting"))

    def dismiss_failure(self, profile_id: str) -> None:
        self.last_failure.pop(profile_id, None)

    def apply_event(self, event: Mapping[str, Any], now: float) -> list[Notice]:
        """Fold one helper event in; returns the notifications it deserves."""
        kind = event.get("event")
        sid = event.get("session")
        if not isinstance(sid, str):
            return []
        snap = self.sessions.get(sid)
        if kind == "state":
            return self._on_state(sid, event, now)
        if snap is None:
            return []
        pid = snap.get("profile_id", "")
        if kind == "progress":
            snap["phase"], snap["message"] = event.get("phase", ""), event.get("message", "")
            self.log(pid, now, str(event.get("message", "")))
        elif kind == "error":
            snap["reason"] = event.get("reason", "")
            self.log(pid, now, tr("problem: {reason}").format(reason=event.get("reason", "")), error=True)
        elif kind == "counters" and isinstance(event.get("counters"), dict):
            counters = dict(event["counters"])
            snap["counters"] = counters
            points = self.history.setdefault(pid, deque(maxlen=HISTORY_POINTS))
            points.append((now, float(counters.get("rate_in", 0.0)), float(counters.get("rate_out", 0.0))))
        return []

    def _on_state(self, sid: str, event: Mapping[str, Any], now: float) -> list[Notice]:
        info = event.get("info") if isinstance(event.get("info"), dict) else {}
        previous = self.sessions.get(sid, {})
        snap = {**previous, **(info or {})}
        snap.setdefault("id", sid)
        state = str(event.get("state", snap.get("state", "")))
        before = str(previous.get("state", ""))
        snap["state"] = state
        if event.get("reason"):
            snap["reason"] = event["reason"]
        pid = str(snap.get("profile_id", ""))
        name = str(snap.get("name", ""))
        reason = str(event.get("reason") or snap.get("reason") or "")
        track = self._tracks.setdefault(sid, _Track())
        self.starting.discard(pid)
        notices: list[Notice] = []
        if state == before and state != "reconnecting":
            self.sessions[sid] = snap
            return notices
        message = str(event.get("message") or state)
        self.log(pid, now, message, error=state == "failed")
        if state == "connected":
            address = (snap.get("negotiated") or {}).get("address", "")
            body = tr("Your address is {address}.").format(address=address) if address else ""
            if track.ever_connected:
                notices.append(Notice(NoticeKind.RECONNECTED, tr("{name} reconnected").format(name=name), body, pid))
            else:
                notices.append(Notice(NoticeKind.CONNECTED, tr("Connected to {name}").format(name=name), body, pid))
            track.ever_connected = True
            self.last_failure.pop(pid, None)
            self.history.pop(pid, None)
        elif state == "reconnecting" and before == "connected":
            notices.append(
                Notice(NoticeKind.LOST, tr("{name}: connection lost").format(name=name), _reconnecting(reason), pid)
            )
        elif state == "failed":
            self.last_failure[pid] = reason or message
            notices.append(Notice(NoticeKind.FAILED, tr("{name} failed").format(name=name), message, pid))
        elif state == "disconnected":
            self.sessions.pop(sid, None)
            self._tracks.pop(sid, None)
            if track.user_disconnect or reason == USER_REASON:
                return notices
            if before == "failed":
                return notices  # already told; the user released the kill switch
            if track.ever_connected:
                self.last_failure[pid] = reason
                notices.append(Notice(NoticeKind.DISCONNECTED, tr("{name} disconnected").format(name=name), reason, pid))
            else:
                self.last_failure[pid] = reason
                notices.append(Notice(NoticeKind.FAILED, tr("Could not connect {name}").format(name=name), reason, pid))
            return notices
        self.sessions[sid] = snap
        return notices

    def log(self, profile_id: str, now: float, text: str, error: bool = False) -> None:
        if not profile_id or not text:
            return
        self.logs.setdefault(profile_id, deque(maxlen=LOG_LINES)).append(LogLine(now, redact(text), error))

    # --- views -----------------------------------------------------------------------------------

    def session_for(self, profile_id: str) -> dict[str, Any] | None:
        for snap in self.sessions.values():
            if snap.get("profile_id") == profile_id:
                return snap
        return None

    def profile_state(self, profile_id: str) -> str:
        snap = self.session_for(profile_id)
        if snap is not None:
            return str(snap.get("state", "connecting"))
        if profile_id in self.starting:
            return "starting"
        return "disconnected"

    def icon_state(self, profile_id: str) -> str:
        """The state a profile's icon shows: its session state, or ``error`` after a failed attempt."""
        state = self.profile_state(profile_id)
        return "error" if state == "disconnected" and profile_id in self.last_failure else state

    def overall_state(self) -> TrayState:
        states = {str(s.get("state")) for s in self.sessions.values()} | ({"starting"} if self.starting else set())
        if not self.available or "failed" in states:
            return TrayState.ERROR
        if states & BUSY:
            return TrayState.CONNECTING
        if "connected" in states:
            return TrayState.CONNECTED
        if self.last_failure:
            return TrayState.ERROR
        return TrayState.DISCONNECTED

    def status_line(self, profile_id: str, short: bool = False) -> str:
        """``connected for 12:05``, ``connecting: negotiating IPsec``, ``last attempt failed: …``.

        ``short`` leaves out reasons and progress details (for lists and menus; tooltips carry them).
        """
        snap = self.session_for(profile_id)
        state = self.profile_state(profile_id)
        if state == "connected" and snap is not None:
            uptime = float((snap.get("counters") or {}).get("uptime", 0.0))
            return tr("connected for {uptime}").format(uptime=format_duration(uptime))
        if state in ("connecting", "reconnecting") and snap is not None:
            detail = "" if short else str(snap.get("message") or "")
            label = tr("connecting") if state == "connecting" else tr("reconnecting")
            return f"{label}: {detail}" if detail and detail != state else f"{label}…"
        if state == "starting":
            return tr("connecting…")
        if state == "disconnecting":
            return tr("disconnecting…")
        if state == "failed":
            return tr("failed; the kill switch is blocking traffic")
        if profile_id in self.last_failure:
            if short:
                return tr("last attempt failed")
            return tr("last attempt failed: {reason}").format(reason=self.last_failure[profile_id])
        return tr("not connected")

    def _names(self) -> list[tuple[str, str]]:
        """(profile id, name) for every stored profile, then sessions of profiles not stored here."""
        known = [(p.id, p.name) for p in self.profiles]
        ids = {pid for pid, _ in known}
        for snap in self.sessions.values():
            pid = str(snap.get("profile_id", ""))
            if pid not in ids:
                known.append((pid, str(snap.get("name", pid))))
                ids.add(pid)
        return known

    def menu_entries(self) -> list[MenuEntry]:
        entries: list[MenuEntry] = []
        for pid, name in self._names():
            state = self.profile_state(pid)
            detail = self.status_line(pid)
            failed = state == "disconnected" and pid in self.last_failure
            title = f"{name} — {self.status_line(pid, short=True)}" if state != "disconnected" or failed else name
            if state == "disconnected":
                shown = "error" if failed else state
                entry = MenuEntry(pid, name, shown, title, "connect", tr("Connect"), self.available, detail)
            elif state == "connected":
                entry = MenuEntry(pid, name, state, title, "disconnect", tr("Disconnect"), True, detail)
            elif state == "failed":
                entry = MenuEntry(pid, name, state, title, "disconnect", tr("Disconnect and unblock traffic"), True, detail)
            elif state in ("connecting", "reconnecting"):
                entry = MenuEntry(pid, name, state, title, "disconnect", tr("Cancel"), True, detail)
            else:  # starting, disconnecting: wait for the helper
                entry = MenuEntry(pid, name, state, title, None, "", False, detail)
            entries.append(entry)
        return entries

    def tooltip(self) -> str:
        head = tr("Connection Wizard")
        if not self.available:
            reason = self.unavailable_reason or tr("not reachable")
            return f"{head}: {tr('VPN service unavailable')}\n{reason}"
        lines: list[str] = []
        for snap in self.sessions.values():
            name = str(snap.get("name", ""))
            pid = str(snap.get("profile_id", ""))
            lines.append(f"{name}: {self.status_line(pid)}")
            if snap.get("state") == "connected":
                counters = snap.get("counters") or {}
                address = (snap.get("negotiated") or {}).get("address")
                if address:
                    lines.append(tr("  address {address}").format(address=address))
                lines.append(
                    tr("  in {received}, out {sent}").format(
                        received=format_bytes(counters.get("bytes_in", 0)), sent=format_bytes(counters.get("bytes_out", 0))
                    )
                )
        for pid in self.starting:
            lines.append(f"{self._name_of(pid)}: {tr('connecting…')}")
        if not lines:
            failed = [f"{self._name_of(pid)}: {why}" for pid, why in self.last_failure.items()]
            return "\n".join([f"{head}: {tr('not connected')}", *failed])
        return "\n".join([head, *lines])

    def _name_of(self, profile_id: str) -> str:
        return next((name for pid, name in self._names() if pid == profile_id), profile_id)


def sentence(text: str) -> str:
    """``text`` with its first letter capitalised and the rest left alone (``str.capitalize`` is not)."""
    return text[:1].upper() + text[1:]


def _reconnecting(reason: str) -> str:
    if reason:
        return tr("{reason}. Reconnecting…").format(reason=reason[0].upper() + reason[1:])
    return tr("Reconnecting…")
