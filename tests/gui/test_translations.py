"""Every user-visible string goes through Qt's translation: a pseudo-translation shows up on screen.

The strings are extracted from the current sources with ``pyside6-lupdate`` (so contexts match what
PySide looks up at run time, for the Qt pages and for the Qt-free flow), every one is "translated"
to «itself», compiled with ``pyside6-lrelease`` and installed.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QTranslator
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from tests.memory_keyring import MemoryKeyring
from wizard.gui.flow import i18n
from wizard.gui.new_connection import NewConnectionWizard
from wizard.profiles.secrets import SecretStore
from wizard.profiles.store import ProfileStore

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.fixture
def pseudo_locale(qapp: QApplication, tmp_path: Path) -> Iterator[None]:
    lupdate, lrelease = BIN / "pyside6-lupdate", BIN / "pyside6-lrelease"
    if not lupdate.exists() or not lrelease.exists():
        pytest.skip("pyside6-lupdate/lrelease are not installed")
    sources = sorted(str(p) for p in (REPO / "wizard" / "gui").rglob("*.py"))
    ts = tmp_path / "pseudo.ts"
    subprocess.run([str(lupdate), *sources, "-ts", str(ts)], check=True, capture_output=True, timeout=120)
    tree = ET.parse(ts)
    count = 0
    for message in tree.iter("message"):
        translation, source = message.find("translation"), message.find("source")
        assert translation is not None and source is not None
        translation.attrib.pop("type", None)
        translation.text = f"«{source.text}»"
        count += 1
    assert count > 200
    tree.write(ts, encoding="utf-8", xml_declaration=True)
    qm = tmp_path / "pseudo.qm"
    subprocess.run([str(lrelease), str(ts), "-qm", str(qm)], check=True, capture_output=True, timeout=60)
    translator = QTranslator()
    assert translator.load(str(qm))
    qapp.installTranslator(translator)
    i18n.install(lambda context, text: QCoreApplication.translate(context, text))
    try:
        yield
    finally:
        qapp.removeTranslator(translator)
        i18n.install(None)
        shutil.rmtree(tmp_path / "unused", ignore_errors=True)


def test_pages_and_flow_messages_are_translated(pseudo_locale: None, qtbot: QtBot, tmp_path: Path) -> None:
    wizard = NewConnectionWizard(ProfileStore(tmp_path / "config"), SecretStore(MemoryKeyring()))
    qtbot.addWidget(wizard)
    wizard.show()
    for _ in range(2):
        page = wizard.currentPage()
        assert page.title().startswith("«")
        texts = [label.text() for label in page.findChildren(QLabel) if label.text() and label.isVisibleTo(wizard)]
        assert texts and all("«" in text for text in texts), texts
        wizard.next()
    assert all(problem.startswith("«") for problem in wizard.flow.errors("gateway").values())
