"""Hypothesis: ESP/AH decapsulation raises only ParseError subclasses, and counts every drop."""

from __future__ import annotations

import contextlib
import ipaddress

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.esp_packets import V4_CLIENT, V4_INNER_A, V4_INNER_B, V4_SERVER, V6_CLIENT, V6_SERVER, sa_pair, udp_packet
from wizard.engine.crypto.suites import cipher, integrity
from wizard.engine.errors import ParseError
from wizard.engine.esp import (
    Direction,
    Mode,
    ReplayWindow,
    SAConfig,
    SAProtocol,
    SecurityAssociation,
    classify_udp_payload,
    spi_of_packet,
    spi_of_payload,
)
from wizard.engine.esp.ip import fix_l4_checksum, parse_ip

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

INNER = udp_packet(V4_INNER_A, V4_INNER_B, 1, 2, b"fuzz payload")
TRANSPORT = udp_packet(V4_CLIENT, V4_SERVER, 1701, 1701, b"fuzz payload")

CONFIGS = [
    {"enc": "aes128", "integ": "sha1"},
    {"enc": "aes256gcm16", "integ": None, "esn": True},
    {"enc": "aes128ctr", "integ": "aesxcbc", "mode": Mode.TRANSPORT},
    {"enc": "aes128gcm8", "integ": None, "udp": True},
    {"enc": "aes128gcm16", "integ": None, "udp": True, "mode": Mode.TRANSPORT},
    {"enc": None, "integ": "sha256", "protocol": SAProtocol.AH},
    {"enc": None, "integ": "sha1", "protocol": SAProtocol.AH, "mode": Mode.TRANSPORT, "v6": True},
]
PAIRS = [sa_pair(c.pop("enc"), c.pop("integ"), **c) for c in [dict(c) for c in CONFIGS]]  # type: ignore[arg-type]


def valid_packets() -> list[tuple[int, bytes]]:
    out = []
    for index, (sa_out, _) in enumerate(PAIRS):
        mode = sa_out.config.mode
        v6 = sa_out.config.local_address is not None and sa_out.config.local_address.version == 6
        if mode is Mode.TRANSPORT:
            base = udp_packet(V6_CLIENT, V6_SERVER, 1701, 1701, b"fuzz") if v6 else TRANSPORT
        else:
            base = INNER
        out.append((index, sa_out.encapsulate(base, 0.0)))
    return out


VALID = valid_packets()


def decapsulate_only_parse_errors(sa: SecurityAssociation, data: bytes, payload_form: bool = False) -> None:
    dropped = sa.stats.dropped + sa.stats.dummy
    try:
        if payload_form:
            sa.decapsulate_payload(data, 0.0)
        else:
            sa.decapsulate(data, 0.0)
    except ParseError:
        assert sa.stats.dropped + sa.stats.dummy == dropped + 1
    else:
        assert sa.stats.dropped + sa.stats.dummy == dropped


@given(st.integers(0, len(PAIRS) - 1), st.binary(max_size=300))
@FUZZ
def test_random_bytes(index: int, data: bytes) -> None:
    sa = PAIRS[index][1]
    decapsulate_only_parse_errors(sa, data)
    if sa.config.protocol is SAProtocol.ESP:
        decapsulate_only_parse_errors(sa, data, payload_form=True)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[int, bytes]:
    index, packet = draw(st.sampled_from(VALID))
    data = bytearray(packet)
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["flip", "truncate", "extend", "set"]))
        if action == "flip" and data:
            pos = draw(st.integers(0, len(data) - 1))
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif action == "truncate":
            del data[draw(st.integers(0, len(data))) :]
        elif action == "extend":
            data += draw(st.binary(min_size=1, max_size=32))
        elif data:
            pos = draw(st.integers(0, len(data) - 1))
            data[pos] = draw(st.integers(0, 255))
    return index, bytes(data)


@given(mutated())
@FUZZ
def test_mutated_valid_packets(case: tuple[int, bytes]) -> None:
    index, data = case
    decapsulate_only_parse_errors(PAIRS[index][1], data)


# Authenticated garbage: a correct ICV over arbitrary plaintext exercises everything after verification
# (trailer, padding, next header, the inner packet) with input only a compromised peer could send.
KEY, IKEY = bytes(range(16)), bytes(range(20))


def _auth_sa(mode: Mode) -> SecurityAssociation:
    config = SAConfig(
        Direction.IN, 0x5151, mode=mode, cipher=cipher("aes128"), encryption_key=KEY, integrity=integrity("sha1"),
        integrity_key=IKEY, replay_window=1 << 16, local_address=ipaddress.ip_address("192.0.2.2"),
        remote_address=ipaddress.ip_address("192.0.2.1"),
    )  # fmt: skip
    return SecurityAssociation(config, 0.0)


AUTH_SAS = {mode: _auth_sa(mode) for mode in Mode}
_seq = iter(range(1, 1 << 30))


@st.composite
def esp_plaintext(draw: st.DrawFn) -> bytes:
    """Either raw blocks, or a payload with correct self-describing padding and some next header."""
    if draw(st.booleans()):
        n = draw(st.integers(1, 8))
        return draw(st.binary(min_size=16 * n, max_size=16 * n))
    payload = draw(st.one_of(st.binary(max_size=80), st.just(INNER), st.just(INNER[:30]), st.just(TRANSPORT)))
    next_header = draw(st.sampled_from([4, 41, 59, 17, 1, 255]))
    padlen = -(len(payload) + 2) % 16
    return payload + bytes(range(1, padlen + 1)) + bytes([padlen, next_header])


@given(st.sampled_from(list(Mode)), esp_plaintext())
@FUZZ
def test_authenticated_garbage(mode: Mode, plaintext: bytes) -> None:
    iv = bytes(16)
    body = (0x5151).to_bytes(4, "big") + next(_seq).to_bytes(4, "big") + iv
    body += cipher("aes128").encrypt(KEY, iv, plaintext)
    packet = body + integrity("sha1").mac(IKEY, body)
    decapsulate_only_parse_errors(AUTH_SAS[mode], packet, payload_form=True)


@given(st.binary(max_size=120))
@FUZZ
def test_encapsulate_garbage_from_the_tun_device(data: bytes) -> None:
    for sa_out, _ in PAIRS:
        with contextlib.suppress(ParseError):
            sa_out.encapsulate(data, 0.0)


@given(st.binary(max_size=100))
@FUZZ
def test_small_parsers(data: bytes) -> None:
    calls = (
        lambda: parse_ip(data),
        lambda: classify_udp_payload(data),
        lambda: fix_l4_checksum(data),
        lambda: spi_of_packet(data),
        lambda: spi_of_payload(data),
    )
    for call in calls:
        with contextlib.suppress(ParseError):
            call()


@given(st.lists(st.integers(0, 0xFFFFFFFF), max_size=50), st.booleans())
@FUZZ
def test_replay_window_never_accepts_twice(seqs: list[int], esn: bool) -> None:
    window = ReplayWindow(64, esn=esn)
    accepted: set[int] = set()
    for low in seqs:
        try:
            seq = window.infer(low)
            window.check(seq)
        except ParseError:
            continue
        assert seq not in accepted
        window.accept(seq)
        accepted.add(seq)
