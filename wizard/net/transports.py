"""Thin asyncio drivers that move bytes between sockets and a sans-IO protocol object.

No protocol logic lives here: each driver hands what arrives to a callback and sends what it is
given. The stack reads the clock (``loop.time()``) and feeds the engine.

* :class:`UdpEndpoint`: a connected UDP socket (IKE on 500/4500, L2TP on 1701).
* :class:`TcpStream`: a TCP connection (PPTP control on 1723).
* :class:`RawIpEndpoint`: a raw IP socket for one protocol number (GRE 47, ESP 50, AH 51). The
  kernel has no handler for these here, so keeping this socket open is also what stops it from
  answering the server with ICMP protocol-unreachable.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass

from wizard.net.errors import TransportError

PacketCallback = Callable[[bytes], None]
ErrorCallback = Callable[[OSError], None]
CloseCallback = Callable[[Exception | None], None]

IPPROTO_GRE = 47
IPPROTO_ESP = 50
IPPROTO_AH = 51
READ_BATCH = 64
MAX_PACKET = 65535


@dataclass
class DriverStats:
    """Counters: what was delivered, filtered out, malformed, or dropped on send."""

    received: int = 0
    foreign: int = 0
    malformed: int = 0
    sent: int = 0
    send_dropped: int = 0


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, owner: UdpEndpoint) -> None:
        self.owner = owner

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self.owner.stats.received += 1
        self.owner.on_datagram(data)

    def error_received(self, exc: Exception) -> None:
        # ICMP errors on a connected socket (e.g. port unreachable: nobody listens there).
        if self.owner.on_error is not None and isinstance(exc, OSError):
            self.owner.on_error(exc)


class UdpEndpoint:
    """A connected UDP socket: the kernel drops datagrams from anyone but the remote address."""

    def __init__(self, on_datagram: PacketCallback, on_error: ErrorCallback | None) -> None:
        self.on_datagram = on_datagram
        self.on_error = on_error
        self.stats = DriverStats()
        self._transport: asyncio.DatagramTransport | None = None

    @classmethod
    async def connect(
        cls,
        remote: tuple[str, int],
        on_datagram: PacketCallback,
        *,
        local: tuple[str, int] | None = None,
        on_error: ErrorCallback | None = None,
    ) -> UdpEndpoint:
        """Open a socket to ``remote``; ``local`` defaults to any address and an ephemeral port."""
        self = cls(on_datagram, on_error)
        family = _family(remote[0])
        loop = asyncio.get_running_loop()
        try:
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _UdpProtocol(self), local_addr=local, remote_addr=remote, family=family
            )
        except OSError as exc:
            raise TransportError(f"could not open UDP to {remote[0]} port {remote[1]}: {_why(exc)}") from exc
        self._transport = transport
        return self

    @property
    def local_address(self) -> tuple[str, int]:
        name = self._sock_info("sockname")
        return name[0], name[1]

    @property
    def remote_address(self) -> tuple[str, int]:
        name = self._sock_info("peername")
        return name[0], name[1]

    def _sock_info(self, key: str) -> tuple[str, int]:
        if self._transport is None:
            raise TransportError("the UDP socket is closed")
        info: tuple[str, int] = self._transport.get_extra_info(key)
        return info

    @property
    def closed(self) -> bool:
        return self._transport is None or self._transport.is_closing()

    def send(self, data: bytes) -> None:
        if self._transport is None or self._transport.is_closing():
            self.stats.send_dropped += 1
            return
        self._transport.sendto(data)
        self.stats.sent += 1

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None


class TcpStream:
    """A TCP connection; bytes go to ``on_data`` as they arrive, ``on_close`` fires once at the end."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        on_data: PacketCallback,
        on_close: CloseCallback | None,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self.on_data = on_data
        self.on_close = on_close
        self._closed = False
        self._task = asyncio.get_running_loop().create_task(self._pump())

    @classmethod
    async def connect(
        cls,
        remote: tuple[str, int],
        on_data: PacketCallback,
        on_close: CloseCallback | None = None,
        *,
        timeout: float = 10.0,
    ) -> TcpStream:
        host, port = remote
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        except TimeoutError as exc:
            raise TransportError(f"no answer from {host} on TCP port {port} within {timeout:g} s") from exc
        except OSError as exc:
            raise TransportError(f"could not connect to {host} on TCP port {port}: {_why(exc)}") from exc
        return cls(reader, writer, on_data, on_close)

    async def _pump(self) -> None:
        error: Exception | None = None
        try:
            while data := await self._reader.read(MAX_PACKET):
                self.on_data(data)
        except Exception as exc:  # a socket error, or a bug in on_data: both end the stream
            error = exc
        finally:
            self._finish(error)

    def _finish(self, error: Exception | None) -> None:
        if self._closed:
            return
        self._closed = True
        self._writer.close()
        if self.on_close is not None:
            self.on_close(error)

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def local_address(self) -> tuple[str, int]:
        name = self._writer.get_extra_info("sockname")
        return name[0], name[1]

    def send(self, data: bytes) -> None:
        if self._closed:
            raise TransportError("the TCP connection is closed")
        self._writer.write(data)

    async def drain(self) -> None:
        """Wait while the kernel's send buffer is full (flow control)."""
        await self._writer.drain()

    def close(self) -> None:
        """Close without waiting; ``on_close(None)`` is called if it has not been yet."""
        if not self._task.done():
            self._task.cancel()
        self._finish(None)

    async def wait_closed(self) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        with contextlib.suppress(OSError):
            await self._writer.wait_closed()


