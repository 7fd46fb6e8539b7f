"""Sans-IO PPP for L2TP and PPTP: LCP, PAP/CHAP/MS-CHAP/EAP, IPCP, IPV6CP and CCP/MPPE."""

from wizard.engine.ppp.config import PPPConfig
from wizard.engine.ppp.connection import PPPConnection, PPPStats
from wizard.engine.ppp.events import (
    Authenticated,
    ConnectionClosed,
    ConnectionFailed,
    EchoTimeout,
    Event,
    IPPacketReceived,
    IPv6Up,
    LinkUp,
    NetworkDown,
    NetworkUp,
    Phase,
    PhaseChanged,
)
from wizard.engine.ppp.ipcp import AddressPool

__all__ = [
    "AddressPool",
    "Authenticated",
    "ConnectionClosed",
    "ConnectionFailed",
    "EchoTimeout",
    "Event",
    "IPPacketReceived",
    "IPv6Up",
    "LinkUp",
    "NetworkDown",
    "NetworkUp",
    "PPPConfig",
    "PPPConnection",
    "PPPStats",
    "Phase",
    "PhaseChanged",
]
