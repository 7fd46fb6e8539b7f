"""UDP encapsulation of ESP for NAT traversal (RFC 3948) on port 4500.

One UDP port carries three things: ESP (a non-zero SPI first), IKE (behind a four-zero-byte non-ESP
marker) and NAT keepalives (the single byte 0xFF). A driver sorts each datagram with
:func:`classify_udp_payload` before handing ESP to an SA and IKE to the IKE engine.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from wizard.engine.errors import ParseError

NAT_T_PORT = 4500
NON_ESP_MARKER = b"\x00\x00\x00\x00"
NAT_KEEPALIVE = b"\xff"


class UdpPayloadKind(enum.Enum):
    ESP = "esp"
    IKE = "ike"
    KEEPALIVE = "keepalive"


@dataclass(frozen=True)
class UdpEncapsulation:
    """The UDP ports an SA's ESP packets travel on (after NAT-T floated to 4500, or the NAT's mapping)."""

    local_port: int = NAT_T_PORT
    remote_port: int = NAT_T_PORT


def classify_udp_payload(payload: bytes) -> UdpPayloadKind:
    """RFC 3948 §2.2/2.3: keepalive, IKE behind the non-ESP marker, or ESP. Raises ParseError otherwise."""
    if payload == NAT_KEEPALIVE:
        return UdpPayloadKind.KEEPALIVE
    if len(payload) >= 4 and payload[:4] == NON_ESP_MARKER:
        return UdpPayloadKind.IKE
    if len(payload) >= 8:
        return UdpPayloadKind.ESP
    raise ParseError(f"a {len(payload)}-byte UDP datagram on the NAT-T port is neither ESP, IKE nor a keepalive")


def ike_from_udp_payload(payload: bytes) -> bytes:
    """The IKE message inside a datagram classified as IKE."""
    if payload[:4] != NON_ESP_MARKER:
        raise ParseError("no non-ESP marker in front of the IKE message")
    return payload[4:]


def udp_payload_for_ike(message: bytes) -> bytes:
    """An IKE message as sent on port 4500: behind the non-ESP marker."""
    return NON_ESP_MARKER + message


def nat_keepalive() -> bytes:
    """The NAT keepalive datagram (RFC 3948 §2.3), sent when nothing else went out for a while."""
    return NAT_KEEPALIVE


def udp_header(src_port: int, dst_port: int, payload_len: int, checksum: int = 0) -> bytes:
    return (
        src_port.to_bytes(2, "big")
        + dst_port.to_bytes(2, "big")
        + (8 + payload_len).to_bytes(2, "big")
        + checksum.to_bytes(2, "big")
    )
