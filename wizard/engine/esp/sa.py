"""One IPsec security association (ESP per RFC 4303 or AH per RFC 4302), one direction, one SPI.

An outbound SA turns IP packets into protected packets (``encapsulate``); an inbound SA turns them
back (``decapsulate``). The SA owns the sequence numbers, the anti-replay window, the lifetime counters
and the drop statistics. It never raises on bad input from the wire except with a ParseError subclass,
and it counts every drop before raising, so a driver only has to ``except ParseError: continue``.

Two shapes of packet are offered because the data plane has two kinds of socket:
``encapsulate``/``decapsulate`` take and return whole IP packets (outer header included; raw sockets
with the header, tests, our gateway), ``encapsulate_payload``/``decapsulate_payload`` take and return
just the ESP bytes (UDP sockets on port 4500, raw sockets that add the IP header themselves).
"""

from __future__ import annotations

import enum
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from wizard.engine.crypto.suites import AuthenticationFailed, BoundCipher, BoundIntegrity, Cipher, Integrity
from wizard.engine.errors import LocalProtocolError, ParseError
from wizard.engine.esp import ah as ahcodec
from wizard.engine.esp.errors import (
    BadPadding,
    DummyPacket,
    ExpiredSA,
    NotESP,
    ReplayedPacket,
    SAExhausted,
    WrongSPI,
)
from wizard.engine.esp.events import SAEvent
from wizard.engine.esp.ip import (
    PROTO_AH,
    PROTO_ESP,
    PROTO_IPIP,
    PROTO_IPV6,
    PROTO_NONE,
    PROTO_UDP,
    IPAddress,
    IPPacket,
    build_outer,
    fix_l4_checksum,
    internet_checksum,
    parse_ip,
    set_ecn_ce,
    with_protocol,
)
from wizard.engine.esp.lifetime import Lifetime, LifetimeTracker
from wizard.engine.esp.replay import ReplayWindow
from wizard.engine.esp.udpencap import UdpEncapsulation, UdpPayloadKind, classify_udp_payload, udp_header

SEQ32_MAX = 0xFFFFFFFF
SEQ64_MAX = (1 << 64) - 1
# Without ESN the 32-bit counter must never wrap (RFC 4303 §3.3.3): ask for a rekey well before.
SOFT_SEQUENCE_LIMIT = 0xF0000000

_PADDING = [bytes(range(1, n + 1)) for n in range(256)]  # RFC 4303 §2.4: 1, 2, 3, ...


class Direction(enum.Enum):
    IN = "in"
    OUT = "out"


class Mode(enum.Enum):
    TRANSPORT = "transport"
    TUNNEL = "tunnel"


class SAProtocol(enum.IntEnum):
    ESP = PROTO_ESP
    AH = PROTO_AH


@dataclass(frozen=True)
class SAConfig:
    """Everything IKE negotiated for one SA. Keys are excluded from repr so they never reach a log.

    ``local_address``/``remote_address`` are the tunnel endpoints (tunnel mode) and the addresses a
    transport-mode packet is rebuilt with by ``decapsulate_payload``. ``initial_sequence`` exists for
    test vectors and rollover tests: an outbound SA sends it first, an inbound SA treats everything
    below it as already received.
    """

    direction: Direction
    spi: int
    protocol: SAProtocol = SAProtocol.ESP
    mode: Mode = Mode.TUNNEL
    cipher: Cipher | None = None
    encryption_key: bytes = field(default=b"", repr=False)
    integrity: Integrity | None = None
    integrity_key: bytes = field(default=b"", repr=False)
    esn: bool = False
    replay_window: int = 1024
    lifetime: Lifetime = field(default_factory=Lifetime)
    local_address: IPAddress | None = None
    remote_address: IPAddress | None = None
    udp_encapsulation: UdpEncapsulation | None = None
    fix_transport_checksums: bool | None = None  # None: on when UDP-encapsulated (a NAT rewrote addresses)
    counter_iv: bool = True  # CTR/GCM IVs derived from the sequence number: unique without a random source
    encryption_only: bool = False  # ESP without integrity (RFC 4303 allows it; only for test vectors)
    initial_sequence: int = 1

    def __post_init__(self) -> None:
        if not 0 <= self.spi <= SEQ32_MAX:
            raise LocalProtocolError(f"SPI {self.spi} does not fit in 32 bits")
        if self.protocol is SAProtocol.ESP:
            if self.cipher is None:
                raise LocalProtocolError("an ESP SA needs a cipher")
            if self.cipher.aead and self.integrity is not None:
                raise LocalProtocolError(f"{self.cipher.name} authenticates itself; drop the integrity algorithm")
            if not self.cipher.aead and self.integrity is None and not self.encryption_only:
                raise LocalProtocolError(f"{self.cipher.name} needs an integrity algorithm")
            if self.udp_encapsulation is not None and self.spi == 0:
                raise LocalProtocolError("SPI 0 is the non-ESP marker on the NAT-T port")
        else:
            if self.cipher is not None or self.integrity is None:
                raise LocalProtocolError("an AH SA takes an integrity algorithm and no cipher")
            if self.udp_encapsulation is not None:
                raise LocalProtocolError("AH cannot be UDP-encapsulated (RFC 3948 covers ESP only)")
        if self.replay_window < 1:
            raise LocalProtocolError("the replay window must hold at least one packet")
        top = SEQ64_MAX if self.esn else SEQ32_MAX
        if not 1 <= self.initial_sequence <= top:
            raise LocalProtocolError(f"initial sequence number {self.initial_sequence} out of range")
        if (
            self.local_address is not None
            and self.remote_address is not None
            and self.local_address.version != self.remote_address.version
        ):
            raise LocalProtocolError("local and remote addresses must both be IPv4 or both IPv6")


