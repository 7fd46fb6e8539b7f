"""MppeEncryptor/MppeDecryptor behaviour: round trips, coherency count, loss and resync."""

from __future__ import annotations

import pytest

from wizard.engine.crypto import mppe
from wizard.engine.crypto.mppe import (
    CCOUNT_SPACE,
    FLAG_ENCRYPTED,
    FLAG_FLUSHED,
    MppeDecryptor,
    MppeDropped,
    MppeEncryptor,
    MppeResyncNeeded,
)
from wizard.engine.crypto.rc4 import rc4
from wizard.engine.errors import LocalProtocolError, ParseError

# RFC 3079 section 3.5.3 SendStartKey128 (its first 8 octets are the 40/56-bit start key).
START_KEY = bytes.fromhex("8B7CDC149B993A1BA118CB153F56DCCB")
MODES = [(bits, stateless) for bits in (40, 56, 128) for stateless in (True, False)]


def payload(i: int) -> bytes:
    """A PPP protocol field (IPv4) plus data that differs per packet and in length."""
    return b"\x00\x21" + i.to_bytes(4, "big") * (1 + i % 7)


def header(packet: bytes) -> tuple[int, bool, int]:
    h = int.from_bytes(packet[:2], "big")
    return h & 0x0FFF, bool(h & FLAG_FLUSHED), h


def pair(bits: int, stateless: bool) -> tuple[MppeEncryptor, MppeDecryptor]:
    return MppeEncryptor(START_KEY, bits, stateless), MppeDecryptor(START_KEY, bits, stateless)


@pytest.mark.parametrize(("bits", "stateless"), MODES)
def test_round_trip(bits: int, stateless: bool) -> None:
    enc, dec = pair(bits, stateless)
    for i in range(300):
        packet = enc.encrypt(payload(i))
        ccount, flushed, h = header(packet)
        assert ccount == i
        assert h & FLAG_ENCRYPTED
        assert flushed == (stateless or (i & 0xFF) == 0xFF)
        assert len(packet) == 2 + len(payload(i))
        assert packet[2:] != payload(i)
        assert dec.decrypt(packet) == payload(i)
    assert dec.coherency_count == enc.coherency_count == 299


@pytest.mark.parametrize("bits", [40, 56, 128])
def test_first_packet_keys(bits: int) -> None:
    # Stateful: the first packet uses the initial session key (RFC 3079 3.5 "SendSessionKey").
    # Stateless: the key is changed before every packet, the first one included.
    n = mppe.key_length_for_bits(bits)
    initial = mppe.initial_session_key(START_KEY[:n], bits)
    data = b"\x00\x21test message"
    stateful = MppeEncryptor(START_KEY, bits, stateless=False).encrypt(data)
    assert stateful == bytes([0x10, 0x00]) + rc4(initial, data)
    stateless = MppeEncryptor(START_KEY, bits, stateless=True).encrypt(data)
    changed = mppe.change_key(START_KEY[:n], initial, bits)
    assert stateless == bytes([0x90, 0x00]) + rc4(changed, data)


def test_stateful_keystream_runs_across_packets() -> None:
    enc, _ = pair(128, False)
    first = enc.encrypt(b"\x00\x21" + bytes(10))
    second = enc.encrypt(b"\x00\x21" + bytes(10))
    key = mppe.initial_session_key(START_KEY, 128)
    stream = rc4(key, bytes(24))
    assert first[2:] == rc4(key, b"\x00\x21" + bytes(10))
    assert bytes(a ^ b for a, b in zip(second[2:], b"\x00\x21" + bytes(10), strict=True)) == stream[12:]


@pytest.mark.parametrize(("bits", "stateless"), [(128, True), (128, False), (40, False)])
def test_coherency_count_wraps_at_4096(bits: int, stateless: bool) -> None:
    enc, dec = pair(bits, stateless)
    counts = []
    for i in range(CCOUNT_SPACE + 10):
        packet = enc.encrypt(payload(i))
        counts.append(header(packet)[0])
        assert dec.decrypt(packet) == payload(i)
    assert counts[CCOUNT_SPACE - 1] == 0xFFF
    assert counts[CCOUNT_SPACE] == 0
    assert counts[-1] == 9


@pytest.mark.parametrize("bits", [40, 56, 128])
def test_stateless_survives_lost_packets(bits: int) -> None:
    enc, dec = pair(bits, True)
    lost = {3, 4, 5, 100} | set(range(200, 1200))
    for i in range(1500):
        packet = enc.encrypt(payload(i))
        if i in lost:
            continue
        assert dec.decrypt(packet) == payload(i)


