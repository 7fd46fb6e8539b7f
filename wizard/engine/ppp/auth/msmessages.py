"""MS-CHAP response values and Success/Failure messages (RFC 2433 section 5, RFC 2759 sections 4-6).

Shared by CHAP and EAP-MSCHAPv2, which carry the same values in different envelopes.
"""

from __future__ import annotations

from dataclasses import dataclass

from wizard.engine.buffer import Reader
from wizard.engine.errors import ParseError

RESPONSE_LENGTH = 49

# RFC 2759 section 6 / RFC 2433 section 5 error codes.
_ERRORS = {
    646: "the account is not allowed to log on at this time of day (E=646)",
    647: "the account is disabled (E=647)",
    648: "the password has expired; change it and try again (E=648)",
    649: "the account has no permission to dial in (E=649)",
    709: "the server could not change the password (E=709)",
}


@dataclass(frozen=True)
class V2Response:
    """RFC 2759 section 4 Response value: Peer-Challenge, 8 reserved octets, NT-Response, Flags."""

    peer_challenge: bytes
    nt_response: bytes

    def encode(self) -> bytes:
        return self.peer_challenge + bytes(8) + self.nt_response + b"\x00"


def parse_v2_response(value: bytes) -> V2Response:
    if len(value) != RESPONSE_LENGTH:
        raise ParseError(f"MS-CHAPv2 response value must be {RESPONSE_LENGTH} octets, got {len(value)}")
    r = Reader(value)
    peer_challenge = r.read(16)
    r.read(8)
    return V2Response(peer_challenge, r.read(24))


def build_v1_response(nt_response: bytes) -> bytes:
    """RFC 2433 section 5: LM-Response (zeros: we never send the weak LM hash), NT-Response, use-NT."""
    return bytes(24) + nt_response + b"\x01"


def parse_v1_response(value: bytes) -> bytes:
    """Return the NT-Response of an MS-CHAPv1 response value."""
    if len(value) != RESPONSE_LENGTH:
        raise ParseError(f"MS-CHAP response value must be {RESPONSE_LENGTH} octets, got {len(value)}")
    if value[48] != 1:
        raise ParseError("MS-CHAP response uses only the LAN Manager hash, which we do not accept")
    return value[24:48]


@dataclass(frozen=True)
class MsFailure:
    """A parsed ``E=eeeeeeeeee R=r C=cccc V=vvvvvvvvvv M=<msg>`` failure message."""

    error: int | None
    retry: bool
    message: str


def parse_failure(text: str) -> MsFailure:
    """Lenient parse: servers differ in spacing and some omit fields."""
    error: int | None = None
    retry = False
    message = ""
    rest = text
    m_at = rest.find("M=")
    if m_at >= 0:
        message = rest[m_at + 2 :].strip()
        rest = rest[:m_at]
    for token in rest.split():
        key, _, value = token.partition("=")
        if key == "E" and value.isdigit():
            error = int(value)
        elif key == "R":
            retry = value == "1"
    return MsFailure(error, retry, message)


def failure_reason(failure: MsFailure, display: str) -> str:
    """Plain-language reason for an MS-CHAP Failure, e.g. a wrong password (E=691)."""
    if failure.error in _ERRORS:
        return f"the server refused the login: {_ERRORS[failure.error]}"
    if failure.error == 691 or failure.error is None:
        code = f" E={failure.error}" if failure.error is not None else ""
        return f"the server rejected the user name or password ({display}{code})"
    return f"the server refused the login ({display} E={failure.error})"


def v2_failure_message(challenge: bytes) -> str:
    return f"E=691 R=0 C={challenge.hex().upper()} V=3 M=Authentication failure"


V1_FAILURE_MESSAGE = "E=691 R=0 V=0 M=Authentication failure"


def success_message(authenticator_response: str) -> str:
    return f"{authenticator_response} M=Access granted"
