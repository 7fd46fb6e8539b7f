"""One L2TP session (an incoming call, RFC 2661 sections 5.4 and 7.4) and its data channel.

Data sequencing (section 5.4): if either side sent the Sequencing Required AVP, data messages always
carry Ns. Otherwise the LNS decides: it may send Ns or not, and the LAC mirrors what it receives.
Late or duplicate sequenced frames are dropped (PPP copes with loss, not with reordering).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, auto

from wizard.engine.l2tp.constants import SEQ_MOD
from wizard.engine.l2tp.header import L2TPHeader, encode_message
from wizard.engine.l2tp.reliable import HALF_SEQ, seq_distance


class SessionState(Enum):
    WAIT_REPLY = auto()  # LAC: ICRQ sent, waiting for ICRP
    WAIT_CONNECT = auto()  # LNS: ICRP sent, waiting for ICCN
    ESTABLISHED = auto()
    CLOSED = auto()


@dataclass
class Session:
    """State of one call; ``local_id`` is our Assigned Session ID, ``peer_id`` the peer's."""

    local_id: int
    peer_id: int
    state: SessionState
    call_serial: int = 0
    sequencing_required: bool = False
    send_sequence: bool = False
    follow_peer_sequencing: bool = False
    _data_ns: int = 0
    _expected_ns: int | None = None

    def encode_data(self, peer_tunnel_id: int, frame: bytes, *, length_bit: bool) -> bytes:
        """A data message carrying one PPP frame to the peer."""
        ns = nr = None
        if self.send_sequence or self.sequencing_required:
            ns, nr = self._data_ns, 0
            self._data_ns = (self._data_ns + 1) % SEQ_MOD
        header = L2TPHeader(
            is_control=False,
            tunnel_id=peer_tunnel_id,
            session_id=self.peer_id,
            ns=ns,
            nr=nr,
            has_length=length_bit,
        )
        return encode_message(header, frame)

    def accept_data(self, header: L2TPHeader) -> bool:
        """Sequence bookkeeping for a received data message; False means drop it as late."""
        if self.follow_peer_sequencing and not self.sequencing_required:
            self.send_sequence = header.ns is not None
        if header.ns is None:
            return True
        if self._expected_ns is not None and seq_distance(self._expected_ns, header.ns) >= HALF_SEQ:
            return False
        self._expected_ns = (header.ns + 1) % SEQ_MOD
        return True
