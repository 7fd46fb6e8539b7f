"""The algorithm table: IANA ids (RFC 2409 App. A, RFC 2407 §4.4.3-4.5, RFC 4868 §4, RFC 7296 §3.3.2),
names shared with the profile model, id lookups and proposal strings."""

from __future__ import annotations

import pytest

from wizard.engine.crypto import suites
from wizard.engine.crypto.suites import (
    SUITE_TABLE,
    Cipher,
    DHGroup,
    Integrity,
    Prf,
    cipher,
    cipher_by_esp_id,
    cipher_by_ikev1_id,
    cipher_by_ikev2_id,
    dh_group,
    integrity,
    integrity_by_ikev1_ah_id,
    integrity_by_ikev1_auth_id,
    integrity_by_ikev2_id,
    parse_proposal_string,
    prf,
    prf_by_ikev1_hash_id,
    prf_by_ikev2_id,
    prf_for_integrity,
)
from wizard.profiles.algorithms import ALGORITHMS, DEFAULT_ESP_PROPOSALS, DEFAULT_IKE_PROPOSALS

# name: (IKEv1 phase 1 attr, ESP transform id, IKEv2 ENCR id, key bytes, salt, block, IV, ICV)
CIPHER_IDS = {
    "aes128": (7, 12, 12, 16, 0, 16, 16, 0),
    "aes192": (7, 12, 12, 24, 0, 16, 16, 0),
    "aes256": (7, 12, 12, 32, 0, 16, 16, 0),
    "aes128ctr": (None, 13, 13, 16, 4, 1, 8, 0),
    "aes256ctr": (None, 13, 13, 32, 4, 1, 8, 0),
    "aes128gcm8": (None, 18, 18, 16, 4, 1, 8, 8),
    "aes128gcm12": (None, 19, 19, 16, 4, 1, 8, 12),
    "aes256gcm16": (None, 20, 20, 32, 4, 1, 8, 16),
    "3des": (5, 3, 3, 24, 0, 8, 8, 0),
    "des": (1, 2, 2, 8, 0, 8, 8, 0),
}
# name: (IKEv1 ESP/AH auth attr, IKEv1 AH transform id, IKEv2 INTEG id, key bytes, ICV bytes)
INTEGRITY_IDS = {
    "md5": (1, 2, 1, 16, 12),
    "sha1": (2, 3, 2, 20, 12),
    "sha256": (5, 5, 12, 32, 16),
    "sha384": (6, 6, 13, 48, 24),
    "sha512": (7, 7, 14, 64, 32),
    "aesxcbc": (9, 9, 5, 16, 12),
}
# name: (IKEv1 hash attr, IKEv2 PRF id, output bytes)
PRF_IDS = {
    "prfmd5": (1, 1, 16),
    "prfsha1": (2, 2, 20),
    "prfsha256": (4, 5, 32),
    "prfsha384": (5, 6, 48),
    "prfsha512": (6, 7, 64),
    "prfaesxcbc": (None, 4, 16),
}
DH_IDS = {"modp768": 1, "modp1024": 2, "modp1536": 5, "modp2048": 14, "modp3072": 15, "modp4096": 16,
          "ecp256": 19, "ecp384": 20, "ecp521": 21, "curve25519": 31}  # fmt: skip


@pytest.mark.parametrize("name", sorted(CIPHER_IDS))
def test_cipher_ids(name: str) -> None:
    c = cipher(name)
    assert (c.ikev1_id, c.ikev1_esp_id, c.ikev2_id, c.key_size, c.salt_size, c.block_size, c.iv_size,
            c.icv_size) == CIPHER_IDS[name]  # fmt: skip
    assert c.aead == (c.icv_size > 0)


@pytest.mark.parametrize("name", sorted(INTEGRITY_IDS))
def test_integrity_ids(name: str) -> None:
    i = integrity(name)
    assert (i.ikev1_auth_id, i.ikev1_ah_id, i.ikev2_id, i.key_size, i.icv_size) == INTEGRITY_IDS[name]


@pytest.mark.parametrize("name", sorted(PRF_IDS))
def test_prf_ids(name: str) -> None:
    p = prf(name)
    assert (p.ikev1_hash_id, p.ikev2_id, p.output_size) == PRF_IDS[name]


@pytest.mark.parametrize("name", sorted(DH_IDS))
def test_dh_ids(name: str) -> None:
    assert dh_group(name).number == DH_IDS[name]
    assert dh_group(DH_IDS[name]).name == name


