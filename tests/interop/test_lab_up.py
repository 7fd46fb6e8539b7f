"""The lab is up and reachable from our side, checked without any of our protocol engines.

The lab's own host probe speaks just enough L2TP, PPTP+GRE and ESP (null cipher, static SA) by hand;
the other checks use only our thin socket drivers and the namespace helpers of conftest.
"""

from __future__ import annotations

import asyncio
import re
import socket
import struct
import sys

import pytest

from tests.interop.conftest import LAB_DIR, Lab
from wizard.net.transports import RawIpEndpoint, TcpStream, UdpEndpoint

pytestmark = pytest.mark.interop


def test_hostprobe_l2tp_pptp_gre_esp_round_trips(lab: Lab) -> None:
    offset = lab.log_offset()
    proc = lab.run([sys.executable, str(LAB_DIR / "hostprobe.py"), lab.gateway])
    results = {}
    for line in proc.stdout.splitlines():
        verdict, name, *_ = [*line.split(" ", 2), ""]
        results[name] = verdict
    assert results == {"host-l2tp": "PASS", "host-pptp-gre": "PASS", "host-esp": "PASS"}, proc.stdout + proc.stderr
    assert proc.returncode == 0
    # The servers saw us, and server_log_since shows only what came after the offset.
    lines = lab.wait_for_server_log(offset, r"pptpd.*control connection finished")
    assert any("xl2tpd" in line and lab.host in line for line in lines), lines
    assert any(re.search(r"pppd\[\d+\]: rcvd \[LCP ConfReq id=0x42", line) for line in lines), lines
    assert not any("Manager process started" in line for line in lines)  # boot-time lines are before


def test_entered_thread_is_inside_the_namespace(lab: Lab) -> None:
    with lab.entered():
        assert socket.if_nametoindex("vmlab-br0") > 0
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            probe.connect((lab.gateway, 1701))
            assert probe.getsockname()[0] == lab.host
        finally:
            probe.close()
    with pytest.raises(OSError):
        socket.if_nametoindex("vmlab-br0")  # back in the original namespace


def _icmp_echo(ident: int, payload: bytes) -> bytes:
    body = struct.pack("!BBHHH", 8, 0, 0, ident, 1) + payload
    padded = body + bytes(len(body) % 2)
    total = sum(struct.unpack(f"!{len(padded) // 2}H", padded))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return body[:2] + struct.pack("!H", ~total & 0xFFFF) + body[4:]


def test_both_gateway_addresses_answer_icmp_over_raw_driver(lab: Lab) -> None:
    """Echo request/reply to 10.77.0.2 and 10.77.0.3 through RawIpEndpoint (IP protocol 1)."""
    payload = b"connection-wizard lab check"

    async def echo(address: str, ident: int) -> bytes:
        got: asyncio.Queue[bytes] = asyncio.Queue()
        raw = RawIpEndpoint.open(socket.IPPROTO_ICMP, address, got.put_nowait)
        try:
            for _ in range(5):
                raw.send(_icmp_echo(ident, payload))
                try:
                    while True:
                        reply = await asyncio.wait_for(got.get(), 2)
                        if reply[0] == 0 and reply[4:6] == struct.pack("!H", ident):
                            return reply
                except TimeoutError:
                    continue
            return b""
        finally:
            raw.close()

    async def main() -> list[bytes]:
        return [await echo(lab.gateway, 0x4357), await echo(lab.legacy_gateway, 0x4358)]

    with lab.entered():
        replies = asyncio.run(main())
    for reply in replies:
        assert reply[0] == 0 and reply[8:] == payload, reply  # echo reply carrying our payload


def test_our_drivers_reach_pptp_and_ike_ports(lab: Lab) -> None:
    """TCP 1723 accepts our stream driver; charon answers a payload-less IKE_SA_INIT over our UDP driver."""
    spi = bytes.fromhex("0101010101010101")
    # IKEv2 header only (RFC 7296 3.1): SPIi, SPIr=0, next payload none, version 2.0, IKE_SA_INIT (34),
    # flags Initiator, message ID 0, length 28. charon must answer INVALID_SYNTAX (notify type 7).
    request = spi + bytes(8) + bytes([0, 0x20, 34, 0x08]) + bytes(4) + (28).to_bytes(4, "big")

    async def main() -> tuple[bytes, list[Exception | None]]:
        closed: list[Exception | None] = []
        stream = await TcpStream.connect((lab.gateway, 1723), lambda data: None, closed.append)
        assert stream.local_address[0] == lab.host
        stream.close()
        await stream.wait_closed()

        got: asyncio.Queue[bytes] = asyncio.Queue()
        udp = await UdpEndpoint.connect((lab.gateway, 500), got.put_nowait)
        try:
            udp.send(request)
            reply = await asyncio.wait_for(got.get(), 10)
        finally:
            udp.close()
        return reply, closed

    offset = lab.log_offset()
    with lab.entered():
        reply, closed = asyncio.run(main())
    assert closed == [None]
    assert reply[:8] == spi and reply[18] == 34 and reply[19] & 0x20  # our SPI, IKE_SA_INIT, Response
    assert reply[16] == 41 and int.from_bytes(reply[34:36], "big") == 7  # Notify: INVALID_SYNTAX
    lines = lab.wait_for_server_log(offset, r"charon: .*IKE_SA_INIT response 0 \[ N\(INVAL_SYN\) \]")
    assert any("INVAL_SYN" in line for line in lines), lines


def test_udp_driver_reports_port_unreachable(lab: Lab) -> None:
    """Nobody listens on udp/1702 at the gateway: the ICMP error reaches on_error."""

    async def main() -> list[OSError]:
        errors: list[OSError] = []
        udp = await UdpEndpoint.connect((lab.gateway, 1702), lambda data: None, on_error=errors.append)
        try:
            for _ in range(50):
                udp.send(b"hello?")
                await asyncio.sleep(0.1)
                if errors:
                    break
        finally:
            udp.close()
        return errors

    with lab.entered():
        errors = asyncio.run(main())
    assert errors and isinstance(errors[0], ConnectionRefusedError)
