"""IKE_AUTH (RFC 7296 §1.2, §2.15-2.16) in both roles: identities, PSK and signature AUTH, certificates,
EAP rounds (with RFC 5998 EAP-only authentication), the configuration payload and the first Child SA.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography import x509

from wizard.engine.errors import ParseError
from wizard.engine.ike import failures
from wizard.engine.ike.payloads import ExchangeType, Payload
from wizard.engine.ike.v1.auth import identities_equal
from wizard.engine.ike.v1.identities import Identity
from wizard.engine.ike.v2 import cp, reasons
from wizard.engine.ike.v2.auth import (
    AuthFailure,
    cert_payloads,
    certreq_payload,
    check_certificate,
    is_signature_method,
    load_certificates,
    sign,
    verify,
)
from wizard.engine.ike.v2.config import AddressLease
from wizard.engine.ike.v2.constants import AuthMethod, CfgType, NotifyType, PayloadType, ProtocolId
from wizard.engine.ike.v2.core import ConnectionCore, error_notifies, first, has_notify, require
from wizard.engine.ike.v2.eap import EapAuthenticator, EapPeer
from wizard.engine.ike.v2.events import ChildSAUp, IKESAUp
from wizard.engine.ike.v2.keys import derive_child_keys, same, shared_key_auth, signed_octets
from wizard.engine.ike.v2.messages import AuthPayload, CertPayload, CPPayload, IdPayload, NotifyPayload, SAPayload
from wizard.engine.ike.v2.proposals import accept_esp, choose_esp, describe_sa, esp_sa_payload
from wizard.engine.ike.v2.sa_init import SETUP_TIMEOUT
from wizard.engine.ike.v2.state import IkeSA, State
from wizard.engine.ike.v2.ts import Selector, decode_ts, describe, encode_ts, narrow, within

_CHILD_ERRORS = frozenset({
    NotifyType.NO_PROPOSAL_CHOSEN, NotifyType.TS_UNACCEPTABLE, NotifyType.SINGLE_PAIR_REQUIRED,
    NotifyType.INTERNAL_ADDRESS_FAILURE, NotifyType.FAILED_CP_REQUIRED, NotifyType.INVALID_SELECTORS,
    NotifyType.NO_ADDITIONAL_SAS,
})  # fmt: skip


@dataclass
class AuthContext:
    """IKE_AUTH across its EAP rounds."""

    id_body: bytes = b""  # our ID payload body
    peer_id_body: bytes = b""
    peer_identity: Identity | None = None
    peer_verified: bool = False
    peer_auth_desc: str = ""
    eap_peer: EapPeer | None = None
    eap_auth: EapAuthenticator | None = None
    eap_only: bool = False
    eap_done: bool = False
    child_spi: bytes = b""
    child_offer: SAPayload | None = None
    tsi: tuple[Selector, ...] = ()
    tsr: tuple[Selector, ...] = ()
    transport: bool = False
    request: tuple[Payload, ...] = ()  # responder: the first IKE_AUTH request (SA, TS, CP)
    finished: bool = False
    certs: list[x509.Certificate] = field(default_factory=list)


def identity_of(p: Payload) -> tuple[bytes, Identity]:
    idp = IdPayload.decode(p.body)
    return p.body, Identity(idp.id_type, idp.data)


class IkeAuthMixin(ConnectionCore):
    _auth: AuthContext | None = None

    # --- shared ---------------------------------------------------------------------------------------

    def _local_identity(self) -> Identity:
        cfg = self.config
        if cfg.local_id:
            return Identity.parse(cfg.local_id)
        if cfg.auth == "cert" and cfg.certificate is not None:
            return Identity.from_name(cfg.certificate.subject)
        if cfg.auth == "eap" and cfg.eap_username:
            return Identity.parse(cfg.eap_username) if "=" not in cfg.eap_username else Identity(2, cfg.eap_username.encode())
        return Identity.parse(self.local_address)

    def _octets(self, sa: IkeSA, *, ours: bool, id_body: bytes) -> bytes:
        """§2.15 signed octets of our AUTH (``ours``) or of the peer's."""
        assert sa.suite is not None and sa.keys is not None
        sender_is_initiator = (self.role == "initiator") == ours
        if sender_is_initiator:
            return signed_octets(sa.init_request, sa.nr, sa.suite.prf, sa.keys.sk_pi, id_body)
        return signed_octets(sa.init_response, sa.ni, sa.suite.prf, sa.keys.sk_pr, id_body)

    def _our_auth(self, sa: IkeSA, id_body: bytes) -> list[Payload]:
        """CERT payloads (certificate auth) and AUTH."""
        cfg = self.config
        octets = self._octets(sa, ours=True, id_body=id_body)
        assert sa.suite is not None
        if cfg.auth == "psk":
            return [Payload(PayloadType.AUTH, AuthPayload(AuthMethod.PSK, shared_key_auth(sa.suite.prf, cfg.psk_bytes, octets)).encode())]
        assert cfg.certificate is not None and cfg.private_key is not None
        out = [Payload(PayloadType.CERT, c.encode()) for c in cert_payloads(cfg.certificate, cfg.certificate_chain)]
        auth = sign(cfg.private_key, octets, self.peer_hash_algorithms, prefer_rfc7427=cfg.signature_rfc7427)
        return [*out, Payload(PayloadType.AUTH, auth.encode())]

    def _msk_auth(self, sa: IkeSA, ctx: AuthContext, *, ours: bool, id_body: bytes) -> bytes:
        assert sa.suite is not None and sa.keys is not None
        eap = ctx.eap_peer if ctx.eap_peer is not None else ctx.eap_auth
        msk = eap.msk if eap is not None else None
        sender_is_initiator = (self.role == "initiator") == ours
        key = msk if msk is not None else (sa.keys.sk_pi if sender_is_initiator else sa.keys.sk_pr)
        return shared_key_auth(sa.suite.prf, key, self._octets(sa, ours=ours, id_body=id_body))

    def _verify_peer(self, sa: IkeSA, ctx: AuthContext, auth: AuthPayload, payloads: tuple[Payload, ...]) -> str:
        """Check the peer's PSK or signature AUTH; returns how it authenticated or raises AuthFailure."""
        expected = self.config.expected_peer_auth(self.role)
        peer = self.peer_label
        assert sa.suite is not None and ctx.peer_identity is not None
        octets = self._octets(sa, ours=False, id_body=ctx.peer_id_body)
        if auth.method == AuthMethod.PSK:
            if expected != "psk":
                raise AuthFailure(f"{peer} authenticated with a pre-shared key, but this profile expects a certificate")
            if not same(auth.data, shared_key_auth(sa.suite.prf, self.config.psk_bytes, octets)):
                if self.role == "initiator":
                    raise AuthFailure(reasons.peer_psk_wrong(peer))
                raise AuthFailure(f"the AUTH payload from {peer} ({ctx.peer_identity}) did not verify: "
                                  "its pre-shared key is probably wrong")  # fmt: skip
            return "psk"
        if not is_signature_method(auth.method):
            raise AuthFailure(f"{peer} used authentication method {auth.method}, which this side does not support")
        if expected == "psk":
            raise AuthFailure(f"{peer} authenticated with a certificate, but this profile expects a pre-shared key")
        certs = load_certificates([CertPayload.decode(p.body) for p in payloads if p.type == PayloadType.CERT], peer)
        leaf = check_certificate(certs, self.config.ca_certificates, self.config.wall_clock(), ctx.peer_identity, peer)
        return verify(auth, leaf.public_key(), octets, peer)

    def _check_peer_id(self, identity: Identity) -> None:
        if self.config.peer_id and not identities_equal(identity, Identity.parse(self.config.peer_id)):
            raise AuthFailure(failures.id_mismatch(self.peer_label, identity.describe(), self.config.peer_id))

    # --- initiator ----------------------------------------------------------------------------------

    def _start_auth(self, now: float) -> None:
        sa = self._ike
        assert sa is not None and sa.suite is not None
        cfg = self.config
        ctx = AuthContext()
        self._auth = ctx
        ident = self._local_identity()
        id_payload = IdPayload(ident.id_type, ident.data)
        ctx.id_body = id_payload.encode()
        out: list[Payload] = [Payload(PayloadType.IDI, ctx.id_body)]
        peer_expect = cfg.expected_peer_auth(self.role)
        if cfg.initial_contact:
            out.append(self._notify(NotifyType.INITIAL_CONTACT))
        if peer_expect == "cert" and cfg.ca_certificates:
            out.append(Payload(PayloadType.CERTREQ, certreq_payload(cfg.ca_certificates).encode()))
        if cfg.peer_id:
            pid = Identity.parse(cfg.peer_id)
            out.append(Payload(PayloadType.IDR, IdPayload(pid.id_type, pid.data).encode()))
        if cfg.auth == "eap":
            assert cfg.eap_username is not None and cfg.eap_password is not None
            ctx.eap_peer = EapPeer(cfg.eap_username, cfg.eap_password, cfg.eap_methods, self._rand)
        else:
            auth = self._our_auth(sa, ctx.id_body)
            certs, rest = auth[:-1], auth[-1:]
            out = out[:1] + certs + out[1:] + rest
        if cfg.request_config and cfg.child is not None and cfg.child.mode == "tunnel":
            out.append(Payload(PayloadType.CP, cp.request(cfg.request_ipv6).encode()))
        if cfg.child is not None:
            ctx.child_spi = self._child_spi()
            ctx.child_offer = esp_sa_payload(self._esp_offers, ctx.child_spi, pfs=None)
            ctx.tsi, ctx.tsr = self._proposed_ts()
            ctx.transport = cfg.child.mode == "transport"
            out += [Payload(PayloadType.SA, ctx.child_offer.encode()), Payload(PayloadType.TSI, encode_ts(ctx.tsi)),
                    Payload(PayloadType.TSR, encode_ts(ctx.tsr))]  # fmt: skip
            if ctx.transport:
                out.append(self._notify(NotifyType.USE_TRANSPORT_MODE))
        if cfg.mobike:
            out.append(self._notify(NotifyType.MOBIKE_SUPPORTED))
        if cfg.auth == "eap" and cfg.eap_only and not cfg.ca_certificates:
            # With CA certificates configured the gateway must prove itself with one (as Windows expects).
            out.append(self._notify(NotifyType.EAP_ONLY_AUTHENTICATION))
        self._send_request(sa, ExchangeType.IKE_AUTH, out, "auth", self._on_auth_response, self._auth_timed_out, now)

    def _proposed_ts(self) -> tuple[tuple[Selector, ...], tuple[Selector, ...]]:
        child = self.config.child
        assert child is not None
        if child.local_ts:
            tsi = tuple(Selector.from_v1(t) for t in child.local_ts)
        elif self.config.request_config and child.mode == "tunnel":
            tsi = (Selector.any(4),) + ((Selector.any(6),) if self.config.request_ipv6 else ())
        else:
            tsi = (Selector.host(self.local_address),)
        tsr = tuple(Selector.from_v1(t) for t in child.remote_ts) if child.remote_ts else (Selector.any(4),)
        if child.mode == "transport" and not child.remote_ts:
            tsr = (Selector.host(self.peer_address),)
        return tsi, tsr

    def _auth_timed_out(self, now: float) -> None:
        ctx = self._auth
        floated = self.local_port == self.config.nat_t_port
        if ctx is not None and ctx.eap_peer is None and self.config.auth == "psk":
            self._fail(f"no reply from {self.peer_label} after we authenticated: the pre-shared key or our identity is "
                       "probably not accepted" + (", or a NAT or firewall drops UDP port 4500" if floated else ""), now)  # fmt: skip
            return
        self._fail(reasons.no_reply(self.peer_label, "authentication (IKE_AUTH)", floated), now)

    def _on_auth_response(self, payloads: tuple[Payload, ...], now: float) -> None:
        sa, ctx = self._ike, self._auth
        assert sa is not None and ctx is not None
        errors = error_notifies(payloads)
        for n in errors:
            if n.notify_type == NotifyType.AUTHENTICATION_FAILED:
                eap = ctx.eap_peer
                if eap is not None and eap.failure:
                    self._fail(eap.failure, now, n.notify_type, tell_peer=False)
                else:
                    self._fail(reasons.auth_rejected(self.peer_label, self.config.auth), now, n.notify_type, tell_peer=False)
                return
            if n.notify_type not in _CHILD_ERRORS:
                self._fail(reasons.peer_notify(self.peer_label, n.notify_type, "authentication (IKE_AUTH)"), now,
                           n.notify_type, tell_peer=False)  # fmt: skip
                return
        eap = ctx.eap_peer
        if eap is not None and eap.done and not eap.succeeded:
            self._fail(eap.failure or f"the gateway rejected the user name or password ({eap.method})", now,
                       NotifyType.AUTHENTICATION_FAILED, tell_peer=False)  # fmt: skip
            return
        try:
            self._auth_response_checks(sa, ctx, payloads)
        except AuthFailure as exc:
            # RFC 7296 §2.21.2: tell the gateway why we give up on it.
            self._send_oneway(sa, [self._notify(NotifyType.AUTHENTICATION_FAILED)])
            self._fail(exc.reason, now, NotifyType.AUTHENTICATION_FAILED, tell_peer=False)
            return
        eap_p = first(payloads, PayloadType.EAP)
        if eap_p is not None:
            self._eap_round(sa, ctx, eap_p.body, now)
            return
        if ctx.eap_peer is not None and not ctx.eap_done:
            self._fail(f"{self.peer_label} did not start EAP although we sent no AUTH payload; check that the profile's "
                       "authentication method matches the gateway", now)  # fmt: skip
            return
        if not ctx.peer_verified:
            raise ParseError("final IKE_AUTH response without a verified AUTH payload")
        self._finish_initiator(sa, ctx, payloads, errors, now)

    def _auth_response_checks(self, sa: IkeSA, ctx: AuthContext, payloads: tuple[Payload, ...]) -> None:
        idr = first(payloads, PayloadType.IDR)
        if idr is not None and ctx.peer_identity is None:
            ctx.peer_id_body, ctx.peer_identity = identity_of(idr)
            self._check_peer_id(ctx.peer_identity)
            self.peer_id = str(ctx.peer_identity)
        auth_p = first(payloads, PayloadType.AUTH)
        if auth_p is None:
            if ctx.peer_identity is None:
                raise ParseError("IKE_AUTH response without an identity")
            if ctx.eap_peer is not None and not ctx.peer_verified and not ctx.eap_done and first(payloads, PayloadType.EAP):
                if not self.config.eap_only or self.config.ca_certificates:
                    raise AuthFailure(f"{self.peer_label} did not authenticate itself (it offered EAP-only "
                                      "authentication, which this profile does not allow)")  # fmt: skip
                ctx.eap_only = True
            return
        if ctx.peer_identity is None:
            raise ParseError("IKE_AUTH response with AUTH but without an identity")
        auth = AuthPayload.decode(auth_p.body)
        if ctx.eap_done:
            if auth.method != AuthMethod.PSK or not same(auth.data, self._msk_auth(sa, ctx, ours=False, id_body=ctx.peer_id_body)):
                raise AuthFailure(f"the final AUTH payload of {self.peer_label} did not verify against the EAP key")
            if ctx.eap_only:
                ctx.peer_auth_desc = f"eap-only ({ctx.eap_peer.method if ctx.eap_peer else 'EAP'})"
            ctx.peer_verified = True
            return
        if ctx.peer_verified:
            return
        ctx.peer_auth_desc = self._verify_peer(sa, ctx, auth, payloads)
        ctx.peer_verified = True

    def _eap_round(self, sa: IkeSA, ctx: AuthContext, message: bytes, now: float) -> None:
        eap = ctx.eap_peer
        if eap is None or ctx.eap_done:
            raise ParseError("unexpected EAP payload")
        if ctx.eap_only is False and not ctx.peer_verified:
            raise ParseError("EAP before the gateway authenticated")
        answer = eap.handle(message, now)
        if answer is None and eap.done and not eap.succeeded:
            reason = eap.failure or f"the gateway rejected the user name or password ({eap.method})"
            self._fail(reason, now, NotifyType.AUTHENTICATION_FAILED, tell_peer=False)
            return
        if answer is not None:  # also a failure's acknowledgement: the gateway then ends with EAP-Failure
            self._send_request(sa, ExchangeType.IKE_AUTH, [Payload(PayloadType.EAP, answer)], "auth", self._on_auth_response,
                               self._auth_timed_out, now)  # fmt: skip
            return
        if eap.done and eap.succeeded:
            if ctx.eap_only and eap.msk is None:
                self._fail(f"{self.peer_label} authenticated only through {eap.method}, which does not prove its identity "
                           "(EAP-only authentication needs a method such as EAP-MSCHAPv2)", now)  # fmt: skip
                return
            ctx.eap_done = True
            auth = AuthPayload(AuthMethod.PSK, self._msk_auth(sa, ctx, ours=True, id_body=ctx.id_body))
            self._send_request(sa, ExchangeType.IKE_AUTH, [Payload(PayloadType.AUTH, auth.encode())], "auth",
                               self._on_auth_response, self._auth_timed_out, now)  # fmt: skip
            return
        raise ParseError("EAP request produced no answer")

    def _finish_initiator(self, sa: IkeSA, ctx: AuthContext, payloads: tuple[Payload, ...], errors: list[NotifyPayload], now: float) -> None:
        cfg = self.config
        self.peer_mobike = has_notify(payloads, NotifyType.MOBIKE_SUPPORTED) is not None and cfg.mobike
        self._ike_established(sa, ctx, now)
        cp_p = first(payloads, PayloadType.CP)
        if cp_p is not None:
            reply = CPPayload.decode(cp_p.body)
            if reply.cfg_type == CfgType.REPLY:
                received = cp.parse_reply(reply)
                self.virtual_address = received.address
                self._emit(received)
        if cfg.child is None:
            return
        for n in errors:
            self._fail(self._child_error_reason(n.notify_type, ctx), now, n.notify_type)
            return
        assert ctx.child_offer is not None
        sa_p = first(payloads, PayloadType.SA)
        tsi_p, tsr_p = first(payloads, PayloadType.TSI), first(payloads, PayloadType.TSR)
        if sa_p is None or tsi_p is None or tsr_p is None:
            self._fail(f"{self.peer_label} set up no IPsec SA", now)
            return
        suite = accept_esp(SAPayload.decode(sa_p.body), ctx.child_offer, pfs=None)
        if suite is None:
            self._fail(f"{self.peer_label} chose an ESP proposal we did not offer", now, NotifyType.NO_PROPOSAL_CHOSEN)
            return
        tsi, tsr = decode_ts(tsi_p.body), decode_ts(tsr_p.body)
        if not within(tsi, ctx.tsi) or not within(tsr, ctx.tsr):
            self._fail(f"{self.peer_label} widened the traffic selectors (ours {describe(tsi)}, remote {describe(tsr)}) "
                       "beyond what we proposed", now, NotifyType.TS_UNACCEPTABLE)  # fmt: skip
            return
        transport = has_notify(payloads, NotifyType.USE_TRANSPORT_MODE) is not None
        if ctx.transport and not transport:
            self._fail(f"{self.peer_label} refused transport mode (it only offers a tunnel)", now)
            return
        spi_out = SAPayload.decode(sa_p.body).proposals[0].spi
        assert sa.suite is not None and sa.keys is not None
        keys = derive_child_keys(sa.suite.prf, sa.keys.sk_d, sa.ni, sa.nr, suite.cipher, suite.integrity)
        entry = self._new_child(suite, ctx.child_spi, spi_out, keys, we_initiated=True, local_ts=tsi, remote_ts=tsr,
                                transport=transport, now=now)  # fmt: skip
        self._emit(ChildSAUp(entry.sa))

    def _child_error_reason(self, code: int, ctx: AuthContext) -> str:
        if code == NotifyType.TS_UNACCEPTABLE:
            return reasons.ts_unacceptable(self.peer_label, describe(ctx.tsi), describe(ctx.tsr))
        if code == NotifyType.NO_PROPOSAL_CHOSEN:
            child = self.config.child
            return failures.no_proposal_initiator("the IPsec (ESP) SA", list(child.esp_proposals if child else ()),
                                                  peer=self.peer_label, list_name="ESP proposals")  # fmt: skip
        return reasons.peer_notify(self.peer_label, code, "the IPsec SA set-up")

    def _ike_established(self, sa: IkeSA, ctx: AuthContext, now: float) -> None:
        sa.established, sa.established_at = True, now
        ctx.finished = True
        self._setup_deadline = None
        self.state = State.ESTABLISHED
        self._last_heard = now
        cfg = self.config
        eap = ctx.eap_peer if ctx.eap_peer is not None else ctx.eap_auth
        if self.role == "initiator":
            auth = cfg.auth + (f" ({eap.method})" if eap is not None else "")
            peer_auth = ctx.peer_auth_desc
        else:
            auth = cfg.auth
            peer_auth = ctx.peer_auth_desc or (f"eap ({eap.method})" if eap is not None else "")
        assert sa.suite is not None
        eap_identity = ctx.eap_auth.username if ctx.eap_auth is not None else ""
        self._emit(IKESAUp(sa.suite.name, self.peer_id, auth, peer_auth, sa.spi_i, sa.spi_r, self.nat_detected, False,
                           eap_identity, self.peer_fragmentation, self.peer_mobike))  # fmt: skip

    # --- responder ----------------------------------------------------------------------------------

    def _on_auth_request(self, sa: IkeSA, mid: int, payloads: tuple[Payload, ...], now: float, src: tuple[str, int]) -> None:
        if self.role != "responder" or sa is not self._ike or self.state is not State.AUTH:
            self._respond(sa, ExchangeType.IKE_AUTH, mid, [self._notify(NotifyType.INVALID_SYNTAX)], src)
            return
        ctx = self._auth
        self._setup_deadline = now + SETUP_TIMEOUT
        try:
            if ctx is None:
                self._auth_first_request(sa, mid, payloads, now, src)
            elif ctx.eap_auth is not None and not ctx.eap_done:
                self._auth_eap_request(sa, ctx, mid, payloads, now, src)
            else:
                self._auth_final_request(sa, ctx, mid, payloads, now, src)
        except AuthFailure as exc:
            self._respond(sa, ExchangeType.IKE_AUTH, mid, [self._notify(NotifyType.AUTHENTICATION_FAILED)], src)
            self._fail(exc.reason, now, NotifyType.AUTHENTICATION_FAILED, tell_peer=False)

    def _our_id(self) -> IdPayload:
        ident = Identity.parse(self.config.local_id) if self.config.local_id else self._local_identity()
        return IdPayload(ident.id_type, ident.data)

    def _auth_first_request(self, sa: IkeSA, mid: int, payloads: tuple[Payload, ...], now: float, src: tuple[str, int]) -> None:
        cfg = self.config
        ctx = AuthContext(request=payloads)
        ctx.peer_id_body, ctx.peer_identity = identity_of(require(payloads, PayloadType.IDI, "IDi"))
        self.peer_id = str(ctx.peer_identity)
        self._check_peer_id(ctx.peer_identity)
        our_id = self._our_id()
        ctx.id_body = our_id.encode()
        self._auth = ctx
        auth_p = first(payloads, PayloadType.AUTH)
        expected = cfg.expected_peer_auth(self.role)
        if auth_p is None:
            if expected != "eap" or not cfg.eap_users:
                raise AuthFailure(f"{self.peer_label} ({ctx.peer_identity}) asked for EAP, but this gateway expects "
                                  f"{'a pre-shared key' if expected == 'psk' else 'a certificate'}")  # fmt: skip
            ctx.eap_auth = EapAuthenticator(cfg.eap_users, cfg.eap_methods, cfg.eap_server_name, self._rand)
            ctx.eap_only = (has_notify(payloads, NotifyType.EAP_ONLY_AUTHENTICATION) is not None and cfg.eap_only
                            and cfg.eap_methods[:1] == ("mschapv2",))  # fmt: skip
            out: list[Payload] = [Payload(PayloadType.IDR, ctx.id_body)]
            if not ctx.eap_only:
                out += self._our_auth(sa, ctx.id_body)
            out.append(Payload(PayloadType.EAP, ctx.eap_auth.start(now)))
            self._respond(sa, ExchangeType.IKE_AUTH, mid, out, src)
            return
        if expected == "eap":
            raise AuthFailure(f"{self.peer_label} ({ctx.peer_identity}) sent an AUTH payload, but this gateway expects EAP")
        ctx.peer_auth_desc = self._verify_peer(sa, ctx, AuthPayload.decode(auth_p.body), payloads)
        ctx.peer_verified = True
        out = [Payload(PayloadType.IDR, ctx.id_body), *self._our_auth(sa, ctx.id_body)]
        self._finish_responder(sa, ctx, mid, out, now, src)

    def _auth_eap_request(self, sa: IkeSA, ctx: AuthContext, mid: int, payloads: tuple[Payload, ...], now: float,
                          src: tuple[str, int]) -> None:  # fmt: skip
        eap = ctx.eap_auth
        assert eap is not None
        answer = eap.handle(require(payloads, PayloadType.EAP, "EAP").body, now)
        if answer is None:
            raise ParseError("EAP response produced no answer")
        if eap.done and not eap.succeeded:
            self._respond(sa, ExchangeType.IKE_AUTH, mid, [Payload(PayloadType.EAP, answer)], src)
            self._fail(eap.failure or "the client's EAP authentication failed", now, NotifyType.AUTHENTICATION_FAILED,
                       tell_peer=False)  # fmt: skip
            return
        if eap.done:
            if ctx.eap_only and eap.msk is None:
                raise AuthFailure("EAP-only authentication needs a key-generating method; the client used "
                                  f"{eap.method}")  # fmt: skip
            ctx.eap_done = True
        self._respond(sa, ExchangeType.IKE_AUTH, mid, [Payload(PayloadType.EAP, answer)], src)

    def _auth_final_request(self, sa: IkeSA, ctx: AuthContext, mid: int, payloads: tuple[Payload, ...], now: float,
                            src: tuple[str, int]) -> None:  # fmt: skip
        if ctx.finished or not ctx.eap_done:
            raise ParseError("unexpected IKE_AUTH request")
        auth = AuthPayload.decode(require(payloads, PayloadType.AUTH, "AUTH").body)
        if auth.method != AuthMethod.PSK or not same(auth.data, self._msk_auth(sa, ctx, ours=False, id_body=ctx.peer_id_body)):
            raise AuthFailure(f"the final AUTH payload of {self.peer_label} did not verify against the EAP key")
        ctx.peer_verified = True
        our = AuthPayload(AuthMethod.PSK, self._msk_auth(sa, ctx, ours=True, id_body=ctx.id_body))
        self._finish_responder(sa, ctx, mid, [Payload(PayloadType.AUTH, our.encode())], now, src)

    def _finish_responder(self, sa: IkeSA, ctx: AuthContext, mid: int, out: list[Payload], now: float,
                          src: tuple[str, int]) -> None:  # fmt: skip
        cfg = self.config
        req = ctx.request
        self.peer_mobike = has_notify(req, NotifyType.MOBIKE_SUPPORTED) is not None and cfg.mobike
        lease = None
        cp_p = first(req, PayloadType.CP)
        child_error: tuple[int, str] | None = None
        if cp_p is not None:
            request = CPPayload.decode(cp_p.body)
            if request.cfg_type == CfgType.REQUEST and cfg.lease_provider is not None:
                who = ctx.eap_auth.username if ctx.eap_auth is not None else str(ctx.peer_identity)
                lease = cfg.lease_provider(who)
                if lease is None:
                    child_error = (NotifyType.INTERNAL_ADDRESS_FAILURE, f"no virtual address is left for {who}")
                else:
                    out.append(Payload(PayloadType.CP, cp.reply(lease, request).encode()))
                    self.peer_virtual_address = lease.address
        sa_p, tsi_p, tsr_p = first(req, PayloadType.SA), first(req, PayloadType.TSI), first(req, PayloadType.TSR)
        entry = None
        if cfg.child is not None and sa_p is not None and tsi_p is not None and tsr_p is not None and child_error is None:
            offer = SAPayload.decode(sa_p.body)
            choice = choose_esp(offer, self._esp_offers, dh_required=False)
            tsi, tsr = decode_ts(tsi_p.body), decode_ts(tsr_p.body)
            allowed_remote = self._allowed_remote(lease)
            allowed_local = tuple(Selector.from_v1(t) for t in cfg.child.local_ts) or (Selector.any(4), Selector.any(6))
            n_tsi, n_tsr = narrow(tsi, allowed_remote), narrow(tsr, allowed_local)
            transport = has_notify(req, NotifyType.USE_TRANSPORT_MODE) is not None and cfg.child.mode == "transport"
            if choice is None:
                child_error = (NotifyType.NO_PROPOSAL_CHOSEN, failures.no_proposal_responder(
                    "the IPsec (ESP) SA", describe_sa(offer), list(cfg.child.esp_proposals)))  # fmt: skip
            elif not n_tsi or not n_tsr:
                child_error = (NotifyType.TS_UNACCEPTABLE, f"TS_UNACCEPTABLE: {self.peer_label} asked to tunnel "
                               f"{describe(tsi)} to {describe(tsr)}, which this gateway does not allow")  # fmt: skip
            elif cfg.child.mode == "transport" and not transport:
                child_error = (NotifyType.NO_PROPOSAL_CHOSEN, f"{self.peer_label} asked for a tunnel, this gateway "
                               "offers transport mode only")  # fmt: skip
            else:
                proposal, suite = choice
                spi_in = self._child_spi()
                proposal = type(proposal)(proposal.number, ProtocolId.ESP, spi_in, proposal.transforms)
                out += [Payload(PayloadType.SA, SAPayload((proposal,)).encode()), Payload(PayloadType.TSI, encode_ts(n_tsi)),
                        Payload(PayloadType.TSR, encode_ts(n_tsr))]  # fmt: skip
                if transport:
                    out.append(self._notify(NotifyType.USE_TRANSPORT_MODE))
                assert sa.suite is not None and sa.keys is not None
                keys = derive_child_keys(sa.suite.prf, sa.keys.sk_d, sa.ni, sa.nr, suite.cipher, suite.integrity)
                peer_spi = next(p.spi for p in offer.proposals if p.number == proposal.number and p.protocol == ProtocolId.ESP)
                entry = self._new_child(suite, spi_in, peer_spi, keys, we_initiated=False, local_ts=n_tsr, remote_ts=n_tsi,
                                        transport=transport, now=now)  # fmt: skip
        elif cfg.child is not None and child_error is None:
            child_error = (NotifyType.NO_PROPOSAL_CHOSEN, f"{self.peer_label} asked for no IPsec SA")
        if child_error is not None:
            out.append(self._notify(child_error[0]))
        if self.peer_mobike:
            out.append(self._notify(NotifyType.MOBIKE_SUPPORTED))
        self._respond(sa, ExchangeType.IKE_AUTH, mid, out, src)
        self._ike_established(sa, ctx, now)
        if child_error is not None:
            self._fail(child_error[1], now, child_error[0], tell_peer=False)
            return
        if entry is not None:
            self._emit(ChildSAUp(entry.sa))

    peer_virtual_address: str | None = None

    def _allowed_remote(self, lease: AddressLease | None) -> tuple[Selector, ...]:
        child = self.config.child
        assert child is not None
        if child.remote_ts:
            return tuple(Selector.from_v1(t) for t in child.remote_ts)
        out: list[Selector] = []
        if lease is not None:
            if lease.address:
                out.append(Selector.host(lease.address))
            if lease.address6:
                out.append(Selector.host(lease.address6.split("/")[0]))
        return tuple(out) or (Selector.host(self.peer_address),)
