"""Classical hole fills to compare DeepFill against: OpenCV's Telea and Navier-Stokes inpainting, PatchMatch
inpainting from the maintained PyPI package ``pypatchmatch`` (C++; the optional extra ``eval``), and the
project's own numpy PatchMatch (no compiled dependency, 15x15 patches).

All take the evaluation's arguments (uint8 HxWx3 RGB, bool HxW hole) and return a uint8 HxWx3 image. Telea and
Navier-Stokes propagate colour inwards from the hole's border: good at thin holes, blurry in large ones.
PatchMatch copies whole patches of the photo into the hole, so it keeps texture but can copy the wrong thing.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import cv2
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

# Neighbourhood radius (px) of cv2.inpaint, fixed for the evaluation. On shared/data/eval (256, centre
# hole) radius 3 gives Telea 3.11 % / 21.69 dB and NS 3.14 % / 21.62 dB, radius 5 gives 3.08 % / 21.85 dB and
# 3.12 % / 21.67 dB: a wider radius blurs the large hole a little more, which these metrics reward.
INPAINT_RADIUS = 5


def _cv2_inpaint(image: np.ndarray, mask: np.ndarray, flag: int) -> np.ndarray:
    # cv2.inpaint treats the channels alike, so RGB in gives RGB out without a BGR round trip.
    return cv2.inpaint(np.ascontiguousarray(image), mask.astype(np.uint8), INPAINT_RADIUS, flag)


def telea(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Telea (2004) fast marching fill, radius ``INPAINT_RADIUS``."""
    return _cv2_inpaint(image, mask, cv2.INPAINT_TELEA)


