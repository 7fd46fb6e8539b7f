"""What Main Mode and Aggressive Mode share: key exchange, SKEYID, identities, HASH/SIG, NAT-D, vendor IDs.

A phase 1 object handles one ISAKMP SA negotiation in one role. The connection feeds it decoded
payloads (decrypting first when needed) and sends what it returns; errors are :class:`Phase1Failure`
with a plain-language reason and the notify to report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import rsa

from wizard.engine.crypto.suites import DHKey
from wizard.engine.errors import ParseError
from wizard.engine.ike import failures
from wizard.engine.ike.payloads import Payload
from wizard.engine.ike.v1 import keys as kdf
from wizard.engine.ike.v1.auth import (
    AuthError,
    identities_equal,
    identity_matches_certificate,
    rsa_sign_raw,
    rsa_verify_raw,
    verify_chain,
)
from wizard.engine.ike.v1.config import IKEv1Config
from wizard.engine.ike.v1.constants import AuthMethod, CertEncoding, NotifyType, PayloadType, ProtocolId
from wizard.engine.ike.v1.identities import Identity
from wizard.engine.ike.v1.messages import CertPayload, IdPayload, NotifyPayload, SAPayload
from wizard.engine.ike.v1.natt import (
    NAT_T_VIDS,
    VID_DPD,
    VID_RFC3947,
    VID_XAUTH,
    NatResult,
    NatTVariant,
    detect,
    nat_d_payloads,
    variant_from_vids,
)
from wizard.engine.ike.v1.proposals import Phase1Offer, Phase1Suite
from wizard.engine.ike.v1.sa import IsakmpSA

NONCE_SIZE = 32


class Phase1Failure(Exception):
    """Phase 1 cannot continue. ``notify`` is sent to the peer (if set and ``send``) and named in events."""

    def __init__(self, reason: str, notify: int | None = None, *, send: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.notify = notify
        self.send = send


class UnexpectedMessage(ParseError):
    """A message that does not fit the current step (late duplicate, reordering): dropped, not fatal."""


@dataclass
class Phase1Context:
    """What a phase 1 needs from its connection; ``peer`` is updated as datagrams arrive (responder)."""

    config: IKEv1Config
    suites: list[Phase1Suite]
    local: tuple[str, int]
    peer: tuple[str, int]
    peer_label: str
    probe: bool = False
    xauth_client: bool = True  # this side answers XAUTH (the client), whichever side starts phase 1

    def rand(self, n: int) -> bytes:
        return self.config.random_bytes(n)


@dataclass
class Step:
    """What one received message produced: payloads to send (encrypted or not) and status flags."""

    send: list[Payload] | None = None
    encrypted: bool = False
    done: bool = False
    float_ports: bool = False


def auth_method_for(config: IKEv1Config, phase1_initiator: bool = True, xauth_client: bool = True) -> int:
    """The authentication method attribute: XAUTHInit* when the XAUTH client starts phase 1, else XAUTHResp*."""
    rsa_auth = config.auth == "rsa"
    if not config.xauth:
        return AuthMethod.RSA_SIG if rsa_auth else AuthMethod.PSK
    if phase1_initiator == xauth_client:
        return AuthMethod.XAUTH_INIT_RSA if rsa_auth else AuthMethod.XAUTH_INIT_PSK
    return AuthMethod.XAUTH_RESP_RSA if rsa_auth else AuthMethod.XAUTH_RESP_PSK


def is_xauth(method: int) -> bool:
    return method in (AuthMethod.XAUTH_INIT_PSK, AuthMethod.XAUTH_INIT_RSA, AuthMethod.XAUTH_RESP_PSK, AuthMethod.XAUTH_RESP_RSA)


def is_rsa(method: int) -> bool:
    return method in (AuthMethod.RSA_SIG, AuthMethod.XAUTH_INIT_RSA, AuthMethod.XAUTH_RESP_RSA)


def local_identity(config: IKEv1Config) -> Identity:
    if config.local_id:
        return Identity.parse(config.local_id)
    if config.auth == "rsa" and config.certificate is not None:
        return Identity.from_name(config.certificate.subject)
    return Identity.from_address(config.local_address)


@dataclass
class Phase1Base:
    """Shared state and steps of Main and Aggressive Mode."""

    ctx: Phase1Context
    sa: IsakmpSA
    initiator: bool
    aggressive: bool = False
    state: str = "start"
    offer: Phase1Offer | None = None
    sa_body: bytes = b""  # SAi_b: the initiator's whole SA payload body
    dh: DHKey | None = field(default=None, repr=False)
    g_xi: bytes = b""
    g_xr: bytes = b""
    ni: bytes = b""
    nr: bytes = b""
    idi_b: bytes = b""
    idr_b: bytes = b""
    variant: NatTVariant = NatTVariant.NONE
    dpd: bool = False
    peer_xauth_vid: bool = False
    nat: NatResult | None = None
    peer_identity: Identity | None = None
    peer_certificate: x509.Certificate | None = None
    peer_sent_cr: bool = False
    rejected_offers: list[str] = field(default_factory=list)
    peer_draft_vid: bytes = b""

    @property
    def config(self) -> IKEv1Config:
        return self.ctx.config

    @property
    def auth_method(self) -> int:
        return self.offer.auth_method if self.offer else self.method()

    def method(self) -> int:
        return auth_method_for(self.config, self.initiator, self.ctx.xauth_client)

    @property
    def label(self) -> str:
        return self.ctx.peer_label

    # --- vendor IDs and NAT-T --------------------------------------------------------------------

    def our_vids(self, reply: bool = False) -> list[Payload]:
        vids: list[bytes] = []
        if self.config.nat_traversal:
            if not reply:
                vids += NAT_T_VIDS
            elif self.variant is NatTVariant.RFC:
                vids.append(VID_RFC3947)
            elif self.variant is NatTVariant.DRAFT:
                vids.append(self.peer_draft_vid)
        if self.config.xauth and (not reply or self.peer_xauth_vid):
            vids.append(VID_XAUTH)
        if self.config.dpd_interval is not None:
            vids.append(VID_DPD)
        vids += list(self.config.vendor_ids)
        return [Payload(PayloadType.VENDOR_ID, v) for v in vids]

    def take_vids(self, payloads: Sequence[Payload]) -> None:
        vids = [p.body for p in payloads if p.type == PayloadType.VENDOR_ID]
        if self.config.nat_traversal:
            self.variant = variant_from_vids(vids)
            self.peer_draft_vid = next((v for v in vids if v in NAT_T_VIDS and v != VID_RFC3947), b"")
        self.dpd = self.dpd or VID_DPD in vids
        self.peer_xauth_vid = self.peer_xauth_vid or VID_XAUTH in vids

    def nat_d_out(self) -> list[Payload]:
        if self.variant is NatTVariant.NONE or self.sa.suite is None:
            return []
        fake = self.ctx.rand(self.sa.suite.hash.output_size) if self.config.force_encapsulation else None
        return nat_d_payloads(
            self.sa.suite.hash, self.variant, self.sa.cky_i, self.sa.cky_r, self.ctx.peer, self.ctx.local, fake_source=fake
        )

    def nat_d_in(self, payloads: Sequence[Payload]) -> NatResult | None:
        if self.variant is NatTVariant.NONE or self.sa.suite is None:
            return None
        hashes = [p.body for p in payloads if p.type in (PayloadType.NAT_D, PayloadType.NAT_D_DRAFT)]
        if not hashes:
            return None
        self.nat = detect(self.sa.suite.hash, self.sa.cky_i, self.sa.cky_r, hashes, self.ctx.local, self.ctx.peer)
        return self.nat

    # --- key exchange ----------------------------------------------------------------------------

    def make_ke_nonce(self) -> list[Payload]:
        assert self.offer is not None
        group = self.offer.suite.group
        self.dh = group.generate(self.ctx.rand(group.private_size))
        nonce = self.ctx.rand(NONCE_SIZE)
        public = self.dh.public_bytes()
        if self.initiator:
            self.g_xi, self.ni = public, nonce
        else:
            self.g_xr, self.nr = public, nonce
        return [Payload(PayloadType.KE, public), Payload(PayloadType.NONCE, nonce)]

    def take_ke_nonce(self, payloads: Sequence[Payload]) -> None:
        ke = _one(payloads, PayloadType.KE)
        nonce = _one(payloads, PayloadType.NONCE)
        if not 8 <= len(nonce.body) <= 256:
            raise Phase1Failure(f"{self.label} sent a nonce of {len(nonce.body)} bytes (RFC 2409 allows 8-256)",
                                NotifyType.PAYLOAD_MALFORMED)  # fmt: skip
        if self.initiator:
            self.g_xr, self.nr = ke.body, nonce.body
        else:
            self.g_xi, self.ni = ke.body, nonce.body

    def derive_keys(self) -> None:
        assert self.offer is not None and self.dh is not None
        suite = self.offer.suite
        peer_public = self.g_xr if self.initiator else self.g_xi
        try:
            g_xy = self.dh.shared_secret(peer_public)
        except ParseError as exc:
            raise Phase1Failure(f"{self.label} sent an invalid key exchange value: {exc}", NotifyType.INVALID_KEY_INFORMATION) from exc
        if is_rsa(self.offer.auth_method):
            skeyid = kdf.skeyid_sig(suite.hash, self.ni, self.nr, g_xy)
        else:
            skeyid = kdf.skeyid_psk(suite.hash, self.config.psk_bytes, self.ni, self.nr)
        keys = kdf.derive_phase1(suite.hash, skeyid, g_xy, self.sa.cky_i, self.sa.cky_r, suite.cipher.key_size)
        iv0 = kdf.initial_iv(suite.hash, self.g_xi, self.g_xr, suite.cipher.block_size)
        self.sa.install_keys(suite, keys, iv0)

    # --- identities and authentication -----------------------------------------------------------

    def id_payload(self) -> Payload:
        body = local_identity(self.config).payload().encode()
        if self.initiator:
            self.idi_b = body
        else:
            self.idr_b = body
        return Payload(PayloadType.ID, body)

    def cert_request(self) -> list[Payload]:
        if not is_rsa(self.auth_method):
            return []
        return [Payload(PayloadType.CR, CertPayload(CertEncoding.X509_SIGNATURE, ca.subject.public_bytes()).encode())
                for ca in self.config.ca_certificates] or [Payload(PayloadType.CR, bytes([CertEncoding.X509_SIGNATURE]))]  # fmt: skip

    def _our_hash(self) -> bytes:
        assert self.sa.keys is not None and self.sa.suite is not None
        prf = self.sa.suite.hash
        args = (prf, self.sa.keys.skeyid, self.g_xi, self.g_xr, self.sa.cky_i, self.sa.cky_r, self.sa_body)
        return kdf.hash_i(*args, self.idi_b) if self.initiator else kdf.hash_r(*args, self.idr_b)

    def _peer_hash(self) -> bytes:
        assert self.sa.keys is not None and self.sa.suite is not None
        prf = self.sa.suite.hash
        args = (prf, self.sa.keys.skeyid, self.g_xi, self.g_xr, self.sa.cky_i, self.sa.cky_r, self.sa_body)
        return kdf.hash_r(*args, self.idr_b) if self.initiator else kdf.hash_i(*args, self.idi_b)

    def auth_payloads(self) -> list[Payload]:
        digest = self._our_hash()
        if not is_rsa(self.auth_method):
            return [Payload(PayloadType.HASH, digest)]
        assert self.config.certificate is not None and isinstance(self.config.private_key, rsa.RSAPrivateKey)
        from cryptography.hazmat.primitives.serialization import Encoding

        certs = [self.config.certificate, *self.config.certificate_chain]
        out = [Payload(PayloadType.CERT, CertPayload(CertEncoding.X509_SIGNATURE, c.public_bytes(Encoding.DER)).encode())
               for c in certs]  # fmt: skip
        out.append(Payload(PayloadType.SIG, rsa_sign_raw(self.config.private_key, digest)))
        return out

    def take_peer_id(self, payloads: Sequence[Payload]) -> None:
        body = _one(payloads, PayloadType.ID).body
        identity = Identity.from_payload(IdPayload.decode(body))
        if self.initiator:
            self.idr_b = body
        else:
            self.idi_b = body
        self.peer_identity = identity
        if self.config.peer_id:
            expected = Identity.parse(self.config.peer_id)
            if not identities_equal(identity, expected):
                raise Phase1Failure(failures.id_mismatch(self.label, identity.describe(), expected.describe()),
                                    NotifyType.INVALID_ID_INFORMATION)  # fmt: skip

    def verify_peer(self, payloads: Sequence[Payload]) -> None:
        """Check HASH or SIG (with the certificate chain and the ID/certificate binding)."""
        expected = self._peer_hash()
        if not is_rsa(self.auth_method):
            got = _one(payloads, PayloadType.HASH).body
            if not kdf.same(got, expected):
                reason = (failures.wrong_psk_received(self.label) if self.initiator
                          else f"the hash from {self.label} did not verify: the pre-shared key is probably wrong")  # fmt: skip
                raise Phase1Failure(reason, NotifyType.INVALID_HASH_INFORMATION)
            return
        try:
            self._verify_certificate(payloads, expected)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            # Certificates are parsed lazily: a malformed extension or key surfaces here.
            raise Phase1Failure(f"{self.label} sent a malformed certificate ({exc})", NotifyType.INVALID_CERTIFICATE) from exc

    def _verify_certificate(self, payloads: Sequence[Payload], expected: bytes) -> None:
        certs = []
        for p in payloads:
            if p.type == PayloadType.CERT:
                cert = CertPayload.decode(p.body)
                if cert.encoding != CertEncoding.X509_SIGNATURE:
                    continue
                try:
                    certs.append(x509.load_der_x509_certificate(cert.data))
                except ValueError as exc:
                    raise Phase1Failure(f"{self.label} sent a certificate that cannot be parsed", NotifyType.INVALID_CERTIFICATE) from exc
        if not certs:
            raise Phase1Failure(f"{self.label} sent no certificate (signature authentication needs one)", NotifyType.CERTIFICATE_UNAVAILABLE)
        leaf = certs[0]
        try:
            verify_chain(leaf, certs[1:], self.config.ca_certificates, self.config.wall_clock())
        except AuthError as exc:
            raise Phase1Failure(failures.untrusted_certificate(self.label, exc.reason), exc.notify) from exc
        assert self.peer_identity is not None
        if not identity_matches_certificate(self.peer_identity, leaf):
            raise Phase1Failure(
                failures.id_mismatch(self.label, self.peer_identity.describe(), f"an identity in its certificate ({leaf.subject.rfc4514_string()})"),
                NotifyType.INVALID_ID_INFORMATION,
            )
        key = leaf.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise Phase1Failure(f"{self.label}'s certificate does not hold an RSA key", NotifyType.CERT_TYPE_UNSUPPORTED)
        sig = _one(payloads, PayloadType.SIG).body
        if not rsa_verify_raw(key, expected, sig):
            raise Phase1Failure(f"the signature of {self.label} did not verify", NotifyType.INVALID_SIGNATURE)
        self.peer_certificate = leaf

    def initial_contact(self) -> list[Payload]:
        if not self.initiator or not self.config.initial_contact or self.sa.is_rekey:
            return []
        n = NotifyPayload(NotifyType.INITIAL_CONTACT, ProtocolId.ISAKMP, self.sa.cookies)
        return [Payload(PayloadType.NOTIFY, n.encode())]

    def check_reply_sa(self, payloads: Sequence[Payload]) -> Phase1Offer:
        """Initiator: the responder must pick exactly one of our transforms."""
        from wizard.engine.ike.v1.proposals import parse_phase1_transform

        sa = SAPayload.decode(_one(payloads, PayloadType.SA).body)
        if len(sa.proposals) != 1 or len(sa.proposals[0].transforms) != 1:
            raise Phase1Failure(f"{self.label} answered with more than one proposal", NotifyType.BAD_PROPOSAL_SYNTAX)
        offer = parse_phase1_transform(sa.proposals[0].transforms[0])
        if offer is None or offer.suite not in self.ctx.suites or offer.auth_method != self.method():
            raise Phase1Failure(f"{self.label} chose a proposal we did not offer", NotifyType.NO_PROPOSAL_CHOSEN)
        return offer


def _one(payloads: Sequence[Payload], ptype: int) -> Payload:
    for p in payloads:
        if p.type == ptype:
            return p
    raise Phase1Failure(f"a required {PayloadType(ptype).name} payload is missing", NotifyType.PAYLOAD_MALFORMED)


def one(payloads: Sequence[Payload], ptype: int) -> Payload:
    return _one(payloads, ptype)
