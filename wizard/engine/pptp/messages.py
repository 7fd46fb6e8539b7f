"""PPTP control message codec (RFC 2637 section 2).

Every control message has a fixed layout, so each class below only declares its field list; one
generic encoder/decoder walks it. Strings are fixed-size, NUL-padded fields. Decoding goes through
:class:`~wizard.engine.buffer.Reader`, so malformed input raises only
:class:`~wizard.engine.errors.ParseError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

from wizard.engine.buffer import Reader, Writer
from wizard.engine.errors import ParseError
from wizard.engine.pptp.constants import (
    CONTROL_MESSAGE,
    HEADER_LENGTH,
    MAGIC_COOKIE,
    PROTOCOL_VERSION,
    MessageType,
)


class _Field(NamedTuple):
    """One wire field: ``kind`` is u8/u16/u32, ``str`` (fixed size), ``len`` or ``reserved``."""

    name: str
    kind: str
    size: int


def _u8(name: str) -> _Field:
    return _Field(name, "u8", 1)


def _u16(name: str) -> _Field:
    return _Field(name, "u16", 2)


def _u32(name: str) -> _Field:
    return _Field(name, "u32", 4)


def _reserved(size: int) -> _Field:
    return _Field("", "reserved", size)


def _string(name: str, size: int) -> _Field:
    return _Field(name, "str", size)


def _length_of(name: str) -> _Field:
    """A u16 holding the used length of the string field ``name`` (phone numbers)."""
    return _Field(name, "len", 2)


def _decode_string(raw: bytes) -> str:
    raw = raw.split(b"\x00", 1)[0]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _encode_string(value: str, size: int) -> bytes:
    raw = value.encode("utf-8")
    if len(raw) > size:  # cut on a character boundary so the peer still sees valid UTF-8
        raw = raw[:size].decode("utf-8", errors="ignore").encode("utf-8")
    return raw.ljust(size, b"\x00")


@dataclass(frozen=True)
class ControlMessage:
    """Base of all control messages; subclasses set ``TYPE`` and ``FIELDS``."""

    TYPE: ClassVar[MessageType]
    FIELDS: ClassVar[tuple[_Field, ...]]

    @classmethod
    def wire_length(cls) -> int:
        return HEADER_LENGTH + sum(f.size for f in cls.FIELDS)

    def encode(self) -> bytes:
        """The message with its 12-octet header; integers out of range raise ``ValueError``."""
        w = Writer()
        w.u16(self.wire_length()).u16(CONTROL_MESSAGE).u32(MAGIC_COOKIE).u16(self.TYPE).u16(0)
        for f in self.FIELDS:
            if f.kind == "reserved":
                w.write(bytes(f.size))
            elif f.kind == "str":
                w.write(_encode_string(getattr(self, f.name), f.size))
            elif f.kind == "len":
                size = next(g.size for g in self.FIELDS if g.kind == "str" and g.name == f.name)
                w.u16(len(_encode_string(getattr(self, f.name), size).rstrip(b"\x00")))
            else:
                value = getattr(self, f.name)
                {"u8": w.u8, "u16": w.u16, "u32": w.u32}[f.kind](value)
        return w.getvalue()

    @classmethod
    def _decode_body(cls, r: Reader) -> ControlMessage:
        values: dict[str, Any] = {}
        lengths: dict[str, int] = {}
        for f in cls.FIELDS:
            if f.kind == "reserved":
                r.read(f.size)  # RFC says zero; be liberal in what we accept
            elif f.kind == "len":
                lengths[f.name] = r.u16()
            elif f.kind == "str":
                raw = r.read(f.size)
                if f.name in lengths:
                    raw = raw[: lengths[f.name]]
                values[f.name] = _decode_string(raw)
            elif f.kind == "u8":
                values[f.name] = r.u8()
            elif f.kind == "u16":
                values[f.name] = r.u16()
            else:
                values[f.name] = r.u32()
        return cls(**values)


@dataclass(frozen=True)
class StartControlConnectionRequest(ControlMessage):
    """SCCRQ (RFC 2637 section 2.1), 156 octets."""

    TYPE = MessageType.START_CONTROL_CONNECTION_REQUEST
    FIELDS = (
        _u16("protocol_version"),
        _reserved(2),
        _u32("framing_capabilities"),
        _u32("bearer_capabilities"),
        _u16("maximum_channels"),
        _u16("firmware_revision"),
        _string("host_name", 64),
        _string("vendor_string", 64),
    )
    protocol_version: int = PROTOCOL_VERSION
    framing_capabilities: int = 1
    bearer_capabilities: int = 1
    maximum_channels: int = 0
    firmware_revision: int = 0
    host_name: str = ""
    vendor_string: str = ""


@dataclass(frozen=True)
class StartControlConnectionReply(ControlMessage):
    """SCCRP (RFC 2637 section 2.2), 156 octets."""

    TYPE = MessageType.START_CONTROL_CONNECTION_REPLY
    FIELDS = (
        _u16("protocol_version"),
        _u8("result_code"),
        _u8("error_code"),
        _u32("framing_capabilities"),
        _u32("bearer_capabilities"),
        _u16("maximum_channels"),
        _u16("firmware_revision"),
        _string("host_name", 64),
        _string("vendor_string", 64),
    )
    protocol_version: int = PROTOCOL_VERSION
    result_code: int = 1
    error_code: int = 0
    framing_capabilities: int = 1
    bearer_capabilities: int = 1
    maximum_channels: int = 0
    firmware_revision: int = 0
    host_name: str = ""
    vendor_string: str = ""


@dataclass(frozen=True)
class StopControlConnectionRequest(ControlMessage):
    """StopCCRQ (RFC 2637 section 2.3), 16 octets."""

    TYPE = MessageType.STOP_CONTROL_CONNECTION_REQUEST
    FIELDS = (_u8("reason"), _reserved(1), _reserved(2))
    reason: int = 1


@dataclass(frozen=True)
class StopControlConnectionReply(ControlMessage):
    """StopCCRP (RFC 2637 section 2.4), 16 octets."""

    TYPE = MessageType.STOP_CONTROL_CONNECTION_REPLY
    FIELDS = (_u8("result_code"), _u8("error_code"), _reserved(2))
    result_code: int = 1
    error_code: int = 0


@dataclass(frozen=True)
class EchoRequest(ControlMessage):
    """Echo-Request (RFC 2637 section 2.5), 16 octets."""

    TYPE = MessageType.ECHO_REQUEST
    FIELDS = (_u32("identifier"),)
    identifier: int = 0


@dataclass(frozen=True)
class EchoReply(ControlMessage):
    """Echo-Reply (RFC 2637 section 2.6), 20 octets."""

    TYPE = MessageType.ECHO_REPLY
    FIELDS = (_u32("identifier"), _u8("result_code"), _u8("error_code"), _reserved(2))
    identifier: int = 0
    result_code: int = 1
    error_code: int = 0


@dataclass(frozen=True)
class OutgoingCallRequest(ControlMessage):
    """OCRQ (RFC 2637 section 2.7), 168 octets; sent by the PNS (our client) to the PAC."""

    TYPE = MessageType.OUTGOING_CALL_REQUEST
    FIELDS = (
        _u16("call_id"),
        _u16("call_serial_number"),
        _u32("minimum_bps"),
        _u32("maximum_bps"),
        _u32("bearer_type"),
        _u32("framing_type"),
        _u16("packet_recv_window_size"),
        _u16("packet_processing_delay"),
        _length_of("phone_number"),
        _reserved(2),
        _string("phone_number", 64),
        _string("subaddress", 64),
    )
    call_id: int = 0
    call_serial_number: int = 0
    minimum_bps: int = 300
    maximum_bps: int = 100_000_000
    bearer_type: int = 3
    framing_type: int = 3
    packet_recv_window_size: int = 64
    packet_processing_delay: int = 0
    phone_number: str = ""
    subaddress: str = ""


@dataclass(frozen=True)
class OutgoingCallReply(ControlMessage):
    """OCRP (RFC 2637 section 2.8), 32 octets."""

    TYPE = MessageType.OUTGOING_CALL_REPLY
    FIELDS = (
        _u16("call_id"),
        _u16("peer_call_id"),
        _u8("result_code"),
        _u8("error_code"),
        _u16("cause_code"),
        _u32("connect_speed"),
        _u16("packet_recv_window_size"),
        _u16("packet_processing_delay"),
        _u32("physical_channel_id"),
    )
    call_id: int = 0
    peer_call_id: int = 0
    result_code: int = 1
    error_code: int = 0
    cause_code: int = 0
    connect_speed: int = 0
    packet_recv_window_size: int = 64
    packet_processing_delay: int = 0
    physical_channel_id: int = 0


@dataclass(frozen=True)
class IncomingCallRequest(ControlMessage):
    """ICRQ (RFC 2637 section 2.9), 220 octets; dial-in calls, decoded for completeness."""

    TYPE = MessageType.INCOMING_CALL_REQUEST
    FIELDS = (
        _u16("call_id"),
        _u16("call_serial_number"),
        _u32("call_bearer_type"),
        _u32("physical_channel_id"),
        _length_of("dialed_number"),
        _length_of("dialing_number"),
        _string("dialed_number", 64),
        _string("dialing_number", 64),
        _string("subaddress", 64),
    )
    call_id: int = 0
    call_serial_number: int = 0
    call_bearer_type: int = 1
    physical_channel_id: int = 0
    dialed_number: str = ""
    dialing_number: str = ""
    subaddress: str = ""


@dataclass(frozen=True)
class IncomingCallReply(ControlMessage):
    """ICRP (RFC 2637 section 2.10), 24 octets."""

    TYPE = MessageType.INCOMING_CALL_REPLY
    FIELDS = (
        _u16("call_id"),
        _u16("peer_call_id"),
        _u8("result_code"),
        _u8("error_code"),
        _u16("packet_recv_window_size"),
        _u16("packet_transmit_delay"),
        _reserved(2),
    )
    call_id: int = 0
    peer_call_id: int = 0
    result_code: int = 1
    error_code: int = 0
    packet_recv_window_size: int = 64
    packet_transmit_delay: int = 0


@dataclass(frozen=True)
class IncomingCallConnected(ControlMessage):
    """ICCN (RFC 2637 section 2.11), 28 octets."""

    TYPE = MessageType.INCOMING_CALL_CONNECTED
    FIELDS = (
        _u16("peer_call_id"),
        _reserved(2),
        _u32("connect_speed"),
        _u16("packet_recv_window_size"),
        _u16("packet_transmit_delay"),
        _u32("framing_type"),
    )
    peer_call_id: int = 0
    connect_speed: int = 0
    packet_recv_window_size: int = 64
    packet_transmit_delay: int = 0
    framing_type: int = 1


@dataclass(frozen=True)
class CallClearRequest(ControlMessage):
    """CCRQ (RFC 2637 section 2.12), 16 octets; carries the PNS's own Call ID."""

    TYPE = MessageType.CALL_CLEAR_REQUEST
    FIELDS = (_u16("call_id"), _reserved(2))
    call_id: int = 0


