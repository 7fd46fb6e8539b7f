"""Plain-language text for L2TP result codes, for the UI (RFC 2661 section 4.4.2)."""

from __future__ import annotations

from wizard.engine.l2tp.avp import ResultCode
from wizard.engine.l2tp.constants import CDNResult, GeneralError, StopCCNResult

STOPCCN_TEXT: dict[int, str] = {
    StopCCNResult.GENERAL_CLEAR: "it closed the connection normally",
    StopCCNResult.GENERAL_ERROR: "it reported an error",
    StopCCNResult.ALREADY_EXISTS: "a tunnel from this computer already exists",
    StopCCNResult.NOT_AUTHORIZED: "this computer is not authorised to open a tunnel (check the tunnel secret)",
    StopCCNResult.BAD_PROTOCOL_VERSION: "it does not support this L2TP protocol version",
    StopCCNResult.SHUTTING_DOWN: "it is shutting down",
    StopCCNResult.FSM_ERROR: "it saw a protocol state error",
}

CDN_TEXT: dict[int, str] = {
    CDNResult.LOST_CARRIER: "the call lost carrier",
    CDNResult.GENERAL_ERROR: "it reported an error",
    CDNResult.ADMINISTRATIVE: "it disconnected the call for administrative reasons",
    CDNResult.NO_FACILITIES_TEMPORARY: "it has no free capacity right now (try again later)",
    CDNResult.NO_FACILITIES_PERMANENT: "it cannot accept calls of this kind",
    CDNResult.INVALID_DESTINATION: "the destination is invalid",
    CDNResult.NO_CARRIER: "no carrier was detected",
    CDNResult.BUSY: "the line was busy",
    CDNResult.NO_DIAL_TONE: "there was no dial tone",
    CDNResult.TIMEOUT: "the call was not set up in time",
    CDNResult.NO_FRAMING: "no suitable framing was detected",
}

ERROR_TEXT: dict[int, str] = {
    GeneralError.NO_CONTROL_CONNECTION: "no control connection exists yet",
    GeneralError.BAD_LENGTH: "a message had a wrong length",
    GeneralError.BAD_VALUE: "a field value was out of range",
    GeneralError.NO_RESOURCES: "it has insufficient resources",
    GeneralError.BAD_SESSION_ID: "the session id was invalid",
    GeneralError.VENDOR_ERROR: "a vendor-specific error occurred",
    GeneralError.TRY_ANOTHER: "it asked to try another server",
    GeneralError.UNKNOWN_MANDATORY_AVP: "it received an attribute it does not understand",
}


def _detail(code: ResultCode, table: dict[int, str]) -> str:
    text = table.get(code.result, f"result code {code.result}")
    if code.error and code.error in ERROR_TEXT:
        text += f": {ERROR_TEXT[code.error]}"
    elif code.error:
        text += f": error code {code.error}"
    if code.message.strip():
        text += f' ("{code.message.strip()}")'
    return text


def describe_stopccn(peer: str, code: ResultCode | None) -> str:
    """E.g. 'the L2TP server closed the tunnel: it is shutting down'."""
    if code is None:
        return f"{peer} closed the tunnel without giving a reason"
    return f"{peer} closed the tunnel: {_detail(code, STOPCCN_TEXT)}"


def describe_cdn(peer: str, code: ResultCode | None) -> str:
    """E.g. 'the L2TP server hung up the call: the line was busy'."""
    if code is None:
        return f"{peer} hung up the call without giving a reason"
    return f"{peer} hung up the call: {_detail(code, CDN_TEXT)}"