def navier_stokes(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Bertalmio, Bertozzi, Sapiro (2001) Navier-Stokes fill, radius ``INPAINT_RADIUS``."""
    return _cv2_inpaint(image, mask, cv2.INPAINT_NS)


# -- PatchMatch (pypatchmatch) -----------------------------------------------------------------------------------
PYPATCHMATCH_PATCH_SIZE = 7  # the package's patch radius (15x15 patches); the PatchMatch figures use it


class BaselineUnavailable(RuntimeError):
    """A baseline needs an optional package that is missing or cannot load; the message says how to get it."""


def pypatchmatch_fill(seed: int = 0) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """A fill function running ``patchmatch.inpaint`` (patch_size 7), reseeded before every photo so a run is
    repeatable. Raises BaselineUnavailable here, before any photo is processed, when the package is missing."""
    try:
        import patchmatch
    except ImportError:
        raise BaselineUnavailable("the patchmatch method needs the optional package pypatchmatch: "
                                  "pip install 'inpaint-studio[eval]' (or pip install pypatchmatch)") from None
    if not patchmatch.patchmatch_available:
        raise BaselineUnavailable("pypatchmatch is installed but its native library did not load (no wheel for "
                                  "this platform and no build); see README, Measuring")

    def fill(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        patchmatch.set_random_seed(seed)
        return patchmatch.inpaint(np.ascontiguousarray(image), mask, patch_size=PYPATCHMATCH_PATCH_SIZE)

    return fill


# -- PatchMatch (numpy) -------------------------------------------------------------------------------------------
# Wexler, Shechtman, Irani (2007) "Space-time completion of video": coarse-to-fine EM over a pyramid. E step:
# for every patch overlapping the hole, find its nearest known patch (SSD over all 15x15x3 values) with the
# PatchMatch search of Barnes et al. (2009); M step: each hole pixel becomes the plain average of what the
# overlapping patches' matches say it should be. The search runs on all patches at once (numpy), so propagation
# uses jump flooding (matches of neighbours 4, 2, 1 px away, shifted) instead of the serial scan-order sweep,
# followed by the random search at radii max(h, w), /2, ..., 1. The coarsest level's hole starts as a Telea fill.
PATCH_RADIUS = 7        # 15x15 patches
MIN_LEVEL_SIDE = 64     # coarsest pyramid level: below that a 15x15 patch rarely fits beside a half-size hole
JUMPS = (4, 2, 1)
FINEST_ITERATIONS = 2   # EM iterations on the finest level; each coarser level gets 2 more (cheap, 4x smaller)

_OFFSETS = np.stack(np.mgrid[-PATCH_RADIUS:PATCH_RADIUS + 1, -PATCH_RADIUS:PATCH_RADIUS + 1], -1).reshape(-1, 2)


@dataclass
class _Level:
    """One pyramid level and its patch geometry, fixed while the hole's estimate changes. Centres are (y, x)
    rows; every patch lies wholly inside the image. Targets: patches that overlap the hole. Sources: patches
    without a hole pixel."""

    image: np.ndarray           # uint8 [h, w, 3]; hole pixels are placeholders
    hole: np.ndarray            # bool [h, w]
    targets: np.ndarray         # int [n, 2]
    target_row: np.ndarray      # int [h, w]: index into ``targets``, -1 elsewhere
    sources: np.ndarray         # int [m, 2]
    source_row: np.ndarray      # int [h, w]: index into ``sources``, -1 elsewhere
    source_patches: np.ndarray  # uint8 [m, 675], gathered once because the known pixels never change
    pixel_index: np.ndarray     # int [n * 225]: flat pixel index of each pixel of each target patch


def _patches(image: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """[n, 675] values of the 15x15 patches around ``centres``, pixel by pixel in ``_OFFSETS`` order."""
    size = 2 * PATCH_RADIUS + 1
    # a strided view of every patch (no copy), laid out [y, x, dy, dx, channel]; indexing copies only the n asked for
    windows = sliding_window_view(image, (size, size), axis=(0, 1)).transpose(0, 1, 3, 4, 2)
    return windows[centres[:, 0] - PATCH_RADIUS, centres[:, 1] - PATCH_RADIUS].reshape(len(centres), -1)


def _row_map(shape: tuple[int, int], centres: np.ndarray) -> np.ndarray:
    rows = np.full(shape, -1, dtype=np.int64)
    rows[centres[:, 0], centres[:, 1]] = np.arange(len(centres))
    return rows


def _make_level(image: np.ndarray, hole: np.ndarray) -> _Level | None:
    """The level's geometry, or None when no complete known patch exists at this size."""
    h, w = hole.shape
    r = PATCH_RADIUS
    inside = np.zeros((h, w), dtype=bool)
    inside[r:h - r, r:w - r] = True
    # a patch centred on p overlaps the hole iff a hole pixel lies within r of p (chessboard distance)
    near_hole = cv2.dilate(hole.astype(np.uint8), np.ones((2 * r + 1, 2 * r + 1), np.uint8)).astype(bool)
    sources = np.argwhere(inside & ~near_hole)
    if len(sources) == 0:
        return None
    targets = np.argwhere(inside & near_hole)
    pixel_index = ((targets[:, 0, None] + _OFFSETS[None, :, 0]) * w + targets[:, 1, None] + _OFFSETS[None, :, 1])
    return _Level(image=image, hole=hole, targets=targets, target_row=_row_map((h, w), targets), sources=sources,
                  source_row=_row_map((h, w), sources), source_patches=_patches(image, sources),
                  pixel_index=pixel_index.ravel())


def _pyramid(image: np.ndarray, hole: np.ndarray) -> list[_Level]:
    """Levels from coarsest to finest, halving while the short side stays >= MIN_LEVEL_SIDE."""
    finest = _make_level(image, hole)
    if finest is None:
        raise ValueError("the hole leaves no complete 15x15 patch of known pixels to copy from")
    levels = [finest]
    while min(levels[-1].hole.shape) // 2 >= MIN_LEVEL_SIDE:
        h, w = levels[-1].hole.shape
        size = (w // 2, h // 2)
        small = cv2.resize(levels[-1].image, size, interpolation=cv2.INTER_AREA)
        # a coarse pixel is hole if any pixel under it is, so no hole grey leaks into known coarse pixels
        small_hole = cv2.resize(levels[-1].hole.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0
        level = _make_level(small, small_hole)
        if level is None:
            break
        levels.append(level)
    return levels[::-1]


def _clip(centres: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    r = PATCH_RADIUS
    return np.stack([np.clip(centres[:, 0], r, shape[0] - r - 1), np.clip(centres[:, 1], r, shape[1] - r - 1)], 1)


def _distance(level: _Level, target_patches: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """SSD between each target patch and its candidate source patch; inf where the candidate is no source."""
    rows = level.source_row[candidates[:, 0], candidates[:, 1]]
    # compare every row (non-sources against source 0) and discard after: cheaper than copying a subset
    diff = target_patches - level.source_patches[np.maximum(rows, 0)]
    dist = np.einsum("ij,ij->i", diff, diff)
    dist[rows < 0] = np.inf
    return dist


def _search(level: _Level, estimate: np.ndarray, nnf: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One PatchMatch sweep over all target patches at once: propagation, then random search."""
    target_patches = _patches(estimate, level.targets)
    dist = _distance(level, target_patches, nnf)

    def consider(candidates: np.ndarray) -> None:
        candidates = _clip(candidates, level.hole.shape)
        cand_dist = _distance(level, target_patches, candidates)
        better = cand_dist < dist
        nnf[better], dist[better] = candidates[better], cand_dist[better]

    h, w = level.hole.shape
    for jump in JUMPS:
        for step in np.array([(0, jump), (jump, 0), (0, -jump), (-jump, 0)]):
            # the neighbour one step back, matched at q, suggests q + step for this patch (coherence)
            back = level.targets - step
            inside = (back[:, 0] >= 0) & (back[:, 0] < h) & (back[:, 1] >= 0) & (back[:, 1] < w)
            rows = np.full(len(back), -1)
            rows[inside] = level.target_row[back[inside, 0], back[inside, 1]]
            has = rows >= 0
            candidates = nnf.copy()
            candidates[has] = nnf[rows[has]] + step
            consider(candidates)
    radius = max(h, w)
    while radius >= 1:
        consider(nnf + rng.integers(-radius, radius + 1, size=nnf.shape))
        radius //= 2
    return nnf


def _vote(level: _Level, nnf: np.ndarray) -> np.ndarray:
    """float32 [h, w, 3]: known pixels as they are; each hole pixel the mean of its overlapping matches."""
    h, w = level.hole.shape
    votes = level.source_patches[level.source_row[nnf[:, 0], nnf[:, 1]]].reshape(-1, 3)
    count = np.bincount(level.pixel_index, minlength=h * w).reshape(h, w)
    estimate = level.image.astype(np.float32)
    for c in range(3):
        total = np.bincount(level.pixel_index, weights=votes[:, c], minlength=h * w).reshape(h, w)
        estimate[..., c][level.hole] = total[level.hole] / count[level.hole]
    return estimate


def _initial_nnf(level: _Level, rng: np.random.Generator) -> np.ndarray:
    return level.sources[rng.integers(len(level.sources), size=len(level.targets))]


def _upsample_nnf(coarse: _Level, coarse_nnf: np.ndarray, fine: _Level, rng: np.random.Generator) -> np.ndarray:
    """Each fine target takes the offset of the coarse target under it, doubled; where that gives no valid
    source (or there is no coarse target under it), a random source."""
    ch, cw = coarse.hole.shape
    under = np.stack([np.minimum(fine.targets[:, 0] // 2, ch - 1), np.minimum(fine.targets[:, 1] // 2, cw - 1)], 1)
    rows = coarse.target_row[under[:, 0], under[:, 1]]
    has = rows >= 0
    offsets = np.zeros_like(fine.targets)
    offsets[has] = 2 * (coarse_nnf[rows[has]] - coarse.targets[rows[has]])
    nnf = _clip(fine.targets + offsets, fine.hole.shape)
    bad = ~has | (fine.source_row[nnf[:, 0], nnf[:, 1]] < 0)
    nnf[bad] = fine.sources[rng.integers(len(fine.sources), size=int(bad.sum()))]
    return nnf


def patchmatch_np(image: np.ndarray, mask: np.ndarray, seed: int = 0) -> np.ndarray:
    """Exemplar-based fill with 15x15 patches (see the notes above ``PATCH_RADIUS``); deterministic for a seed.
    Raises ValueError when no complete 15x15 patch outside the hole exists."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return np.array(image, dtype=np.uint8)
    rng = np.random.default_rng(seed)
    levels = _pyramid(np.ascontiguousarray(image), mask)
    coarsest = levels[0]
    # A smooth start (Telea) rather than a flat colour: inside a large flat area every patch matches equally
    # well, so the EM keeps whatever brightness the start had there; the start only has to be close.
    estimate = telea(coarsest.image, coarsest.hole).astype(np.float32)
    nnf = _initial_nnf(coarsest, rng)
    for depth, level in enumerate(levels):
        if depth > 0:
            nnf = _upsample_nnf(levels[depth - 1], nnf, level, rng)
            estimate = _vote(level, nnf)
        for _ in range(FINEST_ITERATIONS + 2 * (len(levels) - 1 - depth)):
            nnf = _search(level, estimate, nnf, rng)
            estimate = _vote(level, nnf)
    return np.clip(np.round(estimate), 0, 255).astype(np.uint8)
