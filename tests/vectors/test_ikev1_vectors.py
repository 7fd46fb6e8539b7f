"""IKEv1 vectors: ACVP KDF cases (as shipped in libreswan's programs/cavp), RFC 2409 key expansion,
NAT-T vendor IDs, and a Main Mode + Quick Mode session recorded against a real strongSwan (charon 5.9,
Debian 12, the lab's scenario d) replayed byte for byte.
"""

from __future__ import annotations

import hashlib
import hmac
import random

from wizard.engine.crypto.suites import prf
from wizard.engine.ike.v1 import keys as kdf
from wizard.engine.ike.v1.config import ChildConfig, IKEv1Config
from wizard.engine.ike.v1.connection import IKEv1Connection, State
from wizard.engine.ike.v1.events import ChildSAUp, PhaseOneUp
from wizard.engine.ike.v1.identities import TrafficSelector
from wizard.engine.ike.v1.natt import VID_DPD, VID_DRAFT_02, VID_DRAFT_02_N, VID_DRAFT_03, VID_RFC3947, VID_XAUTH

SHA1 = prf("prfsha1")

# ACVP IKEv1 KDF, pre-shared key variant, SHA-1, tcId 100 (libreswan programs/cavp/test.acvp.ikev1_psk.run
# and .json; RFC 2409 §5: SKEYID = prf(pre-shared-key, Ni_b | Nr_b)).
PSK_CKY_I = bytes.fromhex("83d374c30b3b5082")
PSK_CKY_R = bytes.fromhex("5afc0da06c728029")
PSK_NI = bytes.fromhex("b9a2d0e922dc66dd")
PSK_NR = bytes.fromhex("2130166863b5ddef")
PSK_GXY = bytes.fromhex("739003ba2c11c982946c65e26acf661fbf8ebb78011a9fead79efa12fe3e71cc")
PSK_KEY = bytes.fromhex("75")
PSK_SKEYID = bytes.fromhex("62b04d112877e442fc3282fc37c076997718a0b9")
PSK_SKEYID_D = bytes.fromhex("369e5aad1bdb5faf6a3d929d500cdc236710a9ab")
PSK_SKEYID_A = bytes.fromhex("588e957d8d790d093b3a39f121473473af78e9bb")
PSK_SKEYID_E = bytes.fromhex("cd74b0c048219db81384d3fda8f6cda51e398a2b")

# ACVP IKEv1 KDF, digital signature variant, SHA-1, tcId 100 (libreswan programs/cavp/test.acvp.ikev1_dsa.run
# and .json; RFC 2409 §5: SKEYID = prf(Ni_b | Nr_b, g^xy)).
SIG_CKY_I = bytes.fromhex("8c3bcd3a69831d7f")
SIG_CKY_R = bytes.fromhex("d2d9a7ff4fbe95a7")
SIG_NI = bytes.fromhex("69a62284195f1680")
SIG_NR = bytes.fromhex("80c94ba25c8abda5")
SIG_GXY = bytes.fromhex("8ba4cbc73c0187301dc19a975823854dbd641c597f637f8d053a83b9514673eb")
SIG_SKEYID = bytes.fromhex("707197817fb2d90cf54d1842606bdea59b9f4823")
SIG_SKEYID_D = bytes.fromhex("384be709a8a5e63c3ed160cfe3921c4b37d5b32d")
SIG_SKEYID_A = bytes.fromhex("48b327575abe3adba0f279849e289022a13e2b47")
SIG_SKEYID_E = bytes.fromhex("a4a415c8e0c38c0da847c356cc61c24df8025560")

# NAT-T vendor IDs as listed in strongSwan's vendor table and Wireshark's ISAKMP dissector
# (RFC 3947 §4: MD5("RFC 3947")); RFC 3706 §3.1 DPD; draft-beaulieu-ike-xauth-02 XAUTH.
VID_RFC3947_HEX = "4a131c81070358455c5728f20e95452f"
VID_DRAFT_03_HEX = "7d9419a65310ca6f2c179d9215529d56"
VID_DRAFT_02_HEX = "cd60464335df21f87cfdb2fc68b6a448"
VID_DRAFT_02_N_HEX = "90cb80913ebb696e086381b5ec427b1f"
VID_DPD_HEX = "afcad71368a1f1c96b8696fc77570100"
VID_XAUTH_HEX = "09002689dfd6b712"


def test_acvp_psk_kdf() -> None:
    skeyid = kdf.skeyid_psk(SHA1, PSK_KEY, PSK_NI, PSK_NR)
    assert skeyid == PSK_SKEYID
    keys = kdf.derive_phase1(SHA1, skeyid, PSK_GXY, PSK_CKY_I, PSK_CKY_R, 16)
    assert (keys.skeyid_d, keys.skeyid_a, keys.skeyid_e) == (PSK_SKEYID_D, PSK_SKEYID_A, PSK_SKEYID_E)
    assert keys.enc_key == PSK_SKEYID_E[:16]  # AES-128 needs no expansion from a 20-byte SKEYID_e


