"""The IKEv2 connection's shared core: state, sending, the request window, retransmission, receiving
(decryption, fragments, retransmitted requests), children bookkeeping and endings.

Window size 1 (RFC 7296 §2.3): one request of ours is in flight at a time; further exchanges wait in a
queue. A retransmitted request of the peer is answered with the cached response.
"""

from __future__ import annotations

import ipaddress
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from wizard.engine.crypto.suites import AuthenticationFailed, DHGroup, dh_group
from wizard.engine.errors import ParseError
from wizard.engine.ike.payloads import ExchangeType, Header, Payload, V2Flags, decode_chain, encode_chain
from wizard.engine.ike.v1.natt import NON_ESP_MARKER
from wizard.engine.ike.v2.config import IKEv2Config
from wizard.engine.ike.v2.constants import KNOWN_PAYLOADS, NotifyType, PayloadType, ProtocolId, notify_name
from wizard.engine.ike.v2.events import ChildSA, ChildSADeleted, Closed, ConnectionFailed, Event, PeerDead
from wizard.engine.ike.v2.keys import ChildKeys, IkeKeys
from wizard.engine.ike.v2.messages import DeletePayload, NotifyPayload
from wizard.engine.ike.v2.proposals import EspSuite, IkeSuite, profile_proposals
from wizard.engine.ike.v2.protect import Protector, Reassembly
from wizard.engine.ike.v2.state import ChildEntry, Datagram, IkeSA, InitContext, Request, Role, State, Stats
from wizard.engine.ike.v2.ts import Selector

# Room for IP (IPv6: 40) and UDP (8) headers when fragment_size names a whole packet, as strongSwan's does.
_PACKET_OVERHEAD = 48


