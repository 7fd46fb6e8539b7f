"""Enter a named network namespace from Python, for one thread only.

Linux keeps the network namespace per thread, so ``setns(2)`` on the calling thread moves only that
thread: sockets, TUN devices and netlink sockets it opens afterwards belong to the namespace, while
the rest of the process stays where it was. Python 3.11 has no ``os.setns``, so this calls libc.
Used by root tests and the interop fixture; the helper itself runs in the namespace it was started in.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
from collections.abc import Iterator, Sequence

NETNS_RUN_DIR = "/var/run/netns"
CLONE_NEWNET = 0x40000000

_libc: ctypes.CDLL | None = None


def _setns(fd: int) -> None:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


def netns_path(name: str) -> str:
    """Path of the bind mount that ``ip netns add NAME`` creates."""
    if not name or "/" in name or name in (".", ".."):
        raise ValueError(f"not a namespace name: {name!r}")
    return os.path.join(NETNS_RUN_DIR, name)


@contextlib.contextmanager
def entered(name: str) -> Iterator[None]:
    """Run the ``with`` body with the *current thread* inside namespace ``name``; then come back.

    Everything created inside (sockets, TUN fds, AsyncIPRoute) stays in that namespace after the
    block; only the thread's own position is restored.
    """
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        target = os.open(netns_path(name), os.O_RDONLY | os.O_CLOEXEC)
        try:
            _setns(target)
        finally:
            os.close(target)
        try:
            yield
        finally:
            _setns(home)
    finally:
        os.close(home)


def exec_argv(name: str, argv: Sequence[str]) -> list[str]:
    """The command line that runs ``argv`` inside namespace ``name`` (via iproute2)."""
    netns_path(name)
    return ["ip", "netns", "exec", name, *argv]
