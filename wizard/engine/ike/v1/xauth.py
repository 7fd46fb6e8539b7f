"""XAUTH (draft-beaulieu-ike-xauth-02): user name and password after phase 1, in transaction exchanges.

    Server (gateway)                            Client
    HDR*, HASH, ATTR(REQUEST: USER-NAME, USER-PASSWORD)  -->
                                           <--  HDR*, HASH, ATTR(REPLY: USER-NAME=u, USER-PASSWORD=p)
    HDR*, HASH, ATTR(SET: STATUS=1|0)          -->
                                           <--  HDR*, HASH, ATTR(ACK: STATUS)

REQUEST/REPLY share one message id, SET/ACK another. Only the generic (plain password) type is supported.
"""

from __future__ import annotations

from dataclasses import dataclass

from wizard.engine.ike.payloads import Attribute
from wizard.engine.ike.v1.constants import CfgAttr, CfgType
from wizard.engine.ike.v1.messages import AttributePayload

XAUTH_TYPE_GENERIC = 0
STATUS_FAIL = 0
STATUS_OK = 1


def is_xauth(payload: AttributePayload) -> bool:
    return any(CfgAttr.XAUTH_TYPE <= a.type <= CfgAttr.XAUTH_ANSWER for a in payload.attributes)


def request(identifier: int) -> AttributePayload:
    return AttributePayload(CfgType.REQUEST, identifier, (
        Attribute.tv(CfgAttr.XAUTH_TYPE, XAUTH_TYPE_GENERIC),
        Attribute.tlv(CfgAttr.XAUTH_USER_NAME, b""),
        Attribute.tlv(CfgAttr.XAUTH_USER_PASSWORD, b""),
    ))  # fmt: skip


@dataclass(frozen=True)
class XauthPrompt:
    """What the server asked for."""

    identifier: int
    wants_password: bool
    wants_passcode: bool
    message: str
    xauth_type: int | None


def parse_request(payload: AttributePayload) -> XauthPrompt:
    kinds = {a.type for a in payload.attributes}
    msg = payload.get(CfgAttr.XAUTH_MESSAGE)
    xtype = payload.get(CfgAttr.XAUTH_TYPE)
    return XauthPrompt(
        payload.identifier,
        CfgAttr.XAUTH_USER_PASSWORD in kinds,
        CfgAttr.XAUTH_PASSCODE in kinds,
        msg.value.decode("utf-8", "replace") if msg else "",
        xtype.int_value if xtype else None,
    )


def reply(prompt: XauthPrompt, username: str, password: str) -> AttributePayload:
    attrs = []
    if prompt.xauth_type is not None:
        attrs.append(Attribute.tv(CfgAttr.XAUTH_TYPE, prompt.xauth_type))
    attrs.append(Attribute.tlv(CfgAttr.XAUTH_USER_NAME, username.encode("utf-8")))
    secret_type = CfgAttr.XAUTH_PASSCODE if prompt.wants_passcode and not prompt.wants_password else CfgAttr.XAUTH_USER_PASSWORD
    attrs.append(Attribute.tlv(secret_type, password.encode("utf-8")))
    return AttributePayload(CfgType.REPLY, prompt.identifier, tuple(attrs))


def parse_reply(payload: AttributePayload) -> tuple[str, str] | None:
    user = payload.get(CfgAttr.XAUTH_USER_NAME)
    password = payload.get(CfgAttr.XAUTH_USER_PASSWORD) or payload.get(CfgAttr.XAUTH_PASSCODE)
    if user is None or password is None:
        return None
    return user.value.decode("utf-8", "replace"), password.value.decode("utf-8", "replace")


def status_set(identifier: int, ok: bool) -> AttributePayload:
    return AttributePayload(CfgType.SET, identifier, (Attribute.tv(CfgAttr.XAUTH_STATUS, STATUS_OK if ok else STATUS_FAIL),))


def status_of(payload: AttributePayload) -> bool | None:
    a = payload.get(CfgAttr.XAUTH_STATUS)
    return None if a is None else a.int_value == STATUS_OK


def ack(payload: AttributePayload) -> AttributePayload:
    status = payload.get(CfgAttr.XAUTH_STATUS)
    attrs = (Attribute.tv(CfgAttr.XAUTH_STATUS, status.int_value),) if status else ()
    return AttributePayload(CfgType.ACK, payload.identifier, attrs)
