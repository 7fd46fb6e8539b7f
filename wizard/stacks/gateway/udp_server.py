"""An unconnected UDP socket for a server (L2TP on 1701): datagrams from anyone, replies to each.

``wizard.net.UdpEndpoint`` is connected to one peer; a gateway needs one socket for all of them.
When bound to the wildcard address, replies must leave from the address the client sent to, or a
client with a connected socket (ours, xl2tpd) drops them. So we ask for ``IP_PKTINFO`` on receive,
hand the destination address to the callback, and set it as the source on send.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass

from wizard.net.transports import SO_MARK

IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)  # Linux value; Python 3.11 lacks the constant
_PKTINFO = struct.Struct("=I4s4s")  # struct in_pktinfo: ifindex, spec_dst, addr
READ_BATCH = 64
MAX_DATAGRAM = 65535

Peer = tuple[str, int]
DatagramCallback = Callable[[bytes, Peer, str | None], None]  # data, peer, local address it was sent to


@dataclass
class UdpServerStats:
    received: int = 0
    sent: int = 0
    send_dropped: int = 0
    errors: int = 0


class UdpServer:
    """One bound, unconnected IPv4 UDP socket driven by the event loop's reader callbacks."""

    def __init__(self, sock: socket.socket, on_datagram: DatagramCallback, loop: asyncio.AbstractEventLoop) -> None:
        self._sock: socket.socket | None = sock
        self.on_datagram = on_datagram
        self.stats = UdpServerStats()
        self._loop = loop
        self._pktinfo = sock.getsockname()[0] == "0.0.0.0"
        loop.add_reader(sock.fileno(), self._drain)

    @classmethod
    def open(
        cls,
        local: Peer,
        on_datagram: DatagramCallback,
        loop: asyncio.AbstractEventLoop | None = None,
        *,
        mark: int = 0,
    ) -> UdpServer:
        """Bind ``local`` (raises OSError, e.g. EADDRINUSE when another L2TP server runs).

        ``mark`` (SO_MARK) lets policy routing send this socket's packets around a tunnel.
        """
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.setblocking(False)
            if mark:
                sock.setsockopt(socket.SOL_SOCKET, SO_MARK, mark)
            if local[0] == "0.0.0.0":
                sock.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
            sock.bind(local)
        except BaseException:
            sock.close()
            raise
        return cls(sock, on_datagram, loop or asyncio.get_running_loop())

    @property
    def local_address(self) -> Peer:
        if self._sock is None:
            raise OSError("the UDP socket is closed")
        name = self._sock.getsockname()
        return str(name[0]), int(name[1])

    @property
    def closed(self) -> bool:
        return self._sock is None

    def send(self, data: bytes, peer: Peer, source: str | None = None) -> bool:
        """Send to ``peer`` from ``source`` (the address the peer talks to); False when dropped."""
        if self._sock is None:
            self.stats.send_dropped += 1
            return False
        try:
            if self._pktinfo and source is not None:
                info = _PKTINFO.pack(0, socket.inet_aton(source), b"\0\0\0\0")
                self._sock.sendmsg([data], [(socket.IPPROTO_IP, IP_PKTINFO, info)], 0, peer)
            else:
                self._sock.sendto(data, peer)
        except OSError:  # EAGAIN (buffer full), EHOSTUNREACH, ...: UDP may drop, so do we
            self.stats.send_dropped += 1
            return False
        self.stats.sent += 1
        return True

    def _drain(self) -> None:
        for _ in range(READ_BATCH):
            if self._sock is None:
                return
            try:
                data, ancdata, _flags, addr = self._sock.recvmsg(MAX_DATAGRAM, socket.CMSG_SPACE(_PKTINFO.size))
            except BlockingIOError:
                return
            except OSError:  # a queued ICMP error from an earlier send
                self.stats.errors += 1
                continue
            local: str | None = None
            for level, kind, payload in ancdata:
                if level == socket.IPPROTO_IP and kind == IP_PKTINFO and len(payload) >= _PKTINFO.size:
                    local = socket.inet_ntoa(_PKTINFO.unpack_from(payload)[2])
            self.stats.received += 1
            self.on_datagram(data, (str(addr[0]), int(addr[1])), local)

    def close(self) -> None:
        if self._sock is None:
            return
        sock, self._sock = self._sock, None
        if not self._loop.is_closed():
            self._loop.remove_reader(sock.fileno())
        sock.close()
