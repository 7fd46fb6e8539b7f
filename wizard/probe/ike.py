"""IKE side of the gateway probe: which IKE versions answer and which suites they accept.

Each attempt is sans-IO and offers one suite alone, as ike-scan does, then reads the gateway's first
answer and stops:

* IKEv2 (:class:`V2Attempt`): IKE_SA_INIT built from the IKEv2 engine's proposal and payload codecs,
  with a decoy key exchange, so the answer is INVALID_KE_PAYLOAD (suite accepted) or NO_PROPOSAL_CHOSEN
  (refused) and the gateway keeps no state at all.
* IKEv1 (:class:`V1Attempt`): the IKEv1 engine as initiator with a throwaway pre-shared key sends Main
  Mode message 1; the gateway's message 2 (SA chosen: accepted) or a NO_PROPOSAL_CHOSEN notify decides.
  The engine's message 3 is never sent; instead an unprotected error notify ends the gateway's half-open
  Main Mode at once (strongSwan: "received ... error notify", IKE_SA destroyed).

:func:`probe_ike` walks the lists over one UDP socket from an ephemeral port (no root needed), answers
told apart by our initiator SPI, a few attempts in flight at a time.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from wizard.engine.crypto.suites import dh_group, dh_group_by_id, parse_proposal_string
from wizard.engine.errors import ParseError
from wizard.engine.ike.failures import notify_name
from wizard.engine.ike.payloads import (
    HEADER_SIZE,
    ExchangeType,
    Header,
    Payload,
    V2Flags,
    decode_chain,
    decode_header,
    encode_chain,
)
from wizard.engine.ike.v1 import ConnectionFailed as V1Failed
from wizard.engine.ike.v1 import IKEv1Config, IKEv1Connection
from wizard.engine.ike.v1.constants import NotifyType as V1Notify
from wizard.engine.ike.v1.constants import PayloadType as V1Payload
from wizard.engine.ike.v1.informational import plain_notify
from wizard.engine.ike.v1.natt import VID_DPD, VID_RFC3947, VID_XAUTH
from wizard.engine.ike.v2.constants import NotifyType as V2Notify
from wizard.engine.ike.v2.constants import PayloadType as V2Payload
from wizard.engine.ike.v2.messages import KEPayload, NotifyPayload
from wizard.engine.ike.v2.proposals import ike_sa_payload
from wizard.net.errors import TransportError
from wizard.net.transports import UdpEndpoint
from wizard.probe.report import ProbeProtocol, ProposalResult, ProposalStatus, ProtocolResult, ProtocolStatus

IKE_PORT = 500
# Never used to authenticate: the probe stops before any message that would carry it.
PROBE_PSK = "connection-wizard-probe"

# Common suites, strongest and most common first (at most 12 per version, each offered alone).
IKEV2_WALK: tuple[str, ...] = (
    "aes256-sha256-modp2048", "aes128-sha256-modp2048", "aes256gcm16-prfsha384-ecp384",
    "aes256gcm16-prfsha256-modp2048", "aes128gcm16-prfsha256-ecp256", "aes128gcm16-prfsha256-curve25519",
    "aes256-sha384-ecp384", "aes256-sha256-ecp256", "aes128-sha1-modp2048", "aes256-sha1-modp1024",
    "aes128-sha1-modp1024", "3des-sha1-modp1024",
)  # fmt: skip
IKEV1_WALK: tuple[str, ...] = (
    "aes256-sha256-modp2048", "aes128-sha256-modp2048", "aes256-sha1-modp2048", "aes128-sha1-modp2048",
    "aes256-sha384-ecp384", "aes256-sha256-ecp256", "aes256-sha1-modp1536", "aes256-sha1-modp1024",
    "aes128-sha1-modp1024", "3des-sha1-modp1024", "3des-md5-modp1024", "des-md5-modp768",
)  # fmt: skip
MAX_WALK = 12
DECOY_GROUPS = ("ecp256", "modp2048")  # the IKEv2 key exchange is sent in the first not in the proposal
MAX_COOKIE_TRIES = 2
WINDOW = 3  # IKE attempts in flight at once, both versions together (strongSwan blocks a peer at 5 half-open)
WALK_TIMEOUT = 1.0  # per suite once the gateway has answered the first one

# Vendor IDs worth naming (first 16 bytes; RFC 3947, RFC 3706, draft-beaulieu-ike-xauth, Cisco Unity).
_VIDS: dict[bytes, str] = {
    VID_RFC3947: "NAT-T",
    VID_DPD: "DPD",
    VID_XAUTH: "XAUTH",
    bytes.fromhex("12f5f28c457168a9702d9fe274cc0100"): "Cisco Unity",
    bytes.fromhex("4048b7d56ebce88525e7de7f00d6c2d3"): "IKE fragmentation",
}


@dataclass(frozen=True)
class Outcome:
    status: ProposalStatus
    detail: str = ""


def v1_features(payloads: Sequence[Payload]) -> tuple[str, ...]:
    """What the vendor IDs of a Main Mode answer say the gateway supports."""
    names: list[str] = []
    unknown = 0
    for p in payloads:
        if p.type != V1Payload.VENDOR_ID:
            continue
        name = next((n for vid, n in _VIDS.items() if p.body[: len(vid)] == vid), None)
        if name is None:
            unknown += 1
        elif name not in names:
            names.append(name)
    if unknown:
        names.append(f"{unknown} other vendor ID{'s' if unknown > 1 else ''}")
    return tuple(names)


class IkeAttempt:
    """One suite offered alone; the driver feeds datagrams and timers until :attr:`outcome` is set."""

    version = 0

    def __init__(self, proposal: str, timeout: float) -> None:
        self.proposal = proposal
        self.timeout = timeout
        self.outcome: Outcome | None = None
        self.answered = False  # the gateway answered in this IKE version (even with a refusal)
        self.features: tuple[str, ...] = ()
        self.spi = b""  # our initiator SPI (IKEv1 cookie): the gateway's answers carry it
        self.malformed = 0
        self.said_goodbye = False
        self.half_open = False  # the gateway may still hold a half-open SA for this attempt
        self._out: list[bytes] = []

    @property
    def done(self) -> bool:
        return self.outcome is not None

    def datagrams_to_send(self) -> list[bytes]:
        out, self._out = self._out, []
        return out

    def give_up(self, status: ProposalStatus, detail: str) -> None:
        """The driver ends the attempt (socket error, time limit); the first outcome stays."""
        if self.outcome is None:
            self.outcome = Outcome(status, detail)

    def result(self) -> ProposalResult:
        outcome = self.outcome or Outcome(ProposalStatus.SKIPPED, "not finished")
        return ProposalResult(self.version, self.proposal, outcome.status, outcome.detail)

    def _parse(self, data: bytes, version: int) -> tuple[Header, tuple[Payload, ...]] | None:
        try:
            header = decode_header(data)
            chain = decode_chain(header.next_payload, data[HEADER_SIZE : header.length], allow_trailing=True)
        except ParseError:
            self.malformed += 1
            return None
        if header.major_version != version or header.spi_i != self.spi:
            self.malformed += 1
            return None
        return header, chain.payloads

    def _no_answer(self) -> Outcome:
        return Outcome(ProposalStatus.NO_ANSWER, f"no answer within {self.timeout:g} s")


class V2Attempt(IkeAttempt):
    """IKE_SA_INIT with one IKEv2 suite and a decoy key exchange: a stateless acceptance test.

    The SA payload comes from the IKEv2 engine's proposal builder; the KE payload deliberately carries
    another DH group. RFC 7296 §1.2: a responder that accepts the proposal must answer INVALID_KE_PAYLOAD
    naming the proposal's group, which proves the whole suite, and keeps no state; one that accepts
    nothing answers NO_PROPOSAL_CHOSEN. So the probe never half-opens an IKEv2 SA. (Completing
    IKE_SA_INIT with the engine's initiator would leave one half-open SA per accepted suite: measured in
    the lab, strongSwan 5.9 ignores a Delete for a responder's half-open SA while its IKE_AUTH tasks wait,
    and keeps it for its 30 s half-open timeout, which also counts against its per-peer DoS limits.)
    """

    version = 2

    def __init__(self, proposal: str, *, timeout: float, random_bytes: Callable[[int], bytes] = os.urandom) -> None:
        super().__init__(proposal, timeout)
        self._rand = random_bytes
        offer = parse_proposal_string(proposal, "ike")
        self.group = offer.dh_groups[0]
        self.decoy = next(dh_group(name) for name in DECOY_GROUPS if dh_group(name) not in offer.dh_groups)
        self._sa = ike_sa_payload([offer]).encode()
        self._ke = KEPayload(
            self.decoy.number, self.decoy.generate(random_bytes(self.decoy.private_size)).public_bytes()
        )
        self._nonce = random_bytes(32)
        self._cookie = b""
        self._cookie_tries = 0
        self._message = b""
        self._resend_at: float | None = None
        self._deadline = 0.0

    def _build(self) -> bytes:
        payloads = [Payload(V2Payload.SA, self._sa), Payload(V2Payload.KE, self._ke.encode()),
                    Payload(V2Payload.NONCE, self._nonce)]  # fmt: skip
        if self._cookie:  # RFC 7296 §2.6: the COOKIE notify comes first
            payloads.insert(0, NotifyPayload(V2Notify.COOKIE, self._cookie).payload())
        first, body = encode_chain(payloads)
        header = Header(self.spi, bytes(8), first, ExchangeType.IKE_SA_INIT, int(V2Flags.INITIATOR), 0,
                        HEADER_SIZE + len(body), 2, 0)  # fmt: skip
        return header.encode() + body

    def _send(self, now: float) -> None:
        self._message = self._build()
        self._out.append(self._message)
        self._resend_at = now + self.timeout / 2
        self._deadline = now + self.timeout

    def start(self, now: float) -> None:
        while int.from_bytes(self.spi or bytes(8), "big") == 0:
            self.spi = self._rand(8)
        self._send(now)

    def get_timer(self) -> float | None:
        if self.done:
            return None
        return self._resend_at if self._resend_at is not None else self._deadline

    def handle_timer(self, now: float) -> None:
        if self.done:
            return
        if now >= self._deadline:
            self.outcome = self._no_answer()
        elif self._resend_at is not None and now >= self._resend_at:
            self._out.append(self._message)  # one retransmission
            self._resend_at = None

    def receive(self, data: bytes, now: float, *, local_port: int = 0) -> None:
        if self.done:
            return
        parsed = self._parse(data, 2)
        if parsed is None:
            return
        header, payloads = parsed
        if header.exchange_type != ExchangeType.IKE_SA_INIT or not header.flags & V2Flags.RESPONSE:
            self.malformed += 1
            return
        try:
            notes = [NotifyPayload.decode(p.body) for p in payloads if p.type == V2Payload.NOTIFY]
        except ParseError:
            self.malformed += 1
            return
        self.answered = True
        errors = [n for n in notes if 0 < n.notify_type < 16384]
        cookie = next((n for n in notes if n.notify_type == V2Notify.COOKIE), None)
        if errors:
            self.outcome = self._refusal(errors[0])
        elif any(p.type == V2Payload.SA for p in payloads):
            # Only a responder that ignores the group mismatch gets here; its half-open SA times out on its own.
            self.outcome = Outcome(ProposalStatus.ACCEPTED, "full answer despite the decoy key exchange")
            self.half_open = True
        elif cookie is not None and cookie.data and self._cookie_tries < MAX_COOKIE_TRIES:
            self.features = ("COOKIE challenge (DoS protection on)",)
            self._cookie, self._cookie_tries = cookie.data, self._cookie_tries + 1
            self._send(now)
        else:
            self.outcome = Outcome(ProposalStatus.ERROR, "the gateway's answer could not be used")

    def _refusal(self, n: NotifyPayload) -> Outcome:
        if n.notify_type == V2Notify.NO_PROPOSAL_CHOSEN:
            return Outcome(ProposalStatus.REFUSED, "NO_PROPOSAL_CHOSEN")
        if n.notify_type == V2Notify.INVALID_KE_PAYLOAD and len(n.data) == 2:
            number = int.from_bytes(n.data, "big")
            if number == self.group.number:
                return Outcome(ProposalStatus.ACCEPTED)  # the gateway wants exactly our proposal's group
            group = dh_group_by_id(number)
            return Outcome(ProposalStatus.OTHER_GROUP, f"wants DH group {group.name if group else number}")
        try:
            name = V2Notify(n.notify_type).name
        except ValueError:
            name = f"notify {n.notify_type}"
        return Outcome(ProposalStatus.ERROR, name)


class V1Attempt(IkeAttempt):
    """Main Mode message 1 with one IKEv1 suite (PSK authentication; the IKEv1 engine builds and checks)."""

    version = 1

    def __init__(self, proposal: str, *, local: tuple[str, int], peer: tuple[str, int], timeout: float,
                 random_bytes: Callable[[int], bytes] = os.urandom) -> None:  # fmt: skip
        super().__init__(proposal, timeout)
        config = IKEv1Config(
            local_address=local[0], peer_address=peer[0], local_port=local[1], peer_port=peer[1], psk=PROBE_PSK,
            ike_proposals=(proposal,), allow_legacy=True, child=None, dpd_interval=None, initial_contact=False,
            probe_on_no_proposal=False, retransmit_initial=timeout / 2, retransmit_factor=1.0, max_retransmits=1,
            random_bytes=random_bytes,
        )  # fmt: skip
        self._conn = IKEv1Connection("initiator", config)

    def _take(self) -> list[bytes]:
        return [d.data for d in self._conn.datagrams_to_send()]

    def start(self, now: float) -> None:
        self._conn.connect(now)
        out = self._take()
        self.spi = out[0][:8]
        self._out += out

    def get_timer(self) -> float | None:
        return None if self.done else self._conn.get_timer()

    def handle_timer(self, now: float) -> None:
        if self.done:
            return
        self._conn.handle_timer(now)
        out = self._take()
        self._read_events()
        if not self.done:
            self._out += out

    def _read_events(self) -> None:
        while (event := self._conn.next_event()) is not None:
            if not isinstance(event, V1Failed) or self.done:
                continue
            if event.notify == notify_name(V1Notify.NO_PROPOSAL_CHOSEN):
                self.outcome = Outcome(ProposalStatus.REFUSED, "NO_PROPOSAL_CHOSEN")
            elif event.notify is not None:
                self.outcome = Outcome(ProposalStatus.ERROR, event.notify)
            elif self.answered:
                self.outcome = Outcome(ProposalStatus.ERROR, event.reason)
            else:
                self.outcome = self._no_answer()

    def receive(self, data: bytes, now: float, *, local_port: int) -> None:
        if self.done:
            return
        parsed = self._parse(data, 1)
        if parsed is None:
            return
        header, payloads = parsed
        self.answered = True
        self._conn.receive_datagram(data, now, local_port=local_port)
        out = self._take()  # Main Mode message 3 when the engine accepted the choice: never sent
        chose = header.exchange_type == ExchangeType.IDENTITY_PROTECTION and any(
            p.type == V1Payload.SA for p in payloads
        )
        if chose and out:
            self.features = v1_features(payloads)
            # Ends the gateway's half-open Main Mode (strongSwan: "received ... error notify" -> SA gone).
            self._out.append(plain_notify(self.spi, header.spi_r, V1Notify.NO_PROPOSAL_CHOSEN))
            self.said_goodbye = True
            self.outcome = Outcome(ProposalStatus.ACCEPTED)
            return
        self._read_events()


Attempt = V2Attempt | V1Attempt


# --- the asyncio walk ------------------------------------------------------------------------------


@dataclass
class IkeFindings:
    protocols: list[ProtocolResult] = field(default_factory=list)
    proposals: list[ProposalResult] = field(default_factory=list)
    local: tuple[str, int] = ("", 0)


class _Socket:
    """One UDP socket to the gateway's port 500; answers go to the attempt whose SPI they carry."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.routes: dict[bytes, tuple[Attempt, asyncio.Event]] = {}
        self.error: OSError | None = None
        self.endpoint: UdpEndpoint | None = None
        self.local_port = 0

    def on_datagram(self, data: bytes) -> None:
        entry = self.routes.get(data[:8])
        if entry is None:
            return
        attempt, wake = entry
        attempt.receive(data, self.loop.time(), local_port=self.local_port)
        self.flush(attempt)
        wake.set()

    def on_error(self, exc: OSError) -> None:
        self.error = exc
        for _, wake in self.routes.values():
            wake.set()

    def flush(self, attempt: Attempt) -> None:
        assert self.endpoint is not None
        for data in attempt.datagrams_to_send():
            self.endpoint.send(data)

    async def run(self, attempt: Attempt) -> None:
        wake = asyncio.Event()
        attempt.start(self.loop.time())
        self.routes[attempt.spi] = (attempt, wake)
        self.flush(attempt)
        try:
            while not attempt.done:
                if self.error is not None:
                    attempt.give_up(ProposalStatus.NO_ANSWER, _socket_error(self.error))
                    break
                timer = attempt.get_timer()
                if timer is None:
                    attempt.give_up(ProposalStatus.ERROR, "the negotiation stopped")
                    break
                wake.clear()
                try:
                    await asyncio.wait_for(wake.wait(), max(0.0, timer - self.loop.time()))
                except TimeoutError:
                    attempt.handle_timer(self.loop.time())
                    self.flush(attempt)
        finally:
            self.routes.pop(attempt.spi, None)