def test_stateless_loss_across_wrap() -> None:
    enc, dec = pair(128, True)
    for i in range(CCOUNT_SPACE - 3):
        dec.decrypt(enc.encrypt(payload(i)))
    for i in range(6):  # counts 0xFFD..0x002 lost
        enc.encrypt(payload(i))
    assert dec.decrypt(enc.encrypt(b"\x00\x21after")) == b"\x00\x21after"
    assert dec.coherency_count == 3


def test_stateless_duplicate_and_late_packets_are_dropped_without_state_change() -> None:
    enc, dec = pair(128, True)
    packets = [enc.encrypt(payload(i)) for i in range(5)]
    assert dec.decrypt(packets[0]) == payload(0)
    assert dec.decrypt(packets[2]) == payload(2)
    for stale in (packets[2], packets[1], packets[0]):
        with pytest.raises(MppeDropped):
            dec.decrypt(stale)
    assert dec.decrypt(packets[3]) == payload(3)
    assert dec.decrypt(packets[4]) == payload(4)


def test_stateful_loss_raises_resync_until_flushed_packet() -> None:
    enc, dec = pair(128, False)
    for i in range(10):
        assert dec.decrypt(enc.encrypt(payload(i))) == payload(i)
    enc.encrypt(payload(10))  # lost
    with pytest.raises(MppeResyncNeeded) as first:
        dec.decrypt(enc.encrypt(payload(11)))
    assert first.value.repeat is False
    assert "lost" in first.value.reason
    assert dec.awaiting_resync
    with pytest.raises(MppeResyncNeeded) as again:
        dec.decrypt(enc.encrypt(payload(12)))
    assert again.value.repeat is True
    # The PPP layer sends a CCP Reset-Request; the peer's encryptor handles it.
    enc.reset()
    packet = enc.encrypt(payload(13))
    assert header(packet)[1]  # FLUSHED
    assert dec.decrypt(packet) == payload(13)
    assert not dec.awaiting_resync
    for i in range(14, 600):  # continues in step, across two flag packets
        assert dec.decrypt(enc.encrypt(payload(i))) == payload(i)


@pytest.mark.parametrize("bits", [40, 56, 128])
def test_stateful_resync_after_losing_flag_packets(bits: int) -> None:
    enc, dec = pair(bits, False)
    for i in range(250):
        dec.decrypt(enc.encrypt(payload(i)))
    for i in range(250, 700):  # loses the flag packets 0x0FF and 0x1FF
        enc.encrypt(payload(i))
    with pytest.raises(MppeResyncNeeded):
        dec.decrypt(enc.encrypt(payload(700)))
    enc.reset()
    assert dec.decrypt(enc.encrypt(payload(701))) == payload(701)
    for i in range(702, 1100):
        assert dec.decrypt(enc.encrypt(payload(i))) == payload(i)


def test_stateful_resync_across_wrap() -> None:
    enc, dec = pair(128, False)
    for i in range(CCOUNT_SPACE - 5):
        dec.decrypt(enc.encrypt(payload(i)))
    for i in range(10):  # loses the flag packet 0xFFF and the wrap
        enc.encrypt(payload(i))
    with pytest.raises(MppeResyncNeeded):
        dec.decrypt(enc.encrypt(payload(1)))
    enc.reset()
    assert dec.decrypt(enc.encrypt(b"\x00\x21ok")) == b"\x00\x21ok"
    assert dec.coherency_count == 6


def test_stateful_loss_then_flag_packet_resyncs_without_reset() -> None:
    # A lost packet followed directly by a FLUSHED flag packet needs no Reset-Request.
    enc, dec = pair(128, False)
    for i in range(250):
        dec.decrypt(enc.encrypt(payload(i)))
    for i in range(250, 255):
        enc.encrypt(payload(i))
    flag = enc.encrypt(payload(255))
    assert header(flag)[:2] == (0xFF, True)
    assert dec.decrypt(flag) == payload(255)
    assert dec.decrypt(enc.encrypt(payload(256))) == payload(256)


def test_stateful_duplicate_is_dropped_without_losing_sync() -> None:
    enc, dec = pair(128, False)
    p0 = enc.encrypt(payload(0))
    p1 = enc.encrypt(payload(1))
    assert dec.decrypt(p0) == payload(0)
    assert dec.decrypt(p1) == payload(1)
    with pytest.raises(MppeDropped):
        dec.decrypt(p1)
    with pytest.raises(MppeDropped):
        dec.decrypt(p0)
    assert dec.decrypt(enc.encrypt(payload(2))) == payload(2)


