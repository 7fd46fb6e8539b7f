"""SessionBook without Qt: states, notifications, menu, tooltip, log and history from helper events."""

from __future__ import annotations

from typing import Any

from wizard.gui.flow.format import format_bytes, format_duration, format_rate
from wizard.gui.flow.sessions import NoticeKind, SessionBook, TrayState
from wizard.logsetup import register_secret
from wizard.profiles.model import Gateway, Profile, Protocol

OFFICE = Profile(name="Office", protocol=Protocol.L2TP, gateways=(Gateway("vpn.example.com"),))
HOME = Profile(name="Home", protocol=Protocol.PPTP, gateways=(Gateway("192.0.2.9"),))


def snapshot(state: str, sid: str = "s1", profile: Profile = OFFICE, **extra: Any) -> dict[str, Any]:
    return {
        "id": sid,
        "profile_id": profile.id,
        "name": profile.name,
        "protocol": profile.protocol.value,
        "state": state,
        "message": extra.pop("message", state),
        "reason": extra.pop("reason", ""),
        "negotiated": extra.pop("negotiated", {}),
        "counters": extra.pop("counters", {"uptime": 0.0, "bytes_in": 0, "bytes_out": 0}),
        **extra,
    }


def state(state_name: str, sid: str = "s1", reason: str = "", message: str = "", **info: Any) -> dict[str, Any]:
    snap = snapshot(state_name, sid, reason=reason, message=message or state_name, **info)
    return {"event": "state", "session": sid, "state": state_name, "message": snap["message"], "reason": reason, "info": snap}


def book() -> SessionBook:
    b = SessionBook()
    b.set_profiles([HOME, OFFICE])
    b.set_available(True, "", 0.0)
    return b


def kinds(notices: list[Any]) -> list[NoticeKind]:
    return [n.kind for n in notices]


def test_connect_flow_states_and_notices() -> None:
    b = book()
    assert b.overall_state() is TrayState.DISCONNECTED
    b.connect_requested(OFFICE.id, 1.0)
    assert b.profile_state(OFFICE.id) == "starting" and b.overall_state() is TrayState.CONNECTING
    b.connect_started(snapshot("connecting"))
    assert b.apply_event({"event": "progress", "session": "s1", "phase": "control", "message": "opening the tunnel"}, 2.0) == []
    assert "opening the tunnel" in b.status_line(OFFICE.id)
    notices = b.apply_event(state("connected", negotiated={"address": "10.0.0.5"}), 3.0)
    assert kinds(notices) == [NoticeKind.CONNECTED] and "10.0.0.5" in notices[0].body
    assert b.overall_state() is TrayState.CONNECTED
    counters = {"uptime": 65.0, "bytes_in": 2048, "bytes_out": 512, "rate_in": 100.0, "rate_out": 50.0}
    b.apply_event({"event": "counters", "session": "s1", "counters": counters}, 4.0)
    assert list(b.history[OFFICE.id]) == [(4.0, 100.0, 50.0)]
    tip = b.tooltip()
    assert "Office: connected for 1:05" in tip and "10.0.0.5" in tip and "2.0 KiB" in tip and "512 B" in tip


def test_user_disconnect_is_silent() -> None:
    b = book()
    b.connect_started(snapshot("connecting"))
    b.apply_event(state("connected"), 1.0)
    b.disconnect_requested("s1", 2.0)
    assert b.apply_event(state("disconnecting"), 2.1) == []
    assert b.apply_event(state("disconnected", reason="disconnected by the user"), 2.2) == []
    assert b.overall_state() is TrayState.DISCONNECTED and b.session_for(OFFICE.id) is None


def test_failure_to_connect_names_the_reason() -> None:
    b = book()
    b.connect_started(snapshot("connecting"))
    why = "the server rejected the user name or password (MS-CHAPv2 failure, E=691)"
    assert b.apply_event({"event": "error", "session": "s1", "reason": why, "phase": "ppp-auth"}, 1.0) == []
    notices = b.apply_event(state("disconnected", reason=why), 1.1)
    assert kinds(notices) == [NoticeKind.FAILED] and notices[0].body == why
    assert b.overall_state() is TrayState.ERROR
    assert why in b.status_line(OFFICE.id) and why in b.tooltip()
    b.connect_requested(OFFICE.id, 2.0)  # trying again clears the error
    assert b.overall_state() is TrayState.CONNECTING


def test_link_lost_reconnect_and_give_up() -> None:
    b = book()
    b.connect_started(snapshot("connecting"))
    b.apply_event(state("connected"), 1.0)
    lost = b.apply_event(state("reconnecting", reason="the gateway stopped answering"), 2.0)
    assert kinds(lost) == [NoticeKind.LOST] and "Reconnecting" in lost[0].body
    assert b.apply_event(state("reconnecting", message="reconnecting (attempt 1)"), 3.0) == []
    assert b.overall_state() is TrayState.CONNECTING
    assert kinds(b.apply_event(state("connected"), 4.0)) == [NoticeKind.RECONNECTED]
    b.apply_event(state("reconnecting", reason="gone"), 5.0)
    final = b.apply_event(state("disconnected", reason="gone; gave up after 5 reconnect attempts"), 6.0)
    assert kinds(final) == [NoticeKind.DISCONNECTED] and "gave up" in final[0].body
    assert b.overall_state() is TrayState.ERROR


