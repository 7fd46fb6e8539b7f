"""MPPE: key derivation (RFC 3079) and packet encryption with RC4 (RFC 3078).

Sans-IO: :class:`MppeEncryptor` and :class:`MppeDecryptor` turn one PPP payload into one MPPE
packet body and back. The PPP/CCP layer owns negotiation and sends CCP Reset-Requests when
:class:`MppeResyncNeeded` is raised. MPPE has no integrity check: a corrupted packet decrypts
to garbage, which the protocol above drops.

Behaviour on the wire follows the Linux kernel's ppp_mppe (pppd, the lab's reference peer):
coherency counts start at 0; in stateless mode the key changes before every packet, the first
one included; in stateful mode the key changes on "flag" packets (low count octet 0xFF) and on
the first packet after a CCP Reset-Request, both marked FLUSHED. A consequence, shared with the
kernel: in stateful mode, if the FLUSHED packet answering a Reset-Request is itself lost,
the two ends disagree on the number of key changes and stay out of step until CCP renegotiates.
"""

from __future__ import annotations

import hashlib

from wizard.engine.buffer import Reader
from wizard.engine.crypto.mschap import hash_nt_password_hash, lm_password_hash, nt_password_hash
from wizard.engine.crypto.rc4 import Rc4, rc4
from wizard.engine.errors import LocalProtocolError, ParseError, ProtocolError

# RFC 3079 section 3.4 magic strings and SHA pads.
_MASTER_MAGIC = b"This is the MPPE Master Key"
_MAGIC2 = b"On the client side, this is the send key; on the server side, it is the receive key."
_MAGIC3 = b"On the client side, this is the receive key; on the server side, it is the send key."
_SHA_PAD1 = b"\x00" * 40
_SHA_PAD2 = b"\xf2" * 40

# RFC 3078 section 3 header bits (first octet of the two-octet header).
FLAG_FLUSHED = 0x8000  # A: RC4 tables re-initialised (and, here, session key changed)
FLAG_B = 0x4000  # B: MPPC "history at front", unused without compression
FLAG_COMPRESSED = 0x2000  # C: MPPC compressed; we never negotiate MPPC
FLAG_ENCRYPTED = 0x1000  # D: always set on MPPE packets
CCOUNT_MASK = 0x0FFF
CCOUNT_SPACE = 0x1000
HEADER_LENGTH = 2

#: Stateless: a count more than this ahead is taken as a late (reordered) packet, as in Linux.
_MAX_FORWARD = CCOUNT_SPACE // 2
#: Stateful: counts up to this far behind the last accepted one are late or duplicate packets;
#: anything else is a forward jump (loss), which a Reset-Request and FLUSHED packet repair.
_LATE_WINDOW = 256


