"""Hypothesis: ISAKMP/IKEv1 parsers raise only ParseError; connections never raise on received bytes.

The deep cases forge properly encrypted and hashed messages with the initiator's keys, so fuzzed
payload bodies reach the notify, delete, attribute and Quick Mode parsers behind the crypto.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.pairs.ikev1_harness import Pair, client_config, gateway_config
from wizard.engine.errors import ParseError
from wizard.engine.ike.payloads import (
    ExchangeType,
    Payload,
    decode_attributes,
    decode_chain,
    decode_header,
    encode_chain,
)
from wizard.engine.ike.v1 import informational as info
from wizard.engine.ike.v1.connection import IKEv1Connection, State
from wizard.engine.ike.v1.constants import PayloadType
from wizard.engine.ike.v1.der import name_to_text
from wizard.engine.ike.v1.events import ChildSAUp
from wizard.engine.ike.v1.identities import TrafficSelector
from wizard.engine.ike.v1.messages import (
    AttributePayload,
    CertPayload,
    DeletePayload,
    IdPayload,
    NotifyPayload,
    Proposal,
    SAPayload,
    Transform,
)
from wizard.engine.ike.v1.proposals import parse_esp_transform, parse_phase1_transform

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
DEEP = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

payload_types = st.one_of(st.sampled_from([int(t) for t in PayloadType]), st.integers(0, 255))


def only_parse_error(fn: Callable[[], Any]) -> None:
    with contextlib.suppress(ParseError):
        fn()


@given(st.binary(max_size=120))
@FUZZ
def test_header_and_chain(data: bytes) -> None:
    only_parse_error(lambda: decode_header(data))
    for first in (1, 8, 46):
        only_parse_error(lambda first=first: decode_chain(first, data, allow_trailing=True, stop_types=frozenset({46})))
    only_parse_error(lambda: decode_attributes(data))


@given(st.binary(max_size=80))
@FUZZ
def test_v1_payload_bodies(body: bytes) -> None:
    for cls in (SAPayload, Proposal, Transform, IdPayload, CertPayload, NotifyPayload, DeletePayload, AttributePayload):
        only_parse_error(lambda cls=cls: cls.decode(body))
    only_parse_error(lambda: name_to_text(body))
    for id_type in (1, 4, 5, 6, 7, 8):
        only_parse_error(lambda t=id_type: TrafficSelector.from_payload(IdPayload(t, body)))


@given(st.integers(0, 255), st.lists(st.tuples(st.integers(0, 0x7FFF), st.integers(0, 0xFFFF)), max_size=8))
@FUZZ
def test_transform_attribute_values(tid: int, attrs: list[tuple[int, int]]) -> None:
    from wizard.engine.ike.payloads import Attribute

    t = Transform(1, tid, tuple(Attribute.number(a, v) for a, v in attrs))
    parse_phase1_transform(t)
    parse_esp_transform(t)


@st.composite
def chains(draw: st.DrawFn) -> bytes:
    parts = draw(st.lists(st.tuples(payload_types, st.binary(max_size=40)), min_size=1, max_size=6))
    _, raw = encode_chain([Payload(t, b) for t, b in parts])
    return bytes([parts[0][0]]) + raw


@st.composite
def datagrams(draw: st.DrawFn, cookies: bytes) -> bytes:
    """Plausible ISAKMP messages: our cookies (sometimes), a known exchange, a payload chain."""
    spis = cookies if draw(st.booleans()) else draw(st.binary(min_size=16, max_size=16))
    exchange = draw(st.sampled_from([1, 2, 4, 5, 6, 32, 34, 99]))
    flags = draw(st.sampled_from([0, 1, 3]))
    mid = draw(st.sampled_from([0, 1, 0xFFFFFFFF]))
    body = draw(chains())
    first, rest = body[0], body[1:]
    if draw(st.booleans()):
        rest = rest[: draw(st.integers(0, len(rest)))]
    length = 28 + len(rest)
    return spis + bytes([first, 0x10, exchange, flags]) + mid.to_bytes(4, "big") + length.to_bytes(4, "big") + rest


def _fresh_initiator() -> IKEv1Connection:
    conn = IKEv1Connection("initiator", client_config(dpd_interval=None))
    conn.connect(0.0)
    conn.datagrams_to_send()
    return conn


@given(st.data())
@FUZZ
def test_receive_never_raises_before_keys(data: st.DataObject) -> None:
    conn = _fresh_initiator()
    ike = next(iter(conn._sas.values()))
    responder = IKEv1Connection("responder", gateway_config(dpd_interval=None))
    for _ in range(3):
        raw = data.draw(st.one_of(st.binary(max_size=120), datagrams(ike.cky_i + bytes(8))))
        port = data.draw(st.sampled_from([500, 4500]))
        conn.receive_datagram(raw, 1.0, local_port=port)
        responder.receive_datagram(raw, 1.0, local_port=port, remote_address="192.0.2.10", remote_port=500)
    conn.handle_timer(100.0)
    responder.handle_timer(100.0)


_PAIR: list[Pair] = []


def _established() -> Pair:
    if _PAIR and _PAIR[0].r.state is State.ESTABLISHED and _PAIR[0].i.state is State.ESTABLISHED:
        return _PAIR[0]
    _PAIR.clear()
    p = Pair(client_config(dpd_interval=None, ike_proposals=("aes128-sha1-modp1024",), allow_legacy=True),
             gateway_config(dpd_interval=None, ike_proposals=("aes128-sha1-modp1024",), allow_legacy=True))  # fmt: skip
    p.start()
    p.run(60, stop=lambda q: bool(q.events("i", ChildSAUp)) and bool(q.events("r", ChildSAUp)))
    assert p.r.state is State.ESTABLISHED
    _PAIR.append(p)
    return p


@given(
    exchange=st.sampled_from([ExchangeType.INFORMATIONAL, ExchangeType.TRANSACTION, ExchangeType.QUICK_MODE]),
    parts=st.lists(st.tuples(st.sampled_from([1, 4, 5, 8, 10, 11, 12, 14, 20, 21, 130, 99]), st.binary(max_size=48)), max_size=5),
    valid_hash=st.booleans(),
)
@DEEP
def test_protected_messages_with_fuzzed_payloads(exchange: int, parts: list[tuple[int, bytes]], valid_hash: bool) -> None:
    p = _established()
    sa = p.i.ike_sa
    assert sa is not None
    payloads = [Payload(t, b) for t, b in parts]
    mid = int.from_bytes(p.icfg.random_bytes(4), "big") or 1
    if valid_hash:
        raw = info.protected(sa, mid, payloads, exchange)
    else:
        raw = sa.encrypt(exchange, mid, [Payload(PayloadType.HASH, bytes(20)), *payloads])
    p.r.receive_datagram(raw, p.now, local_port=500, remote_address="192.0.2.10", remote_port=500)
    p.r.handle_timer(p.now + 1)
    assert p.r.datagrams_to_send() is not None


@given(st.binary(min_size=1, max_size=64), st.integers(0, 200))
@DEEP
def test_corrupted_protected_messages(noise: bytes, where: int) -> None:
    p = _established()
    sa = p.i.ike_sa
    assert sa is not None
    mid = int.from_bytes(p.icfg.random_bytes(4), "big") or 1
    raw = bytearray(info.protected(sa, mid, [info.notify(36136, 1, sa.cookies, b"\x00\x00\x00\x01")]))
    pos = where % len(raw)
    raw[pos : pos + len(noise)] = noise
    p.r.receive_datagram(bytes(raw), p.now, local_port=500)
    p.i.receive_datagram(bytes(raw), p.now, local_port=500)
