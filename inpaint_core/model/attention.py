"""Contextual attention (Yu et al. 2018, section 3.2), with the numerics of the official op.

Foreground features are matched against 3x3 background patches on a grid downsampled by ``rate`` (cosine-like:
only the background patch is normalised), the score matrix is smoothed along both diagonals (attention
propagation), patches touching the hole get weight zero, a scaled softmax picks sources, and the output is
rebuilt from full-resolution 4x4 background patches by a transposed convolution.

Matrices are laid out as ``[batch, foreground position, background position]`` with positions flattened
row-major over the matching grid, exactly as the official code reshapes its score volume, because the
propagation step depends on that flattening (it wraps from the end of one row to the start of the next).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .layers import downsample_half, resize_nearest

SOFTMAX_SCALE = 10.0
PATCH_NORM_EPS = 1e-4


@dataclass
class AttentionOutput:
    """What the attention layer hands back.

    features: ``[N, C, h, w]`` rebuilt features (replace the input everywhere).
    offsets: ``[N, 2, h/2, w/2]`` int64, (row, col) of each position's best source patch minus its own position,
        in matching-grid cells (one cell = ``rate`` feature pixels).
    weights: ``[N, h/2 * w/2, h/2 * w/2]`` softmax attention (foreground x background), only when asked for.
    """

    features: torch.Tensor
    offsets: torch.Tensor
    weights: torch.Tensor | None = None

    @property
    def grid(self) -> tuple[int, int]:
        return int(self.offsets.shape[-2]), int(self.offsets.shape[-1])


def valid_background(mask_small: torch.Tensor, exclude_small: torch.Tensor | None = None) -> torch.Tensor:
    """``[N, L]`` 1.0 for background patches the fill may copy from, on the matching grid.

    A 3x3 patch is valid when no pixel of it is in the hole (zero padding outside the image counts as known),
    as in the official op. ``exclude_small`` removes more patches the same way (the user's "do not borrow from
    here" brush).
    """
    blocked = mask_small if exclude_small is None else torch.maximum(mask_small, exclude_small)
    touched = F.max_pool2d(blocked, kernel_size=3, stride=1, padding=1)
    return (touched == 0).flatten(1).to(mask_small.dtype)


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


def matching_patches(b_small: torch.Tensor) -> torch.Tensor:
    """``[N, C*9, L]`` background 3x3 patches, each divided by max(L2 norm, 1e-4)."""
    patches = F.unfold(b_small, kernel_size=3, padding=1)
    norms = patches.norm(dim=1, keepdim=True).clamp_min(PATCH_NORM_EPS)
    return patches / norms


def raw_patches(b: torch.Tensor, rate: int) -> torch.Tensor:
    """``[N, C*(2*rate)^2, L]`` full-resolution background patches used to rebuild the output."""
    kernel = 2 * rate
    return F.unfold(b, kernel_size=kernel, stride=rate, padding=rate // 2)


def scaled_softmax(scores: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """The official masked softmax: invalid scores are zeroed (so each still adds e^0 to the denominator),
    then their weights are zeroed."""
    valid = valid[:, None, :]
    return torch.softmax(scores * valid * SOFTMAX_SCALE, dim=-1) * valid


def best_source_offsets(weights: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
    """``[N, 2, gh, gw]`` (row, col) of the argmax source minus the position itself (first max wins)."""
    n = weights.shape[0]
    gh, gw = grid
    best = weights.argmax(dim=-1).view(n, gh, gw)
    rows = torch.arange(gh, device=weights.device).view(1, gh, 1)
    cols = torch.arange(gw, device=weights.device).view(1, 1, gw)
    return torch.stack((best // gw - rows, best % gw - cols), dim=1)


def rebuild(weights: torch.Tensor, raw: torch.Tensor, size: tuple[int, int], rate: int) -> torch.Tensor:
    """Transposed convolution of the attention map with the raw patches (stride ``rate``), divided by 4."""
    columns = torch.bmm(raw, weights.transpose(1, 2))  # [N, C*k*k, L_foreground]
    kernel = 2 * rate
    return F.fold(columns, output_size=size, kernel_size=kernel, stride=rate, padding=rate // 2) / 4.0


def contextual_attention(f: torch.Tensor, b: torch.Tensor, mask: torch.Tensor | None = None, *,
                         exclude: torch.Tensor | None = None, rate: int = 2, fuse: bool = True,
                         keep_weights: bool = False) -> AttentionOutput:
    """The dense op (every foreground position against every background patch), as the official code.

    f, b: ``[N, C, h, w]`` features (the generator passes the same tensor twice), h and w even.
    mask: ``[1 or N, 1, h, w]``, 1 = hole; None means every background patch is valid.
    exclude: like ``mask``, background the fill must not borrow from (not in the official op).
    """
    if rate != 2:
        raise ValueError("only rate=2 (the official generator's setting) is implemented")
    n, _, h, w = f.shape
    if h % 2 or w % 2:
        raise ValueError(f"contextual attention needs even feature sizes, got {h}x{w}")
    f_small = downsample_half(f)
    b_small = resize_nearest(b, (int(b.shape[-2] / rate), int(b.shape[-1] / rate)))
    grid = (f_small.shape[-2], f_small.shape[-1])

    if mask is None:
        mask = torch.zeros(1, 1, h, w, dtype=f.dtype, device=f.device)
    mask_small = downsample_half(mask.to(f.dtype))
    exclude_small = None if exclude is None else downsample_half(exclude.to(f.dtype))
    valid = valid_background(mask_small, exclude_small).expand(n, -1)

    foreground = F.unfold(f_small, kernel_size=3, padding=1)  # [N, C*9, L]
    scores = torch.bmm(foreground.transpose(1, 2), matching_patches(b_small))
    if fuse:
        scores = propagate(scores, grid)
    weights = scaled_softmax(scores, valid)

    features = rebuild(weights, raw_patches(b, rate), (h, w), rate)
    return AttentionOutput(features=features, offsets=best_source_offsets(weights, grid),
                           weights=weights if keep_weights else None)
