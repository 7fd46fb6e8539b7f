"""Unit tests: the shared ISAKMP header/payload/attribute codec and the IKEv1 payload bodies."""

from __future__ import annotations

import pytest

from wizard.engine.errors import ParseError
from wizard.engine.ike.payloads import (
    Attribute,
    ExchangeType,
    Header,
    Payload,
    decode_attributes,
    decode_chain,
    decode_header,
    encode_attributes,
    encode_chain,
    encode_payload_raw,
)
from wizard.engine.ike.v1.constants import CfgAttr, CfgType, NotifyType, PayloadType, ProtocolId
from wizard.engine.ike.v1.der import name_to_text
from wizard.engine.ike.v1.identities import Identity, TrafficSelector
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

CKY_I = bytes.fromhex("0102030405060708")
CKY_R = bytes.fromhex("a1a2a3a4a5a6a7a8")


def test_header_roundtrip_and_layout() -> None:
    h = Header(CKY_I, CKY_R, PayloadType.HASH, ExchangeType.QUICK_MODE, 0x01, 0xAABBCCDD, 76)
    raw = h.encode()
    # RFC 2408 §3.1: cookies, next payload, version 1.0 = 0x10, exchange, flags, message id, length.
    assert raw == CKY_I + CKY_R + bytes([8, 0x10, 32, 1]) + bytes.fromhex("aabbccdd") + (76).to_bytes(4, "big")
    assert decode_header(raw + bytes(48)) == h


def test_ikev2_header_uses_the_same_codec() -> None:
    h = Header(CKY_I, bytes(8), 33, ExchangeType.IKE_SA_INIT, 0x08, 0, 28, major_version=2)
    back = decode_header(h.encode())
    assert back.major_version == 2 and back.minor_version == 0 and back.exchange_type == 34


@pytest.mark.parametrize("data", [b"", bytes(27), CKY_I + CKY_R + bytes(8) + (27).to_bytes(4, "big"),
                                  CKY_I + CKY_R + bytes(8) + (29).to_bytes(4, "big")])  # fmt: skip
def test_header_rejects_bad_lengths(data: bytes) -> None:
    with pytest.raises(ParseError):
        decode_header(data)


def test_chain_roundtrip_with_spans() -> None:
    payloads = [Payload(PayloadType.HASH, b"h" * 20), Payload(PayloadType.NONCE, b"n" * 16), Payload(PayloadType.VENDOR_ID, b"")]
    first, raw = encode_chain(payloads)
    assert first == PayloadType.HASH
    chain = decode_chain(first, raw)
    assert chain.payloads == tuple(payloads)
    assert chain.spans == ((0, 24), (24, 44), (44, 48)) and chain.end == 48
    assert raw[24:] == encode_payload_raw(payloads[1], PayloadType.VENDOR_ID) + encode_payload_raw(payloads[2], 0)


def test_chain_padding_and_stop_types() -> None:
    first, raw = encode_chain([Payload(1, b"abcd")])
    with pytest.raises(ParseError):
        decode_chain(first, raw + b"\x00\x00\x00")
    assert decode_chain(first, raw + b"\x00\x00\x00", allow_trailing=True).trailing == 3
    first, raw = encode_chain([Payload(46, b"sk")], next_after_last=35)
    chain = decode_chain(first, raw, stop_types=frozenset({46}))
    assert chain.next_after == 35 and chain.payloads[0].body == b"sk"


@pytest.mark.parametrize("raw", [b"\x00\x00\x00\x03", b"\x00\x00\x00\x09abc", b"\x00\x00"])
def test_chain_rejects_bad_lengths(raw: bytes) -> None:
    with pytest.raises(ParseError):
        decode_chain(1, raw)


def test_chain_payload_limit() -> None:
    raw = b"".join(encode_payload_raw(Payload(13, b""), 13) for _ in range(70))
    with pytest.raises(ParseError, match="more than"):
        decode_chain(13, raw)


def test_attributes_tv_and_tlv() -> None:
    attrs = [Attribute.tv(1, 7), Attribute.number(12, 28800), Attribute.number(12, 86400), Attribute.tlv(16521, b"alice")]
    raw = encode_attributes(attrs)
    # RFC 2408 §3.3: AF bit set = TV with the value in the header.
    assert raw[:4] == bytes.fromhex("80010007") and raw[4:8] == bytes.fromhex("800c7080")
    assert raw[8:15] == bytes.fromhex("000c0003015180")
    back = decode_attributes(raw)
    assert back == attrs and back[2].int_value == 86400
    with pytest.raises(ParseError):
        decode_attributes(bytes.fromhex("000c0004aabb"))
    with pytest.raises(ValueError):
        Attribute.tv(1, 70000)


