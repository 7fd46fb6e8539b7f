"""IKEv2 vectors: the ACVP IKEv2 KDF case shipped with libreswan (programs/cavp), RFC 7296 payload layouts
built by hand from the §3 figures and round-tripped, RFC 7427 AlgorithmIdentifiers, the EAP-MSCHAPv2 MSK
against RFC 3079 §3.5.3, and an IKE_SA_INIT + IKE_AUTH session recorded against the lab's strongSwan
(charon 5.9.8, Debian 12, scenario a) replayed byte for byte.
"""

from __future__ import annotations

import hashlib
import hmac
import random
from dataclasses import replace

from tests.pairs.ikev2_harness import pki
from wizard.engine.crypto.suites import cipher, integrity, prf, prf_plus
from wizard.engine.ike.payloads import Header, Payload, decode_chain, decode_header, encode_chain
from wizard.engine.ike.v2 import events as ev
from wizard.engine.ike.v2 import keys as kdf
from wizard.engine.ike.v2.auth import algorithm_identifier
from wizard.engine.ike.v2.config import ChildConfig, IKEv2Config
from wizard.engine.ike.v2.connection import IKEv2Connection, State
from wizard.engine.ike.v2.constants import PayloadType
from wizard.engine.ike.v2.eap import msk_from_material
from wizard.engine.ike.v2.messages import (
    AuthPayload,
    CertReqPayload,
    CfgAttribute,
    CPPayload,
    DeletePayload,
    FragmentHeader,
    IdPayload,
    KEPayload,
    NotifyPayload,
    Proposal,
    SAPayload,
    Transform,
    TSEntry,
    TSPayload,
)
from wizard.engine.ike.v2.sa_init import nat_hash
from wizard.engine.ppp.auth.base import MppeMaterial

SHA1 = prf("prfsha1")

# ACVP IKEv2 KDF (NIST SP 800-135 §4.2), SHA-1, tcId 100: libreswan programs/cavp/test.acvp.ikev2.run (inputs)
# and test.acvp.ikev2.json (answers). RFC 7296 §2.14 SKEYSEED and DKM, §2.17 child DKM with and without a
# new DH value, §2.18 rekey SKEYSEED. DKM lengths are 1056 bits (132 bytes).
ACVP_NI = bytes.fromhex("32b50d5f4a3763f3")
ACVP_NR = bytes.fromhex("9206a04b26564cb1")
ACVP_GIR = bytes.fromhex("4b2c1f971981a8ad8d0abeafabf38cf75fc8349c148142465ed9c8b516b8be52")
ACVP_GIR_NEW = bytes.fromhex("863f3c9d06efd39d2b907b97f8699e5dd5251ef64a2a176f36ee40c87d4f9330")
ACVP_SPII = bytes.fromhex("34c9e7c188868785")
ACVP_SPIR = bytes.fromhex("3ff77d760d2b2199")
ACVP_SKEYSEED = bytes.fromhex("a9a7b222b59f8f48645f28a1db5b5f5d7479cba7")
ACVP_DKM = bytes.fromhex(
    "a14293677cc80ff8f9cc0eee30d895da9d8f405666e30ef0dfcb63c634a46002a2a63080e514a062768b76606f9fa5e992204fc5"
    "a670bde3f10d6b027113936a5c55b648a194ae587b0088d52204b702c979fa280870d2ed41efa9c549fd11198af1670b143d384b"
    "d275c5f594cf266b05ebadca855e4249520a441a81157435a7a56cc4"
)
ACVP_DKM_CHILD = bytes.fromhex(
    "8059e3ee8810e6c3a91bc8bcd2a7a41151b8d0e6ae239c7b38093ad85ef4c5811a8e7b5d1cdabd9560b2d5e092d1f24e2d4b85ec"
    "cdf0ad0dc9abd94b51ee71814ca6dbc8bb51b6309f5b9545c7eb35cf5580b1e521a8fe20754a2d883ba0c2cf285f524aea6545b3"
    "3106bc03e614296d319d41d4b50b3f510b1c0a22f3e664994d234cb4"
)
ACVP_DKM_CHILD_DH = bytes.fromhex(
    "bb43244c1860ad65ee1e211ffe8bb3661750c8f89cb9f547df7f4fa61d37301628190e38c66232eab4b3ab14c400a5197dd3730e"
    "d4820a8a10394d51e1c0400052f63ebd36b0e7ef53aaed31eba4a5080d7d4b5666023a8bbb5ffb7857240f9a05884d1b7d2f9337"
    "08450b7b3288f1fc863ab49fa901227cffc06e27899c7054d56fd74c"
)
ACVP_SKEYSEED_REKEY = bytes.fromhex("63e81194946ebd05df7df5ebf5d8750056bf1f1d")