@dataclass
class SAStats:
    """What happened to the packets this SA saw. ``dropped`` is the sum of the reasons below it."""

    packets: int = 0
    bytes: int = 0
    dropped: int = 0
    malformed: int = 0
    auth_failed: int = 0
    replayed: int = 0
    bad_padding: int = 0
    wrong_spi: int = 0
    expired: int = 0
    not_esp: int = 0
    dummy: int = 0  # valid TFC dummy packets (next header 59), not counted as dropped
    last_used: float | None = None


_DROP_COUNTERS: tuple[tuple[type[ParseError], str], ...] = (
    (ReplayedPacket, "replayed"),
    (AuthenticationFailed, "auth_failed"),
    (BadPadding, "bad_padding"),
    (WrongSPI, "wrong_spi"),
    (ExpiredSA, "expired"),
    (NotESP, "not_esp"),
)


class SecurityAssociation:
    """ESP or AH processing for one SA; see the module docstring for the two packet shapes."""

    def __init__(
        self, config: SAConfig, now: float, random_bytes: Callable[[int], bytes] = os.urandom
    ) -> None:
        self.config = config
        self.stats = SAStats()
        self._random = random_bytes
        self._cipher: BoundCipher | None = config.cipher.bind(config.encryption_key) if config.cipher else None
        self._integ: BoundIntegrity | None = (
            config.integrity.bind(config.integrity_key) if config.integrity else None
        )
        self._lifetime = LifetimeTracker(config.lifetime, now, config.spi, config.direction.value)
        self._spi = config.spi.to_bytes(4, "big")
        cipher = config.cipher
        self._align = max(4, cipher.block_size) if cipher else 4
        self._iv_size = cipher.iv_size if cipher else 0
        if cipher is not None and cipher.aead:
            self._icv_size = cipher.icv_size
        else:
            self._icv_size = config.integrity.icv_size if config.integrity else 0
        self._fix_checksums = (
            config.fix_transport_checksums
            if config.fix_transport_checksums is not None
            else config.udp_encapsulation is not None
        )
        self._seq = config.initial_sequence
        self._replay = ReplayWindow(config.replay_window, config.esn, config.initial_sequence - 1)
        self._counter_iv = cipher is not None and cipher.mode != "cbc" and config.counter_iv
        self._iv_salt = 0
        self._ip_id = 0
        if config.direction is Direction.OUT:
            if self._counter_iv:
                self._iv_salt = int.from_bytes(self._random_exact(8), "big")
            self._ip_id = int.from_bytes(self._random_exact(2), "big")

    # ------------------------------------------------------------------ state

    @property
    def spi(self) -> int:
        return self.config.spi

    @property
    def direction(self) -> Direction:
        return self.config.direction

    @property
    def soft_expired(self) -> bool:
        return self._lifetime.soft_reason is not None

    @property
    def hard_expired(self) -> bool:
        return self._lifetime.hard_reason is not None

    @property
    def next_sequence(self) -> int:
        """The sequence number the next outbound packet gets."""
        return self._seq

    @property
    def highest_sequence(self) -> int:
        """The highest sequence number an inbound SA accepted."""
        return self._replay.highest

    @property
    def lifetime_bytes(self) -> int:
        return self._lifetime.bytes

    @property
    def lifetime_packets(self) -> int:
        return self._lifetime.packets

    def next_event(self) -> SAEvent | None:
        events = self._lifetime.events
        return events.pop(0) if events else None

    def get_timer(self) -> float | None:
        return self._lifetime.next_deadline()

    def handle_timer(self, now: float) -> None:
        self._lifetime.check(now)

    def overhead(self, payload_len: int) -> int:
        """Bytes ``encapsulate_payload`` adds to a ``payload_len``-byte packet (for MTU/MSS clamping)."""
        if self.config.protocol is SAProtocol.AH:
            return ahcodec.AH_FIXED + ahcodec.icv_field_size(self._icv_size, 6)
        pad = -(payload_len + 2) % self._align
        return 8 + self._iv_size + pad + 2 + self._icv_size

    # ------------------------------------------------------------------ outbound

    def encapsulate(self, ip_packet: bytes, now: float) -> bytes:
        """Protect an IP packet; returns the whole outgoing IP packet (outer header, [UDP,] ESP or AH).

        Raises ParseError if ``ip_packet`` is not a usable IP packet, SAExhausted once the SA is spent.
        """
        self._require(Direction.OUT)
        pkt = parse_ip(ip_packet, walk_extensions=self.config.protocol is SAProtocol.ESP)
        if self.config.protocol is SAProtocol.AH:
            return self._ah_encapsulate(pkt, ip_packet, now)
        if self.config.mode is Mode.TUNNEL:
            src, dst = self._endpoints()
            inner = ip_packet[: len(pkt.header) + len(pkt.payload)]
            esp = self._esp_seal(inner, _tunnel_next_header(pkt), now, len(inner))
            proto, body = self._udp_wrap(esp, src.packed, dst.packed, src.version)
            df = pkt.version == 4 and bool(pkt.header[6] & 0x40)
            return build_outer(src, dst, proto, body, ident=self._next_ident(), tos=pkt.dscp_ecn, df=df)
        _refuse_fragment(pkt)
        esp = self._esp_seal(pkt.payload, pkt.protocol, now, len(pkt.header) + len(pkt.payload))
        proto, body = self._udp_wrap(esp, pkt.src, pkt.dst, pkt.version)
        return with_protocol(pkt, proto, body)

    def encapsulate_payload(self, ip_packet: bytes, now: float) -> bytes:
        """Protect an IP packet; returns only the ESP bytes (SPI to ICV) for a UDP or raw socket."""
        self._require(Direction.OUT)
        if self.config.protocol is SAProtocol.AH:
            raise LocalProtocolError("AH covers the IP header; use encapsulate() and send with the header")
        pkt = parse_ip(ip_packet)
        if self.config.mode is Mode.TUNNEL:
            inner = ip_packet[: len(pkt.header) + len(pkt.payload)]
            return self._esp_seal(inner, _tunnel_next_header(pkt), now, len(inner))
        _refuse_fragment(pkt)
        return self._esp_seal(pkt.payload, pkt.protocol, now, len(pkt.header) + len(pkt.payload))

    def _random_exact(self, n: int) -> bytes:
        data = self._random(n)
        if len(data) != n:
            raise LocalProtocolError(f"random_bytes({n}) returned {len(data)} bytes")
        return data

    def _next_seq(self, now: float) -> int:
        lifetime = self._lifetime
        lifetime.check(now)
        if lifetime.hard_reason is not None:
            raise SAExhausted(
                f"the outbound SA {self.spi:#010x} reached its hard limit ({lifetime.hard_reason}); it must be rekeyed"
            )
        seq = self._seq
        self._seq += 1
        if seq >= (SEQ64_MAX if self.config.esn else SEQ32_MAX):
            lifetime.hard("sequence numbers")
        elif not self.config.esn and seq >= SOFT_SEQUENCE_LIMIT:
            lifetime.soft("sequence numbers")
        return seq

    def _sent(self, size: int, now: float) -> None:
        self.stats.packets += 1
        self.stats.bytes += size
        self.stats.last_used = now
        self._lifetime.count(size, now)

    def _esp_seal(self, payload: bytes, next_header: int, now: float, size: int) -> bytes:
        cipher = self._cipher
        assert cipher is not None
        seq = self._next_seq(now)
        seq_low = (seq & SEQ32_MAX).to_bytes(4, "big")
        seq_high = (seq >> 32).to_bytes(4, "big") if self.config.esn else b""
        padlen = -(len(payload) + 2) % self._align
        plaintext = payload + _PADDING[padlen] + bytes((padlen, next_header))
        iv = (seq ^ self._iv_salt).to_bytes(8, "big") if self._counter_iv else self._random_exact(self._iv_size)
        header = self._spi + seq_low
        if cipher.cipher.aead:
            packet = header + iv + cipher.encrypt(iv, plaintext, self._spi + seq_high + seq_low)
        else:
            packet = header + iv + cipher.encrypt(iv, plaintext)
            if self._integ is not None:
                packet += self._integ.mac(packet + seq_high)
        self._sent(size, now)
        return packet

    def _udp_wrap(self, esp: bytes, src: bytes, dst: bytes, version: int) -> tuple[int, bytes]:
        encap = self.config.udp_encapsulation
        if encap is None:
            return PROTO_ESP, esp
        header = udp_header(encap.local_port, encap.remote_port, len(esp))
        if version == 6:  # IPv6 forbids a zero UDP checksum
            length = len(header) + len(esp)
            pseudo = src + dst + length.to_bytes(4, "big") + bytes([0, 0, 0, PROTO_UDP])
            checksum = internet_checksum(pseudo + header + esp) or 0xFFFF
            header = header[:6] + checksum.to_bytes(2, "big")
        return PROTO_UDP, header + esp

    def _endpoints(self) -> tuple[IPAddress, IPAddress]:
        src, dst = self.config.local_address, self.config.remote_address
        if src is None or dst is None:
            raise LocalProtocolError("tunnel mode needs local_address and remote_address to build the outer header")
        return src, dst

    def _next_ident(self) -> int:
        self._ip_id = (self._ip_id + 1) & 0xFFFF
        return self._ip_id

    def _ah_encapsulate(self, pkt: IPPacket, ip_packet: bytes, now: float) -> bytes:
        integ = self._integ
        assert integ is not None
        version: int = pkt.version
        if self.config.mode is Mode.TUNNEL:
            src, dst = self._endpoints()
            version = src.version
        else:
            _refuse_fragment(pkt)
        field_size = ahcodec.icv_field_size(self._icv_size, version)
        size = len(pkt.header) + len(pkt.payload)
        seq = self._next_seq(now)
        seq_high = (seq >> 32).to_bytes(4, "big") if self.config.esn else b""
        if self.config.mode is Mode.TUNNEL:
            inner = ip_packet[:size]
            ah = ahcodec.ah_header(_tunnel_next_header(pkt), self.spi, seq & SEQ32_MAX, bytes(field_size))
            df = pkt.version == 4 and bool(pkt.header[6] & 0x40)
            full = build_outer(src, dst, PROTO_AH, ah + inner, ident=self._next_ident(), tos=pkt.dscp_ecn, df=df)
        else:
            ah = ahcodec.ah_header(pkt.protocol, self.spi, seq & SEQ32_MAX, bytes(field_size))
            full = with_protocol(pkt, PROTO_AH, ah + pkt.payload)
        out = parse_ip(full, walk_extensions=False)
        icv = integ.mac(ahcodec.icv_input(out, len(ah), seq_high))
        at = len(out.header) + ahcodec.AH_FIXED
        self._sent(size, now)
        return full[:at] + icv + full[at + len(icv) :]

    # ------------------------------------------------------------------ inbound

    def decapsulate(self, packet: bytes, now: float) -> bytes:
        """Verify and strip a whole received IP packet (ESP, UDP-encapsulated ESP, or AH).

        Returns the inner IP packet. Raises only ParseError subclasses on bad input, each counted in
        ``stats`` first.
        """
        self._require(Direction.IN)
        try:
            self._check_alive(now)
            if self.config.protocol is SAProtocol.AH:
                result = self._ah_decapsulate(packet)
            else:
                outer = parse_ip(packet)
                data = _esp_bytes(outer)
                nh, payload = self._esp_open(data)
                result = self._deliver(nh, payload, outer, None, None)
        except ParseError as exc:
            self._dropped(exc)
            raise
        self._received(len(result), now)
        return result

    def decapsulate_payload(
        self, data: bytes, now: float, src: IPAddress | None = None, dst: IPAddress | None = None
    ) -> bytes:
        """Verify and strip ESP bytes (a UDP payload already classified as ESP, or a raw payload).

        Transport mode rebuilds the IP header from ``src``/``dst`` (the outer addresses as received;
        default: the SA's remote and local address).
        """
        self._require(Direction.IN)
        if self.config.protocol is SAProtocol.AH:
            raise LocalProtocolError("AH needs the IP header; use decapsulate()")
        if self.config.mode is Mode.TRANSPORT:
            src = src or self.config.remote_address
            dst = dst or self.config.local_address
            if src is None or dst is None or src.version != dst.version:
                raise LocalProtocolError("transport mode needs the outer source and destination address")
        try:
            self._check_alive(now)
            nh, payload = self._esp_open(data)
            result = self._deliver(nh, payload, None, src, dst)
        except ParseError as exc:
            self._dropped(exc)
            raise
        self._received(len(result), now)
        return result

    def _check_alive(self, now: float) -> None:
        self._lifetime.check(now)
        if self._lifetime.hard_reason is not None:
            raise ExpiredSA(f"the inbound SA {self.spi:#010x} expired ({self._lifetime.hard_reason})")

    def _received(self, size: int, now: float) -> None:
        self.stats.packets += 1
        self.stats.bytes += size
        self.stats.last_used = now
        self._lifetime.count(size, now)

    def _dropped(self, exc: ParseError) -> None:
        stats = self.stats
        if isinstance(exc, DummyPacket):
            stats.dummy += 1
            return
        stats.dropped += 1
        for kind, name in _DROP_COUNTERS:
            if isinstance(exc, kind):
                setattr(stats, name, getattr(stats, name) + 1)
                return
        stats.malformed += 1

    def _sequence(self, seq_low: int) -> tuple[int, bytes]:
        seq = self._replay.infer(seq_low)
        self._replay.check(seq)
        return seq, (seq >> 32).to_bytes(4, "big") if self.config.esn else b""

    def _esp_open(self, data: bytes) -> tuple[int, bytes]:
        cipher = self._cipher
        assert cipher is not None
        iv_end = 8 + self._iv_size
        if len(data) < iv_end + self._icv_size + 2:
            raise ParseError(f"ESP packet of {len(data)} bytes is too short")
        if data[:4] != self._spi:
            raise WrongSPI(f"SPI {data[:4].hex()} is not this SA's {self._spi.hex()}")
        seq, seq_high = self._sequence(int.from_bytes(data[4:8], "big"))
        iv = data[8:iv_end]
        if cipher.cipher.aead:
            plaintext = cipher.decrypt(iv, data[iv_end:], self._spi + seq_high + data[4:8])
        else:
            end = len(data) - self._icv_size
            if self._integ is not None and not self._integ.verify(data[:end] + seq_high, data[end:]):
                raise AuthenticationFailed(f"ESP ICV does not verify (SPI {self._spi.hex()}, sequence {seq})")
            plaintext = cipher.decrypt(iv, data[iv_end:end])
        self._replay.accept(seq)
        if len(plaintext) < 2:
            raise ParseError("ESP payload has no trailer")
        padlen, next_header = plaintext[-2], plaintext[-1]
        if padlen + 2 > len(plaintext) or plaintext[-2 - padlen : -2] != _PADDING[padlen]:
            raise BadPadding(f"ESP padding of length {padlen} is not 1, 2, 3, ...")
        return next_header, plaintext[: -2 - padlen]

    def _ah_decapsulate(self, packet: bytes) -> bytes:
        integ = self._integ
        assert integ is not None
        outer = parse_ip(packet, walk_extensions=False)
        if outer.protocol != PROTO_AH:
            raise ParseError(f"protocol {outer.protocol} is not AH")
        _refuse_fragment(outer)
        hdr = ahcodec.parse_ah(outer.payload, self._icv_size, outer.version)
        if hdr.spi != self.spi:
            raise WrongSPI(f"SPI {hdr.spi:#010x} is not this SA's {self.spi:#010x}")
        seq, seq_high = self._sequence(hdr.seq_low)
        if not integ.verify(ahcodec.icv_input(outer, hdr.length, seq_high), hdr.icv_field[: self._icv_size]):
            raise AuthenticationFailed(f"AH ICV does not verify (SPI {self.spi:#010x}, sequence {seq})")
        self._replay.accept(seq)
        return self._deliver(hdr.next_header, outer.payload[hdr.length :], outer, None, None)

    def _deliver(
        self, next_header: int, payload: bytes, outer: IPPacket | None, src: IPAddress | None, dst: IPAddress | None
    ) -> bytes:
        if next_header == PROTO_NONE:
            raise DummyPacket("dummy packet (next header 59)")
        if self.config.mode is Mode.TUNNEL:
            inner = _inner_packet(next_header, payload)
            if outer is not None and outer.ecn == 3:
                inner = set_ecn_ce(inner)
            return inner
        if outer is not None:
            result = with_protocol(outer, next_header, payload)
        else:
            assert src is not None and dst is not None
            result = build_outer(src, dst, next_header, payload)
        return fix_l4_checksum(result) if self._fix_checksums else result

    def _require(self, direction: Direction) -> None:
        if self.config.direction is not direction:
            verb = "encapsulate" if direction is Direction.OUT else "decapsulate"
            raise LocalProtocolError(f"cannot {verb} with an {self.config.direction.value}bound SA")


