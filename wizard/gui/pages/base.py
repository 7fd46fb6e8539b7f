"""The page base class: fields bound to flow answers, with their problem shown beside them.

A field's problem shows beside it once the user has touched it; a muted line at the bottom of the
page names every field that still needs attention, so a disabled Next button is never a riddle.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QAbstractButton,
    QFormLayout,
    QFrame,
    QLabel,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
    QWizardPage,
)

from wizard.gui.flow.new_connection import STEPS, NewConnectionFlow
from wizard.gui.qtcompat import emit
from wizard.gui.theme import error_label


class FlowPage(QWizardPage):
    """A page that validates its step through the flow and shows each problem beside its field."""

    step = ""

    def __init__(self, flow: NewConnectionFlow) -> None:
        super().__init__()
        self.flow = flow
        self.setObjectName(f"page_{self.step}")
        self.error_labels: dict[str, QLabel] = {}
        self.field_names: dict[str, str] = {}
        self.touched: set[str] = set()
        self.pending = QLabel()
        self.pending.setObjectName("pending")
        self.pending.setWordWrap(True)
        self.pending.setEnabled(False)  # drawn muted by every style

    def refresh(self) -> None:
        problems = self.flow.errors(self.step)
        for key, label in self.error_labels.items():
            shown = key in problems and key in self.touched
            label.setText(problems.get(key, "") if shown else "")
            label.setVisible(shown)
        # Named at the bottom too: the field may be scrolled away, or untouched so its line is hidden.
        waiting = [self.field_names[k] for k in problems if k in self.field_names]
        self.pending.setText(self.tr("To continue, fill in or correct: {fields}.").format(fields=", ".join(waiting)) if waiting else "")
        self.pending.setVisible(bool(waiting))
        emit(self.completeChanged)

    def isComplete(self) -> bool:
        return not self.flow.errors(self.step)

    def nextId(self) -> int:
        following = self.flow.next_step(self.step)
        return -1 if following is None else STEPS.index(following)

    def touch(self, key: str) -> None:
        self.touched.add(key)
        self.refresh()

    # --- building rows ---------------------------------------------------------------------------

    def add_row(self, form: QFormLayout, key: str, caption: str, widget: QWidget, *, focus: QWidget | None = None) -> QLabel:
        """``caption`` (with its mnemonic) beside ``widget``, and the field's error line under it."""
        label = QLabel(caption)
        label.setBuddy(focus or widget)
        name = caption.replace("&", "").rstrip(":")
        self.field_names[key] = name
        target = focus or widget
        if not target.accessibleName():
            target.setAccessibleName(name)
        column = QWidget()
        column.setObjectName(f"row_{key}")
        box = QVBoxLayout(column)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(widget)
        self.error_labels[key] = error = error_label()
        error.setAccessibleName(self.tr("Problem with {field}").format(field=name))
        box.addWidget(error)
        form.addRow(label, column)
        return label

    def add_line(
        self,
        form: QFormLayout,
        key: str,
        caption: str,
        placeholder: str = "",
        *,
        store: Callable[[str], None] | None = None,
        password: bool = False,
    ) -> QLineEdit:
        """A labelled line edit bound to answer ``key`` (or to ``store``)."""
        edit = QLineEdit()
        edit.setObjectName(key)
        edit.setPlaceholderText(placeholder)
        if password:
            edit.setEchoMode(QLineEdit.EchoMode.Password)
        else:
            edit.setText(str(self.flow.answers.get(key, "")))
        setter = store or (lambda text: self.flow.set(key, text))

        def changed(text: str) -> None:
            setter(text)
            self.touch(key)

        edit.textChanged.connect(changed)
        self.add_row(form, key, caption, edit)
        return edit

    def bind_check(self, button: QAbstractButton, key: str, then: Callable[[], None] | None = None) -> None:
        """Keep a checkbox (or radio) and a boolean answer in step."""
        button.setChecked(bool(self.flow.answers[key]))

        def toggled(on: bool) -> None:
            self.flow.set(key, on)
            if then is not None:
                then()
            self.refresh()

        button.toggled.connect(toggled)

    def scrolling_body(self) -> QVBoxLayout:
        """A layout inside a frameless scroll area filling the page (with the pending line below it),
        so a long page stays usable in a small window or with large fonts."""
        outer = QVBoxLayout(self)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(0, 0, 0, 0)
        self.scroll_area.setWidget(body)
        outer.addWidget(self.scroll_area, 1)
        outer.addWidget(self.pending)
        return layout

    def finish_layout(self, layout: QVBoxLayout) -> None:
        layout.addStretch()
        layout.addWidget(self.pending)


def row_widget(form: QFormLayout, key: str) -> QWidget | None:
    """The column widget holding field ``key`` (for showing or hiding its whole row)."""
    for row in range(form.rowCount()):
        item = form.itemAt(row, QFormLayout.ItemRole.FieldRole)
        widget = item.widget() if item is not None else None
        if widget is not None and widget.objectName() == f"row_{key}":
            return widget
    return None


def show_row(form: QFormLayout, key: str, visible: bool) -> None:
    widget = row_widget(form, key)
    if widget is not None:
        form.setRowVisible(widget, visible)
