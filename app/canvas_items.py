"""What the canvas draws: the photo, the mask overlay and the brush ring, in image coordinates (1 unit = 1 pixel)."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from .qimage import BufferImage, argb32, write_argb32

MASK_COLOUR = QColor(229, 57, 107, 120)  # the accent of the icons, see-through enough to judge the edge


class _BufferItem(QGraphicsItem):
    """Draws the exposed part of a BufferImage; smoothing only when zoomed out, so pixels stay crisp when zoomed in."""

    def __init__(self, buffer: BufferImage) -> None:
        super().__init__()
        self._buffer = buffer
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption)

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, self._buffer.qimage.width(), self._buffer.qimage.height())

    def _image(self) -> QImage:
        return self._buffer.qimage

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        image = self._image()
        source = option.exposedRect.toAlignedRect().intersected(image.rect())
        if source.isEmpty():
            return
        device_scale = painter.worldTransform().m11() * painter.device().devicePixelRatioF()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, device_scale < 1.0)
        painter.drawImage(QRectF(source), image, QRectF(source))


class PhotoItem(_BufferItem):
    """The photo; can show the original as opened instead (the before/after comparison)."""

    def __init__(self, rgb: np.ndarray, original: np.ndarray) -> None:
        height, width = rgb.shape[:2]
        super().__init__(BufferImage(width, height, QImage.Format.Format_RGB32))
        self._original_rgb = original
        self._original: BufferImage | None = None  # built on the first comparison only
        self.comparing = False
        self.write(rgb, QRect(0, 0, width, height))
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def write(self, rgb: np.ndarray, rect: QRect) -> None:
        """Copy ``rect`` of the photo ``rgb`` (the whole array) into what is drawn."""
        x, y, w, h = rect.x(), rect.y(), rect.width(), rect.height()
        write_argb32(self._buffer.pixels[y:y + h, x:x + w], rgb[y:y + h, x:x + w])
        self.update(QRectF(rect))

    def set_comparing(self, comparing: bool) -> None:
        if comparing and self._original is None:
            height, width = self._original_rgb.shape[:2]
            self._original = BufferImage(width, height, QImage.Format.Format_RGB32)
            write_argb32(self._original.pixels, self._original_rgb)
        self.comparing = comparing
        self.update()

    def _image(self) -> QImage:
        return self._original.qimage if self.comparing and self._original is not None else self._buffer.qimage


class MaskOverlayItem(_BufferItem):
    """A mask drawn as a translucent colour over the photo."""

    def __init__(self, mask: np.ndarray, colour: QColor = MASK_COLOUR) -> None:
        height, width = mask.shape
        super().__init__(BufferImage(width, height, QImage.Format.Format_ARGB32_Premultiplied))
        alpha = colour.alpha()
        self._value = argb32(*(c * alpha // 255 for c in (colour.red(), colour.green(), colour.blue())), alpha)
        self.write(mask, QRect(0, 0, width, height))

    def write(self, mask: np.ndarray, rect: QRect) -> None:
        x, y, w, h = rect.x(), rect.y(), rect.width(), rect.height()
        self._buffer.pixels[y:y + h, x:x + w] = np.where(mask[y:y + h, x:x + w], self._value, np.uint32(0))
        self.update(QRectF(rect))


class BrushRingItem(QGraphicsItem):
    """The round cursor preview: the brush's footprint drawn as a dark and a light one-pixel circle so it shows
    on any photo. It ignores the view's zoom (stays one pixel thin); the canvas gives it its diameter in view
    pixels."""

    def __init__(self) -> None:
        super().__init__()
        self._diameter = 1.0
        self.setZValue(10)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)

    def set_diameter(self, view_pixels: float) -> None:
        self.prepareGeometryChange()
        self._diameter = view_pixels

    def boundingRect(self) -> QRectF:
        r = self._diameter / 2 + 2  # room for the pens
        return QRectF(-r, -r, 2 * r, 2 * r)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        r = self._diameter / 2
        for colour, radius in ((QColor(0, 0, 0, 200), r + 0.5), (QColor(255, 255, 255, 230), max(r - 0.5, 0.0))):
            painter.setPen(QPen(colour, 1.0))
            painter.drawEllipse(QRectF(-radius, -radius, 2 * radius, 2 * radius))
