"""Where a filled pixel came from: contextual attention's weights mapped back onto the photo.

Attention works on a grid of 8x8-pixel cells (model pixels). Each foreground cell p is rebuilt from background
patches q with weights A[p, q]; a patch is the 16x16 pixels centred on cell q (4x4 feature pixels at 1/4
resolution, stride 2, one feature pixel of padding). The heat map of a pixel spreads A[p, q] evenly over patch
q's pixels inside the region, so the map sums to the total weight of p (slightly under one: patches touching
the hole take part in the softmax with zero weight, as in the official op).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from .model.grid import MATCHING_CELL

# Heat maps are drawn in the inferno ramp with opacity rising with the weight, so a faint source stays visible
# without hiding the photo and unvisited background shows through untouched.
HEAT_OPACITY = 0.8  # the strongest source's opacity; the photo under it still shows


@lru_cache(maxsize=1)
def inferno() -> np.ndarray:
    """uint8 [256, 3] RGB: OpenCV's copy of matplotlib's perceptually uniform "inferno" ramp, shared by
    the editor's inspector and ``fill --inspect``."""
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


# a pasted patch (4x4 feature pixels, stride 2, padding 1) reaches half a cell beyond its cell on each side
PATCH_MARGIN = MATCHING_CELL // 2


@dataclass
class RegionAttention:
    """Attention kept for one processed region, restricted to the cells that contain hole pixels."""

    box: tuple[int, int, int, int]   # region in photo coordinates (x0, y0, x1, y1)
    scale: float                     # model pixels per photo pixel
    work_shape: tuple[int, int]      # (height, width) the model saw, before padding to the grid
    grid: tuple[int, int]            # matching grid (rows, cols)
    rows: np.ndarray                 # int64 [R] foreground cells kept (flat row-major)
    cols: np.ndarray                 # int64 [C] background cells with a weight (flat row-major)
    values: np.ndarray               # float32 [R, C]

    def cell_of(self, x: int, y: int) -> int | None:
        """Row index into ``values`` for photo pixel (x, y), or None if it is not a kept cell."""
        x0, y0, x1, y1 = self.box
        if not (x0 <= x < x1 and y0 <= y < y1):
            return None
        mx = int((x - x0 + 0.5) * self.scale)
        my = int((y - y0 + 0.5) * self.scale)
        cell = (my // MATCHING_CELL) * self.grid[1] + mx // MATCHING_CELL
        hit = np.searchsorted(self.rows, cell)
        return int(hit) if hit < len(self.rows) and self.rows[hit] == cell else None

    def _patch_spans(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Model-pixel spans [start, end) of every background patch, clipped to the region."""
        gh, gw = self.grid
        h, w = self.work_shape
        top = np.clip(np.arange(gh) * MATCHING_CELL - PATCH_MARGIN, 0, h)
        bottom = np.clip(np.arange(gh) * MATCHING_CELL + MATCHING_CELL + PATCH_MARGIN, 0, h)
        left = np.clip(np.arange(gw) * MATCHING_CELL - PATCH_MARGIN, 0, w)
        right = np.clip(np.arange(gw) * MATCHING_CELL + MATCHING_CELL + PATCH_MARGIN, 0, w)
        return top, bottom, left, right

    def heat(self, row: int) -> np.ndarray:
        """float32 [h, w] over the region (photo pixels) for kept foreground cell ``row``."""
        gh, gw = self.grid
        h, w = self.work_shape
        weights = np.zeros(gh * gw, np.float64)
        weights[self.cols] = self.values[row]
        weights = weights.reshape(gh, gw)
        top, bottom, left, right = self._patch_spans()
        area = np.outer(bottom - top, right - left).astype(np.float64)
        density = np.divide(weights, area, out=np.zeros_like(weights), where=area > 0)
        # Each patch is 2x2 cells shifted by half a cell: paste the per-cell density four times, shifted.
        canvas = np.zeros((gh * MATCHING_CELL + MATCHING_CELL, gw * MATCHING_CELL + MATCHING_CELL), np.float64)
        block = np.kron(density, np.ones((MATCHING_CELL, MATCHING_CELL)))
        for dy in (0, MATCHING_CELL):
            for dx in (0, MATCHING_CELL):
                canvas[dy:dy + gh * MATCHING_CELL, dx:dx + gw * MATCHING_CELL] += block
        heat = canvas[PATCH_MARGIN:PATCH_MARGIN + h, PATCH_MARGIN:PATCH_MARGIN + w]
        x0, y0, x1, y1 = self.box
        if (h, w) != (y1 - y0, x1 - x0):
            total = heat.sum()
            heat = cv2.resize(heat, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
            heat *= total / max(heat.sum(), 1e-30)
        return heat.astype(np.float32)

    def top(self, row: int, k: int) -> list[tuple[tuple[int, int, int, int], float]]:
        """The ``k`` strongest source patches of cell ``row`` as (photo box, weight), strongest first."""
        order = np.argsort(-self.values[row], kind="stable")[:k]
        top, bottom, left, right = self._patch_spans()
        x0, y0, _, _ = self.box
        out = []
        for j in order:
            weight = float(self.values[row, j])
            if weight <= 0:
                break
            qy, qx = divmod(int(self.cols[j]), self.grid[1])
            box = (x0 + int(left[qx] / self.scale), y0 + int(top[qy] / self.scale),
                   x0 + int(np.ceil(right[qx] / self.scale)), y0 + int(np.ceil(bottom[qy] / self.scale)))
            out.append((box, weight))
        return out