def _socket_error(exc: OSError) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "port unreachable"
    return os.strerror(exc.errno).lower() if exc.errno else str(exc)


async def probe_ike(
    address: str,
    *,
    versions: Sequence[int] = (2, 1),
    timeout: float = 2.0,
    walk: bool = True,
    ikev2_proposals: Sequence[str] = IKEV2_WALK,
    ikev1_proposals: Sequence[str] = IKEV1_WALK,
    source_port: int = 0,
    window: int = WINDOW,
    random_bytes: Callable[[int], bytes] = os.urandom,
) -> IkeFindings:
    """Offer each suite alone to ``address`` (UDP 500) and report per version and per suite.

    The first suite of each version is offered with ``timeout``; only if the gateway answers it in that
    version are the others tried, ``window`` at a time, each with a shorter timeout, all within
    about ``2 * timeout + 1`` seconds per version.
    """
    sock = _Socket()
    findings = IkeFindings()
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    local = ("::" if family == socket.AF_INET6 else "0.0.0.0", source_port) if source_port else None
    try:
        sock.endpoint = await UdpEndpoint.connect((address, IKE_PORT), sock.on_datagram, local=local,
                                                  on_error=sock.on_error)  # fmt: skip
    except TransportError as exc:
        for version in versions:
            proto = ProbeProtocol.IKEV2 if version == 2 else ProbeProtocol.IKEV1
            findings.protocols.append(ProtocolResult(proto, ProtocolStatus.ERROR, str(exc)))
        return findings
    sock.local_port = sock.endpoint.local_address[1]
    findings.local = sock.endpoint.local_address
    gate = asyncio.Semaphore(window)

    async def walk_version(version: int) -> tuple[ProtocolResult, list[ProposalResult]]:
        lists = ikev2_proposals if version == 2 else ikev1_proposals
        started = sock.loop.time()
        deadline = started + 2 * timeout + 1.0
        peer = (address, IKE_PORT)

        def make(proposal: str, wait: float) -> Attempt:
            if version == 2:
                return V2Attempt(proposal, timeout=wait, random_bytes=random_bytes)
            return V1Attempt(proposal, local=findings.local, peer=peer, timeout=wait, random_bytes=random_bytes)

        first = make(lists[0], timeout)
        async with gate:
            await sock.run(first)
        attempts: list[Attempt] = [first]
        if first.answered and walk:
            rest = [make(p, min(timeout, WALK_TIMEOUT)) for p in lists[1:]]
            attempts += rest

            async def one(attempt: Attempt) -> None:
                async with gate:
                    if sock.loop.time() >= deadline:
                        attempt.give_up(ProposalStatus.SKIPPED, "time limit reached")
                        return
                    await sock.run(attempt)

            await asyncio.gather(*(one(a) for a in rest))
        elif not first.answered:
            for p in lists[1:]:
                skipped = make(p, timeout)
                skipped.give_up(ProposalStatus.SKIPPED, "the gateway did not answer the first suite")
                attempts.append(skipped)
        elapsed = sock.loop.time() - started
        return _version_row(version, attempts, sock.error, timeout, elapsed), [a.result() for a in attempts]

    try:
        rows = await asyncio.gather(*(walk_version(v) for v in versions))
    finally:
        sock.endpoint.close()
    for row, results in rows:
        findings.protocols.append(row)
        findings.proposals += results
    return findings