def test_acvp_skeyseed() -> None:
    assert kdf.skeyseed(SHA1, ACVP_NI, ACVP_NR, ACVP_GIR) == ACVP_SKEYSEED


def test_acvp_dkm_and_the_seven_keys() -> None:
    assert prf_plus(SHA1, ACVP_SKEYSEED, ACVP_NI + ACVP_NR + ACVP_SPII + ACVP_SPIR, 132) == ACVP_DKM
    # §2.14 order: SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr (AES-128-CBC, HMAC-SHA1-96: 20+20+20+16+16+20+20).
    keys = kdf.derive_ike_keys(SHA1, ACVP_SKEYSEED, ACVP_NI, ACVP_NR, ACVP_SPII, ACVP_SPIR, cipher("aes128"), integrity("sha1"))
    joined = keys.sk_d + keys.sk_ai + keys.sk_ar + keys.sk_ei + keys.sk_er + keys.sk_pi + keys.sk_pr
    assert joined == ACVP_DKM[: len(joined)]
    assert [len(k) for k in (keys.sk_d, keys.sk_ai, keys.sk_ei, keys.sk_pi)] == [20, 20, 16, 20]
    assert "a14293" not in repr(keys)  # never printed


def test_acvp_child_dkm_without_and_with_dh() -> None:
    sk_d = ACVP_DKM[:20]
    assert kdf.child_keymat(SHA1, sk_d, ACVP_NI, ACVP_NR, 132) == ACVP_DKM_CHILD
    assert kdf.child_keymat(SHA1, sk_d, ACVP_NI, ACVP_NR, 132, ACVP_GIR_NEW) == ACVP_DKM_CHILD_DH
    # §2.17: initiator-to-responder encryption then integrity key, then the reverse direction.
    k = kdf.derive_child_keys(SHA1, sk_d, ACVP_NI, ACVP_NR, cipher("aes128"), integrity("sha1"))
    assert k.enc_i + k.auth_i + k.enc_r + k.auth_r == ACVP_DKM_CHILD[:72]


def test_acvp_rekey_skeyseed() -> None:
    assert kdf.skeyseed_rekey(SHA1, ACVP_DKM[:20], ACVP_GIR_NEW, ACVP_NI, ACVP_NR) == ACVP_SKEYSEED_REKEY


def test_xcbc_prf_keys_on_64_bits_of_each_nonce() -> None:
    """§2.14: with AES-XCBC-PRF-128 SKEYSEED = prf(first 64 bits of Ni | first 64 bits of Nr, g^ir)."""
    xcbc = prf("prfaesxcbc")
    ni, nr = bytes(range(32)), bytes(range(100, 132))
    assert kdf.skeyseed(xcbc, ni, nr, b"gir") == xcbc.prf(ni[:8] + nr[:8], b"gir")


def test_psk_auth_key_pad() -> None:
    """§2.15: AUTH = prf(prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets>)."""
    inner = hmac.new(b"secret", b"Key Pad for IKEv2", hashlib.sha256).digest()
    expected = hmac.new(inner, b"octets", hashlib.sha256).digest()
    assert kdf.shared_key_auth(prf("prfsha256"), b"secret", b"octets") == expected


# --- RFC 7296 §3 payload layouts, built by hand from the figures ---------------------------------------

