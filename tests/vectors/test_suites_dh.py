"""Diffie-Hellman groups: RFC 2409 §6.1/6.2 and RFC 3526 primes, RFC 5903 ECP and RFC 7748 X25519 vectors."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from wizard.engine.crypto import dh
from wizard.engine.crypto.suites import dh_group
from wizard.engine.errors import ParseError, RemoteProtocolError


def h(text: str) -> bytes:
    return bytes.fromhex("".join(text.split()))


# RFC 2409 §6.1 (First Oakley Group, 768 bits) and §6.2 (Second Oakley Group, 1024 bits), as printed.
RFC2409_GROUP1 = """
    FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1
    29024E08 8A67CC74 020BBEA6 3B139B22 514A0879 8E3404DD
    EF9519B3 CD3A431B 302B0A6D F25F1437 4FE1356D 6D51C245
    E485B576 625E7EC6 F44C42E9 A63A3620 FFFFFFFF FFFFFFFF"""
RFC2409_GROUP2 = """
    FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1
    29024E08 8A67CC74 020BBEA6 3B139B22 514A0879 8E3404DD
    EF9519B3 CD3A431B 302B0A6D F25F1437 4FE1356D 6D51C245
    E485B576 625E7EC6 F44C42E9 A637ED6B 0BFF5CB6 F406B7ED
    EE386BFB 5A899FA5 AE9F2411 7C4B1FE6 49286651 ECE65381
    FFFFFFFF FFFFFFFF"""
# RFC 3526 §2 (1536-bit, group 5), §3 (2048, group 14), §4 (3072, group 15), §5 (4096, group 16).
RFC3526_GROUP5 = """
    FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1
    29024E08 8A67CC74 020BBEA6 3B139B22 514A0879 8E3404DD
    EF9519B3 CD3A431B 302B0A6D F25F1437 4FE1356D 6D51C245
    E485B576 625E7EC6 F44C42E9 A637ED6B 0BFF5CB6 F406B7ED
    EE386BFB 5A899FA5 AE9F2411 7C4B1FE6 49286651 ECE45B3D
    C2007CB8 A163BF05 98DA4836 1C55D39A 69163FA8 FD24CF5F
    83655D23 DCA3AD96 1C62F356 208552BB 9ED52907 7096966D
    670C354E 4ABC9804 F1746C08 CA237327 FFFFFFFF FFFFFFFF"""
RFC3526_GROUP14 = """
    FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1
    29024E08 8A67CC74 020BBEA6 3B139B22 514A0879 8E3404DD
    EF9519B3 CD3A431B 302B0A6D F25F1437 4FE1356D 6D51C245
    E485B576 625E7EC6 F44C42E9 A637ED6B 0BFF5CB6 F406B7ED
    EE386BFB 5A899FA5 AE9F2411 7C4B1FE6 49286651 ECE45B3D
    C2007CB8 A163BF05 98DA4836 1C55D39A 69163FA8 FD24CF5F
    83655D23 DCA3AD96 1C62F356 208552BB 9ED52907 7096966D
    670C354E 4ABC9804 F1746C08 CA18217C 32905E46 2E36CE3B
    E39E772C 180E8603 9B2783A2 EC07A28F B5C55DF0 6F4C52C9
    DE2BCBF6 95581718 3995497C EA956AE5 15D22618 98FA0510
    15728E5A 8AACAA68 FFFFFFFF FFFFFFFF"""
RFC3526_GROUP15 = """
    FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1
    29024E08 8A67CC74 020BBEA6 3B139B22 514A0879 8E3404DD
    EF9519B3 CD3A431B 302B0A6D F25F1437 4FE1356D 6D51C245
    E485B576 625E7EC6 F44C42E9 A637ED6B 0BFF5CB6 F406B7ED
    EE386BFB 5A899FA5 AE9F2411 7C4B1FE6 49286651 ECE45B3D
    C2007CB8 A163BF05 98DA4836 1C55D39A 69163FA8 FD24CF5F
    83655D23 DCA3AD96 1C62F356 208552BB 9ED52907 7096966D
    670C354E 4ABC9804 F1746C08 CA18217C 32905E46 2E36CE3B
    E39E772C 180E8603 9B2783A2 EC07A28F B5C55DF0 6F4C52C9
    DE2BCBF6 95581718 3995497C EA956AE5 15D22618 98FA0510
    15728E5A 8AAAC42D AD33170D 04507A33 A85521AB DF1CBA64
    ECFB8504 58DBEF0A 8AEA7157 5D060C7D B3970F85 A6E1E4C7
    ABF5AE8C DB0933D7 1E8C94E0 4A25619D CEE3D226 1AD2EE6B
    F12FFA06 D98A0864 D8760273 3EC86A64 521F2B18 177B200C
    BBE11757 7A615D6C 770988C0 BAD946E2 08E24FA0 74E5AB31
    43DB5BFC E0FD108E 4B82D120 A93AD2CA FFFFFFFF FFFFFFFF"""
RFC3526_GROUP16 = """
    FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1
    29024E08 8A67CC74 020BBEA6 3B139B22 514A0879 8E3404DD
    EF9519B3 CD3A431B 302B0A6D F25F1437 4FE1356D 6D51C245
    E485B576 625E7EC6 F44C42E9 A637ED6B 0BFF5CB6 F406B7ED
    EE386BFB 5A899FA5 AE9F2411 7C4B1FE6 49286651 ECE45B3D
    C2007CB8 A163BF05 98DA4836 1C55D39A 69163FA8 FD24CF5F
    83655D23 DCA3AD96 1C62F356 208552BB 9ED52907 7096966D
    670C354E 4ABC9804 F1746C08 CA18217C 32905E46 2E36CE3B
    E39E772C 180E8603 9B2783A2 EC07A28F B5C55DF0 6F4C52C9
    DE2BCBF6 95581718 3995497C EA956AE5 15D22618 98FA0510
    15728E5A 8AAAC42D AD33170D 04507A33 A85521AB DF1CBA64
    ECFB8504 58DBEF0A 8AEA7157 5D060C7D B3970F85 A6E1E4C7
    ABF5AE8C DB0933D7 1E8C94E0 4A25619D CEE3D226 1AD2EE6B
    F12FFA06 D98A0864 D8760273 3EC86A64 521F2B18 177B200C
    BBE11757 7A615D6C 770988C0 BAD946E2 08E24FA0 74E5AB31
    43DB5BFC E0FD108E 4B82D120 A9210801 1A723C12 A787E6D7
    88719A10 BDBA5B26 99C32718 6AF4E23C 1A946834 B6150BDA
    2583E9CA 2AD44CE8 DBBBC2DB 04DE8EF9 2E8EFC14 1FBECAA6
    287C5947 4E6BC05D 99B2964F A090C3A2 233BA186 515BE7ED
    1F612970 CEE2D7AF B81BDD76 2170481C D0069127 D5B05AA9
    93B4EA98 8D8FDDC1 86FFB7DC 90A6C08F 4DF435C9 34063199
    FFFFFFFF FFFFFFFF"""

# (group number, printed prime, bits, offset in the formula 2^s - 2^(s-64) - 1 + 2^64 * ([2^(s-130) pi] + offset))
MODP_CASES = [
    (1, RFC2409_GROUP1, 768, 149686),
    (2, RFC2409_GROUP2, 1024, 129093),
    (5, RFC3526_GROUP5, 1536, 741804),
    (14, RFC3526_GROUP14, 2048, 124476),
    (15, RFC3526_GROUP15, 3072, 1690314),
    (16, RFC3526_GROUP16, 4096, 240904),
]


def _pi_fixed(bits: int) -> int:
    """floor(pi * 2^bits) by Machin's formula in integers (with 64 guard bits)."""

    def arctan_inv(x: int, scale: int) -> int:
        total = term = (1 << scale) // x
        n, sign = 1, -1
        while term:
            term //= x * x
            total += sign * (term // (2 * n + 1))
            sign, n = -sign, n + 1
        return total

    g = bits + 64
    return (4 * (4 * arctan_inv(5, g) - arctan_inv(239, g))) >> 64


@pytest.mark.parametrize(("number", "printed", "bits", "offset"), MODP_CASES)
def test_modp_prime_matches_rfc_text_and_formula(number: int, printed: str, bits: int, offset: int) -> None:
    group = dh_group(number)
    assert group.prime == int.from_bytes(h(printed), "big")
    assert group.prime == 2**bits - 2 ** (bits - 64) - 1 + 2**64 * (_pi_fixed(bits - 130) + offset)
    assert group.generator == 2 and group.public_size == bits // 8


@pytest.mark.parametrize("number", [1, 2, 5, 14])
def test_modp_exchange_agrees_and_is_deterministic(number: int) -> None:
    group = dh_group(number)
    a, b = group.generate(b"\x11" * 32), group.generate(b"\x22" * 32)
    assert len(a.public_bytes()) == group.public_size
    assert a.shared_secret(b.public_bytes()) == b.shared_secret(a.public_bytes())
    assert group.generate(b"\x11" * 32).public_bytes() == a.public_bytes()
    # 2^x mod p from a known exponent
    assert int.from_bytes(group.generate((5).to_bytes(1, "big")).public_bytes(), "big") == 32


@pytest.mark.parametrize("bad", [0, 1, "p-1", "p", "p+1"])
def test_modp_rejects_degenerate_peer_values(bad: int | str) -> None:
    group = dh_group("modp1024")
    p = group.prime
    value = {"p-1": p - 1, "p": p, "p+1": p + 1}.get(str(bad), bad)
    assert isinstance(value, int)
    peer = value.to_bytes(group.public_size + 1, "big")[-group.public_size :] if value < 1 << 1024 else b"\xff" * 129
    key = group.generate(b"\x01" * 32)
    with pytest.raises(dh.InvalidPublicValue) as exc:
        key.shared_secret(peer)
    assert isinstance(exc.value, ParseError) and isinstance(exc.value, RemoteProtocolError)
    assert exc.value.reason


def test_modp_rejects_wrong_length() -> None:
    key = dh_group(14).generate(b"\x01" * 32)
    with pytest.raises(dh.InvalidPublicValue):
        key.shared_secret(b"\x02" * 255)


# RFC 5903 §8.1 (ECP-256, group 19), §8.2 (ECP-384, group 20), §8.3 (ECP-521, group 21).
RFC5903 = {
    19: {
        "i": "c88f01f510d9ac3f70a292daa2316de544e9aab8afe84049c62a9c57862d1433",
        "gix": "dad0b65394221cf9b051e1feca5787d098dfe637fc90b9ef945d0c3772581180",
        "giy": "5271a0461cdb8252d61f1c456fa3e59ab1f45b33accf5f58389e0577b8990bb3",
        "r": "c6ef9c5d78ae012a011164acb397ce2088685d8f06bf9be0b283ab46476bee53",
        "grx": "d12dfb5289c8d4f81208b70270398c342296970a0bccb74c736fc7554494bf63",
        "gry": "56fbf3ca366cc23e8157854c13c58d6aac23f046ada30f8353e74f33039872ab",
        "girx": "d6840f6b42f6edafd13116e0e12565202fef8e9ece7dce03812464d04b9442de",
    },
    20: {
        "i": "099f3c7034d4a2c699884d73a375a67f7624ef7c6b3c0f160647b67414dce655e35b538041e649ee3faef896783ab194",
        "gix": "667842d7d180ac2cde6f74f37551f55755c7645c20ef73e31634fe72b4c55ee6de3ac808acb4bdb4c88732aee95f41aa",
        "giy": "9482ed1fc0eeb9cafc4984625ccfc23f65032149e0e144ada024181535a0f38eeb9fcff3c2c947dae69b4c634573a81c",
        "r": "41cb0779b4bdb85d47846725fbec3c9430fab46cc8dc5060855cc9bda0aa2942e0308312916b8ed2960e4bd55a7448fc",
        "grx": "e558dbef53eecde3d3fccfc1aea08a89a987475d12fd950d83cfa41732bc509d0d1ac43a0336def96fda41d0774a3571",
        "gry": "dcfbec7aacf3196472169e838430367f66eebe3c6e70c416dd5f0c68759dd1fff83fa40142209dff5eaad96db9e6386c",
        "girx": "11187331c279962d93d604243fd592cb9d0a926f422e47187521287e7156c5c4d603135569b9e9d09cf5d4a270f59746",
    },
    21: {
        "i": "0037ade9319a89f4dabdb3ef411aaccca5123c61acab57b5393dce47608172a095aa85a30fe1c2952c6771d937ba9777f5957b"
        "2639bab072462f68c27a57382d4a52",
        "gix": "0015417e84dbf28c0ad3c278713349dc7df153c897a1891bd98bab4357c9ecbee1e3bf42e00b8e380aeae57c2d10756494188"
        "5942af5a7f4601723c4195d176ced3e",
        "giy": "017cae20b6641d2eeb695786d8c946146239d099e18e1d5a514c739d7cb4a10ad8a788015ac405d7799dc75e7b7d5b6cf2261"
        "a6a7f1507438bf01beb6ca3926f9582",
        "r": "0145ba99a847af43793fdd0e872e7cdfa16be30fdc780f97bccc3f078380201e9c677d600b343757a3bdbf2a3163e4c2f869cca7"
        "458aa4a4effc311f5cb151685eb9",
        "grx": "00d0b3975ac4b799f5bea16d5e13e9af971d5e9b984c9f39728b5e5739735a219b97c356436adc6e95bb0352f6be64a6c2912"
        "d4ef2d0433ced2b6171640012d9460f",
        "gry": "015c68226383956e3bd066e797b623c27ce0eac2f551a10c2c724d9852077b87220b6536c5c408a1d2aebb8e86d678ae49cb5"
        "7091f4732296579ab44fcd17f0fc56a",
        "girx": "01144c7d79ae6956bc8edb8e7c787c4521cb086fa64407f97894e5e6b2d79b04d1427e73ca4baa240a34786859810c06b3c7"
        "15a3a8cc3151f2bee417996d19f3ddea",
    },
}


@pytest.mark.parametrize("number", sorted(RFC5903))
def test_rfc5903_ecp_groups(number: int) -> None:
    v = {k: h(x) for k, x in RFC5903[number].items()}
    group = dh_group(number)
    i, r = group.generate(v["i"]), group.generate(v["r"])
    assert i.public_bytes() == v["gix"] + v["giy"]
    assert r.public_bytes() == v["grx"] + v["gry"]
    assert i.shared_secret(r.public_bytes()) == v["girx"]
    assert r.shared_secret(i.public_bytes()) == v["girx"]
    assert group.public_size == len(v["gix"]) * 2


@pytest.mark.parametrize("number", [19, 20, 21])
def test_ecp_order_constant(number: int) -> None:
    """(n-1)G = -G: same x as the generator, so the order table behind private-key mapping is right."""
    group = dh_group(number)
    curve = dh._CURVES[group.curve]
    order = dh._ORDERS[group.curve]
    g = ec.derive_private_key(1, curve).public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    minus_g = ec.derive_private_key(order - 1, curve).public_key()
    point = minus_g.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    size = group.private_size
    assert point[1 : 1 + size] == g[1 : 1 + size] and point[1 + size :] != g[1 + size :]


@pytest.mark.parametrize("number", [19, 20, 21])
def test_ecp_rejects_off_curve_and_wrong_length(number: int) -> None:
    group = dh_group(number)
    key = group.generate(b"\x07" * group.private_size)
    good = group.generate(b"\x09" * group.private_size).public_bytes()
    off_curve = good[:-1] + bytes([good[-1] ^ 1])
    for bad in (off_curve, good[:-1], bytes(group.public_size)):
        with pytest.raises(dh.InvalidPublicValue):
            key.shared_secret(bad)


# RFC 7748 §6.1 (X25519 Diffie-Hellman).
X25519_ALICE_PRIVATE = h("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
X25519_ALICE_PUBLIC = h("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
X25519_BOB_PRIVATE = h("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
X25519_BOB_PUBLIC = h("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
X25519_SHARED = h("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742")
# RFC 7748 §5.2, first test vector (scalar, u-coordinate, output u-coordinate).
X25519_SCALAR = h("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4")
X25519_U = h("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c")
X25519_OUT = h("c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552")


def test_rfc7748_x25519() -> None:
    group = dh_group("curve25519")
    assert group.number == 31
    alice, bob = group.generate(X25519_ALICE_PRIVATE), group.generate(X25519_BOB_PRIVATE)
    assert alice.public_bytes() == X25519_ALICE_PUBLIC
    assert bob.public_bytes() == X25519_BOB_PUBLIC
    assert alice.shared_secret(X25519_BOB_PUBLIC) == X25519_SHARED
    assert bob.shared_secret(X25519_ALICE_PUBLIC) == X25519_SHARED
    assert group.generate(X25519_SCALAR).shared_secret(X25519_U) == X25519_OUT


def test_x25519_rejects_low_order_point_and_bad_length() -> None:
    key = dh_group(31).generate(X25519_ALICE_PRIVATE)
    for bad in (bytes(32), b"\x01" + bytes(31), bytes(31)):
        with pytest.raises(dh.InvalidPublicValue):
            key.shared_secret(bad)


def test_generate_without_bytes_uses_fresh_randomness() -> None:
    group = dh_group("ecp256")
    assert group.generate().public_bytes() != group.generate().public_bytes()
