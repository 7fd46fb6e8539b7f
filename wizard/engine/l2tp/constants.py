"""Numbers from RFC 2661: message types, AVP attribute types and their M-bit rules.

Kept in one place so the codec, the tunnel and the session code agree on them, and so the
"is this a known AVP?" test for the unknown-mandatory-AVP rule (section 4.2) has one source.
"""

from __future__ import annotations

from enum import IntEnum

L2TP_PORT = 1701
L2TP_VERSION = 2
#: Section 5.8: a peer that sends no Receive Window Size AVP gets a window of 4.
DEFAULT_PEER_WINDOW = 4
SEQ_MOD = 1 << 16


class MessageType(IntEnum):
    """Control message types (section 3.2)."""

    SCCRQ = 1
    SCCRP = 2
    SCCCN = 3
    STOPCCN = 4
    HELLO = 6
    OCRQ = 7
    OCRP = 8
    OCCN = 9
    ICRQ = 10
    ICRP = 11
    ICCN = 12
    CDN = 14
    WEN = 15
    SLI = 16


TUNNEL_MESSAGES = frozenset(
    {MessageType.SCCRQ, MessageType.SCCRP, MessageType.SCCCN, MessageType.STOPCCN, MessageType.HELLO}
)


class AVPType(IntEnum):
    """IETF (vendor 0) attribute types (section 4.4)."""

    MESSAGE_TYPE = 0
    RESULT_CODE = 1
    PROTOCOL_VERSION = 2
    FRAMING_CAPABILITIES = 3
    BEARER_CAPABILITIES = 4
    TIE_BREAKER = 5
    FIRMWARE_REVISION = 6
    HOST_NAME = 7
    VENDOR_NAME = 8
    ASSIGNED_TUNNEL_ID = 9
    RECEIVE_WINDOW_SIZE = 10
    CHALLENGE = 11
    Q931_CAUSE_CODE = 12
    CHALLENGE_RESPONSE = 13
    ASSIGNED_SESSION_ID = 14
    CALL_SERIAL_NUMBER = 15
    MINIMUM_BPS = 16
    MAXIMUM_BPS = 17
    BEARER_TYPE = 18
    FRAMING_TYPE = 19
    CALLED_NUMBER = 21
    CALLING_NUMBER = 22
    SUB_ADDRESS = 23
    TX_CONNECT_SPEED = 24
    PHYSICAL_CHANNEL_ID = 25
    INITIAL_RECEIVED_LCP_CONFREQ = 26
    LAST_SENT_LCP_CONFREQ = 27
    LAST_RECEIVED_LCP_CONFREQ = 28
    PROXY_AUTHEN_TYPE = 29
    PROXY_AUTHEN_NAME = 30
    PROXY_AUTHEN_CHALLENGE = 31
    PROXY_AUTHEN_ID = 32
    PROXY_AUTHEN_RESPONSE = 33
    CALL_ERRORS = 34
    ACCM = 35
    RANDOM_VECTOR = 36
    PRIVATE_GROUP_ID = 37
    RX_CONNECT_SPEED = 38
    SEQUENCING_REQUIRED = 39


KNOWN_AVP_TYPES = frozenset(int(t) for t in AVPType)

#: AVPs the RFC says are sent with the M bit clear ("This AVP MAY/SHOULD NOT be marked mandatory").
OPTIONAL_AVPS = frozenset(
    {
        AVPType.TIE_BREAKER,
        AVPType.FIRMWARE_REVISION,
        AVPType.VENDOR_NAME,
        AVPType.PHYSICAL_CHANNEL_ID,
        AVPType.INITIAL_RECEIVED_LCP_CONFREQ,
        AVPType.LAST_SENT_LCP_CONFREQ,
        AVPType.LAST_RECEIVED_LCP_CONFREQ,
        AVPType.PROXY_AUTHEN_TYPE,
        AVPType.PROXY_AUTHEN_NAME,
        AVPType.PROXY_AUTHEN_CHALLENGE,
        AVPType.PROXY_AUTHEN_ID,
        AVPType.PROXY_AUTHEN_RESPONSE,
        AVPType.PRIVATE_GROUP_ID,
        AVPType.RX_CONNECT_SPEED,
    }
)

#: AVPs that must never carry the H bit (section 4.3 and 4.4.1).
NEVER_HIDDEN = frozenset({AVPType.MESSAGE_TYPE, AVPType.RANDOM_VECTOR})

# Framing and bearer bits (sections 4.4.2, 4.4.4).
FRAMING_SYNC = 0x1
FRAMING_ASYNC = 0x2
BEARER_DIGITAL = 0x1
BEARER_ANALOG = 0x2


class StopCCNResult(IntEnum):
    """Result codes of a StopCCN (section 4.4.2)."""

    GENERAL_CLEAR = 1
    GENERAL_ERROR = 2
    ALREADY_EXISTS = 3
    NOT_AUTHORIZED = 4
    BAD_PROTOCOL_VERSION = 5
    SHUTTING_DOWN = 6
    FSM_ERROR = 7


class CDNResult(IntEnum):
    """Result codes of a CDN (section 4.4.2)."""

    LOST_CARRIER = 1
    GENERAL_ERROR = 2
    ADMINISTRATIVE = 3
    NO_FACILITIES_TEMPORARY = 4
    NO_FACILITIES_PERMANENT = 5
    INVALID_DESTINATION = 6
    NO_CARRIER = 7
    BUSY = 8
    NO_DIAL_TONE = 9
    TIMEOUT = 10
    NO_FRAMING = 11


class GeneralError(IntEnum):
    """General error codes carried in a Result Code AVP (section 4.4.2)."""

    NO_ERROR = 0
    NO_CONTROL_CONNECTION = 1
    BAD_LENGTH = 2
    BAD_VALUE = 3
    NO_RESOURCES = 4
    BAD_SESSION_ID = 5
    VENDOR_ERROR = 6
    TRY_ANOTHER = 7
    UNKNOWN_MANDATORY_AVP = 8
