"""Shapes the user draws -> boolean footprints on the image's pixel grid.

A footprint is ``(x0, y0, bool[h, w])``: the pixels whose centres lie inside the shape, placed at ``(x0, y0)``.
Pixel (col, row) covers the square [col, col+1) x [row, row+1) in image coordinates, so its centre is
(col + 0.5, row + 0.5); the canvas works in the same coordinates, which keeps a dab exactly under the cursor ring.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPolygonF

Footprint = tuple[int, int, np.ndarray]


def segment_footprint(p0: tuple[float, float], p1: tuple[float, float], diameter: float) -> Footprint:
    """A round brush dragged from p0 to p1: every pixel centre within diameter/2 of the segment.

    Computed with numpy rather than QPainter because QPainter drops zero-length lines (a single click) and
    its round caps are approximate; a dab must cover the same pixels wherever it lands.
    """
    radius = max(diameter, 1.0) / 2.0
    (ax, ay), (bx, by) = p0, p1
    x0 = int(np.floor(min(ax, bx) - radius))
    y0 = int(np.floor(min(ay, by) - radius))
    x1 = int(np.ceil(max(ax, bx) + radius)) + 1
    y1 = int(np.ceil(max(ay, by) + radius)) + 1
    cx = np.arange(x0, x1, dtype=np.float64)[None, :] + 0.5
    cy = np.arange(y0, y1, dtype=np.float64)[:, None] + 0.5
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    if length2 == 0.0:
        t = 0.0
    else:
        t = np.clip(((cx - ax) * dx + (cy - ay) * dy) / length2, 0.0, 1.0)
    dist2 = (cx - (ax + t * dx)) ** 2 + (cy - (ay + t * dy)) ** 2
    # A brush of diameter 1 must still paint the pixel under the cursor: radius 0.5 reaches its centre at most.
    return x0, y0, dist2 <= max(radius, 0.5) ** 2


def polygon_footprint(points: Sequence[tuple[float, float]]) -> Footprint | None:
    """The inside of a closed polygon (lasso or clicked vertices); None when it encloses no pixel area."""
    if len(points) < 3:
        return None
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    x0, y0 = int(np.floor(min(xs))), int(np.floor(min(ys)))
    x1, y1 = int(np.ceil(max(xs))) + 1, int(np.ceil(max(ys))) + 1
    width, height = x1 - x0, y1 - y0
    stride = (width + 3) // 4 * 4  # QImage rows are 32-bit aligned
    buffer = np.zeros((height, stride), dtype=np.uint8)
    image = QImage(buffer.data, width, height, stride, QImage.Format.Format_Grayscale8)
    painter = QPainter(image)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(255, 255, 255))
    painter.drawPolygon(QPolygonF([QPointF(x - x0, y - y0) for x, y in points]))
    painter.end()
    inside = buffer[:, :width] > 127
    return (x0, y0, inside) if inside.any() else None


def rect_footprint(corner_a: tuple[float, float], corner_b: tuple[float, float]) -> Footprint | None:
    """The pixels whose centres lie inside the rectangle spanned by two corners."""
    left, right = sorted((corner_a[0], corner_b[0]))
    top, bottom = sorted((corner_a[1], corner_b[1]))
    x0, x1 = int(np.ceil(left - 0.5)), int(np.floor(right - 0.5)) + 1
    y0, y1 = int(np.ceil(top - 0.5)), int(np.floor(bottom - 0.5)) + 1
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, np.ones((y1 - y0, x1 - x0), dtype=bool)


def clip_footprint(footprint: Footprint, width: int, height: int) -> Footprint | None:
    """The part of a footprint inside a width x height image; None when nothing is left."""
    x0, y0, inside = footprint
    h, w = inside.shape
    cx0, cy0 = max(x0, 0), max(y0, 0)
    cx1, cy1 = min(x0 + w, width), min(y0 + h, height)
    if cx1 <= cx0 or cy1 <= cy0:
        return None
    part = inside[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0]
    return (cx0, cy0, part) if part.any() else None
