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

A continued gradient is a guess, and along a dark line parallel to the border (a mortar joint beside a stroke) it
overshoots far below anything around it; spread over the hole as it was, that painted a dark band through the
whole stroke. So the correction is exact on the border only and fades within a few pixels (DETAIL_FADE) into a
broad one (smoothed along the border over BROAD_LEVELS pyramid levels, as the low band of multi-band blending,
Burt & Adelson 1983) made from a limited continuation: the gradient only where the next step out agrees in sign,
and then the smaller of the two (minmod), which creates no new extremes.
"""
from __future__ import annotations

import functools
from typing import Literal

import cv2
import numpy as np

_NEIGHBOURS = ((0, 1), (0, -1), (1, 0), (-1, 0))
BROAD_LEVELS = 3           # the broad band of a correction: smoothed along the border over 2^3 = 8 pixels
DETAIL_FADE = 2.0          # photo pixels over which the rest of the correction fades into the hole


def _known(hole: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """bool: which of the pixels (ys, xs) lie in the photo and outside the hole."""
    h, w = hole.shape
    ok = (ys >= 0) & (ys < h) & (xs >= 0) & (xs < w)
    ok[ok] &= ~hole[ys[ok], xs[ok]]
    return ok


def _border_corrections(photo: np.ndarray, hole: np.ndarray, ys: np.ndarray, xs: np.ndarray, fill: np.ndarray,
                        target: Literal["level", "continued", "limited"]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows, columns, corrections float32 [P, 3]) of the hole's border pixels, row-major; the hole's pixels are
    (ys, xs) (``np.nonzero`` order), ``fill`` [N, 3] their values.

    For a border hole pixel p with a known 4-neighbour k = p + e, the target is photo(k) ("level"), photo(k) +
    (photo(k) - photo(k + e)) where k + e is known ("continued"), or photo(k) plus the minmod of that step and
    the next one out, photo(k + e) - photo(k + 2e), where both are known ("limited"); the correction is the mean
    over p's known neighbours of target - fill(p). Kept per hole pixel, not as images the size of the box: a thin
    hole across a large photo touches a small part of it."""
    total = np.zeros((len(ys), 3), np.float32)
    count = np.zeros(len(ys), np.float32)
    for dy, dx in _NEIGHBOURS:
        ky, kx = ys + dy, xs + dx
        ok = _known(hole, ky, kx)
        at, ky, kx = np.flatnonzero(ok), ky[ok], kx[ok]
        value = photo[ky, kx].astype(np.float32)
        goal = value.copy()
        if target == "continued":
            beyond = _known(hole, ky + dy, kx + dx)
            goal[beyond] += value[beyond] - photo[ky[beyond] + dy, kx[beyond] + dx]
        elif target == "limited":
            beyond = _known(hole, ky + dy, kx + dx) & _known(hole, ky + 2 * dy, kx + 2 * dx)
            outer = photo[ky[beyond] + dy, kx[beyond] + dx].astype(np.float32)
            near = value[beyond] - outer
            far = outer - photo[ky[beyond] + 2 * dy, kx[beyond] + 2 * dx]
            goal[beyond] += np.where(near * far > 0, np.sign(near) * np.minimum(np.abs(near), np.abs(far)), 0.0)
        total[at] += goal - fill[at]
        count[at] += 1.0
    border = count > 0
    return ys[border], xs[border], total[border] / count[border, None]