def test_acvp_signature_kdf() -> None:
    skeyid = kdf.skeyid_sig(SHA1, SIG_NI, SIG_NR, SIG_GXY)
    assert skeyid == SIG_SKEYID
    keys = kdf.derive_phase1(SHA1, skeyid, SIG_GXY, SIG_CKY_I, SIG_CKY_R, 24)
    assert (keys.skeyid_d, keys.skeyid_a, keys.skeyid_e) == (SIG_SKEYID_D, SIG_SKEYID_A, SIG_SKEYID_E)
    # RFC 2409 Appendix B: 3DES needs 24 bytes from a 20-byte SKEYID_e: K1 = prf(SKEYID_e, 0), K2 = prf(SKEYID_e, K1).
    k1 = hmac.new(SIG_SKEYID_E, b"\x00", hashlib.sha1).digest()
    k2 = hmac.new(SIG_SKEYID_E, k1, hashlib.sha1).digest()
    assert keys.enc_key == (k1 + k2)[:24]


def test_keymat_expansion_rfc2409_5_5() -> None:
    spi, ni, nr, d = bytes.fromhex("c5d1d7bf"), b"n" * 16, b"r" * 16, PSK_SKEYID_D
    k1 = hmac.new(d, b"\x03" + spi + ni + nr, hashlib.sha1).digest()
    k2 = hmac.new(d, k1 + b"\x03" + spi + ni + nr, hashlib.sha1).digest()
    assert kdf.keymat(SHA1, d, 3, spi, ni, nr, 40) == (k1 + k2)[:40]
    g = b"g" * 128
    k1 = hmac.new(d, g + b"\x03" + spi + ni + nr, hashlib.sha1).digest()
    assert kdf.keymat(SHA1, d, 3, spi, ni, nr, 20, g) == k1


def test_nat_t_vendor_ids() -> None:
    assert VID_RFC3947.hex() == VID_RFC3947_HEX
    assert VID_DRAFT_03.hex() == VID_DRAFT_03_HEX
    assert VID_DRAFT_02.hex() == VID_DRAFT_02_HEX
    assert VID_DRAFT_02_N.hex() == VID_DRAFT_02_N_HEX
    assert VID_DPD.hex() == VID_DPD_HEX and VID_XAUTH.hex() == VID_XAUTH_HEX


