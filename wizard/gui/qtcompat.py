"""Work-arounds for bugs in the PySide6 we run on.

PySide6 6.12.0 on CPython 3.11: every ``SignalInstance.emit()`` called from Python drops one
reference to ``True`` (it hands back a borrowed ``Py_True``). After a few hundred emissions the
interpreter aborts with ``Fatal Python error: bool_dealloc`` - a tray that gets a counters event
every second would die within minutes. :func:`emit` measures the leak once and gives the reference
back after each call; on a fixed PySide (or Python 3.12+, where bools are immortal) it does nothing.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

from PySide6.QtCore import QObject, Signal, SignalInstance


class _Probe(QObject):
    fired = Signal(int)


def _emit_leaks_true() -> bool:
    if sys.version_info >= (3, 12) or not hasattr(sys, "getrefcount"):
        return False
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(20):
        probe.fired.emit(0)
    lost = before - sys.getrefcount(True)
    if lost > 0:  # give back what the probe itself took
        for _ in range(lost):
            ctypes.pythonapi.Py_IncRef(ctypes.py_object(True))
    return lost >= 20


EMIT_LEAKS_TRUE = _emit_leaks_true()


def emit(signal: SignalInstance, *args: Any) -> None:
    """``signal.emit(*args)`` without PySide 6.12's reference leak on ``True``."""
    result: object = signal.emit(*args)  # type: ignore[func-returns-value]  # the stubs say None; 6.12 returns True
    if EMIT_LEAKS_TRUE and result is True:
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(True))