SPI_I = bytes.fromhex("0102030405060708")
# §3.1: SPIs, Next Payload 33 (SA), version 2.0, exchange 34 (IKE_SA_INIT), flags I, message id 0, length.
HEADER = SPI_I + bytes(8) + bytes.fromhex("21 20 22 08 00000000 0000001c")
# §3.3.1/3.3.2/3.3.5: last proposal (0), length 44, #1, protocol IKE, SPI size 0, 4 transforms; ENCR AES-CBC
# with Key Length 256 (TV attribute 14), PRF HMAC-SHA2-256 (5), INTEG HMAC-SHA2-256-128 (12), DH 14.
SA_BODY = bytes.fromhex(
    "00 00 002c 01 01 00 04"
    "03 00 000c 01 00 000c 800e 0100"
    "03 00 0008 02 00 0005"
    "03 00 0008 03 00 000c"
    "00 00 0008 04 00 000e"
)
# An ESP proposal: SPI size 4, AES-GCM-16 (20) with 128-bit key and ESN none.
ESP_SA_BODY = bytes.fromhex("00 00 0020 01 03 04 02 c0ffee01 03 00 000c 01 00 0014 800e 0080 00 00 0008 05 00 0000")
KE_BODY = bytes.fromhex("000e 0000") + bytes(range(16))  # §3.4: DH group 14, reserved, data
ID_BODY = bytes.fromhex("01 000000 0a4d0002")  # §3.5: ID_IPV4_ADDR 10.77.0.2
AUTH_BODY = bytes.fromhex("02 000000") + bytes(32)  # §3.8: shared key MIC
CERTREQ_BODY = bytes.fromhex("04") + bytes(range(20))  # §3.7: X.509 signature, one SHA-1 CA hash
NOTIFY_BODY = bytes.fromhex("00 00 4004") + bytes(20)  # §3.10: NAT_DETECTION_SOURCE_IP (16388)
REKEY_NOTIFY_BODY = bytes.fromhex("03 04 4009 c0ffee01")  # REKEY_SA (16393) for ESP SPI c0ffee01
DELETE_ESP_BODY = bytes.fromhex("03 04 0002 c0ffee01 c0ffee02")  # §3.11
DELETE_IKE_BODY = bytes.fromhex("01 00 0000")
# §3.13.1: one TS_IPV4_ADDR_RANGE (7), any protocol, length 16, ports 0-65535, 10.88.1.1-10.88.1.1.
TS_BODY = bytes.fromhex("01 000000 07 00 0010 0000 ffff 0a580101 0a580101")
# §3.15: CFG_REQUEST (1) with empty INTERNAL_IP4_ADDRESS (1) and INTERNAL_IP4_DNS (3).
CP_BODY = bytes.fromhex("01 000000 0001 0000 0003 0000")
SKF_HEADER = bytes.fromhex("0002 0003")  # RFC 7383 §2.5: fragment 2 of 3


def test_header_layout() -> None:
    h = decode_header(HEADER)
    assert (h.spi_i, h.next_payload, h.major_version, h.exchange_type, h.flags, h.length) == (SPI_I, 33, 2, 34, 8, 28)
    assert Header(SPI_I, bytes(8), 33, 34, 8, 0, 28, 2, 0).encode() == HEADER


def test_sa_payload_layout() -> None:
    sa = SAPayload.decode(SA_BODY)
    assert sa.proposals == (Proposal(1, 1, b"", (Transform(1, 12, 256), Transform(2, 5), Transform(3, 12), Transform(4, 14))),)
    assert sa.encode() == SA_BODY
    esp = SAPayload.decode(ESP_SA_BODY)
    assert esp.proposals[0].spi == bytes.fromhex("c0ffee01") and esp.proposals[0].transforms[-1] == Transform(5, 0)
    assert esp.encode() == ESP_SA_BODY