def test_reset_sets_flushed_on_next_packet_only() -> None:
    enc, dec = pair(56, False)
    dec.decrypt(enc.encrypt(payload(0)))
    enc.reset()
    flushed = enc.encrypt(payload(1))
    plain = enc.encrypt(payload(2))
    assert header(flushed)[1] is True
    assert header(plain)[1] is False
    assert dec.decrypt(flushed) == payload(1)
    assert dec.decrypt(plain) == payload(2)


def test_reset_in_stateless_mode_is_harmless() -> None:
    enc, dec = pair(128, True)
    dec.decrypt(enc.encrypt(payload(0)))
    enc.reset()
    assert dec.decrypt(enc.encrypt(payload(1))) == payload(1)


def _assert_rejected_without_state_change(dec: MppeDecryptor, bad: bytes, enc: MppeEncryptor) -> None:
    before = dec.coherency_count
    with pytest.raises(ParseError):
        dec.decrypt(bad)
    assert dec.coherency_count == before
    assert dec.decrypt(enc.encrypt(b"\x00\x21next")) == b"\x00\x21next"


@pytest.mark.parametrize(("bits", "stateless"), MODES)
@pytest.mark.parametrize(
    "bad",
    [
        b"",
        b"\x90",
        b"\x90\x00",  # header without data
        b"\x80\x00\x01\x02",  # D (encrypted) bit clear
        b"\xb0\x00\x01\x02",  # C (compressed) bit set
    ],
)
def test_malformed_packets_raise_parse_error(bits: int, stateless: bool, bad: bytes) -> None:
    enc, dec = pair(bits, stateless)
    _assert_rejected_without_state_change(dec, bad, enc)


def test_stateless_packet_without_flushed_bit_is_rejected() -> None:
    enc, dec = pair(128, True)
    _assert_rejected_without_state_change(dec, b"\x10\x00abc", enc)


def test_stateful_flag_packet_without_flushed_bit_is_rejected() -> None:
    enc, dec = pair(128, False)
    for i in range(0xFF):
        dec.decrypt(enc.encrypt(payload(i)))
    _assert_rejected_without_state_change(dec, b"\x10\xffabc", enc)


def test_api_misuse() -> None:
    with pytest.raises(LocalProtocolError):
        MppeEncryptor(START_KEY, 128, True).encrypt(b"")
    with pytest.raises(ValueError):
        MppeEncryptor(START_KEY[:8], 128, True)
    with pytest.raises(ValueError):
        MppeDecryptor(START_KEY, 64, True)


def test_longer_start_key_is_truncated_for_short_keys() -> None:
    # PPP may hand over 16-byte start keys for 40-bit MPPE, as pppd does to the kernel.
    enc = MppeEncryptor(START_KEY, 40, False)
    dec = MppeDecryptor(START_KEY[:8], 40, False)
    assert dec.decrypt(enc.encrypt(b"\x00\x21hi")) == b"\x00\x21hi"


def test_directions_do_not_decrypt_each_other() -> None:
    send, recv = mppe.mppe_keys_from_mschapv2("clientPass", bytes(24), False, 16)
    enc = MppeEncryptor(send, 128, True)
    wrong = MppeDecryptor(recv, 128, True)
    right = MppeDecryptor(send, 128, True)
    packet = enc.encrypt(b"\x00\x21secret")
    assert wrong.decrypt(packet) != b"\x00\x21secret"
    assert right.decrypt(packet) == b"\x00\x21secret"


def test_stateful_large_loss_is_repaired_by_reset() -> None:
    # More than half the count space lost: still a loss (not "late"), so a reset repairs it.
    enc, dec = pair(128, False)
    for i in range(10):
        dec.decrypt(enc.encrypt(payload(i)))
    for i in range(3000):
        enc.encrypt(payload(i))
    with pytest.raises(MppeResyncNeeded):
        dec.decrypt(enc.encrypt(payload(1)))
    enc.reset()
    assert dec.decrypt(enc.encrypt(b"\x00\x21back")) == b"\x00\x21back"
    assert dec.decrypt(enc.encrypt(b"\x00\x21again")) == b"\x00\x21again"


def test_stateful_late_flushed_packet_does_not_resync_wrongly() -> None:
    enc, dec = pair(128, False)
    for i in range(0xFF):
        dec.decrypt(enc.encrypt(payload(i)))
    flag = enc.encrypt(payload(0xFF))
    assert dec.decrypt(flag) == payload(0xFF)
    enc.encrypt(payload(0x100))  # lost
    with pytest.raises(MppeResyncNeeded):
        dec.decrypt(enc.encrypt(payload(0x101)))
    with pytest.raises(MppeDropped):
        dec.decrypt(flag)  # an old FLUSHED packet arriving late must not be used to resync
    enc.reset()
    assert dec.decrypt(enc.encrypt(payload(0x103))) == payload(0x103)
