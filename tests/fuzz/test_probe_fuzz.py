"""Hypothesis: the gateway probe's attempts never raise on whatever a gateway sends back.

Answers carry our SPI (IKE) or arrive in the right phase (PPTP), so the fuzzed bytes get past the
first checks and reach the payload, notify and message decoders behind them.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from wizard.engine.ike.payloads import HEADER_SIZE, ExchangeType, Header, V2Flags
from wizard.probe.ike import V1Attempt, V2Attempt
from wizard.probe.l2tp import L2tpProbe
from wizard.probe.pptp import PptpProbe

CLIENT = ("192.0.2.10", 40000)
GATEWAY = ("192.0.2.1", 500)
EXAMPLES = settings(max_examples=300, deadline=None)


def _answer(spi: bytes, version: int, exchange: int, flags: int, first: int, body: bytes) -> bytes:
    header = Header(spi, b"\x11" * 8, first, exchange, flags, 0, HEADER_SIZE + len(body), version, 0)
    return header.encode() + body


@EXAMPLES
@given(first=st.integers(0, 255), body=st.binary(max_size=300), raw=st.binary(max_size=100))
def test_v2_attempt_never_raises(first: int, body: bytes, raw: bytes) -> None:
    attempt = V2Attempt("aes256-sha256-modp2048", timeout=1.0)
    attempt.start(0.0)
    attempt.receive(raw, 0.1)
    attempt.receive(_answer(attempt.spi, 2, ExchangeType.IKE_SA_INIT, int(V2Flags.RESPONSE), first, body), 0.2)
    attempt.handle_timer(1.0)
    assert attempt.done


@EXAMPLES
@given(first=st.integers(0, 255), body=st.binary(max_size=300), exchange=st.sampled_from([2, 5]))
def test_v1_attempt_never_raises(first: int, body: bytes, exchange: int) -> None:
    attempt = V1Attempt("aes256-sha256-modp2048", local=CLIENT, peer=GATEWAY, timeout=1.0)
    attempt.start(0.0)
    attempt.receive(_answer(attempt.spi, 1, exchange, 0, first, body), 0.1, local_port=CLIENT[1])
    while not attempt.done and (timer := attempt.get_timer()) is not None:
        attempt.handle_timer(timer)
    assert attempt.done


@EXAMPLES
@given(chunks=st.lists(st.binary(max_size=200), max_size=4))
def test_l2tp_probe_never_raises(chunks: list[bytes]) -> None:
    probe = L2tpProbe("192.0.2.1", timeout=1.0)
    probe.start(0.0)
    for i, data in enumerate(chunks):
        probe.receive(data, 0.1 * i)
    probe.handle_timer(5.0)
    probe.result(5.0)


@EXAMPLES
@given(first=st.binary(max_size=200), after=st.binary(max_size=200))
def test_pptp_probe_never_raises(first: bytes, after: bytes) -> None:
    probe = PptpProbe(timeout=1.0)
    probe.start(0.0)
    probe.receive(first, 0.1)
    probe.receive(after, 0.2)
    probe.handle_timer(5.0)
    assert probe.done
    probe.result(5.0)