def test_every_profile_algorithm_is_in_the_table_with_the_same_legacy_flag() -> None:
    by_name = {e.name: e for e in SUITE_TABLE}
    kinds = {"encryption": Cipher, "integrity": Integrity, "prf": Prf, "dh": DHGroup}
    for name, algo in ALGORITHMS.items():
        entry = by_name[name]
        assert isinstance(entry, kinds[algo.kind]), name
        assert entry.legacy == algo.legacy, name


def test_names_are_unique() -> None:
    names = [e.name for e in SUITE_TABLE]
    assert len(names) == len(set(names))


def test_lookups_by_wire_id() -> None:
    assert cipher_by_ikev1_id(7, 256) is cipher("aes256")
    assert cipher_by_ikev1_id(7) is None  # AES needs its Key Length attribute
    assert cipher_by_ikev1_id(5) is cipher("3des")
    assert cipher_by_ikev1_id(20, 128) is None  # no GCM in IKEv1 Phase 1
    assert cipher_by_esp_id(12, 128) is cipher("aes128")
    assert cipher_by_esp_id(3) is cipher("3des")
    assert cipher_by_esp_id(3, 192) is cipher("3des")
    assert cipher_by_ikev2_id(20, 256) is cipher("aes256gcm16")
    assert cipher_by_ikev2_id(18, 128) is cipher("aes128gcm8")
    assert cipher_by_ikev2_id(13, 192) is cipher("aes192ctr")
    assert cipher_by_ikev2_id(12, 100) is None
    assert cipher_by_ikev2_id(99, 128) is None
    assert integrity_by_ikev1_auth_id(2) is integrity("sha1")
    assert integrity_by_ikev1_ah_id(3) is integrity("sha1")
    assert integrity_by_ikev2_id(12) is integrity("sha256")
    assert integrity_by_ikev2_id(3) is None
    assert prf_by_ikev1_hash_id(4) is prf("prfsha256")
    assert prf_by_ikev2_id(4) is prf("prfaesxcbc")
    assert prf_for_integrity(integrity("sha384")) is prf("prfsha384")
    assert suites.dh_group_by_id(31) is dh_group("curve25519")
    assert suites.dh_group_by_id(24) is None
    with pytest.raises(KeyError):
        dh_group(24)
    with pytest.raises(KeyError):
        cipher("aes512")


def test_key_length_attribute() -> None:
    assert cipher("aes192gcm16").key_length_attribute == 192
    assert cipher("3des").key_length_attribute is None
    assert cipher("aes256gcm16").keymat_size == 36
    assert cipher("aes128ctr").keymat_size == 20


def test_parse_proposal_strings() -> None:
    p = parse_proposal_string("aes256-sha256-modp2048", "ike")
    assert [c.name for c in p.ciphers] == ["aes256"]
    assert [i.name for i in p.integrities] == ["sha256"]
    assert [x.name for x in p.prfs] == ["prfsha256"]
    assert [g.number for g in p.dh_groups] == [14]
    assert not p.legacy and not p.aead

    p = parse_proposal_string("aes128gcm16-prfsha256-curve25519", "ike")
    assert p.aead and p.integrities == () and [x.name for x in p.prfs] == ["prfsha256"]

    p = parse_proposal_string("aes256gcm16-ecp384", "ike")
    assert [x.name for x in p.prfs] == ["prfsha256", "prfsha384", "prfsha512"]

    p = parse_proposal_string("3des-sha1-md5-modp1024", "ike")
    assert p.legacy and p.legacy_names == ("3des", "md5", "modp1024")
    assert [x.name for x in p.prfs] == ["prfsha1", "prfmd5"]

    p = parse_proposal_string("aes128-aes256-sha256-modp2048", "esp")
    assert [c.name for c in p.ciphers] == ["aes128", "aes256"] and p.prfs == ()
    assert [g.name for g in p.dh_groups] == ["modp2048"]  # PFS group

    for text in DEFAULT_IKE_PROPOSALS:
        assert parse_proposal_string(text, "ike").ciphers
    for text in DEFAULT_ESP_PROPOSALS:
        assert parse_proposal_string(text, "esp").ciphers


@pytest.mark.parametrize(
    ("text", "kind"),
    [("aes256-sha256", "ike"), ("aes999-sha256", "esp"), ("", "esp"), ("aes256", "esp"),
     ("aes256gcm16-aes256-sha256", "esp")],
)  # fmt: skip
def test_parse_proposal_errors(text: str, kind: str) -> None:
    with pytest.raises(ValueError):
        parse_proposal_string(text, kind)  # type: ignore[arg-type]
