"""Boundary matching: a fill meets the photo without a visible outline.

A synthesised fill copies colours from elsewhere in the photo; at the hole's border they sit next to known pixels
they were never next to, so a step can appear (a faint outline of every stroke), and a whole fill can be a
shade lighter or darker than its surroundings. Both are fixed in the membrane form of gradient-domain blending
(Pérez et al. 2003): the correction each border pixel needs is computed, interpolated smoothly over the hole
(push-pull over a pyramid: a smooth membrane in O(pixels), not an exact Laplace solve; only its border values
matter for the seam) and added, so the fill keeps its own texture inside.

What a border pixel should be: for the texture stage's fill, the photo's own gradient continued one pixel across
the border (a step as large as the photo's steps there, so the border is neither a ridge nor smoother than the
photo); for the network's guide, the neighbour's colour (only its level matters).
"""
from __future__ import annotations

import cv2
import numpy as np

_NEIGHBOURS = ((0, 1), (0, -1), (1, 0), (-1, 0))


def _border_corrections(photo: np.ndarray, fill: np.ndarray, hole: np.ndarray, continue_gradient: bool
                        ) -> tuple[np.ndarray, np.ndarray]:
    """(correction [H, W, 3] float32, weight [H, W] float32) at the hole's border pixels.

    For a border hole pixel p with a known 4-neighbour k = p + e, the target is photo(k) + (photo(k) -
    photo(k + e)) with ``continue_gradient`` (where k + e is known too), else photo(k); the correction is the
    mean over p's known neighbours of target - fill(p)."""
    h, w = hole.shape
    total = np.zeros((h, w, 3), np.float32)
    count = np.zeros((h, w), np.float32)
    ys, xs = np.nonzero(hole)
    for dy, dx in _NEIGHBOURS:
        ky, kx = ys + dy, xs + dx
        ok = (ky >= 0) & (ky < h) & (kx >= 0) & (kx < w)
        ok[ok] &= ~hole[ky[ok], kx[ok]]
        py, px, ky, kx = ys[ok], xs[ok], ky[ok], kx[ok]
        target = photo[ky, kx].astype(np.float32)
        if continue_gradient:
            fy, fx = ky + dy, kx + dx
            beyond = (fy >= 0) & (fy < h) & (fx >= 0) & (fx < w)
            beyond[beyond] &= ~hole[fy[beyond], fx[beyond]]
            target[beyond] += target[beyond] - photo[fy[beyond], fx[beyond]].astype(np.float32)
        # One neighbour direction names each hole pixel at most once, so plain indexed adds are exact here.
        total[py, px] += target - fill[py, px]
        count[py, px] += 1.0
    # Only border pixels have a count: the division there, not over the whole (mostly zero) box.
    by, bx = np.nonzero(count)
    total[by, bx] /= count[by, bx, None]
    return total, (count > 0).astype(np.float32)


def membrane(values: np.ndarray, weight: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Smoothly interpolate ``values`` (known where ``weight`` > 0) over ``region`` by push-pull."""
    if not weight.any():
        return np.zeros_like(values)
    levels = [(values * weight[..., None], weight)]
    while min(levels[-1][1].shape) > 2:
        v, wt = levels[-1]
        # Sums, not means, of the finer level's values and weights: a coarse pixel next to a thin hole's border
        # is as sure of its value as the border pixels under it, so weights must not fade level by level.
        levels.append((4 * cv2.pyrDown(v), 4 * cv2.pyrDown(wt)))
    v, wt = levels[-1]
    estimate = np.divide(v, wt[..., None], out=np.zeros_like(v), where=wt[..., None] > 1e-6)
    if not (wt > 1e-6).all():
        estimate[:] = v.sum(axis=(0, 1)) / max(float(wt.sum()), 1e-6)
    result = np.zeros(values.shape, np.float32)
    ys, xs = np.nonzero(region)
    if len(levels) == 1:
        result[ys, xs] = estimate[ys, xs]
        return result
    for v, wt in reversed(levels[1:-1]):
        estimate = _blend(v, wt, cv2.resize(estimate, (wt.shape[1], wt.shape[0]), interpolation=cv2.INTER_LINEAR))
    # At the photo's own resolution only where it is asked for: a thin hole across a large photo is a small
    # part of its box.
    v, wt = levels[0]
    up = cv2.resize(estimate, (wt.shape[1], wt.shape[0]), interpolation=cv2.INTER_LINEAR)
    result[ys, xs] = _blend(v[ys, xs], wt[ys, xs], up[ys, xs])
    return result


def _blend(v: np.ndarray, wt: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Where a level has enough weight of its own it keeps its average; elsewhere the coarser estimate."""
    own = np.divide(v, wt[..., None], out=np.zeros_like(v), where=wt[..., None] > 1e-6)
    alpha = np.clip(wt, 0.0, 1.0)[..., None]
    return alpha * own + (1 - alpha) * up


def match_boundary(photo: np.ndarray, fill: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """The texture stage's ``fill`` (float32 [H, W, 3], meaningful in the hole) corrected to continue the photo
    across the hole's border without a seam."""
    correction, weight = _border_corrections(photo, fill, hole, continue_gradient=True)
    return fill + membrane(correction, weight, hole)


def level_colours(photo: np.ndarray, fill: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """``fill`` (float32 [H, W, 3]) with its colour level matched to the photo around the hole. For the network's
    fill before it guides the synthesis: a lighter or darker cast along a removed object (its ghost) is taken
    out."""
    correction, weight = _border_corrections(photo, fill, hole, continue_gradient=False)
    return fill + membrane(correction, weight, hole)