@dataclass(frozen=True)
class CallDisconnectNotify(ControlMessage):
    """CDN (RFC 2637 section 2.13), 148 octets; carries the PAC's own Call ID."""

    TYPE = MessageType.CALL_DISCONNECT_NOTIFY
    FIELDS = (
        _u16("call_id"),
        _u8("result_code"),
        _u8("error_code"),
        _u16("cause_code"),
        _reserved(2),
        _string("call_statistics", 128),
    )
    call_id: int = 0
    result_code: int = 4
    error_code: int = 0
    cause_code: int = 0
    call_statistics: str = ""


@dataclass(frozen=True)
class WanErrorNotify(ControlMessage):
    """WEN (RFC 2637 section 2.14), 40 octets; PAC to PNS error counters."""

    TYPE = MessageType.WAN_ERROR_NOTIFY
    FIELDS = (
        _u16("peer_call_id"),
        _reserved(2),
        _u32("crc_errors"),
        _u32("framing_errors"),
        _u32("hardware_overruns"),
        _u32("buffer_overruns"),
        _u32("timeout_errors"),
        _u32("alignment_errors"),
    )
    peer_call_id: int = 0
    crc_errors: int = 0
    framing_errors: int = 0
    hardware_overruns: int = 0
    buffer_overruns: int = 0
    timeout_errors: int = 0
    alignment_errors: int = 0


