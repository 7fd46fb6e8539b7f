"""ESP and AH security associations: modes, address families, suites, drops and their counters."""

from __future__ import annotations

import itertools

import pytest

from tests.esp_packets import (
    V4_CLIENT,
    V4_INNER_A,
    V4_INNER_B,
    V4_SERVER,
    V6_CLIENT,
    V6_INNER_A,
    V6_INNER_B,
    V6_SERVER,
    checksum,
    ip_packet,
    l4_checksum_ok,
    sa_pair,
    tcp_packet,
    udp_packet,
)
from wizard.engine.crypto.suites import cipher, integrity
from wizard.engine.errors import LocalProtocolError, ParseError
from wizard.engine.esp import (
    AuthenticationFailed,
    BadPadding,
    Direction,
    DummyPacket,
    Mode,
    NotESP,
    ReplayedPacket,
    SAConfig,
    SAProtocol,
    SecurityAssociation,
    UdpEncapsulation,
    WrongSPI,
    spi_of_packet,
    spi_of_payload,
)
from wizard.engine.esp.ip import parse_ip

ESP_SUITES = [
    ("aes128", "sha1"), ("aes192", "sha256"), ("aes256", "sha512"), ("aes128ctr", "sha256"),
    ("aes256ctr", "aesxcbc"), ("aes128gcm8", None), ("aes192gcm12", None), ("aes256gcm16", None),
    ("3des", "md5"), ("des", "sha384"),
]  # fmt: skip


def inner(v6: bool, size: int = 100) -> bytes:
    if v6:
        return udp_packet(V6_INNER_A, V6_INNER_B, 5000, 6000, bytes(range(256))[:size])
    return udp_packet(V4_INNER_A, V4_INNER_B, 5000, 6000, bytes(range(256))[:size])


def transport_packet(v6: bool, size: int = 100) -> bytes:
    if v6:
        return udp_packet(V6_CLIENT, V6_SERVER, 1701, 1701, bytes(size))
    return udp_packet(V4_CLIENT, V4_SERVER, 1701, 1701, bytes(size))


@pytest.mark.parametrize(("enc", "integ"), ESP_SUITES)
@pytest.mark.parametrize("v6", [False, True])
@pytest.mark.parametrize("esn", [False, True])
def test_tunnel_round_trip_every_suite(enc: str, integ: str | None, v6: bool, esn: bool) -> None:
    out, inb = sa_pair(enc, integ, v6=v6, esn=esn)
    for size in (0, 1, 15, 16, 17, 100, 1400):
        packet = inner(v6, size)
        wire = out.encapsulate(packet, 1.0)
        outer = parse_ip(wire)
        assert outer.protocol == 50
        assert (outer.src_address, outer.dst_address) == ((V6_CLIENT, V6_SERVER) if v6 else (V4_CLIENT, V4_SERVER))
        assert packet[20:] not in wire  # encrypted
        assert inb.decapsulate(wire, 1.0) == packet
        assert len(out.encapsulate_payload(packet, 1.0)) == len(packet) + out.overhead(len(packet))
    assert inb.stats.packets == 7 and inb.stats.dropped == 0
    assert out.stats.packets == 14


@pytest.mark.parametrize("v6", [False, True])
@pytest.mark.parametrize("protocol", [SAProtocol.ESP, SAProtocol.AH])
def test_transport_round_trip(v6: bool, protocol: SAProtocol) -> None:
    enc = "aes256gcm16" if protocol is SAProtocol.ESP else None
    out, inb = sa_pair(enc, "sha256", mode=Mode.TRANSPORT, protocol=protocol, v6=v6)
    packet = transport_packet(v6)
    wire = out.encapsulate(packet, 0.0)
    pkt = parse_ip(wire)
    assert pkt.protocol == int(protocol)
    assert (pkt.src_address, pkt.dst_address) == ((V6_CLIENT, V6_SERVER) if v6 else (V4_CLIENT, V4_SERVER))
    if not v6:
        assert checksum(pkt.header) == 0  # IPv4 header checksum fixed after the protocol/length change
    assert inb.decapsulate(wire, 0.0) == packet


