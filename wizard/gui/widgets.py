"""Small building blocks shared by the wizard pages and the windows."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from wizard.gui.theme import style_warning


def note_label(text: str, *, warning: bool = False, indent: int = 0) -> QLabel:
    """A wrapped explanatory line; ``warning`` colours it for the current theme."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if indent:
        label.setIndent(indent)
    if warning:
        style_warning(label)
    return label


class FilePicker(QWidget):
    """A path field with a Browse… button (both reachable by keyboard)."""

    def __init__(self, name: str, accessible: str, file_filter: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.file_filter = file_filter
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit()
        self.edit.setObjectName(name)
        self.edit.setAccessibleName(accessible)
        self.edit.setPlaceholderText(self.tr("/path/to/file"))
        self.browse = QPushButton(self.tr("Browse…"))
        self.browse.setObjectName(f"{name}_browse")
        self.browse.setAccessibleName(self.tr("Choose {what}").format(what=accessible))
        self.browse.clicked.connect(self._choose)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.browse)
        self.setFocusProxy(self.edit)

    def _choose(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, self.edit.accessibleName(), self.edit.text(), self.file_filter)
        if name:
            self.edit.setText(name)
