"""A test-only VpnStack for the helper tests (never used by the product).

It "connects" at once: creates a real TUN device in the helper's namespace, answers ICMP echo
requests routed into it (so ``ping`` through the tunnel works and the counters move), and hands
real NetworkSettings to the helper's applier. Its behaviour is chosen by the profile's user name:

* any name: password must be ``right``, else an authentication failure;
* ``slow``: takes 30 s to connect (to disconnect it while connecting);
* ``flaky`` (or ``flaky-SECONDS``): the first link drops after 0.3 s (or SECONDS), the next attempt
  fails, then it stays up.

Loaded by the helper through its hidden ``--stack-factory tests.helper.fakestack:build_stack``.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct

from wizard.net.tun import TunDevice
from wizard.profiles.model import Profile, TunnelMode
from wizard.stacks.base import (
    Connected,
    Disconnected,
    Negotiated,
    NetworkApplier,
    NetworkSettings,
    Progress,
    StackError,
    StatusSink,
    VpnStack,
)

TUNNEL_LOCAL = "10.99.0.2"
TUNNEL_PEER = "10.99.0.1"
TUNNEL_DNS = "10.99.0.53"
_attempts: dict[str, int] = {}


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def echo_reply(packet: bytes) -> bytes | None:
    """The ICMP echo reply to an IPv4 echo request, else None."""
    if len(packet) < 28 or packet[0] >> 4 != 4 or packet[9] != 1:
        return None
    ihl = (packet[0] & 0x0F) * 4
    icmp = bytearray(packet[ihl:])
    if icmp[0] != 8:
        return None
    icmp[0] = 0
    icmp[2:4] = b"\0\0"
    icmp[2:4] = struct.pack("!H", _checksum(bytes(icmp)))
    header = bytearray(packet[:ihl])
    header[12:16], header[16:20] = packet[16:20], packet[12:16]
    header[10:12] = b"\0\0"
    header[10:12] = struct.pack("!H", _checksum(bytes(header)))
    return bytes(header) + bytes(icmp)


class FakeStack(VpnStack):
    def __init__(self, profile: Profile, secrets: dict[str, str], status: StatusSink, applier: NetworkApplier) -> None:
        super().__init__(status)
        self.profile = profile
        self.secrets = secrets
        self.applier = applier
        self.tun: TunDevice | None = None
        self._closed: asyncio.Future[Disconnected] = asyncio.get_running_loop().create_future()
        self._drop_task: asyncio.Task[None] | None = None

    async def connect(self) -> Connected:
        user = self.profile.auth.username
        gateway = self.profile.gateways[0].host
        count = _attempts[self.profile.id] = _attempts.get(self.profile.id, 0) + 1
        self.status(Progress("control", f"talking to {gateway}"))
        if self.secrets.get("password") != "right":
            raise StackError("the server rejected the user name or password (test stack)", "ppp-auth")
        if user == "slow":
            await asyncio.sleep(30)
        flaky = user == "flaky" or user.startswith("flaky-")
        if flaky and count == 2:
            raise StackError("no answer from the VPN server (test stack)", "control")
        self.status(Progress("ppp-auth", "signed in"))
        self.tun = TunDevice.create("cwt%d")
        self.tun.start_reading(self._on_packet)
        dns = self.profile.dns
        settings = NetworkSettings(
            ifname=self.tun.name,
            local_ipv4=TUNNEL_LOCAL,
            peer_ipv4=TUNNEL_PEER,
            dns_servers=(TUNNEL_DNS, *dns.servers),
            search_domains=dns.search_domains,
            split_dns_domains=dns.split_domains,
            mtu=1400,
            full_tunnel=self.profile.routing.mode is TunnelMode.FULL,
            routes=self.profile.routing.routes,
            vpn_gateway=gateway,
        )
        self.status(Progress("network", "configuring the tunnel"))
        try:
            await self.applier.apply(settings)
        except BaseException:
            self._release()
            raise
        connected = Connected(Negotiated("test", (("authentication", "test"), ("encryption", "none"))), settings)
        self.status(connected)
        if flaky and count == 1:
            after = float(user.partition("-")[2] or 0.3)
            self._drop_task = asyncio.get_running_loop().create_task(self._drop_later(after))
        return connected

    async def _drop_later(self, after: float) -> None:
        await asyncio.sleep(after)
        await self._end("the server stopped answering (test stack)", deliberate=False)

    def _on_packet(self, packet: bytes) -> None:
        self.counters.note_out(len(packet))
        reply = echo_reply(packet)
        if reply is not None and self.tun is not None and self.tun.write(reply):
            self.counters.note_in(len(reply))

    def _release(self) -> None:
        if self.tun is not None:
            self.tun.close()
            self.tun = None

    async def _end(self, reason: str, deliberate: bool) -> None:
        if self._closed.done():
            return
        self._release()
        await self.applier.revert()
        event = Disconnected(reason, deliberate)
        self.status(event)
        self._closed.set_result(event)

    async def wait_closed(self) -> Disconnected:
        return await asyncio.shield(self._closed)

    async def close(self, reason: str = "disconnected by the user") -> None:
        if self._drop_task is not None:
            self._drop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._drop_task
        await self._end(reason, deliberate=True)


def build_stack(profile: Profile, secrets: dict[str, str], status: StatusSink, applier: NetworkApplier) -> VpnStack:
    return FakeStack(profile, secrets, status, applier)
