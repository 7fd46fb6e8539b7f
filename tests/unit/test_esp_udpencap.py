"""RFC 3948 UDP encapsulation: telling ESP, IKE and NAT keepalives apart on port 4500; IP helpers."""

from __future__ import annotations

import pytest

from tests.esp_packets import V4_CLIENT, V4_SERVER, checksum, l4_checksum_ok, udp_packet
from wizard.engine.errors import ParseError
from wizard.engine.esp import (
    NAT_KEEPALIVE,
    NON_ESP_MARKER,
    UdpPayloadKind,
    classify_udp_payload,
    ike_from_udp_payload,
    nat_keepalive,
    udp_payload_for_ike,
)
from wizard.engine.esp.ip import fix_l4_checksum, internet_checksum, parse_ip


def test_classification() -> None:
    assert classify_udp_payload(b"\xff") is UdpPayloadKind.KEEPALIVE
    assert nat_keepalive() == NAT_KEEPALIVE == b"\xff"
    ike = b"\x11" * 28
    wrapped = udp_payload_for_ike(ike)
    assert wrapped[:4] == NON_ESP_MARKER
    assert classify_udp_payload(wrapped) is UdpPayloadKind.IKE
    assert ike_from_udp_payload(wrapped) == ike
    assert classify_udp_payload(b"\x00\x00\x01\x00" + bytes(20)) is UdpPayloadKind.ESP
    for bad in (b"", b"\x01", b"\x01\x02\x03\x04\x05", b"\xff\xff"):
        with pytest.raises(ParseError):
            classify_udp_payload(bad)
    with pytest.raises(ParseError):
        ike_from_udp_payload(b"\x00\x01\x00\x00 rest")


@pytest.mark.parametrize("size", [0, 1, 2, 3, 39, 40, 1000])
def test_fast_checksum_matches_the_word_by_word_one(size: int) -> None:
    data = bytes((i * 37 + 11) & 0xFF for i in range(size))
    assert internet_checksum(data) == checksum(data)
    assert internet_checksum(b"\xff\xff") == checksum(b"\xff\xff") == 0


def test_fix_l4_checksum_after_address_change() -> None:
    packet = bytearray(udp_packet(V4_CLIENT, V4_SERVER, 1000, 2000, b"payload"))
    packet[12] ^= 0x10  # a NAT rewrote the source without fixing the UDP checksum
    packet[10:12] = b"\x00\x00"
    packet[10:12] = checksum(bytes(packet[:20])).to_bytes(2, "big")
    assert not l4_checksum_ok(bytes(packet))
    assert l4_checksum_ok(fix_l4_checksum(bytes(packet)))


def test_parse_ip_rejects_garbage_with_parse_error() -> None:
    good = udp_packet(V4_CLIENT, V4_SERVER, 1, 2, b"x")
    for bad in (b"", b"\x45" * 10, b"\x4f" + good[1:], good[:2] + b"\xff\xff" + good[4:],
                b"\x60" + bytes(39), b"\x60" + bytes(3) + b"\x00\x10" + bytes(34), b"\x70" + bytes(40)):  # fmt: skip
        with pytest.raises(ParseError):
            parse_ip(bad)
    assert parse_ip(good + b"trailer").payload == good[20:]
