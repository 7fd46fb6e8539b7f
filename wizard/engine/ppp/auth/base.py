"""What every authentication protocol object shares: outcome, timers and MPPE key material.

An authenticator runs while the link is in the Authenticate phase and stays alive afterwards so
that late duplicates (a retransmitted CHAP Response whose Success was lost) still get an answer.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from wizard.engine.crypto.mppe import key_length_for_bits, mppe_keys_from_mschapv1, mppe_keys_from_mschapv2
from wizard.engine.crypto.mschap import strip_domain
from wizard.engine.ppp.fsm import Timers

Send = Callable[[int, bytes], None]
RandomBytes = Callable[[int], bytes]


@dataclass(frozen=True)
class MppeMaterial:
    """What MPPE key derivation (RFC 3079) needs from an MS-CHAP exchange."""

    version: int  # 1 or 2
    password: str = field(repr=False)
    nt_response: bytes = b""
    challenge: bytes = b""

    def keys(self, *, is_server: bool, bits: int) -> tuple[bytes, bytes]:
        """(send_start_key, receive_start_key) for a link of ``bits`` strength."""
        length = key_length_for_bits(bits)
        if self.version == 2:
            return mppe_keys_from_mschapv2(self.password, self.nt_response, is_server, length)
        # pppd derives MS-CHAPv1 keys from the NT hash for every strength; follow it for interop.
        return mppe_keys_from_mschapv1(self.password, self.challenge, length, use_lm_hash=False)


class AuthProtocol:
    """Base for both roles: a finished exchange sets :attr:`done` and :attr:`succeeded`."""

    protocol: int = 0
    method: str = ""
    display: str = ""

    def __init__(self, send: Send, timers: Timers) -> None:
        self._send = send
        self.timers = timers
        self.done = False
        self.succeeded = False
        self.failure: str | None = None
        self.username = ""
        self.mppe_material: MppeMaterial | None = None
        self.deadline: float | None = None
        self.retries = 0
        self.discarded = 0

    def start(self, now: float) -> None:
        raise NotImplementedError

    def receive(self, information: bytes, now: float) -> None:
        """Handle one packet of :attr:`protocol`; raises ParseError when malformed."""
        raise NotImplementedError

    def get_timer(self) -> float | None:
        return self.deadline

    def handle_timer(self, now: float) -> None:
        if self.deadline is None or now < self.deadline:
            return
        self.deadline = None
        self.on_timeout(now)

    def on_timeout(self, now: float) -> None:
        """The restart timer fired."""

    def implicit_success(self) -> bool:
        """An NCP packet arrived while we wait for a final Success: may we take it as one?"""
        return False

    def _succeed(self) -> None:
        self.done = True
        self.succeeded = True
        self.deadline = None

    def _fail(self, reason: str) -> None:
        if not self.done:
            self.done = True
            self.succeeded = False
            self.failure = reason
        self.deadline = None

    def _arm(self, now: float) -> None:
        self.deadline = now + self.timers.restart


def lookup_password(users: Mapping[str, str], name: str) -> str | None:
    """Find a user's password by the name as sent, then without a ``DOMAIN\\`` prefix."""
    if name in users:
        return users[name]
    stripped = strip_domain(name)
    return users.get(stripped)


def secrets_equal(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)


def decode_name(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")
