"""Control messages: a Message Type AVP followed by the other AVPs (RFC 2661 sections 3.2, 6).

A control message payload with no AVPs at all is a ZLB acknowledgement (section 5.8) and decodes to
None. Typed accessors raise ParseError when a known AVP has the wrong size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from wizard.engine.errors import ParseError
from wizard.engine.l2tp.avp import (
    AVP,
    Q931Cause,
    ResultCode,
    decode_avps,
    encode_avps,
    find,
    text_value,
    u16_value,
    u32_value,
)
from wizard.engine.l2tp.constants import OPTIONAL_AVPS, AVPType, MessageType

#: What each message must carry for this implementation to act on it (a subset of section 6).
REQUIRED_AVPS: dict[int, tuple[AVPType, ...]] = {
    MessageType.SCCRQ: (AVPType.PROTOCOL_VERSION, AVPType.ASSIGNED_TUNNEL_ID),
    MessageType.SCCRP: (AVPType.ASSIGNED_TUNNEL_ID,),
    MessageType.ICRQ: (AVPType.ASSIGNED_SESSION_ID,),
    MessageType.ICRP: (AVPType.ASSIGNED_SESSION_ID,),
}


#: Exact value sizes of fixed-size IETF AVPs (section 4.4); others are checked where they are read.
FIXED_SIZES: dict[int, int] = {
    AVPType.MESSAGE_TYPE: 2,
    AVPType.PROTOCOL_VERSION: 2,
    AVPType.FRAMING_CAPABILITIES: 4,
    AVPType.BEARER_CAPABILITIES: 4,
    AVPType.TIE_BREAKER: 8,
    AVPType.FIRMWARE_REVISION: 2,
    AVPType.ASSIGNED_TUNNEL_ID: 2,
    AVPType.RECEIVE_WINDOW_SIZE: 2,
    AVPType.CHALLENGE_RESPONSE: 16,
    AVPType.ASSIGNED_SESSION_ID: 2,
    AVPType.CALL_SERIAL_NUMBER: 4,
    AVPType.MINIMUM_BPS: 4,
    AVPType.MAXIMUM_BPS: 4,
    AVPType.BEARER_TYPE: 4,
    AVPType.FRAMING_TYPE: 4,
    AVPType.TX_CONNECT_SPEED: 4,
    AVPType.PHYSICAL_CHANNEL_ID: 4,
    AVPType.PROXY_AUTHEN_TYPE: 2,
    AVPType.PROXY_AUTHEN_ID: 2,
    AVPType.CALL_ERRORS: 26,
    AVPType.ACCM: 10,
    AVPType.RX_CONNECT_SPEED: 4,
    AVPType.SEQUENCING_REQUIRED: 0,
}


def avp(attr_type: AVPType, value: bytes, *, hidden: bool = False) -> AVP:
    """An IETF AVP with the M bit set the way the RFC asks for this attribute."""
    return AVP(int(attr_type), value, mandatory=attr_type not in OPTIONAL_AVPS, hidden=hidden)


def u16_avp(attr_type: AVPType, value: int, *, hidden: bool = False) -> AVP:
    return avp(attr_type, value.to_bytes(2, "big"), hidden=hidden)


def u32_avp(attr_type: AVPType, value: int, *, hidden: bool = False) -> AVP:
    return avp(attr_type, value.to_bytes(4, "big"), hidden=hidden)


@dataclass(frozen=True)
class ControlMessage:
    """A decoded control message; ``avps`` starts with the Message Type AVP."""

    avps: tuple[AVP, ...]

    @classmethod
    def build(cls, msg_type: int, avps: Iterable[AVP] = ()) -> ControlMessage:
        return cls((AVP(AVPType.MESSAGE_TYPE, msg_type.to_bytes(2, "big"), mandatory=True), *avps))

    @property
    def msg_type(self) -> int:
        return u16_value(self.avps[0].value, "Message Type AVP")

    @property
    def type_mandatory(self) -> bool:
        return self.avps[0].mandatory

    @property
    def name(self) -> str:
        try:
            return MessageType(self.msg_type).name
        except ValueError:
            return f"message type {self.msg_type}"

    def get(self, attr_type: int) -> AVP | None:
        return find(self.avps[1:], attr_type)

    def has(self, attr_type: int) -> bool:
        return self.get(attr_type) is not None

    def u16(self, attr_type: AVPType) -> int | None:
        found = self.get(attr_type)
        return None if found is None else u16_value(found.value, f"{attr_type.name} AVP")

    def u32(self, attr_type: AVPType) -> int | None:
        found = self.get(attr_type)
        return None if found is None else u32_value(found.value, f"{attr_type.name} AVP")

    def text(self, attr_type: AVPType) -> str | None:
        found = self.get(attr_type)
        return None if found is None else text_value(found.value)

    def raw(self, attr_type: AVPType) -> bytes | None:
        found = self.get(attr_type)
        return None if found is None else found.value

    def result_code(self) -> ResultCode | None:
        found = self.get(AVPType.RESULT_CODE)
        return None if found is None else ResultCode.decode(found.value)

    def unknown_mandatory(self) -> AVP | None:
        """The first AVP with the M bit that we do not understand (section 4.2), if any."""
        for item in self.avps[1:]:
            if item.mandatory and not item.is_known:
                return item
        return None

    def validate(self) -> None:
        """Check the sizes of every known AVP; raise ParseError naming the first bad one."""
        for item in self.avps:
            if not item.is_known:
                continue
            size = FIXED_SIZES.get(item.attr_type)
            if size is not None and len(item.value) != size:
                name = AVPType(item.attr_type).name
                raise ParseError(f"{name} AVP has {len(item.value)} bytes instead of {size}")
            if item.attr_type == AVPType.RESULT_CODE:
                ResultCode.decode(item.value)
            elif item.attr_type == AVPType.Q931_CAUSE_CODE:
                Q931Cause.decode(item.value)
            elif item.attr_type == AVPType.CHALLENGE and not item.value:
                raise ParseError("empty Challenge AVP")

    def missing(self) -> list[AVPType]:
        return [t for t in REQUIRED_AVPS.get(self.msg_type, ()) if not self.has(t)]

    def encode(self, secret: bytes | None = None, random_bytes: Callable[[int], bytes] | None = None) -> bytes:
        return encode_avps(self.avps, secret, random_bytes)


def decode_control(payload: bytes, secret: bytes | None = None) -> ControlMessage | None:
    """Decode a control message body; None for a ZLB. The Message Type AVP must come first."""
    if not payload:
        return None
    avps = decode_avps(payload, secret)
    first = avps[0]
    if first.vendor_id != 0 or first.attr_type != AVPType.MESSAGE_TYPE:
        raise ParseError("control message does not start with a Message Type AVP")
    u16_value(first.value, "Message Type AVP")
    return ControlMessage(tuple(avps))
