"""Colours that follow the system theme.

Everything uses the palette except the few semantic colours (error, warning, the graph's two
lines), which we pick per light or dark palette so text stays readable in both.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QLabel, QWidget


def is_dark(palette: QPalette | None = None) -> bool:
    palette = palette or QApplication.palette()
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def error_color(palette: QPalette | None = None) -> QColor:
    return QColor("#ff8a80") if is_dark(palette) else QColor("#b00020")


def warning_color(palette: QPalette | None = None) -> QColor:
    return QColor("#ffcc80") if is_dark(palette) else QColor("#8a4b00")


def ok_color(palette: QPalette | None = None) -> QColor:
    return QColor("#81c784") if is_dark(palette) else QColor("#1b6e2a")


def graph_colors(palette: QPalette | None = None) -> tuple[QColor, QColor]:
    """(received, sent) line colours."""
    if is_dark(palette):
        return QColor("#64b5f6"), QColor("#ffb74d")
    return QColor("#1565c0"), QColor("#c25e00")


def style_error(label: QLabel) -> None:
    label.setStyleSheet(f"color: {error_color(label.palette()).name()};")


def style_warning(label: QLabel, bold: bool = False) -> None:
    weight = " font-weight: bold;" if bold else ""
    label.setStyleSheet(f"color: {warning_color(label.palette()).name()};{weight}")


def error_label(parent: QWidget | None = None) -> QLabel:
    """The line beside a field that says what is wrong with it (hidden while nothing is)."""
    label = QLabel(parent)
    label.setObjectName("fieldError")
    label.setWordWrap(True)
    label.setVisible(False)
    style_error(label)
    return label