@pytest.mark.parametrize("v6", [False, True])
def test_ah_tunnel_round_trip_and_mutable_fields(v6: bool) -> None:
    out, inb = sa_pair(None, "sha512", protocol=SAProtocol.AH, v6=v6)
    packet = inner(v6)
    wire = bytearray(out.encapsulate(packet, 0.0))
    assert packet in wire  # AH authenticates, it does not encrypt
    # Routers may change TTL/hop limit and DSCP; the ICV must still verify.
    if v6:
        wire[7] = 3
        wire[1] |= 0x0F
    else:
        wire[8] = 3
        wire[1] = 0xB8
        wire[10:12] = b"\x00\x00"
        wire[10:12] = checksum(bytes(wire[:20])).to_bytes(2, "big")
    assert inb.decapsulate(bytes(wire), 0.0) == packet
    tampered = bytearray(out.encapsulate(packet, 0.0))
    tampered[-1] ^= 1
    with pytest.raises(AuthenticationFailed):
        inb.decapsulate(bytes(tampered), 0.0)
    other = bytearray(out.encapsulate(packet, 0.0))
    src_offset = 8 if v6 else 12
    other[src_offset] ^= 1  # the source address is immutable
    with pytest.raises(AuthenticationFailed):
        inb.decapsulate(bytes(other), 0.0)
    assert inb.stats.auth_failed == 2


def test_ah_ipv4_options_mutable_zeroed_immutable_covered() -> None:
    out, inb = sa_pair(None, "sha1", protocol=SAProtocol.AH, mode=Mode.TRANSPORT)
    base = bytearray(transport_packet(False))
    # Add 8 bytes of options: Record Route (7, mutable) then Router Alert (148, immutable) padded with NOP/EOL.
    options = bytes([7, 3, 4]) + bytes([148, 4, 0, 0]) + bytes([0])
    header = bytearray(base[:20] + options)
    header[0] = 0x47
    packet = bytearray(header + base[20:])
    packet[2:4] = len(packet).to_bytes(2, "big")
    packet[10:12] = b"\x00\x00"
    packet[10:12] = checksum(bytes(packet[:28])).to_bytes(2, "big")
    wire = bytearray(out.encapsulate(bytes(packet), 0.0))
    changed = bytearray(wire)
    changed[22] = 99  # Record Route pointer changes en route: zeroed in the ICV
    assert inb.decapsulate(bytes(changed), 0.0)[28:] == bytes(packet[28:])
    changed = bytearray(out.encapsulate(bytes(packet), 0.0))
    changed[25] = 1  # Router Alert value is immutable
    with pytest.raises(AuthenticationFailed):
        inb.decapsulate(bytes(changed), 0.0)


def test_ah_icv_padding_for_ipv6() -> None:
    """SHA-256-128 gives a 28-byte AH header: IPv6 pads the ICV field to 32 bytes, IPv4 does not."""
    for v6, length in ((False, 28), (True, 32)):
        out, inb = sa_pair(None, "sha256", protocol=SAProtocol.AH, mode=Mode.TRANSPORT, v6=v6)
        wire = out.encapsulate(transport_packet(v6), 0.0)
        ah = parse_ip(wire, walk_extensions=False).payload
        assert (ah[1] + 2) * 4 == length
        assert inb.decapsulate(wire, 0.0) == transport_packet(v6)


def test_udp_encapsulated_tunnel_full_packets() -> None:
    out, inb = sa_pair("aes128gcm16", None, udp=True)
    packet = inner(False)
    wire = out.encapsulate(packet, 0.0)
    outer = parse_ip(wire)
    assert outer.protocol == 17
    assert outer.payload[:4] == (4500).to_bytes(2, "big") * 2
    assert outer.payload[6:8] == b"\x00\x00"  # IPv4: zero UDP checksum (RFC 3948 §2.1)
    assert inb.decapsulate(wire, 0.0) == packet


