"""Boundary matching in the gradient domain: a copied fill meets the photo without a visible outline.

A hole pixel synthesised from source pixel s copies s's colour; at the hole's border that colour sits next to a
known pixel k of the photo, whose own neighbour at s was something else, so an abrupt step can appear (a faint
outline of every stroke). Poisson blending (Pérez et al. 2003) keeps the fill's gradients and makes it agree with
the photo at the border. Here in its membrane form: the correction each border pixel needs (the step the photo
has there in the source's neighbourhood, taken from the source's own neighbour) is interpolated smoothly over the
hole and added. The interpolation is push-pull over a pyramid (a smooth membrane in O(pixels)), not an exact
Laplace solve: the correction is smooth by construction and only its border values matter for the seam.
"""
from __future__ import annotations

import cv2
import numpy as np

_NEIGHBOURS = ((0, 1), (0, -1), (1, 0), (-1, 0))


def border_corrections(photo: np.ndarray, fill: np.ndarray, hole: np.ndarray, source_y: np.ndarray,
                       source_x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(correction [H, W, 3] float32, weight [H, W] float32) at the hole's border pixels.

    For a border hole pixel p with a known 4-neighbour k = p + e, the photo's step from k into the hole should be
    the source's own step: fill(p) ought to be photo(k) - (photo(s + e) - photo(s)). The correction is the
    mean over p's known neighbours of that target minus fill(p)."""
    h, w = hole.shape
    photo_f = photo.astype(np.float32)
    total = np.zeros((h, w, 3), np.float32)
    count = np.zeros((h, w), np.float32)
    ys, xs = np.nonzero(hole)
    sy, sx = source_y[ys, xs], source_x[ys, xs]
    for dy, dx in _NEIGHBOURS:
        ky, kx = ys + dy, xs + dx
        ny, nx = sy + dy, sx + dx
        ok = (ky >= 0) & (ky < h) & (kx >= 0) & (kx < w) & (ny >= 0) & (ny < h) & (nx >= 0) & (nx < w) & (sy >= 0)
        ok[ok] &= ~hole[ky[ok], kx[ok]]
        py, px = ys[ok], xs[ok]
        target = photo_f[ky[ok], kx[ok]] - (photo_f[ny[ok], nx[ok]] - photo_f[sy[ok], sx[ok]])
        np.add.at(total, (py, px), target - fill[py, px])
        np.add.at(count, (py, px), 1.0)
    correction = np.divide(total, count[..., None], out=np.zeros_like(total), where=count[..., None] > 0)
    return correction, (count > 0).astype(np.float32)


def level_colours(photo: np.ndarray, fill: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """``fill`` (float32 [H, W, 3]) with its colour level matched to the photo around the hole: the mean step from
    each border pixel to its known neighbours is spread over the hole. For a fill with no sources of its own
    (the network's), so a lighter or darker cast along a removed object (its ghost) is taken out."""
    h, w = hole.shape
    photo_f = photo.astype(np.float32)
    total = np.zeros((h, w, 3), np.float32)
    count = np.zeros((h, w), np.float32)
    ys, xs = np.nonzero(hole)
    for dy, dx in _NEIGHBOURS:
        ky, kx = ys + dy, xs + dx
        ok = (ky >= 0) & (ky < h) & (kx >= 0) & (kx < w)
        ok[ok] &= ~hole[ky[ok], kx[ok]]
        np.add.at(total, (ys[ok], xs[ok]), photo_f[ky[ok], kx[ok]] - fill[ys[ok], xs[ok]])
        np.add.at(count, (ys[ok], xs[ok]), 1.0)
    correction = np.divide(total, count[..., None], out=np.zeros_like(total), where=count[..., None] > 0)
    return fill + membrane(correction, (count > 0).astype(np.float32), hole)


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
    for v, wt in reversed(levels[:-1]):
        up = cv2.resize(estimate, (wt.shape[1], wt.shape[0]), interpolation=cv2.INTER_LINEAR)
        # Where the level has enough weight of its own it keeps its average; elsewhere the coarser estimate.
        own = np.divide(v, wt[..., None], out=np.zeros_like(v), where=wt[..., None] > 1e-6)
        alpha = np.clip(wt, 0.0, 1.0)[..., None]
        estimate = alpha * own + (1 - alpha) * up
    estimate[~region] = 0
    return estimate.astype(np.float32)


def match_boundary(photo: np.ndarray, fill: np.ndarray, hole: np.ndarray, source_y: np.ndarray,
                   source_x: np.ndarray) -> np.ndarray:
    """``fill`` (float32 [H, W, 3], meaningful in the hole) corrected to meet ``photo`` without a seam."""
    correction, weight = border_corrections(photo, fill, hole, source_y, source_x)
    return fill + membrane(correction, weight, hole)
