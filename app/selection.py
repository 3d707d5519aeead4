"""Selections computed from the photo's colours, all offline: the object inside a box (OpenCV's GrabCut) and the
connected region of similar colour around a pixel (flood fill). Pure numpy / OpenCV; the canvas runs them off the UI
thread (selection_tools.py): on a 12 MP photo a flood fill takes ~0.1 s and GrabCut ~0.5 s on two cores."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

Box = tuple[int, int, int, int]            # x0, y0, x1, y1, end-exclusive
Footprint = tuple[int, int, np.ndarray]    # x0, y0, bool[h, w]

GRABCUT_SIDE = 256        # GrabCut sees the box's surroundings shrunk to this longer side (its cost grows fast)
GRABCUT_ITERATIONS = 5
MARGIN = 0.1              # of the box's longer side: background around the box that GrabCut learns from
MIN_ISLAND = 0.005        # of the box's area: smaller separate specks are dropped from a proposal


@dataclass(frozen=True)
class Hint:
    """A click that refines a proposal: the disc around (x, y) is the object (foreground) or not."""

    x: float
    y: float
    foreground: bool


def hint_radius(box: Box) -> int:
    """How far a refining click reaches, in photo pixels: a little of the box, at least a few pixels."""
    x0, y0, x1, y1 = box
    return max(3, round(max(x1 - x0, y1 - y0) / 40))


def refine_labels(current: np.ndarray, proposed: np.ndarray, hints: Sequence[Hint], box: Box) -> np.ndarray:
    """GrabCut labels for refining a proposal, box-sized: the mask as it is now is the probable answer; pixels the
    user changed since the proposal (brush, eraser) and the discs of the hints are certain."""
    labels = np.where(current, cv2.GC_PR_FGD, cv2.GC_PR_BGD).astype(np.uint8)
    edited = current != proposed
    labels[edited & current] = cv2.GC_FGD
    labels[edited & ~current] = cv2.GC_BGD
    x0, y0 = box[:2]
    radius = hint_radius(box)
    for hint in hints:
        centre = (int(hint.x) - x0, int(hint.y) - y0)
        cv2.circle(labels, centre, radius, cv2.GC_FGD if hint.foreground else cv2.GC_BGD, thickness=-1)
    return labels


def select_object(image: np.ndarray, box: Box, labels: np.ndarray | None = None) -> np.ndarray:
    """The object inside ``box`` as a bool mask of the box's size. ``labels`` (GrabCut's, box-sized) refine an
    earlier answer; without them everything in the box may be the object and everything around it is not."""
    height, width = image.shape[:2]
    x0, y0, x1, y1 = max(box[0], 0), max(box[1], 0), min(box[2], width), min(box[3], height)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return np.zeros((max(y1 - y0, 0), max(x1 - x0, 0)), bool)
    margin = max(4, round(MARGIN * max(x1 - x0, y1 - y0)))
    cx0, cy0, cx1, cy1 = max(x0 - margin, 0), max(y0 - margin, 0), min(x1 + margin, width), min(y1 + margin, height)
    full = np.full((cy1 - cy0, cx1 - cx0), cv2.GC_BGD, np.uint8)
    inside = (slice(y0 - cy0, y1 - cy0), slice(x0 - cx0, x1 - cx0))
    full[inside] = cv2.GC_PR_FGD if labels is None else labels
    if not np.isin(full, (cv2.GC_BGD, cv2.GC_PR_BGD)).any():
        # a box over the whole photo leaves nothing around it: its outer ring stands in for the background
        full[[0, -1], :] = cv2.GC_PR_BGD
        full[:, [0, -1]] = cv2.GC_PR_BGD
    scale = min(1.0, GRABCUT_SIDE / max(full.shape))
    size = (max(2, round(full.shape[1] * scale)), max(2, round(full.shape[0] * scale)))
    crop = image[cy0:cy1, cx0:cx1]
    small = cv2.resize(crop, size, interpolation=cv2.INTER_AREA) if scale < 1 else np.ascontiguousarray(crop)
    small_labels = cv2.resize(full, size, interpolation=cv2.INTER_NEAREST)
    foreground = np.isin(small_labels, (cv2.GC_FGD, cv2.GC_PR_FGD))
    if not foreground.any() or foreground.all():
        return full[inside] == cv2.GC_FGD  # nothing left to decide at this scale
    models = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.grabCut(small, small_labels, None, *models, GRABCUT_ITERATIONS, cv2.GC_INIT_WITH_MASK)
    found = np.isin(small_labels, (cv2.GC_FGD, cv2.GC_PR_FGD)).astype(np.uint8) * 255
    # back to the photo's scale with a smooth edge rather than the small image's staircase
    found = cv2.resize(found, (full.shape[1], full.shape[0]), interpolation=cv2.INTER_LINEAR) > 127
    found[full == cv2.GC_FGD] = True
    found[full == cv2.GC_BGD] = False
    return _without_specks(found[inside])


def _without_specks(mask: np.ndarray) -> np.ndarray:
    count, components, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    keep = stats[:, cv2.CC_STAT_AREA] >= MIN_ISLAND * mask.size
    keep[0] = False  # the background component
    return keep[components]


def similar_region(image: np.ndarray, seed: tuple[int, int], tolerance: int) -> Footprint:
    """The pixels connected to ``seed`` (4-neighbours) whose every channel is within ``tolerance`` of the seed's
    colour: the magic wand."""
    height, width = image.shape[:2]
    filled = np.zeros((height + 2, width + 2), np.uint8)
    flags = 4 | cv2.FLOODFILL_MASK_ONLY | cv2.FLOODFILL_FIXED_RANGE | (255 << 8)
    reach = (tolerance,) * 3
    _, _, _, (x, y, w, h) = cv2.floodFill(image, filled, seed, (0, 0, 0), reach, reach, flags)
    return x, y, filled[1 + y:1 + y + h, 1 + x:1 + x + w] > 0