def test_udp_encapsulated_ipv6_has_a_udp_checksum() -> None:
    out, inb = sa_pair("aes256gcm16", None, udp=True, v6=True)
    wire = out.encapsulate(inner(True), 0.0)
    assert parse_ip(wire).protocol == 17
    assert l4_checksum_ok(wire)
    assert inb.decapsulate(wire, 0.0) == inner(True)


def test_udp_datagram_with_ike_or_keepalive_is_not_esp() -> None:
    _, inb = sa_pair("aes128gcm16", None, udp=True)
    ike = udp_packet(V4_CLIENT, V4_SERVER, 4500, 4500, b"\x00\x00\x00\x00" + b"ike message")
    keepalive = udp_packet(V4_CLIENT, V4_SERVER, 4500, 4500, b"\xff")
    for pkt in (ike, keepalive):
        with pytest.raises(NotESP):
            inb.decapsulate(pkt, 0.0)
    assert inb.stats.not_esp == 2 and inb.stats.dropped == 2


def test_transport_checksum_fixed_after_nat() -> None:
    """RFC 3948 §3.1.2: the sender computed TCP/UDP checksums with its private address."""
    private = V4_INNER_A
    out, inb = sa_pair("aes256gcm16", None, mode=Mode.TRANSPORT, udp=True)
    for packet in (udp_packet(private, V4_SERVER, 1701, 1701, b"l2tp" * 10), tcp_packet(private, V4_SERVER, 40000, 22, b"x")):
        esp = out.encapsulate_payload(packet, 0.0)
        # The NAT rewrote the outer source to the client's public address.
        result = inb.decapsulate_payload(esp, 0.0, src=V4_CLIENT, dst=V4_SERVER)
        assert parse_ip(result).src_address == V4_CLIENT
        assert l4_checksum_ok(result)
        header_len = 8 if packet[9] == 17 else 20
        assert parse_ip(result).payload[header_len:] == parse_ip(packet).payload[header_len:]


def test_transport_without_nat_keeps_checksums_untouched() -> None:
    out, inb = sa_pair("aes128", "sha1", mode=Mode.TRANSPORT)
    packet = udp_packet(V4_CLIENT, V4_SERVER, 1, 2, b"abc")
    broken = bytearray(packet)
    broken[26:28] = b"\x12\x34"  # a wrong UDP checksum passes through unchanged (not ours to fix)
    result = inb.decapsulate(out.encapsulate(bytes(broken), 0.0), 0.0)
    assert result[26:28] == b"\x12\x34"


def test_ipv4_zero_udp_checksum_stays_zero_after_nat() -> None:
    out, inb = sa_pair("aes128gcm16", None, mode=Mode.TRANSPORT, udp=True)
    packet = bytearray(udp_packet(V4_INNER_A, V4_SERVER, 1701, 1701, b"x"))
    packet[26:28] = b"\x00\x00"
    result = inb.decapsulate_payload(out.encapsulate_payload(bytes(packet), 0.0), 0.0, V4_CLIENT, V4_SERVER)
    assert result[26:28] == b"\x00\x00"


def test_replayed_packet_dropped_and_counted() -> None:
    out, inb = sa_pair()
    wire = out.encapsulate(inner(False), 0.0)
    inb.decapsulate(wire, 0.0)
    with pytest.raises(ReplayedPacket):
        inb.decapsulate(wire, 0.0)
    assert (inb.stats.replayed, inb.stats.dropped, inb.stats.packets) == (1, 1, 1)


def test_forged_packet_does_not_move_the_window() -> None:
    out, inb = sa_pair("aes128", "sha256")
    wires = [out.encapsulate(inner(False), 0.0) for _ in range(3)]
    forged = bytearray(wires[2])
    forged[-1] ^= 0xFF
    with pytest.raises(AuthenticationFailed):
        inb.decapsulate(bytes(forged), 0.0)
    assert inb.highest_sequence == 0
    for w in wires:
        inb.decapsulate(w, 0.0)
    assert inb.highest_sequence == 3 and inb.stats.auth_failed == 1


