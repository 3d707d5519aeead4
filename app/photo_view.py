"""A view of a photo-sized scene (1 scene unit = 1 photo pixel) that zooms and scrolls like a photo editor: fit,
100 %, zoom around a point, show a region. 100 % means one photo pixel per physical screen pixel, also on high-DPI
screens."""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Signal
from PySide6.QtGui import QResizeEvent, QTransform, QWheelEvent
from PySide6.QtWidgets import QGraphicsView, QWidget

MAX_ZOOM_PERCENT = 3200.0
WHEEL_STEP = 1.2 ** (1 / 120)        # one notch (120 units) zooms by 20 %


class PhotoView(QGraphicsView):
    zoomChanged = Signal(float)              # percent
    visibleRegionChanged = Signal(QRectF)    # the image rectangle the viewport shows

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self._size: tuple[int, int] | None = None   # the photo's width and height, None when there is none
        self._fit_mode = True
        self.horizontalScrollBar().valueChanged.connect(self._emit_visible_region)
        self.verticalScrollBar().valueChanged.connect(self._emit_visible_region)

    def set_photo_size(self, size: tuple[int, int] | None) -> None:
        """Show a photo of this (width, height) whole, or nothing."""
        self._size = size
        self.setSceneRect(QRectF(0, 0, *size) if size is not None else QRectF())
        self.fit()

    def zoom_percent(self) -> float:
        return self.transform().m11() * self.devicePixelRatioF() * 100.0

    def visible_region(self) -> QRectF:
        return self.mapToScene(self.viewport().rect()).boundingRect()

    def fit(self) -> None:
        """Show the whole photo, and keep doing so when the window is resized until the user zooms."""
        if self._size is None:
            return
        view = self.viewport().rect()
        margin = 8
        scale = min((view.width() - 2 * margin) / self._size[0],
                    (view.height() - 2 * margin) / self._size[1])
        self._set_scale(max(scale, 1e-3))
        self.centerOn(self.sceneRect().center())
        self._fit_mode = True
        self._zoom_done()

    def actual_pixels(self) -> None:
        """100 %: one photo pixel per physical screen pixel, centred on what is in the middle now."""
        self.zoom_to_percent(100.0)

    def zoom_to_percent(self, percent: float, anchor: QPointF | None = None) -> None:
        if self._size is None:
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
        if self._size is None or region.isEmpty():
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
        if self._size is None:
            return 1.0
        view = self.viewport().rect()
        fit = min(view.width() / self._size[0], view.height() / self._size[1])
        return min(fit * self.devicePixelRatioF() * 100.0 * 0.5, 10.0)

    def _set_scale(self, scale: float) -> None:
        self.setTransform(QTransform.fromScale(scale, scale))

    def _zoom_done(self) -> None:
        self.zoomChanged.emit(self.zoom_percent())
        self._emit_visible_region()

    def _emit_visible_region(self) -> None:
        if self._size is not None:
            self.visibleRegionChanged.emit(self.visible_region())
    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._fit_mode:
            self.fit()
        else:
            self._emit_visible_region()

    def wheelEvent(self, event: QWheelEvent) -> None:
        delta = event.angleDelta().y() or event.angleDelta().x()
        if self._size is not None and delta:
            self.zoom_by(WHEEL_STEP ** delta, event.position())
        event.accept()
