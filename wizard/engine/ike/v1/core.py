"""The IKEv1 connection's shared core: its state, sending and retransmission, decryption, endings."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from wizard.engine.crypto.suites import DHGroup, dh_group
from wizard.engine.errors import ParseError
from wizard.engine.ike import failures
from wizard.engine.ike.payloads import (
    Header,
    Payload,
)
from wizard.engine.ike.v1 import informational as info
from wizard.engine.ike.v1 import keys as kdf
from wizard.engine.ike.v1.config import IKEv1Config
from wizard.engine.ike.v1.constants import PayloadType
from wizard.engine.ike.v1.dpd import DeadPeerDetection
from wizard.engine.ike.v1.events import (
    ChildSA,
    ChildSADeleted,
    Closed,
    ConnectionFailed,
    Event,
)
from wizard.engine.ike.v1.exchange import (
    ChildEntry,
    Datagram,
    Exchange,
    Phase1,
    Probe,
    Role,
    State,
    XauthPending,
)
from wizard.engine.ike.v1.natt import NatTVariant, frame
from wizard.engine.ike.v1.proposals import EspSuite, Phase1Suite, esp_suites, phase1_suites
from wizard.engine.ike.v1.sa import ZERO_COOKIE, IsakmpSA, hash_payload_rest
from wizard.engine.ike.v1.stats import IKEv1Stats


class ConnectionCore:
    """State and helpers every part of :class:`~wizard.engine.ike.v1.connection.IKEv1Connection` uses."""

    def __init__(self, role: Role, config: IKEv1Config) -> None:
        if role not in ("initiator", "responder"):
            raise ValueError(f"role must be 'initiator' or 'responder', not {role!r}")
        self.role: Role = role
        self.config = config
        self.stats = IKEv1Stats()
        self.state = State.IDLE
        self._rand: Callable[[int], bytes] = config.random_bytes
        self._suites: list[Phase1Suite] = phase1_suites(config.ike_proposals)
        if not self._suites:
            raise ValueError("none of the IKE proposals can be used with IKEv1 (it has no AEAD or XCBC in phase 1)")
        self._esp: list[EspSuite] = []
        self._pfs: DHGroup | None = None
        if config.child is not None:
            self._esp, group = esp_suites(config.child.esp_proposals)
            self._pfs = dh_group(config.child.pfs_group) if config.child.pfs_group else group
            if not self._esp:
                raise ValueError("none of the ESP proposals can be used with IKEv1")
        self._events: deque[Event] = deque()
        self._out: list[Datagram] = []
        self._sas: dict[bytes, IsakmpSA] = {}
        self._phase1: dict[bytes, Phase1] = {}
        self._ike: IsakmpSA | None = None
        self._exchanges: dict[tuple[bytes, int], Exchange] = {}
        self._children: list[ChildEntry] = []
        self.local_port = config.local_port
        self.peer_port = config.peer_port
        self.peer_address = config.peer_address
        self.nat_detected = False
        self.local_behind_nat = False
        self._nat_variant = NatTVariant.NONE
        self.virtual_address: str | None = None
        self.peer_virtual_address: str | None = None
        self._xauth_creds: tuple[str, str] | None = None
        if config.xauth_username is not None and config.xauth_password is not None:
            self._xauth_creds = (config.xauth_username, config.xauth_password)
        self._xauth_pending: XauthPending | None = None
        self._xauth_deadline: float | None = None
        self._dpd: DeadPeerDetection | None = None
        self._probe: Probe | None = None
        self._closing_reason = ""
        self.last_failure: str | None = None  # a refused Quick Mode (responder), for the closing reason

    @property
    def peer_label(self) -> str:
        return "the gateway" if self.role == "initiator" else "the client"

    @property
    def children(self) -> list[ChildSA]:
        return [c.sa for c in self._children if not c.deleted]

    def _closed(self) -> bool:
        return self.state is State.CLOSED

    def _emit(self, event: Event) -> None:
        self._events.append(event)

    def _send_raw(self, data: bytes) -> None:
        self.stats.sent += 1
        self._out.append(Datagram(frame(data, self.local_port, self.config.nat_t_port), self.peer_port, self.local_port))

    def _send(self, ex: Exchange, data: bytes, now: float, *, expect_reply: bool) -> None:
        ex.last_out = data
        ex.waiting = expect_reply
        ex.tries = 0
        ex.next_at = now + self.config.retransmit_initial if expect_reply else None
        if not expect_reply:
            ex.finished_at = now
        self._send_raw(data)

    def _retransmit(self, ex: Exchange, now: float) -> None:
        cfg = self.config
        if ex.tries >= cfg.max_retransmits or ex.last_out is None:
            ex.waiting = False
            ex.finished_at = now
            self._exchange_timed_out(ex, now)
            return
        ex.tries += 1
        self.stats.retransmissions += 1
        wait = min(cfg.retransmit_cap, cfg.retransmit_initial * cfg.retransmit_factor**ex.tries)
        ex.next_at = now + wait
        self._send_raw(ex.last_out)

    @staticmethod
    def _accepted(ex: Exchange, digest: bytes) -> None:
        ex.last_in = digest
        ex.seen.add(digest)

    def _new_exchange(self, sa: IsakmpSA, kind: str, mid: int | None = None) -> Exchange:
        if mid is None:
            while True:
                mid = int.from_bytes(self._rand(4), "big")
                if mid and (sa.cky_i, mid) not in self._exchanges:
                    break
        ex = Exchange(sa, mid, kind)
        self._exchanges[(sa.cky_i, mid)] = ex
        return ex

    def _new_cookie(self) -> bytes:
        while True:
            c = self._rand(8)
            if c != ZERO_COOKIE and c[:4] != b"\x00\x00\x00\x00" and c not in self._sas:
                return c

    def _informational(self, sa: IsakmpSA, payloads: list[Payload], now: float) -> Exchange:
        ex = self._new_exchange(sa, "info")
        self._send(ex, info.protected(sa, ex.mid, payloads), now, expect_reply=False)
        return ex

    def _decrypt(self, sa: IsakmpSA, header: Header, msg: bytes) -> tuple[tuple[Payload, ...], bytes, bytes]:
        """(payloads, bytes after the leading HASH, next IV); counts and re-raises failures."""
        try:
            chain, plain, iv = sa.decrypt(header, msg)
        except ParseError:
            self.stats.decrypt_failed += 1
            raise
        return chain.payloads, hash_payload_rest(chain, plain), iv

    def _check_hash1(self, sa: IsakmpSA, mid: int, payloads: tuple[Payload, ...], rest: bytes) -> None:
        assert sa.suite is not None and sa.keys is not None
        if not payloads or payloads[0].type != PayloadType.HASH:
            self.stats.hash_failed += 1
            raise ParseError("protected message without a leading HASH payload")
        if not kdf.same(payloads[0].body, kdf.qm_hash1(sa.suite.hash, sa.keys.skeyid_a, mid, rest)):
            self.stats.hash_failed += 1
            raise ParseError("HASH(1) did not verify")

    def _delete_ike_sa(self, sa: IsakmpSA, now: float) -> None:
        if sa.established and not sa.deleted and sa.has_keys:
            self._informational(sa, [info.delete_isakmp(sa)], now)
        sa.deleted = True
        for ex in list(self._exchanges.values()):
            if ex.sa is sa and ex.waiting:
                ex.waiting = False
                ex.finished_at = now
                if ex.quick is not None and isinstance(ex.quick.rekey_of, ChildEntry):
                    self._retry_rekey_later(ex.quick.rekey_of, now, delay=0.0)

    def _drop_sa(self, sa: IsakmpSA) -> None:
        self._sas.pop(sa.cky_i, None)
        self._phase1.pop(sa.cky_i, None)
        for key in [k for k, ex in self._exchanges.items() if ex.sa is sa]:
            del self._exchanges[key]

    def _delete_child(self, c: ChildEntry, now: float, reason: str, *, by_peer: bool, notify: bool = True) -> None:
        if c.deleted:
            return
        c.deleted = True
        ike = self._ike
        if notify and ike is not None and ike.established and not ike.deleted:
            self._informational(ike, [info.delete_esp([c.sa.spi_in.to_bytes(4, "big")])], now)
        self._emit(ChildSADeleted(c.sa, reason, by_peer))

    def _fail(self, reason: str, now: float, notify: int | None) -> None:
        if self.state is State.CLOSED:
            return
        name = failures.notify_name(notify) if notify is not None else None
        self._emit(ConnectionFailed(reason, name))
        self._shutdown(now, reason, by_peer=False)

    def _shutdown(self, now: float, reason: str, *, by_peer: bool, tell_peer: bool = True) -> None:
        ike = self._ike
        usable = tell_peer and ike is not None and ike.established and not ike.deleted
        for c in self._children:
            if not c.deleted:
                self._delete_child(c, now, reason, by_peer=by_peer, notify=usable)
        self._children = []
        if usable and ike is not None:
            self._delete_ike_sa(ike, now)
        self._exchanges.clear()
        self._phase1.clear()
        self._xauth_deadline = None
        self._dpd = None
        self.state = State.CLOSED
        self._emit(Closed(reason, by_peer))

    # --- implemented by the mixins / the connection -----------------------------------------------

    def _start_first_child(self, now: float) -> None:
        raise NotImplementedError

    def _exchange_timed_out(self, ex: Exchange, now: float) -> None:
        raise NotImplementedError

    def _probe_failed(self, now: float, *, probed: bool) -> None:
        raise NotImplementedError

    def _maybe_finished_by_peer(self, now: float) -> None:
        raise NotImplementedError

    def _implicit_xauth_ack(self, sa: IsakmpSA, now: float) -> None:
        raise NotImplementedError

    def _retry_rekey_later(self, c: ChildEntry, now: float, delay: float = 10.0) -> None:
        raise NotImplementedError