class MppeResyncNeeded(ProtocolError):
    """Stateful MPPE lost packets: the PPP layer should send a CCP Reset-Request.

    ``repeat`` is False on the packet that first revealed the loss and True on later packets
    discarded while waiting for the peer's FLUSHED packet (the peer has likely been asked
    already; re-send only on the CCP retransmission timer).
    """

    def __init__(self, reason: str, *, repeat: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.repeat = repeat


class MppeDropped(ParseError):
    """A well-formed packet that must be dropped: duplicate or arrived too late."""


def key_length_for_bits(bits: int) -> int:
    """Session key length in bytes: 8 for 40- and 56-bit MPPE (salted), 16 for 128-bit."""
    if bits in (40, 56):
        return 8
    if bits == 128:
        return 16
    raise ValueError(f"MPPE supports 40, 56 or 128 bit keys, not {bits}")


def get_master_key(pw_hash_hash: bytes, nt_response: bytes) -> bytes:
    """GetMasterKey (RFC 3079 section 3.4): 16 bytes from the hash of the NT hash and NT-Response."""
    return hashlib.sha1(pw_hash_hash + nt_response + _MASTER_MAGIC).digest()[:16]


def get_asymmetric_start_key(master_key: bytes, key_length: int, is_send: bool, is_server: bool) -> bytes:
    """GetAsymmetricStartKey (RFC 3079 section 3.4): the per-direction start key.

    The client's send key is the server's receive key and vice versa.
    """
    if not 0 < key_length <= 16:
        raise ValueError("key_length must be 1..16 bytes")
    magic = _MAGIC3 if is_send == is_server else _MAGIC2
    return hashlib.sha1(master_key + _SHA_PAD1 + magic + _SHA_PAD2).digest()[:key_length]


def mppe_keys_from_mschapv2(password: str, nt_response: bytes, is_server: bool, key_length: int) -> tuple[bytes, bytes]:
    """(send_start_key, receive_start_key) after MS-CHAPv2 (RFC 3079 section 3).

    ``nt_response`` is the 24-byte NT-Response the client sent; ``key_length`` is in bytes
    (see :func:`key_length_for_bits`).
    """
    master = get_master_key(hash_nt_password_hash(nt_password_hash(password)), nt_response)
    send = get_asymmetric_start_key(master, key_length, True, is_server)
    recv = get_asymmetric_start_key(master, key_length, False, is_server)
    return send, recv


def mppe_keys_from_mschapv1(
    password: str, challenge: bytes, key_length: int, *, use_lm_hash: bool | None = None
) -> tuple[bytes, bytes]:
    """(send_start_key, receive_start_key) after MS-CHAPv1; both directions share one key.

    ``challenge`` is the authenticator's 8-byte challenge. RFC 3079 section 2:

    * 16-byte keys: Get_Start_Key, SHA1(NtPasswordHashHash twice || challenge) (section 2.4);
    * 8-byte keys (40/56 bit): the first 8 bytes of LmPasswordHash (sections 2.1, 2.2).

    ``use_lm_hash=False`` takes 8-byte keys from Get_Start_Key instead, as pppd does;
    ``None`` follows the RFC.
    """
    if len(challenge) != 8:
        raise ValueError("MS-CHAPv1 challenge must be 8 bytes")
    if not 0 < key_length <= 16:
        raise ValueError("key_length must be 1..16 bytes")
    if use_lm_hash is None:
        use_lm_hash = key_length <= 8
    if use_lm_hash:
        if key_length > 8:
            raise ValueError("the LAN Manager key gives at most 8 bytes")
        key = lm_password_hash(password)[:key_length]
    else:
        pw_hash_hash = hash_nt_password_hash(nt_password_hash(password))
        key = hashlib.sha1(pw_hash_hash + pw_hash_hash + challenge).digest()[:key_length]
    return key, key


def get_new_key_from_sha(start_key: bytes, session_key: bytes, key_length: int) -> bytes:
    """GetNewKeyFromSHA (RFC 3079 section 3.3 / RFC 3078 section 7.3): the interim key."""
    return hashlib.sha1(start_key[:key_length] + _SHA_PAD1 + session_key[:key_length] + _SHA_PAD2).digest()[:key_length]


def reduce_key(key: bytes, bits: int) -> bytes:
    """Weaken an 8-byte key to 40 or 56 bits with the fixed salt (RFC 3078 section 7.3)."""
    if bits == 40:
        return b"\xd1\x26\x9e" + key[3:8]
    if bits == 56:
        return b"\xd1" + key[1:8]
    return key


def initial_session_key(start_key: bytes, bits: int) -> bytes:
    """The first session key: GetNewKeyFromSHA(start, start) plus the 40/56-bit salt."""
    n = key_length_for_bits(bits)
    return reduce_key(get_new_key_from_sha(start_key, start_key, n), bits)


def change_key(start_key: bytes, session_key: bytes, bits: int) -> bytes:
    """Key change (RFC 3078 section 7.3): RC4-encrypt GetNewKeyFromSHA's output under itself,
    then apply the 40/56-bit salt."""
    n = key_length_for_bits(bits)
    interim = get_new_key_from_sha(start_key, session_key, n)
    return reduce_key(rc4(interim, interim), bits)


def _start_key(key: bytes, bits: int) -> bytes:
    n = key_length_for_bits(bits)
    if len(key) < n:
        raise ValueError(f"{bits}-bit MPPE needs a start key of at least {n} bytes")
    return bytes(key[:n])


class MppeEncryptor:
    """Encrypts outgoing PPP payloads for one direction of the link."""

    def __init__(self, send_start_key: bytes, bits: int, stateless: bool) -> None:
        self.bits = bits
        self.stateless = stateless
        self._start = _start_key(send_start_key, bits)
        self._session = initial_session_key(self._start, bits)
        self._rc4 = Rc4(self._session)
        # Starts one below zero so the first packet carries count 0.
        self._ccount = CCOUNT_SPACE - 1
        self._flush_pending = False

    @property
    def coherency_count(self) -> int:
        """Count carried by the most recently sent packet (4095 before the first)."""
        return self._ccount

    def reset(self) -> None:
        """Handle a CCP Reset-Request: the next packet changes key and carries FLUSHED.

        Call it once per Reset-Request received; in stateless mode every packet is already
        flushed, so it changes nothing.
        """
        self._flush_pending = True

    def encrypt(self, payload: bytes) -> bytes:
        """Return the MPPE packet body: 2-byte header then RC4 of ``payload``.

        ``payload`` is the PPP protocol field plus data; the caller frames the result as
        protocol 0x00FD.
        """
        if not payload:
            raise LocalProtocolError("MPPE cannot encrypt an empty payload")
        self._ccount = (self._ccount + 1) % CCOUNT_SPACE
        header = FLAG_ENCRYPTED | self._ccount
        if self.stateless or (self._ccount & 0xFF) == 0xFF or self._flush_pending:
            self._rekey()
            header |= FLAG_FLUSHED
        self._flush_pending = False
        return header.to_bytes(2, "big") + self._rc4.process(payload)

    def _rekey(self) -> None:
        self._session = change_key(self._start, self._session, self.bits)
        self._rc4 = Rc4(self._session)


class MppeDecryptor:
    """Decrypts incoming MPPE packet bodies for one direction of the link.

    Malformed, duplicate and late packets raise :class:`~wizard.engine.errors.ParseError`
    (``MppeDropped`` for the well-formed but unusable ones) and leave the state unchanged.
    """

    def __init__(self, recv_start_key: bytes, bits: int, stateless: bool) -> None:
        self.bits = bits
        self.stateless = stateless
        self._start = _start_key(recv_start_key, bits)
        self._session = initial_session_key(self._start, bits)
        self._rc4 = Rc4(self._session)
        self._ccount = CCOUNT_SPACE - 1  # last count accepted
        self._discard = False  # stateful: loss seen, waiting for a FLUSHED packet

    @property
    def coherency_count(self) -> int:
        """Count of the last packet accepted (4095 before the first)."""
        return self._ccount

    @property
    def awaiting_resync(self) -> bool:
        """True in stateful mode between a detected loss and the peer's FLUSHED packet."""
        return self._discard

    def decrypt(self, packet: bytes) -> bytes:
        """Return the plaintext PPP protocol field plus data of one MPPE packet body."""
        reader = Reader(packet)
        header = reader.u16()
        data = reader.read_rest()
        if not data:
            raise ParseError("MPPE packet has no encrypted data")
        if not header & FLAG_ENCRYPTED:
            raise ParseError("MPPE packet is not marked encrypted (D bit clear)")
        if header & FLAG_COMPRESSED:
            raise ParseError("MPPE packet is MPPC-compressed, which was not negotiated")
        flushed = bool(header & FLAG_FLUSHED)
        ccount = header & CCOUNT_MASK
        if self.stateless:
            return self._decrypt_stateless(ccount, flushed, data)
        return self._decrypt_stateful(ccount, flushed, data)

    def _decrypt_stateless(self, ccount: int, flushed: bool, data: bytes) -> bytes:
        # RFC 3078 section 8.1: every packet has a new key, one key change per count step.
        if not flushed:
            raise ParseError("stateless MPPE packet without the FLUSHED bit")
        delta = (ccount - self._ccount) % CCOUNT_SPACE
        if delta == 0 or delta > _MAX_FORWARD:
            raise MppeDropped(f"MPPE packet {ccount} is a duplicate or late (last {self._ccount})")
        session = self._session
        for _ in range(delta):
            session = change_key(self._start, session, self.bits)
        self._session = session
        self._ccount = ccount
        self._rc4 = Rc4(session)
        return self._rc4.process(data)

    def _decrypt_stateful(self, ccount: int, flushed: bool, data: bytes) -> bytes:
        # RFC 3078 section 8.2: one RC4 stream; key changes on FLUSHED (flag packets and resets).
        if (ccount & 0xFF) == 0xFF and not flushed:
            raise ParseError("stateful MPPE flag packet without the FLUSHED bit")
        expected = (self._ccount + 1) % CCOUNT_SPACE
        if (self._ccount - ccount) % CCOUNT_SPACE < _LATE_WINDOW:
            # The keystream has moved past it; dropping keeps us in step.
            raise MppeDropped(f"MPPE packet {ccount} is a duplicate or late (last {self._ccount})")
        if ccount != expected or self._discard:
            if not flushed:
                repeat = self._discard
                self._discard = True
                raise MppeResyncNeeded(
                    f"MPPE packets were lost (expected count {expected}, got {ccount})", repeat=repeat
                )
            # Catch up one key change per flag packet (count xFF) that was lost in between.
            session = self._session
            while (expected & ~0xFF) != (ccount & ~0xFF):
                session = change_key(self._start, session, self.bits)
                expected = (expected + 0x100) % CCOUNT_SPACE
            self._session = session
            self._discard = False
        if flushed:
            self._session = change_key(self._start, self._session, self.bits)
            self._rc4 = Rc4(self._session)
        self._ccount = ccount
        return self._rc4.process(data)