def _version_row(version: int, attempts: Sequence[Attempt], error: OSError | None, timeout: float,
                 elapsed: float) -> ProtocolResult:  # fmt: skip
    proto = ProbeProtocol.IKEV2 if version == 2 else ProbeProtocol.IKEV1
    what = "IKE_SA_INIT" if version == 2 else "Main Mode"
    if any(a.answered for a in attempts):
        tried = [a for a in attempts if a.outcome is not None and a.outcome.status is not ProposalStatus.SKIPPED]
        accepted = [a for a in tried if a.outcome is not None and a.outcome.status is ProposalStatus.ACCEPTED]
        features: tuple[str, ...] = ()
        for a in accepted or [a for a in attempts if a.features]:
            features = tuple(dict.fromkeys(features + a.features))
        detail = f"{what} answered; {len(accepted)} of {len(tried)} suites accepted"
        lingering = sum(a.half_open for a in attempts)
        if lingering:
            detail += f"; the gateway kept {lingering} half-open IKE SA(s), which expire on its side"
        elif version == 2:
            detail += "; stateless test, no IKE SA opened"
        elif accepted:
            detail += "; each half-open SA ended at once"
        return ProtocolResult(proto, ProtocolStatus.ANSWERED, detail, features=features, elapsed=elapsed)
    if isinstance(error, ConnectionRefusedError):
        return ProtocolResult(proto, ProtocolStatus.CLOSED, "nothing listens on UDP 500 (ICMP port unreachable)",
                              elapsed=elapsed)  # fmt: skip
    if error is not None:
        return ProtocolResult(proto, ProtocolStatus.SILENT, f"no answer ({_socket_error(error)})", elapsed=elapsed)
    return ProtocolResult(proto, ProtocolStatus.SILENT, f"no answer to {what} within {timeout:g} s", elapsed=elapsed)