def test_simple_payload_layouts() -> None:
    assert KEPayload.decode(KE_BODY) == KEPayload(14, bytes(range(16))) and KEPayload(14, bytes(range(16))).encode() == KE_BODY
    assert IdPayload(1, bytes([10, 77, 0, 2])).encode() == ID_BODY and IdPayload.decode(ID_BODY).data == bytes([10, 77, 0, 2])
    assert AuthPayload.decode(AUTH_BODY) == AuthPayload(2, bytes(32)) and AuthPayload(2, bytes(32)).encode() == AUTH_BODY
    assert CertReqPayload.decode(CERTREQ_BODY).authorities == (bytes(range(20)),)
    assert CertReqPayload.decode(CERTREQ_BODY).encode() == CERTREQ_BODY
    assert NotifyPayload(16388, bytes(20)).encode() == NOTIFY_BODY
    rekey = NotifyPayload.decode(REKEY_NOTIFY_BODY)
    assert (rekey.protocol, rekey.notify_type, rekey.spi, rekey.data) == (3, 16393, bytes.fromhex("c0ffee01"), b"")
    assert rekey.encode() == REKEY_NOTIFY_BODY
    assert DeletePayload.decode(DELETE_ESP_BODY).encode() == DELETE_ESP_BODY
    assert DeletePayload(1).encode() == DELETE_IKE_BODY
    ts = TSPayload.decode(TS_BODY)
    assert ts.selectors == (TSEntry(7, 0, 0, 65535, bytes([10, 88, 1, 1]), bytes([10, 88, 1, 1])),)
    assert ts.encode() == TS_BODY
    cp = CPPayload.decode(CP_BODY)
    assert cp == CPPayload(1, (CfgAttribute(1), CfgAttribute(3))) and cp.encode() == CP_BODY
    assert FragmentHeader.decode(SKF_HEADER) == FragmentHeader(2, 3) and FragmentHeader(2, 3).encode() == SKF_HEADER


def test_payload_chain_next_payload_fields() -> None:
    """§3.2: each generic header names the type of the payload after it; the last says 0."""
    chain = [Payload(PayloadType.SA, SA_BODY), Payload(PayloadType.KE, KE_BODY), Payload(PayloadType.NONCE, bytes(32))]
    first, data = encode_chain(chain)
    assert first == PayloadType.SA
    assert data[0] == PayloadType.KE and data[4 + len(SA_BODY)] == PayloadType.NONCE
    assert decode_chain(first, data).payloads == tuple(chain)


# --- RFC 7427 AlgorithmIdentifiers (Appendix A) --------------------------------------------------------

# The same DER every X.509 certificate carries in its signatureAlgorithm field (RFC 4055 / RFC 5758 OIDs).
SHA256_WITH_RSA = bytes.fromhex("300d06092a864886f70d01010b0500")  # sha256WithRSAEncryption, NULL parameters
ECDSA_WITH_SHA256 = bytes.fromhex("300a06082a8648ce3d040302")  # ecdsa-with-SHA256, no parameters
ECDSA_WITH_SHA384 = bytes.fromhex("300a06082a8648ce3d040303")  # ecdsa-with-SHA384


def test_rfc7427_algorithm_identifiers() -> None:
    k = pki()
    assert k.ca.signature_algorithm_oid.dotted_string == "1.2.840.113549.1.1.11"
    assert SHA256_WITH_RSA in k.ca.tbs_certificate_bytes  # cryptography writes the same DER into certificates
    assert algorithm_identifier("rsa", "sha256") == SHA256_WITH_RSA
    assert algorithm_identifier("ecdsa", "sha256") == ECDSA_WITH_SHA256
    assert algorithm_identifier("ecdsa", "sha384") == ECDSA_WITH_SHA384


# --- NAT detection (§2.23) and the EAP-MSCHAPv2 MSK ---------------------------------------------------


def test_nat_detection_hash() -> None:
    expected = hashlib.sha1(SPI_I + bytes(8) + bytes([192, 0, 2, 1]) + (500).to_bytes(2, "big")).digest()
    assert nat_hash(SPI_I, bytes(8), bytes([192, 0, 2, 1]), 500) == expected


def test_eap_mschapv2_msk_rfc3079() -> None:
    """MSK = MasterReceiveKey | MasterSendKey (the authenticator's keys) | 32 zero bytes; the MasterSendKey
    is RFC 3079 §3.5.3's 128-bit start key for password "clientPass" and its NT-Response."""
    nt = bytes.fromhex("82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF")
    msk = msk_from_material(MppeMaterial(2, "clientPass", nt_response=nt))
    assert msk is not None and len(msk) == 64
    assert msk[16:32] == bytes.fromhex("8B7CDC149B993A1BA118CB153F56DCCB")
    assert msk[32:] == bytes(32) and msk[:16] != msk[16:32]


