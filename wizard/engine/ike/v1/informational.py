"""Informational exchanges (RFC 2408 §4.8, RFC 2409 §5.7): notifies and deletes protected by HASH(1).

Before phase 1 has keys, error notifies travel in the clear; they are unauthenticated, so the connection
only believes them while a negotiation with matching cookies is waiting for the peer.
"""

from __future__ import annotations

from collections.abc import Sequence

from wizard.engine.ike.payloads import ExchangeType, Payload, encode_chain
from wizard.engine.ike.v1 import keys as kdf
from wizard.engine.ike.v1.constants import NotifyType, PayloadType, ProtocolId
from wizard.engine.ike.v1.messages import DeletePayload, NotifyPayload
from wizard.engine.ike.v1.sa import IsakmpSA, encode_message


def protected(sa: IsakmpSA, mid: int, payloads: Sequence[Payload], exchange: int = ExchangeType.INFORMATIONAL) -> bytes:
    """HDR*, HASH(1), payloads: an informational (or transaction) message on an ISAKMP SA with keys."""
    assert sa.suite is not None and sa.keys is not None
    _, body = encode_chain(list(payloads))
    digest = kdf.qm_hash1(sa.suite.hash, sa.keys.skeyid_a, mid, body)
    return sa.encrypt(exchange, mid, [Payload(PayloadType.HASH, digest), *payloads])


def notify(notify_type: int, protocol: int = ProtocolId.ISAKMP, spi: bytes = b"", data: bytes = b"") -> Payload:
    return Payload(PayloadType.NOTIFY, NotifyPayload(notify_type, protocol, spi, data).encode())


def delete_isakmp(sa: IsakmpSA) -> Payload:
    return Payload(PayloadType.DELETE, DeletePayload(ProtocolId.ISAKMP, (sa.cookies,)).encode())


def delete_esp(spis: Sequence[bytes]) -> Payload:
    return Payload(PayloadType.DELETE, DeletePayload(ProtocolId.ESP, tuple(spis)).encode())


def plain_notify(cky_i: bytes, cky_r: bytes, notify_type: int) -> bytes:
    """An unprotected error notify (phase 1 before keys exist)."""
    return encode_message(cky_i, cky_r, ExchangeType.INFORMATIONAL, 0, [notify(notify_type, ProtocolId.ISAKMP, cky_i + cky_r)])


def dpd_notify(sa: IsakmpSA, ack: bool, seq: int) -> Payload:
    kind = NotifyType.R_U_THERE_ACK if ack else NotifyType.R_U_THERE
    return notify(kind, ProtocolId.ISAKMP, sa.cookies, seq.to_bytes(4, "big"))
