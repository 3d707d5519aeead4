"""What each canvas tool does with the mouse: brush strokes, rectangle and lasso selections, and the inspector's
pointer. The canvas owns the view (zoom, pan, held keys) and hands each press, drag, hover and release to the
current tool's handler in image coordinates.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from enum import Enum
from typing import Protocol

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainterPath, QPen
from PySide6.QtWidgets import QAbstractGraphicsShapeItem, QGraphicsPathItem, QGraphicsRectItem, QGraphicsScene

from .document import Document
from .raster import polygon_footprint, rect_footprint, segment_footprint


class Tool(Enum):
    BRUSH = "brush"
    ERASER = "eraser"
    RECT = "rect"
    LASSO = "lasso"
    EXCLUDE = "exclude"   # paints the exclude layer: background the fill must not borrow from
    INSPECT = "inspect"   # paints nothing: reports the pointer for the attention inspector
    OBJECT = "object"     # a box around an object: GrabCut proposes its mask
    WAND = "wand"         # a click: the connected region of similar colour


PAINT_TOOLS = (Tool.BRUSH, Tool.ERASER, Tool.EXCLUDE)
CLICK_SLOP = 4  # view pixels a press may move and still count as a click
Modifiers = Qt.KeyboardModifier


class ToolHost(Protocol):
    """What a tool needs from the canvas."""

    def document(self) -> Document | None: ...

    def brush_size(self) -> int: ...

    def view_distance(self, a: QPointF, b: QPointF) -> int:
        """Manhattan distance in view pixels between two image points."""
        ...


def preview_item(item: QAbstractGraphicsShapeItem, scene: QGraphicsScene) -> QAbstractGraphicsShapeItem:
    """A selection's outline while it is drawn: dashed white over a light tint of the mask colour, above the masks."""
    pen = QPen(QColor(255, 255, 255), 1.0, Qt.PenStyle.DashLine)
    pen.setCosmetic(True)
    item.setPen(pen)
    item.setBrush(QBrush(QColor(229, 57, 107, 60)))
    item.setZValue(5)
    item.setVisible(False)
    scene.addItem(item)
    return item


class ToolHandler:
    """A tool's reaction to the mouse; the defaults do nothing."""

    def press(self, at: QPointF, modifiers: Modifiers) -> None:
        """The left button went down at ``at``."""

    def drag(self, at: QPointF) -> None:
        """The pointer moved with the button down."""

    def hover(self, at: QPointF) -> None:
        """The pointer moved with no button down."""

    def release(self, at: QPointF) -> None:
        """The button came up."""

    def double_click(self, at: QPointF) -> bool:
        """A double-click; False lets the canvas treat it as another press."""
        return False

    def key(self, key: int) -> bool:
        """Enter or Escape while this tool is current; True when the key was used."""
        return False

    def busy(self) -> bool:
        """Whether a gesture is under way that Enter or Escape would end (their shortcuts then wait)."""
        return False

    def activate(self) -> None:
        """The tool was chosen."""

    def cancel(self) -> None:
        """Abandon the gesture in progress (tool change, new photo, comparison)."""


class PaintHandler(ToolHandler):
    """Brush, eraser and exclude brush: a live stroke, recorded as one undoable edit when the button comes up."""

    def __init__(self, host: ToolHost, tool: Tool, on_stroke_end: Callable[[str, bool], None]) -> None:
        self._host, self._tool, self._on_stroke_end = host, tool, on_stroke_end
        self._last: QPointF | None = None
        self._subtract = False

    @property
    def layer(self) -> str:
        return "exclude" if self._tool == Tool.EXCLUDE else "mask"

    def press(self, at: QPointF, modifiers: Modifiers) -> None:
        self._subtract = bool(modifiers & Modifiers.AltModifier)
        self._host.document().begin_stroke(self.layer)
        self._last = at
        self._dab(at, at)

    def drag(self, at: QPointF) -> None:
        if self._last is not None:
            self._dab(self._last, at)
            self._last = at

    def release(self, at: QPointF) -> None:
        self._finish(notify=True)

    def cancel(self) -> None:
        self._finish(notify=False)

    def _finish(self, notify: bool) -> None:
        if self._last is None:
            return
        self._last = None
        document = self._host.document()
        if document is None:
            return
        if document.end_stroke(self._text()) and notify:
            self._on_stroke_end(self.layer, self._erasing())

    def _erasing(self) -> bool:
        return self._tool == Tool.ERASER or self._subtract

    def _text(self) -> str:
        if self._tool == Tool.EXCLUDE:
            return "Erase exclude" if self._subtract else "Exclude stroke"
        return "Erase" if self._erasing() else "Brush stroke"

    def _dab(self, start: QPointF, end: QPointF) -> None:
        footprint = segment_footprint((start.x(), start.y()), (end.x(), end.y()), self._host.brush_size())
        self._host.document().paint(footprint, not self._erasing())


