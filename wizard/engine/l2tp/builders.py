"""Control messages this implementation sends (RFC 2661 section 6), as pure functions.

Kept apart from the state machine so what goes on the wire for each message is visible in one
place. ``hidden`` is the set of attribute types to hide (empty unless hiding is enabled).
"""

from __future__ import annotations

import hashlib

from wizard.engine.l2tp.avp import AVP, ProtocolVersion, ResultCode
from wizard.engine.l2tp.config import L2TPConfig
from wizard.engine.l2tp.constants import FRAMING_ASYNC, FRAMING_SYNC, AVPType, MessageType
from wizard.engine.l2tp.messages import ControlMessage, avp, u16_avp, u32_avp

#: AVPs hidden when ``hide_avps`` is on. Tunnel-setup AVPs stay clear so that a secret mismatch is
#: reported by the challenge exchange instead of by undecodable tunnel ids.
HIDE_WHEN_ENABLED = frozenset(
    {
        AVPType.ASSIGNED_SESSION_ID,
        AVPType.CALL_SERIAL_NUMBER,
        AVPType.BEARER_TYPE,
        AVPType.FRAMING_TYPE,
        AVPType.TX_CONNECT_SPEED,
        AVPType.RX_CONNECT_SPEED,
        AVPType.CALLED_NUMBER,
        AVPType.CALLING_NUMBER,
        AVPType.SUB_ADDRESS,
    }
)


def challenge_response(msg_type: int, secret: bytes, challenge: bytes) -> bytes:
    """Section 4.4.3: CHAP-style MD5(ID + secret + challenge), ID = 2 (SCCRP) or 3 (SCCCN)."""
    return hashlib.md5(bytes([msg_type & 0xFF]) + secret + challenge, usedforsecurity=False).digest()


def tunnel_setup(
    msg_type: MessageType,
    config: L2TPConfig,
    local_tunnel_id: int,
    challenge: bytes | None = None,
    response: bytes | None = None,
) -> ControlMessage:
    """SCCRQ or SCCRP: what xl2tpd and the Windows client send, plus challenge fields if any."""
    avps = [
        avp(AVPType.PROTOCOL_VERSION, ProtocolVersion().encode()),
        u32_avp(AVPType.FRAMING_CAPABILITIES, FRAMING_SYNC | FRAMING_ASYNC),
        u32_avp(AVPType.BEARER_CAPABILITIES, config.bearer_capabilities),
        u16_avp(AVPType.FIRMWARE_REVISION, config.firmware_revision),
        avp(AVPType.HOST_NAME, config.host_name.encode("utf-8")),
        avp(AVPType.VENDOR_NAME, config.vendor_name.encode("utf-8")),
        u16_avp(AVPType.ASSIGNED_TUNNEL_ID, local_tunnel_id),
        u16_avp(AVPType.RECEIVE_WINDOW_SIZE, config.receive_window),
    ]
    if challenge is not None:
        avps.append(avp(AVPType.CHALLENGE, challenge))
    if response is not None:
        avps.append(avp(AVPType.CHALLENGE_RESPONSE, response))
    return ControlMessage.build(msg_type, avps)


def scccn(response: bytes | None) -> ControlMessage:
    extra = [] if response is None else [avp(AVPType.CHALLENGE_RESPONSE, response)]
    return ControlMessage.build(MessageType.SCCCN, extra)


def stopccn(local_tunnel_id: int, code: ResultCode) -> ControlMessage:
    return ControlMessage.build(
        MessageType.STOPCCN,
        [u16_avp(AVPType.ASSIGNED_TUNNEL_ID, local_tunnel_id), avp(AVPType.RESULT_CODE, code.encode())],
    )


def hello() -> ControlMessage:
    return ControlMessage.build(MessageType.HELLO)


def icrq(local_session_id: int, call_serial: int, hidden: frozenset[AVPType]) -> ControlMessage:
    """Incoming-Call-Request as xl2tpd sends it: session id, call serial, bearer type 0."""
    return ControlMessage.build(
        MessageType.ICRQ,
        [
            _u16(AVPType.ASSIGNED_SESSION_ID, local_session_id, hidden),
            _u32(AVPType.CALL_SERIAL_NUMBER, call_serial, hidden),
            _u32(AVPType.BEARER_TYPE, 0, hidden),
        ],
    )


def icrp(local_session_id: int, hidden: frozenset[AVPType]) -> ControlMessage:
    return ControlMessage.build(MessageType.ICRP, [_u16(AVPType.ASSIGNED_SESSION_ID, local_session_id, hidden)])


def iccn(tx_connect_speed: int, framing_type: int, sequencing: bool, hidden: frozenset[AVPType]) -> ControlMessage:
    avps = [
        _u32(AVPType.TX_CONNECT_SPEED, tx_connect_speed, hidden),
        _u32(AVPType.FRAMING_TYPE, framing_type, hidden),
    ]
    if sequencing:
        avps.append(avp(AVPType.SEQUENCING_REQUIRED, b""))
    return ControlMessage.build(MessageType.ICCN, avps)


def cdn(code: ResultCode, local_session_id: int, hidden: frozenset[AVPType]) -> ControlMessage:
    return ControlMessage.build(
        MessageType.CDN,
        [avp(AVPType.RESULT_CODE, code.encode()), _u16(AVPType.ASSIGNED_SESSION_ID, local_session_id, hidden)],
    )


def _u16(attr_type: AVPType, value: int, hidden: frozenset[AVPType]) -> AVP:
    return u16_avp(attr_type, value, hidden=attr_type in hidden)


def _u32(attr_type: AVPType, value: int, hidden: frozenset[AVPType]) -> AVP:
    return u32_avp(attr_type, value, hidden=attr_type in hidden)
