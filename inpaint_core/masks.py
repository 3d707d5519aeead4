"""Hole masks: the paper's random box and free-form strokes for training, and clean-up of user-painted masks.

All masks are numpy arrays, True / 1 = hole. Training masks come with the fixed-size box the local critic sees:
for a box mask it is the box itself (as in the official code); for strokes it is a box of the same size centred
on the strokes, so the local critic always gets a crop of one size.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import cv2
import numpy as np


class Box(NamedTuple):
    top: int
    left: int
    height: int
    width: int


def random_bbox(image_hw: tuple[int, int], box_hw: tuple[int, int], margin_hw: tuple[int, int],
                rng: np.random.Generator) -> Box:
    """The official ``random_bbox``: top-left uniform in [margin, size - margin - box), upper end excluded."""
    (h, w), (bh, bw), (mh, mw) = image_hw, box_hw, margin_hw
    if h - mh - bh <= mh or w - mw - bw <= mw:
        raise ValueError(f"a {bh}x{bw} box with margins {mh}x{mw} does not fit a {h}x{w} image")
    return Box(int(rng.integers(mh, h - mh - bh)), int(rng.integers(mw, w - mw - bw)), bh, bw)


def bbox_to_mask(box: Box, image_hw: tuple[int, int], max_delta_hw: tuple[int, int],
                 rng: np.random.Generator) -> np.ndarray:
    """The official ``bbox2mask``: the hole is the box shrunk by a random 0..max_delta/2 px on each side
    (the same amount top and bottom, the same left and right), so it stays centred in the box."""
    dh = int(rng.integers(0, max_delta_hw[0] // 2 + 1))
    dw = int(rng.integers(0, max_delta_hw[1] // 2 + 1))
    mask = np.zeros(image_hw, dtype=bool)
    mask[box.top + dh:box.top + box.height - dh, box.left + dw:box.left + box.width - dw] = True
    return mask


def box_mask(image_hw: tuple[int, int], box_hw: tuple[int, int], max_delta_hw: tuple[int, int],
             rng: np.random.Generator, margin_hw: tuple[int, int] = (0, 0)) -> tuple[np.ndarray, Box]:
    """A random box hole and its outer box."""
    box = random_bbox(image_hw, box_hw, margin_hw, rng)
    return bbox_to_mask(box, image_hw, max_delta_hw, rng), box


def stroke_mask(image_hw: tuple[int, int], rng: np.random.Generator, *, max_strokes: int = 3,
                vertices: tuple[int, int] = (4, 12), width_fraction: tuple[float, float] = (12 / 256, 40 / 256),
                max_coverage: float = 0.5) -> np.ndarray:
    """Free-form brush strokes (the DeepFill v2 / LaMa kind): thick polylines with round joints.

    Each stroke starts at a random point and turns by a random angle at every vertex, with segment lengths
    around 1/8 of the image diagonal. Widths are given as fractions of the shorter side so masks look the
    same at every training size. Draws with more than ``max_coverage`` of the image as hole are redrawn,
    because the known-region loss needs known pixels.
    """
    h, w = image_hw
    side = min(h, w)
    radius = math.hypot(h, w) / 8
    while True:
        canvas = np.zeros((h, w), dtype=np.uint8)
        for _ in range(int(rng.integers(1, max_strokes + 1))):
            thickness = max(1, int(round(side * rng.uniform(*width_fraction))))
            n_vertices = int(rng.integers(vertices[0], vertices[1] + 1))
            x, y = float(rng.uniform(0, w)), float(rng.uniform(0, h))
            heading = rng.uniform(0, 2 * math.pi)
            points = [(x, y)]
            for _ in range(n_vertices):
                heading += rng.uniform(-2 * math.pi / 5, 2 * math.pi / 5)
                length = float(np.clip(rng.normal(radius, radius / 2), 0, 2 * radius))
                x = float(np.clip(x + length * math.cos(heading), 0, w - 1))
                y = float(np.clip(y + length * math.sin(heading), 0, h - 1))
                points.append((x, y))
            pixels = [(int(round(px)), int(round(py))) for px, py in points]
            for start, end in zip(pixels, pixels[1:]):
                cv2.line(canvas, start, end, 1, thickness)
            for point in pixels:  # round joints and round ends
                cv2.circle(canvas, point, thickness // 2, 1, -1)
        mask = canvas.astype(bool)
        if mask.mean() <= max_coverage:
            return mask


def box_around(mask: np.ndarray, box_hw: tuple[int, int]) -> Box:
    """A ``box_hw`` box centred on the hole pixel nearest the middle of the hole's bounding box, shifted to lie
    inside the image. Centring on a hole pixel (not on the bounding box itself, which for strokes can fall in
    a gap) guarantees the box holds some of the hole: the local critic's gradient penalty is taken over it."""
    rows, cols = np.nonzero(mask)
    if rows.size == 0:
        raise ValueError("the mask has no hole")
    middle_row, middle_col = (rows.min() + rows.max() + 1) / 2, (cols.min() + cols.max() + 1) / 2
    nearest = int(np.argmin((rows - middle_row) ** 2 + (cols - middle_col) ** 2))
    h, w = mask.shape
    bh, bw = box_hw
    top = rows[nearest] - bh // 2
    left = cols[nearest] - bw // 2
    return Box(int(np.clip(top, 0, h - bh)), int(np.clip(left, 0, w - bw)), bh, bw)


@dataclass(frozen=True)
class TrainingMasks:
    """The training-mask distribution: a box hole (official rule) or, with probability ``stroke_prob``, strokes.

    ``box_size`` is also the local critic's input size; ``max_delta`` is the official MAX_DELTA (the hole is
    shrunk by 0..max_delta/2 px per side).
    """

    size: int
    box_size: int
    max_delta: int
    margin: int = 0
    stroke_prob: float = 0.0

    def sample(self, rng: np.random.Generator) -> tuple[np.ndarray, Box]:
        """One mask ``bool [size, size]`` and the box of the local critic's crop."""
        image_hw, box_hw = (self.size, self.size), (self.box_size, self.box_size)
        if rng.random() < self.stroke_prob:
            mask = stroke_mask(image_hw, rng)
            return mask, box_around(mask, box_hw)
        return box_mask(image_hw, box_hw, (self.max_delta, self.max_delta), rng, (self.margin, self.margin))


def disk(radius: int) -> np.ndarray:
    """``uint8 [2r+1, 2r+1]`` structuring element: the pixels within ``radius`` of the centre."""
    yy, xx = np.mgrid[-radius:radius + 1, -radius:radius + 1]
    return (yy * yy + xx * xx <= radius * radius).astype(np.uint8)


def clean_user_mask(mask: np.ndarray, dilate_px: int = 0) -> np.ndarray:
    """A painted mask (already thresholded to bool) grown by a disk of ``dilate_px``, so the fill also covers
    the soft edge of the object that a brush tends to miss. Returns a new bool array."""
    mask = np.asarray(mask)
    if mask.ndim != 2 or mask.dtype != np.bool_:
        raise ValueError(f"the mask must be a 2-D bool array, got {mask.dtype} {mask.shape}")
    if dilate_px < 0:
        raise ValueError(f"dilate_px must be >= 0, got {dilate_px}")
    if dilate_px == 0 or not mask.any():
        return mask.copy()
    grown = cv2.dilate(mask.astype(np.uint8), disk(int(dilate_px)), borderType=cv2.BORDER_CONSTANT, borderValue=0)
    return grown.astype(bool)