class BoxHandler(ToolHandler, ABC):
    """A rectangle dragged from one corner to the other, previewed as it goes; Alt at the press subtracts and
    Escape abandons. What the box does is ``finish``'s."""

    def __init__(self, host: ToolHost, scene: QGraphicsScene) -> None:
        self._host = host
        self._preview = preview_item(QGraphicsRectItem(), scene)
        self._start: QPointF | None = None
        self._subtract = False

    def press(self, at: QPointF, modifiers: Modifiers) -> None:
        self._subtract = bool(modifiers & Modifiers.AltModifier)
        self._start = at
        self._preview.setRect(QRectF(at, at))
        self._preview.setVisible(True)

    def drag(self, at: QPointF) -> None:
        if self._start is not None:
            self._preview.setRect(QRectF(self._start, at).normalized())

    def release(self, at: QPointF) -> None:
        start, self._start = self._start, None
        if start is not None:
            self.finish(start, at)

    @abstractmethod
    def finish(self, start: QPointF, end: QPointF) -> None:
        """The button came up at ``end`` after a press at ``start`` (each box tool says what that does)."""

    def key(self, key: int) -> bool:
        if key == Qt.Key.Key_Escape and self._start is not None:
            self.cancel()
            return True
        return False

    def busy(self) -> bool:
        return self._start is not None

    def cancel(self) -> None:
        self._start = None
        self._preview.setVisible(False)


class RectHandler(BoxHandler):
    """Drag a rectangle to mask it; Alt subtracts."""

    def finish(self, start: QPointF, end: QPointF) -> None:
        self._preview.setVisible(False)
        footprint = rect_footprint((start.x(), start.y()), (end.x(), end.y()))
        self._host.document().apply_footprint("mask", footprint, not self._subtract,
                                              "Subtract rectangle" if self._subtract else "Rectangle")


class LassoHandler(ToolHandler):
    """Drag a free shape; or click corners, then double-click, click the first corner or press Enter to close
    the polygon. Alt subtracts; Escape abandons."""

    def __init__(self, host: ToolHost, scene: QGraphicsScene) -> None:
        self._host = host
        self._preview = preview_item(QGraphicsPathItem(), scene)
        self._points: list[QPointF] = []
        self._dragging = False       # a free-hand drag is under way
        self._polygon = False        # corners are being clicked
        self._subtract = False

    def press(self, at: QPointF, modifiers: Modifiers) -> None:
        if self._polygon:
            self._add_vertex(at)
            return
        self._subtract = bool(modifiers & Modifiers.AltModifier)
        self._dragging = True
        self._points = [at]
        self._show(None)

    def drag(self, at: QPointF) -> None:
        # keep the last point until the pointer has moved enough, so slow drags still add vertices
        if self._dragging and self._host.view_distance(self._points[-1], at) >= 2:
            self._points.append(at)
            self._show(None)

    def hover(self, at: QPointF) -> None:
        if self._polygon:
            self._show(at)

    def release(self, at: QPointF) -> None:
        if not self._dragging:
            return
        self._dragging = False
        if self._host.view_distance(self._points[0], at) < CLICK_SLOP:
            # a click, not a drag: start a polygon; more clicks add corners
            self._polygon = True
            self._points = self._points[:1]
            self._show(at)
        else:
            self._points.append(at)
            self._commit()

    def double_click(self, at: QPointF) -> bool:
        if not self._polygon:
            return False
        # the double-click's spot is the last corner (dropped if the first click already added it)
        self._add_vertex(at)
        if self._polygon:
            self._commit()
        return True

    def key(self, key: int) -> bool:
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self._polygon:
            self._commit()
        elif key == Qt.Key.Key_Escape and self.busy():
            self.cancel()
        else:
            return False
        return True

    def busy(self) -> bool:
        return self._polygon or self._dragging

    def cancel(self) -> None:
        self._points = []
        self._dragging = self._polygon = False
        self._preview.setVisible(False)

    def _add_vertex(self, at: QPointF) -> None:
        if len(self._points) >= 3 and self._host.view_distance(at, self._points[0]) < 2 * CLICK_SLOP:
            self._commit()  # clicking the first corner closes the polygon
            return
        if self._host.view_distance(at, self._points[-1]) >= 1:
            self._points.append(at)
        self._show(at)

    def _commit(self) -> None:
        points = [(p.x(), p.y()) for p in self._points]
        subtract = self._subtract
        self.cancel()
        self._host.document().apply_footprint("mask", polygon_footprint(points), not subtract,
                                              "Subtract lasso" if subtract else "Lasso")

    def _show(self, cursor: QPointF | None) -> None:
        path = QPainterPath(self._points[0])
        for point in self._points[1:]:
            path.lineTo(point)
        if cursor is not None:
            path.lineTo(cursor)
        path.closeSubpath()
        self._preview.setPath(path)
        self._preview.setVisible(True)


class InspectHandler(ToolHandler):
    """Paints nothing: reports where the pointer is and where it clicks, for the attention inspector."""

    def __init__(self, hovered: Callable[[QPointF], None], clicked: Callable[[QPointF], None]) -> None:
        self._hovered, self._clicked = hovered, clicked

    def press(self, at: QPointF, modifiers: Modifiers) -> None:
        self._clicked(at)

    def hover(self, at: QPointF) -> None:
        self._hovered(at)
