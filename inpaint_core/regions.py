"""Which part of a photo the model sees, and at what scale.

The model was trained on 256x256 images with holes up to half that size, and contextual attention costs grow
with the square of the area, so a 24 MP photo is never fed whole. CROP sees a photo that fits the working size
whole; in a larger one it takes each hole's bounding box with enough context around it (at least half the
hole's size on each side, as in training), shrinking the crop only when it exceeds the working size; holes
whose crops overlap are processed together.

The texture stage carries detail at the photo's own size, but it starts from the network's fill, so no filled
pixel should be upsampled more than MIN_SCALE allows from what the network saw. A long thin hole (a cable, a
scratch) across a large photo is therefore cut into tiles along the hole, each seen at MIN_SCALE or finer, never
handled by shrinking the whole photo. A thick hole (a large object) is still seen whole, shrunk as needed: the
network needs its context to continue structure, and the texture stage restores the detail. Where lines and
blobs join (a stroke through an object), each blob is seen whole and the lines around it are still tiled.
"""
from __future__ import annotations

import enum
import math
from dataclasses import dataclass, replace

import cv2
import numpy as np

DEFAULT_WORK_SIZE = 768
DEFAULT_MARGIN = 64
MAX_REGIONS = 16
MIN_SCALE = 0.5  # a thin hole's fill is never upsampled more than 2x from the network's output


class Strategy(str, enum.Enum):
    CROP = "crop"          # each hole with context around it, shrunk only when larger than the working size
    RESIZE = "resize"      # the whole photo shrunk to the working size
    ORIGINAL = "original"  # the whole photo at full size (slow and memory-hungry on large photos)


@dataclass(frozen=True)
class Region:
    """A box of the photo (x0, y0, x1, y1; exclusive ends) processed at ``scale`` (<= 1).

    ``core``: the box whose hole pixels this region fills, when it is one tile of a longer hole (its other hole
    pixels are context the network may not read, filled by the neighbouring tile); None = all of them.
    ``ceded``: boxes whose hole pixels another region fills (a blob on a tiled line is seen whole)."""

    x0: int
    y0: int
    x1: int
    y1: int
    scale: float = 1.0
    core: tuple[int, int, int, int] | None = None
    ceded: tuple[tuple[int, int, int, int], ...] = ()

    @property
    def box(self) -> tuple[int, int, int, int]:
        return self.x0, self.y0, self.x1, self.y1

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    def owned(self, mask: np.ndarray) -> np.ndarray:
        """The hole pixels of ``mask`` (the photo's) this region fills, as a mask over the region's box."""
        hole = mask[self.y0:self.y1, self.x0:self.x1]
        if self.core is None:
            owned = hole.copy()
        else:
            owned = np.zeros_like(hole)
            owned[self._within(self.core)] = hole[self._within(self.core)]
        for box in self.ceded:
            owned[self._within(box)] = False
        return owned

    def _within(self, box: tuple[int, int, int, int]) -> tuple[slice, slice]:
        """``box`` (photo coordinates) as a slice of this region's box."""
        # A core is a cell of the tile grid and may begin above or left of the box (which is cut to the hole's
        # pixels plus margin): clip it, or a negative start would count from the box's far end.
        x0, y0, x1, y1 = box
        return np.s_[max(0, y0 - self.y0):max(0, y1 - self.y0), max(0, x0 - self.x0):max(0, x1 - self.x0)]

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


def overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def merge_overlapping(boxes: list[tuple[int, int, int, int]]
                      ) -> list[tuple[list[int], tuple[int, int, int, int]]]:
    """(indices of the boxes merged, their union) for each set of transitively overlapping boxes, top to bottom."""
    groups = [([i], box) for i, box in enumerate(boxes)]
    merged = True
    while merged:
        merged = False
        for i in range(len(groups)):
            for j in range(i + 1, len(groups)):
                if overlap(groups[i][1], groups[j][1]):
                    (first, a), (second, b) = groups[i], groups.pop(j)
                    groups[i] = (first + second, (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])))
                    merged = True
                    break
            if merged:
                break
    return sorted(groups, key=lambda g: (g[1][1], g[1][0]))


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
    boxes = [box for _, box in merge_overlapping([_with_context(b, margin, width, height)
                                                   for b in _hole_boxes(mask)])]
    if len(boxes) > MAX_REGIONS:
        # Specks all over the photo (a noisy mask): one pass over their union (tiled if it is too large)
        # beats minutes of crops.
        boxes = [(min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
                  max(b[3] for b in boxes))]
    regions = []
    for box in boxes:
        scale = _fit_scale(box[2] - box[0], box[3] - box[1], work_size)
        if scale >= MIN_SCALE:
            regions.append(Region(*box, scale))
        else:
            regions.extend(_blobs_whole_lines_tiled(mask, box, work_size, margin))
    return regions


