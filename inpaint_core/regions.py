"""Which part of a photo the model sees, and at what scale.

The model was trained on 256x256 images with holes up to half that size, and contextual attention costs grow
with the square of the area, so a 24 MP photo is never fed whole. CROP sees a photo that fits the working size
whole; in a larger one it takes each hole's bounding box with enough context around it (at least half the
hole's size on each side, as in training), shrinking the crop only when it exceeds the working size; holes
whose crops overlap are processed together.
"""
from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import cv2
import numpy as np

DEFAULT_WORK_SIZE = 768
DEFAULT_MARGIN = 64
MAX_REGIONS = 16


class Strategy(str, enum.Enum):
    CROP = "crop"          # each hole with context around it, shrunk only when larger than the working size
    RESIZE = "resize"      # the whole photo shrunk to the working size
    ORIGINAL = "original"  # the whole photo at full size (slow and memory-hungry on large photos)


@dataclass(frozen=True)
class Region:
    """A box of the photo (x0, y0, x1, y1; exclusive ends) processed at ``scale`` (<= 1)."""

    x0: int
    y0: int
    x1: int
    y1: int
    scale: float = 1.0

    @property
    def box(self) -> tuple[int, int, int, int]:
        return self.x0, self.y0, self.x1, self.y1

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def work_shape(self) -> tuple[int, int]:
        """(height, width) of the region once scaled for the model."""
        return max(1, round(self.height * self.scale)), max(1, round(self.width * self.scale))


def _fit_scale(width: int, height: int, work_size: int) -> float:
    longest = max(width, height)
    return 1.0 if longest <= work_size else work_size / longest


def _hole_boxes(mask: np.ndarray) -> list[tuple[int, int, int, int]]:
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    return [(int(x), int(y), int(x + w), int(y + h)) for x, y, w, h, _ in stats[1:count]]


def _with_context(box: tuple[int, int, int, int], margin: int, width: int, height: int
                  ) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = box
    pad = max(margin, math.ceil(max(x1 - x0, y1 - y0) / 2))
    return max(0, x0 - pad), max(0, y0 - pad), min(width, x1 + pad), min(height, y1 + pad)


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _merge_overlapping(boxes: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    boxes = list(boxes)
    merged = True
    while merged:
        merged = False
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                if _overlap(boxes[i], boxes[j]):
                    a, b = boxes[i], boxes.pop(j)
                    boxes[i] = (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
                    merged = True
                    break
            if merged:
                break
    return sorted(boxes, key=lambda b: (b[1], b[0]))


def plan_regions(mask: np.ndarray, strategy: Strategy = Strategy.CROP, work_size: int = DEFAULT_WORK_SIZE,
                 margin: int = DEFAULT_MARGIN) -> list[Region]:
    """Regions to fill for a bool hole mask (empty list when there is no hole)."""
    height, width = mask.shape
    if not mask.any():
        return []
    strategy = Strategy(strategy)
    if strategy is Strategy.ORIGINAL or (strategy is Strategy.CROP and max(width, height) <= work_size):
        # A photo that fits the working size is seen whole: all of it is context, as in the official code.
        return [Region(0, 0, width, height)]
    if strategy is Strategy.RESIZE:
        return [Region(0, 0, width, height, _fit_scale(width, height, work_size))]
    # Merge crops until none overlap: a hole's context must not contain another hole's unfilled pixels
    # that belong to a different crop.
    boxes = _merge_overlapping([_with_context(b, margin, width, height) for b in _hole_boxes(mask)])
    if len(boxes) > MAX_REGIONS:
        # Specks all over the photo (a noisy mask): one shrunk pass over their union beats minutes of crops.
        boxes = [(min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
                  max(b[3] for b in boxes))]
    return [Region(*b, _fit_scale(b[2] - b[0], b[3] - b[1], work_size)) for b in boxes]
