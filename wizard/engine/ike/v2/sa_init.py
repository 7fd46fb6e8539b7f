"""IKE_SA_INIT (RFC 7296 §1.2) in both roles: proposals, Diffie-Hellman, nonces, NAT detection (§2.23),
COOKIE (§2.6) and INVALID_KE_PAYLOAD (§1.2) retries, fragmentation and signature-hash announcements.

After NO_PROPOSAL_CHOSEN the initiator sends one wider diagnostic offer, only to tell the user what the
gateway would accept (the answer is never used).
"""

from __future__ import annotations

import hashlib

from wizard.engine.crypto.suites import dh_group_by_id
from wizard.engine.errors import ParseError
from wizard.engine.ike import failures
from wizard.engine.ike.payloads import HEADER_SIZE, ExchangeType, Header, Payload, V2Flags, decode_chain, encode_chain
from wizard.engine.ike.v1.exchange import PROBE_IKE_PROPOSALS
from wizard.engine.ike.v2 import reasons
from wizard.engine.ike.v2.auth import SUPPORTED_HASHES, certreq_payload, decode_hash_algorithms, encode_hash_algorithms
from wizard.engine.ike.v2.constants import NotifyType, PayloadType
from wizard.engine.ike.v2.core import ConnectionCore, error_notifies, has_notify, require
from wizard.engine.ike.v2.events import NATDetected
from wizard.engine.ike.v2.keys import derive_ike_keys, skeyseed
from wizard.engine.ike.v2.messages import KEPayload, SAPayload, decode_nonce, notifies
from wizard.engine.ike.v2.proposals import (
    accept_ike,
    choose_ike,
    describe_sa,
    ike_offer_names,
    ike_sa_payload,
    profile_proposals,
)
from wizard.engine.ike.v2.state import IkeSA, InitContext, Request, State

NONCE_SIZE = 32
ZERO_SPI = bytes(8)
MAX_COOKIE_TRIES = 3
MAX_KE_TRIES = 2
SETUP_TIMEOUT = 60.0  # responder: a half-open IKE SA is dropped after this long without progress
PROBE_EXTRA = ("aes256gcm16-aes128gcm16-prfsha256-prfsha384-prfsha512-modp2048-ecp256-ecp384-modp3072-modp4096-curve25519",
               "aes256-aes128-sha256-sha384-sha512-sha1-prfsha256-prfsha1-ecp256-ecp384-modp3072-curve25519")  # fmt: skip


def nat_hash(spi_i: bytes, spi_r: bytes, packed: bytes, port: int) -> bytes:
    """§2.23: SHA-1(SPIi | SPIr | IP | Port)."""
    return hashlib.sha1(spi_i + spi_r + packed + port.to_bytes(2, "big")).digest()


