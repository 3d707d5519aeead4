"""Operations on a whole hole mask: grow, shrink, and the soft paste edge of a fill. Pure numpy / OpenCV on
bool HxW masks (True = hole); each works on the mask's bounding box only, so a small mask on a 48 MP photo costs
what its box costs."""
from __future__ import annotations

import cv2
import numpy as np

from .patches import bounding_box

Crop = tuple[int, int, np.ndarray]  # x0, y0 and the values of a rectangle of the photo


def auto_grow(width: int, height: int) -> int:
    """The default growth before a fill: about 0.2 % of the photo's longer side, at least 2 px (2 px on a 1 MP
    photo, 8 px on a 12 MP one): enough to take in the halo and outline a painted object usually leaves."""
    return max(2, round(0.002 * max(width, height)))


def _distance_to(target: np.ndarray) -> np.ndarray:
    """Euclidean distance of every pixel to the nearest True pixel of ``target`` (0 on it)."""
    return cv2.distanceTransform((~target).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)


def _box_around(mask: np.ndarray, margin: int) -> tuple[int, int, int, int] | None:
    box = bounding_box(mask)
    if box is None:
        return None
    height, width = mask.shape
    x0, y0, x1, y1 = box
    return max(x0 - margin, 0), max(y0 - margin, 0), min(x1 + margin, width), min(y1 + margin, height)


def grown(mask: np.ndarray, pixels: int) -> Crop | None:
    """The mask grown by ``pixels`` (every pixel within that distance of it joins), over the box it can change;
    None when the mask is empty."""
    box = _box_around(mask, pixels + 1)
    if box is None:
        return None
    x0, y0, x1, y1 = box
    return x0, y0, _distance_to(mask[y0:y1, x0:x1]) <= pixels


def shrunk(mask: np.ndarray, pixels: int) -> Crop | None:
    """The mask shrunk by ``pixels`` (pixels within that distance of its outside leave), over its box; None when
    it is empty. The photo's edge is not an outside: a mask touching it stays there (it stands for what goes on
    beyond the frame)."""
    box = _box_around(mask, 1)
    if box is None:
        return None
    x0, y0, x1, y1 = box
    # repeat the edge rows and columns, so the frame counts as more of the mask rather than as its outside
    padded = cv2.copyMakeBorder(mask[y0:y1, x0:x1].astype(np.uint8), 1, 1, 1, 1, cv2.BORDER_REPLICATE)
    inside = _distance_to(padded == 0)[1:-1, 1:-1]
    return x0, y0, inside > pixels


def paste_plan(mask: np.ndarray, grow: int, feather: int) -> tuple[np.ndarray, Crop | None]:
    """What a fill of ``mask`` asks the engine for and how its result is pasted: the engine fills the mask grown
    by ``grow + feather``; the result replaces the photo fully within ``grow`` of the mask and fades out over the
    ``feather`` pixels beyond. Returns (the engine's hole, the paste weights over the box they cover, or None when
    the result is pasted as it is)."""
    box = _box_around(mask, grow + feather + 1)
    if box is None or grow + feather == 0:
        return mask.copy(), None
    x0, y0, x1, y1 = box
    distance = _distance_to(mask[y0:y1, x0:x1])
    hole = mask.copy()
    hole[y0:y1, x0:x1] = distance <= grow + feather
    if feather == 0:
        return hole, None
    weights = np.clip((grow + feather - distance) / feather, 0.0, 1.0).astype(np.float32)
    return hole, (x0, y0, weights)


def blend(photo: np.ndarray, filled: np.ndarray, weights: Crop) -> np.ndarray:
    """``filled`` with its paste weighted over the weights' box: photo * (1 - w) + filled * w, rounded."""
    x0, y0, w = weights
    h, width = w.shape
    out = filled.copy()
    before = photo[y0:y0 + h, x0:x0 + width].astype(np.float32)
    after = filled[y0:y0 + h, x0:x0 + width].astype(np.float32)
    out[y0:y0 + h, x0:x0 + width] = np.round(before + (after - before) * w[..., None]).astype(np.uint8)
    return out
