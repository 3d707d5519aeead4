"""The canvas: the photo with its mask overlays, the mask tools, zoom and pan.

Scene coordinates are image coordinates (1 unit = 1 photo pixel), so the side panels can show exactly the region the
canvas shows by sharing a rectangle. 100 % means one photo pixel per physical screen pixel, also on high-DPI screens.
"""
from __future__ import annotations

from enum import Enum

from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import (QBrush, QColor, QKeyEvent, QMouseEvent, QPainter, QPainterPath, QPalette, QPen,
                           QResizeEvent, QTransform, QWheelEvent)
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsRectItem, QGraphicsScene, QGraphicsView, QWidget

from .canvas_items import EXCLUDE_COLOUR, BrushRingItem, MaskOverlayItem, PhotoItem
from .document import Document
from .raster import polygon_footprint, rect_footprint, segment_footprint


class Tool(Enum):
    BRUSH = "brush"
    ERASER = "eraser"
    RECT = "rect"
    LASSO = "lasso"
    EXCLUDE = "exclude"   # paints the exclude layer: background the fill must not borrow from
    INSPECT = "inspect"   # paints nothing: reports the pointer for the attention inspector


PAINT_TOOLS = (Tool.BRUSH, Tool.ERASER, Tool.EXCLUDE)

MIN_BRUSH, MAX_BRUSH = 1, 1000
MAX_ZOOM_PERCENT = 3200.0
WHEEL_STEP = 1.2 ** (1 / 120)        # one notch (120 units) zooms by 20 %
CLICK_SLOP = 4                        # view pixels a press may move and still count as a click
EMPTY_TEXT = "Open a photo (Ctrl+O) or drop one here"


