"""Arbitrary bytes into MppeDecryptor.decrypt raise only ParseError or MppeResyncNeeded."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from wizard.engine.crypto.mppe import MppeDecryptor, MppeEncryptor, MppeResyncNeeded
from wizard.engine.errors import ParseError

START_KEY = bytes(range(16))

# Packets that look like MPPE (D bit set, random flags and count) reach deeper code paths
# than uniformly random bytes, half of which fail the header checks.
mppe_like = st.builds(
    lambda flags, count, body: (((flags & 0xE) | 1) << 12 | count).to_bytes(2, "big") + body,
    st.integers(0, 15),
    st.integers(0, 0xFFF),
    st.binary(min_size=0, max_size=40),
)
packets = st.lists(st.one_of(st.binary(max_size=40), mppe_like), max_size=12)


@settings(max_examples=300, deadline=None)
@given(bits=st.sampled_from([40, 56, 128]), stateless=st.booleans(), inputs=packets)
def test_decrypt_raises_only_typed_errors(bits: int, stateless: bool, inputs: list[bytes]) -> None:
    dec = MppeDecryptor(START_KEY, bits, stateless)
    for packet in inputs:
        try:
            out = dec.decrypt(packet)
        except (ParseError, MppeResyncNeeded):
            continue
        assert len(out) == len(packet) - 2
        assert 0 <= dec.coherency_count < 4096


@settings(max_examples=200, deadline=None)
@given(
    bits=st.sampled_from([40, 56, 128]),
    stateless=st.booleans(),
    script=st.lists(st.tuples(st.binary(min_size=1, max_size=30), st.booleans()), max_size=30),
    noise=st.lists(st.binary(max_size=20), max_size=5),
)
def test_garbage_between_real_packets_never_breaks_sync(
    bits: int, stateless: bool, script: list[tuple[bytes, bool]], noise: list[bytes]
) -> None:
    # Rejected garbage must leave the decryptor untouched: every delivered real packet still
    # decrypts. Stateful loss is repaired by a reset; the FLUSHED packet answering it is always
    # delivered, since losing it desynchronises stateful MPPE in every implementation.
    enc = MppeEncryptor(START_KEY, bits, stateless)
    dec = MppeDecryptor(START_KEY, bits, stateless)
    delivered = 0
    for n, (data, deliver) in enumerate(script):
        packet = enc.encrypt(data)
        if noise:
            junk = noise[n % len(noise)]
            try:
                dec.decrypt(junk)
            except ParseError:
                pass
            except MppeResyncNeeded as exc:
                if not exc.repeat:
                    enc.reset()  # what the PPP layer's Reset-Request achieves
            else:
                # Garbage that parses as a future packet is indistinguishable from one (MPPE
                # has no integrity check); stop this example there.
                return
        flushed = bool(packet[0] & 0x80)
        if not deliver and not (dec.awaiting_resync and flushed):
            continue
        try:
            out = dec.decrypt(packet)
        except MppeResyncNeeded as exc:
            if not exc.repeat:
                enc.reset()
            continue
        assert out == data
        delivered += 1
    if stateless:
        # Stateless mode never needs a resync: every delivered packet decrypted.
        assert delivered == sum(1 for _, d in script if d)
