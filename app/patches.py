"""Edits as pixel patches: the before and after values of the smallest rectangle an edit changed, and the recorder
that turns a live brush stroke into one patch without copying the whole layer when the stroke starts."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QRect


@dataclass(frozen=True)
class Patch:
    """The before and after pixels of one rectangle of one layer ("image", "mask" or "exclude")."""

    layer: str
    x: int
    y: int
    before: np.ndarray
    after: np.ndarray

    @property
    def rect(self) -> QRect:
        return QRect(self.x, self.y, self.before.shape[1], self.before.shape[0])


def bounding_box(changed: np.ndarray) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1), end-exclusive, of the True pixels of a 2-D array; None when there are none."""
    rows = np.flatnonzero(changed.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(changed.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def diff_patch(layer: str, before: np.ndarray, after: np.ndarray, x: int, y: int) -> Patch | None:
    """The smallest patch turning ``before`` into ``after`` (both placed at x, y); None when they are equal."""
    changed = before != after
    if changed.ndim == 3:
        changed = changed.any(axis=2)
    box = bounding_box(changed)
    if box is None:
        return None
    bx0, by0, bx1, by1 = box
    return Patch(layer, x + bx0, y + by0, before[by0:by1, bx0:bx1].copy(), after[by0:by1, bx0:bx1].copy())


class StrokeRecorder:
    """Remembers a layer's original tiles the first time a live stroke touches them, so the finished stroke can
    become a patch without snapshotting the whole layer when the stroke starts."""

    TILE = 64

    def __init__(self, layer: str, values: np.ndarray) -> None:
        self.layer = layer
        self._values = values
        self._tiles: dict[tuple[int, int], np.ndarray] = {}
        self.box: tuple[int, int, int, int] | None = None

    def touch(self, x0: int, y0: int, x1: int, y1: int) -> None:
        t = self.TILE
        for ty in range(y0 // t, (y1 - 1) // t + 1):
            for tx in range(x0 // t, (x1 - 1) // t + 1):
                if (ty, tx) not in self._tiles:
                    self._tiles[ty, tx] = self._values[ty * t:(ty + 1) * t, tx * t:(tx + 1) * t].copy()
        if self.box is None:
            self.box = (x0, y0, x1, y1)
        else:
            bx0, by0, bx1, by1 = self.box
            self.box = (min(bx0, x0), min(by0, y0), max(bx1, x1), max(by1, y1))

    def patch(self) -> Patch | None:
        if self.box is None:
            return None
        x0, y0, x1, y1 = self.box
        after = self._values[y0:y1, x0:x1]
        before = after.copy()
        t = self.TILE
        for (ty, tx), tile in self._tiles.items():
            # the tile's rectangle, intersected with the stroke's box, in box coordinates
            tx0, ty0 = tx * t, ty * t
            ix0, iy0 = max(tx0, x0), max(ty0, y0)
            ix1, iy1 = min(tx0 + tile.shape[1], x1), min(ty0 + tile.shape[0], y1)
            if ix1 > ix0 and iy1 > iy0:
                before[iy0 - y0:iy1 - y0, ix0 - x0:ix1 - x0] = tile[iy0 - ty0:iy1 - ty0, ix0 - tx0:ix1 - tx0]
        return diff_patch(self.layer, before, after, x0, y0)