# --- a session recorded against strongSwan 5.9.8 (the lab's scenario a) ------------------------------
# Client 10.77.0.1 with random_bytes = random.Random(7296).randbytes, IKE aes128-sha256-modp2048, ESP
# aes128-sha256, PSK "vmlabpsk". charon logged "CHILD_SA net{14} established with SPIs cd21fd15_i 12a98a73_o
# and TS 0.0.0.0/0 === 10.88.1.1/32" (its inbound SPI is our outbound).
SA_INIT_REQUEST = bytes.fromhex(
    "56a17dddbb65ce9100000000000000002120220800000000000001c6220000300000002c010100040300000c0100000c800e0080"
    "0300000802000005030000080300000c000000080400000e28000108000e000091bdf549dfefb7e8ed959b706ce88f94d067fd24"
    "2879e98d190354ec8f9e7c5c32f3f5ddfa35c9354e101ef7a9eea17ab63db492c4b5a09759ba8802ea1a032c7f9eb7cc1e882b88"
    "b1a5cac617ca7efb201c8629a48f3d2c2c1093153c819061e3c18edafc196e87c47edee5d22c818ae1f6c3de93b58c17ff93d017"
    "f2a24507242f01d1bf1652e5400b93db367cc7a718cfe0421c66a716d28780ae02570d31daea60cd82999944c3828a256973c081"
    "7c159e7338b9fd120763625ac615ff5b05fbe5a4378409e0ba57f32918e6856748123dfd29d8d35eb30402879c368dbeea0a0f91"
    "e400e3576a70ccd2ed96a9fde1f08666c16458823182ed682dc657be29000024f5d36a274bca71e8606037ee356434ab0d7f71e2"
    "ffa8a174f754129a98bce2382900001c000040041748932a4738014d7f1ce36c3855f4a3f345a7412900001c00004005fc0ff901"
    "597116adb873e17d6475d9ce70d3ceed290000080000402e0000000e0000402f000200030004"
)
SA_INIT_RESPONSE = bytes.fromhex(
    "56a17dddbb65ce9158ce5fdcde56130d2120222000000000000001f1220000300000002c010100040300000c0100000c800e0080"
    "030000080300000c0300000802000005000000080400000e28000108000e0000a7d164babbb9cdf0140033f1679797dbc2b8c930"
    "6e63ca0963e03c7d78dd2f783b4936018cd7014afa4b1bec45fc43f9e865fc2acac361a16186cf4c35007d86e1120c83e3a45e91"
    "fb7bfa09523ef1807aadc9e26cfbfcde74cae304a74d2d50917434e4209f22996b11087a11f76e7d9c9f40794d14cdee963a5dc6"
    "ea879a75ac8cd5c85837c330444aa6298e6b3e0ae3f53d99a21306480fd3b9e7457dfb262d5a440021b40d33aa0ebb9e2b4265ee"
    "447e7c638323294ed795f9d542d6cc15f6a5cc384c545b6f98452c5c11e27b2714572f93df51138e8ef29e168762ee4e1bf9d64a"
    "fd41c484d16ef920ec1a40f6e22cb394b0ab15fd288e3944126f9aa72900002489955ea537c03fdc2631ee535b2e57a9c9e97ce3"
    "dc8f02b7d17829f7665f34f02900001c00004004da472a1c60720dbbd8c8c80c8aad6d957b1fef012600001c00004005af32623a"
    "6305af24d88169072cade92a11886a1c2900001904f4a8b4775939bfa72871ccbd76b2611d0f47e09d290000080000402e290000"
    "100000402f000200030004000529000008000040220000000800004014"
)
AUTH_REQUEST = bytes.fromhex(
    "0000000056a17dddbb65ce9158ce5fdcde56130d2e2023080000000100000100230000e414f69f95942834accae21b0da106c472"
    "8700bbc55e5436864a4fbf4f5b699518ca51c16eaf6fc355bb62f91da14e0bd0cae1d34dc021baaada65f43155b5fea329ba8864"
    "7037f08adf8159c2d6d308429bcf2cf6f3d7fa6c8c8d258647a5f428e2a29e2f87eeca77b44c2bfc5f424d5b9a383200892f538f"
    "ee7deb243013873e76e08a59341f7317cbf06384fc363409aae67818276c7320017693f30e3791721f13bbd233994fec68f39943"
    "4fa39f7537b19904cbe75cce3133718873cfdfd3680b811d062a5dccc56e2b5bb75795519fde7b42644b10dda95684b20e8a24af"
)
AUTH_RESPONSE = bytes.fromhex(
    "0000000056a17dddbb65ce9158ce5fdcde56130d2e202320000000010000012024000104f4ba415d292115140abe6f2536993ab3"
    "4b46afe076156ca979837baccc7821bd554938d383a3e6b13b1c6dd34afc47d19485b706d0d663a9c3593326125e564db6936cd0"
    "d675b945a4ab419c2054b440512bed2aaa9bbaabf64064c21d1a87e69758775b5b1ab295a5f19732fb98a10b6e55e69892540458"
    "97a58d2e55fd85debbd486b6db4f65efc6cb6012ab621cd0ebe43ffccbd49b2e010b0f97beecb52f982a565915b62ddd43baf3ed"
    "e14da566accdc924af00676ffda2fca19414fd08c280fba492601cf37e7f3ac0d1e734d7b73a999fcdda8fecdbdb908cd2abc5e7"
    "43d58a3b17c5dfff41d97b2507e2f908eb9d9a3f5a6caf68f3e16e1e8c3de073"
)


