"""numpy <-> QImage: the photo and masks live in numpy arrays; Qt draws QImages."""
from __future__ import annotations

import sys

import numpy as np
from PySide6.QtGui import QImage

# byte positions of A, R, G, B inside a native-endian uint32 0xAARRGGBB
_A, _R, _G, _B = (3, 2, 1, 0) if sys.byteorder == "little" else (0, 1, 2, 3)


def write_argb32(pixels: np.ndarray, rgb: np.ndarray, alpha: int | np.ndarray = 255) -> None:
    """Store uint8 [h, w, 3] RGB into uint32 [h, w] ``pixels`` as 0xAARRGGBB (QImage.Format_RGB32's layout),
    byte by byte: no uint32 temporaries, which matters for a 48 MP photo. ``alpha`` is one value or uint8 [h, w]
    (for a premultiplied format, ``rgb`` must already be multiplied by it)."""
    channels = pixels.view(np.uint8).reshape(pixels.shape + (4,))
    channels[..., _R] = rgb[..., 0]
    channels[..., _G] = rgb[..., 1]
    channels[..., _B] = rgb[..., 2]
    channels[..., _A] = alpha


def argb32(r: int, g: int, b: int, a: int = 255) -> np.uint32:
    return np.uint32((a << 24) | (r << 16) | (g << 8) | b)


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
