"""Contextual attention (Yu et al. 2018, section 3.2, Figures 3 and 4): the official dense op.

Foreground features are matched against 3x3 background patches on a grid downsampled by ``RATE`` (cosine-like:
only the background patch is normalised), the score matrix is smoothed along both diagonals (attention
propagation), patches touching the hole get weight zero, a scaled softmax picks sources, and the output is
rebuilt from full-resolution 4x4 background patches by a transposed convolution.

Matrices are laid out as ``[foreground position, background position]`` with positions flattened row-major
over the matching grid, exactly as the official code reshapes its score volume, because the propagation step
depends on that flattening (it wraps from the end of one row to the start of the next).

This op computes every position against every patch: O(L^2) memory for L grid cells. ``attention_fast.py``
computes the same output only where it can reach the hole, with a fraction of the work; the generator picks
between them.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable, TypeVar

import torch
import torch.nn.functional as F

from .grid import RATE
from .layers import any_pool, downsample_half, resize_nearest

SOFTMAX_SCALE = 10.0
PATCH_NORM_EPS = 1e-4


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
        in matching-grid cells (``grid.py``); 0 where not computed.
    weights: per image, the softmax attention when asked for.
    """

    features: torch.Tensor
    offsets: torch.Tensor
    weights: list[AttentionWeights] | None = None

    @property
    def grid(self) -> tuple[int, int]:
        return int(self.offsets.shape[-2]), int(self.offsets.shape[-1])


Op = TypeVar("Op", bound=Callable[..., AttentionOutput])


def computed_in_float32(op: Op) -> Op:
    """Run ``op(f, b, ...)`` on float32 features (float64 ones stay float64), also under bf16/fp16 autocast:
    the softmax scale of 10 turns bf16's 8-bit mantissa in the scores into whole-factor changes of the
    attention weights. ``b is f`` (the generator matches a map against itself) is kept."""
    @functools.wraps(op)
    def wrapper(f: torch.Tensor, b: torch.Tensor, *args, **kwargs) -> AttentionOutput:
        h, w = f.shape[-2:]
        if h % 2 or w % 2:
            raise ValueError(f"contextual attention needs even feature sizes, got {h}x{w}")
        with torch.autocast(f.device.type, enabled=False):
            wide = f if f.dtype == torch.float64 else f.float()
            return op(wide, wide if b is f else b.to(wide.dtype), *args, **kwargs)
    return wrapper  # type: ignore[return-value]


@computed_in_float32
def contextual_attention(f: torch.Tensor, b: torch.Tensor, mask: torch.Tensor | None = None, *,
                         exclude: torch.Tensor | None = None, fuse: bool = True,
                         keep_weights: bool = False) -> AttentionOutput:
    """The official op with ksize 3, stride 1, rate 2, softmax scale 10 (the generator's call).

    f, b: ``[N, C, h, w]`` features (the generator passes the same tensor twice), h and w even.
    mask: ``[1 or N, 1, h, w]``, 1 = hole; None means every background patch is valid.
    exclude: like ``mask``, background the fill must not borrow from (not in the official op).
    """
    # Match on the grid downsampled by the rate; rebuild from the full-resolution background.
    f_small, b_small = downsample_pair(f, b)
    grid = (f_small.shape[-2], f_small.shape[-1])
    # Which background patches may be copied: no hole pixel under the 3x3 patch.
    valid = valid_background(mask, exclude, f_small)
    # Conv for compare: every foreground 3x3 patch . every background patch divided by its norm.
    foreground = F.unfold(f_small, kernel_size=3, padding=1)
    patches = matching_patches(b_small, foreground if f_small is b_small else None)
    scores = torch.bmm(foreground.transpose(1, 2), patches)
    # Fuse: add the neighbours along both diagonals, so that coherent patches win together.
    if fuse:
        scores = propagate(scores, grid)
    # Softmax to match: invalid patches get score 0 before the scaled softmax (so each still adds e^0 to the
    # denominator) and weight 0 after it.
    v = valid[:, None, :].to(scores.dtype)
    weights = torch.softmax(scores * v * SOFTMAX_SCALE, dim=-1) * v
    # Deconv for patch pasting: the 4x4 full-resolution patches weighted, overlapping by half, averaged.
    features = rebuild(torch.bmm(raw_patches(b.contiguous()), weights.transpose(1, 2)), b.shape[-2:])
    # Each position's strongest source, as a displacement (the flow picture).
    offsets = argmax_offsets(weights.argmax(dim=-1), grid)
    kept = None
    if keep_weights:
        everything = torch.arange(weights.shape[-1], device=weights.device)
        kept = [AttentionWeights(everything, everything, w) for w in weights]
    return AttentionOutput(features=features, offsets=offsets, weights=kept)


