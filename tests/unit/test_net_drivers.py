"""Pure parts of the socket, TUN and namespace helpers (no root needed)."""

from __future__ import annotations

import asyncio

import pytest

from wizard.net.netns import exec_argv, netns_path
from wizard.net.transports import IPPROTO_ESP, IPPROTO_GRE, RawIpEndpoint, split_ipv4
from wizard.net.tun import TunDevice

SRC = bytes([192, 0, 2, 1])
HEADER = bytes([0x45, 0, 0, 28, 0, 1, 0, 0, 64, IPPROTO_GRE, 0, 0]) + SRC + bytes([192, 0, 2, 2])


def test_split_ipv4_strips_the_header() -> None:
    assert split_ipv4(HEADER + b"gre!", IPPROTO_GRE) == (SRC, b"gre!")
    options = bytes([0x46]) + HEADER[1:] + b"\x01\x01\x01\x00"  # IHL 6: one word of options
    assert split_ipv4(options + b"gre!", IPPROTO_GRE) == (SRC, b"gre!")


@pytest.mark.parametrize(
    "packet",
    [
        b"",
        HEADER[:19],
        bytes([0x65]) + HEADER[1:],  # IPv6 version nibble
        bytes([0x44]) + HEADER[1:],  # IHL below 5
        bytes([0x4F]) + HEADER[1:],  # IHL beyond the packet
    ],
)
def test_split_ipv4_refuses_malformed(packet: bytes) -> None:
    assert split_ipv4(packet, IPPROTO_GRE) is None


def test_split_ipv4_refuses_other_protocols() -> None:
    assert split_ipv4(HEADER + b"x", IPPROTO_ESP) is None


def test_raw_endpoint_needs_an_ip_address() -> None:
    loop = asyncio.new_event_loop()
    try:
        with pytest.raises(ValueError):
            RawIpEndpoint.open(IPPROTO_GRE, "gateway.example", lambda p: None, loop=loop)
    finally:
        loop.close()


def test_namespace_names_are_checked() -> None:
    assert netns_path("vmlab") == "/var/run/netns/vmlab"
    assert exec_argv("vmlab", ["ping", "x"]) == ["ip", "netns", "exec", "vmlab", "ping", "x"]
    for bad in ("", "..", "a/b"):
        with pytest.raises(ValueError):
            netns_path(bad)


def test_tun_name_is_checked_before_opening() -> None:
    for bad in ("", "x" * 16):
        with pytest.raises(ValueError):
            TunDevice.create(bad)
