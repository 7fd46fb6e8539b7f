"""L2TPv2 header codec (RFC 2661 section 3.1).

::

    |T|L|x|x|S|x|O|P|x|x|x|x|  Ver  |          Length (opt)         |
    |           Tunnel ID           |           Session ID          |
    |             Ns (opt)          |             Nr (opt)          |
    |      Offset Size (opt)        |    Offset pad... (opt)

Control messages must carry L and S (and no offset); the decoder enforces that so a control message
always has a length and sequence numbers. Drivers use :func:`decode_header` to demultiplex datagrams
by tunnel id before handing them to the right :class:`~wizard.engine.l2tp.connection.L2TPConnection`.
"""

from __future__ import annotations

from dataclasses import dataclass

from wizard.engine.buffer import Reader, Writer
from wizard.engine.errors import ParseError
from wizard.engine.l2tp.constants import L2TP_VERSION

T_BIT = 0x8000
L_BIT = 0x4000
S_BIT = 0x0800
O_BIT = 0x0200
P_BIT = 0x0100
VERSION_MASK = 0x000F

#: A control message's header: flags, length, tunnel, session, Ns, Nr.
CONTROL_HEADER_LEN = 12


@dataclass(frozen=True)
class L2TPHeader:
    """The decoded fixed part of a message; ``ns``/``nr`` are None when the S bit is clear."""

    is_control: bool
    tunnel_id: int
    session_id: int
    ns: int | None = None
    nr: int | None = None
    has_length: bool = False
    offset_size: int | None = None
    priority: bool = False

    @property
    def has_sequence(self) -> bool:
        return self.ns is not None


def decode_header(data: bytes) -> tuple[L2TPHeader, bytes]:
    """Split a datagram into its header and payload; raise ParseError if it is not valid L2TPv2."""
    r = Reader(data)
    flags = r.u16()
    version = flags & VERSION_MASK
    if version != L2TP_VERSION:
        raise ParseError(f"not an L2TPv2 message (version {version})")
    is_control = bool(flags & T_BIT)
    has_length = bool(flags & L_BIT)
    has_seq = bool(flags & S_BIT)
    has_offset = bool(flags & O_BIT)
    if is_control and not (has_length and has_seq):
        raise ParseError("control message without length or sequence numbers")
    if is_control and has_offset:
        raise ParseError("control message with an offset field")
    length: int | None = None
    if has_length:
        length = r.u16()
        if length > len(data):
            raise ParseError(f"length field {length} exceeds datagram of {len(data)} bytes")
    tunnel_id = r.u16()
    session_id = r.u16()
    ns = nr = None
    if has_seq:
        ns = r.u16()
        nr = r.u16()
    offset_size = None
    if has_offset:
        offset_size = r.u16()
        r.read(offset_size)
    header_len = r.position
    end = len(data) if length is None else length
    if end < header_len:
        raise ParseError(f"length field {end} is shorter than the {header_len}-byte header")
    header = L2TPHeader(
        is_control=is_control,
        tunnel_id=tunnel_id,
        session_id=session_id,
        ns=ns,
        nr=nr,
        has_length=has_length,
        offset_size=offset_size,
        priority=bool(flags & P_BIT),
    )
    return header, bytes(data[header_len:end])


def encode_message(header: L2TPHeader, payload: bytes = b"") -> bytes:
    """Build a datagram; the Length field (if any) is computed, offset pad is zero-filled."""
    if header.is_control and (header.ns is None or header.nr is None):
        raise ValueError("control messages need Ns and Nr")
    if (header.ns is None) != (header.nr is None):
        raise ValueError("Ns and Nr come together")
    has_length = header.has_length or header.is_control
    flags = L2TP_VERSION
    if header.is_control:
        flags |= T_BIT
    if has_length:
        flags |= L_BIT
    if header.ns is not None:
        flags |= S_BIT
    if header.offset_size is not None:
        flags |= O_BIT
    if header.priority:
        flags |= P_BIT
    rest = Writer().u16(header.tunnel_id).u16(header.session_id)
    if header.ns is not None and header.nr is not None:
        rest.u16(header.ns).u16(header.nr)
    if header.offset_size is not None:
        rest.u16(header.offset_size).write(bytes(header.offset_size))
    body = rest.getvalue() + payload
    w = Writer().u16(flags)
    if has_length:
        w.u16(len(body) + 4)
    return w.write(body).getvalue()


def control_header(tunnel_id: int, session_id: int, ns: int, nr: int) -> L2TPHeader:
    """The header of a control message (always T, L and S)."""
    return L2TPHeader(is_control=True, tunnel_id=tunnel_id, session_id=session_id, ns=ns, nr=nr, has_length=True)
