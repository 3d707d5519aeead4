"""The evidence panels: coarse output, refined output and the flow of the last fill, with the flow's colour-wheel
legend. The flow panel shows where the texture stage copied each pixel from when the fill had that stage, or, at
the user's choice (and always without it), where the network's contextual attention borrowed from.

Each panel lives in image coordinates and shows the same image rectangle as the canvas, so one glance compares the
same pixels; zooming or dragging in a panel asks the canvas to move, and the canvas moves every panel.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QImage, QMouseEvent, QPainter, QPalette, QPen, QPixmap, QResizeEvent, QWheelEvent
from PySide6.QtWidgets import (QButtonGroup, QGraphicsPixmapItem, QGraphicsRectItem, QGraphicsScene, QGraphicsView,
                               QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget)

from inpaint_core.flow import wheel_legend

from .canvas_items import CrosshairItem
from .document import FillEvidence
from .photo_view import WHEEL_STEP
from .qimage import rgb_qimage

# What each panel shows: the FillEvidence field, the panel's title, and what it means.
PANELS = {
    "coarse": ("Coarse", "The coarse network's output over the processed region of the last fill: a blurry first "
                         "guess."),
    "refined": ("Refined", "The refinement network's output over the processed region: the coarse guess sharpened "
                           "with patches copied by contextual attention. The hole's pixels become the photo."),
    "flow_rgb": ("Flow", "Where each hole pixel was copied from: by the texture stage, or by the network's "
                         "contextual attention. The colour is the direction (see the wheel), paler means nearer; white "
                         "copies from right next to itself."),
}
# The flow panel's two views: the FillEvidence field, the switch's label, and its tooltip.
FLOWS = {
    "texture_flow_rgb": ("Texture stage", "Where the texture stage copied each pixel of the fill the photo shows "
                                          "from"),
    "flow_rgb": ("Network attention", "Where the network's contextual attention borrowed each hole pixel from (the "
                                      "refined output's source)"),
}
NO_TEXTURE_TIP = "This fill ran without the texture stage (Fill Settings: Texture from the photo)"
LEGEND_SIZE = 64
_SCENE_LIMIT = 1e7  # lets the view centre on any point, like the canvas, whatever the region's size


def legend_pixmap(size: int, ratio: float = 1.0) -> QPixmap:
    """The engine's colour-wheel legend, ``size`` logical pixels wide and drawn at ``ratio`` device pixels per
    logical pixel, with the white outside the wheel made transparent so it sits on any theme's background."""
    pixels = max(1, round(size * ratio))
    rgb = wheel_legend(pixels)
    coords = (np.arange(pixels) + 0.5) / pixels * 2 - 1
    radius = np.hypot(coords[:, None], coords[None, :])
    # a one-pixel soft edge instead of a jagged one
    alpha = np.clip((1.0 - radius) * pixels / 2 + 0.5, 0.0, 1.0)
    rgba = np.ascontiguousarray(np.dstack([rgb, np.round(alpha * 255).astype(np.uint8)]))
    image = QImage(rgba.data, pixels, pixels, pixels * 4, QImage.Format.Format_RGBA8888).copy()
    pixmap = QPixmap.fromImage(image)
    pixmap.setDevicePixelRatio(ratio)
    return pixmap


