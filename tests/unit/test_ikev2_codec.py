"""IKEv2 building blocks: the Encrypted payload and fragments, traffic selectors, proposals, the
configuration payload, signatures and certificates, EAP with its MSK, and config validation."""

from __future__ import annotations

import random

import pytest

from tests.pairs.ikev2_harness import GATEWAY, NOW, pki
from wizard.engine.crypto.suites import AuthenticationFailed, cipher, dh_group, integrity
from wizard.engine.errors import ParseError
from wizard.engine.ike.payloads import Header, Payload, decode_chain, decode_header, encode_chain
from wizard.engine.ike.v1.identities import Identity, TrafficSelector
from wizard.engine.ike.v2 import cp
from wizard.engine.ike.v2.auth import AuthFailure, ca_hash, certreq_payload, check_certificate, sign, verify
from wizard.engine.ike.v2.config import AddressLease, ChildConfig, IKEv2Config
from wizard.engine.ike.v2.constants import AuthMethod, CfgAttr, CfgType, PayloadType, TransformType
from wizard.engine.ike.v2.eap import EapAuthenticator, EapPeer
from wizard.engine.ike.v2.messages import CfgAttribute, CPPayload, SAPayload
from wizard.engine.ike.v2.proposals import (
    accept_esp,
    accept_ike,
    choose_esp,
    choose_ike,
    describe_sa,
    esp_sa_payload,
    ike_sa_payload,
    profile_proposals,
)
from wizard.engine.ike.v2.protect import Opened, Protector, Reassembly
from wizard.engine.ike.v2.ts import Selector, decode_ts, encode_ts, narrow, within

# --- the Encrypted payload ---------------------------------------------------------------------------


def _protector(cipher_name: str, integ: str | None, seed: int = 1) -> Protector:
    c = cipher(cipher_name)
    i = integrity(integ) if integ else None
    key = bytes(range(c.keymat_size))
    return Protector(c.bind(key), i.bind(bytes(range(i.key_size))) if i else None, random.Random(seed).randbytes)


HDR = Header(b"\x11" * 8, b"\x22" * 8, PayloadType.SK, 35, 0x08, 1, 0, 2, 0)
INNER = [Payload(PayloadType.IDI, b"\x01\x00\x00\x00\x0a\x00\x00\x01"), Payload(PayloadType.AUTH, b"\x02\x00\x00\x00" + bytes(32))]


@pytest.mark.parametrize(("c", "i"), [("aes256", "sha256"), ("aes128", "sha1"), ("aes256gcm16", None), ("aes128gcm8", None),
                                      ("aes128ctr", "sha256"), ("3des", "sha1")])  # fmt: skip
def test_seal_and_open_round_trip(c: str, i: str | None) -> None:
    first, plain = encode_chain(INNER)
    (msg,) = _protector(c, i).seal(HDR, first, plain)
    header = decode_header(msg)
    assert header.length == len(msg) and header.next_payload == PayloadType.SK
    opened = _protector(c, i, seed=2).open(header, msg)
    assert opened.first_inner == PayloadType.IDI and decode_chain(opened.first_inner, opened.plaintext).payloads == tuple(INNER)


@pytest.mark.parametrize(("c", "i"), [("aes256", "sha256"), ("aes256gcm16", None)])
def test_tampering_is_detected(c: str, i: str | None) -> None:
    first, plain = encode_chain(INNER)
    (msg,) = _protector(c, i).seal(HDR, first, plain)
    for at in (5, 20, 40, len(msg) - 20, len(msg) - 1):  # header (authenticated data), IV, body, ICV
        bad = bytearray(msg)
        bad[at] ^= 1
        with pytest.raises(AuthenticationFailed):
            _protector(c, i).open(decode_header(bytes(bad)), bytes(bad))
    bad = bytearray(msg)
    bad[30] ^= 0x40  # the Encrypted payload's length: no longer fits the message
    with pytest.raises(ParseError):
        _protector(c, i).open(decode_header(bytes(bad)), bytes(bad))


def test_fragments_stay_under_the_limit_and_reassemble_in_any_order() -> None:
    first, plain = encode_chain([Payload(PayloadType.CERT, bytes(range(256)) * 8), *INNER])
    prot = _protector("aes256", "sha256")
    frags = prot.seal(HDR, first, plain, max_size=500)
    assert len(frags) > 3 and all(len(f) <= 500 for f in frags)
    opened = [prot.open(decode_header(f), f) for f in frags]
    assert [o.fragment.number for o in opened if o.fragment] == list(range(1, len(frags) + 1))
    assert opened[0].first_inner == PayloadType.CERT and all(o.first_inner == 0 for o in opened[1:])
    buf = Reassembly(len(frags))
    order = [*reversed(opened), opened[2]]  # reversed, plus a duplicate
    results = [buf.add(o) for o in order]
    assert results[: len(frags) - 1] == [None] * (len(frags) - 1)
    assert results[len(frags) - 1] == plain and buf.first_inner == PayloadType.CERT


