"""What the canvas draws: the photo, the mask overlays, the brush ring and the attention inspector's heat map and
source outlines, in image coordinates (1 unit = 1 pixel); the evidence panels share the crosshair."""
from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter, QPen, QTransform
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from .qimage import BufferImage, argb32, write_argb32

MASK_COLOUR = QColor(229, 57, 107, 120)  # the accent of the icons, see-through enough to judge the edge
EXCLUDE_COLOUR = QColor(31, 162, 214, 110)  # cyan, far from the hole's pink and from the heat map's ramp
# Outlines drawn over photos: a light line on a dark one reads on any content; widths in screen pixels.
_DARK_LINE = QColor(0, 0, 0, 170)
_LIGHT_LINE = QColor(255, 255, 255, 240)
OUTLINE_PX = 1.5
TAG_MIN_WEIGHT = 0.005  # sources weaker than this are outlined without a tag (their weight is in the tooltip)


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
        device_scale = painter.worldTransform().m11() * painter.device().devicePixelRatioF()
        source = option.exposedRect.toAlignedRect()
        if device_scale < 1.0:
            # Zoomed out, a screen pixel spans several image pixels, and the edge of an exposed part (the box a
            # fill rewrote) falls inside one: drawn from exactly that part, the edge pixel was only partly
            # covered, and a line of the background showed along the box after every fill. A margin of one
            # screen pixel covers it whole; the painter is clipped to the exposed region, so nothing else changes.
            margin = math.ceil(1.0 / device_scale)
            source = source.adjusted(-margin, -margin, margin, margin)
        source = source.intersected(image.rect())
        if source.isEmpty():
            return
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
        # mask * colour straight into the buffer: a tenth of np.where's time, which a 12 MP mask edit notices
        np.multiply(mask[y:y + h, x:x + w], self._value, out=self._buffer.pixels[y:y + h, x:x + w], dtype=np.uint32)
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


class HeatOverlayItem(_BufferItem):
    """The inspected pixel's heat map, a premultiplied ARGB image stretched over its box on the photo. It draws
    buffers the inspector caches per attention cell, so moving to an already seen cell copies no pixels."""

    def __init__(self) -> None:
        super().__init__(BufferImage(1, 1, QImage.Format.Format_ARGB32_Premultiplied))
        self.box = (0, 0, 1, 1)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def show_buffer(self, buffer: BufferImage, box: tuple[int, int, int, int]) -> None:
        """Draw ``buffer`` over ``box`` = (x0, y0, x1, y1); the buffer may be smaller than the box (a heat map is
        smooth at the scale of an attention cell, so large regions are drawn from a smaller image)."""
        self.prepareGeometryChange()
        self._buffer = buffer
        x0, y0, x1, y1 = box
        image = buffer.qimage
        self.setTransform(QTransform.fromScale((x1 - x0) / image.width(), (y1 - y0) / image.height()))
        self.setPos(x0, y0)
        self.box = box
        self.update()


class _TagItem(QGraphicsItem):
    """Short text on a dark tag just left of its parent's top-left corner (outside, so it hides none of what the
    parent outlines), the same size on screen at any zoom."""

    def __init__(self, parent: QGraphicsItem) -> None:
        super().__init__(parent)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self._font = QFont()
        self._font.setPointSizeF(8.0)
        self._font.setBold(True)
        self._text = ""
        self._rect = QRectF()

    def text(self) -> str:
        return self._text

    def set_text(self, text: str) -> None:
        self.prepareGeometryChange()
        self._text = text
        metrics = QFontMetricsF(self._font)
        width = metrics.horizontalAdvance(text) + 6
        self._rect = QRectF(-width - 2, 0, width, metrics.height() + 2)

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(_DARK_LINE)
        painter.drawRect(self._rect)
        painter.setPen(_LIGHT_LINE)
        painter.setFont(self._font)
        painter.drawText(self._rect, Qt.AlignmentFlag.AlignCenter, self._text)


class SourceBoxItem(QGraphicsItem):
    """One source patch of the inspected pixel: its outline, OUTLINE_PX wide on screen at any zoom, tagged with its
    rank and weight."""

    def __init__(self) -> None:
        super().__init__()
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self._rect = QRectF()
        self._pad = 4.0  # room for the outline outside the rectangle, in image pixels (see set_view_scale)
        self.tag = _TagItem(self)

    def rect(self) -> QRectF:
        return QRectF(self._rect)

    def set_source(self, box: tuple[int, int, int, int], rank: int, weight: float) -> None:
        x0, y0, x1, y1 = box
        self.prepareGeometryChange()
        self._rect = QRectF(x0, y0, x1 - x0, y1 - y0)
        self.tag.setPos(self._rect.topLeft())
        self.tag.set_text(f"{rank}: {weight:.0%}")
        # a "0%" tag says nothing and, sources lying side by side, often covers a stronger one's tag
        self.tag.setVisible(weight >= TAG_MIN_WEIGHT)
        self.setToolTip(f"Source {rank}: {weight:.1%} of what the pixel was made from, pixels ({x0}, {y0})–({x1}, "
                        f"{y1})")

    def set_view_scale(self, scale: float) -> None:
        """The view's screen pixels per image pixel: the outline's width on screen is fixed, so the room it needs
        in image pixels (the bounding rectangle Qt repaints) shrinks as the view zooms in."""
        self.prepareGeometryChange()
        self._pad = (OUTLINE_PX + 3) / max(scale, 1e-6)

    def boundingRect(self) -> QRectF:
        return self._rect.adjusted(-self._pad, -self._pad, self._pad, self._pad)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for colour, width in ((_DARK_LINE, OUTLINE_PX + 2), (_LIGHT_LINE, OUTLINE_PX)):
            pen = QPen(colour, width)
            pen.setCosmetic(True)
            pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
            painter.setPen(pen)
            painter.drawRect(self._rect)


class CrosshairItem(QGraphicsItem):
    """Marks an image point with four short arms around a gap (the point itself stays visible); the same size on
    screen at any zoom."""

    ARM, GAP = 7.0, 3.0

    def __init__(self) -> None:
        super().__init__()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def boundingRect(self) -> QRectF:
        r = self.ARM + self.GAP + 2
        return QRectF(-r, -r, 2 * r, 2 * r)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        near, far = self.GAP, self.GAP + self.ARM
        arms = [(QPointF(dx * near, dy * near), QPointF(dx * far, dy * far))
                for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1))]
        for colour, width in ((_DARK_LINE, OUTLINE_PX + 2), (_LIGHT_LINE, OUTLINE_PX)):
            painter.setPen(QPen(colour, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
            for start, end in arms:
                painter.drawLine(start, end)