# A session recorded in the lab (scenario d, 3des-sha1-modp1024 / ESP 3des-sha1, transport, udp/1701) with
# our initiator drawing its randomness from random.Random(7). CHARON_n are strongSwan's replies as received.
OUR_1 = bytes.fromhex(
    "38b4e652e44da7f200000000000000000110020000000000000000a00d00003400000001000000010000002801010001"
    "000000200101000080010005800200028003000180040002800b0001800c70800d0000144a131c81070358455c5728f2"
    "0e95452f0d0000147d9419a65310ca6f2c179d9215529d560d00001490cb80913ebb696e086381b5ec427b1f00000014"
    "cd60464335df21f87cfdb2fc68b6a448"
)
CHARON_1 = bytes.fromhex(
    "38b4e652e44da7f27bccf17ce93aceaa0110020000000000000000840d00003400000001000000010000002801010001"
    "000000200101000080010005800200028004000280030001800b0001800c70800d00000c09002689dfd6b7120d000014"
    "afcad71368a1f1c96b8696fc77570100000000144a131c81070358455c5728f20e95452f"
)
OUR_2 = bytes.fromhex(
    "38b4e652e44da7f27bccf17ce93aceaa0410020000000000000000f40a000084faf7f6da7aee4eeda93eabbf24a228dd"
    "bc9d051e9a7221bfc8c76b8f6c9d2b4e6ddd8c7d2e064ff1bdb755e89e4158849bd2a1a916650435cf6579eef57c2422"
    "50111fb719796ede59ae5df10158a29b45edaf808cfa3da122c7f3152799c6c6ca55fe8687a5a0e047cde9ca122d31ef"
    "e5b12a0b701ba16bf8bbbede1a3d653714000024f8c99d5d5d9831957504d90e945de2e8f54ee781cc75f636d8509909"
    "5aa30016140000183aacd13b2e77732cbbc967133af7eece045aac4300000018a2261a3ca165a4e987c3a4aa216dbd70"
    "fb5c9a8e"
)
CHARON_2 = bytes.fromhex(
    "38b4e652e44da7f27bccf17ce93aceaa0410020000000000000000f40a000084247a0dac665146390911a05e687be35e"
    "a51d3374a36ee905fb236332860573667448697ddf0a2baf83183c02f2c6a4402b034379899c08bad9642e75b6fc7eb8"
    "c15fbf0874b2ba19a5d95ed35cf28d4c2ae62bf995974d2ecf2603fb3a5ecb7010058bc819df07979fd4d38b23208508"
    "c1696f5b4a031e81ae532d5be3d50cbe14000024acdf84fe0c9b3b79e0685a81b1febf9d50c627bb1f7bd46a177170d3"
    "8e445a5b14000018a2261a3ca165a4e987c3a4aa216dbd70fb5c9a8e000000183aacd13b2e77732cbbc967133af7eece"
    "045aac43"
)
OUR_3 = bytes.fromhex(
    "38b4e652e44da7f27bccf17ce93aceaa05100201000000000000005ce53ecc862de55a6b88454817848694623bbc5fa7"
    "45d84d7b3551f30a153c36e31db12e559f8417449073a93ac341eaef6206ea73f7f8abcd3791525c70dfe49a"
)
CHARON_3 = bytes.fromhex(
    "38b4e652e44da7f27bccf17ce93aceaa051002010000000000000044d9124096cee595cdcda53a7cb4fdf8f7dcd8ae67"
    "e264d078ab2854d21f9e55a804853aa29e1c612f"
)
OUR_4 = bytes.fromhex(
    "38b4e652e44da7f27bccf17ce93aceaa081020015a67036f000000a4ba4ffc1f0e501c814654c55172214851ff3e2424"
    "a1df9f528b83f21e489d4b3410652fada5e3a52ad93dcf622125ba903b91e70accc493a5b422bca4c91edd4cb930190a"
    "92049c00cbbb77f0dc18a5de9800f07a20c1306ec615f80e85ef80d09f93964a360da95d12ac491ff4750cdd2f2fac34"
    "c7bb2745a060336d64cf55eda0cab2ef79f5d8a9"
)
CHARON_4 = bytes.fromhex(
    "38b4e652e44da7f27bccf17ce93aceaa081020015a67036f000000a44cc5d2ba5443b9a29bd1e971b20f8ef294498f77"
    "ffbb7aa8f49926d7eb9dfc959be5d9b1fe58d89c804f33a0ce9c0b46d13c9719792aaa1823ebbb1dd1372b5a06eb75f9"
    "cd30117061d22b1a8e930ac630775affc04de91e14569c3735fb52ee9fab52645e2eb0643ba8269e83ab72b1af9e38d4"
    "6633535f4865a121ce2b68e07e33f6410a053a76"
)


def _replay_config() -> IKEv1Config:
    return IKEv1Config(
        local_address="10.77.0.1", peer_address="10.77.0.2", psk="vmlabpsk", allow_legacy=True,
        ike_proposals=("3des-sha1-modp1024",), random_bytes=random.Random(7).randbytes, dpd_interval=None, ike_lifetime=28800,
        child=ChildConfig(mode="transport", esp_proposals=("3des-sha1",), local_ts=TrafficSelector.host("10.77.0.1", 17, 1701),
                          remote_ts=TrafficSelector.host("10.77.0.2", 17, 1701)),
    )  # fmt: skip


def test_strongswan_session_replays_byte_for_byte() -> None:
    conn = IKEv1Connection("initiator", _replay_config())
    conn.connect(0.0)
    ours = [OUR_1, OUR_2, OUR_3, OUR_4]
    theirs = [CHARON_1, CHARON_2, CHARON_3, CHARON_4]
    for mine, reply in zip(ours, theirs, strict=True):
        sent = conn.datagrams_to_send()
        assert [d.data for d in sent] == [mine]
        conn.receive_datagram(reply, 0.1)
    assert conn.stats.malformed_dropped == 0 and conn.stats.hash_failed == 0
    events = []
    while (e := conn.next_event()) is not None:
        events.append(e)
    up = [e for e in events if isinstance(e, PhaseOneUp)]
    assert up and up[0].suite == "3DES/SHA-1/MODP-1024" and up[0].peer_id == "10.77.0.2"
    (child,) = [e.sa for e in events if isinstance(e, ChildSAUp)]
    assert child.cipher.name == "3des" and child.integrity is not None and child.integrity.name == "sha1"
    assert str(child.local_ts) == "10.77.0.1[17/1701]" and child.mode == "transport"
    # QM3 (HASH(3)) follows charon's QM2.
    (qm3,) = conn.datagrams_to_send()
    assert qm3.data[18] == 32 and len(qm3.data) == 52
    assert conn.state is State.ESTABLISHED
