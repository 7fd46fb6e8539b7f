"""The test run renders every screenshot (to ``$CW_SCREENSHOTS`` or a temporary directory)."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from tests.gui.screenshots import render_all

EXPECTED = {
    "wizard-1-type", "wizard-2-gateway", "wizard-2-gateway-error", "wizard-3-signin", "wizard-4-options",
    "wizard-4-options-legacy", "wizard-5-summary", "import-preview", "tray-menu", "tray-fallback-window",
    "connections-window", "connections-parameters", "connections-log", "connections-service-unavailable",
}  # fmt: skip


def test_every_screen_renders(qtbot: QtBot, tmp_path: Path) -> None:
    target = Path(os.environ.get("CW_SCREENSHOTS", tmp_path / "screenshots"))
    written = render_all(target)
    assert {p.stem for p in written} == EXPECTED
    for path in written:
        image = QImage(str(path))
        assert image.width() >= 200 and image.height() >= 150, path.name
        colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
        assert len(colours) > 8, f"{path.name} looks blank"
