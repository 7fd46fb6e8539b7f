"""IKEv1 (RFC 2407/2408/2409) sans-IO engine: Main, Aggressive and Quick Mode, XAUTH, Mode Config,
NAT-T (RFC 3947), DPD (RFC 3706), rekeying and plain-language failures.

The stack drives :class:`IKEv1Connection`; see :mod:`wizard.engine.ike.v1.connection` for what the UDP
driver must do (ports 500/4500, the non-ESP marker, one responder connection per peer).
"""

from wizard.engine.ike.v1.config import ChildConfig, IKEv1Config, ModeConfigLease
from wizard.engine.ike.v1.connection import Datagram, IKEv1Connection, State
from wizard.engine.ike.v1.events import (
    ChildSA,
    ChildSADeleted,
    ChildSARekeyed,
    ChildSAUp,
    Closed,
    ConnectionFailed,
    Event,
    ModeConfigReceived,
    NATDetected,
    PeerDead,
    PhaseOneUp,
    XauthDone,
    XauthRequested,
)
from wizard.engine.ike.v1.identities import Identity, TrafficSelector
from wizard.engine.ike.v1.stats import IKEv1Stats

__all__ = [
    "ChildConfig",
    "ChildSA",
    "ChildSADeleted",
    "ChildSARekeyed",
    "ChildSAUp",
    "Closed",
    "ConnectionFailed",
    "Datagram",
    "Event",
    "IKEv1Config",
    "IKEv1Connection",
    "IKEv1Stats",
    "Identity",
    "ModeConfigLease",
    "ModeConfigReceived",
    "NATDetected",
    "PeerDead",
    "PhaseOneUp",
    "State",
    "TrafficSelector",
    "XauthDone",
    "XauthRequested",
]
