"""The canvas: the photo with its mask overlays, held keys (pan, compare) and the brush ring; the current tool
(canvas_tools.py, selection_tools.py) gets the mouse; zoom and scrolling come from PhotoView.

Scene coordinates are image coordinates (1 unit = 1 photo pixel), so the side panels can show exactly the region the
canvas shows by sharing a rectangle.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QKeyEvent, QMouseEvent, QPainter, QPalette
from PySide6.QtWidgets import QGraphicsScene, QWidget

from .canvas_items import EXCLUDE_COLOUR, BrushRingItem, MaskOverlayItem, PhotoItem
from .canvas_tools import (PAINT_TOOLS, InspectHandler, LassoHandler, PaintHandler, RectHandler, Tool,
                           ToolHandler)
from .document import Document
from .photo_view import PhotoView
from .selection_tools import (DEFAULT_TOLERANCE, MAX_TOLERANCE, MIN_TOLERANCE, ObjectHandler, SelectionRunner,
                              WandHandler)


MIN_BRUSH, MAX_BRUSH = 1, 1000
BRUSH_STEP = 1.2                      # [ and ] scale the brush by this much (at least one pixel)
EMPTY_TEXT = "Open a photo (Ctrl+O) or drop one here"


class Canvas(PhotoView):
    brushSizeChanged = Signal(int)
    comparingChanged = Signal(bool)          # True while the original photo is shown
    documentChanged = Signal(object)         # the Document shown, or None
    toolChanged = Signal(object)             # Tool
    inspectHovered = Signal(QPointF)         # image point under the pointer, with the inspect tool
    inspectClicked = Signal(QPointF)         # image point clicked with the inspect tool
    strokeFinished = Signal(str, bool)       # a brush stroke changed pixels: layer, whether it erased
    toleranceChanged = Signal(int)           # the magic wand's
    message = Signal(str)                    # a tool's hint or progress, for the status bar

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.WheelFocus)
        self.setFrameShape(PhotoView.Shape.NoFrame)
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
        self._space_held = False
        self._comparing = False
        self._hovering = False  # the pointer is over the viewport (set by moves, cleared on leave)
        self._panning = False
        self._pressed = False   # the left button is down for the current tool
        self._last_view_pos = QPointF()
        self._tolerance = DEFAULT_TOLERANCE
        self.selections = SelectionRunner(self)   # Select Object and Magic Wand compute here, off the UI thread
        self.selections.failed.connect(self.message)
        scene = self.scene()
        self._handlers: dict[Tool, ToolHandler] = {
            **{tool: PaintHandler(self, tool, self.strokeFinished.emit) for tool in PAINT_TOOLS},
            Tool.RECT: RectHandler(self, scene),
            Tool.LASSO: LassoHandler(self, scene),
            Tool.INSPECT: InspectHandler(self.inspectHovered.emit, self.inspectClicked.emit),
            Tool.OBJECT: ObjectHandler(self, scene, self.selections, self.message.emit),
            Tool.WAND: WandHandler(self, self.selections, self.message.emit),
        }
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
            self.set_photo_size(None)
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
        document.imageChanged.connect(self._on_image_changed)
        document.maskChanged.connect(self._on_mask_changed)
        self.set_photo_size((document.width, document.height))
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
        self._handler().activate()
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

    def tolerance(self) -> int:
        return self._tolerance

    def set_tolerance(self, tolerance: int) -> None:
        tolerance = int(min(max(tolerance, MIN_TOLERANCE), MAX_TOLERANCE))
        if tolerance != self._tolerance:
            self._tolerance = tolerance
            self.toleranceChanged.emit(tolerance)

    def scale_brush(self, factor: float) -> None:
        """Grow or shrink the brush by ``factor``, by at least one pixel ([ and ])."""
        size = self._brush_size
        new = round(size * factor)
        if new == size:
            new = size + (1 if factor > 1 else -1)
        self.set_brush_size(new)

    def _zoom_done(self) -> None:
        self._update_ring()  # the ring shows the brush's size on screen
        super()._zoom_done()

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
    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self._document is None:
            return
        self._last_view_pos = event.position()
        button = event.button()
        if button == Qt.MouseButton.MiddleButton or (button == Qt.MouseButton.LeftButton and self._space_held):
            self._panning = True
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            self._update_ring()
            return
        if button != Qt.MouseButton.LeftButton or self._comparing:
            return
        self._pressed = True
        self._handler().press(self._scene_pos(event), event.modifiers())

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        scene_pos = self._scene_pos(event)
        self._hovering = True
        self._ring.setPos(scene_pos)
        self._update_ring()
        if self._panning:
            delta = (event.position() - self._last_view_pos).toPoint()
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - delta.x())
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - delta.y())
        elif self._pressed:
            self._handler().drag(scene_pos)
        elif self._document is not None and not self._comparing:
            self._handler().hover(scene_pos)
        self._last_view_pos = event.position()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._panning:
            self._panning = False
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor if self._space_held
                                      else Qt.CursorShape.CrossCursor)
            self._update_ring()
        elif self._pressed:
            self._pressed = False
            self._handler().release(self._scene_pos(event))

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self._document is None or not self._handler().double_click(self._scene_pos(event)):
            self.mousePressEvent(event)

    def event(self, event: QEvent) -> bool:
        # Enter and Escape end a selection being drawn before they reach the window's shortcuts (Cancel Fill)
        if (event.type() == QEvent.Type.ShortcutOverride and self._handler().busy()
                and event.key() in (Qt.Key.Key_Escape, Qt.Key.Key_Return, Qt.Key.Key_Enter)):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = True
            if not self._panning:
                self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
                self._update_ring()
        elif key == Qt.Key.Key_Backslash:
            if not event.isAutoRepeat():
                self.set_comparing(True)
        elif not self._handler().key(key):
            super().keyPressEvent(event)
            return
        event.accept()

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.isAutoRepeat():
            event.accept()
            return
        if event.key() == Qt.Key.Key_Space:
            self._space_held = False
            if not self._panning:
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

    def view_distance(self, a: QPointF, b: QPointF) -> int:
        """Manhattan distance in view pixels between two image points (how far the pointer really moved)."""
        return (self.mapFromScene(a) - self.mapFromScene(b)).manhattanLength()

    def _scene_pos(self, event: QMouseEvent) -> QPointF:
        return self.mapToScene(event.position().toPoint())

    def _handler(self) -> ToolHandler:
        return self._handlers[self._tool]

    def _cancel_gesture(self) -> None:
        self._pressed = False
        self._handler().cancel()

    def _update_ring(self) -> None:
        visible = (self._document is not None and self._tool in PAINT_TOOLS
                   and not self._space_held and not self._panning and not self._comparing
                   and self._hovering)
        self._ring.set_diameter(self._brush_size * self.transform().m11())
        self._ring.setVisible(visible)