def test_kill_switch_failed_state_then_release() -> None:
    b = book()
    b.connect_started(snapshot("connecting", kill_switch=True))
    b.apply_event(state("connected"), 1.0)
    failed = b.apply_event(state("failed", reason="x", message="the connection is down; the kill switch keeps blocking"), 2.0)
    assert kinds(failed) == [NoticeKind.FAILED] and "kill switch" in failed[0].body
    assert b.overall_state() is TrayState.ERROR
    entry = next(e for e in b.menu_entries() if e.profile_id == OFFICE.id)
    assert entry.action == "disconnect" and "unblock" in entry.action_label
    assert b.apply_event(state("disconnected", reason="x"), 3.0) == []


def test_menu_lists_every_profile_with_its_action() -> None:
    b = book()
    entries = {e.name: e for e in b.menu_entries()}
    assert [e.name for e in b.menu_entries()] == ["Home", "Office"]
    assert entries["Office"].action == "connect" and entries["Office"].enabled
    b.connect_started(snapshot("connecting"))
    b.apply_event(state("connected", counters={"uptime": 3725.0}), 1.0)
    entries = {e.name: e for e in b.menu_entries()}
    assert entries["Office"].action == "disconnect" and "1:02:05" in entries["Office"].title
    assert entries["Home"].action == "connect"
    b.set_available(False, "the helper is not running", 2.0)
    assert not any(e.enabled for e in b.menu_entries())


def test_sessions_started_elsewhere_show_up() -> None:
    b = book()
    stranger = Profile(name="CLI only", protocol=Protocol.L2TP, gateways=(Gateway("192.0.2.1"),))
    b.replace_sessions([snapshot("connected", "s9", stranger)])
    assert [e.name for e in b.menu_entries()] == ["Home", "Office", "CLI only"]
    assert b.overall_state() is TrayState.CONNECTED


def test_service_going_away_and_back() -> None:
    b = book()
    b.connect_started(snapshot("connecting"))
    b.apply_event(state("connected"), 1.0)
    notices = b.set_available(False, "the helper closed the connection", 2.0)
    assert kinds(notices) == [NoticeKind.DISCONNECTED, NoticeKind.UNAVAILABLE]
    assert b.overall_state() is TrayState.ERROR and "unavailable" in b.tooltip()
    assert b.set_available(False, "still down", 3.0) == []  # told once
    assert kinds(b.set_available(True, "", 4.0)) == [NoticeKind.AVAILABLE]
    assert b.overall_state() is TrayState.DISCONNECTED


def test_first_start_without_helper_tells_once() -> None:
    b = SessionBook()
    assert kinds(b.set_available(False, "not running", 0.0)) == [NoticeKind.UNAVAILABLE]
    assert b.set_available(False, "not running", 1.0) == []
    assert kinds(b.set_available(True, "", 2.0)) == [NoticeKind.AVAILABLE]
    fresh = SessionBook()
    assert fresh.set_available(True, "", 0.0) == []


def test_refused_connect_request() -> None:
    b = book()
    b.connect_requested(OFFICE.id, 1.0)
    notices = b.connect_failed(OFFICE.id, "Office", "'Office' is already connecting (session s1)", 1.5)
    assert kinds(notices) == [NoticeKind.FAILED] and b.profile_state(OFFICE.id) == "disconnected"


def test_log_is_redacted_and_bounded() -> None:
    b = book()
    register_secret("hunter2-secret")
    b.connect_started(snapshot("connecting"))
    b.apply_event({"event": "progress", "session": "s1", "phase": "x", "message": "sent hunter2-secret"}, 1.0)
    b.apply_event({"event": "error", "session": "s1", "reason": "password=abc123 wrong"}, 1.0)
    texts = [line.text for line in b.logs[OFFICE.id]]
    assert all("hunter2-secret" not in t and "abc123" not in t for t in texts)
    assert any("[redacted]" in t for t in texts)
    for i in range(600):
        b.log(OFFICE.id, float(i), f"line {i}")
    assert len(b.logs[OFFICE.id]) == 500


def test_events_for_unknown_sessions_and_garbage_are_ignored() -> None:
    b = book()
    assert b.apply_event({"event": "counters", "session": "nope", "counters": {}}, 1.0) == []
    assert b.apply_event({"event": "note", "code": "x"}, 1.0) == []
    assert b.apply_event({"event": "state"}, 1.0) == []


def test_formatting() -> None:
    assert format_bytes(512) == "512 B" and format_bytes(1536) == "1.5 KiB" and format_bytes(3 * 2**30) == "3.0 GiB"
    assert format_rate(125) == "1.0 kbit/s" and format_rate(0) == "0 bit/s" and format_rate(2e9) == "16.0 Gbit/s"
    assert format_duration(5) == "0:05" and format_duration(3725) == "1:02:05" and format_duration(90061) == "1 d 1:01:01"