def spi_of_packet(packet: bytes) -> tuple[SAProtocol, int]:
    """Which SA a received whole IP packet is for: (ESP or AH, SPI), UDP-encapsulated ESP included.

    Drivers use it to pick the inbound SA; raises ParseError (NotESP for IKE and keepalives on 4500).
    """
    outer = parse_ip(packet, walk_extensions=True)
    if outer.protocol == PROTO_AH:
        if len(outer.payload) < ahcodec.AH_FIXED:
            raise ParseError("AH header truncated")
        return SAProtocol.AH, int.from_bytes(outer.payload[4:8], "big")
    data = _esp_bytes(outer)
    return SAProtocol.ESP, spi_of_payload(data)


def spi_of_payload(esp: bytes) -> int:
    """The SPI of ESP bytes as received on a UDP or raw socket."""
    if len(esp) < 8:
        raise ParseError(f"ESP packet of {len(esp)} bytes is too short")
    return int.from_bytes(esp[:4], "big")


def _tunnel_next_header(pkt: IPPacket) -> int:
    return PROTO_IPIP if pkt.version == 4 else PROTO_IPV6


def _refuse_fragment(pkt: IPPacket) -> None:
    if pkt.fragmented:
        raise ParseError("transport mode cannot protect or accept an IP fragment")


