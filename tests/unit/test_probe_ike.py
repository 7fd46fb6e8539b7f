"""Gateway probe, IKE side, sans-IO: each attempt against our own IKEv2/IKEv1 responder engines in memory."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from wizard.engine.ike.payloads import (
    HEADER_SIZE,
    ExchangeType,
    Header,
    Payload,
    V2Flags,
    decode_chain,
    decode_header,
    encode_chain,
)
from wizard.engine.ike.v1 import IKEv1Config, IKEv1Connection
from wizard.engine.ike.v1.constants import NotifyType as V1Notify
from wizard.engine.ike.v1.constants import PayloadType as V1Payload
from wizard.engine.ike.v1.messages import NotifyPayload as V1NotifyPayload
from wizard.engine.ike.v2 import IKEv2Config, IKEv2Connection, State
from wizard.engine.ike.v2.constants import NotifyType as V2Notify
from wizard.engine.ike.v2.constants import PayloadType as V2Payload
from wizard.engine.ike.v2.messages import KEPayload, NotifyPayload
from wizard.probe.ike import IKEV1_WALK, IKEV2_WALK, MAX_WALK, V1Attempt, V2Attempt, v1_features
from wizard.probe.report import ProposalStatus

CLIENT = ("192.0.2.10", 40000)
GATEWAY = ("192.0.2.1", 500)


def seeded(seed: int = 7) -> Callable[[int], bytes]:
    rng = random.Random(seed)
    return lambda n: bytes(rng.getrandbits(8) for _ in range(n))


def v2_gateway(*proposals: str, cookie: bool = False) -> IKEv2Connection:
    config = IKEv2Config(local_address=GATEWAY[0], peer_address=CLIENT[0], psk="gw", ike_proposals=proposals,
                         require_cookie=cookie, random_bytes=seeded(1))  # fmt: skip
    return IKEv2Connection("responder", config)


def v1_gateway(*proposals: str) -> IKEv1Connection:
    config = IKEv1Config(local_address=GATEWAY[0], peer_address=CLIENT[0], psk="gw", ike_proposals=proposals,
                         random_bytes=seeded(1))  # fmt: skip
    return IKEv1Connection("responder", config)


def exchange(
    attempt: V2Attempt | V1Attempt, gateway: IKEv2Connection | IKEv1Connection, pending: list[bytes] | None = None
) -> list[bytes]:
    """Pass datagrams both ways until the attempt is done; return what it sends after deciding."""
    last: list[bytes] = []
    for _ in range(3):
        out = (pending or []) + attempt.datagrams_to_send()
        pending = None
        if out:
            last = out
        for data in out:
            gateway.receive_datagram(data, 1.0, local_port=500, remote_address=CLIENT[0], remote_port=CLIENT[1])
        for d in gateway.datagrams_to_send():
            attempt.receive(d.data, 1.0, local_port=CLIENT[1])
        if attempt.done:
            return attempt.datagrams_to_send()
    return last


def test_walk_lists_are_bounded_and_valid() -> None:
    assert len(IKEV2_WALK) <= MAX_WALK and len(IKEV1_WALK) <= MAX_WALK
    for p in IKEV2_WALK:
        V2Attempt(p, timeout=1.0)
    for p in IKEV1_WALK:
        V1Attempt(p, local=CLIENT, peer=GATEWAY, timeout=1.0)


# --- IKEv2: a decoy key exchange makes acceptance stateless ------------------------------------------


def test_v2_accepted_suite_comes_back_as_invalid_ke_for_our_group_and_the_gateway_keeps_nothing() -> None:
    attempt = V2Attempt("aes256-sha256-modp2048", timeout=2.0, random_bytes=seeded())
    attempt.start(0.0)
    first = attempt.datagrams_to_send()[0]
    header = decode_header(first)
    payloads = decode_chain(header.next_payload, first[HEADER_SIZE:]).payloads
    ke = KEPayload.decode(next(p.body for p in payloads if p.type == V2Payload.KE))
    assert (header.exchange_type, header.spi_r, ke.group) == (ExchangeType.IKE_SA_INIT, bytes(8), 19)  # ecp256 decoy
    gateway = v2_gateway("aes128-sha256-modp2048", "aes256-sha256-modp2048")
    exchange(attempt, gateway, [first])
    assert attempt.outcome is not None and attempt.outcome.status is ProposalStatus.ACCEPTED
    assert attempt.answered and not attempt.half_open
    assert gateway.state is State.IDLE and gateway.ike_sa is None  # no half-open SA


def test_v2_decoy_group_avoids_the_proposal_group() -> None:
    attempt = V2Attempt("aes128gcm16-prfsha256-ecp256", timeout=2.0, random_bytes=seeded())
    assert attempt.decoy.name == "modp2048" and attempt.group.name == "ecp256"
    attempt.start(0.0)
    exchange(attempt, v2_gateway("aes128gcm16-prfsha256-ecp256"))
    assert attempt.outcome is not None and attempt.outcome.status is ProposalStatus.ACCEPTED


def test_v2_refused_suite() -> None:
    attempt = V2Attempt("3des-sha1-modp1024", timeout=2.0, random_bytes=seeded())
    attempt.start(0.0)
    gateway = v2_gateway("aes256-sha256-modp2048")
    exchange(attempt, gateway)
    assert attempt.outcome is not None
    assert (attempt.outcome.status, attempt.outcome.detail) == (ProposalStatus.REFUSED, "NO_PROPOSAL_CHOSEN")


def test_v2_cookie_challenge_is_answered_once_then_decided() -> None:
    attempt = V2Attempt("aes256-sha256-modp2048", timeout=2.0, random_bytes=seeded())
    attempt.start(0.0)
    exchange(attempt, v2_gateway("aes256-sha256-modp2048", cookie=True))
    assert attempt.outcome is not None and attempt.outcome.status is ProposalStatus.ACCEPTED
    assert attempt.features == ("COOKIE challenge (DoS protection on)",)


def _v2_answer(attempt: V2Attempt, *notifies: NotifyPayload, sa: bool = False) -> bytes:
    payloads = [n.payload() for n in notifies]
    if sa:  # a full answer: the SA payload is our own offer echoed (the probe does not check it further)
        payloads.insert(0, Payload(V2Payload.SA, decode_chain(*_first_payload(attempt)).payloads[0].body))
    first, body = encode_chain(payloads)
    header = Header(attempt.spi, bytes(range(1, 9)), first, ExchangeType.IKE_SA_INIT, int(V2Flags.RESPONSE), 0,
                    HEADER_SIZE + len(body), 2, 0)  # fmt: skip
    return header.encode() + body


def _first_payload(attempt: V2Attempt) -> tuple[int, bytes]:
    request = attempt.datagrams_to_send()[0]
    attempt._out.append(request)  # put it back: only looked at
    return decode_header(request).next_payload, request[HEADER_SIZE:]


def test_v2_invalid_ke_for_another_group_says_which() -> None:
    attempt = V2Attempt("aes256-sha256-ecp256", timeout=2.0, random_bytes=seeded())
    attempt.start(0.0)
    attempt.receive(_v2_answer(attempt, NotifyPayload(V2Notify.INVALID_KE_PAYLOAD, (14).to_bytes(2, "big"))), 0.1)
    assert attempt.outcome is not None
    assert (attempt.outcome.status, attempt.outcome.detail) == (ProposalStatus.OTHER_GROUP, "wants DH group modp2048")


def test_v2_other_errors_and_non_conforming_full_answers() -> None:
    attempt = V2Attempt("aes256-sha256-modp2048", timeout=2.0, random_bytes=seeded())
    attempt.start(0.0)
    attempt.receive(_v2_answer(attempt, NotifyPayload(V2Notify.AUTHENTICATION_FAILED)), 0.1)
    assert attempt.outcome is not None and (attempt.outcome.status, attempt.outcome.detail) == (
        ProposalStatus.ERROR, "AUTHENTICATION_FAILED")  # fmt: skip
    full = V2Attempt("aes256-sha256-modp2048", timeout=2.0, random_bytes=seeded(3))
    full.start(0.0)
    full.receive(_v2_answer(full, sa=True), 0.1)
    assert full.outcome is not None and full.outcome.status is ProposalStatus.ACCEPTED and full.half_open


def test_v2_junk_and_foreign_answers_are_counted_not_raised() -> None:
    attempt = V2Attempt("aes256-sha256-modp2048", timeout=2.0, random_bytes=seeded())
    attempt.start(0.0)
    other = V2Attempt("aes256-sha256-modp2048", timeout=2.0, random_bytes=seeded(9))
    other.start(0.0)
    for junk in (b"", b"\x00" * 10, bytes(range(40)), _v2_answer(other, NotifyPayload(V2Notify.NO_PROPOSAL_CHOSEN))):
        attempt.receive(junk, 0.1)
    request = attempt.datagrams_to_send()[0]
    attempt.receive(request, 0.1)  # our own request reflected: not a response
    assert attempt.outcome is None and attempt.malformed == 5 and not attempt.answered


def test_v2_silence_retransmits_once_then_gives_up() -> None:
    attempt = V2Attempt("aes256-sha256-modp2048", timeout=2.0, random_bytes=seeded())
    attempt.start(10.0)
    sent = attempt.datagrams_to_send()
    assert attempt.get_timer() == 11.0
    attempt.handle_timer(11.0)
    assert attempt.datagrams_to_send() == sent
    assert attempt.get_timer() == 12.0
    attempt.handle_timer(12.0)
    assert attempt.outcome is not None and attempt.outcome.status is ProposalStatus.NO_ANSWER
    assert attempt.get_timer() is None and attempt.datagrams_to_send() == []


# --- IKEv1: the engine's Main Mode message 1, then a notify ends the half-open SA --------------------


def test_v1_accepted_suite_sends_the_goodbye_notify_not_message_3() -> None:
    attempt = V1Attempt("aes128-sha1-modp2048", local=CLIENT, peer=GATEWAY, timeout=2.0, random_bytes=seeded())
    attempt.start(0.0)
    gateway = v1_gateway("aes256-sha256-modp2048", "aes128-sha1-modp2048")
    goodbye = exchange(attempt, gateway)
    assert attempt.outcome is not None and attempt.outcome.status is ProposalStatus.ACCEPTED
    assert attempt.said_goodbye and len(goodbye) == 1
    header = decode_header(goodbye[0])
    assert header.exchange_type == ExchangeType.INFORMATIONAL and header.spi_i == attempt.spi
    assert gateway.ike_sa is None or not gateway.established
    assert header.spi_r != bytes(8)  # names the gateway's half-open SA
    notify = decode_chain(header.next_payload, goodbye[0][HEADER_SIZE:]).payloads[0]
    assert notify.type == V1Payload.NOTIFY
    assert V1NotifyPayload.decode(notify.body).notify_type == V1Notify.NO_PROPOSAL_CHOSEN
    assert "NAT-T" in attempt.features and "DPD" in attempt.features


def test_v1_refused_suite() -> None:
    attempt = V1Attempt("des-md5-modp768", local=CLIENT, peer=GATEWAY, timeout=2.0, random_bytes=seeded())
    attempt.start(0.0)
    exchange(attempt, v1_gateway("aes256-sha256-modp2048"))
    assert attempt.outcome is not None
    assert (attempt.outcome.status, attempt.outcome.detail) == (ProposalStatus.REFUSED, "NO_PROPOSAL_CHOSEN")
    assert not attempt.said_goodbye


def test_v1_silence_gives_no_answer_after_one_retransmission() -> None:
    attempt = V1Attempt("aes256-sha256-modp2048", local=CLIENT, peer=GATEWAY, timeout=2.0, random_bytes=seeded())
    attempt.start(0.0)
    first = attempt.datagrams_to_send()
    sent = 0
    while not attempt.done:
        timer = attempt.get_timer()
        assert timer is not None and timer <= 2.0 + 1e-9
        attempt.handle_timer(timer)
        sent += len(attempt.datagrams_to_send())
    assert len(first) == 1 and sent == 1
    assert attempt.outcome is not None and attempt.outcome.status is ProposalStatus.NO_ANSWER


def test_v1_junk_is_counted() -> None:
    attempt = V1Attempt("aes256-sha256-modp2048", local=CLIENT, peer=GATEWAY, timeout=2.0, random_bytes=seeded())
    attempt.start(0.0)
    for junk in (b"", b"\xff" * 28, bytes(200)):
        attempt.receive(junk, 0.1, local_port=CLIENT[1])
    assert attempt.outcome is None and attempt.malformed == 3


@pytest.mark.parametrize(
    ("vids", "expected"),
    [
        ([bytes.fromhex("4a131c81070358455c5728f20e95452f")], ("NAT-T",)),
        (
            [bytes.fromhex("afcad71368a1f1c96b8696fc77570100"), b"\x01" * 16, b"\x02" * 16],
            ("DPD", "2 other vendor IDs"),
        ),
        ([bytes.fromhex("12f5f28c457168a9702d9fe274cc0100")], ("Cisco Unity",)),
    ],
)
def test_v1_vendor_ids(vids: list[bytes], expected: tuple[str, ...]) -> None:
    assert v1_features([Payload(V1Payload.VENDOR_ID, v) for v in vids]) == expected
