"""Contextual attention (Yu et al. 2018, section 3.2), with the numerics of the official op.

Foreground features are matched against 3x3 background patches on a grid downsampled by ``rate`` (cosine-like:
only the background patch is normalised), the score matrix is smoothed along both diagonals (attention
propagation), patches touching the hole get weight zero, a scaled softmax picks sources, and the output is
rebuilt from full-resolution 4x4 background patches by a transposed convolution.

Matrices are laid out as ``[foreground position, background position]`` with positions flattened row-major
over the matching grid, exactly as the official code reshapes its score volume, because the propagation step
depends on that flattening (it wraps from the end of one row to the start of the next).

Two paths compute the same thing. The dense one is the official op: every position against every patch,
O(L^2) memory for L grid cells. The masked fast path computes only the rows whose output can reach a hole
pixel (``needed``) and only the columns the propagation can carry into a valid patch; where the dense op
zeroes invalid scores before the softmax (so each still adds e^0 to the denominator) it adds that constant.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .layers import downsample_half, resize_nearest

SOFTMAX_SCALE = 10.0
PATCH_NORM_EPS = 1e-4
RATE = 2
# The fast path gathers and indexes; below this share of the dense work it wins (measured by `bench`).
FAST_PATH_MAX_SHARE = 0.6
# Above this many score entries (L x L) the dense op's copies of the matrix cost gigabytes (1024x1024 input:
# 268 M entries per copy), so inference takes the fast path, which scores rows in chunks of this many entries.
DENSE_MAX_ELEMENTS = 64 * 2**20
SCORE_CHUNK_ELEMENTS = 16 * 2**20


@dataclass
class AttentionWeights:
    """Softmax attention of one image, kept for inspection: ``values[i, j]`` is how much foreground grid cell
    ``rows[i]`` copies from background cell ``cols[j]`` (flat row-major indices); cells left out have 0."""

    rows: torch.Tensor    # int64 [R]
    cols: torch.Tensor    # int64 [C]
    values: torch.Tensor  # float [R, C]


@dataclass
class AttentionOutput:
    """What the attention layer hands back.

    features: ``[N, C, h, w]`` rebuilt features (replace the input everywhere; on the fast path only positions
        that can reach the hole are exact, the others are never used).
    offsets: ``[N, 2, h/2, w/2]`` int64, (row, col) of each position's best source patch minus its own position,
        in matching-grid cells (one cell = 2 feature pixels = 8 image pixels); 0 where not computed.
    weights: per image, the softmax attention when asked for.
    """

    features: torch.Tensor
    offsets: torch.Tensor
    weights: list[AttentionWeights] | None = None

    @property
    def grid(self) -> tuple[int, int]:
        return int(self.offsets.shape[-2]), int(self.offsets.shape[-1])


# -- pieces shared by both paths -------------------------------------------------------------------------------
def valid_background(mask_small: torch.Tensor, exclude_small: torch.Tensor | None = None) -> torch.Tensor:
    """``[N, L]`` bool: background patches the fill may copy from, on the matching grid.

    A 3x3 patch is valid when no pixel of it is in the hole (zero padding outside the image counts as known),
    as in the official op. ``exclude_small`` removes more patches the same way (the user's "do not borrow from
    here" brush).
    """
    blocked = mask_small if exclude_small is None else torch.maximum(mask_small, exclude_small)
    touched = F.max_pool2d(blocked, kernel_size=3, stride=1, padding=1)
    return (touched == 0).flatten(1)


def matching_patches(b_small: torch.Tensor) -> torch.Tensor:
    """``[N, C*9, L]`` background 3x3 patches, each divided by max(L2 norm, 1e-4)."""
    patches = F.unfold(b_small, kernel_size=3, padding=1)
    return patches / patches.norm(dim=1, keepdim=True).clamp_min(PATCH_NORM_EPS)


def raw_patches(b: torch.Tensor) -> torch.Tensor:
    """``[N, C*16, L]`` full-resolution 4x4 background patches (stride 2) used to rebuild the output."""
    return F.unfold(b, kernel_size=2 * RATE, stride=RATE, padding=RATE // 2)


def rebuild(columns: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Transposed convolution as fold: ``columns[N, C*16, L_foreground]`` pasted at stride 2, divided by 4."""
    return F.fold(columns, output_size=size, kernel_size=2 * RATE, stride=RATE, padding=RATE // 2) / 4.0


def _argmax_offsets(best: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
    """``best[N, L]`` flat source index -> ``[N, 2, gh, gw]`` (row, col) displacement."""
    gh, gw = grid
    best = best.view(-1, gh, gw)
    rows = torch.arange(gh, device=best.device).view(1, gh, 1)
    cols = torch.arange(gw, device=best.device).view(1, 1, gw)
    return torch.stack((best // gw - rows, best % gw - cols), dim=1)


# -- dense path (the official op) ------------------------------------------------------------------------------
def propagate_diagonal(scores: torch.Tensor) -> torch.Tensor:
    """score[p, q] + score[p-1, q-1] + score[p+1, q+1] on the flattened matrix, zero outside it.

    This is the official conv of the score "image" with a 3x3 identity kernel.
    """
    out = scores.clone()
    out[:, 1:, 1:] += scores[:, :-1, :-1]
    out[:, :-1, :-1] += scores[:, 1:, 1:]
    return out


def propagate(scores: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
    """Attention propagation: diagonal sums in row-major order, then again in column-major order."""
    n = scores.shape[0]
    gh, gw = grid
    scores = propagate_diagonal(scores)
    col_major = scores.view(n, gh, gw, gh, gw).permute(0, 2, 1, 4, 3).reshape(n, gh * gw, gh * gw)
    col_major = propagate_diagonal(col_major)
    return col_major.view(n, gw, gh, gw, gh).permute(0, 2, 1, 4, 3).reshape(n, gh * gw, gh * gw)


def _dense(f_small, b_small, raw, valid, grid, size, fuse, keep_weights):
    foreground = F.unfold(f_small, kernel_size=3, padding=1)  # [N, C*9, L]
    scores = torch.bmm(foreground.transpose(1, 2), matching_patches(b_small))
    if fuse:
        scores = propagate(scores, grid)
    v = valid[:, None, :].to(scores.dtype)
    weights = torch.softmax(scores * v * SOFTMAX_SCALE, dim=-1) * v
    features = rebuild(torch.bmm(raw, weights.transpose(1, 2)), size)
    offsets = _argmax_offsets(weights.argmax(dim=-1), grid)
    kept = None
    if keep_weights:
        everything = torch.arange(weights.shape[-1], device=weights.device)
        kept = [AttentionWeights(everything, everything, w) for w in weights]
    return features, offsets, kept


# -- masked fast path ------------------------------------------------------------------------------------------
class _Grid:
    """Flat-index neighbours on the matching grid, in row-major and in column-major order (with the official
    op's wrap-around between rows/columns); -1 where the neighbour falls off the flattened matrix."""

    def __init__(self, gh: int, gw: int, device: torch.device) -> None:
        self.gh, self.gw, self.size = gh, gw, gh * gw
        self.device = device

    def row_major(self, idx: torch.Tensor, step: int) -> torch.Tensor:
        out = idx + step
        return torch.where((out >= 0) & (out < self.size), out, -1)

    def col_major(self, idx: torch.Tensor, step: int) -> torch.Tensor:
        y, x = idx // self.gw, idx % self.gw
        j = x * self.gh + y + step
        inside = (j >= 0) & (j < self.size)
        j = j.clamp(0, self.size - 1)
        return torch.where(inside, (j % self.gh) * self.gw + j // self.gh, -1)

    def closure(self, idx: torch.Tensor, shift) -> torch.Tensor:
        """idx together with its +-1 neighbours under ``shift``, sorted and unique."""
        both = torch.cat([idx, shift(idx, -1), shift(idx, 1)])
        return torch.unique(both[both >= 0])

    def lookup(self, idx: torch.Tensor) -> torch.Tensor:
        """Map flat index -> position in ``idx``; index ``size`` (for -1) maps to ``len(idx)`` (a zero slot)."""
        table = torch.full((self.size + 1,), len(idx), dtype=torch.long, device=self.device)
        table[idx] = torch.arange(len(idx), device=self.device)
        return table


def _fused_rows(foreground, patches, grid: _Grid, rows, cols, fuse: bool):
    """Propagated scores ``[len(rows), len(cols)]``, computing raw scores only where they are needed."""
    if not fuse:
        return foreground[:, rows].T @ patches[:, cols]
    mid_rows = grid.closure(rows, grid.col_major)
    mid_cols = grid.closure(cols, grid.col_major)
    raw_rows = grid.closure(mid_rows, grid.row_major)
    raw_cols = grid.closure(mid_cols, grid.row_major)
    raw = foreground[:, raw_rows].T @ patches[:, raw_cols]
    raw = F.pad(raw, (0, 1, 0, 1))  # the zero slot for neighbours off the matrix
    at_r, at_c = grid.lookup(raw_rows), grid.lookup(raw_cols)
    mid = sum(raw[at_r[grid.row_major(mid_rows, t)][:, None], at_c[grid.row_major(mid_cols, t)][None, :]]
              for t in (-1, 0, 1))
    mid = F.pad(mid, (0, 1, 0, 1))
    at_r, at_c = grid.lookup(mid_rows), grid.lookup(mid_cols)
    return sum(mid[at_r[grid.col_major(rows, s)][:, None], at_c[grid.col_major(cols, s)][None, :]]
               for s in (-1, 0, 1))


def _masked_softmax_rows(foreground, patches, grid: _Grid, rows, cols, fuse: bool) -> torch.Tensor:
    """The dense op's softmax for ``rows`` over the valid ``cols``: every invalid patch has score exactly 0
    there, so each adds e^0 to the denominator."""
    n_invalid = grid.size - len(cols)
    scores = _fused_rows(foreground, patches, grid, rows, cols, fuse) * SOFTMAX_SCALE
    top = scores.max(dim=1, keepdim=True).values if len(cols) else scores.new_zeros(len(rows), 1)
    if n_invalid:
        top = top.clamp_min(0.0)
    exp = torch.exp(scores - top)
    return exp / (exp.sum(dim=1, keepdim=True) + n_invalid * torch.exp(-top))


def _fast(f_small, b_small, raw, valid, needed_rows, grid_shape, size, fuse, keep_weights):
    n, _, gh, gw = f_small.shape
    grid = _Grid(gh, gw, f_small.device)
    foreground = F.unfold(f_small, kernel_size=3, padding=1)
    patches = matching_patches(b_small)
    columns = torch.zeros(n, raw.shape[1], grid.size, dtype=raw.dtype, device=raw.device)
    best = torch.arange(grid.size, device=raw.device).repeat(n, 1)  # "copies itself" where not computed
    kept = [] if keep_weights else None
    for i in range(n):
        cols = valid[i].nonzero().flatten()
        chunk = max(64, SCORE_CHUNK_ELEMENTS // max(len(cols), 1))
        parts = []
        for rows in needed_rows[i].nonzero().flatten().split(chunk):
            weights = _masked_softmax_rows(foreground[i], patches[i], grid, rows, cols, fuse)
            columns[i][:, rows] = raw[i][:, cols] @ weights.T
            if len(cols):
                # the dense argmax sees zeros for invalid patches; a weight of 0 everywhere picks index 0
                max_weight, winner = weights.max(dim=1)
                best[i, rows] = torch.where(max_weight > 0, cols[winner], 0)
            else:
                best[i, rows] = 0
            if keep_weights:
                parts.append((rows, weights))
        if keep_weights:
            kept.append(AttentionWeights(torch.cat([r for r, _ in parts]) if parts else cols[:0], cols,
                                         torch.cat([w for _, w in parts]) if parts else raw.new_zeros(0, len(cols))))
    return rebuild(columns, size), _argmax_offsets(best, grid_shape), kept


def needed_grid_rows(needed: torch.Tensor) -> torch.Tensor:
    """``[N, L]`` bool: grid cells whose 4x4 pasted patch (stride 2, padding 1) touches a needed position."""
    touched = F.max_pool2d(needed.float(), kernel_size=2 * RATE, stride=RATE, padding=RATE // 2)
    return (touched > 0).flatten(1)


def contextual_attention(f: torch.Tensor, b: torch.Tensor, mask: torch.Tensor | None = None, *,
                         exclude: torch.Tensor | None = None, needed: torch.Tensor | None = None,
                         fuse: bool = True, keep_weights: bool = False, path: str = "auto") -> AttentionOutput:
    """Contextual attention with ksize 3, stride 1, rate 2, softmax scale 10 (the official generator's call).

    f, b: ``[N, C, h, w]`` features (the generator passes the same tensor twice), h and w even.
    mask: ``[1 or N, 1, h, w]``, 1 = hole; None means every background patch is valid.
    exclude: like ``mask``, background the fill must not borrow from (not in the official op).
    needed: ``[1 or N, 1, h, w]`` bool, the output positions that matter; None means all (the dense op).
    path: "dense", "fast" or "auto" (fast when it does clearly less work; needs ``needed``).
    """
    n, _, h, w = f.shape
    if h % 2 or w % 2:
        raise ValueError(f"contextual attention needs even feature sizes, got {h}x{w}")
    # Always float32, also under bf16/fp16 autocast: the softmax scale of 10 turns bf16's 8-bit mantissa
    # in the scores into whole-factor changes of the attention weights.
    with torch.autocast(f.device.type, enabled=False):
        return _contextual_attention(f.float(), b.float(), mask, exclude, needed, fuse, keep_weights, path)


def _contextual_attention(f, b, mask, exclude, needed, fuse, keep_weights, path) -> AttentionOutput:
    n, _, h, w = f.shape
    f_small = downsample_half(f)
    b_small = resize_nearest(b, (int(b.shape[-2] / RATE), int(b.shape[-1] / RATE)))
    grid = (f_small.shape[-2], f_small.shape[-1])
    if mask is None:
        mask = torch.zeros(1, 1, h, w, dtype=f.dtype, device=f.device)
    mask_small = downsample_half(mask.to(f.dtype))
    # Any excluded pixel excludes its matching cell (a nearest resize could step over a thin stroke).
    exclude_small = None if exclude is None else F.adaptive_max_pool2d(exclude.to(f.dtype), grid)
    valid = valid_background(mask_small, exclude_small).expand(n, -1)
    raw = raw_patches(b)

    rows = None if needed is None else needed_grid_rows(needed).expand(n, -1)
    if path == "auto":
        path = "dense"
        if rows is not None:
            share = float(rows.float().mean()) * float(valid.float().mean())
            big = (grid[0] * grid[1]) ** 2 > DENSE_MAX_ELEMENTS
            path = "fast" if share < FAST_PATH_MAX_SHARE or big else "dense"
    if path == "fast":
        if rows is None:
            raise ValueError("the fast path needs the `needed` map")
        features, offsets, kept = _fast(f_small, b_small, raw, valid, rows, grid, (h, w), fuse, keep_weights)
    else:
        features, offsets, kept = _dense(f_small, b_small, raw, valid, grid, (h, w), fuse, keep_weights)
    return AttentionOutput(features=features, offsets=offsets, weights=kept)