# The 5-tap binomial kernel of OpenCV's pyrDown, by offset -2..2 (the 2-D kernel is its outer product).
_PYR_TAPS = np.array([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0


@functools.lru_cache(maxsize=16)
def _pyr_down_taps(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(coarse index [n, K], weight [n, K]): where each of n pixels along an axis lands in ``cv2.pyrDown``'s
    output ((n + 1) // 2 pixels; OpenCV's default border, reflected without repeating the edge), and with what
    weight; unused entries weigh 0 (K is 3 inside, more next to the edges of a short axis)."""
    lands: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    for c in range((n + 1) // 2):
        for offset, tap in zip(range(-2, 3), _PYR_TAPS):
            i = abs(2 * c + offset)
            lands[i if i < n else 2 * (n - 1) - i].append((c, tap))
    k = max(len(entries) for entries in lands)
    coarse = np.zeros((n, k), np.int64)
    weight = np.zeros((n, k))
    for i, entries in enumerate(lands):
        coarse[i, :len(entries)] = [c for c, _ in entries]
        weight[i, :len(entries)] = [tap for _, tap in entries]
    coarse.flags.writeable = weight.flags.writeable = False  # cached: shared by every call
    return coarse, weight


def _scattered_pyr_down(shape: tuple[int, int], ys: np.ndarray, xs: np.ndarray, values: np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray]:
    """(4 * pyrDown(v), 4 * pyrDown(weight)) of the image that holds ``values`` [P, C] with weight 1 at the P
    pixels (ys, xs) and zeros elsewhere, made from those pixels alone: the first step of ``membrane_at``'s
    pyramid without images the size of the box."""
    h, w = shape
    rows, row_weight = _pyr_down_taps(h)
    cols, col_weight = _pyr_down_taps(w)
    ch, cw = (h + 1) // 2, (w + 1) // 2
    flat = (rows[ys][:, :, None] * cw + cols[xs][:, None, :]).reshape(-1)
    weight = 4.0 * (row_weight[ys][:, :, None] * col_weight[xs][:, None, :]).reshape(len(ys), -1)
    # Summed over the coarse pixels the points reach only, then placed: a thin hole's border reaches few of them.
    reached, slot = np.unique(flat, return_inverse=True)
    sums = np.zeros((ch * cw, values.shape[1]), np.float32)
    for c in range(values.shape[1]):
        sums[reached, c] = np.bincount(slot, (weight * values[:, c:c + 1]).reshape(-1), len(reached))
    coarse_weight = np.zeros(ch * cw, np.float32)
    coarse_weight[reached] = np.bincount(slot, weight.reshape(-1), len(reached))
    return sums.reshape(ch, cw, -1), coarse_weight.reshape(ch, cw)


def membrane_at(values: np.ndarray, weight: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """float32 [N, C]: ``values`` ([H, W, C], C of 2 or more: OpenCV's pyramid drops a single channel's axis),
    known where ``weight`` > 0, smoothly interpolated by push-pull and read at the N pixels (ys, xs) only."""
    if not weight.any():
        return np.zeros((len(ys), values.shape[2]), np.float32)
    v, wt = values * weight[..., None], weight
    if min(wt.shape) <= 2:  # no pyramid: the known mean, or where everything is known the values themselves
        estimate = np.divide(v, wt[..., None], out=np.zeros_like(v), where=wt[..., None] > 1e-6)
        if not (wt > 1e-6).all():
            estimate[:] = v.sum(axis=(0, 1)) / max(float(wt.sum()), 1e-6)
        return estimate[ys, xs].astype(np.float32)
    # Sums, not means, of the finer level's values and weights: a coarse pixel next to a thin hole's border
    # is as sure of its value as the border pixels under it, so weights must not fade level by level.
    up = _pulled_at(4 * cv2.pyrDown(v), 4 * cv2.pyrDown(wt), wt.shape, ys, xs)
    return _blend(v[ys, xs], wt[ys, xs], up)


def membrane_of_points(shape: tuple[int, int], py: np.ndarray, px: np.ndarray, values: np.ndarray,
                       ys: np.ndarray, xs: np.ndarray, broad_levels: int = 0) -> np.ndarray:
    """float32 [N, C]: ``membrane_at`` of an image of ``shape`` known only at the P pixels (py, px) (row-major,
    ``values`` [P, C]), read at the N pixels (ys, xs) (row-major too), without images the size of ``shape``.
    ``broad_levels`` > 0: its broad band only, the pyramid's levels finer than that (2^broad_levels pixels) adding
    none of their own values, so the known pixels too read their neighbourhood's smoothed value."""
    if len(py) == 0:
        return np.zeros((len(ys), values.shape[1]), np.float32)
    if min(shape) <= 2:
        image, weight = np.zeros((*shape, values.shape[1]), np.float32), np.zeros(shape, np.float32)
        image[py, px], weight[py, px] = values, 1.0
        return membrane_at(image, weight, ys, xs)
    result = _pulled_at(*_scattered_pyr_down(shape, py, px, values), shape, ys, xs, broad_levels)
    if broad_levels > 0:
        return result
    # A known pixel keeps its own value, as in membrane_at where its weight is 1.
    width = shape[1]
    asked, known = ys * width + xs, py * width + px
    at = np.minimum(np.searchsorted(asked, known), len(asked) - 1)
    hit = asked[at] == known
    result[at[hit]] = values[hit]
    return result


def _pulled_at(v: np.ndarray, wt: np.ndarray, shape: tuple[int, int], ys: np.ndarray, xs: np.ndarray,
               broad_levels: int = 0) -> np.ndarray:
    """[N, C]: the push-pull estimate from the pyramid's level below the photo's (sums ``v``, weights ``wt``),
    upsampled to ``shape`` and read at (ys, xs); levels finer than ``broad_levels`` only upsample the coarser
    estimate."""
    levels = [(v, wt)]
    while min(levels[-1][1].shape) > 2:
        v, wt = levels[-1]
        levels.append((4 * cv2.pyrDown(v), 4 * cv2.pyrDown(wt)))
    v, wt = levels[-1]
    estimate = np.divide(v, wt[..., None], out=np.zeros_like(v), where=wt[..., None] > 1e-6)
    if not (wt > 1e-6).all():
        estimate[:] = v.sum(axis=(0, 1)) / max(float(wt.sum()), 1e-6)
    # cv2.resize centres coarse pixel i at fine pixel 2i + 0.5, where pyrDown took it from around 2i: deep in a
    # hole the membrane drifts towards the bottom right, by up to half the hole's depth (a step across a disc of
    # radius 40 crosses half way 12 px right of it). Aligned (bilinear at x / 2), the fills measured 0.06 dB
    # lower at 256 (centre hole, texture seeds 0-2) and 0.05 dB at 512 (strokes), 0.02 dB higher on 512 crops
    # of the large photos, with no visible change in the object crops: left as it is, the stage's balance was
    # measured with it.
    for level in reversed(range(1, len(levels))):  # levels[i] is the pyramid's level i + 1
        v, wt = levels[level - 1]
        up = cv2.resize(estimate, (wt.shape[1], wt.shape[0]), interpolation=cv2.INTER_LINEAR)
        estimate = up if level < broad_levels else _blend(v, wt, up)
    # At the photo's own resolution only where it is asked for: a thin hole across a large photo is a small
    # part of its box, and a whole upsampled level of it cost a third of a second on a 10 MP box.
    return _bilinear_at(estimate, shape, ys, xs)


def _bilinear_at(image: np.ndarray, size: tuple[int, int], ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """[N, C]: ``image`` resized bilinearly to ``size`` (rows, columns) as ``cv2.resize`` does (pixel centres
    aligned, edges clamped), read at pixels (ys, xs) only."""
    def taps(at: np.ndarray, src: int, dst: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        position = (at + 0.5) * (src / dst) - 0.5
        first = np.floor(position).astype(np.int64)
        fraction = (position - first).astype(np.float32)
        low = first < 0
        high = first >= src - 1
        fraction[low | high] = 0.0
        first = np.clip(first, 0, src - 1)
        return first, np.minimum(first + 1, src - 1), fraction[:, None]
    y0, y1, fy = taps(ys, image.shape[0], size[0])
    x0, x1, fx = taps(xs, image.shape[1], size[1])
    # Rows of a flat view, taken by flat index and mixed in place: half the time of 2-D fancy indexing.
    width = image.shape[1]
    pixels = image.reshape(-1, image.shape[2])
    row0, row1 = y0 * width, y1 * width
    top = pixels.take(row0 + x0, axis=0)
    top += (pixels.take(row0 + x1, axis=0) - top) * fx
    bottom = pixels.take(row1 + x0, axis=0)
    bottom += (pixels.take(row1 + x1, axis=0) - bottom) * fx
    top += (bottom - top) * fy
    return top


def _blend(v: np.ndarray, wt: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Where a level has enough weight of its own it keeps its average; elsewhere the coarser estimate ``up``
    (overwritten)."""
    own = np.divide(v, wt[..., None], out=np.zeros_like(v), where=wt[..., None] > 1e-6)
    alpha = np.clip(wt, 0.0, 1.0)[..., None]
    # alpha * own + (1 - alpha) * up, in place (``up`` is the caller's temporary): at the level below a 10 MP
    # box's each fresh image costs more than its arithmetic.
    own *= alpha
    up *= 1 - alpha
    own += up
    return own


def match_boundary(photo: np.ndarray, hole: np.ndarray, fill: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """float32 [N, 3]: the texture stage's fill of the hole (``fill`` [N, 3], its pixels in ``np.nonzero`` order)
    corrected to continue the photo across the hole's border without a seam; ``depth`` [N]: each pixel's
    ``depth_in_hole``."""
    ys, xs = np.nonzero(hole)
    py, px, continued = _border_corrections(photo, hole, ys, xs, fill, "continued")
    limited = _border_corrections(photo, hole, ys, xs, fill, "limited")[2]
    exact = membrane_of_points(hole.shape, py, px, continued, ys, xs)
    broad = membrane_of_points(hole.shape, py, px, limited, ys, xs, BROAD_LEVELS)
    # Measured against the continued correction spread alone: eval512 strokes hole L1 7.41 -> 7.33 %, PSNR
    # 19.42 -> 19.53 dB; eval 256 centre Table-1 3.02 -> 2.97 % / 22.15 -> 22.28 dB; seam 0.99 / 0.94 as before;
    # GMSD 0.0973 -> 0.0980 and 0.2579 -> 0.2583 (PatchMatch's: 0.100 and 0.2589). With 16 px for the
    # broad band: 22.30 dB but GMSD 0.2587; a slower fade (8 px): 19.49 / 22.25 dB, GMSD 0.0976 / 0.2580, half
    # the band through a stroke back; the continued correction in both bands: 22.18 dB; the limited one at the
    # border too: seam 0.57 / 0.29, the border smoother than the photo. On 28 random 512 crops of the large
    # photos with strokes GMSD went 0.0329 -> 0.0333 (PatchMatch 0.0334; 0.0331 with the 8 px fade).
    # depth_in_hole's 3x3 distance puts the border at 0.955, not 1: exact there, not beyond
    fade = np.exp(-np.maximum(np.asarray(depth, np.float32) - 1.0, 0.0) / DETAIL_FADE)[:, None]
    return fill + broad + (exact - broad) * fade


def level_colours(photo: np.ndarray, fill: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """``fill`` (float32 [H, W, 3]) with its colour level matched to the photo around the hole, in place (outside
    the hole it is left as it is). For the network's fill before it guides the synthesis: a lighter or darker
    cast along a removed object (its ghost) is taken out."""
    ys, xs = np.nonzero(hole)
    values = fill[ys, xs]
    py, px, correction = _border_corrections(photo, hole, ys, xs, values, "level")
    fill[ys, xs] = values + membrane_of_points(hole.shape, py, px, correction, ys, xs)
    return fill
