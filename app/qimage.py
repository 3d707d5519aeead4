"""numpy <-> QImage: the photo and masks live in numpy arrays; Qt draws QImages."""
from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage


def rgb_to_argb32(rgb: np.ndarray, alpha: int = 255) -> np.ndarray:
    """uint8 [h, w, 3] RGB -> uint32 [h, w] 0xAARRGGBB, the in-memory layout of QImage.Format_RGB32."""
    r, g, b = (rgb[..., i].astype(np.uint32) for i in range(3))
    return (np.uint32(alpha) << 24) | (r << 16) | (g << 8) | b


def rgb_qimage(rgb: np.ndarray) -> QImage:
    """An independent QImage copy of a uint8 [h, w, 3] RGB array."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    height, width = rgb.shape[:2]
    return QImage(rgb.data, width, height, width * 3, QImage.Format.Format_RGB888).copy()


class BufferImage:
    """A QImage drawn straight from a numpy uint32 buffer: writing a patch into ``pixels`` changes what Qt draws,
    with no conversion of the rest of the image."""

    def __init__(self, width: int, height: int, image_format: QImage.Format) -> None:
        self.pixels = np.zeros((height, width), dtype=np.uint32)
        # QImage keeps a pointer to the buffer, not a reference: self.pixels keeps it alive as long as self.qimage
        self.qimage = QImage(self.pixels.data, width, height, width * 4, image_format)