def test_wrong_spi_and_wrong_direction() -> None:
    out, inb = sa_pair(spi=0x1000)
    other_out, _ = sa_pair(spi=0x2000)
    with pytest.raises(WrongSPI):
        inb.decapsulate(other_out.encapsulate(inner(False), 0.0), 0.0)
    assert inb.stats.wrong_spi == 1
    with pytest.raises(LocalProtocolError):
        inb.encapsulate(inner(False), 0.0)
    with pytest.raises(LocalProtocolError):
        out.decapsulate(b"", 0.0)


def _seal_raw(sa_enc: str, key: bytes, ikey: bytes, spi: int, seq: int, plaintext: bytes) -> bytes:
    """Build an ESP packet by hand (AES-CBC + HMAC-SHA1-96) so the padding can be anything."""
    iv = bytes(16)
    body = spi.to_bytes(4, "big") + seq.to_bytes(4, "big") + iv + cipher(sa_enc).encrypt(key, iv, plaintext)
    return body + integrity("sha1").mac(ikey, body)


def _manual_pair() -> tuple[SecurityAssociation, bytes, bytes]:
    key, ikey = bytes(range(16)), bytes(range(20))
    inb = SecurityAssociation(
        SAConfig(Direction.IN, 0x4242, mode=Mode.TUNNEL, cipher=cipher("aes128"), encryption_key=key,
                 integrity=integrity("sha1"), integrity_key=ikey),
        0.0,
    )  # fmt: skip
    return inb, key, ikey


def test_bad_padding_is_dropped_after_authentication() -> None:
    inb, key, ikey = _manual_pair()
    packet = inner(False, 26)  # 54 bytes: 8 bytes of padding to reach 64
    good = packet + bytes(range(1, 9)) + bytes([8, 4])
    assert inb.decapsulate_payload(_seal_raw("aes128", key, ikey, 0x4242, 1, good), 0.0) == packet
    bad = packet + bytes([1, 2, 3, 4, 5, 6, 7, 9]) + bytes([8, 4])
    with pytest.raises(BadPadding):
        inb.decapsulate_payload(_seal_raw("aes128", key, ikey, 0x4242, 2, bad), 0.0)
    too_long = packet + bytes(range(1, 9)) + bytes([200, 4])
    with pytest.raises(BadPadding):
        inb.decapsulate_payload(_seal_raw("aes128", key, ikey, 0x4242, 3, too_long), 0.0)
    assert inb.stats.bad_padding == 2


def test_dummy_packet_and_tfc_padding() -> None:
    inb, key, ikey = _manual_pair()
    dummy = bytes(30) + bytes([0, 59])  # next header 59: no next header
    with pytest.raises(DummyPacket):
        inb.decapsulate_payload(_seal_raw("aes128", key, ikey, 0x4242, 1, dummy), 0.0)
    assert inb.stats.dummy == 1 and inb.stats.dropped == 0
    packet = inner(False, 20)  # 48 bytes, then 12 bytes of TFC padding inside the payload
    tfc = packet + bytes(12) + bytes([1, 2, 2, 4])
    assert inb.decapsulate_payload(_seal_raw("aes128", key, ikey, 0x4242, 2, tfc), 0.0) == packet


def test_tunnel_next_header_must_match_inner_packet() -> None:
    inb, key, ikey = _manual_pair()
    v6_as_v4 = inner(True, 2)  # 50 bytes, padding to 64
    plain = v6_as_v4 + bytes(range(1, 13)) + bytes([12, 4])
    with pytest.raises(ParseError):
        inb.decapsulate_payload(_seal_raw("aes128", key, ikey, 0x4242, 1, plain), 0.0)
    icmp = bytes(14) + bytes([0, 1])
    with pytest.raises(ParseError):
        inb.decapsulate_payload(_seal_raw("aes128", key, ikey, 0x4242, 2, icmp), 0.0)
    assert inb.stats.malformed == 2


def test_ecn_congestion_mark_propagates_to_inner_packet() -> None:
    out, inb = sa_pair("aes128gcm16", None)
    packet = udp_packet(V4_INNER_A, V4_INNER_B, 1, 2, b"ecn", tos=0x02)  # ECT(0)
    wire = bytearray(out.encapsulate(packet, 0.0))
    assert wire[1] == 0x02  # copied to the outer header
    wire[1] |= 3  # a router marks CE
    wire[10:12] = b"\x00\x00"
    wire[10:12] = checksum(bytes(wire[:20])).to_bytes(2, "big")
    result = inb.decapsulate(bytes(wire), 0.0)
    assert result[1] & 3 == 3 and checksum(result[:20]) == 0