class EvidenceView(QGraphicsView):
    """One evidence image placed at its box in image coordinates, framed to the region the canvas shows."""

    zoomRequested = Signal(float, QPointF)   # factor, image point to keep still
    panRequested = Signal(float, float)      # image pixels
    focusRequested = Signal()                # double-click: bring the fill region into view

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.scene().setSceneRect(QRectF(-_SCENE_LIMIT, -_SCENE_LIMIT, 2 * _SCENE_LIMIT, 2 * _SCENE_LIMIT))
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._item = QGraphicsPixmapItem()
        self._item.setTransformationMode(Qt.TransformationMode.FastTransformation)
        self._frame = QGraphicsRectItem()
        pen = QPen(self.palette().color(QPalette.ColorRole.Highlight), 1.0)
        pen.setCosmetic(True)
        self._frame.setPen(pen)
        self._marker = CrosshairItem()
        self._marker.setZValue(1)
        self._marker.setVisible(False)
        self.scene().addItem(self._item)
        self.scene().addItem(self._frame)
        self.scene().addItem(self._marker)
        self._region = QRectF()
        self._box = QRectF()
        self._drag_from: QPointF | None = None
        self.show_image(None, None)

    def has_image(self) -> bool:
        return not self._box.isEmpty()

    def show_image(self, rgb, box: tuple[int, int, int, int] | None) -> None:
        """Show ``rgb`` (uint8 [h, w, 3]) at ``box`` = (x0, y0, x1, y1) in image coordinates, or nothing."""
        if rgb is None or box is None or rgb.size == 0:
            self._item.setPixmap(QPixmap())
            self._box = QRectF()
            self._frame.setVisible(False)
        else:
            x0, y0, x1, y1 = box
            self._item.setPixmap(QPixmap.fromImage(rgb_qimage(rgb)))
            # the engine's arrays cover the box; scale guards against a region stored at another resolution
            self._item.setScale((x1 - x0) / rgb.shape[1])
            self._item.setPos(x0, y0)
            self._box = QRectF(x0, y0, x1 - x0, y1 - y0)
            self._frame.setRect(self._box)
            self._frame.setVisible(True)
        self._reframe()
        self.viewport().update()

    def marker(self) -> QPointF | None:
        """The image point the attention inspector marks, or None."""
        return self._marker.pos() if self._marker.isVisible() else None

    def set_marker(self, point: QPointF | None) -> None:
        """Mark an image point (the pixel being inspected), or nothing."""
        if point is not None:
            self._marker.setPos(point)
        self._marker.setVisible(point is not None)

    def show_region(self, region: QRectF) -> None:
        """Frame the image rectangle the canvas shows (empty: frame the image's own box)."""
        self._region = QRectF(region)
        self._reframe()

    def _reframe(self) -> None:
        target = self._region if not self._region.isEmpty() else self._box
        if not target.isEmpty():
            self.fitInView(target, Qt.AspectRatioMode.KeepAspectRatio)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._reframe()

    def wheelEvent(self, event: QWheelEvent) -> None:
        delta = event.angleDelta().y() or event.angleDelta().x()
        if self.has_image() and delta:
            self.zoomRequested.emit(WHEEL_STEP ** delta, self.mapToScene(event.position().toPoint()))
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self.has_image() and event.button() in (Qt.MouseButton.LeftButton, Qt.MouseButton.MiddleButton):
            self._drag_from = self.mapToScene(event.position().toPoint())
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag_from is not None:
            here = self.mapToScene(event.position().toPoint())
            delta = self._drag_from - here
            self.panRequested.emit(delta.x(), delta.y())
            # the canvas moved every panel, this one included: the grabbed point is under the cursor again
            self._drag_from = self.mapToScene(event.position().toPoint())

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._drag_from = None
        self.viewport().unsetCursor()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self.has_image():
            self.focusRequested.emit()

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        window = self.palette().color(QPalette.ColorRole.Window)
        painter.fillRect(rect, window.darker(115 if window.lightness() > 128 else 130))
        if not self.has_image():
            painter.save()
            painter.resetTransform()
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter, "No fill yet")
            painter.restore()


class EvidencePanel(QWidget):
    """A dock's content: one EvidenceView; the flow panel adds the colour-wheel legend and a switch between the
    texture stage's flow and the network's attention flow."""

    def __init__(self, field: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if field not in PANELS:
            raise ValueError(f"unknown evidence {field!r}; expected one of {sorted(PANELS)}")
        self.field = field
        self.title, description = PANELS[field]
        self.setToolTip(description)
        self.view = EvidenceView(self)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        layout = QHBoxLayout()
        outer.addLayout(layout, 1)
        layout.addWidget(self.view, 1)
        self.legend: QLabel | None = None
        self.flow_buttons: dict[str, QToolButton] = {}
        self._evidence: FillEvidence | None = None
        self._prefer_texture = True   # the user's choice, kept across fills (a fill without the stage overrides it)
        if field == "flow_rgb":
            outer.insertLayout(0, self._flow_switch())
            self.legend = QLabel()
            self.legend.setPixmap(legend_pixmap(LEGEND_SIZE, self.devicePixelRatioF()))
            self.legend.setToolTip("Colour wheel: a hole pixel of a colour copies from the side of itself where "
                                   "that colour sits on the wheel.")
            self.legend.setContentsMargins(4, 4, 6, 6)
            layout.addWidget(self.legend, 0, Qt.AlignmentFlag.AlignBottom)

    def _flow_switch(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setContentsMargins(4, 2, 4, 2)
        group = QButtonGroup(self)
        for field, (label, tip) in FLOWS.items():
            button = QToolButton()
            button.setText(label)
            button.setToolTip(tip)
            button.setCheckable(True)
            button.setAutoRaise(True)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            group.addButton(button)
            row.addWidget(button)
            self.flow_buttons[field] = button
        row.addStretch(1)
        group.buttonClicked.connect(self._on_flow_chosen)
        return row

    def _on_flow_chosen(self, button: QToolButton) -> None:
        self._prefer_texture = button is self.flow_buttons["texture_flow_rgb"]
        self.show_evidence(self._evidence)

    def shown_field(self) -> str:
        """The FillEvidence field the panel shows."""
        if self.flow_buttons and self._prefer_texture and self._evidence is not None \
                and self._evidence.texture_flow_rgb is not None:
            return "texture_flow_rgb"
        return self.field

    def show_evidence(self, evidence: FillEvidence | None) -> None:
        self._evidence = evidence
        field = self.shown_field()
        if self.flow_buttons:
            texture = self.flow_buttons["texture_flow_rgb"]
            texture.setEnabled(evidence is not None and evidence.texture_flow_rgb is not None)
            texture.setToolTip(FLOWS["texture_flow_rgb"][1] if texture.isEnabled() or evidence is None
                               else NO_TEXTURE_TIP)
            self.flow_buttons[field].setChecked(True)  # the switch names what is shown
        if evidence is None:
            self.view.show_image(None, None)
        else:
            self.view.show_image(getattr(evidence, field), evidence.box)
