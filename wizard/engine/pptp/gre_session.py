"""The PPTP data channel: PPP frames over enhanced GRE with sequence numbers and acks (RFC 2637 §4).

Sending: every frame gets the next sequence number; an ack for the highest packet we received rides
on outgoing data, or goes out alone after ``ack_delay`` when we have nothing to send. The peer's
receive window bounds unacknowledged packets (section 4.2); an ack timeout halves the window and
backs the timer off (section 4.4), and since PPTP never retransmits, the timed-out packets are
simply written off.

Receiving: frames are handed up in sequence order. A packet that arrives ahead of a gap waits in a
small reorder buffer for ``reorder_timeout``; after that the gap is declared lost (section 4.3 allows
either discarding or reordering). Duplicates and packets whose slot was already given up are dropped
and counted.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from wizard.engine.errors import LocalProtocolError, ParseError
from wizard.engine.pptp.events import CallEstablished, Event, PPPFrameReceived
from wizard.engine.pptp.gre import GREPacket

_MOD = 1 << 32
_RESYNC_DISTANCE = 1 << 16  # a jump this large is a peer restart, not loss


def seq_diff(a: int, b: int) -> int:
    """``a - b`` in 32-bit serial arithmetic, in [-2**31, 2**31)."""
    d = (a - b) % _MOD
    return d - _MOD if d >= 1 << 31 else d


@dataclass
class GREStats:
    """Counters for the UI and for tests; nothing here is ever reset."""

    packets_sent: int = 0  # data packets put on the wire
    acks_sent: int = 0  # acknowledgement-only packets
    packets_received: int = 0  # data packets for our call that parsed
    acks_received: int = 0  # acknowledgements that advanced our window
    frames_delivered: int = 0
    empty: int = 0  # sequenced packets that carried no PPP frame (they still use up their number)
    malformed: int = 0
    wrong_call_id: int = 0
    duplicates: int = 0
    out_of_order: int = 0  # arrived ahead of a gap and waited in the reorder buffer
    too_old: int = 0  # arrived after its slot had been given up as lost
    lost: int = 0  # sequence numbers given up after the reorder timeout or a jump
    resyncs: int = 0  # the peer's numbering jumped; we followed it
    send_queue_drops: int = 0  # frames dropped because the send window stayed shut
    ack_timeouts: int = 0


class GRESession:
    """One PPTP call's GRE data channel. Sans-IO: bytes and ``now`` in, datagrams and events out."""

    def __init__(
        self,
        local_call_id: int,
        peer_call_id: int,
        *,
        peer_recv_window: int = 64,
        recv_window: int = 64,
        peer_processing_delay: int = 0,
        reorder_timeout: float = 0.15,
        ack_delay: float = 0.1,
        flow_control: bool = True,
        max_send_queue: int = 128,
        initial_ack_timeout: float = 1.0,
        min_ack_timeout: float = 0.5,
        max_ack_timeout: float = 5.0,
    ) -> None:
        for name, value in (("local_call_id", local_call_id), ("peer_call_id", peer_call_id)):
            if not 0 <= value <= 0xFFFF:
                raise LocalProtocolError(f"{name} {value} is not a 16-bit value")
        self.local_call_id = local_call_id
        self.peer_call_id = peer_call_id
        self.peer_recv_window = max(1, peer_recv_window)
        self.recv_window = max(1, recv_window)
        self.reorder_timeout = reorder_timeout
        self.ack_delay = ack_delay
        self.flow_control = flow_control
        self.max_send_queue = max_send_queue
        self.stats = GREStats()
        self._closed = False
        self._out: list[bytes] = []
        self._events: deque[Event] = deque()
        # sender
        self._next_seq = 0
        self._last_acked = _MOD - 1  # "-1": nothing acknowledged yet
        self._in_flight: deque[tuple[int, float]] = deque()  # (seq, sent at), oldest first
        self._queue: deque[bytes] = deque()
        self._window = self.peer_recv_window
        self._ppd = peer_processing_delay / 10.0
        self._rtt: float | None = None
        self._rtt_dev = 0.0
        self._ato = initial_ack_timeout
        self._min_ato = min_ack_timeout
        self._max_ato = max_ack_timeout
        # receiver
        self._started = False
        self._expected = 0  # RFC 2637 §4.1: sequence numbers start at zero
        self._reorder: dict[int, tuple[bytes, float]] = {}
        self._recent: set[int] = set()
        self._recent_order: deque[int] = deque()
        self._recent_max = max(256, 4 * self.recv_window)
        self._highest: int | None = None
        self._last_ack_sent: int | None = None
        self._unacked = 0
        self._ack_deadline: float | None = None

    @classmethod
    def from_call(cls, call: CallEstablished, **options: object) -> GRESession:
        """Build the session for a call the control connection just set up."""
        return cls(
            call.local_call_id,
            call.peer_call_id,
            peer_recv_window=call.peer_recv_window,
            peer_processing_delay=call.peer_processing_delay,
            **options,  # type: ignore[arg-type]
        )

    # -- outputs -------------------------------------------------------------------------------

    def datagrams_to_send(self) -> list[bytes]:
        """GRE packets (without the IP header) to send to the peer, oldest first."""
        out, self._out = self._out, []
        return out

    def next_event(self) -> Event | None:
        return self._events.popleft() if self._events else None

    def get_timer(self) -> float | None:
        if self._closed:
            return None
        deadlines = [self._ack_deadline, self._reorder_deadline(), self._ack_timeout_deadline()]
        present = [d for d in deadlines if d is not None]
        return min(present) if present else None

    @property
    def send_window(self) -> int:
        """How many unacknowledged packets we currently allow ourselves."""
        return self._window

    @property
    def in_flight(self) -> int:
        return seq_diff(self._next_seq, (self._last_acked + 1) % _MOD)

    @property
    def ack_timeout(self) -> float:
        return self._ato

    # -- inputs --------------------------------------------------------------------------------

    def send_ppp(self, frame: bytes, now: float) -> None:
        """Queue one PPP frame for the peer (sent at once unless the peer's window is full)."""
        if self._closed:
            raise LocalProtocolError("the GRE session is closed")
        if not 0 < len(frame) <= 0xFFFF:
            raise LocalProtocolError(f"a PPP frame of {len(frame)} octets does not fit in GRE")
        if self.flow_control and (self._queue or self.in_flight >= self._window):
            if len(self._queue) >= self.max_send_queue:
                self.stats.send_queue_drops += 1
                return
            self._queue.append(bytes(frame))
            return
        self._transmit(bytes(frame), now)

    def receive_packet(self, data: bytes, now: float) -> None:
        """One GRE packet from the peer (IP header already stripped). Never raises."""
        try:
            packet = GREPacket.decode(data)
        except ParseError:
            self.stats.malformed += 1
            return
        if self._closed:
            return
        if packet.call_id != self.local_call_id:
            self.stats.wrong_call_id += 1
            return
        if packet.ack is not None:
            self._on_ack(packet.ack, now)
        if packet.seq is not None:
            self.stats.packets_received += 1
            self._on_data(packet.seq, packet.payload, now)

    def handle_timer(self, now: float) -> None:
        if self._closed:
            return
        if self._ack_deadline is not None and now >= self._ack_deadline:
            self._ack_deadline = None
            self._send_standalone_ack()
        self._flush_expired(now)
        deadline = self._ack_timeout_deadline()
        if deadline is not None and now >= deadline:
            self._on_ack_timeout(now)

    def close(self) -> None:
        """Stop: later ``send_ppp`` calls raise, received packets are ignored, no more timers."""
        self._closed = True
        self._queue.clear()
        self._reorder.clear()

    # -- sending -------------------------------------------------------------------------------

    def _transmit(self, frame: bytes, now: float) -> None:
        seq = self._next_seq
        self._next_seq = (seq + 1) % _MOD
        packet = GREPacket(self.peer_call_id, frame, seq=seq, ack=self._take_ack())
        self._out.append(packet.encode())
        self.stats.packets_sent += 1
        if self.flow_control:
            self._in_flight.append((seq, now))

    def _take_ack(self) -> int | None:
        """The ack number to piggy-back, if the peer has not yet heard about what we received."""
        if self._highest is None or self._highest == self._last_ack_sent:
            return None
        self._last_ack_sent = self._highest
        self._unacked = 0
        self._ack_deadline = None
        return self._highest

    def _send_standalone_ack(self) -> None:
        ack = self._take_ack()
        if ack is not None:
            self._out.append(GREPacket(self.peer_call_id, seq=None, ack=ack).encode())
            self.stats.acks_sent += 1

    def _on_ack(self, ack: int, now: float) -> None:
        if seq_diff(ack, self._last_acked) <= 0:
            return  # old news
        if seq_diff(ack, self._next_seq) >= 0:
            return  # acknowledges something we never sent
        newly_acked = seq_diff(ack, self._last_acked)
        self._last_acked = ack
        self.stats.acks_received += 1
        sample: float | None = None
        while self._in_flight and seq_diff(self._in_flight[0][0], ack) <= 0:
            seq, sent_at = self._in_flight.popleft()
            if seq == ack:
                sample = now - sent_at
        if sample is not None:
            self._update_ack_timeout(sample)
        # §4.2.3 reopens the window after a timeout; one packet per acknowledged packet (like TCP slow
        # start) rather than per ack, since one ack here often covers a dozen packets.
        self._window = min(self.peer_recv_window, self._window + newly_acked)
        self._drain_queue(now)

    def _update_ack_timeout(self, sample: float) -> None:
        """Adaptive ack timeout of RFC 2637 §4.4.1 (alpha 1/8, beta 1/4, chi 4)."""
        if self._rtt is None:
            self._rtt, self._rtt_dev = sample, sample / 2
        else:
            diff = sample - self._rtt
            self._rtt += diff / 8
            self._rtt_dev += (abs(diff) - self._rtt_dev) / 4
        self._ato = min(self._max_ato, max(self._min_ato, self._ppd + self._rtt + 4 * self._rtt_dev))

    def _ack_timeout_deadline(self) -> float | None:
        if not self.flow_control or not self._in_flight:
            return None
        return self._in_flight[0][1] + self._ato

    def _on_ack_timeout(self, now: float) -> None:
        """§4.4.2: halve the window, back the timer off, write the unacknowledged packets off."""
        self.stats.ack_timeouts += 1
        self._window = max(1, (self._window + 1) // 2)
        self._ato = min(self._max_ato, self._ato * 2)
        self._last_acked = (self._next_seq - 1) % _MOD
        self._in_flight.clear()
        self._drain_queue(now)

    def _drain_queue(self, now: float) -> None:
        while self._queue and self.in_flight < self._window:
            self._transmit(self._queue.popleft(), now)

    # -- receiving -----------------------------------------------------------------------------

    def _on_data(self, seq: int, payload: bytes, now: float) -> None:
        self._note_for_ack(seq, now)
        distance = seq_diff(seq, self._expected)
        if not self._started:
            self._started = True
            if not 0 <= distance < self.recv_window:
                self._expected, distance = seq, 0  # the peer did not start at zero; follow it
                self.stats.resyncs += 1
        if distance < 0:
            if seq in self._recent:
                self.stats.duplicates += 1
            else:
                self.stats.too_old += 1
            return
        if seq in self._reorder:
            self.stats.duplicates += 1
            return
        if distance >= _RESYNC_DISTANCE:
            self._skip_to(seq, count_lost=False)
            self.stats.resyncs += 1
        elif distance >= self.recv_window:
            self._skip_to((seq - self.recv_window + 1) % _MOD, count_lost=True)
        if seq == self._expected:
            self._deliver(seq, payload)
            self._drain_contiguous()
        else:
            self._reorder[seq] = (payload, now)
            self.stats.out_of_order += 1

    def _note_for_ack(self, seq: int, now: float) -> None:
        if self._highest is None or seq_diff(seq, self._highest) > 0:
            self._highest = seq
        if self._highest == self._last_ack_sent:
            return
        self._unacked += 1
        if self._unacked >= max(1, self.recv_window // 4):
            self._send_standalone_ack()  # keep the peer's window open under one-way traffic
        elif self._ack_deadline is None:
            self._ack_deadline = now + self.ack_delay

    def _deliver(self, seq: int, payload: bytes) -> None:
        self._expected = (seq + 1) % _MOD
        self._recent.add(seq)
        self._recent_order.append(seq)
        if len(self._recent_order) > self._recent_max:
            self._recent.discard(self._recent_order.popleft())
        if payload:
            self.stats.frames_delivered += 1
            self._events.append(PPPFrameReceived(payload))
        else:
            self.stats.empty += 1

    def _drain_contiguous(self) -> None:
        while self._expected in self._reorder:
            seq = self._expected
            payload, _ = self._reorder.pop(seq)
            self._deliver(seq, payload)

    def _skip_to(self, target: int, *, count_lost: bool) -> None:
        """Give up on every gap before ``target``, handing up what waits in the buffer in order."""
        waiting = sorted(
            (s for s in self._reorder if seq_diff(s, target) < 0),
            key=lambda s: seq_diff(s, self._expected),
        )
        for seq in waiting:
            if count_lost:
                self.stats.lost += seq_diff(seq, self._expected)
            payload, _ = self._reorder.pop(seq)
            self._deliver(seq, payload)
        if count_lost:
            self.stats.lost += max(0, seq_diff(target, self._expected))
        if seq_diff(target, self._expected) > 0:
            self._expected = target
        self._drain_contiguous()

    def _reorder_deadline(self) -> float | None:
        if not self._reorder:
            return None
        return min(arrived for _, arrived in self._reorder.values()) + self.reorder_timeout

    def _flush_expired(self, now: float) -> None:
        while True:
            deadline = self._reorder_deadline()
            if deadline is None or now < deadline:
                return
            lowest = min(self._reorder, key=lambda s: seq_diff(s, self._expected))
            self._skip_to(lowest, count_lost=True)
            self._drain_contiguous()