def test_df_bit_copied_to_outer_header() -> None:
    out, _ = sa_pair()
    packet = bytearray(inner(False))
    packet[6] |= 0x40
    packet[10:12] = b"\x00\x00"
    packet[10:12] = checksum(bytes(packet[:20])).to_bytes(2, "big")
    assert out.encapsulate(bytes(packet), 0.0)[6] & 0x40


def test_fragments_are_refused_in_transport_mode() -> None:
    out, inb = sa_pair(mode=Mode.TRANSPORT)
    packet = bytearray(transport_packet(False))
    packet[6] = 0x20  # more fragments
    with pytest.raises(ParseError):
        out.encapsulate(bytes(packet), 0.0)
    wire = bytearray(out.encapsulate(transport_packet(False), 0.0))
    wire[6] = 0x20
    with pytest.raises(ParseError):
        inb.decapsulate(bytes(wire), 0.0)


def test_ipv6_hop_by_hop_header_stays_in_front_of_esp() -> None:
    out, inb = sa_pair("aes128gcm16", None, mode=Mode.TRANSPORT, v6=True)
    udp = udp_packet(V6_CLIENT, V6_SERVER, 1, 2, b"hbh")[40:]
    hop_by_hop = bytes([17, 0, 5, 2, 0, 0, 1, 0])  # next header UDP; Router Alert option, PadN
    packet = ip_packet(V6_CLIENT, V6_SERVER, 0, hop_by_hop + udp)
    wire = out.encapsulate(packet, 0.0)
    assert wire[6] == 0 and wire[40] == 50  # hop-by-hop first, then ESP
    assert inb.decapsulate(wire, 0.0) == packet


def test_gcm_counter_ivs_are_unique_and_random_ivs_for_cbc() -> None:
    out, _ = sa_pair("aes128gcm16", None)
    ivs = {out.encapsulate_payload(inner(False), 0.0)[8:16] for _ in range(200)}
    assert len(ivs) == 200
    out, _ = sa_pair("aes128", "sha1")
    ivs = {out.encapsulate_payload(inner(False), 0.0)[8:24] for _ in range(50)}
    assert len(ivs) == 50


def test_malformed_inputs_raise_parse_errors_and_are_counted() -> None:
    out, inb = sa_pair()
    wire = out.encapsulate(inner(False), 0.0)
    cases = [b"", b"\x45", wire[:30], b"\x00" + wire[1:], wire[:20], bytes([0x45]) + wire[1:9] + b"\x06" + wire[10:]]
    for case in cases:
        with pytest.raises(ParseError):
            inb.decapsulate(case, 0.0)
    assert inb.stats.dropped == len(cases)
    assert inb.stats.dropped == sum(
        getattr(inb.stats, n) for n in ("malformed", "auth_failed", "replayed", "bad_padding", "wrong_spi", "expired", "not_esp")
    )
    with pytest.raises(ParseError):
        out.encapsulate(b"\x99" * 40, 0.0)


