"""Known-answer ESP packets: RFC 3602 §4 cases 5-8 (AES-CBC) and draft-mcgrew-gcm-test-01 §4 (AES-GCM).

Each packet is decapsulated by an inbound SA and rebuilt bit for bit by an outbound SA given the same
IV and sequence number.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pytest

from wizard.engine.crypto.suites import cipher
from wizard.engine.errors import ParseError
from wizard.engine.esp import Direction, Mode, SAConfig, SecurityAssociation
from wizard.engine.esp.ip import build_outer, parse_ip

SRC = ipaddress.ip_address("192.0.2.1")
DST = ipaddress.ip_address("192.0.2.2")


def h(text: str) -> bytes:
    return bytes.fromhex("".join(text.split()))


@dataclass(frozen=True)
class EspVector:
    name: str
    cipher: str
    key: bytes  # keying material as the KDF would deliver it (key || salt for GCM)
    spi: int
    seq: int  # full sequence number (64 bits when esn)
    esn: bool
    iv: bytes
    payload: bytes  # the data ESP carries (inner packet or transport payload)
    next_header: int
    packet: bytes  # SPI .. ICV as on the wire


# RFC 3602 §4, cases 5-8: ESP with AES-CBC only (no integrity), explicit IV. Cases 5/6 carry an ICMP
# payload (next header 1), cases 7/8 a whole IPv4 packet (next header 4, tunnel mode).
RFC3602_KEY_56 = h("90d382b410eeba7ad938c46cec1a82bf")
RFC3602_KEY_78 = h("0123456789abcdef0123456789abcdef")
RFC3602 = [
    EspVector(
        "rfc3602-case5", "aes128", RFC3602_KEY_56, 0x4321, 1, False,
        h("e96e8c08ab465763fd098d45dd3ff893"),
        h("08000ebda70a00008e9c083db95b070008090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
          "202122232425262728292a2b2c2d2e2f3031323334353637"),
        1,
        h("0000432100000001e96e8c08ab465763fd098d45dd3ff893f663c25d325c18c6a9453e194e120849"
          "a4870b66cc6b9965330013b4898dc856a4699e523a55db080b59ec3a8e4b7e52775b07d1db34ed9c"
          "538ab50c551b874aa269add047ad2d5913ac19b7cfbad4a6"),
    ),
    EspVector(
        "rfc3602-case6", "aes128", RFC3602_KEY_56, 0x4321, 8, False,
        h("69d08df7d203329db093fc4924e5bd80"),
        h("0800b5e8a80a0500a69c083d0b660e00777777777777777777777777"),
        1,
        h("000043210000000869d08df7d203329db093fc4924e5bd80f51995881ec4e0c4488987ce742e8109"
          "689bb379d2d750c0d915dca346a89f75"),
    ),
    EspVector(
        "rfc3602-case7", "aes128", RFC3602_KEY_78, 0x8765, 2, False,
        h("f4e765244f6407adf13dc1380f673f37"),
        h("45000054090400004001f988c0a87b03c0a87bc808009f76a90a0100b49c083d02a2040008090a0b"
          "0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f30313233"
          "34353637"),
        4,
        h("0000876500000002f4e765244f6407adf13dc1380f673f37773b5241a4c449225e4f3ce5ed611b0c"
          "237ca96cf74a93013c1b0ea1a0cf70f8e4ecaec78ac53aad7a0f022b859243c647752e94a859352b"
          "8a4d4d2decd136e5c177f132ad3fbfb2201ac9904c74ee0a109e0ca1e4dfe9d5a100b842f1c22f0d"),
    ),
    EspVector(
        "rfc3602-case8", "aes128", RFC3602_KEY_78, 0x8765, 5, False,
        h("85d47224b5f3dd5d2101d4ea8dffab22"),
        h("45000044090c00004001f990c0a87b03c0a87bc80800d63caa0a0200c69c083da3de0300ffffffff"
          "ffffffffffffffffffffffffffffffffffffffffffffffffffffffff"),
        4,
        h("000087650000000585d47224b5f3dd5d2101d4ea8dffab2215b92683819596a8047232cc00f7048f"
          "e45318e11f8a0f62ede3c3fc61203bb50f980a08c9843fd3a1b06d5c07ff9639b7eb7dfb3512e5de"
          "435e7207ed971ef3d2726d9b5ef6affc6d17a0decbb13892"),
    ),
]


def gcm(name: str, key: str, spi: str, seq: str, nonce: str, plaintext: str, packet: str) -> EspVector:
    """A draft-mcgrew-gcm-test-01 case: nonce = salt (4) || IV (8); plaintext ends with pad length, next header."""
    pt = h(plaintext)
    padlen, nh = pt[-2], pt[-1]
    key_bytes = h(key)
    return EspVector(
        name, f"aes{len(key_bytes) * 8}gcm16", key_bytes + h(nonce)[:4], int(spi, 16), int(seq, 16),
        len(seq) == 16, h(nonce)[4:], pt[: -2 - padlen], nh, h(packet),
    )  # fmt: skip


# draft-mcgrew-gcm-test-01 §4 (AES-GCM ESP, 16-byte ICV); an 8-byte "seq" means ESN.
MCGREW_GCM = [
    gcm("gcm-1", "4c80cdefbb5d10da906ac73c3613a634", "00004321", "8765432100000000", "2e443b684956ed7e3b244cfe",
        """45000048699a000080114db7c0a80102c0a801010a9bf15638d3010000010000
           00000000045f736970045f7564700373697009637962657263697479
           02646b0000210001 01020201""",
        """00004321000000004956ed7e3b244cfefecf537e729d5b07dc30df528dd22b76
           8d1b98736696a6fd348509fa13ceac34cfa2436f14a3f3cf65925bf1f4a13c5d
           15b21e1884f5ff6247aeabb786b93bce61bc17d768fd9732459018148f6cbe72
           2fd04796562dfdb4"""),
    gcm("gcm-2", "feffe9928665731c6d6a8f9467308308", "0000a5f8", "0000000a", "cafebabefacedbaddecaf888",
        """4500003e698f000080114dccc0a80102c0a801010a980035002a2343b2d00100
           0001000000000000037369700963796265726369747902646b00000100010001""",
        """0000a5f80000000afacedbaddecaf888deb22cd9b07c72c16e3a65beeb8df304
           a5a5897d33ae530f1ba76d5d114d2a5c3de81827c10e9a4f51330d0eec416642
           cfbb85a5b47e48a4ec3b9ba95d918bd183b70d3aa8bc6ee4c309e9d85a41ad4a"""),
    gcm("gcm-3", "abbccddef00112233445566778899aababbccddef00112233445566778899aab", "4a2cbfe3", "00000002",
        "112233440102030405060708",
        """4500003069a6400080062690c0a801029389155e0a9e008b2dc57ee000000000
           7002400020bf0000020405b40101040201020201""",
        """4a2cbfe3000000020102030405060708ff425c9b724599df7a3bcd510194e00d
           6a78107f1b0b1cbf06efae9d65a5d763748a637985771d347f0545659f14e99d
           ef842d8eb335f4eecfdbf831824b4c4915956c96"""),
    gcm("gcm-4", "00000000000000000000000000000000", "00000000", "00000001", "000000000000000000000000",
        """4500003c99c500008001cb7a40679318010101010800075c0200440061626364
           65666768696a6b6c6d6e6f70717273747576776162636465666768690102 0201""",
        """00000000000000010000000000000000 4688daf2f973a392732909c331d56d60
           f694abaa414b5e7ff5fdcdfff5e9a284456476492719ffb64de7d9dca1e1d894
           bc3bd57873ed4d181d19d4d5c8c18af3f821d496eeb096e98ad2b69e4799c71d"""),
    gcm("gcm-5", "3de09874b388e6491988d0c3607eae1f", "42f67e3f", "1010101010101010", "57690e434e280000a2fca1a3",
        """4500003c99c300008001cb7c40679318010101010800085c0200430061626364
           65666768696a6b6c6d6e6f7071727374757677616263646566676869 01020201""",
        """42f67e3f101010104e280000a2fca1a3fba2caa4853cf9f0f22cb10d86dd83b0
           fec75691cf1a04b00d1138ec9c35791765acbd8701ad79845bf9fe3fba487bc9
           1755e6662b4c8d0d1f5e22739530320ae0d731cc978ecafaeae88f00e80d6e48"""),
    gcm("gcm-6", "3de09874b388e6491988d0c3607eae1f", "42f67e3f", "1010101010101010", "57690e434e280000a2fca1a3",
        "4500001c42a200008001441f406793b6e00000020a00f5ff01020201",
        """42f67e3f101010104e280000a2fca1a3fba2ca845e5df9f0f22c3e6e86dd831e
           1fc65792cd1af9130e1379ed369f071f35e034be95f112e4e7d05d35"""),
    gcm("gcm-7", "feffe9928665731c6d6a8f9467308308feffe9928665731c", "0000a5f8", "0000000a",
        "cafebabefacedbaddecaf888",
        "45000028a4ad4000400678800a01038f0a010612802306b8cb712602dd6bb03e501016d075680001",
        """0000a5f80000000afacedbaddecaf888a5b1f8066029aea40e598b8122de0242
           0938b3ab33f828e687b8858b5bfbdbd0315b27452144cc7795457b9652037f53
           18027b5b4cd7a636"""),
    gcm("gcm-8", "abbccddef00112233445566778899aab", "00000100", "0000000000000001", "decaf888cafedebaceface74",
        """4500004933ba00007f119106c3fb1d10c2b1d326c02831ce0035dd7b800302d5
           00004e20001e8c18d75b81dc91baa0476b91b924b280389d92c963bac046ec95
           9b6266c04722b14923010101""",
        """0000010000000001cafedebaceface7418a6fd42f72cbf4ab2a2ea901f73d814
           e3e7f243d95412e1c349c1d2fbec168f9190feebaf2cb01984e65863965d7472
           b79da345e0e780191f0d2f0e0f496c226f2127b27db35724e7845d68651f57e6
           5f354f75ff17015769623436"""),
    gcm("gcm-9", "abbccddef00112233445566778899aababbccddef00112233445566778899aab", "17405e67",
        "156f3126dd0db99b", "73616c74616e640169766563",
        "45080028732c00004006e9f90a0106120a01038f06b88023dd6bafbecb71260250101f646d540001",
        """17405e67dd0db99b616e640169766563f2d69ecdbd5a0d5b8d5ef38bad4da58d
           1f278fde98ef67549d524a3018d9a57ff4d3a31ce673119e451626c2415771e3
           b7eebca614c89b35"""),
    gcm("gcm-10", "3de09874b388e6491988d0c3607eae1f", "42f67e3f", "1010101010101010", "57690e434e280000a2fca1a3",
        """45000049333e00007f119182c3fb1d10c2b1d326c02831ce0035cb458003025b
           000001e0001e8c18d65759d52284a0352c71475c8880391c764d6e5ee0496b32
           5ae270c03899493915010101""",
        """42f67e3f101010104e280000a2fca1a3fba2cad12fc1f9f00d3cebf305410db8
           3d7784b607323d220f24b0a97d54182800cadb0f68d99ef0e0c0c89ae9bea888
           4e52d65bc1afd0740f742444747b5b39ab533163aad4550ee5160975cdb608c5
           769189609763b8e18caa81e2"""),
    gcm("gcm-11", "abbccddef00112233445566778899aababbccddef00112233445566778899aab", "17405e67",
        "156f3126dd0db99b", "73616c74616e640169766563",
        """636973636f0172756c65730174686501 6e6574776501646566696e6501746865
           746563686e6f6c6f6769657301746861 7477696c6c01646566696e65746f6d6f
           72726f7701020201""",
        """17405e67dd0db99b616e640169766563d4b7ed86a1777f2ea13d6973d324c69e
           7b43f826fb56831226508bebd2dceb18d0a6df10e5487df074113e14c641024e
           3e6773d91a62ee429b043a10e3efe6b012a49363412364f8c0cac587f249e56b
           11e24f30e44ccc76"""),
    gcm("gcm-12", "7d773d00c144c525ac619d18c84a3f47", "335467ae", "ffffffff", "d966426743457e9182443bc6",
        "01020201",
        "335467aeffffffff43457e9182443bc6437f866bcb3f699fe9b0822bac961c4504bef270"),
    gcm("gcm-13", "abbccddef00112233445566778899aab", "00000100", "0000000000000001", "decaf888cafedebaceface74",
        "746f016265016f72016e6f7401746f0162650001",
        """0000010000000001cafedebaceface7429c9fc69a197d038ccdd14e2ddfcaa05
           43332164412503524303ed3c6c5f283843af8c3e"""),
    gcm("gcm-14", "6c6567616c697a656d6172696a75616e61616e64646f69746265666f72656961", "796b6963",
        "ffffffffffffffff", "7475726e333021696765746d",
        """45000030da3a00008001df3bc0a80005c0a800010800c6cd0200070061626364
           65666768696a6b6c6d6e6f707172737401020201""",
        """796b6963ffffffff333021696765746df97ab2aa356d8edce17644ac8c78e25d
           d24dedbb29ebf1b64a274b39b49c3a864cd3d78ca4ae68a32b42458fb57dbe82
           1dcc63b9d0937ba2945f669368661a329fb4c053"""),
]  # fmt: skip

ALL = RFC3602 + MCGREW_GCM


def sa_pair(v: EspVector) -> tuple[SecurityAssociation, SecurityAssociation]:
    """Inbound and outbound SA for a vector; tunnel mode when the payload is an IPv4 packet with nh 4."""
    mode = Mode.TUNNEL if v.next_header == 4 else Mode.TRANSPORT
    c = cipher(v.cipher)
    common = {"spi": v.spi, "mode": mode, "cipher": c, "encryption_key": v.key, "esn": v.esn,
              "encryption_only": not c.aead, "initial_sequence": v.seq, "counter_iv": False,
              "local_address": DST, "remote_address": SRC}  # fmt: skip
    inbound = SecurityAssociation(SAConfig(Direction.IN, **common), 0.0)  # type: ignore[arg-type]
    outbound = SecurityAssociation(
        SAConfig(Direction.OUT, **{**common, "local_address": SRC, "remote_address": DST}),  # type: ignore[arg-type]
        0.0,
        random_bytes=lambda n: v.iv if n == len(v.iv) else bytes(n),
    )
    return inbound, outbound


@pytest.mark.parametrize("v", ALL, ids=[v.name for v in ALL])
def test_decapsulate_known_packet(v: EspVector) -> None:
    inbound, _ = sa_pair(v)
    out = inbound.decapsulate_payload(v.packet, 1.0)
    if v.next_header == 4:
        assert out == v.payload
    else:
        pkt = parse_ip(out)
        assert (pkt.protocol, pkt.payload) == (v.next_header, v.payload)
        assert (pkt.src_address, pkt.dst_address) == (SRC, DST)
    assert inbound.highest_sequence == v.seq
    assert inbound.stats.packets == 1 and inbound.stats.dropped == 0


@pytest.mark.parametrize("v", ALL, ids=[v.name for v in ALL])
def test_reencapsulate_known_packet(v: EspVector) -> None:
    _, outbound = sa_pair(v)
    ip_packet = v.payload if v.next_header == 4 else build_outer(SRC, DST, v.next_header, v.payload)
    assert outbound.encapsulate_payload(ip_packet, 1.0) == v.packet
    assert outbound.next_sequence == v.seq + 1


@pytest.mark.parametrize("v", ALL, ids=[v.name for v in ALL])
def test_flipped_bit_is_rejected(v: EspVector) -> None:
    inbound, _ = sa_pair(v)
    damaged = bytearray(v.packet)
    damaged[-1] ^= 1
    with pytest.raises(ParseError):
        inbound.decapsulate_payload(bytes(damaged), 1.0)
    assert inbound.stats.dropped == 1
