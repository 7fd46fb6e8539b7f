"""Ask polkit whether a peer may do one of the actions that change the system for everyone.

Membership of the helper's group lets a user connect and disconnect their own sessions. The kill
switch blocks the whole machine's traffic, so the helper also asks polkit
(``org.connectionwizard.helper.kill-switch``, see resources/polkit/) for the requesting process,
identified the way polkit wants it: pid, process start time and uid, all from the kernel. polkit
may ask the user to authenticate through their agent. Where no polkit answers on the system bus
(containers, minimal systems) group membership is all there is, and the log says so once.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from wizard.helper.peer import PeerCredentials

log = logging.getLogger("wizard.helper.polkit")

POLKIT_NAME = "org.freedesktop.PolicyKit1"
AUTHORITY_PATH = "/org/freedesktop/PolicyKit1/Authority"
AUTHORITY_INTERFACE = "org.freedesktop.PolicyKit1.Authority"
ACTION_KILL_SWITCH = "org.connectionwizard.helper.kill-switch"
ACTION_SYSTEM_WIDE = "org.connectionwizard.helper.connect-system-wide"
ALLOW_USER_INTERACTION = 1
CHECK_TIMEOUT = 25.0  # the user may be typing a password into their polkit agent


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str  # why not, in plain words; or how it was decided


def process_start_time(pid: int) -> int:
    """Field 22 of /proc/PID/stat (clock ticks since boot): with the pid, names one process for good."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        stat = f.read()
    # the command name (field 2) is in parentheses and may contain spaces or ')'
    fields = stat[stat.rindex(b")") + 2 :].split()
    return int(fields[19])


class PolkitAuthority:
    """Checks actions with polkit over the system bus; ``enabled=False`` skips polkit entirely."""

    def __init__(self, enabled: bool = True, bus: str = "SYSTEM") -> None:
        self.enabled = enabled
        self.bus = bus
        self._warned = False

    async def check(self, peer: PeerCredentials, action: str) -> Decision:
        if peer.is_root:
            return Decision(True, "root")
        if not self.enabled:
            return Decision(True, "polkit checks are turned off")
        try:
            start_time = process_start_time(peer.pid)
        except (OSError, ValueError, IndexError):
            return Decision(False, "the requesting process is gone, so polkit cannot be asked about it")
        try:
            allowed, challenge = await asyncio.wait_for(self._ask(peer, start_time, action), CHECK_TIMEOUT)
        except TimeoutError:
            return Decision(False, f"polkit did not decide within {CHECK_TIMEOUT:g} s whether you may do this")
        except _Failed as exc:
            return Decision(False, f"polkit could not decide whether you may do this: {exc}")
        except _Unavailable as exc:
            if not self._warned:
                log.warning("polkit is not available (%s): group membership alone authorises every action", exc)
                self._warned = True
            return Decision(True, "no polkit on this system")
        if allowed:
            return Decision(True, "polkit")
        if challenge:
            return Decision(False, "this needs an administrator's password, but no polkit agent asked for it")
        return Decision(False, f"polkit does not allow {peer.user_name} to do this ({action})")

    async def _ask(self, peer: PeerCredentials, start_time: int, action: str) -> tuple[bool, bool]:
        try:
            from jeepney import DBusAddress, MessageType, new_method_call
            from jeepney.io.asyncio import open_dbus_router
        except ImportError as exc:
            raise _Unavailable(f"no D-Bus library: {exc}") from None
        authority = DBusAddress(AUTHORITY_PATH, bus_name=POLKIT_NAME, interface=AUTHORITY_INTERFACE)
        subject = ("unix-process", {"pid": ("u", peer.pid), "start-time": ("t", start_time), "uid": ("i", peer.uid)})
        message = new_method_call(
            authority, "CheckAuthorization", "(sa{sv})sa{ss}us", (subject, action, {}, ALLOW_USER_INTERACTION, "")
        )
        try:
            async with open_dbus_router(bus=self.bus) as router:
                reply = await router.send_and_get_reply(message)
        except (OSError, KeyError, ValueError) as exc:  # no bus, no address, refused
            raise _Unavailable(f"cannot reach the system bus: {exc}") from None
        if reply.header.message_type is MessageType.error:
            name = str(reply.header.fields.get(4, ""))  # HeaderFields.error_name
            if name.startswith("org.freedesktop.DBus.Error.") and name.rsplit(".", 1)[-1] in _ABSENT:
                raise _Unavailable(f"{POLKIT_NAME} does not answer ({name})")
            detail = reply.body[0] if reply.body else name
            raise _Failed(str(detail))
        (allowed, challenge, _details) = reply.body[0]
        return bool(allowed), bool(challenge)


_ABSENT = {"ServiceUnknown", "NameHasNoOwner", "NoReply", "Disconnected"}


class _Unavailable(Exception):
    """Nobody answers for polkit: fall back to group membership."""


class _Failed(Exception):
    """polkit answered with an error: refuse (never fail open on a running polkit)."""