def test_config_validation() -> None:
    aes, gcm, sha = cipher("aes128"), cipher("aes128gcm16"), integrity("sha1")
    bad_configs = [
        {"cipher": None},
        {"cipher": gcm, "integrity": sha},
        {"cipher": aes},
        {"cipher": aes, "integrity": sha, "spi": 1 << 32},
        {"cipher": aes, "integrity": sha, "replay_window": 0},
        {"cipher": aes, "integrity": sha, "initial_sequence": 0},
        {"cipher": aes, "integrity": sha, "initial_sequence": 1 << 32},
        {"cipher": gcm, "spi": 0, "udp_encapsulation": UdpEncapsulation()},
        {"protocol": SAProtocol.AH, "cipher": aes, "integrity": sha},
        {"protocol": SAProtocol.AH, "integrity": sha, "udp_encapsulation": UdpEncapsulation()},
        {"cipher": aes, "integrity": sha, "local_address": V4_CLIENT, "remote_address": V6_SERVER},
    ]
    for kwargs in bad_configs:
        params = {"spi": 0x100, **kwargs}
        with pytest.raises(LocalProtocolError):
            SAConfig(Direction.OUT, **params)  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError):  # wrong key length, found when the SA binds its keys
        SecurityAssociation(SAConfig(Direction.OUT, 0x100, cipher=aes, encryption_key=b"short", integrity=sha,
                                     integrity_key=bytes(20)), 0.0)  # fmt: skip
    assert "encryption_key" not in repr(SAConfig(Direction.OUT, 0x100, cipher=gcm, encryption_key=b"SECRET" * 4))
    assert "SECRET" not in repr(SAConfig(Direction.OUT, 0x100, cipher=gcm, encryption_key=b"SECRET" * 4))


def test_tunnel_mode_needs_endpoints_and_transport_decap_needs_addresses() -> None:
    gcm = cipher("aes128gcm16")
    out = SecurityAssociation(SAConfig(Direction.OUT, 0x100, cipher=gcm, encryption_key=bytes(20)), 0.0)
    with pytest.raises(LocalProtocolError):
        out.encapsulate(inner(False), 0.0)
    assert out.encapsulate_payload(inner(False), 0.0)  # the payload form needs no addresses
    inb = SecurityAssociation(
        SAConfig(Direction.IN, 0x100, mode=Mode.TRANSPORT, cipher=gcm, encryption_key=bytes(20)), 0.0
    )
    with pytest.raises(LocalProtocolError):
        inb.decapsulate_payload(b"x" * 40, 0.0)
    ah_out, ah_in = sa_pair(None, "sha1", protocol=SAProtocol.AH)
    with pytest.raises(LocalProtocolError):
        ah_out.encapsulate_payload(inner(False), 0.0)
    with pytest.raises(LocalProtocolError):
        ah_in.decapsulate_payload(b"x" * 40, 0.0)


def test_random_bytes_of_wrong_length_is_a_local_error() -> None:
    aes, sha = cipher("aes128"), integrity("sha1")
    config = SAConfig(Direction.OUT, 0x100, cipher=aes, encryption_key=bytes(16), integrity=sha, integrity_key=bytes(20))
    counter = itertools.count()
    sa = SecurityAssociation(config, 0.0, random_bytes=lambda n: bytes(n) if next(counter) == 0 else b"short")
    with pytest.raises(LocalProtocolError):
        sa.encapsulate_payload(inner(False), 0.0)


def test_esn_packet_far_behind_the_window_fails_authentication() -> None:
    """RFC 4303 App. A2: a low sequence number far left of the window is read as the next 2^32 block."""
    out, inb = sa_pair("aes128gcm16", None, esn=True, replay_window=64)
    old = out.encapsulate(inner(False), 0.0)
    for _ in range(100):
        inb.decapsulate(out.encapsulate(inner(False), 0.0), 0.0)
    with pytest.raises(AuthenticationFailed):
        inb.decapsulate(old, 0.0)
    assert inb.highest_sequence == 101


def test_spi_lookup_for_demultiplexing() -> None:
    esp_out, _ = sa_pair("aes128gcm16", None, spi=0xABC, udp=True)
    ah_out, _ = sa_pair(None, "sha1", protocol=SAProtocol.AH, spi=0xDEF, v6=True)
    assert spi_of_packet(esp_out.encapsulate(inner(False), 0.0)) == (SAProtocol.ESP, 0xABC)
    assert spi_of_packet(ah_out.encapsulate(inner(True), 0.0)) == (SAProtocol.AH, 0xDEF)
    assert spi_of_payload(esp_out.encapsulate_payload(inner(False), 0.0)) == 0xABC
    with pytest.raises(NotESP):
        spi_of_packet(udp_packet(V4_CLIENT, V4_SERVER, 4500, 4500, b"\xff"))
    with pytest.raises(ParseError):
        spi_of_payload(b"\x00\x01")