class SAInitMixin(ConnectionCore):
    _probing: list[str] | None = None

    # --- initiator --------------------------------------------------------------------------------

    def _start_sa_init(self, now: float, *, probe: bool = False) -> None:
        offers = self._ike_offers
        if probe:
            texts = [*PROBE_EXTRA, *PROBE_IKE_PROPOSALS]
            offers = [p for p in profile_proposals(texts, "ike")]
        group = offers[0].dh_groups[0]
        sa = IkeSA(self._spi(8), ZERO_SPI, True)
        dh = group.generate(self._rand(group.private_size))
        self._init = InitContext(sa, ike_sa_payload(offers), dh, group.number, self._rand(NONCE_SIZE))
        self._send_init(now)

    def _init_payloads(self, ctx: InitContext) -> list[Payload]:
        out: list[Payload] = []
        if ctx.cookie:
            out.append(self._notify(NotifyType.COOKIE, ctx.cookie))
        out.append(Payload(PayloadType.SA, ctx.offered.encode()))
        out.append(Payload(PayloadType.KE, KEPayload(ctx.group, ctx.dh.public_bytes()).encode()))
        out.append(Payload(PayloadType.NONCE, ctx.nonce))
        if self.config.nat_traversal:
            spi = ctx.sa.spi_i
            src = nat_hash(spi, ZERO_SPI, self._packed(self.local_address), self.local_port)
            if self.config.force_encapsulation:
                src = self._rand(20)  # as strongSwan's encap=yes: make the gateway see a NAT
            dst = nat_hash(spi, ZERO_SPI, self._packed(self.peer_address), self.peer_port)
            out += [self._notify(NotifyType.NAT_DETECTION_SOURCE_IP, src),
                    self._notify(NotifyType.NAT_DETECTION_DESTINATION_IP, dst)]  # fmt: skip
        if self.config.fragmentation:
            out.append(self._notify(NotifyType.IKEV2_FRAGMENTATION_SUPPORTED))
        if self.config.signature_rfc7427:
            out.append(self._notify(NotifyType.SIGNATURE_HASH_ALGORITHMS, encode_hash_algorithms(SUPPORTED_HASHES)))
        return out

    def _send_init(self, now: float) -> None:
        ctx = self._init
        assert ctx is not None
        first, body = encode_chain(self._init_payloads(ctx))
        header = Header(ctx.sa.spi_i, ZERO_SPI, first, ExchangeType.IKE_SA_INIT, int(V2Flags.INITIATOR), 0,
                        HEADER_SIZE + len(body), 2, 0)  # fmt: skip
        msg = header.encode() + body
        ctx.sa.init_request = msg
        self._request = Request(ctx.sa, 0, ExchangeType.IKE_SA_INIT, [msg], lambda _p, _t: None, self._init_timed_out,
                                "sa_init", next_at=now + self.config.retransmit_initial)  # fmt: skip
        self._send_raw(msg)

    def _init_timed_out(self, now: float) -> None:
        if self._probing is not None:
            self._probe_done(now, None)
            return
        self._fail(reasons.no_reply(self.peer_label, "the IKE_SA_INIT exchange", False), now)

    def _on_init_response(self, header: Header, msg: bytes, now: float, local_port: int, src: tuple[str, int]) -> None:
        ctx, req = self._init, self._request
        if ctx is None or req is None or req.kind != "sa_init" or header.spi_i != ctx.sa.spi_i or header.message_id:
            self.stats.duplicates += 1
            return
        payloads = decode_chain(header.next_payload, msg[HEADER_SIZE:]).payloads
        has_sa = any(p.type == PayloadType.SA for p in payloads)
        cookie = has_notify(payloads, NotifyType.COOKIE)
        if cookie is not None and not has_sa:
            if ctx.cookie_tries >= MAX_COOKIE_TRIES or not cookie.data:
                self._request = None
                self._fail(f"{self.peer_label} keeps asking for a COOKIE: it may be under attack or overloaded", now)
                return
            ctx.cookie, ctx.cookie_tries = cookie.data, ctx.cookie_tries + 1
            self._request = None
            self._send_init(now)
            return
        for n in error_notifies(payloads):
            self._request = None
            if n.notify_type == NotifyType.INVALID_KE_PAYLOAD and len(n.data) == 2:
                wanted = int.from_bytes(n.data, "big")
                offered_groups = {t.id for p in ctx.offered.proposals for t in p.transforms if t.type == 4}
                group = dh_group_by_id(wanted)
                if group is not None and wanted in offered_groups and wanted != ctx.group and ctx.ke_tries < MAX_KE_TRIES:
                    ctx.group, ctx.ke_tries = wanted, ctx.ke_tries + 1
                    ctx.dh = group.generate(self._rand(group.private_size))
                    self._send_init(now)
                    return
                self._fail(f"{self.peer_label} asked for Diffie-Hellman group {wanted}, which this profile does not offer",
                           now, n.notify_type)  # fmt: skip
                return
            if self._probing is not None:
                self._probe_done(now, None)
                return
            if n.notify_type == NotifyType.NO_PROPOSAL_CHOSEN:
                self._probing = ike_offer_names(self._ike_offers)
                self._start_sa_init(now, probe=True)
                return
            self._fail(reasons.peer_notify(self.peer_label, n.notify_type, "the IKE_SA_INIT exchange"), now, n.notify_type)
            return
        suite = accept_ike(SAPayload.decode(require(payloads, PayloadType.SA, "SA").body), ctx.offered)
        if self._probing is not None:
            self._request = None
            self._probe_done(now, suite.name if suite else None, suite.legacy if suite else False)
            return
        if suite is None:
            self._request = None
            self._fail(f"{self.peer_label} chose an IKE proposal we did not offer", now, NotifyType.NO_PROPOSAL_CHOSEN)
            return
        ke = KEPayload.decode(require(payloads, PayloadType.KE, "KE").body)
        nr = decode_nonce(require(payloads, PayloadType.NONCE, "nonce").body)
        if ke.group != suite.group.number or ke.group != ctx.group or header.spi_r == ZERO_SPI:
            raise ParseError("IKE_SA_INIT response with a key exchange that does not match the chosen group")
        shared = ctx.dh.shared_secret(ke.data)  # InvalidPublicValue is a ParseError: the message is dropped
        self._request = None
        sa = ctx.sa
        sa.spi_r, sa.ni, sa.nr, sa.init_response = header.spi_r, ctx.nonce, nr, msg
        seed = skeyseed(suite.prf, sa.ni, nr, shared)
        self._install_keys(sa, suite, derive_ike_keys(suite.prf, seed, sa.ni, nr, sa.spi_i, sa.spi_r, suite.cipher, suite.integrity))
        sa.next_mid = 1
        self._ike = sa
        self._init = None
        self._read_capabilities(payloads)
        self._detect_nat(sa, payloads, (self.local_address, self.local_port), (self.peer_address, self.peer_port))
        if self.nat_detected or self.config.force_encapsulation or (self.config.mobike and self.config.nat_traversal):
            self.local_port = self.peer_port = self.config.nat_t_port
        self.state = State.AUTH
        self._start_auth(now)

    def _probe_done(self, now: float, choice: str | None, legacy: bool = False) -> None:
        offered = self._probing or ike_offer_names(self._ike_offers)
        self._probing = None
        reason = failures.no_proposal_initiator(
            "the IKE SA", offered, peer=self.peer_label, probe_choice=choice, probe_choice_legacy=legacy,
            probed=choice is None, allow_legacy=self.config.allow_legacy,
        )  # fmt: skip
        self._fail(reason, now, NotifyType.NO_PROPOSAL_CHOSEN)

    def _read_capabilities(self, payloads: tuple[Payload, ...]) -> None:
        for n in notifies(payloads):
            if n.notify_type == NotifyType.IKEV2_FRAGMENTATION_SUPPORTED:
                self.peer_fragmentation = True
            elif n.notify_type == NotifyType.SIGNATURE_HASH_ALGORITHMS:
                self.peer_hash_algorithms = decode_hash_algorithms(n.data)

    def _detect_nat(self, sa: IkeSA, payloads: tuple[Payload, ...], ours: tuple[str, int], peer: tuple[str, int],
                    *, spi_r: bytes | None = None) -> None:  # fmt: skip
        """Compare the peer's NAT_D hashes with our view of both ends (no NAT_D: no NAT-T support)."""
        r = sa.spi_r if spi_r is None else spi_r
        srcs = [n.data for n in notifies(payloads) if n.notify_type == NotifyType.NAT_DETECTION_SOURCE_IP]
        dsts = [n.data for n in notifies(payloads) if n.notify_type == NotifyType.NAT_DETECTION_DESTINATION_IP]
        if not srcs or not dsts or not self.config.nat_traversal:
            return
        local = dsts[0] != nat_hash(sa.spi_i, r, self._packed(ours[0]), ours[1])
        remote = nat_hash(sa.spi_i, r, self._packed(peer[0]), peer[1]) not in srcs
        if self.config.force_encapsulation and self.role == "initiator":
            local = True
        self.local_behind_nat, self.peer_behind_nat = local, remote
        if (local or remote) and not self.nat_detected:
            self.nat_detected = True
            self._emit(NATDetected(local, remote, self.config.nat_t_port))

    # --- responder --------------------------------------------------------------------------------

    def _cookie_for(self, ni: bytes, address: str, spi_i: bytes) -> bytes:
        return b"\x01" + hashlib.sha256(ni + self._packed(address) + spi_i + self._cookie_secret).digest()[:16]

    def _send_unprotected(self, header: Header, payloads: list[Payload], dest: tuple[str, int], spi_r: bytes = ZERO_SPI) -> bytes:
        first, body = encode_chain(payloads)
        out = Header(header.spi_i, spi_r, first, ExchangeType.IKE_SA_INIT, int(V2Flags.RESPONSE), 0,
                     HEADER_SIZE + len(body), 2, 0).encode() + body  # fmt: skip
        self._send_raw(out, dest)
        return out

    def _on_sa_init(self, header: Header, msg: bytes, now: float, local_port: int, src: tuple[str, int]) -> None:
        if header.flags & V2Flags.RESPONSE:
            if self.role == "initiator":
                self._on_init_response(header, msg, now, local_port, src)
            else:
                self.stats.unexpected_dropped += 1
            return
        if self.role != "responder" or header.message_id != 0 or header.spi_r != ZERO_SPI:
            self.stats.unexpected_dropped += 1
            return
        ike = self._ike
        if ike is not None:
            if ike.spi_i == header.spi_i and ike.init_request == msg and ike.init_response and not ike.established:
                self.stats.responses_replayed += 1
                self._send_raw(ike.init_response, src)
            else:
                self.stats.unexpected_dropped += 1
            return
        payloads = decode_chain(header.next_payload, msg[HEADER_SIZE:]).payloads
        sa_p = SAPayload.decode(require(payloads, PayloadType.SA, "SA").body)
        ke = KEPayload.decode(require(payloads, PayloadType.KE, "KE").body)
        ni = decode_nonce(require(payloads, PayloadType.NONCE, "nonce").body)
        if self.config.require_cookie:
            expected = self._cookie_for(ni, src[0], header.spi_i)
            got = has_notify(payloads, NotifyType.COOKIE)
            if got is None or got.data != expected:
                self._send_unprotected(header, [self._notify(NotifyType.COOKIE, expected)], src)
                return
        choice = choose_ike(sa_p, self._ike_offers, ke_group=ke.group)
        if choice is None:
            self._send_unprotected(header, [self._notify(NotifyType.NO_PROPOSAL_CHOSEN)], src)
            reason = failures.no_proposal_responder("the IKE SA", describe_sa(sa_p), ike_offer_names(self._ike_offers))
            self._fail(reason, now, NotifyType.NO_PROPOSAL_CHOSEN, tell_peer=False)
            return
        proposal, suite = choice
        if suite.group.number != ke.group:
            self._send_unprotected(header, [self._notify(NotifyType.INVALID_KE_PAYLOAD, suite.group.number.to_bytes(2, "big"))], src)
            return
        dh = suite.group.generate(self._rand(suite.group.private_size))
        shared = dh.shared_secret(ke.data)
        nr = self._rand(NONCE_SIZE)
        sa = IkeSA(header.spi_i, self._spi(8), False, ni=ni, nr=nr, init_request=msg)
        seed = skeyseed(suite.prf, ni, nr, shared)
        self._install_keys(sa, suite, derive_ike_keys(suite.prf, seed, ni, nr, sa.spi_i, sa.spi_r, suite.cipher, suite.integrity))
        sa.peer_mid = 1
        self._ike = sa
        self.peer_address, self.peer_port = src
        self.local_port = local_port
        self._read_capabilities(payloads)
        self._detect_nat(sa, payloads, (self.local_address, local_port), src, spi_r=ZERO_SPI)
        out: list[Payload] = [
            Payload(PayloadType.SA, SAPayload((proposal,)).encode()),
            Payload(PayloadType.KE, KEPayload(suite.group.number, dh.public_bytes()).encode()),
            Payload(PayloadType.NONCE, nr),
        ]
        if has_notify(payloads, NotifyType.NAT_DETECTION_SOURCE_IP) is not None and self.config.nat_traversal:
            out += [
                self._notify(NotifyType.NAT_DETECTION_SOURCE_IP,
                             nat_hash(sa.spi_i, sa.spi_r, self._packed(self.local_address), local_port)),
                self._notify(NotifyType.NAT_DETECTION_DESTINATION_IP, nat_hash(sa.spi_i, sa.spi_r, self._packed(src[0]), src[1])),
            ]  # fmt: skip
        if self.config.expected_peer_auth(self.role) == "cert" and self.config.ca_certificates:
            out.append(Payload(PayloadType.CERTREQ, certreq_payload(self.config.ca_certificates).encode()))
        if self.config.fragmentation and self.peer_fragmentation:
            out.append(self._notify(NotifyType.IKEV2_FRAGMENTATION_SUPPORTED))
        else:
            self.peer_fragmentation = False
        if self.config.signature_rfc7427 and self.peer_hash_algorithms:
            out.append(self._notify(NotifyType.SIGNATURE_HASH_ALGORITHMS, encode_hash_algorithms(SUPPORTED_HASHES)))
        sa.init_response = self._send_unprotected(header, out, src, sa.spi_r)
        self.state = State.AUTH
        self._last_heard = now
        self._setup_deadline = now + SETUP_TIMEOUT
