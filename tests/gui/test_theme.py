"""Semantic colours follow a light or dark system palette, so text stays readable in both."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from wizard.gui.theme import error_color, graph_colors, is_dark, warning_color


def palette(window: str, text: str) -> QPalette:
    p = QPalette()
    p.setColor(QPalette.ColorRole.Window, QColor(window))
    p.setColor(QPalette.ColorRole.WindowText, QColor(text))
    return p


def test_colours_contrast_with_the_window(qapp: QApplication) -> None:
    for window, text in (("#f0f0f0", "#000000"), ("#202124", "#e8eaed")):
        p = palette(window, text)
        background = QColor(window).lightness()
        for colour in (error_color(p), warning_color(p), *graph_colors(p)):
            assert abs(colour.lightness() - background) > 60, (window, colour.name())
    assert is_dark(palette("#202124", "#ffffff")) and not is_dark(palette("#ffffff", "#000000"))