class RawIpEndpoint:
    """Raw socket for one IP protocol to one host. ``on_packet`` gets the payload after the IP header."""

    def __init__(
        self,
        sock: socket.socket,
        protocol: int,
        remote: str,
        on_packet: PacketCallback,
        on_error: ErrorCallback | None,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self._sock: socket.socket | None = sock
        self.protocol = protocol
        self.remote = remote
        self._remote_packed = socket.inet_pton(sock.family, remote)
        self.on_packet = on_packet
        self.on_error = on_error
        self.stats = DriverStats()
        self._loop = loop
        loop.add_reader(sock.fileno(), self._drain)

    @classmethod
    def open(
        cls,
        protocol: int,
        remote: str,
        on_packet: PacketCallback,
        *,
        on_error: ErrorCallback | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        mark: int = 0,
    ) -> RawIpEndpoint:
        """Needs CAP_NET_RAW. The socket is connected, so the kernel delivers only ``remote``'s packets.

        ``mark`` (SO_MARK) lets policy routing send this socket's packets around a tunnel.
        """
        remote = str(ipaddress.ip_address(remote))
        family = _family(remote)
        try:
            sock = socket.socket(family, socket.SOCK_RAW, protocol)
        except OSError as exc:
            raise TransportError(f"could not open a raw socket for IP protocol {protocol}: {_why(exc)}") from exc
        try:
            sock.setblocking(False)
            if mark:
                sock.setsockopt(socket.SOL_SOCKET, SO_MARK, mark)
            sock.connect((remote, 0))
        except OSError as exc:
            sock.close()
            raise TransportError(f"could not address {remote} with IP protocol {protocol}: {_why(exc)}") from exc
        return cls(sock, protocol, remote, on_packet, on_error, loop or asyncio.get_running_loop())

    @property
    def closed(self) -> bool:
        return self._sock is None

    def send(self, payload: bytes) -> bool:
        """Send one packet (the kernel adds the IP header); False (and counted) if it was dropped."""
        if self._sock is None:
            self.stats.send_dropped += 1
            return False
        try:
            self._sock.send(payload)
        except BlockingIOError:
            self.stats.send_dropped += 1
            return False
        except OSError as exc:
            self.stats.send_dropped += 1
            if self.on_error is not None:
                self.on_error(exc)
            return False
        self.stats.sent += 1
        return True

    def _drain(self) -> None:
        for _ in range(READ_BATCH):
            if self._sock is None:
                return
            try:
                packet, addr = self._sock.recvfrom(MAX_PACKET)
            except BlockingIOError:
                return
            except OSError as exc:  # an ICMP error queued on the socket, e.g. protocol unreachable
                if self.on_error is not None:
                    self.on_error(exc)
                continue
            payload = self._payload(packet, addr[0])
            if payload is not None:
                self.stats.received += 1
                self.on_packet(payload)

    def _payload(self, packet: bytes, source: str) -> bytes | None:
        if self._sock is not None and self._sock.family == socket.AF_INET6:
            # IPv6 raw sockets deliver the payload only; the source comes from recvfrom.
            if socket.inet_pton(socket.AF_INET6, source) != self._remote_packed:
                self.stats.foreign += 1
                return None
            return packet
        parsed = split_ipv4(packet, self.protocol)
        if parsed is None:
            self.stats.malformed += 1
            return None
        if parsed[0] != self._remote_packed:
            self.stats.foreign += 1
            return None
        return parsed[1]

    def close(self) -> None:
        if self._sock is None:
            return
        sock, self._sock = self._sock, None
        if not self._loop.is_closed():
            self._loop.remove_reader(sock.fileno())
        sock.close()


SO_MARK = getattr(socket, "SO_MARK", 36)


def split_ipv4(packet: bytes, protocol: int) -> tuple[bytes, bytes] | None:
    """(source address, payload) of an IPv4 packet of ``protocol`` as a raw socket returns it; else None."""
    if len(packet) < 20 or packet[0] >> 4 != 4:
        return None
    header_len = (packet[0] & 0x0F) * 4
    if header_len < 20 or len(packet) < header_len or packet[9] != protocol:
        return None
    return packet[12:16], packet[header_len:]


def _why(exc: OSError) -> str:
    """The plain errno text ("Connection refused"), not asyncio's "Connect call failed (...)"."""
    return os.strerror(exc.errno).lower() if exc.errno else str(exc)


def _family(host: str) -> socket.AddressFamily:
    try:
        return socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    except ValueError:
        return socket.AF_UNSPEC  # a host name: let the resolver decide
