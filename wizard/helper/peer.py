"""Who is on the other end of the socket, and may they use the helper.

The kernel vouches for the peer's uid, gid and pid (``SO_PEERCRED``, taken when the peer called
``connect()``); nothing the client sends can change them. Root and members of the helper's group
(by the user database, so removing someone from the group takes effect at once) may use the helper.
"""

from __future__ import annotations

import grp
import os
import pwd
import socket
import struct
from dataclasses import dataclass

HELPER_GROUP = "connection-wizard"


@dataclass(frozen=True)
class PeerCredentials:
    uid: int
    gid: int
    pid: int

    @property
    def is_root(self) -> bool:
        return self.uid == 0

    @property
    def user_name(self) -> str:
        try:
            return pwd.getpwuid(self.uid).pw_name
        except KeyError:
            return f"uid {self.uid}"


def peer_credentials(sock: socket.socket) -> PeerCredentials:
    """The credentials of a connected Unix socket's peer."""
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    pid, uid, gid = struct.unpack("3i", raw)
    return PeerCredentials(uid=uid, gid=gid, pid=pid)


def group_id(name: str) -> int | None:
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        return None


def user_groups(uid: int, primary_gid: int) -> set[int]:
    """Every group the user database gives ``uid`` (primary and supplementary)."""
    try:
        name = pwd.getpwuid(uid).pw_name
    except KeyError:
        return {primary_gid}
    return set(os.getgrouplist(name, primary_gid)) | {primary_gid}


def refusal(peer: PeerCredentials, group: str) -> str | None:
    """None when ``peer`` may use the helper, else the plain-language reason it may not."""
    if peer.is_root:
        return None
    gid = group_id(group)
    if gid is not None and (peer.gid == gid or gid in user_groups(peer.uid, peer.gid)):
        return None
    who = peer.user_name
    if gid is None:
        return f"only root may use the Connection Wizard helper on this machine: the group '{group}' does not exist"
    return (
        f"user {who} is not allowed to use the Connection Wizard helper: only root and members of the "
        f"group '{group}' may. Ask an administrator to run 'usermod -aG {group} {who}', then log in again."
    )
