"""A small throughput graph: received and sent rate over the last couple of minutes."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QPalette, QPen, QPolygonF
from PySide6.QtWidgets import QWidget

from wizard.gui.flow.format import format_rate
from wizard.gui.flow.sessions import HISTORY_POINTS
from wizard.gui.theme import graph_colors


class ThroughputGraph(QWidget):
    """Two lines (in, out) scaled to the largest rate shown; colours follow the theme."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("throughputGraph")
        self.setAccessibleName(self.tr("Throughput graph"))
        self.setMinimumHeight(90)
        self.points: list[tuple[float, float, float]] = []

    def sizeHint(self) -> QSize:
        return QSize(360, 120)

    def set_points(self, points: Iterable[tuple[float, float, float]]) -> None:
        self.points = list(points)[-HISTORY_POINTS:]
        rate_in, rate_out = (self.points[-1][1], self.points[-1][2]) if self.points else (0.0, 0.0)
        self.setAccessibleDescription(
            self.tr("Receiving {received}, sending {sent}").format(received=format_rate(rate_in), sent=format_rate(rate_out))
        )
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        area = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        painter.fillRect(area, palette.color(QPalette.ColorRole.Base))
        grid = QPen(palette.color(QPalette.ColorRole.Mid))
        grid.setStyle(Qt.PenStyle.DotLine)
        painter.setPen(grid)
        for i in range(1, 4):
            y = area.top() + area.height() * i / 4
            painter.drawLine(QPointF(area.left(), y), QPointF(area.right(), y))
        painter.setPen(QPen(palette.color(QPalette.ColorRole.Mid)))
        painter.drawRect(area)
        top = max([max(p[1], p[2]) for p in self.points] + [1.0])
        plot = area.adjusted(2, 18, -2, -4)
        received, sent = graph_colors(palette)
        for index, color in ((1, received), (2, sent)):
            if len(self.points) < 2:
                break
            line = QPolygonF()
            for n, point in enumerate(self.points):
                x = plot.left() + plot.width() * (n + HISTORY_POINTS - len(self.points)) / (HISTORY_POINTS - 1)
                y = plot.bottom() - plot.height() * point[index] / top
                line.append(QPointF(x, y))
            painter.setPen(QPen(color, 2))
            painter.drawPolyline(line)
        if not self.points:
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter, self.tr("No traffic to show (not connected)"))
            painter.end()
            return
        now_in, now_out = self.points[-1][1], self.points[-1][2]
        painter.setPen(received)
        text_y = area.top() + 14
        label_in = self.tr("↓ in {rate}").format(rate=format_rate(now_in))
        painter.drawText(QPointF(area.left() + 6, text_y), label_in)
        painter.setPen(sent)
        offset = painter.fontMetrics().horizontalAdvance(label_in) + 18
        painter.drawText(QPointF(area.left() + 6 + offset, text_y), self.tr("↑ out {rate}").format(rate=format_rate(now_out)))
        painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
        scale = self.tr("max {rate}").format(rate=format_rate(top))
        painter.drawText(QPointF(area.right() - painter.fontMetrics().horizontalAdvance(scale) - 6, text_y), scale)
        painter.end()