@dataclass(frozen=True)
class SetLinkInfo(ControlMessage):
    """SLI (RFC 2637 section 2.15), 24 octets; PNS to PAC, carries negotiated PPP ACCMs."""

    TYPE = MessageType.SET_LINK_INFO
    FIELDS = (_u16("peer_call_id"), _reserved(2), _u32("send_accm"), _u32("receive_accm"))
    peer_call_id: int = 0
    send_accm: int = 0xFFFFFFFF
    receive_accm: int = 0xFFFFFFFF


MESSAGE_CLASSES: dict[int, type[ControlMessage]] = {
    cls.TYPE: cls
    for cls in (
        StartControlConnectionRequest,
        StartControlConnectionReply,
        StopControlConnectionRequest,
        StopControlConnectionReply,
        EchoRequest,
        EchoReply,
        OutgoingCallRequest,
        OutgoingCallReply,
        IncomingCallRequest,
        IncomingCallReply,
        IncomingCallConnected,
        CallClearRequest,
        CallDisconnectNotify,
        WanErrorNotify,
        SetLinkInfo,
    )
}


def decode_message(data: bytes) -> ControlMessage:
    """Decode one whole control message (header included); extra trailing octets are ignored."""
    r = Reader(data)
    length = r.u16()
    if length != len(data):
        raise ParseError(f"length field says {length} octets but the message has {len(data)}")
    message_type = r.u16()
    if message_type != CONTROL_MESSAGE:
        raise ParseError(f"PPTP message type {message_type} is not a control message")
    cookie = r.u32()
    if cookie != MAGIC_COOKIE:
        raise ParseError(f"bad magic cookie 0x{cookie:08x}")
    control_type = r.u16()
    r.u16()  # Reserved0
    cls = MESSAGE_CLASSES.get(control_type)
    if cls is None:
        raise ParseError(f"unknown control message type {control_type}")
    if length < cls.wire_length():
        raise ParseError(f"{cls.__name__} needs {cls.wire_length()} octets, got {length}")
    return cls._decode_body(r)