def _esp_bytes(outer: IPPacket) -> bytes:
    """The ESP part of a received packet: IP protocol 50, or UDP (RFC 3948) with ESP inside."""
    _refuse_fragment(outer)
    if outer.protocol == PROTO_ESP:
        return outer.payload
    if outer.protocol == PROTO_UDP:
        if len(outer.payload) < 8:
            raise ParseError("truncated UDP header")
        data = outer.payload[8:]
        kind = classify_udp_payload(data)
        if kind is not UdpPayloadKind.ESP:
            raise NotESP(f"UDP datagram is {kind.value}, not ESP")
        return data
    raise NotESP(f"IP protocol {outer.protocol} is not ESP")


def _inner_packet(next_header: int, payload: bytes) -> bytes:
    """Tunnel mode: the inner packet, cut to its own length (TFC padding may follow it, RFC 4303 §2.7)."""
    if next_header == PROTO_IPIP:
        if not payload or payload[0] >> 4 != 4:
            raise ParseError("next header says IPv4 but the inner packet is not IPv4")
    elif next_header == PROTO_IPV6:
        if not payload or payload[0] >> 4 != 6:
            raise ParseError("next header says IPv6 but the inner packet is not IPv6")
    else:
        raise ParseError(f"tunnel-mode SA carried next header {next_header}, not an IP packet")
    pkt = parse_ip(payload, walk_extensions=False)
    return payload[: len(pkt.header) + len(pkt.payload)]
