"""Hypothesis: IKEv2 and EAP parsers raise only ParseError; connections never raise on received bytes.

The deep cases seal messages with the real keys of an established pair, so fuzzed payload chains get
past the integrity check and reach the SA, TS, notify, delete, CP and EAP handling behind it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.pairs.ikev2_harness import Pair, client_config, gateway_config, pki
from wizard.engine.errors import ParseError
from wizard.engine.ike.payloads import ExchangeType, Header, Payload, V2Flags, encode_chain
from wizard.engine.ike.v2 import cp
from wizard.engine.ike.v2 import events as ev
from wizard.engine.ike.v2.auth import AuthFailure, decode_hash_algorithms, load_certificates, verify
from wizard.engine.ike.v2.connection import IKEv2Connection, State
from wizard.engine.ike.v2.constants import NotifyType, PayloadType, ProtocolId
from wizard.engine.ike.v2.eap import EapAuthenticator, EapPeer, parse_eap, parse_ms
from wizard.engine.ike.v2.messages import (
    AuthPayload,
    CertPayload,
    CertReqPayload,
    CPPayload,
    DeletePayload,
    FragmentHeader,
    IdPayload,
    KEPayload,
    NotifyPayload,
    SAPayload,
    TSPayload,
    decode_nonce,
)
from wizard.engine.ike.v2.ts import decode_ts


def _examples(default: int) -> int:
    """IKEV2_FUZZ_EXAMPLES=2000 runs a deeper search by hand; the default keeps the suite quick."""
    return int(os.environ.get("IKEV2_FUZZ_EXAMPLES", default))


FUZZ = settings(max_examples=_examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
DEEP = settings(max_examples=_examples(250), deadline=None, suppress_health_check=[HealthCheck.too_slow])
FRESH = settings(max_examples=_examples(120), deadline=None, suppress_health_check=[HealthCheck.too_slow])  # a new pair each example
FAST_IKE = ("aes128-sha256-ecp256",)

payload_types = st.one_of(st.sampled_from([int(t) for t in PayloadType if t]), st.integers(0, 255))


def only_parse_error(fn: Callable[[], Any]) -> None:
    with contextlib.suppress(ParseError):
        fn()


@given(st.binary(max_size=120))
@FUZZ
def test_v2_payload_bodies(body: bytes) -> None:
    for cls in (SAPayload, KEPayload, IdPayload, CertPayload, CertReqPayload, AuthPayload, NotifyPayload, DeletePayload,
                TSPayload, CPPayload, FragmentHeader):  # fmt: skip
        only_parse_error(lambda cls=cls: cls.decode(body))
    only_parse_error(lambda: decode_ts(body))
    only_parse_error(lambda: decode_nonce(body))
    only_parse_error(lambda: decode_hash_algorithms(body))
    only_parse_error(lambda: cp.parse_reply(CPPayload.decode(body)))


@st.composite
def sa_bodies(draw: st.DrawFn) -> bytes:
    """Structurally plausible SA payloads (right markers and lengths, odd values inside)."""
    proposals = []
    count = draw(st.integers(1, 3))
    for n in range(count):
        transforms = []
        tcount = draw(st.integers(0, 5))
        for i in range(tcount):
            attrs = draw(st.sampled_from([b"", b"\x80\x0e\x01\x00", b"\x80\x0e\x00\x80", b"\x00\x0e\x00\x01\x07", b"\x80\x01\x00\x01"]))
            ttype, tid = draw(st.integers(0, 6)), draw(st.sampled_from([0, 2, 3, 5, 12, 14, 19, 20, 31, 1024]))
            last = 0 if i == tcount - 1 else 3
            transforms.append(bytes([last, 0]) + (8 + len(attrs)).to_bytes(2, "big") + bytes([ttype, 0]) + tid.to_bytes(2, "big") + attrs)
        spi = draw(st.sampled_from([b"", b"\x01\x02\x03\x04", bytes(8)]))
        body = b"".join(transforms)
        last = 0 if n == count - 1 else 2
        proposals.append(bytes([last, 0]) + (8 + len(spi) + len(body)).to_bytes(2, "big")
                         + bytes([n + 1, draw(st.sampled_from([1, 3, 2, 9])), len(spi), tcount]) + spi + body)  # fmt: skip
    return b"".join(proposals)


@given(sa_bodies())
@FUZZ
def test_structured_sa_payloads(body: bytes) -> None:
    from wizard.engine.ike.v2.proposals import (
        accept_esp,
        accept_ike,
        choose_esp,
        choose_ike,
        describe_sa,
        profile_proposals,
    )

    try:
        sa = SAPayload.decode(body)
    except ParseError:
        return
    ike = profile_proposals(("aes256-sha256-modp2048", "aes128gcm16-prfsha256-ecp256"), "ike")
    esp = profile_proposals(("aes256-sha256-modp2048", "aes128gcm16"), "esp")
    describe_sa(sa)
    choose_ike(sa, ike, ke_group=14)
    choose_esp(sa, esp, dh_required=False)
    choose_esp(sa, esp, dh_required=None)
    accept_ike(sa, sa)
    accept_esp(sa, sa, pfs=None)


@given(st.binary(max_size=300))
@FUZZ
def test_signature_and_certificate_checks_fail_plainly(data: bytes) -> None:
    key = pki().gateway_key.public_key()
    for method in (1, 9, 14, 2, 200):
        with contextlib.suppress(AuthFailure):
            verify(AuthPayload(method, data or b"\x00"), key, b"octets", "the gateway")
    with contextlib.suppress(AuthFailure):
        load_certificates([CertPayload(4, data)], "the gateway")


# --- EAP ----------------------------------------------------------------------------------------------


@st.composite
def eap_messages(draw: st.DrawFn) -> bytes:
    code = draw(st.sampled_from([1, 2, 3, 4, 5]))
    ident = draw(st.integers(0, 255))
    eap_type = draw(st.sampled_from([1, 2, 3, 4, 26, 99]))
    if eap_type == 26:
        opcode = draw(st.sampled_from([1, 2, 3, 4, 7]))
        inner = draw(st.binary(max_size=60))
        ms_len = draw(st.sampled_from([4 + len(inner), len(inner), 0, 200]))
        data = bytes([opcode, draw(st.integers(0, 255))]) + ms_len.to_bytes(2, "big") + inner
    else:
        data = draw(st.binary(max_size=60))
    body = bytes([eap_type]) + data if code in (1, 2) else b""
    length = draw(st.sampled_from([4 + len(body), len(body), 3, 300]))
    return bytes([code, ident]) + length.to_bytes(2, "big") + body


@given(st.one_of(st.binary(max_size=100), eap_messages()))
@FUZZ
def test_eap_parser(msg: bytes) -> None:
    only_parse_error(lambda: parse_eap(msg))
    only_parse_error(lambda: parse_ms(msg))


@given(st.lists(st.one_of(st.binary(max_size=100), eap_messages()), min_size=1, max_size=4))
@FUZZ
def test_eap_peer_and_authenticator_raise_only_parse_error(msgs: list[bytes]) -> None:
    peer = EapPeer("alice", "pw", ("mschapv2", "md5"), bytes)
    auth = EapAuthenticator({"alice": "pw"}, ("mschapv2", "md5"), "gw", lambda n: bytes(range(n)))
    auth.start(0.0)
    for m in msgs:
        only_parse_error(lambda m=m: peer.handle(m, 1.0))
        only_parse_error(lambda m=m: auth.handle(m, 1.0))
    _ = (peer.done, peer.succeeded, peer.msk, auth.msk, auth.username)


# --- connections ---------------------------------------------------------------------------------------


@st.composite
def chains(draw: st.DrawFn) -> tuple[int, bytes]:
    parts = draw(st.lists(st.tuples(payload_types, st.binary(max_size=40)), min_size=1, max_size=6))
    first, raw = encode_chain([Payload(t, b) for t, b in parts])
    return first, raw


@st.composite
def datagrams(draw: st.DrawFn, spi_i: bytes) -> bytes:
    spis = spi_i + bytes(8) if draw(st.booleans()) else draw(st.binary(min_size=16, max_size=16))
    exchange = draw(st.sampled_from([34, 35, 36, 37, 5, 99]))
    flags = draw(st.sampled_from([0, 8, 0x20, 0x28]))
    mid = draw(st.sampled_from([0, 1, 0xFFFFFFFF]))
    first, rest = draw(chains())
    if draw(st.booleans()):
        rest = rest[: draw(st.integers(0, len(rest)))]
    version = draw(st.sampled_from([0x20, 0x10, 0x21]))
    return spis + bytes([first, version, exchange, flags]) + mid.to_bytes(4, "big") + (28 + len(rest)).to_bytes(4, "big") + rest


@given(st.data())
@FUZZ
def test_receive_never_raises_before_keys(data: st.DataObject) -> None:
    conn = IKEv2Connection("initiator", client_config(dpd_interval=None))
    conn.connect(0.0)
    conn.datagrams_to_send()
    assert conn._init is not None
    spi = conn._init.sa.spi_i
    responder = IKEv2Connection("responder", gateway_config(dpd_interval=None, require_cookie=data.draw(st.booleans())))
    for _ in range(3):
        raw = data.draw(st.one_of(st.binary(max_size=120), datagrams(spi)))
        port = data.draw(st.sampled_from([500, 4500]))
        if port == 4500 and data.draw(st.booleans()):
            raw = bytes(4) + raw
        conn.receive_datagram(raw, 1.0, local_port=port)
        responder.receive_datagram(raw, 1.0, local_port=port, remote_address="192.0.2.10", remote_port=500)
    conn.handle_timer(100.0)
    responder.handle_timer(100.0)


_PAIR: list[Pair] = []


def _established() -> Pair:
    if _PAIR and _PAIR[0].r.state is State.ESTABLISHED and _PAIR[0].i.state is State.ESTABLISHED:
        return _PAIR[0]
    _PAIR.clear()
    p = Pair(client_config(dpd_interval=None), gateway_config(dpd_interval=None))
    p.start()
    p.run(30, lambda q: q.up())
    assert p.up()
    _PAIR.append(p)
    return p


_INNER = st.lists(
    st.one_of(
        st.tuples(payload_types, st.binary(max_size=48)),
        st.tuples(st.just(int(PayloadType.SA)), sa_bodies()),
        st.tuples(st.just(int(PayloadType.NOTIFY)), st.builds(
            lambda t, spi, d: NotifyPayload(t, d, ProtocolId.ESP if spi else 0, spi).encode(),
            st.sampled_from([int(n) for n in NotifyType]), st.sampled_from([b"", b"\x01\x02\x03\x04"]), st.binary(max_size=24))),
        st.tuples(st.just(int(PayloadType.DELETE)), st.sampled_from([
            DeletePayload(ProtocolId.ESP, (b"\x00\x00\x01\x00",)).encode(), b"\x03\x04\x00\x02\x00", b"\x01\x00\x00\x00"])),
        st.tuples(st.just(int(PayloadType.TSI)), st.binary(max_size=40)),
        st.tuples(st.just(int(PayloadType.NONCE)), st.binary(min_size=14, max_size=40)),
    ),
    max_size=6,
)  # fmt: skip


@given(st.sampled_from([ExchangeType.CREATE_CHILD_SA, ExchangeType.INFORMATIONAL_V2, ExchangeType.IKE_AUTH]), _INNER,
       st.booleans(), st.booleans())  # fmt: skip
@DEEP
def test_sealed_fuzz_reaches_the_handlers(exchange: int, parts: list[tuple[int, bytes]], to_gateway: bool, response: bool) -> None:
    p = _established()
    sender, receiver = (p.i, p.r) if to_gateway else (p.r, p.i)
    sa_s, sa_r = sender.ike_sa, receiver.ike_sa
    assert sa_s is not None and sa_r is not None and sa_s.out is not None
    first, plain = encode_chain([Payload(t, b) for t, b in parts]) if parts else (0, b"")
    mid = sa_r.next_mid - 1 if response else sa_r.peer_mid
    flags = (V2Flags.INITIATOR if sa_s.initiator else 0) | (V2Flags.RESPONSE if response else 0)
    header = Header(sa_s.spi_i, sa_s.spi_r, PayloadType.SK, exchange, int(flags), max(mid, 0), 0, 2, 0)
    for d in sa_s.out.seal(header, first, plain):
        port = receiver.local_port
        receiver.receive_datagram((bytes(4) if port == 4500 else b"") + d, p.now, local_port=port,
                                  remote_address=sender.local_address, remote_port=sender.local_port)  # fmt: skip
    receiver.handle_timer(p.now + 1000)
    for e in iter(receiver.next_event, None):
        assert isinstance(e, ev.Event)
    receiver.datagrams_to_send()


def _seal_response(p: Pair, sender: IKEv2Connection, receiver: IKEv2Connection, exchange: int,
                   parts: list[tuple[int, bytes]]) -> None:  # fmt: skip
    req = receiver._request
    assert req is not None
    sa = req.sa
    peer_sa = sender._sas.get(sa.key())
    assert peer_sa is not None and peer_sa.out is not None
    first, plain = encode_chain([Payload(t, b) for t, b in parts]) if parts else (0, b"")
    flags = (V2Flags.INITIATOR if peer_sa.initiator else 0) | V2Flags.RESPONSE
    header = Header(sa.spi_i, sa.spi_r, PayloadType.SK, exchange, int(flags), req.mid, 0, 2, 0)
    for d in peer_sa.out.seal(header, first, plain):
        port = receiver.local_port
        receiver.receive_datagram((bytes(4) if port == 4500 else b"") + d, p.now, local_port=port,
                                  remote_address=sender.local_address, remote_port=sender.local_port)  # fmt: skip
    receiver.handle_timer(p.now + 1000)
    for e in iter(receiver.next_event, None):
        assert isinstance(e, ev.Event)


_EAP_PARTS = st.lists(st.one_of(st.tuples(st.just(int(PayloadType.EAP)), eap_messages()),
                                st.tuples(st.sampled_from([int(PayloadType.IDR), int(PayloadType.AUTH), int(PayloadType.CERT),
                                                           int(PayloadType.CP), int(PayloadType.TSR)]), st.binary(max_size=48))),
                      max_size=5)  # fmt: skip


@given(st.sampled_from(["child", "ike", "liveness"]), st.one_of(_INNER, _EAP_PARTS))
@FRESH
def test_sealed_fuzz_answers_our_requests(kind: str, parts: list[tuple[int, bytes]]) -> None:
    """Responses to a child rekey, an IKE rekey and a liveness check, with fuzzed contents."""
    p = Pair(client_config(dpd_interval=None, ike_proposals=FAST_IKE), gateway_config(dpd_interval=None, ike_proposals=FAST_IKE))
    p.start()
    p.run(30, lambda q: q.up())
    if kind == "child":
        assert p.i.rekey_child(p.now)
        exchange = ExchangeType.CREATE_CHILD_SA
    elif kind == "ike":
        assert p.i.rekey_ike(p.now)
        exchange = ExchangeType.CREATE_CHILD_SA
    else:
        p.i._informational(p.i.ike_sa, [], p.now, "liveness")  # type: ignore[arg-type]
        exchange = ExchangeType.INFORMATIONAL_V2
    p.i.datagrams_to_send()
    _seal_response(p, p.r, p.i, exchange, parts)


@given(st.booleans(), _EAP_PARTS)
@FRESH
def test_sealed_fuzz_answers_ike_auth(eap: bool, parts: list[tuple[int, bytes]]) -> None:
    """A fuzzed IKE_AUTH response (PSK or EAP client) behind valid keys."""
    k = pki()
    icfg = (client_config(auth="eap", psk=None, eap_username="alice", eap_password="pw", ca_certificates=(k.ca,),
                          ike_proposals=FAST_IKE) if eap else client_config(ike_proposals=FAST_IKE))  # fmt: skip
    p = Pair(icfg, gateway_config(auth="cert", certificate=k.gateway, private_key=k.gateway_key, eap_users={"alice": "pw"},
                                  ike_proposals=FAST_IKE) if eap else gateway_config(ike_proposals=FAST_IKE))  # fmt: skip
    p.start()
    p.run(5, lambda q: q.i.state is State.AUTH and q.r.ike_sa is not None)
    p.cut = True
    p.i.datagrams_to_send()
    _seal_response(p, p.r, p.i, ExchangeType.IKE_AUTH, parts)
