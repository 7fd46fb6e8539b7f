"""Unit tests: proposals, NAT-T helpers, RSA signatures, failure sentences and the connection's API edges."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils
from cryptography.hazmat.primitives.hashes import SHA1

from wizard.engine.crypto.suites import dh_group, prf
from wizard.engine.errors import LocalProtocolError, ParseError
from wizard.engine.ike import failures
from wizard.engine.ike.v1.auth import rsa_sign_raw, rsa_verify_raw
from wizard.engine.ike.v1.config import ChildConfig, IKEv1Config
from wizard.engine.ike.v1.connection import IKEv1Connection, State
from wizard.engine.ike.v1.constants import AuthMethod, Encapsulation, NotifyType
from wizard.engine.ike.v1.keys import nat_d_hash
from wizard.engine.ike.v1.natt import (
    NON_ESP_MARKER,
    VID_DRAFT_03,
    VID_RFC3947,
    NatTVariant,
    detect,
    frame,
    nat_d_payloads,
    unframe,
    variant_from_vids,
)
from wizard.engine.ike.v1.proposals import (
    Lifetime,
    encapsulation_for,
    encapsulation_mode,
    esp_sa,
    esp_suites,
    offered_esp_names,
    offered_phase1_names,
    parse_esp_transform,
    parse_phase1_transform,
    phase1_sa,
    phase1_suites,
    select_phase1,
)

SHA256 = prf("prfsha256")


def test_phase1_suites_skip_what_ikev1_cannot_carry() -> None:
    suites = phase1_suites(["aes256gcm16-prfsha384-ecp384", "aes256-aes128-sha256-sha1-modp2048", "3des-sha1-modp1024"])
    assert [s.name for s in suites] == ["aes256-sha256-modp2048", "aes256-sha1-modp2048", "aes128-sha256-modp2048",
                                        "aes128-sha1-modp2048", "3des-sha1-modp1024"]  # fmt: skip
    assert [s.pretty for s in suites][-1] == "3DES/SHA-1/MODP-1024" and suites[-1].legacy and not suites[0].legacy


def test_phase1_sa_roundtrip_and_selection() -> None:
    suites = phase1_suites(["aes256-sha256-modp2048", "3des-sha1-modp1024"])
    sa = phase1_sa(suites, AuthMethod.PSK, Lifetime(28800))
    t = sa.proposals[0].transforms[0]
    offer = parse_phase1_transform(t)
    assert offer is not None and offer.suite == suites[0] and offer.lifetime.seconds == 28800
    assert offer.auth_method == AuthMethod.PSK
    chosen = select_phase1(sa, [suites[1]], [AuthMethod.PSK])
    assert chosen is not None and chosen[2].suite == suites[1]
    assert select_phase1(sa, suites, [AuthMethod.XAUTH_INIT_PSK]) is None
    assert offered_phase1_names(sa) == ["AES-256/SHA-256/MODP-2048", "3DES/SHA-1/MODP-1024"]


def test_esp_suites_and_pfs_group() -> None:
    suites, group = esp_suites(["aes128gcm16-modp2048", "aes256-sha256", "3des-md5"])
    assert [s.name for s in suites] == ["aes128gcm16", "aes256-sha256", "3des-md5"] and group == dh_group("modp2048")
    sa = esp_sa(b"\x00\x00\x10\x01", suites, Encapsulation.UDP_TUNNEL, Lifetime(3600, 100000), group)
    parsed = [parse_esp_transform(t) for t in sa.proposals[0].transforms]
    assert [p.suite for p in parsed if p] == suites
    first = parsed[0]
    assert first is not None and first.group == group and first.lifetime == Lifetime(3600, 100000)
    assert offered_esp_names(sa)[0] == "AES-128-GCM-16/MODP-2048"


def test_encapsulation_values() -> None:
    assert encapsulation_for(True, False, False) == 1 and encapsulation_for(False, True, False) == 4
    assert encapsulation_for(False, True, True) == 61444
    assert encapsulation_mode(61443) == (True, True) and encapsulation_mode(9) is None


def test_nat_detection_and_framing() -> None:
    cky_i, cky_r = b"i" * 8, b"r" * 8
    out = nat_d_payloads(SHA256, NatTVariant.RFC, cky_i, cky_r, ("192.0.2.1", 500), ("10.0.0.2", 500))
    assert [p.type for p in out] == [20, 20]
    # RFC 3947 §3.2: HASH(CKY-I | CKY-R | IP | Port)
    assert out[0].body == SHA256.hash(cky_i + cky_r + bytes([192, 0, 2, 1]) + b"\x01\xf4")
    # The gateway sees us as 198.51.100.7:4500 while we think we are 10.0.0.2:500.
    seen_by_gateway = [nat_d_hash(SHA256, cky_i, cky_r, bytes([198, 51, 100, 7]), 4500), out[0].body]
    result = detect(SHA256, cky_i, cky_r, seen_by_gateway, ("10.0.0.2", 500), ("192.0.2.1", 500))
    assert result.local_behind_nat and not result.peer_behind_nat and result.detected
    assert variant_from_vids([VID_DRAFT_03]) is NatTVariant.DRAFT and variant_from_vids([VID_RFC3947, VID_DRAFT_03]) is NatTVariant.RFC
    assert NatTVariant.DRAFT.nat_d_type == 130
    assert frame(b"ike", 4500) == NON_ESP_MARKER + b"ike" and frame(b"ike", 500) == b"ike"
    assert unframe(NON_ESP_MARKER + b"ike", 4500) == b"ike"
    with pytest.raises(ParseError):
        unframe(b"\x01\x02\x03\x04esp", 4500)
    with pytest.raises(ParseError):
        detect(SHA256, cky_i, cky_r, [b"x"], ("10.0.0.2", 500), ("192.0.2.1", 500))


def test_raw_rsa_signature_is_pkcs1_without_digest_info() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    digest = b"\x11" * 20
    sig = rsa_sign_raw(key, digest)
    assert rsa_verify_raw(key.public_key(), digest, sig)
    assert not rsa_verify_raw(key.public_key(), b"\x12" * 20, sig)
    assert not rsa_verify_raw(key.public_key(), digest, sig[:-1])
    # A standard PKCS#1 signature (with DigestInfo) is not what IKEv1 sends.
    standard = key.sign(digest, padding.PKCS1v15(), utils.Prehashed(SHA1()))
    assert standard != sig and not rsa_verify_raw(key.public_key(), digest, standard)


def test_failure_sentences() -> None:
    text = failures.no_proposal_initiator(
        "the IKE (phase 1) SA", ["AES-256/SHA-256/MODP-2048", "AES-128/SHA-1/MODP-2048"],
        probe_choice="3DES/SHA-1/MODP-1024", probe_choice_legacy=True,
    )  # fmt: skip
    assert text.endswith("only 3DES/SHA-1/MODP-1024, which this profile's crypto policy forbids; enable legacy algorithms to connect")
    allowed = failures.no_proposal_initiator("x", ["A"], probe_choice="3DES/SHA-1/MODP-1024", probe_choice_legacy=True, allow_legacy=True)
    assert "add it to this profile's IKE proposals" in allowed
    assert "nor any common legacy suite" in failures.no_proposal_initiator("x", ["A"], probed=True)
    assert failures.notify_name(14) == "NO_PROPOSAL_CHOSEN" and failures.notify_name(9999) == "notify 9999"
    assert "pre-shared key is probably wrong" in failures.peer_notify("the gateway", NotifyType.INVALID_HASH_INFORMATION, "x")
    assert failures.peer_notify("the gateway", 9999, "Quick Mode") == "the gateway sent notify 9999 during Quick Mode"


def _cfg(**kw: object) -> IKEv1Config:
    base: dict[str, object] = {"local_address": "10.0.0.1", "peer_address": "10.0.0.2", "psk": "k"}
    base.update(kw)
    return IKEv1Config(**base)  # type: ignore[arg-type]


def test_config_validation() -> None:
    with pytest.raises(ValueError):
        _cfg(psk=None)
    with pytest.raises(ValueError):
        _cfg(auth="rsa")
    with pytest.raises(ValueError):
        IKEv1Connection("initiator", _cfg(ike_proposals=("aes256gcm16-prfsha256-modp2048",)))
    with pytest.raises(ValueError):
        IKEv1Connection("client", _cfg())  # type: ignore[arg-type]
    conn = IKEv1Connection("initiator", _cfg(child=ChildConfig(esp_proposals=("aes128ctr-aesxcbc",))))
    assert conn.state is State.IDLE


def test_connection_api_edges() -> None:
    responder = IKEv1Connection("responder", _cfg())
    with pytest.raises(LocalProtocolError):
        responder.connect(0.0)
    assert responder.get_timer() is None and responder.next_event() is None
    conn = IKEv1Connection("initiator", _cfg())
    conn.connect(0.0)
    with pytest.raises(LocalProtocolError):
        conn.connect(0.0)
    (first,) = conn.datagrams_to_send()
    data, port = first
    assert port == 500 and first.source_port == 500 and data[16] == 1 and data[18] == 2
    assert conn.get_timer() == 2.0
    conn.handle_timer(2.0)
    assert [d.data for d in conn.datagrams_to_send()] == [data] and conn.stats.retransmissions == 1
    conn.receive_datagram(b"garbage", 2.1)
    # Our own first message reflected back as if it were the answer: not one transform, so it is dropped
    # (unauthenticated phase 1 replies cannot end the negotiation on their own).
    conn.receive_datagram(data[:8] + b"\x99" * 8 + data[16:], 2.2)
    assert conn.stats.malformed_dropped == 2 and conn.state is State.PHASE1
    assert conn.next_event() is None
    conn.close(3.0)
    assert conn.state is State.CLOSED and conn.get_timer() is None
    conn.receive_datagram(data, 4.0)
    assert conn.stats.unexpected_dropped == 1
