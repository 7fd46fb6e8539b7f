"""A bounds-checked reader and a writer for binary wire formats.

Every parser in the engine reads through :class:`Reader`, so running off the end of a packet becomes a
:class:`~wizard.engine.errors.ParseError` instead of an ``IndexError`` or ``struct.error``.
"""

from __future__ import annotations

from wizard.engine.errors import ParseError


class Reader:
    """Consumes a bytes object front to back; every read checks the remaining length."""

    __slots__ = ("_data", "_pos")

    def __init__(self, data: bytes) -> None:
        self._data = bytes(data)
        self._pos = 0

    @property
    def remaining(self) -> int:
        return len(self._data) - self._pos

    @property
    def position(self) -> int:
        return self._pos

    def eof(self) -> bool:
        return self._pos >= len(self._data)

    def read(self, n: int) -> bytes:
        if n < 0 or self._pos + n > len(self._data):
            raise ParseError(f"truncated: wanted {n} bytes at offset {self._pos}, have {self.remaining}")
        chunk = self._data[self._pos : self._pos + n]
        self._pos += n
        return chunk

    def read_rest(self) -> bytes:
        return self.read(self.remaining)

    def u8(self) -> int:
        return self.read(1)[0]

    def u16(self) -> int:
        return int.from_bytes(self.read(2), "big")

    def u32(self) -> int:
        return int.from_bytes(self.read(4), "big")

    def u64(self) -> int:
        return int.from_bytes(self.read(8), "big")


class Writer:
    """Builds a packet; integers are big-endian (network order) and range-checked."""

    __slots__ = ("_parts",)

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> Writer:
        self._parts.append(bytes(data))
        return self

    def _uint(self, value: int, size: int) -> Writer:
        if not 0 <= value < 1 << (8 * size):
            raise ValueError(f"{value} does not fit in {size} bytes")
        return self.write(value.to_bytes(size, "big"))

    def u8(self, value: int) -> Writer:
        return self._uint(value, 1)

    def u16(self, value: int) -> Writer:
        return self._uint(value, 2)

    def u32(self, value: int) -> Writer:
        return self._uint(value, 4)

    def u64(self, value: int) -> Writer:
        return self._uint(value, 8)

    def getvalue(self) -> bytes:
        return b"".join(self._parts)
