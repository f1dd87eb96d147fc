"""A pad the customer signs on with a mouse, a pen or a finger; the signature leaves it as a
PNG image (base64), the form the service report keeps."""

from __future__ import annotations

import base64

from ui.qt import Qt, QtCore, QtGui, QtWidgets

PAD_SIZE = QtCore.QSize(420, 150)
INK = QtGui.QColor("#101828")


class SignaturePad(QtWidgets.QWidget):
    """Strokes drawn on a white pad. ``changed`` fires when the drawing changes."""

    changed = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("signature-pad")
        self.setMinimumSize(PAD_SIZE)
        self.setSizePolicy(
            QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Fixed
        )
        self.setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents, True)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip("The customer signs here with the mouse, a pen or a finger")
        self.strokes: list[list[QtCore.QPointF]] = []
        self._drawing = False

    def sizeHint(self) -> QtCore.QSize:
        return PAD_SIZE

    def is_empty(self) -> bool:
        return not any(len(stroke) > 1 for stroke in self.strokes)

    def clear(self) -> None:
        self.strokes = []
        self.update()
        self.changed.emit()

    # --- drawing ------------------------------------------------------------------------

    def begin(self, point: QtCore.QPointF) -> None:
        self.strokes.append([point])
        self._drawing = True
        self.update()

    def extend(self, point: QtCore.QPointF) -> None:
        if self._drawing and self.strokes:
            self.strokes[-1].append(point)
            self.update()

    def finish(self) -> None:
        if self._drawing:
            self._drawing = False
            self.changed.emit()

    def mousePressEvent(self, event: QtGui.QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.begin(event.position())

    def mouseMoveEvent(self, event: QtGui.QMouseEvent) -> None:
        self.extend(event.position())

    def mouseReleaseEvent(self, event: QtGui.QMouseEvent) -> None:
        self.extend(event.position())
        self.finish()

    def tabletEvent(self, event: QtGui.QTabletEvent) -> None:
        kind = event.type()
        if kind == QtCore.QEvent.Type.TabletPress:
            self.begin(event.position())
        elif kind == QtCore.QEvent.Type.TabletMove:
            self.extend(event.position())
        elif kind == QtCore.QEvent.Type.TabletRelease:
            self.finish()
        event.accept()

    def event(self, event: QtCore.QEvent) -> bool:
        kind = event.type()
        if kind in (
            QtCore.QEvent.Type.TouchBegin,
            QtCore.QEvent.Type.TouchUpdate,
            QtCore.QEvent.Type.TouchEnd,
        ):
            assert isinstance(event, QtGui.QTouchEvent)
            points = event.points()
            if points:
                where = points[0].position()
                if kind == QtCore.QEvent.Type.TouchBegin:
                    self.begin(where)
                elif kind == QtCore.QEvent.Type.TouchUpdate:
                    self.extend(where)
                else:
                    self.extend(where)
                    self.finish()
            event.accept()
            return True
        return super().event(event)

    def paintEvent(self, _event: QtGui.QPaintEvent) -> None:
        painter = QtGui.QPainter(self)
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QtGui.QColor("white"))
        painter.setPen(QtGui.QPen(QtGui.QColor("#d0d5dd"), 1))
        painter.drawRect(self.rect().adjusted(0, 0, -1, -1))
        baseline = self.height() - 30
        painter.drawLine(20, baseline, self.width() - 20, baseline)
        if self.is_empty():
            painter.setPen(QtGui.QColor("#98a2b3"))
            painter.drawText(
                self.rect().adjusted(0, 0, 0, -40),
                Qt.AlignmentFlag.AlignCenter,
                "Sign here",
            )
        self._draw(painter)
        painter.end()

    def _draw(self, painter: QtGui.QPainter) -> None:
        painter.setPen(
            QtGui.QPen(
                INK, 2.4, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin
            )
        )
        for stroke in self.strokes:
            if len(stroke) > 1:
                painter.drawPolyline(QtGui.QPolygonF(stroke))

    # --- the image ------------------------------------------------------------------------

    def image(self) -> QtGui.QImage:
        """The strokes alone, black on white, the size of the pad."""
        size = self.size() if self.width() > 0 else PAD_SIZE
        picture = QtGui.QImage(size, QtGui.QImage.Format.Format_RGB32)
        picture.fill(QtGui.QColor("white"))
        painter = QtGui.QPainter(picture)
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        self._draw(painter)
        painter.end()
        return picture

    def png_base64(self) -> str:
        """The signature as the report keeps it; empty when nothing was drawn."""
        if self.is_empty():
            return ""
        data = QtCore.QByteArray()
        buffer = QtCore.QBuffer(data)
        buffer.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
        self.image().save(buffer, "PNG")  # type: ignore[call-overload]
        buffer.close()
        return base64.b64encode(bytes(data.data())).decode("ascii")


def image_from_base64(text: str) -> QtGui.QImage:
    picture = QtGui.QImage()
    picture.loadFromData(base64.b64decode(text), "PNG")
    return picture
