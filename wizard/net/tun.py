"""A TUN device owned by one file descriptor.

We open ``/dev/net/tun`` ourselves (``TUNSETIFF`` with ``IFF_TUN | IFF_NO_PI``) and never make the
device persistent, so the kernel deletes the interface, its addresses and its routes the moment the
fd closes, also when the helper crashes. Each ``read`` returns one IP packet, each ``write`` injects
one; no packet-information header.
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import os
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass

TUN_PATH = "/dev/net/tun"
TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
IFNAMSIZ = 16
MAX_PACKET = 65535
READ_BATCH = 64  # packets drained per reader wake-up, so one busy tunnel cannot starve the loop

PacketCallback = Callable[[bytes], None]


@dataclass
class TunStats:
    """Counters for the data plane; drops are counted, never raised."""

    rx_packets: int = 0
    rx_bytes: int = 0
    tx_packets: int = 0
    tx_bytes: int = 0
    tx_dropped: int = 0


class TunDevice:
    """One TUN interface; ``read``/``write`` are non-blocking, ``start_reading`` hooks asyncio."""

    def __init__(self, fd: int, name: str) -> None:
        self._fd = fd
        self.name = name
        self.stats = TunStats()
        self._loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def create(cls, name: str = "cw%d") -> TunDevice:
        """Create a TUN interface in the calling thread's network namespace.

        ``name`` may contain ``%d`` for the kernel to pick a free number. Needs CAP_NET_ADMIN.
        """
        raw = name.encode()
        if not raw or len(raw) >= IFNAMSIZ:
            raise ValueError(f"interface name must be 1-{IFNAMSIZ - 1} bytes: {name!r}")
        fd = os.open(TUN_PATH, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            ifr = struct.pack("16sH", raw, IFF_TUN | IFF_NO_PI)
            res = fcntl.ioctl(fd, TUNSETIFF, ifr)
        except BaseException:
            os.close(fd)
            raise
        return cls(fd, res[:IFNAMSIZ].rstrip(b"\0").decode())

    @property
    def fd(self) -> int:
        if self._fd < 0:
            raise ValueError("TUN device is closed")
        return self._fd

    @property
    def closed(self) -> bool:
        return self._fd < 0

    @property
    def ifindex(self) -> int:
        """Interface index in the namespace the device lives in (call from that namespace)."""
        return socket.if_nametoindex(self.name)

    def read(self) -> bytes | None:
        """One packet from the kernel, or None when none is waiting."""
        try:
            packet = os.read(self.fd, MAX_PACKET)
        except BlockingIOError:
            return None
        self.stats.rx_packets += 1
        self.stats.rx_bytes += len(packet)
        return packet

    def write(self, packet: bytes) -> bool:
        """Hand one IP packet to the kernel; False (and counted) when it was dropped."""
        try:
            os.write(self.fd, packet)
        except OSError as exc:
            # EAGAIN: queue full; EIO: link down; EINVAL: not an IP packet. Drop, do not raise.
            if exc.errno not in (errno.EAGAIN, errno.EIO, errno.EINVAL):
                raise
            self.stats.tx_dropped += 1
            return False
        self.stats.tx_packets += 1
        self.stats.tx_bytes += len(packet)
        return True

    def start_reading(self, callback: PacketCallback, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Call ``callback(packet)`` for every packet the kernel routes into the tunnel."""
        if self._loop is not None:
            raise RuntimeError("already reading")
        self._loop = loop or asyncio.get_running_loop()
        self._loop.add_reader(self.fd, self._drain, callback)

    def stop_reading(self) -> None:
        if self._loop is not None and self._fd >= 0 and not self._loop.is_closed():
            self._loop.remove_reader(self._fd)
        self._loop = None

    def _drain(self, callback: PacketCallback) -> None:
        for _ in range(READ_BATCH):
            packet = self.read()
            if packet is None:
                return
            callback(packet)

    def close(self) -> None:
        """Close the fd; the kernel removes the interface with everything configured on it."""
        if self._fd < 0:
            return
        self.stop_reading()
        fd, self._fd = self._fd, -1
        os.close(fd)

    def __enter__(self) -> TunDevice:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"TunDevice(name={self.name!r}, fd={self._fd})"
