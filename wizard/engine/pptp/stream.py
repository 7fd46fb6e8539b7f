"""Splits the TCP byte stream of a control connection into whole messages.

TCP hands us arbitrary chunks: half a message, or three and a bit. The length field frames the
stream, so once the header looks wrong (bad length or magic cookie) framing is lost for good and
the reassembler stays broken.
"""

from __future__ import annotations

from wizard.engine.errors import ParseError
from wizard.engine.pptp.constants import HEADER_LENGTH, MAGIC_COOKIE, MAX_MESSAGE_LENGTH


class ControlStreamReassembler:
    """``feed`` chunks in, take whole messages out with ``next_message``."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._error: str | None = None

    @property
    def broken(self) -> bool:
        return self._error is not None

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def feed(self, data: bytes) -> None:
        """Append a chunk. Memory stays bounded: a message is at most MAX_MESSAGE_LENGTH octets, so
        only whole messages (drained by ``next_message``) can pile up beyond that."""
        if self._error is None:
            self._buffer += data

    def next_message(self) -> bytes | None:
        """The next whole message, ``None`` if more bytes are needed; ``ParseError`` if framing is lost."""
        if self._error is not None:
            raise ParseError(self._error)
        buf = self._buffer
        if len(buf) < 2:
            return None
        length = int.from_bytes(buf[0:2], "big")
        if not HEADER_LENGTH <= length <= MAX_MESSAGE_LENGTH:
            raise self._fail(f"implausible control message length {length}")
        if len(buf) >= 8:
            cookie = int.from_bytes(buf[4:8], "big")
            if cookie != MAGIC_COOKIE:
                raise self._fail(f"bad magic cookie 0x{cookie:08x}")
        if len(buf) < length:
            return None
        message = bytes(buf[:length])
        del buf[:length]
        return message

    def _fail(self, reason: str) -> ParseError:
        """Mark the stream broken; the next ``next_message`` call raises."""
        self._error = reason
        self._buffer.clear()
        return ParseError(reason)