def _tile_side(work_size: int) -> int:
    """The largest photo box the network sees at MIN_SCALE."""
    return int(work_size / MIN_SCALE)


def _thick_part(hole: np.ndarray, half_width: float) -> np.ndarray:
    """bool: the pixels of ``hole`` covered by a disc of radius ``half_width`` that fits inside it (a
    morphological opening, by two distance transforms): a blob's pixels, not a line's. The box's edge counts
    as the hole's border."""
    inside = cv2.distanceTransform(np.pad(hole.astype(np.uint8), 1), cv2.DIST_L2, 3)[1:-1, 1:-1]
    centres = inside > half_width
    if not centres.any():
        return np.zeros_like(hole)
    return hole & (cv2.distanceTransform((~centres).view(np.uint8), cv2.DIST_L2, 3) <= half_width)


def _blobs_whole_lines_tiled(mask: np.ndarray, box: tuple[int, int, int, int], work_size: int, margin: int
                             ) -> list[Region]:
    """Regions for a hole too large to be seen at MIN_SCALE: each thick part (a blob too wide for a tile, with
    as much context on each side) seen whole, shrunk as needed, since the network needs its context to
    continue structure; the rest (lines, cables, also where they cross a blob's surroundings) in tiles at
    MIN_SCALE or finer. Shrinking the whole hole for one blob on it would upsample every line's fill ~5x."""
    height, width = mask.shape
    x0, y0, x1, y1 = box
    thick = _thick_part(mask[y0:y1, x0:x1], _tile_side(work_size) / 8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(thick.view(np.uint8), connectivity=8)
    blobs = [(x0 + int(bx), y0 + int(by), x0 + int(bx + bw), y0 + int(by + bh)) for bx, by, bw, bh, _ in stats[1:count]]
    # Blobs whose contexts overlap are seen together (their hole pixels would be each other's context).
    grouped = merge_overlapping([_with_context(b, margin, width, height) for b in blobs])
    regions, cores = [], []
    for members, context in grouped:
        core = (min(blobs[i][0] for i in members), min(blobs[i][1] for i in members),
                max(blobs[i][2] for i in members), max(blobs[i][3] for i in members))
        cores.append(core)
        regions.append(Region(*context, _fit_scale(context[2] - context[0], context[3] - context[1], work_size),
                              core=core))
    rest = mask
    if cores:
        rest = mask.copy()
        for cx0, cy0, cx1, cy1 in cores:
            rest[cy0:cy1, cx0:cx1] = False
    tiles = _tiles(rest, box, work_size, margin)
    return regions + [replace(t, ceded=tuple(cores)) for t in tiles]


def _tiles(mask: np.ndarray, box: tuple[int, int, int, int], work_size: int, margin: int) -> list[Region]:
    """Regions along a thin hole in ``box``: a grid of cells, each holding hole pixels seen with ``margin`` of
    context around them, at MIN_SCALE or finer."""
    height, width = mask.shape
    cell = _tile_side(work_size) - 2 * margin
    x0, y0, x1, y1 = box
    regions = []
    for cy0 in range(y0, y1, cell):
        for cx0 in range(x0, x1, cell):
            cy1, cx1 = min(cy0 + cell, y1), min(cx0 + cell, x1)
            ys, xs = np.nonzero(mask[cy0:cy1, cx0:cx1])
            if len(ys) == 0:
                continue
            rx0, ry0 = max(0, cx0 + int(xs.min()) - margin), max(0, cy0 + int(ys.min()) - margin)
            rx1, ry1 = min(width, cx0 + int(xs.max()) + 1 + margin), min(height, cy0 + int(ys.max()) + 1 + margin)
            regions.append(Region(rx0, ry0, rx1, ry1, _fit_scale(rx1 - rx0, ry1 - ry0, work_size),
                                  core=(cx0, cy0, cx1, cy1)))
    return regions