# -- the steps, also used by the fast path ---------------------------------------------------------------------
def downsample_pair(f: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(f, b) at the matching grid's resolution (neuralgym's nearest resize, align_corners=True), in plain NCHW
    layout: unfold and the patch norms run several times slower on the generator's channels-last maps, and
    after downsampling the copy is a quarter of the size. One tensor when ``b is f``."""
    f_small = downsample_half(f).contiguous()
    if b is f:
        return f_small, f_small
    return f_small, resize_nearest(b, (int(b.shape[-2] / RATE), int(b.shape[-1] / RATE))).contiguous()


def valid_background(mask: torch.Tensor | None, exclude: torch.Tensor | None, f_small: torch.Tensor
                     ) -> torch.Tensor:
    """``[N, L]`` bool: background patches the fill may copy from, on the matching grid of ``f_small``.

    A 3x3 patch is valid when no pixel of it is in the hole (zero padding outside the image counts as known),
    as in the official op. ``exclude`` removes more patches the same way (the user's "do not borrow from
    here" brush), shrunk so that a cell is excluded when any pixel under it is.
    """
    n, _, gh, gw = f_small.shape
    blocked = f_small.new_zeros(1, 1, gh, gw) if mask is None else downsample_half(mask.to(f_small.dtype))
    if exclude is not None:
        blocked = torch.maximum(blocked, any_pool(exclude, (gh, gw)).to(f_small.dtype))
    touched = F.max_pool2d(blocked, kernel_size=3, stride=1, padding=1)
    return (touched == 0).flatten(1).expand(n, -1)


def patch_norms(b_small: torch.Tensor) -> torch.Tensor:
    """``[N, L]`` L2 norm of each background 3x3 patch (zero padding outside), at least 1e-4: a 3x3 box sum of
    per-pixel squared norms, 100x faster than a norm across unfolded rows."""
    squares = F.avg_pool2d(b_small.square().sum(dim=1, keepdim=True), 3, stride=1, padding=1,
                           count_include_pad=True) * 9
    return squares.clamp_min(0).sqrt().flatten(1).clamp_min(PATCH_NORM_EPS)


def matching_patches(b_small: torch.Tensor, unfolded: torch.Tensor | None = None) -> torch.Tensor:
    """``[N, C*9, L]`` background 3x3 patches, each divided by max(L2 norm, 1e-4); ``unfolded`` is
    ``F.unfold(b_small, 3, padding=1)`` when the caller already has it."""
    patches = F.unfold(b_small, kernel_size=3, padding=1) if unfolded is None else unfolded
    return patches / patch_norms(b_small)[:, None, :]


def propagate_diagonal(scores: torch.Tensor) -> torch.Tensor:
    """score[p, q] + score[p-1, q-1] + score[p+1, q+1] on the flattened matrix, zero outside it: the official
    conv of the score "image" with a 3x3 identity kernel."""
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


def raw_patches(b: torch.Tensor) -> torch.Tensor:
    """``[N, C*16, L]`` full-resolution 4x4 background patches (stride 2) used to rebuild the output."""
    return F.unfold(b, kernel_size=2 * RATE, stride=RATE, padding=RATE // 2)


def rebuild(columns: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Transposed convolution: ``columns[N, C*16, L_foreground]`` pasted at stride 2 (padding 1), divided by
    4. The same sums as ``F.fold``, as 16 strided adds of whole feature maps: 2.5x faster on the CPU."""
    n, h, w, pad = columns.shape[0], size[0], size[1], RATE // 2
    patches = columns.view(n, -1, 2 * RATE, 2 * RATE, h // RATE, w // RATE)
    out = columns.new_zeros(n, patches.shape[1], h + 2 * pad, w + 2 * pad)
    for ki in range(2 * RATE):
        for kj in range(2 * RATE):
            out[:, :, ki:ki + h:RATE, kj:kj + w:RATE] += patches[:, :, ki, kj]
    return out[:, :, pad:pad + h, pad:pad + w] / 4.0


def argmax_offsets(best: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
    """``best[N, L]`` flat source index -> ``[N, 2, gh, gw]`` (row, col) displacement."""
    gh, gw = grid
    best = best.view(-1, gh, gw)
    rows = torch.arange(gh, device=best.device).view(1, gh, 1)
    cols = torch.arange(gw, device=best.device).view(1, 1, gw)
    return torch.stack((best // gw - rows, best % gw - cols), dim=1)
