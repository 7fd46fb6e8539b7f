"""IKEv2 (RFC 7296) sans-IO engine: IKE_SA_INIT with COOKIE and INVALID_KE retries, IKE_AUTH with PSK,
certificates (RSA/ECDSA, RFC 7427) and EAP (MSCHAPv2, MD5; RFC 5998 EAP-only), the configuration payload,
traffic selector narrowing, CREATE_CHILD_SA rekeys, INFORMATIONAL (deletes, liveness, MOBIKE), NAT-T and
fragmentation (RFC 7383).

The stack drives :class:`IKEv2Connection`; see :mod:`wizard.engine.ike.v2.connection` for the driver's
duties (ports 500/4500, the non-ESP marker, one responder connection per peer).
"""

from wizard.engine.ike.v1.identities import Identity, TrafficSelector
from wizard.engine.ike.v2.config import AddressLease, ChildConfig, IKEv2Config
from wizard.engine.ike.v2.connection import IKEv2Connection
from wizard.engine.ike.v2.events import (
    AddressesUpdated,
    ChildSA,
    ChildSADeleted,
    ChildSAInboundReady,
    ChildSARekeyed,
    ChildSAUp,
    Closed,
    ConfigReceived,
    ConnectionFailed,
    Event,
    IKESAUp,
    NATDetected,
    PeerDead,
)
from wizard.engine.ike.v2.state import Datagram, State, Stats

__all__ = [
    "AddressLease",
    "AddressesUpdated",
    "ChildConfig",
    "ChildSA",
    "ChildSADeleted",
    "ChildSAInboundReady",
    "ChildSARekeyed",
    "ChildSAUp",
    "Closed",
    "ConfigReceived",
    "ConnectionFailed",
    "Datagram",
    "Event",
    "IKESAUp",
    "IKEv2Config",
    "IKEv2Connection",
    "Identity",
    "NATDetected",
    "PeerDead",
    "State",
    "Stats",
    "TrafficSelector",
]
