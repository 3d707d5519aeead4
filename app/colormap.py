"""Attention heat maps as colours: the inferno ramp, with opacity rising with the weight, so a faint source
stays visible without hiding the photo and unvisited background shows through untouched."""
from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

HEAT_OPACITY = 0.8  # the strongest source's opacity; the photo under it still shows


@lru_cache(maxsize=1)
def inferno() -> np.ndarray:
    """uint8 [256, 3] RGB: OpenCV's copy of matplotlib's perceptually uniform "inferno" ramp, the one
    ``fill --inspect`` draws with too."""
    bgr = cv2.applyColorMap(np.arange(256, dtype=np.uint8)[:, None], cv2.COLORMAP_INFERNO)[:, 0]
    return np.ascontiguousarray(bgr[:, ::-1])


def heat_colours(heat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(RGB uint8 [h, w, 3], alpha float32 [h, w] in [0, 1]) for a non-negative heat map.

    The map is scaled to its own maximum, so a peaked map and a spread one both use the whole ramp; the square
    root in the opacity lets sources holding a few percent of the weight show beside one holding most of it.
    """
    peak = float(heat.max())
    if peak <= 0.0:
        return np.zeros(heat.shape + (3,), np.uint8), np.zeros(heat.shape, np.float32)
    level = np.clip(heat / peak, 0.0, 1.0).astype(np.float32)
    rgb = inferno()[np.round(level * 255).astype(np.uint8)]
    return rgb, (HEAT_OPACITY * np.sqrt(level)).astype(np.float32)
