"""Reliable delivery of control messages (RFC 2661 section 5.8).

Every non-ZLB control message gets the next Ns; the peer's Nr acknowledges everything before it.
We keep at most the peer's Receive Window Size messages in flight, retransmit them with exponential
back-off (capped) until acknowledged, queue messages that arrive early (up to our own window), ack
duplicates at once (our earlier ack was evidently lost) and otherwise ack with a short delay so a
reply can carry the ack instead of a separate ZLB.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from wizard.engine.l2tp.constants import DEFAULT_PEER_WINDOW, SEQ_MOD
from wizard.engine.l2tp.header import L2TPHeader, control_header, encode_message
from wizard.engine.l2tp.stats import L2TPStats

HALF_SEQ = SEQ_MOD // 2


def seq_distance(a: int, b: int) -> int:
    """How far ``b`` is ahead of ``a`` modulo 2**16."""
    return (b - a) % SEQ_MOD


@dataclass(frozen=True)
class RetransmitPolicy:
    """Timers of section 5.8: first retransmission after ``initial`` s, doubling up to ``cap`` s."""

    initial: float = 1.0
    cap: float = 8.0
    max_retransmits: int = 5
    ack_delay: float = 0.2

    def timeout(self, retries: int) -> float:
        return min(self.initial * float(1 << min(retries, 30)), self.cap)

    def give_up_after(self) -> float:
        """Seconds from first transmission until the channel gives up."""
        return sum(self.timeout(i) for i in range(self.max_retransmits + 1))


@dataclass
class _Outgoing:
    ns: int
    session_id: int
    payload: bytes
    sent: bool = False


class ReliableChannel:
    """Sequencing, acknowledgement and retransmission for one tunnel's control messages."""

    def __init__(self, policy: RetransmitPolicy, receive_window: int, stats: L2TPStats) -> None:
        self.policy = policy
        self.receive_window = max(1, receive_window)
        self.stats = stats
        self.peer_tunnel_id = 0
        self.peer_window = DEFAULT_PEER_WINDOW
        self.ns_next = 0
        self.nr = 0
        self._outstanding: deque[_Outgoing] = deque()
        self._early: dict[int, tuple[L2TPHeader, bytes]] = {}
        self._retries = 0
        self._retransmit_at: float | None = None
        self._ack_at: float | None = None
        self._out: list[bytes] = []
        self.failed = False

    # --- sending -------------------------------------------------------------------------------

    def send(self, payload: bytes, session_id: int, now: float) -> int:
        """Queue a control message body (encoded AVPs) and return its Ns."""
        ns = self.ns_next
        self.ns_next = (self.ns_next + 1) % SEQ_MOD
        self._outstanding.append(_Outgoing(ns, session_id, payload))
        self._fill_window(now)
        return ns

    def _fill_window(self, now: float) -> None:
        for index, entry in enumerate(self._outstanding):
            if index >= self.peer_window:
                break
            if not entry.sent:
                entry.sent = True
                self._transmit(entry)
                if self._retransmit_at is None:
                    self._retransmit_at = now + self.policy.timeout(self._retries)

    def _transmit(self, entry: _Outgoing) -> None:
        header = control_header(self.peer_tunnel_id, entry.session_id, entry.ns, self.nr)
        self._out.append(encode_message(header, entry.payload))
        self.stats.control_sent += 1
        self._ack_at = None  # the message carries our Nr

    def send_zlb(self) -> None:
        """An explicit acknowledgement; its Ns is the next Ns we will send and does not advance."""
        ns = next((e.ns for e in self._outstanding if not e.sent), self.ns_next)
        self._out.append(encode_message(control_header(self.peer_tunnel_id, 0, ns, self.nr)))
        self.stats.zlb_sent += 1
        self._ack_at = None

    @property
    def has_outstanding(self) -> bool:
        return bool(self._outstanding)

    def take_datagrams(self) -> list[bytes]:
        out, self._out = self._out, []
        return out

    # --- receiving -----------------------------------------------------------------------------

    def _process_ack(self, nr: int, now: float) -> None:
        if not self._outstanding:
            return
        acked = seq_distance(self._outstanding[0].ns, nr)
        in_flight = sum(1 for e in self._outstanding if e.sent)
        if acked == 0 or acked > in_flight:
            return  # an old ack, or one for messages we never sent
        for _ in range(acked):
            self._outstanding.popleft()
        self._retries = 0
        self._retransmit_at = None
        if any(e.sent for e in self._outstanding):
            self._retransmit_at = now + self.policy.timeout(0)
        self._fill_window(now)

    def receive(self, header: L2TPHeader, payload: bytes, now: float) -> list[tuple[L2TPHeader, bytes]]:
        """Handle one control datagram; return the messages now deliverable, in order."""
        assert header.ns is not None and header.nr is not None
        self._process_ack(header.nr, now)
        if not payload:
            self.stats.zlb_received += 1
            return []
        self.stats.control_received += 1
        ahead = seq_distance(self.nr, header.ns)
        if ahead >= HALF_SEQ:
            self.stats.duplicates_received += 1
            self.send_zlb()
            return []
        if ahead >= self.receive_window:
            self.stats.out_of_window_dropped += 1
            return []
        if ahead > 0:
            if header.ns not in self._early:
                self._early[header.ns] = (header, payload)
                self.stats.out_of_order_queued += 1
            else:
                self.stats.duplicates_received += 1
            self._schedule_ack(now)
            return []
        delivered = [(header, payload)]
        self.nr = (self.nr + 1) % SEQ_MOD
        while self.nr in self._early:
            delivered.append(self._early.pop(self.nr))
            self.nr = (self.nr + 1) % SEQ_MOD
        self._schedule_ack(now)
        return delivered

    def _schedule_ack(self, now: float) -> None:
        due = now + self.policy.ack_delay
        if self._ack_at is None or due < self._ack_at:
            self._ack_at = due

    # --- timers --------------------------------------------------------------------------------

    def get_timer(self) -> float | None:
        times = [t for t in (self._retransmit_at, self._ack_at) if t is not None]
        return min(times) if times else None

    def handle_timer(self, now: float) -> None:
        """Retransmit or ack as due; sets ``failed`` when the retransmission budget is spent."""
        if self._retransmit_at is not None and now >= self._retransmit_at:
            if self._retries >= self.policy.max_retransmits:
                self.failed = True
                self._retransmit_at = None
                return
            self._retries += 1
            for entry in self._outstanding:
                if entry.sent:
                    self._transmit(entry)
                    self.stats.retransmissions += 1
            self._retransmit_at = now + self.policy.timeout(self._retries)
        if self._ack_at is not None and now >= self._ack_at:
            self.send_zlb()

    def abandon(self) -> None:
        """Stop retransmitting (the tunnel is gone); acks of late duplicates still work."""
        self._outstanding.clear()
        self._retransmit_at = None