def test_sa_payload_roundtrip() -> None:
    t = Transform(1, 1, (Attribute.tv(1, 7), Attribute.tv(14, 256)))
    sa = SAPayload((Proposal(1, ProtocolId.ISAKMP, b"", (t, Transform(2, 1, ()))),))
    back = SAPayload.decode(sa.encode())
    assert back == sa and back.proposals[0].transforms[0].get(14) == 256 and t.get(99) is None


@pytest.mark.parametrize("body", [
    bytes.fromhex("00000002 00000001"),  # DOI not IPsec
    bytes.fromhex("00000001 00000001"),  # no proposals
    bytes.fromhex("00000001 00000001 00000008 01010002"),  # proposal claims 2 transforms, has 0
])  # fmt: skip
def test_sa_payload_rejects(body: bytes) -> None:
    with pytest.raises(ParseError):
        SAPayload.decode(body)


def test_small_payload_bodies_roundtrip() -> None:
    for obj in (
        IdPayload(1, bytes([10, 0, 0, 1]), 17, 1701),
        CertPayload(4, b"der"),
        NotifyPayload(NotifyType.R_U_THERE, ProtocolId.ISAKMP, CKY_I + CKY_R, (5).to_bytes(4, "big")),
        DeletePayload(ProtocolId.ESP, (b"\x00\x00\x10\x00", b"\x00\x00\x20\x00")),
        AttributePayload(CfgType.REQUEST, 7, (Attribute.tlv(CfgAttr.INTERNAL_IP4_ADDRESS, b""),)),
    ):
        assert type(obj).decode(obj.encode()) == obj
    with pytest.raises(ParseError):
        DeletePayload.decode(DeletePayload(3, (b"1234",)).encode() + b"x")
    with pytest.raises(ValueError):
        DeletePayload(3, (b"1234", b"12")).encode()


def test_identities() -> None:
    assert Identity.parse("10.77.0.2") == Identity(1, bytes([10, 77, 0, 2]))
    assert Identity.parse("user@example.com").id_type == 3
    assert Identity.parse("vpn.example.com").describe() == "host name vpn.example.com"
    dn = Identity.parse("C=XX, O=vmlab, CN=client.vmlab")
    assert dn.id_type == 9 and name_to_text(dn.data) == "C=XX, O=vmlab, CN=client.vmlab"
    assert str(dn) == "C=XX, O=vmlab, CN=client.vmlab"
    assert str(Identity.parse("2001:db8::1")) == "2001:db8::1"


def test_traffic_selector_payload_forms() -> None:
    host = TrafficSelector.host("10.0.0.1", 17, 1701)
    net = TrafficSelector.network("10.0.0.0/24")
    rng = TrafficSelector(net.start, TrafficSelector.host("10.0.0.9").start)
    assert host.to_payload() == IdPayload(1, bytes([10, 0, 0, 1]), 17, 1701)
    assert net.to_payload() == IdPayload(4, bytes([10, 0, 0, 0, 255, 255, 255, 0]))
    assert rng.to_payload().id_type == 7
    six = TrafficSelector.network("2001:db8::/32")
    for ts in (host, net, rng, six, TrafficSelector.network("0.0.0.0/0")):
        assert TrafficSelector.from_payload(ts.to_payload()) == ts
    assert net.contains(host) and not host.contains(net) and not host.contains(TrafficSelector.host("10.0.0.1", 6))
    assert str(net) == "10.0.0.0/24" and str(host) == "10.0.0.1[17/1701]"


@pytest.mark.parametrize("payload", [IdPayload(2, b"host"), IdPayload(1, b"123"), IdPayload(4, bytes([10, 0, 0, 0, 255, 0, 255, 0])),
                                     IdPayload(7, bytes([10, 0, 0, 9, 10, 0, 0, 1]))])  # fmt: skip
def test_traffic_selector_rejects(payload: IdPayload) -> None:
    with pytest.raises(ParseError):
        TrafficSelector.from_payload(payload)
