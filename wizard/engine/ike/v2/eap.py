"""EAP inside IKE_AUTH (RFC 7296 §2.16): the PPP layer's EAP peer and authenticator, carried in EAP
payloads instead of PPP frames, plus the MSK that keys the final AUTH payloads.

IKE's own retransmission replaces EAP's (the initiator repeats its request, the responder replays its
answer), so the PPP objects' timers are never consulted. EAP-MSCHAPv2's MSK is
MasterReceiveKey | MasterSendKey (the authenticator's view, RFC 3079 §3.4) padded with 32 zero bytes;
EAP-MD5 makes no MSK, so AUTH then falls back to SK_pi/SK_pr.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from wizard.engine.crypto.mppe import mppe_keys_from_mschapv2
from wizard.engine.errors import ParseError
from wizard.engine.ppp.auth.base import AuthProtocol, MppeMaterial
from wizard.engine.ppp.auth.eap import (
    EAP_TYPES,
    FAILURE,
    REQUEST,
    RESPONSE,
    SUCCESS,
    EapClient,
    EapServer,
    parse_eap,
    parse_ms,
)
from wizard.engine.ppp.fsm import Timers

__all__ = ["EAP_METHODS", "EapAuthenticator", "EapPeer", "msk_from_material", "parse_eap", "parse_ms"]

EAP_METHODS = tuple(EAP_TYPES)  # "mschapv2", "md5"
MSK_SIZE = 64


def msk_from_material(material: MppeMaterial | None) -> bytes | None:
    if material is None or material.version != 2:
        return None
    send, recv = mppe_keys_from_mschapv2(material.password, material.nt_response, True, 16)
    return (recv + send).ljust(MSK_SIZE, b"\x00")


class _Wrapped:
    """Collects what a PPP EAP object sends, so it can travel in an EAP payload."""

    def __init__(self) -> None:
        self._out: list[bytes] = []
        self._proto: AuthProtocol | None = None

    def _capture(self, _protocol: int, data: bytes) -> None:
        self._out.append(data)

    def _take(self) -> bytes | None:
        out, self._out = self._out, []
        return out[-1] if out else None

    @property
    def done(self) -> bool:
        return self._proto is not None and self._proto.done

    @property
    def succeeded(self) -> bool:
        return self._proto is not None and self._proto.succeeded

    @property
    def failure(self) -> str | None:
        return self._proto.failure if self._proto is not None else None

    @property
    def method(self) -> str:
        return self._proto.display if self._proto is not None else "EAP"

    @property
    def msk(self) -> bytes | None:
        return msk_from_material(self._proto.mppe_material) if self._proto is not None and self.succeeded else None


class EapPeer(_Wrapped):
    """The client: each EAP Request from the gateway yields the Response to send (or None)."""

    def __init__(self, username: str, password: str, methods: Sequence[str], random_bytes: Callable[[int], bytes]) -> None:
        super().__init__()
        self._client = EapClient(self._capture, Timers(), username, password, list(methods), random_bytes)
        self._proto = self._client

    def handle(self, message: bytes, now: float) -> bytes | None:
        """Raises ParseError for a malformed EAP message (the IKE layer drops it)."""
        code = parse_eap(message)[0]
        if code == RESPONSE:
            raise ParseError("the gateway sent an EAP Response")
        self._client.receive(message, now)
        return self._take()

    @staticmethod
    def is_final(message: bytes) -> bool:
        """EAP-Success or EAP-Failure: the method is over."""
        return parse_eap(message)[0] in (SUCCESS, FAILURE)


class EapAuthenticator(_Wrapped):
    """The gateway: starts with an Identity Request and answers each Response with the next Request."""

    def __init__(
        self, users: Mapping[str, str], methods: Sequence[str], server_name: str, random_bytes: Callable[[int], bytes]
    ) -> None:
        super().__init__()
        self._server = EapServer(self._capture, Timers(), users, list(methods), server_name, random_bytes)
        self._proto = self._server

    def start(self, now: float) -> bytes:
        self._server.start(now)
        out = self._take()
        assert out is not None
        return out

    def handle(self, message: bytes, now: float) -> bytes | None:
        if parse_eap(message)[0] == REQUEST:
            raise ParseError("the client sent an EAP Request")
        self._server.receive(message, now)
        return self._take()

    @property
    def username(self) -> str:
        return self._server.username
