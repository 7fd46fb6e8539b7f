"""Translation hook for the Qt-free flow modules.

The flow must not import Qt, yet its messages are what the user reads. Flow code calls :func:`tr`;
by default it returns the text unchanged (context "", as lupdate extracts it), and the Qt app installs ``QCoreApplication.translate``
with :func:`install`, so the same ``.ts`` files cover the pages and the flow.
"""

from __future__ import annotations

from collections.abc import Callable

Translate = Callable[[str, str], str]


def _identity(context: str, text: str) -> str:
    return text


_translate: Translate = _identity


def install(translate: Translate | None) -> None:
    """Route every later :func:`tr` call through ``translate(context, text)`` (None: identity)."""
    global _translate
    _translate = translate or _identity


def tr(text: str, context: str = "") -> str:
    """Translate ``text``; the empty context is where ``pyside6-lupdate`` files free ``tr()`` calls."""
    return _translate(context, text)
