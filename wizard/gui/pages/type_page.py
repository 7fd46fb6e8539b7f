"""Step 1: what kind of connection. Also the drop target for a profile file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QButtonGroup, QFrame, QHBoxLayout, QPushButton, QRadioButton, QVBoxLayout

from wizard.gui.flow.new_connection import INSECURE, NewConnectionFlow, engine_protocols, protocol_choices
from wizard.gui.importing import dropped_file
from wizard.gui.pages.base import FlowPage
from wizard.gui.widgets import note_label
from wizard.profiles.model import Protocol


class TypePage(FlowPage):
    step = "type"

    def __init__(self, flow: NewConnectionFlow, on_import: Callable[[Path | None], None]) -> None:
        super().__init__(flow)
        self.on_import = on_import
        self.setTitle(self.tr("What kind of connection?"))
        self.setSubTitle(
            self.tr("Ask your administrator if you are not sure. L2TP/IPsec works with most Windows servers.")
        )
        self.setAcceptDrops(True)
        layout = QVBoxLayout(self)
        self.group = QButtonGroup(self)
        choices = protocol_choices(engine_protocols())
        if all(p is not flow.protocol for p, _ in choices):  # editing a type this build does not list
            choices.insert(0, (flow.protocol, ""))
        self.choices: list[Protocol] = []
        for index, (protocol, explanation) in enumerate(choices):
            button = QRadioButton(protocol.label)
            button.setObjectName(f"protocol_{protocol.value}")
            button.setChecked(protocol is flow.protocol)
            button.setAccessibleDescription(explanation)
            self.group.addButton(button, index)
            self.choices.append(protocol)
            layout.addWidget(button)
            if explanation:
                note = note_label(("⚠ " if protocol in INSECURE else "") + explanation, warning=protocol in INSECURE, indent=24)
                note.setObjectName(f"note_{protocol.value}")
                layout.addWidget(note)
        self.group.idToggled.connect(self._toggled)
        layout.addStretch()

        drop = QFrame()
        drop.setObjectName("dropZone")
        drop.setFrameShape(QFrame.Shape.StyledPanel)
        row = QHBoxLayout(drop)
        row.addWidget(
            note_label(self.tr("Got a connection file from your administrator? Drop it here, or import it:")), 1
        )
        self.import_button = QPushButton(self.tr("&Import a file…"))
        self.import_button.setObjectName("importButton")
        self.import_button.clicked.connect(lambda: self.on_import(None))
        row.addWidget(self.import_button)
        layout.addWidget(drop)

    def _toggled(self, index: int, checked: bool) -> None:
        if checked:
            self.flow.choose_protocol(self.choices[index])

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_file(event) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        path = dropped_file(event)
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.on_import(path)