def test_fragments_of_gcm_messages() -> None:
    first, plain = encode_chain([Payload(PayloadType.CERT, bytes(3000))])
    prot = _protector("aes128gcm16", None)
    frags = prot.seal(HDR, first, plain, max_size=700)
    buf = Reassembly(len(frags))
    out = None
    for f in frags:
        out = buf.add(prot.open(decode_header(f), f))
    assert out == plain


def test_a_small_message_is_not_fragmented() -> None:
    first, plain = encode_chain(INNER)
    assert len(_protector("aes256", "sha256").seal(HDR, first, plain, max_size=1000)) == 1


def test_open_rejects_a_message_without_encrypted_payload() -> None:
    first, body = encode_chain(INNER)
    msg = Header(b"\x11" * 8, b"\x22" * 8, first, 35, 8, 1, 28 + len(body), 2, 0).encode() + body
    with pytest.raises(ParseError):
        _protector("aes256", "sha256").open(decode_header(msg), msg)


def test_reassembly_restarts_on_a_larger_split() -> None:
    from wizard.engine.ike.v2.messages import FragmentHeader

    buf = Reassembly(2)
    assert buf.add(Opened(33, b"a", FragmentHeader(1, 2))) is None
    assert buf.add(Opened(33, b"x", FragmentHeader(1, 3))) is None
    assert buf.add(Opened(0, b"b", FragmentHeader(2, 2))) is None  # the stale split is ignored
    assert buf.add(Opened(0, b"y", FragmentHeader(2, 3))) is None
    assert buf.add(Opened(0, b"z", FragmentHeader(3, 3))) == b"xyz"


# --- traffic selectors ------------------------------------------------------------------------------


def test_selector_narrowing_and_checks() -> None:
    anyv4 = Selector.any(4)
    lan = Selector.network("10.50.0.0/16")
    assert narrow([anyv4], [lan]) == (lan,)
    assert narrow([Selector.network("192.168.0.0/16")], [lan]) == ()
    assert narrow([anyv4, Selector.any(6)], [Selector.host("10.88.1.1")]) == (Selector.host("10.88.1.1"),)
    web = Selector(lan.start, lan.end, 6, 443, 443)
    assert narrow([lan], [web]) == (web,) and within([web], [lan]) and not within([lan], [web])
    assert narrow([Selector(lan.start, lan.end, 17)], [web]) == ()
    assert decode_ts(encode_ts([web, anyv4])) == (web, anyv4)


def test_selector_conversions() -> None:
    v1 = TrafficSelector.host("10.0.0.1", 17, 1701)
    s = Selector.from_v1(v1)
    assert (s.start_port, s.end_port) == (1701, 1701) and s.to_v1() == v1
    assert Selector.from_v1(TrafficSelector.network("10.0.0.0/8")).to_v1() == TrafficSelector.network("10.0.0.0/8")
    assert Selector(s.start, s.end, 6, 1000, 2000).to_v1().port == 0
    assert str(Selector.network("10.0.0.0/8")) == "10.0.0.0/8"
    assert str(Selector(s.start, s.end, 6, 1000, 2000)) == "10.0.0.1[6/1000-2000]"
    with pytest.raises(ValueError):
        Selector(s.start, s.end, 0, 10, 5)


# --- proposals --------------------------------------------------------------------------------------


def test_ike_offer_and_choice() -> None:
    offers = profile_proposals(("aes256-sha256-modp2048-ecp256", "aes128gcm16-prfsha256-ecp256"), "ike")
    sa = ike_sa_payload(offers)
    assert [t.type for t in sa.proposals[1].transforms] == [TransformType.ENCR, TransformType.PRF, TransformType.DH]
    proposal, suite = choose_ike(sa, profile_proposals(("aes256-sha256-ecp256-modp2048",), "ike"), ke_group=19) or (None, None)
    assert suite is not None and suite.group.number == 19 and suite.name == "aes256-sha256-prfsha256-ecp256"
    assert accept_ike(SAPayload((proposal,)), sa) == suite  # type: ignore[arg-type]
    assert choose_ike(sa, profile_proposals(("aes128-sha1-modp1024",), "ike")) is None
    assert describe_sa(sa)[1] == "aes128gcm16-prfsha256-ecp256"


