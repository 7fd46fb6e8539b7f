"""IKEv2Connection as an API: misuse raises LocalProtocolError, bad input is counted (never raised),
retransmission backs off, the NAT-T framing and ports, timers, and the closing sequence."""

from __future__ import annotations

import pytest

from tests.pairs.ikev2_harness import Pair, client_config, gateway_config
from wizard.engine.errors import LocalProtocolError
from wizard.engine.ike.payloads import decode_header
from wizard.engine.ike.v2 import events as ev
from wizard.engine.ike.v2.connection import IKEv2Connection, State


def test_api_misuse() -> None:
    with pytest.raises(ValueError):
        IKEv2Connection("gateway", client_config())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not EAP"):
        IKEv2Connection("responder", gateway_config(auth="eap", eap_username="u", eap_password="p"))
    r = IKEv2Connection("responder", gateway_config())
    with pytest.raises(LocalProtocolError):
        r.connect(0.0)
    with pytest.raises(LocalProtocolError):
        r.update_local_address("192.0.2.99", 4500, 0.0)
    i = IKEv2Connection("initiator", client_config())
    i.connect(0.0)
    with pytest.raises(LocalProtocolError):
        i.connect(0.0)
    assert not i.rekey_child(0.0) and not i.rekey_ike(0.0)


def test_first_message_and_backoff() -> None:
    i = IKEv2Connection("initiator", client_config(retransmit_initial=2.0, retransmit_factor=2.0, retransmit_cap=10.0,
                                                   max_retransmits=4))  # fmt: skip
    i.connect(0.0)
    (first,) = i.datagrams_to_send()
    assert (first.source_port, first.dest_port, first.dest_address) == (500, 500, "192.0.2.1")
    h = decode_header(first.data)
    assert (h.major_version, h.exchange_type, h.flags, h.message_id, h.spi_r) == (2, 34, 0x08, 0, bytes(8))
    sent_at = []
    now = 0.0
    while i.state is not State.CLOSED:
        t = i.get_timer()
        assert t is not None
        now = t
        i.handle_timer(now)
        if i.datagrams_to_send():
            sent_at.append(now)
    assert sent_at == [2.0, 6.0, 14.0, 24.0]  # 2, 4, 8, then capped at 10
    assert i.stats.retransmissions == 4 and i.get_timer() is None
    failed = [e for e in iter(i.next_event, None) if isinstance(e, ev.ConnectionFailed)]
    assert failed and "no reply" in failed[0].reason


@pytest.mark.parametrize("data", [b"", b"\x00", b"junk" * 10, bytes(28), bytes(4) + bytes(40)])
def test_garbage_is_counted(data: bytes) -> None:
    for conn in (IKEv2Connection("initiator", client_config()), IKEv2Connection("responder", gateway_config())):
        if conn.role == "initiator":
            conn.connect(0.0)
        for port in (500, 4500):
            conn.receive_datagram(data, 1.0, local_port=port, remote_address="192.0.2.10", remote_port=500)
        assert conn.stats.received == 2
        assert conn.stats.malformed_dropped + conn.stats.unexpected_dropped + conn.stats.unknown_sa_dropped == 2


def test_ikev1_messages_are_not_ours() -> None:
    r = IKEv2Connection("responder", gateway_config())
    msg = bytes(8) * 2 + bytes([1, 0x10, 2, 0]) + bytes(4) + (28).to_bytes(4, "big")
    r.receive_datagram(msg, 0.0, local_port=500, remote_address="192.0.2.10", remote_port=500)
    assert r.stats.malformed_dropped == 1 and r.datagrams_to_send() == []


def test_nat_t_port_framing_and_timers() -> None:
    p = Pair(client_config(dpd_interval=20), gateway_config(dpd_interval=None))
    p.start()
    p.run(10, lambda q: q.up())
    assert p.up()
    data, sport, dport = p.i_sent[1]
    assert (sport, dport) == (4500, 4500) and data[:4] == bytes(4)  # the non-ESP marker
    t = p.i.get_timer()
    assert t is not None and t == pytest.approx(p.i._last_heard + 20)
    p.i.note_traffic(p.now + 15)
    assert p.i.get_timer() == pytest.approx(p.now + 35)


def test_retransmitted_request_is_answered_from_the_cache() -> None:
    p = Pair(client_config(), gateway_config())
    p.start()
    p.run(10, lambda q: q.up())
    auth_request = p.i_sent[1]
    sent_before = p.r.stats.sent
    p.r.receive_datagram(auth_request[0], p.now, local_port=4500, remote_address="192.0.2.10", remote_port=4500)
    (again,) = p.r.datagrams_to_send()
    assert again.data == p.r_sent[-1][0] and p.r.stats.responses_replayed == 1 and p.r.stats.sent == sent_before + 1
    assert len(p.events("r", ev.ChildSAUp)) == 1  # processed once


def test_events_after_close() -> None:
    p = Pair(client_config(), gateway_config())
    p.start()
    p.run(10, lambda q: q.up())
    p.i.close(p.now)
    p.i.close(p.now)  # idempotent
    p._flush()
    kinds = [type(e).__name__ for e in p.iev]
    assert kinds[-2:] == ["ChildSADeleted", "Closed"]
    assert p.i.get_timer() is None and p.i.children == []
    p.i.receive_datagram(b"x", p.now, local_port=500)
    assert p.i.stats.unexpected_dropped == 1