class ConnectionCore:
    """State and helpers every part of :class:`~wizard.engine.ike.v2.connection.IKEv2Connection` uses."""

    def __init__(self, role: Role, config: IKEv2Config) -> None:
        if role not in ("initiator", "responder"):
            raise ValueError(f"role must be 'initiator' or 'responder', not {role!r}")
        if role == "initiator" and config.auth == "eap" and config.expected_peer_auth(role) == "eap":
            raise ValueError("the gateway cannot authenticate with EAP")
        if role == "responder" and config.auth == "eap":
            raise ValueError("a gateway authenticates with a pre-shared key or a certificate, not EAP")
        self.role: Role = role
        self.config = config
        self.stats = Stats()
        self.state = State.IDLE
        self._rand: Callable[[int], bytes] = config.random_bytes
        self._ike_offers = profile_proposals(config.ike_proposals, "ike")
        self._esp_offers = profile_proposals(config.child.esp_proposals, "esp") if config.child else []
        self._pfs: DHGroup | None = None
        if config.child is not None:
            if config.child.pfs_group:
                self._pfs = dh_group(config.child.pfs_group)
            else:
                self._pfs = next((g for p in self._esp_offers for g in p.dh_groups), None)
        self._events: deque[Event] = deque()
        self._out: list[Datagram] = []
        self._sas: dict[tuple[bytes, bytes], IkeSA] = {}
        self._ike: IkeSA | None = None
        self._request: Request | None = None
        self._queue: deque[Callable[[float], None]] = deque()
        self._children: list[ChildEntry] = []
        self._init: InitContext | None = None
        self.local_address = config.local_address
        self.local_port = config.local_port
        self.peer_address = config.peer_address
        self.peer_port = config.peer_port
        self.nat_detected = False
        self.local_behind_nat = False
        self.peer_behind_nat = False
        self.peer_fragmentation = False
        self.peer_mobike = False
        self.peer_hash_algorithms: tuple[int, ...] = ()
        self.virtual_address: str | None = None
        self.peer_id = ""
        self._last_heard = 0.0
        self._cookie_secret = self._rand(16)
        self.last_failure: str | None = None
        self._setup_deadline: float | None = None  # responder: give up on a half-open negotiation

    # --- small helpers ------------------------------------------------------------------------------

    @property
    def peer_label(self) -> str:
        return "the gateway" if self.role == "initiator" else "the client"

    @property
    def children(self) -> list[ChildSA]:
        return [c.sa for c in self._children if not c.deleted and c.replaced_by is None]

    def _closed(self) -> bool:
        return self.state is State.CLOSED

    def _emit(self, event: Event) -> None:
        self._events.append(event)

    def _spi(self, size: int) -> bytes:
        while True:
            s = self._rand(size)
            if int.from_bytes(s, "big") >= 256 and (size != 8 or not any(k[0] == s or k[1] == s for k in self._sas)):
                return s

    def _child_spi(self) -> bytes:
        used = {c.sa.spi_in for c in self._children}
        while True:
            s = self._spi(4)
            if int.from_bytes(s, "big") not in used:
                return s

    @staticmethod
    def _notify(ntype: int, data: bytes = b"", protocol: int = 0, spi: bytes = b"") -> Payload:
        return NotifyPayload(ntype, data, protocol, spi).payload()

    def _install_keys(self, sa: IkeSA, suite: IkeSuite, keys: IkeKeys) -> None:
        sa.suite, sa.keys = suite, keys
        ours_e, ours_a, theirs_e, theirs_a = (
            (keys.sk_ei, keys.sk_ai, keys.sk_er, keys.sk_ar) if sa.initiator else (keys.sk_er, keys.sk_ar, keys.sk_ei, keys.sk_ai)
        )
        integ = suite.integrity
        sa.out = Protector(suite.cipher.bind(ours_e), integ.bind(ours_a) if integ else None, self._rand)
        sa.inp = Protector(suite.cipher.bind(theirs_e), integ.bind(theirs_a) if integ else None, self._rand)
        self._sas[sa.key()] = sa

    # --- sending ------------------------------------------------------------------------------------

    def _send_raw(self, data: bytes, dest: tuple[str, int] | None = None) -> None:
        address, port = dest if dest is not None else (self.peer_address, self.peer_port)
        framed = NON_ESP_MARKER + data if self.local_port == self.config.nat_t_port else data
        self.stats.sent += 1
        self._out.append(Datagram(framed, port, self.local_port, address, self.local_address))

    def _max_message(self) -> int | None:
        if not (self.peer_fragmentation and self.config.fragmentation):
            return None
        marker = len(NON_ESP_MARKER) if self.local_port == self.config.nat_t_port else 0
        return self.config.fragment_size - _PACKET_OVERHEAD - marker

    def _seal(self, sa: IkeSA, exchange: int, mid: int, response: bool, payloads: Sequence[Payload]) -> list[bytes]:
        assert sa.out is not None
        first, plain = encode_chain(list(payloads))
        flags = (V2Flags.INITIATOR if sa.initiator else 0) | (V2Flags.RESPONSE if response else 0)
        header = Header(sa.spi_i, sa.spi_r, PayloadType.SK, exchange, int(flags), mid, 0, 2, 0)
        out = sa.out.seal(header, first, plain, max_size=self._max_message())
        if len(out) > 1:
            self.stats.fragments_sent += len(out)
        return out

    def _send_request(
        self,
        sa: IkeSA,
        exchange: int,
        payloads: Sequence[Payload],
        kind: str,
        on_response: Callable[[tuple[Payload, ...], float], None],
        on_timeout: Callable[[float], None],
        now: float,
        context: Any = None,
    ) -> Request:
        assert self._request is None, "window size 1: a request is already in flight"
        mid = sa.next_mid
        sa.next_mid += 1
        datagrams = self._seal(sa, exchange, mid, False, payloads)
        req = Request(sa, mid, exchange, datagrams, on_response, on_timeout, kind,
                      next_at=now + self.config.retransmit_initial, context=context)  # fmt: skip
        self._request = req
        for d in datagrams:
            self._send_raw(d)
        return req

    def _send_oneway(self, sa: IkeSA, payloads: Sequence[Payload]) -> None:
        """An INFORMATIONAL request we do not wait for (the connection is ending)."""
        if sa.out is None:
            return
        mid = sa.next_mid
        sa.next_mid += 1
        for d in self._seal(sa, ExchangeType.INFORMATIONAL_V2, mid, False, payloads):
            self._send_raw(d)

    def _enqueue(self, starter: Callable[[float], None], now: float) -> None:
        self._queue.append(starter)
        self._pump(now)

    def _pump(self, now: float) -> None:
        while self._request is None and self._queue and not self._closed():
            self._queue.popleft()(now)

    def _respond(self, sa: IkeSA, exchange: int, mid: int, payloads: Sequence[Payload], dest: tuple[str, int]) -> None:
        datagrams = self._seal(sa, exchange, mid, True, payloads)
        sa.last_response, sa.last_response_mid, sa.last_response_to = datagrams, mid, dest
        sa.peer_mid = mid + 1
        for d in datagrams:
            self._send_raw(d, dest)

    def _retransmit(self, now: float) -> None:
        req = self._request
        if req is None:
            return
        cfg = self.config
        if req.tries >= cfg.max_retransmits:
            self._request = None
            req.on_timeout(now)
            self._pump(now)
            return
        req.tries += 1
        self.stats.retransmissions += 1
        req.next_at = now + min(cfg.retransmit_cap, cfg.retransmit_initial * cfg.retransmit_factor**req.tries)
        for d in req.datagrams:
            self._send_raw(d)

    def _informational(self, sa: IkeSA, payloads: Sequence[Payload], now: float, kind: str,
                       on_response: Callable[[tuple[Payload, ...], float], None] | None = None) -> None:  # fmt: skip
        """Queue an INFORMATIONAL request; a lost peer (no answer) is fatal."""

        def start(t: float) -> None:
            # Only an IKE SA delete belongs to that SA; anything else goes on the current one (it may have
            # been rekeyed while this waited in the queue).
            target = sa if kind == "delete-ike" else self._ike
            if self._closed() or target is None or target.deleted or target.out is None:
                return
            self._send_request(target, ExchangeType.INFORMATIONAL_V2, payloads, kind, on_response or (lambda _p, _t: None),
                               self._peer_gone, t)  # fmt: skip

        self._enqueue(start, now)

    # --- receiving ----------------------------------------------------------------------------------

    def _dispatch(self, header: Header, msg: bytes, now: float, local_port: int, src: tuple[str, int]) -> None:
        if header.exchange_type == ExchangeType.IKE_SA_INIT:
            self._on_sa_init(header, msg, now, local_port, src)
            return
        sa = self._sas.get((header.spi_i, header.spi_r))
        if sa is None or sa.inp is None:
            self.stats.unknown_sa_dropped += 1
            return
        if bool(header.flags & V2Flags.INITIATOR) == sa.initiator:
            self.stats.unexpected_dropped += 1
            return
        response = bool(header.flags & V2Flags.RESPONSE)
        replay = False
        if response:
            req = self._request
            if req is None or req.sa is not sa or req.mid != header.message_id or req.exchange != header.exchange_type:
                self.stats.duplicates += 1
                return
        elif header.message_id == sa.last_response_mid and sa.last_response:
            replay = True
        elif header.message_id != sa.peer_mid:
            self.stats.unexpected_dropped += 1
            return
        try:
            opened = sa.inp.open(header, msg)
        except AuthenticationFailed:
            self.stats.decrypt_failed += 1
            raise
        if replay:
            if opened.fragment is None or opened.fragment.number == 1:
                self.stats.responses_replayed += 1
                for d in sa.last_response:
                    self._send_raw(d, src)
            else:
                self.stats.duplicates += 1
            return
        first, plain = opened.first_inner, opened.plaintext
        if opened.fragment is not None:
            self.stats.fragments_received += 1
            key = (response, header.message_id)
            buf = sa.reassembly.setdefault(key, Reassembly(opened.fragment.total))
            whole = buf.add(opened)
            if whole is None:
                return
            del sa.reassembly[key]
            first, plain = buf.first_inner, whole
        payloads = decode_chain(first, plain).payloads
        self._last_heard = now
        unknown = next((p.type for p in payloads if p.critical and p.type not in KNOWN_PAYLOADS), None)
        if response:
            req = self._request
            assert req is not None
            self._request = None
            if unknown is not None:
                self.stats.malformed_dropped += 1
                req.on_timeout(now)
            else:
                req.on_response(payloads, now)
            self._pump(now)
            return
        if self.role == "responder":
            if local_port == self.config.nat_t_port and sa is self._ike:
                self.local_port = local_port
                self.peer_port = src[1]
            if self.peer_behind_nat and sa is self._ike:
                self.peer_address, self.peer_port = src
        if unknown is not None:
            self._respond(sa, header.exchange_type, header.message_id,
                          [self._notify(NotifyType.UNSUPPORTED_CRITICAL_PAYLOAD, bytes((unknown,)))], src)  # fmt: skip
            return
        self._on_request(sa, header, payloads, now, src)
        self._pump(now)

    def _on_request(self, sa: IkeSA, header: Header, payloads: tuple[Payload, ...], now: float, src: tuple[str, int]) -> None:
        exchange = header.exchange_type
        if exchange == ExchangeType.IKE_AUTH:
            self._on_auth_request(sa, header.message_id, payloads, now, src)
        elif exchange == ExchangeType.CREATE_CHILD_SA:
            self._on_create_child_request(sa, header.message_id, payloads, now, src)
        elif exchange == ExchangeType.INFORMATIONAL_V2:
            self._on_informational_request(sa, header.message_id, payloads, now, src)
        else:
            self.stats.unexpected_dropped += 1

    # --- children -------------------------------------------------------------------------------------

    def _find_child(self, spi: int, *, inbound: bool) -> ChildEntry | None:
        for c in self._children:
            if not c.deleted and (c.sa.spi_in if inbound else c.sa.spi_out) == spi:
                return c
        return None

    def _new_child(
        self,
        suite: EspSuite,
        spi_in: bytes,
        spi_out: bytes,
        keys: ChildKeys,
        *,
        we_initiated: bool,
        local_ts: Sequence[Selector],
        remote_ts: Sequence[Selector],
        transport: bool,
        now: float,
    ) -> ChildEntry:
        """A child entry with its ChildSA; keys by direction of the exchange that made it (§2.17)."""
        enc_in, auth_in, enc_out, auth_out = (
            (keys.enc_r, keys.auth_r, keys.enc_i, keys.auth_i) if we_initiated else (keys.enc_i, keys.auth_i, keys.enc_r, keys.auth_r)
        )
        child_cfg = self.config.child
        life = child_cfg.lifetime_seconds if child_cfg else 3600
        lts, rts = tuple(s.to_v1() for s in local_ts), tuple(s.to_v1() for s in remote_ts)
        sa = ChildSA(
            spi_in=int.from_bytes(spi_in, "big"), spi_out=int.from_bytes(spi_out, "big"), cipher=suite.cipher,
            integrity=suite.integrity, enc_key_in=enc_in, enc_key_out=enc_out, auth_key_in=auth_in,
            auth_key_out=auth_out, mode="transport" if transport else "tunnel", local_ts=lts[0], remote_ts=rts[0],
            local_address=self.local_address, peer_address=self.peer_address, encapsulated=self.nat_detected,
            local_port=self.local_port, peer_port=self.peer_port, lifetime_seconds=life,
            lifetime_kilobytes=child_cfg.lifetime_kilobytes if child_cfg else None,
            pfs_group=suite.group.number if suite.group else None, local_ts_all=lts, remote_ts_all=rts,
        )  # fmt: skip
        margin = child_cfg.rekey_margin if child_cfg else 540.0
        if self.role == "responder":
            margin /= 2  # the client normally rekeys first; avoid collisions
        margin = min(margin, life / 2)
        # A little jitter (up to 5% of the margin) keeps many clients from rekeying in step.
        jitter = (self._rand(1)[0] / 255.0) * 0.05 * margin
        entry = ChildEntry(sa, now, now + life - margin - jitter, now + life, tuple(local_ts), tuple(remote_ts))
        self._children.append(entry)
        return entry

    def _delete_child(self, c: ChildEntry, now: float, reason: str, *, by_peer: bool, notify: bool = True) -> None:
        if c.deleted:
            return
        c.deleted = True
        ike = self._ike
        if notify and ike is not None and ike.established and not ike.deleted:
            payload = Payload(PayloadType.DELETE, DeletePayload(ProtocolId.ESP, (c.sa.spi_in.to_bytes(4, "big"),)).encode())
            self._informational(ike, [payload], now, "delete-child")
        self._emit(ChildSADeleted(c.sa, reason, by_peer))

    # --- endings --------------------------------------------------------------------------------------

    def _peer_gone(self, now: float) -> None:
        reason = f"{self.peer_label} stopped answering (no reply to {self.config.max_retransmits + 1} transmissions)"
        self._emit(PeerDead(reason))
        self._shutdown(now, reason, by_peer=False, tell_peer=False)

    def _fail(self, reason: str, now: float, notify: int | None = None, *, tell_peer: bool = True) -> None:
        if self.state is State.CLOSED:
            return
        self.last_failure = reason
        self._emit(ConnectionFailed(reason, notify_name(notify) if notify is not None else None))
        self._shutdown(now, reason, by_peer=False, tell_peer=tell_peer)

    def _shutdown(self, now: float, reason: str, *, by_peer: bool, tell_peer: bool = True) -> None:
        if self.state is State.CLOSED:
            return
        ike = self._ike
        usable = tell_peer and ike is not None and ike.established and not ike.deleted and ike.out is not None
        for c in self._children:
            if not c.deleted:
                c.deleted = True
                self._emit(ChildSADeleted(c.sa, reason, by_peer))
        self._children = []
        if usable and ike is not None:
            # Fire and forget: the connection ends now; the peer answers a Delete even if we stop listening.
            self._send_oneway(ike, [Payload(PayloadType.DELETE, DeletePayload(ProtocolId.IKE).encode())])
        if ike is not None:
            ike.deleted = True
        self._request = None
        self._queue.clear()
        self._init = None
        self.state = State.CLOSED
        self._emit(Closed(reason, by_peer))

    # --- addresses ------------------------------------------------------------------------------------

    @staticmethod
    def _packed(address: str) -> bytes:
        return ipaddress.ip_address(address).packed

    # --- implemented by the mixins --------------------------------------------------------------------

    def _on_sa_init(self, header: Header, msg: bytes, now: float, local_port: int, src: tuple[str, int]) -> None:
        raise NotImplementedError

    def _on_auth_request(self, sa: IkeSA, mid: int, payloads: tuple[Payload, ...], now: float, src: tuple[str, int]) -> None:
        raise NotImplementedError

    def _on_create_child_request(
        self, sa: IkeSA, mid: int, payloads: tuple[Payload, ...], now: float, src: tuple[str, int]
    ) -> None:
        raise NotImplementedError

    def _on_informational_request(
        self, sa: IkeSA, mid: int, payloads: tuple[Payload, ...], now: float, src: tuple[str, int]
    ) -> None:
        raise NotImplementedError

    def _start_auth(self, now: float) -> None:
        raise NotImplementedError

    def _maybe_no_children(self, now: float) -> None:
        raise NotImplementedError


def error_notifies(payloads: Sequence[Payload]) -> list[NotifyPayload]:
    """Error notifies (types below 16384) in a message."""
    out: list[NotifyPayload] = []
    for p in payloads:
        if p.type == PayloadType.NOTIFY:
            n = NotifyPayload.decode(p.body)
            if 0 < n.notify_type < 16384:
                out.append(n)
    return out


def has_notify(payloads: Sequence[Payload], ntype: int) -> NotifyPayload | None:
    for p in payloads:
        if p.type == PayloadType.NOTIFY:
            n = NotifyPayload.decode(p.body)
            if n.notify_type == ntype:
                return n
    return None


def require(payloads: Sequence[Payload], kind: int, what: str) -> Payload:
    for p in payloads:
        if p.type == kind:
            return p
    raise ParseError(f"missing {what} payload")


def first(payloads: Sequence[Payload], kind: int) -> Payload | None:
    return next((p for p in payloads if p.type == kind), None)