def test_accept_rejects_what_was_not_offered() -> None:
    sa = ike_sa_payload(profile_proposals(("aes256-aes128-sha256-modp2048",), "ike"))
    other = ike_sa_payload(profile_proposals(("aes192-sha256-modp2048",), "ike"))
    assert accept_ike(SAPayload((other.proposals[0],)), sa) is None
    assert accept_ike(sa, sa) is None  # several transforms of a type: not a choice


def test_esp_choice_with_and_without_pfs() -> None:
    offers = profile_proposals(("aes256-sha256", "aes128gcm16"), "esp")
    modp = dh_group("modp2048")
    plain = esp_sa_payload(offers, b"\x01\x02\x03\x04", pfs=None)
    pfs = esp_sa_payload(offers, b"\x01\x02\x03\x04", pfs=modp)
    assert not any(t.type == TransformType.DH for p in plain.proposals for t in p.transforms)
    proposal, suite = choose_esp(pfs, offers, dh_required=modp) or (None, None)
    assert suite is not None and suite.group == modp and suite.name == "aes256-sha256-modp2048"
    assert proposal is not None
    answer = SAPayload((type(proposal)(proposal.number, proposal.protocol, b"\x05\x06\x07\x08", proposal.transforms),))
    assert accept_esp(answer, pfs, pfs=modp) == suite
    assert accept_esp(answer, pfs, pfs=dh_group("ecp256")) is None
    assert choose_esp(pfs, offers, dh_required=None) is None  # DH offered but no KE sent
    chosen = choose_esp(pfs, offers, dh_required=False)
    assert chosen is not None and chosen[1].group is None  # IKE_AUTH ignores DH


# --- configuration payload --------------------------------------------------------------------------


def test_cp_request_reply_round_trip() -> None:
    req = cp.request(ipv6=True)
    assert [a.type for a in req.attributes] == [1, 3, 8, 10]
    lease = AddressLease("10.88.1.5", "255.255.255.0", ("10.77.0.53",), "2001:db8::5/64", ("2001:db8::53",),
                         ("10.50.0.0/16", "2001:db8:1::/48"), "corp.example")  # fmt: skip
    reply = CPPayload.decode(cp.reply(lease, req).encode())
    assert reply.cfg_type == CfgType.REPLY
    got = cp.parse_reply(reply)
    assert (got.address, got.netmask, got.dns, got.address6, got.dns6) == ("10.88.1.5", "255.255.255.0", ("10.77.0.53",),
                                                                            "2001:db8::5/64", ("2001:db8::53",))  # fmt: skip
    assert got.split_include == ("10.50.0.0/16", "2001:db8:1::/48") and got.domain == "corp.example"
    v4only = cp.parse_reply(cp.reply(lease, cp.request(ipv6=False)))
    assert v4only.address6 is None and v4only.address == "10.88.1.5"


def test_cp_reply_skips_malformed_attributes() -> None:
    bad = CPPayload(CfgType.REPLY, (CfgAttribute(CfgAttr.INTERNAL_IP4_ADDRESS, b"\x01\x02"),
                                    CfgAttribute(CfgAttr.INTERNAL_IP4_DNS, b"\x0a\x00\x00\x01"),
                                    CfgAttribute(CfgAttr.INTERNAL_IP6_SUBNET, bytes(16) + b"\xff")))  # fmt: skip
    got = cp.parse_reply(bad)
    assert got.address is None and got.dns == ("10.0.0.1",) and got.split_include == ()


# --- signatures and certificates -------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["rsa", "ecdsa"])
@pytest.mark.parametrize("rfc7427", [True, False])
def test_sign_and_verify(kind: str, rfc7427: bool) -> None:
    k = pki(kind)
    auth = sign(k.client_key, b"signed octets", (2, 3, 4), prefer_rfc7427=rfc7427)
    expected = AuthMethod.DIGITAL_SIGNATURE if rfc7427 else (AuthMethod.RSA if kind == "rsa" else AuthMethod.ECDSA_256)
    assert auth.method == expected
    assert kind.upper() in verify(auth, k.client.public_key(), b"signed octets", "the peer")
    with pytest.raises(AuthFailure, match="did not verify"):
        verify(auth, k.client.public_key(), b"other octets", "the peer")
    with pytest.raises(AuthFailure):
        verify(auth, pki("ecdsa" if kind == "rsa" else "rsa").client.public_key(), b"signed octets", "the peer")


def test_without_a_shared_hash_the_classic_method_is_used() -> None:
    assert sign(pki().client_key, b"x", ()).method == AuthMethod.RSA