def _session_config() -> IKEv2Config:
    return IKEv2Config(local_address="10.77.0.1", peer_address="10.77.0.2", psk="vmlabpsk", dpd_interval=None,
                       ike_proposals=("aes128-sha256-modp2048",), child=ChildConfig(esp_proposals=("aes128-sha256",)),
                       random_bytes=random.Random(7296).randbytes)  # fmt: skip


def test_recorded_strongswan_session_replays_byte_for_byte() -> None:
    conn = IKEv2Connection("initiator", _session_config())
    conn.connect(0.0)
    out = conn.datagrams_to_send()
    assert [(d.data, d.source_port, d.dest_port) for d in out] == [(SA_INIT_REQUEST, 500, 500)]
    conn.receive_datagram(SA_INIT_RESPONSE, 0.1, local_port=500, remote_address="10.77.0.2", remote_port=500)
    out = conn.datagrams_to_send()
    assert [(d.data, d.source_port, d.dest_port) for d in out] == [(AUTH_REQUEST, 4500, 4500)]  # MOBIKE: port 4500
    conn.receive_datagram(AUTH_RESPONSE, 0.2, local_port=4500, remote_address="10.77.0.2", remote_port=4500)
    assert conn.state is State.ESTABLISHED and conn.stats.malformed_dropped == 0 and conn.stats.decrypt_failed == 0
    events = []
    while (e := conn.next_event()) is not None:
        events.append(e)
    up = next(e for e in events if isinstance(e, ev.IKESAUp))
    assert (up.suite, up.peer_id, up.peer_auth) == ("aes128-sha256-prfsha256-modp2048", "10.77.0.2", "psk")
    config = next(e for e in events if isinstance(e, ev.ConfigReceived))
    assert (config.address, config.dns) == ("10.88.1.1", ("10.77.0.53", "10.77.0.54"))
    child = next(e for e in events if isinstance(e, ev.ChildSAUp)).sa
    assert (child.spi_out, child.spi_in) == (0xCD21FD15, 0x12A98A73)
    assert child.cipher.name == "aes128" and child.integrity is not None and child.integrity.name == "sha256"
    assert str(child.local_ts) == "10.88.1.1" and str(child.remote_ts) == "0.0.0.0/0"


def test_recorded_session_with_another_psk_fails_plainly() -> None:
    cfg = _session_config()
    conn = IKEv2Connection("initiator", replace(cfg, psk="not-vmlabpsk"))
    conn.connect(0.0)
    conn.datagrams_to_send()
    conn.receive_datagram(SA_INIT_RESPONSE, 0.1, local_port=500, remote_address="10.77.0.2", remote_port=500)
    conn.datagrams_to_send()
    conn.receive_datagram(AUTH_RESPONSE, 0.2, local_port=4500, remote_address="10.77.0.2", remote_port=4500)
    failed = [e for e in iter(conn.next_event, None) if isinstance(e, ev.ConnectionFailed)]
    assert failed and "pre-shared key is probably wrong" in failed[0].reason