class Canvas(QGraphicsView):
    zoomChanged = Signal(float)              # percent, see the module docstring
    visibleRegionChanged = Signal(QRectF)    # the image rectangle the viewport shows
    brushSizeChanged = Signal(int)
    comparingChanged = Signal(bool)          # True while the original photo is shown
    documentChanged = Signal(object)         # the Document shown, or None
    toolChanged = Signal(object)             # Tool
    inspectHovered = Signal(QPointF)         # image point under the pointer, with the inspect tool
    inspectClicked = Signal(QPointF)         # image point clicked with the inspect tool

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.WheelFocus)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        self.viewport().setCursor(Qt.CursorShape.CrossCursor)
        self._document: Document | None = None
        self._photo: PhotoItem | None = None
        self._overlay: MaskOverlayItem | None = None
        self._exclude_overlay: MaskOverlayItem | None = None
        self._ring = BrushRingItem()
        self._ring.setVisible(False)
        self.scene().addItem(self._ring)
        self._tool = Tool.BRUSH
        self._brush_size = 40
        self._fit_mode = True
        self._space_held = False
        self._comparing = False
        self._hovering = False  # the pointer is over the viewport (set by moves, cleared on leave)
        # the gesture in progress: None, "paint", "pan", "rect", "lasso"
        self._gesture: str | None = None
        self._press_view_pos = QPoint()
        self._last_scene_pos = QPointF()
        self._last_view_pos = QPoint()
        self._subtract = False
        self._points: list[QPointF] = []     # lasso path, or the vertices of a polygon being clicked
        self._polygon_mode = False
        self._preview_rect = QGraphicsRectItem()
        self._preview_path = QGraphicsPathItem()
        for item in (self._preview_rect, self._preview_path):
            pen = QPen(QColor(255, 255, 255), 1.0, Qt.PenStyle.DashLine)
            pen.setCosmetic(True)
            item.setPen(pen)
            item.setBrush(QBrush(QColor(229, 57, 107, 60)))
            item.setZValue(5)
            item.setVisible(False)
            self.scene().addItem(item)
        self.horizontalScrollBar().valueChanged.connect(self._emit_visible_region)
        self.verticalScrollBar().valueChanged.connect(self._emit_visible_region)
        self._apply_palette()

    # -- document ----------------------------------------------------------------------------------------------
    def set_document(self, document: Document | None) -> None:
        self._cancel_gesture()
        if self._document is not None:
            self._document.imageChanged.disconnect(self._on_image_changed)
            self._document.maskChanged.disconnect(self._on_mask_changed)
        for item in (self._photo, self._overlay, self._exclude_overlay):
            if item is not None:
                self.scene().removeItem(item)
        self._photo = self._overlay = self._exclude_overlay = None
        self._document = document
        self._comparing = False
        if document is None:
            self.setSceneRect(QRectF())
            self.viewport().update()
            self.documentChanged.emit(None)
            return
        self._photo = PhotoItem(document.image, document.loaded.rgb)
        self._overlay = MaskOverlayItem(document.mask)
        self._overlay.setZValue(1)
        # below the hole: where both are painted, the hole is what the fill acts on
        self._exclude_overlay = MaskOverlayItem(document.exclude, EXCLUDE_COLOUR)
        self._exclude_overlay.setZValue(0.5)
        for item in (self._photo, self._exclude_overlay, self._overlay):
            self.scene().addItem(item)
        self.setSceneRect(QRectF(0, 0, document.width, document.height))
        document.imageChanged.connect(self._on_image_changed)
        document.maskChanged.connect(self._on_mask_changed)
        self.fit()
        self.documentChanged.emit(document)

    def document(self) -> Document | None:
        return self._document

    def _on_image_changed(self, rect: QRect) -> None:
        self._photo.write(self._document.image, rect)

    def _on_mask_changed(self, layer: str, rect: QRect) -> None:
        if layer == "mask":
            self._overlay.write(self._document.mask, rect)
        elif layer == "exclude":
            self._exclude_overlay.write(self._document.exclude, rect)

    # -- tools ---------------------------------------------------------------------------------------------------
    def tool(self) -> Tool:
        return self._tool

    def set_tool(self, tool: Tool) -> None:
        self._cancel_gesture()
        self._tool = tool
        self._update_ring()
        self.toolChanged.emit(tool)

    def brush_size(self) -> int:
        return self._brush_size

    def set_brush_size(self, size: int) -> None:
        size = int(min(max(size, MIN_BRUSH), MAX_BRUSH))
        if size != self._brush_size:
            self._brush_size = size
            self._update_ring()
            self.brushSizeChanged.emit(size)

    # -- zoom and view ---------------------------------------------------------------------------------------------
    def zoom_percent(self) -> float:
        return self.transform().m11() * self.devicePixelRatioF() * 100.0

    def visible_region(self) -> QRectF:
        return self.mapToScene(self.viewport().rect()).boundingRect()

    def fit(self) -> None:
        """Show the whole photo, and keep doing so when the window is resized until the user zooms."""
        if self._document is None:
            return
        view = self.viewport().rect()
        margin = 8
        scale = min((view.width() - 2 * margin) / self._document.width,
                    (view.height() - 2 * margin) / self._document.height)
        self._set_scale(max(scale, 1e-3))
        self.centerOn(self.sceneRect().center())
        self._fit_mode = True
        self._zoom_done()

    def actual_pixels(self) -> None:
        """100 %: one photo pixel per physical screen pixel, centred on what is in the middle now."""
        self.zoom_to_percent(100.0)

    def zoom_to_percent(self, percent: float, anchor: QPointF | None = None) -> None:
        if self._document is None:
            return
        anchor = anchor if anchor is not None else QPointF(self.viewport().rect().center())
        scene_anchor = self.mapToScene(anchor.toPoint())
        percent = min(max(percent, self._min_zoom_percent()), MAX_ZOOM_PERCENT)
        self._set_scale(percent / 100.0 / self.devicePixelRatioF())
        # keep the photo point under the anchor where it was
        moved = self.mapFromScene(scene_anchor) - anchor.toPoint()
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + moved.x())
        self.verticalScrollBar().setValue(self.verticalScrollBar().value() + moved.y())
        self._fit_mode = False
        self._zoom_done()

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        self.zoom_to_percent(self.zoom_percent() * factor, anchor)

    def zoom_at_scene(self, factor: float, scene_pos: QPointF) -> None:
        """Zoom keeping an image point still (used by the side panels)."""
        self.zoom_by(factor, QPointF(self.mapFromScene(scene_pos)))

    def show_region(self, region: QRectF) -> None:
        """Zoom and scroll so ``region`` (image coordinates) fills the view."""
        if self._document is None or region.isEmpty():
            return
        view = self.viewport().rect()
        scale = min(view.width() / region.width(), view.height() / region.height()) * 0.95
        percent = min(max(scale * self.devicePixelRatioF() * 100, self._min_zoom_percent()), MAX_ZOOM_PERCENT)
        self._set_scale(percent / 100.0 / self.devicePixelRatioF())
        self.centerOn(region.center())
        self._fit_mode = False
        self._zoom_done()

    def pan_by_scene(self, dx: float, dy: float) -> None:
        """Scroll by an offset in image pixels (used by the side panels)."""
        scale = self.transform().m11()
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + round(dx * scale))
        self.verticalScrollBar().setValue(self.verticalScrollBar().value() + round(dy * scale))

    def _min_zoom_percent(self) -> float:
        if self._document is None:
            return 1.0
        view = self.viewport().rect()
        fit = min(view.width() / self._document.width, view.height() / self._document.height)
        return min(fit * self.devicePixelRatioF() * 100.0 * 0.5, 10.0)

    def _set_scale(self, scale: float) -> None:
        self.setTransform(QTransform.fromScale(scale, scale))

    def _zoom_done(self) -> None:
        self._update_ring()
        self.zoomChanged.emit(self.zoom_percent())
        self._emit_visible_region()

    def _emit_visible_region(self) -> None:
        if self._document is not None:
            self.visibleRegionChanged.emit(self.visible_region())

    # -- before / after -----------------------------------------------------------------------------------------
    def is_comparing(self) -> bool:
        return self._comparing

    def set_comparing(self, comparing: bool) -> None:
        """Show the photo as opened (no mask) instead of the current one."""
        if self._document is None or comparing == self._comparing:
            return
        self._cancel_gesture()
        self._comparing = comparing
        self._photo.set_comparing(comparing)
        self._overlay.setVisible(not comparing)
        self._exclude_overlay.setVisible(not comparing)
        self._update_ring()
        self.comparingChanged.emit(comparing)

    # -- events --------------------------------------------------------------------------------------------------
    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._fit_mode:
            self.fit()
        else:
            self._emit_visible_region()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()

    def wheelEvent(self, event: QWheelEvent) -> None:
        delta = event.angleDelta().y() or event.angleDelta().x()
        if self._document is not None and delta:
            self.zoom_by(WHEEL_STEP ** delta, event.position())
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self._document is None:
            return
        pos = event.position().toPoint()
        scene_pos = self.mapToScene(pos)
        self._press_view_pos = pos
        self._last_view_pos = pos
        self._last_scene_pos = scene_pos
        button = event.button()
        if button == Qt.MouseButton.MiddleButton or (button == Qt.MouseButton.LeftButton and self._space_held):
            self._gesture = "pan"
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            self._update_ring()
            return
        if button != Qt.MouseButton.LeftButton or self._comparing:
            return
        self._subtract = bool(event.modifiers() & Qt.KeyboardModifier.AltModifier)
        if self._tool in PAINT_TOOLS:
            self._gesture = "paint"
            self._document.begin_stroke("exclude" if self._tool == Tool.EXCLUDE else "mask")
            self._dab(scene_pos, scene_pos)
        elif self._tool == Tool.INSPECT:
            self.inspectClicked.emit(scene_pos)
        elif self._tool == Tool.RECT:
            self._gesture = "rect"
            self._preview_rect.setRect(QRectF(scene_pos, scene_pos))
            self._preview_rect.setVisible(True)
        elif self._tool == Tool.LASSO:
            if self._polygon_mode:
                self._add_vertex(scene_pos)
            else:
                self._gesture = "lasso"
                self._points = [scene_pos]
                self._update_path_preview(None)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position().toPoint()
        scene_pos = self.mapToScene(pos)
        self._hovering = True
        self._ring.setPos(scene_pos)
        self._update_ring()
        if self._gesture == "pan":
            delta = pos - self._last_view_pos
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - delta.x())
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - delta.y())
        elif self._gesture == "paint":
            self._dab(self._last_scene_pos, scene_pos)
        elif self._gesture == "rect":
            self._preview_rect.setRect(QRectF(self._press_scene_pos(), scene_pos).normalized())
        elif self._gesture == "lasso":
            if (pos - self._last_view_pos).manhattanLength() >= 2:
                self._points.append(scene_pos)
                self._update_path_preview(None)
            else:
                return  # keep the last point, so slow drags still add vertices once they have moved enough
        elif self._polygon_mode:
            self._update_path_preview(scene_pos)
        elif self._tool == Tool.INSPECT and self._document is not None and not self._comparing:
            self.inspectHovered.emit(scene_pos)
        self._last_view_pos = pos
        self._last_scene_pos = scene_pos

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        gesture, self._gesture = self._gesture, None
        scene_pos = self.mapToScene(event.position().toPoint())
        if gesture == "pan":
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor if self._space_held
                                      else Qt.CursorShape.CrossCursor)
            self._update_ring()
        elif gesture == "paint":
            self._document.end_stroke(self._stroke_text())
        elif gesture == "rect":
            self._preview_rect.setVisible(False)
            start = self._press_scene_pos()
            footprint = rect_footprint((start.x(), start.y()), (scene_pos.x(), scene_pos.y()))
            self._document.apply_footprint("mask", footprint, not self._subtract,
                                           "Subtract rectangle" if self._subtract else "Rectangle")
        elif gesture == "lasso":
            moved = (event.position().toPoint() - self._press_view_pos).manhattanLength()
            if moved < CLICK_SLOP:
                # a click, not a drag: start a polygon; more clicks add vertices, double-click or Enter closes it
                self._polygon_mode = True
                self._points = [self._press_scene_pos()]
                self._update_path_preview(scene_pos)
            else:
                self._points.append(scene_pos)
                self._commit_polygon()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self._polygon_mode:
            # the double-click's spot is the last corner (dropped if the first click already added it)
            self._add_vertex(self.mapToScene(event.position().toPoint()))
            if self._polygon_mode:
                self._commit_polygon()
        else:
            self.mousePressEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = True
            if self._gesture is None:
                self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
                self._update_ring()
        elif key == Qt.Key.Key_Backslash:
            if not event.isAutoRepeat():
                self.set_comparing(True)
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self._polygon_mode:
            self._commit_polygon()
        elif key == Qt.Key.Key_Escape and (self._polygon_mode or self._gesture in ("rect", "lasso")):
            self._cancel_gesture()
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.isAutoRepeat():
            event.accept()
            return
        if event.key() == Qt.Key.Key_Space:
            self._space_held = False
            if self._gesture != "pan":
                self.viewport().setCursor(Qt.CursorShape.CrossCursor)
            self._update_ring()
        elif event.key() == Qt.Key.Key_Backslash:
            self.set_comparing(False)
        else:
            super().keyReleaseEvent(event)

    def focusOutEvent(self, event) -> None:
        # a key released while another widget has focus never reaches us: do not stay stuck in "held" modes
        self._space_held = False
        self.set_comparing(False)
        super().focusOutEvent(event)

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Leave:
            self._hovering = False
            self._ring.setVisible(False)
        return super().viewportEvent(event)

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        painter.fillRect(rect, self.backgroundBrush())
        if self._document is None:
            painter.save()
            painter.resetTransform()
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter, EMPTY_TEXT)
            painter.restore()

    # -- helpers ---------------------------------------------------------------------------------------------------
    def _apply_palette(self) -> None:
        window = self.palette().color(QPalette.ColorRole.Window)
        # a neutral backdrop a step darker than the window, in light and dark themes alike
        self.setBackgroundBrush(window.darker(115 if window.lightness() > 128 else 130))

    def _erasing(self) -> bool:
        return self._tool == Tool.ERASER or self._subtract

    def _stroke_text(self) -> str:
        if self._tool == Tool.EXCLUDE:
            return "Erase exclude" if self._subtract else "Exclude stroke"
        return "Erase" if self._erasing() else "Brush stroke"

    def _press_scene_pos(self) -> QPointF:
        return self.mapToScene(self._press_view_pos)

    def _dab(self, start: QPointF, end: QPointF) -> None:
        footprint = segment_footprint((start.x(), start.y()), (end.x(), end.y()), self._brush_size)
        self._document.paint(footprint, not self._erasing())

    def _add_vertex(self, scene_pos: QPointF) -> None:
        first = self.mapFromScene(self._points[0])
        if len(self._points) >= 3 and (self.mapFromScene(scene_pos) - first).manhattanLength() < 2 * CLICK_SLOP:
            self._commit_polygon()  # clicking the first vertex closes the polygon
            return
        if (self.mapFromScene(scene_pos) - self.mapFromScene(self._points[-1])).manhattanLength() >= 1:
            self._points.append(scene_pos)
        self._update_path_preview(scene_pos)

    def _commit_polygon(self) -> None:
        points = [(p.x(), p.y()) for p in self._points]
        subtract = self._subtract
        self._cancel_gesture()
        self._document.apply_footprint("mask", polygon_footprint(points), not subtract,
                                       "Subtract lasso" if subtract else "Lasso")

    def _update_path_preview(self, cursor: QPointF | None) -> None:
        path = QPainterPath(self._points[0])
        for point in self._points[1:]:
            path.lineTo(point)
        if cursor is not None:
            path.lineTo(cursor)
        path.closeSubpath()
        self._preview_path.setPath(path)
        self._preview_path.setVisible(True)

    def _cancel_gesture(self) -> None:
        if self._gesture == "paint" and self._document is not None:
            self._document.end_stroke(self._stroke_text())
        self._gesture = None
        self._polygon_mode = False
        self._points = []
        self._preview_rect.setVisible(False)
        self._preview_path.setVisible(False)

    def _update_ring(self) -> None:
        visible = (self._document is not None and self._tool in PAINT_TOOLS
                   and not self._space_held and self._gesture != "pan" and not self._comparing
                   and self._hovering)
        self._ring.set_diameter(self._brush_size * self.transform().m11())
        self._ring.setVisible(visible)