def test_certificate_checks() -> None:
    k = pki()
    assert check_certificate([k.gateway], [k.ca], NOW, Identity.parse(GATEWAY), "the gateway") == k.gateway
    assert check_certificate([k.gateway], [k.ca], NOW, Identity.parse("gateway.test"), "the gateway") == k.gateway
    with pytest.raises(AuthFailure, match="does not name"):
        check_certificate([k.gateway], [k.ca], NOW, Identity.parse("other.test"), "the gateway")
    with pytest.raises(AuthFailure, match="not trusted"):
        check_certificate([k.gateway], [pki("rsa", "Some Other CA").ca], NOW, Identity.parse(GATEWAY), "the gateway")
    with pytest.raises(AuthFailure, match="sent no certificate"):
        check_certificate([], [k.ca], NOW, Identity.parse(GATEWAY), "the gateway")
    assert certreq_payload([k.ca]).authorities == (ca_hash(k.ca),) and len(ca_hash(k.ca)) == 20


# --- EAP ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("methods", "has_msk"), [(("mschapv2",), True), (("md5",), False)])
def test_eap_peer_against_authenticator(methods: tuple[str, ...], has_msk: bool) -> None:
    peer = EapPeer("alice", "pw", methods, random.Random(1).randbytes)
    auth = EapAuthenticator({"alice": "pw"}, methods, "gw", random.Random(2).randbytes)
    msg: bytes | None = auth.start(0.0)
    rounds = 0
    while msg is not None and rounds < 10:
        answer = peer.handle(msg, 0.0)
        msg = auth.handle(answer, 0.0) if answer is not None else None
        rounds += 1
        if msg is not None and EapPeer.is_final(msg):
            peer.handle(msg, 0.0)
            break
    assert peer.succeeded and auth.succeeded and auth.username == "alice"
    assert (peer.msk is not None) == has_msk and peer.msk == auth.msk


def test_eap_wrong_password_fails_on_both_sides() -> None:
    peer = EapPeer("alice", "bad", ("mschapv2",), random.Random(1).randbytes)
    auth = EapAuthenticator({"alice": "pw"}, ("mschapv2",), "gw", random.Random(2).randbytes)
    msg: bytes | None = auth.start(0.0)
    while msg is not None and not peer.done:
        answer = peer.handle(msg, 0.0)
        msg = auth.handle(answer, 0.0) if answer is not None else None
    assert peer.done and not peer.succeeded and "E=691" in (peer.failure or "")
    assert auth.done and not auth.succeeded and peer.msk is None


def test_eap_roles_reject_the_wrong_direction() -> None:
    with pytest.raises(ParseError):
        EapPeer("a", "b", ("md5",), bytes).handle(b"\x02\x01\x00\x05\x01", 0.0)  # a Response sent to the peer
    auth = EapAuthenticator({}, ("md5",), "gw", bytes)
    auth.start(0.0)
    with pytest.raises(ParseError):
        auth.handle(b"\x01\x01\x00\x05\x01", 0.0)  # a Request sent to the authenticator


# --- configuration ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"psk": None}, "needs a psk"),
        ({"auth": "cert"}, "certificate and its private key"),
        ({"auth": "eap", "psk": None}, "user name and password"),
        ({"eap_methods": ("leap",)}, "unknown EAP method"),
        ({"ike_proposals": ()}, "at least one"),
        ({"ike_proposals": ("aes256-nonsense",)}, "nonsense"),
        ({"fragment_size": 100}, "fragment_size"),
        ({"retransmit_initial": 0}, "retransmission"),
        ({"peer_auth": "eap"}, "eap_users"),
        ({"local_id": "X=unknown"}, "unknown DN attribute"),
    ],
)  # fmt: skip
def test_config_validation(kw: dict[str, object], match: str) -> None:
    base: dict[str, object] = {"local_address": "192.0.2.10", "peer_address": "192.0.2.1", "psk": "x"}
    base.update(kw)
    with pytest.raises(ValueError, match=match):
        cfg = IKEv2Config(**base)  # type: ignore[arg-type]
        from wizard.engine.ike.v2.connection import IKEv2Connection

        IKEv2Connection("initiator", cfg)


def test_child_config_defaults() -> None:
    c = ChildConfig()
    assert c.mode == "tunnel" and c.lifetime_seconds == 3600 and "aes256gcm16" in c.esp_proposals


def test_chain_helpers_find_payloads() -> None:
    from wizard.engine.ike.v2.core import first, has_notify, require
    from wizard.engine.ike.v2.messages import NotifyPayload

    payloads = (NotifyPayload(16430).payload(), Payload(PayloadType.NONCE, bytes(16)))
    assert has_notify(payloads, 16430) is not None and has_notify(payloads, 16431) is None
    assert first(payloads, PayloadType.NONCE) is payloads[1] and first(payloads, PayloadType.SA) is None
    with pytest.raises(ParseError, match="missing SA"):
        require(payloads, PayloadType.SA, "SA")
