"""The app and tray-state icons (SVG, so they stay sharp at any scale).

They live in ``resources/icons`` of the source tree; an installation may point
``CONNECTION_WIZARD_RESOURCES`` at its copy. When no file is found we fall back to the icon theme,
then to a plain coloured disc, so a broken install still shows a usable tray icon.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap

from wizard.gui.flow.sessions import TrayState

_FALLBACK_COLORS = {
    TrayState.DISCONNECTED: "#7a7a7a",
    TrayState.CONNECTING: "#d08a00",
    TrayState.CONNECTED: "#2e8b3a",
    TrayState.ERROR: "#c62828",
}
_THEME_NAMES = {
    TrayState.DISCONNECTED: "network-vpn-disconnected",
    TrayState.CONNECTING: "network-vpn-acquiring",
    TrayState.CONNECTED: "network-vpn",
    TrayState.ERROR: "network-error",
}


def resources_dir() -> Path:
    override = os.environ.get("CONNECTION_WIZARD_RESOURCES")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "resources"


def _file_icon(name: str) -> QIcon | None:
    path = resources_dir() / "icons" / f"{name}.svg"
    if not path.is_file():
        return None
    icon = QIcon(str(path))
    return None if icon.isNull() else icon


def _disc(color: str) -> QIcon:
    pixmap = QPixmap(64, 64)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(QColor(color))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawEllipse(4, 4, 56, 56)
    painter.end()
    return QIcon(pixmap)


@cache
def state_icon(state: TrayState) -> QIcon:
    return _file_icon(f"vpn-{state.value}") or QIcon.fromTheme(_THEME_NAMES[state], _disc(_FALLBACK_COLORS[state]))


@cache
def app_icon() -> QIcon:
    return _file_icon("connection-wizard") or QIcon.fromTheme("connection-wizard", _disc("#1f5fa8"))


def profile_state_icon(state: str) -> QIcon:
    """The icon for one profile's state (``connected``, ``reconnecting``, ``failed``…)."""
    if state == "connected":
        return state_icon(TrayState.CONNECTED)
    if state in ("starting", "connecting", "reconnecting", "disconnecting"):
        return state_icon(TrayState.CONNECTING)
    if state in ("failed", "error"):
        return state_icon(TrayState.ERROR)
    return state_icon(TrayState.DISCONNECTED)
