"""The RFC 1661 automaton: the transition table cell by cell, and the behaviour of its actions."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from wizard.engine.errors import ParseError
from wizard.engine.ppp.frame import (
    CODE_REJ,
    CONF_ACK,
    CONF_NAK,
    CONF_REJ,
    CONF_REQ,
    TERM_ACK,
    TERM_REQ,
    CPPacket,
    Option,
    build_cp_packet,
    build_options,
    parse_cp_packet,
    parse_options,
)
from wizard.engine.ppp.fsm import (
    ACK,
    REJECT,
    TRANSITIONS,
    Action,
    ControlProtocol,
    FsmEvent,
    OptionVerdict,
    State,
    Timers,
    nak,
)

S = State
E = FsmEvent
A = Action

# RFC 1661 section 4.1, typed in again by hand (not parsed from the module's text) so that a typo
# on either side shows up: (state, event) -> (actions, next state).
RFC_CELLS: dict[tuple[State, FsmEvent], tuple[tuple[Action, ...], State]] = {
    (S.INITIAL, E.UP): ((), S.CLOSED),
    (S.INITIAL, E.OPEN): ((A.TLS,), S.STARTING),
    (S.INITIAL, E.CLOSE): ((), S.INITIAL),
    (S.STARTING, E.UP): ((A.IRC, A.SCR), S.REQ_SENT),
    (S.STARTING, E.OPEN): ((), S.STARTING),
    (S.STARTING, E.CLOSE): ((A.TLF,), S.INITIAL),
    (S.CLOSED, E.DOWN): ((), S.INITIAL),
    (S.CLOSED, E.OPEN): ((A.IRC, A.SCR), S.REQ_SENT),
    (S.CLOSED, E.RCR_PLUS): ((A.STA,), S.CLOSED),
    (S.CLOSED, E.RCA): ((A.STA,), S.CLOSED),
    (S.CLOSED, E.RTR): ((A.STA,), S.CLOSED),
    (S.CLOSED, E.RTA): ((), S.CLOSED),
    (S.CLOSED, E.RUC): ((A.SCJ,), S.CLOSED),
    (S.CLOSED, E.RXJ_MINUS): ((A.TLF,), S.CLOSED),
    (S.STOPPED, E.DOWN): ((A.TLS,), S.STARTING),
    (S.STOPPED, E.OPEN): ((), S.STOPPED),
    (S.STOPPED, E.CLOSE): ((), S.CLOSED),
    (S.STOPPED, E.RCR_PLUS): ((A.IRC, A.SCR, A.SCA), S.ACK_SENT),
    (S.STOPPED, E.RCR_MINUS): ((A.IRC, A.SCR, A.SCN), S.REQ_SENT),
    (S.STOPPED, E.RCA): ((A.STA,), S.STOPPED),
    (S.STOPPED, E.RXJ_MINUS): ((A.TLF,), S.STOPPED),
    (S.CLOSING, E.DOWN): ((), S.INITIAL),
    (S.CLOSING, E.OPEN): ((), S.STOPPING),
    (S.CLOSING, E.TO_PLUS): ((A.STR,), S.CLOSING),
    (S.CLOSING, E.TO_MINUS): ((A.TLF,), S.CLOSED),
    (S.CLOSING, E.RCR_PLUS): ((), S.CLOSING),
    (S.CLOSING, E.RTR): ((A.STA,), S.CLOSING),
    (S.CLOSING, E.RTA): ((A.TLF,), S.CLOSED),
    (S.STOPPING, E.DOWN): ((), S.STARTING),
    (S.STOPPING, E.CLOSE): ((), S.CLOSING),
    (S.STOPPING, E.TO_PLUS): ((A.STR,), S.STOPPING),
    (S.STOPPING, E.TO_MINUS): ((A.TLF,), S.STOPPED),
    (S.STOPPING, E.RTA): ((A.TLF,), S.STOPPED),
    (S.REQ_SENT, E.DOWN): ((), S.STARTING),
    (S.REQ_SENT, E.CLOSE): ((A.IRC, A.STR), S.CLOSING),
    (S.REQ_SENT, E.TO_PLUS): ((A.SCR,), S.REQ_SENT),
    (S.REQ_SENT, E.TO_MINUS): ((A.TLF,), S.STOPPED),
    (S.REQ_SENT, E.RCR_PLUS): ((A.SCA,), S.ACK_SENT),
    (S.REQ_SENT, E.RCR_MINUS): ((A.SCN,), S.REQ_SENT),
    (S.REQ_SENT, E.RCA): ((A.IRC,), S.ACK_RCVD),
    (S.REQ_SENT, E.RCN): ((A.IRC, A.SCR), S.REQ_SENT),
    (S.REQ_SENT, E.RTR): ((A.STA,), S.REQ_SENT),
    (S.REQ_SENT, E.RTA): ((), S.REQ_SENT),
    (S.REQ_SENT, E.RXJ_MINUS): ((A.TLF,), S.STOPPED),
    (S.ACK_RCVD, E.TO_PLUS): ((A.SCR,), S.REQ_SENT),
    (S.ACK_RCVD, E.RCR_PLUS): ((A.SCA, A.TLU), S.OPENED),
    (S.ACK_RCVD, E.RCR_MINUS): ((A.SCN,), S.ACK_RCVD),
    (S.ACK_RCVD, E.RCA): ((A.SCR,), S.REQ_SENT),
    (S.ACK_RCVD, E.RCN): ((A.SCR,), S.REQ_SENT),
    (S.ACK_RCVD, E.RTR): ((A.STA,), S.REQ_SENT),
    (S.ACK_RCVD, E.RTA): ((), S.REQ_SENT),
    (S.ACK_RCVD, E.RXJ_PLUS): ((), S.REQ_SENT),
    (S.ACK_SENT, E.TO_PLUS): ((A.SCR,), S.ACK_SENT),
    (S.ACK_SENT, E.RCR_PLUS): ((A.SCA,), S.ACK_SENT),
    (S.ACK_SENT, E.RCR_MINUS): ((A.SCN,), S.REQ_SENT),
    (S.ACK_SENT, E.RCA): ((A.IRC, A.TLU), S.OPENED),
    (S.ACK_SENT, E.RCN): ((A.IRC, A.SCR), S.ACK_SENT),
    (S.ACK_SENT, E.RTR): ((A.STA,), S.REQ_SENT),
    (S.OPENED, E.DOWN): ((A.TLD,), S.STARTING),
    (S.OPENED, E.OPEN): ((), S.OPENED),
    (S.OPENED, E.CLOSE): ((A.TLD, A.IRC, A.STR), S.CLOSING),
    (S.OPENED, E.RCR_PLUS): ((A.TLD, A.SCR, A.SCA), S.ACK_SENT),
    (S.OPENED, E.RCR_MINUS): ((A.TLD, A.SCR, A.SCN), S.REQ_SENT),
    (S.OPENED, E.RCA): ((A.TLD, A.SCR), S.REQ_SENT),
    (S.OPENED, E.RCN): ((A.TLD, A.SCR), S.REQ_SENT),
    (S.OPENED, E.RTR): ((A.TLD, A.ZRC, A.STA), S.STOPPING),
    (S.OPENED, E.RTA): ((A.TLD, A.SCR), S.REQ_SENT),
    (S.OPENED, E.RUC): ((A.SCJ,), S.OPENED),
    (S.OPENED, E.RXJ_PLUS): ((), S.OPENED),
    (S.OPENED, E.RXJ_MINUS): ((A.TLD, A.IRC, A.STR), S.STOPPING),
    (S.OPENED, E.RXR): ((A.SER,), S.OPENED),
}

IMPOSSIBLE = [
    (S.INITIAL, E.RCR_PLUS),
    (S.INITIAL, E.DOWN),
    (S.STARTING, E.DOWN),
    (S.STARTING, E.RTR),
    (S.CLOSED, E.UP),
    (S.OPENED, E.UP),
    (S.OPENED, E.TO_PLUS),
    (S.REQ_SENT, E.UP),
]


@pytest.mark.parametrize(("cell", "expected"), list(RFC_CELLS.items()), ids=lambda v: str(v))
def test_transition_matches_rfc_1661(
    cell: tuple[State, FsmEvent], expected: tuple[tuple[Action, ...], State]
) -> None:
    assert TRANSITIONS[cell] == expected


@pytest.mark.parametrize("cell", IMPOSSIBLE, ids=str)
def test_impossible_events_have_no_transition(cell: tuple[State, FsmEvent]) -> None:
    assert cell not in TRANSITIONS


def test_table_covers_every_possible_cell() -> None:
    # 16 events x 10 states minus the "-" cells of section 4.1: Up 8, Down 2, TO+ 5, TO- 5, others 2 each.
    assert len(TRANSITIONS) == 160 - (8 + 2 + 5 + 5 + 10 * 2)


# --------------------------------------------------------------------------------------- behaviour

OPT_A = 1  # a 1-octet option we want; the peer must send value 7


class ToyCP(ControlProtocol):
    """A control protocol with one option: we request A=want; we accept only A=7 from the peer."""

    protocol = 0x8001
    name = "TOY"

    def __init__(self, timers: Timers | None = None) -> None:
        self.sent: list[CPPacket] = []
        self.layer: list[Action] = []
        super().__init__(lambda proto, data: self.sent.append(parse_cp_packet(data)), timers or Timers())
        self.listener = lambda cp, action, now: self.layer.append(action)
        self.want = 1
        self.resets = 0

    def reset_options(self) -> None:
        self.resets += 1

    def request_options(self) -> list[Option]:
        return [Option(OPT_A, bytes([self.want]))]

    def request_naked(self, options: Sequence[Option]) -> None:
        self.want = options[0].data[0]

    def check_option(self, option: Option) -> OptionVerdict:
        if option.type != OPT_A or len(option.data) != 1:
            return REJECT
        return ACK if option.data[0] == 7 else nak(Option(OPT_A, b"\x07"))

    def take(self) -> list[CPPacket]:
        sent, self.sent = self.sent, []
        return sent


def _request(ident: int, value: int) -> bytes:
    return build_cp_packet(CONF_REQ, ident, build_options([Option(OPT_A, bytes([value]))]))


def _opened(cp: ToyCP | None = None) -> ToyCP:
    cp = cp or ToyCP()
    cp.open(0.0)
    cp.up(0.0)
    (req,) = cp.take()
    cp.receive(build_cp_packet(CONF_ACK, req.identifier, req.data), 0.1)
    cp.receive(_request(50, 7), 0.2)
    assert cp.state is S.OPENED
    cp.take()
    cp.layer.clear()
    return cp


def test_open_and_up_send_a_configure_request_and_start_the_timer() -> None:
    cp = ToyCP()
    cp.open(0.0)
    assert cp.state is S.STARTING and cp.layer == [A.TLS]
    cp.up(1.0)
    (req,) = cp.take()
    assert req.code == CONF_REQ and parse_options(req.data) == [Option(OPT_A, b"\x01")]
    assert cp.state is S.REQ_SENT and cp.get_timer() == 4.0
    assert cp.restart_count == Timers().max_configure - 1


def test_max_configure_then_this_layer_finished() -> None:
    cp = ToyCP(Timers(restart=2.0, max_configure=4))
    cp.open(0.0)
    cp.up(0.0)
    now = 0.0
    while cp.get_timer() is not None:
        now = cp.get_timer() or now
        cp.handle_timer(now)
    requests = cp.take()
    assert len(requests) == 4  # the first plus three retransmissions
    assert {r.identifier for r in requests} == {requests[0].identifier}  # same request, same id
    assert cp.state is S.STOPPED and cp.layer == [A.TLS, A.TLF]
    assert now == 8.0


def test_timer_does_nothing_before_it_is_due() -> None:
    cp = ToyCP()
    cp.open(0.0)
    cp.up(0.0)
    cp.take()
    cp.handle_timer(2.9)
    assert cp.take() == []


def test_full_negotiation_with_a_nak() -> None:
    cp = ToyCP()
    cp.open(0.0)
    cp.up(0.0)
    (req,) = cp.take()
    cp.receive(build_cp_packet(CONF_NAK, req.identifier, build_options([Option(OPT_A, b"\x09")])), 0.1)
    (req2,) = cp.take()
    assert req2.identifier != req.identifier and parse_options(req2.data) == [Option(OPT_A, b"\x09")]
    assert cp.state is S.REQ_SENT
    cp.receive(_request(1, 3), 0.2)  # the peer asks for 3: we Nak with 7
    (reply,) = cp.take()
    assert reply.code == CONF_NAK and parse_options(reply.data) == [Option(OPT_A, b"\x07")]
    cp.receive(_request(2, 7), 0.3)
    (ack,) = cp.take()
    assert (ack.code, ack.identifier, ack.data) == (CONF_ACK, 2, _request(2, 7)[4:])
    assert cp.state is S.ACK_SENT
    cp.receive(build_cp_packet(CONF_ACK, req2.identifier, req2.data), 0.4)
    assert cp.state is S.OPENED and cp.layer == [A.TLS, A.TLU] and cp.get_timer() is None


def test_ack_with_wrong_identifier_or_options_is_not_accepted() -> None:
    cp = ToyCP()
    cp.open(0.0)
    cp.up(0.0)
    (req,) = cp.take()
    cp.receive(build_cp_packet(CONF_ACK, (req.identifier + 1) & 0xFF, req.data), 0.1)
    assert cp.state is S.REQ_SENT and cp.discarded == 1
    with pytest.raises(ParseError):
        cp.receive(build_cp_packet(CONF_ACK, req.identifier, build_options([Option(OPT_A, b"\x02")])), 0.1)
    assert cp.state is S.REQ_SENT


def test_reject_must_list_options_we_sent() -> None:
    cp = ToyCP()
    cp.open(0.0)
    cp.up(0.0)
    (req,) = cp.take()
    with pytest.raises(ParseError):
        cp.receive(build_cp_packet(CONF_REJ, req.identifier, build_options([Option(9, b"")])), 0.1)


def test_renegotiation_when_opened() -> None:
    cp = _opened()
    resets = cp.resets
    cp.receive(_request(60, 7), 1.0)
    ack_and_request = cp.take()
    assert [p.code for p in ack_and_request] == [CONF_REQ, CONF_ACK]  # tld, scr, sca
    assert cp.layer == [A.TLD] and cp.state is S.ACK_SENT and cp.resets == resets + 1


def test_retransmitted_request_while_opened_is_acked_again() -> None:
    """Deviation for lossy tunnels: our Ack was lost, the peer repeats the same request."""
    cp = _opened()
    cp.receive(_request(50, 7), 1.0)
    (ack,) = cp.take()
    assert ack.code == CONF_ACK and ack.identifier == 50
    assert cp.state is S.OPENED and cp.layer == []


def test_delayed_copy_of_an_older_request_is_ignored() -> None:
    cp = ToyCP()
    cp.open(0.0)
    cp.up(0.0)
    cp.take()
    cp.receive(_request(1, 3), 0.1)  # Nak'd
    cp.receive(_request(2, 7), 0.2)  # Ack'd
    cp.take()
    cp.receive(_request(1, 3), 0.25)  # the link delivers a late copy of the first request
    assert cp.take() == [] and cp.state is S.ACK_SENT and cp.discarded == 1


def test_stale_reply_to_an_answered_request_is_ignored() -> None:
    cp = _opened()
    cp.receive(build_cp_packet(CONF_NAK, 1, build_options([Option(OPT_A, b"\x05")])), 1.0)
    assert cp.state is S.OPENED and cp.take() == []


def test_peer_terminate_when_opened() -> None:
    cp = _opened()
    cp.receive(build_cp_packet(TERM_REQ, 77, b"bye"), 5.0)
    (ack,) = cp.take()
    assert (ack.code, ack.identifier) == (TERM_ACK, 77)
    assert cp.state is S.STOPPING and cp.layer == [A.TLD] and cp.peer_terminate_reason == b"bye"
    assert cp.get_timer() == 8.0  # zrc: wait one restart interval
    cp.handle_timer(8.0)
    assert cp.state is S.STOPPED and cp.layer == [A.TLD, A.TLF]


def test_close_sends_max_terminate_requests() -> None:
    cp = _opened()
    cp.close(10.0, b"User request")
    assert cp.state is S.CLOSING and cp.layer == [A.TLD]
    cp.handle_timer(13.0)
    cp.handle_timer(16.0)
    sent = cp.take()
    assert [p.code for p in sent] == [TERM_REQ, TERM_REQ]
    assert sent[0].data == b"User request" and sent[0].identifier == sent[1].identifier
    assert cp.state is S.CLOSED and cp.layer == [A.TLD, A.TLF]


def test_close_finishes_on_terminate_ack() -> None:
    cp = _opened()
    cp.close(10.0)
    cp.receive(build_cp_packet(TERM_ACK, 1, b""), 10.1)
    assert cp.state is S.CLOSED and cp.layer == [A.TLD, A.TLF] and cp.get_timer() is None


def test_max_failure_turns_naks_into_a_reject() -> None:
    cp = ToyCP(Timers(max_failure=3))
    cp.open(0.0)
    cp.up(0.0)
    cp.take()
    codes = []
    for ident in range(1, 6):
        cp.receive(_request(ident, 3), ident * 0.01)
        codes.append(cp.take()[-1].code)
    assert codes == [CONF_NAK, CONF_NAK, CONF_NAK, CONF_REJ, CONF_REJ]


def test_retransmitted_request_does_not_count_towards_max_failure() -> None:
    cp = ToyCP(Timers(max_failure=2))
    cp.open(0.0)
    cp.up(0.0)
    cp.take()
    for _ in range(5):
        cp.receive(_request(1, 3), 0.1)
    assert {p.code for p in cp.take()} == {CONF_NAK}


def test_unknown_code_is_code_rejected() -> None:
    cp = _opened()
    packet = build_cp_packet(42, 9, b"xyz")
    cp.receive(packet, 1.0)
    (rej,) = cp.take()
    assert rej.code == CODE_REJ and rej.data == packet and cp.state is S.OPENED


def test_code_reject_of_configure_request_is_catastrophic() -> None:
    cp = _opened()
    cp.receive(build_cp_packet(CODE_REJ, 3, _request(1, 1)), 1.0)
    assert cp.state is S.STOPPING and cp.layer == [A.TLD]
    (term,) = cp.take()
    assert term.code == TERM_REQ


def test_code_reject_of_an_extension_is_tolerated() -> None:
    cp = _opened()
    cp.receive(build_cp_packet(CODE_REJ, 3, build_cp_packet(9, 1, b"\0\0\0\0")), 1.0)
    assert cp.state is S.OPENED


def test_packets_before_open_are_discarded() -> None:
    cp = ToyCP()
    cp.receive(_request(1, 7), 0.0)
    assert cp.take() == [] and cp.state is S.INITIAL and cp.discarded == 1


def test_request_in_closed_state_gets_terminate_ack() -> None:
    cp = ToyCP()
    cp.up(0.0)
    assert cp.state is S.CLOSED
    cp.receive(_request(4, 7), 0.1)
    (ack,) = cp.take()
    assert (ack.code, ack.identifier) == (TERM_ACK, 4)


def test_down_then_up_restarts_negotiation() -> None:
    cp = _opened()
    cp.down(1.0)
    assert cp.state is S.STARTING and cp.layer == [A.TLD]
    cp.up(2.0)
    (req,) = cp.take()
    assert req.code == CONF_REQ and cp.state is S.REQ_SENT


def test_malformed_packet_raises_parse_error() -> None:
    cp = _opened()
    with pytest.raises(ParseError):
        cp.receive(b"\x01\x02\x00", 1.0)
    with pytest.raises(ParseError):
        cp.receive(build_cp_packet(CONF_REQ, 1, b"\x01\x01"), 1.0)  # option length 1
