"""PPTP numbers (RFC 2637 section 2) and the plain-language text the UI shows for them.

Result and error codes are only meaningful per message type, so the text lookups take the message
type into account instead of one flat table.
"""

from __future__ import annotations

from enum import IntEnum

PPTP_PORT = 1723
MAGIC_COOKIE = 0x1A2B3C4D
PROTOCOL_VERSION = 0x0100  # version 1, revision 0
HEADER_LENGTH = 12
CONTROL_MESSAGE = 1  # PPTP Message Type 1; type 2 (management) is never defined by the RFC
MAX_MESSAGE_LENGTH = 1024  # the largest defined message is 220 octets (Incoming-Call-Request)


class MessageType(IntEnum):
    """Control Message Type field (RFC 2637 section 1.4)."""

    START_CONTROL_CONNECTION_REQUEST = 1
    START_CONTROL_CONNECTION_REPLY = 2
    STOP_CONTROL_CONNECTION_REQUEST = 3
    STOP_CONTROL_CONNECTION_REPLY = 4
    ECHO_REQUEST = 5
    ECHO_REPLY = 6
    OUTGOING_CALL_REQUEST = 7
    OUTGOING_CALL_REPLY = 8
    INCOMING_CALL_REQUEST = 9
    INCOMING_CALL_REPLY = 10
    INCOMING_CALL_CONNECTED = 11
    CALL_CLEAR_REQUEST = 12
    CALL_DISCONNECT_NOTIFY = 13
    WAN_ERROR_NOTIFY = 14
    SET_LINK_INFO = 15


class FramingCapability(IntEnum):
    ASYNC = 1
    SYNC = 2


class BearerCapability(IntEnum):
    ANALOG = 1
    DIGITAL = 2


class StopReason(IntEnum):
    """Reason field of Stop-Control-Connection-Request (RFC 2637 section 2.3)."""

    NONE = 1
    STOP_PROTOCOL = 2
    STOP_LOCAL_SHUTDOWN = 3


class GeneralError(IntEnum):
    """General error codes (RFC 2637 section 2.16)."""

    NONE = 0
    NOT_CONNECTED = 1
    BAD_FORMAT = 2
    BAD_VALUE = 3
    NO_RESOURCE = 4
    BAD_CALL_ID = 5
    PAC_ERROR = 6


GENERAL_ERROR_TEXT: dict[int, str] = {
    0: "no further detail",
    1: "no control connection exists yet",
    2: "a message had a wrong length or magic cookie",
    3: "a field value was out of range or a reserved field was not zero",
    4: "the peer has run out of resources",
    5: "the call ID is not valid in this context",
    6: "the access concentrator reported a vendor-specific error",
}

START_REPLY_TEXT: dict[int, str] = {
    1: "control connection established",
    2: "general error",
    3: "a control connection to this peer already exists",
    4: "we are not authorised to open a control connection",
    5: "the server does not support PPTP version 1.0",
}

STOP_REQUEST_TEXT: dict[int, str] = {
    1: "a general request to close the connection",
    2: "it does not support our protocol version",
    3: "it is shutting down",
}

STOP_REPLY_TEXT: dict[int, str] = {1: "control connection closed", 2: "general error"}

ECHO_REPLY_TEXT: dict[int, str] = {1: "OK", 2: "general error"}

OUTGOING_REPLY_TEXT: dict[int, str] = {
    1: "connected",
    2: "general error",
    3: "no carrier",
    4: "busy",
    5: "no dial tone",
    6: "the call timed out",
    7: "the call was not accepted (administratively prohibited)",
}

INCOMING_REPLY_TEXT: dict[int, str] = {1: "accepted", 2: "general error", 3: "not accepted"}

DISCONNECT_TEXT: dict[int, str] = {
    1: "the carrier was lost",
    2: "general error",
    3: "administrative shutdown",
    4: "in answer to a call-clear request",
}


_REPLY_TABLES: dict[int, dict[int, str]] = {
    MessageType.START_CONTROL_CONNECTION_REPLY: START_REPLY_TEXT,
    MessageType.STOP_CONTROL_CONNECTION_REPLY: STOP_REPLY_TEXT,
    MessageType.ECHO_REPLY: ECHO_REPLY_TEXT,
    MessageType.OUTGOING_CALL_REPLY: OUTGOING_REPLY_TEXT,
    MessageType.INCOMING_CALL_REPLY: INCOMING_REPLY_TEXT,
    MessageType.CALL_DISCONNECT_NOTIFY: DISCONNECT_TEXT,
}


def _lookup(table: dict[int, str], code: int) -> str:
    return table.get(code, f"unknown code {code}")


def error_text(error_code: int) -> str:
    """General error code as a short phrase."""
    return _lookup(GENERAL_ERROR_TEXT, error_code)


def result_text(message_type: int, result_code: int, error_code: int = 0) -> str:
    """Result (and, for 'general error', error) code of a reply as plain language."""
    table = _REPLY_TABLES.get(int(message_type))
    text = _lookup(table, result_code) if table is not None else f"result code {result_code}"
    if result_code == 2 or error_code != 0:
        text += f" ({error_text(error_code)}, error {error_code})"
    return text


def stop_reason_text(reason: int) -> str:
    """Reason of a Stop-Control-Connection-Request as plain language."""
    return _lookup(STOP_REQUEST_TEXT, reason)
