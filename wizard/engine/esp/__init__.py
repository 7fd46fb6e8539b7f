"""ESP and AH security associations (RFC 4303/4302) with UDP encapsulation for NAT traversal (RFC 3948)."""

from wizard.engine.esp.errors import (
    AuthenticationFailed,
    BadPadding,
    DummyPacket,
    ExpiredSA,
    NotESP,
    ReplayedPacket,
    SAExhausted,
    WrongSPI,
)
from wizard.engine.esp.events import HardLifetimeExpired, SAEvent, SoftLifetimeExpired
from wizard.engine.esp.lifetime import Lifetime
from wizard.engine.esp.replay import ReplayWindow
from wizard.engine.esp.sa import (
    Direction,
    Mode,
    SAConfig,
    SAProtocol,
    SAStats,
    SecurityAssociation,
    spi_of_packet,
    spi_of_payload,
)
from wizard.engine.esp.udpencap import (
    NAT_KEEPALIVE,
    NAT_T_PORT,
    NON_ESP_MARKER,
    UdpEncapsulation,
    UdpPayloadKind,
    classify_udp_payload,
    ike_from_udp_payload,
    nat_keepalive,
    udp_payload_for_ike,
)

__all__ = [
    "NAT_KEEPALIVE",
    "NAT_T_PORT",
    "NON_ESP_MARKER",
    "AuthenticationFailed",
    "BadPadding",
    "Direction",
    "DummyPacket",
    "ExpiredSA",
    "HardLifetimeExpired",
    "Lifetime",
    "Mode",
    "NotESP",
    "ReplayWindow",
    "ReplayedPacket",
    "SAConfig",
    "SAEvent",
    "SAExhausted",
    "SAProtocol",
    "SAStats",
    "SecurityAssociation",
    "SoftLifetimeExpired",
    "UdpEncapsulation",
    "UdpPayloadKind",
    "WrongSPI",
    "classify_udp_payload",
    "ike_from_udp_payload",
    "nat_keepalive",
    "spi_of_packet",
    "spi_of_payload",
    "udp_payload_for_ike",
]
