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
pixel (``needed``, plus the rows the propagation reads for them), scores them from single-pixel dot products
summed over the patch's nine offsets (a ninth of the unfolded product's work, see ``_raw_scores``),
reproduces the dense op's softmax (which zeroes invalid scores, so each still adds e^0 to the denominator),
and rebuilds the output by pixel phases instead of a transposed convolution, with half its
multiply-accumulates (see ``_phase_stacks``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .layers import any_pool, downsample_half, resize_nearest

SOFTMAX_SCALE = 10.0
PATCH_NORM_EPS = 1e-4
RATE = 2
# Above this many score entries (L x L) the dense op's copies of the matrix cost gigabytes (1024x1024 input:
# 268 M entries per copy), so inference takes the fast path, which scores rows in chunks of this many entries.
DENSE_MAX_ELEMENTS = 64 * 2**20
SCORE_CHUNK_ELEMENTS = 16 * 2**20
EXP_UNDERFLOW = -87.0  # exp(-87) = 1.6e-38, just above float32's smallest normal number
EXP_FLUSH = -86.0  # softmax terms below exp(-86) = 4e-38 are 0 (with 4096 of them they add up to 2e-34)


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


def unfolded_pair(f_small: torch.Tensor, b_small: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(foreground 3x3 patches ``[N, C*9, L]``, normalised background patches), unfolding once when the
    generator matches a feature map against itself."""
    foreground = F.unfold(f_small, kernel_size=3, padding=1)
    return foreground, matching_patches(b_small, foreground if f_small is b_small else None)


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


def _dense(f_small, b_small, b, valid, grid, fuse, keep_weights):
    foreground, patches = unfolded_pair(f_small, b_small)
    raw = raw_patches(b.contiguous())
    scores = torch.bmm(foreground.transpose(1, 2), patches)
    if fuse:
        scores = propagate(scores, grid)
    v = valid[:, None, :].to(scores.dtype)
    weights = torch.softmax(scores * v * SOFTMAX_SCALE, dim=-1) * v
    features = rebuild(torch.bmm(raw, weights.transpose(1, 2)), b.shape[-2:])
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
        """Map flat index -> position in ``idx``; -1 (off the matrix) maps to ``len(idx)``, a zero row."""
        table = torch.full((self.size + 1,), len(idx), dtype=torch.long, device=self.device)
        table[idx] = torch.arange(len(idx), device=self.device)
        return table


def _patch_pixels(rows: torch.Tensor, grid: _Grid) -> tuple[torch.Tensor, list[int], torch.Tensor]:
    """(the cells ``rows`` as flat indices on the grid padded by one, the nine flat shifts of a 3x3 patch
    there, every padded position their patches cover, sorted)."""
    wp = grid.gw + 2
    centres = (rows // grid.gw + 1) * wp + rows % grid.gw + 1
    shifts = [dy * wp + dx for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
    return centres, shifts, torch.unique(torch.cat([centres + shift for shift in shifts]))


def _raw_scores(f_small: torch.Tensor, b_small: torch.Tensor, norms: torch.Tensor, rows: torch.Tensor,
                grid: _Grid) -> torch.Tensor:
    """``[len(rows) + 2, L]``: the raw scores of foreground cells ``rows`` against every normalised background
    patch, between two rows of zeros (``f_small``, ``b_small``: ``[C, gh, gw]``; ``norms``: ``[L]``).

    A 3x3 patch score is the sum over its nine pixel offsets o of single-pixel dot products f(p + o) . b(q + o),
    so one C-deep product of every pixel the rows' patches touch against every pixel (on the grid padded by
    one, the unfold's zero padding) gives all nine terms, each read back as a shifted view: a ninth of the
    multiply-accumulates of multiplying the unfolded C*9-deep patches, for nine cheap row-adds.
    """
    c, (gh, gw) = f_small.shape[0], (grid.gh, grid.gw)
    hp, wp = gh + 2, gw + 2
    lp, margin = hp * wp, wp + 1  # a shift moves a flat padded index by at most the margin
    f_pad = F.pad(f_small, (1, 1, 1, 1)).reshape(c, lp)
    b_pad = f_pad if b_small is f_small else F.pad(b_small, (1, 1, 1, 1)).reshape(c, lp)
    centres, shifts, pixels = _patch_pixels(rows, grid)
    # pixel dot products, stored flat with a margin so that every shifted view stays inside the storage
    # (what a shift pulls in from the margin or the next row lands in padding columns, which are dropped)
    if _recording(f_pad) or _recording(b_pad):
        store = F.pad((f_pad.index_select(1, pixels).T @ b_pad).flatten(), (margin, margin))
    else:
        store = f_pad.new_empty(len(pixels) * lp + 2 * margin)
        store[:margin], store[-margin:] = 0, 0
        torch.mm(f_pad.index_select(1, pixels).T, b_pad, out=store[margin:-margin].view(len(pixels), lp))
    # sums[r, q'] = sum over shifts of dots[centre_r + shift, q' + shift]; pixels no row needs go to a scratch row
    # (target[margin + i]: the row whose centre is padded position i)
    target = torch.full((lp + 2 * margin,), len(rows), dtype=torch.long, device=rows.device)
    target[margin + centres] = torch.arange(len(rows), device=rows.device)
    sums = f_pad.new_zeros(len(rows) + 1, lp)
    for shift in shifts:  # index_add_ of whole contiguous rows: several times faster than on column slices
        sums.index_add_(0, target[margin + pixels - shift],
                        store.as_strided((len(pixels), lp), (lp, 1), margin + shift))
    interior = sums[:-1].view(-1, hp, wp)[:, 1:-1, 1:-1]
    if _recording(sums):
        return F.pad((interior / norms.view(gh, gw)).reshape(len(rows), gh * gw), (0, 0, 1, 1))
    out = sums.new_empty(len(rows) + 2, gh * gw)
    torch.div(interior, norms.view(gh, gw), out=out[1:-1].view(-1, gh, gw))
    out[0], out[-1] = 0, 0
    return out


def _propagation_rows(grid: _Grid, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(rows the column-major sum reads, rows the row-major sum reads): the raw scores ``rows`` depend on."""
    mid_rows = grid.closure(rows, grid.col_major)
    return mid_rows, grid.closure(mid_rows, grid.row_major)


def _row_chunks(needed_rows: torch.Tensor, grid: _Grid) -> tuple[torch.Tensor, ...]:
    """The needed rows of one image in chunks whose score matrices stay near SCORE_CHUNK_ELEMENTS."""
    return needed_rows.nonzero().flatten().split(max(64, SCORE_CHUNK_ELEMENTS // grid.size))


def dense_path_macs(cells: int, channels: int) -> int:
    """Multiply-accumulates of the dense op for one image: every cell's scores against every patch (C*9 each)
    and its rebuild from every patch (C*16 each)."""
    return cells * cells * channels * (9 + 16)


def fast_path_macs(needed_rows: torch.Tensor, grid_shape: tuple[int, int], channels: int, fuse: bool = True) -> int:
    """Multiply-accumulates of the fast path for one image: the pixel dot products behind the raw scores of
    every row the propagation reads (C per pixel those rows' patches cover and pixel of the padded grid), and
    the rebuild of each chunk's cells by phases (C*8 per cell and patch)."""
    grid = _Grid(*grid_shape, needed_rows.device)
    padded = (grid.gh + 2) * (grid.gw + 2)
    total = 0
    for chunk in _row_chunks(needed_rows, grid):
        rows = _with_pasting_cells(chunk, needed_rows, grid)
        scored = _propagation_rows(grid, rows)[1] if fuse else rows
        total += len(_patch_pixels(scored, grid)[2]) * padded * channels + len(rows) * grid.size * channels * 8
    return total


def pick_path(grid_shape: tuple[int, int], device_type: str) -> str:
    """"fast" or "dense" when there is a ``needed`` map, by cost.

    On a CPU the fast path: its work is at most about 0.4 of the dense op's (every cell needed: 1 + 8 of its
    9 + 16 multiply-accumulates per cell and patch, plus the padding), and even then it ran faster. On
    a GPU the dense op's few large kernels beat the fast path's many small ones (H100, 512x512: 4 ms vs
    6-7 ms), so there the fast path only saves memory on large inputs.
    """
    if (grid_shape[0] * grid_shape[1]) ** 2 > DENSE_MAX_ELEMENTS or device_type == "cpu":
        return "fast"
    return "dense"


def _fused_rows(f_small: torch.Tensor, b_small: torch.Tensor, norms: torch.Tensor, grid: _Grid,
                rows: torch.Tensor, fuse: bool) -> torch.Tensor:
    """Propagated scores ``[len(rows), L]`` against every patch, from raw scores of only the rows the two
    diagonal sums reach (``f_small``, ``b_small``: ``[C, gh, gw]``; ``norms``: ``[L]``).

    Keeping every column makes the propagation's column shifts slices: +-1 in row-major order, and +-gw in
    column-major order except where that order wraps from the bottom of one grid column to the top of the next.
    """
    if not fuse:
        return _raw_scores(f_small, b_small, norms, rows, grid)[1:-1]
    gh, gw, size = grid.gh, grid.gw, grid.size
    raw_rows = _propagation_rows(grid, rows)[1]
    # raw_rows holds both neighbours of every mid row, and consecutive indices sit next to each other in a
    # sorted set, so the row-major neighbours are the adjacent rows: the diagonal sum is slices (rows where
    # that does not hold are not mid rows and are never read).
    raw = _raw_scores(f_small, b_small, norms, raw_rows, grid)
    mid = torch.empty_like(raw[1:])  # one row per raw row, then the zero row
    _write(mid[:-1, 1:], torch.add, raw[1:-1, 1:], raw[:-2, :-1])
    mid[:-1, 0] = raw[1:-1, 0]
    mid[-1] = 0
    mid[:-1, :-1] += raw[2:, 1:]
    del raw
    # Each mid row is added straight into the rows it precedes and follows in column-major order (index_add),
    # rather than gathering both neighbours of every row first: half the memory traffic.
    r = len(rows)
    at = grid.lookup(raw_rows)
    cells = torch.cat([raw_rows, raw_rows.new_full((1,), -1)])  # mid's zero row is no cell
    into = grid.lookup(rows)
    targets = []  # per step, where each mid row goes: the row it precedes (+1) or follows (-1), or the scratch row
    for step in (1, -1):
        neighbour = grid.col_major(cells.clamp_min(0), step)
        targets.append(torch.where((cells >= 0) & (neighbour >= 0), into[neighbour.clamp_min(0)], r))
    after, before = targets
    # The rows, then a scratch row for what belongs to no needed row, stored with a grid row (gw entries) to
    # spare at both ends: the rows shifted a grid row either way are then contiguous views of the same storage,
    # and index_add_ of whole contiguous rows is several times faster than into column slices.
    store = mid.new_zeros((r + 1) * size + 2 * gw)
    fused = store[gw:-gw].view(r + 1, size)
    _write(fused, torch.index_select, mid, 0, torch.cat([at[rows], at.new_full((1,), len(raw_rows))]))
    # where column-major order wraps to the next grid column: top <- bottom of the column before, and back
    fused[:, 1:gw].index_add_(0, after, mid[:, (gh - 1) * gw:size - 1])
    fused[:, (gh - 1) * gw:size - 1].index_add_(0, before, mid[:, 1:gw])
    if _recording(mid):  # autograd cannot follow the in-place zeroing below: add column slices instead
        fused[:, gw:].index_add_(0, after, mid[:, :-gw])
        fused[:, :-gw].index_add_(0, before, mid[:, gw:])
        return fused[:r]
    # A shifted view carries a mid row's last (first) grid row past the end (start) of its target into the next
    # (previous) row; that grid row is never a source in that direction, so it is zeroed for the add.
    later, earlier = (store.as_strided((r + 1, size), (size, 1), offset) for offset in (2 * gw, 0))
    last = mid[:, size - gw:].clone()
    mid[:, size - gw:] = 0
    later.index_add_(0, after, mid)  # fused[t, q] += mid[s, q - gw]
    mid[:, size - gw:] = last
    mid[:, :gw] = 0
    earlier.index_add_(0, before, mid)  # fused[t, q] += mid[s, q + gw]
    return fused[:r]


def _softmax_over_valid(scores: torch.Tensor, valid: torch.Tensor, n_invalid: int
                        ) -> tuple[torch.Tensor, torch.Tensor]:
    """(weights, best): the dense op's softmax of full-width ``scores[R, L]``, in place unless autograd
    records them, and each row's argmax as the dense op takes it (0 where every weight is 0). Invalid patches
    get weight 0, yet each adds e^0 to the denominator because the dense op zeroes their scores before its
    softmax."""
    recording = _recording(scores)
    scores = scores * SOFTMAX_SCALE if recording else scores.mul_(SOFTMAX_SCALE)
    if n_invalid:
        fill = scores.masked_fill if recording else scores.masked_fill_
        scores = fill(~valid, float("-inf"))
    highest, best = scores.max(dim=1, keepdim=True)
    top = highest.clamp_min(0.0) if n_invalid else highest
    # the highest weight is exp(highest - top) / denominator: zero exactly where that exp is flushed
    best = torch.where(highest - top > EXP_FLUSH, best, 0).flatten()
    exp = _exp_flushing_underflow(scores - top if recording else scores.sub_(top))
    denominator = exp.sum(dim=1, keepdim=True) + n_invalid * torch.exp(-top)
    return (exp / denominator if recording else exp.div_(denominator)), best


def _exp_flushing_underflow(x: torch.Tensor) -> torch.Tensor:
    """exp(x), 0 where x < EXP_FLUSH; in place unless autograd records ``x``. The CPU's exp is 40x slower on
    arguments whose results underflow, and most softmax entries at scale 10 do, so arguments are clamped
    to EXP_UNDERFLOW first and what falls below exp(EXP_FLUSH) is then set to 0 in the same pass as a
    threshold."""
    floor = math.exp(EXP_FLUSH)
    if _recording(x):
        return F.threshold(torch.exp(x.clamp_min(EXP_UNDERFLOW)), floor, 0.0)
    return F.threshold_(x.clamp_min_(EXP_UNDERFLOW).exp_(), floor, 0.0)


def _recording(x: torch.Tensor) -> bool:
    """Whether autograd records operations on ``x`` (then in-place shortcuts would break its backward)."""
    return torch.is_grad_enabled() and x.requires_grad


# The rebuild by phases. Output pixel y = 2a + e (block a, phase e in {0, 1}) is pasted by the two cells r whose
# 4x4 patch covers it, r = a - d with d in {0, 1} for e = 0 and d in {0, -1} for e = 1, and cell r pastes
# source pixel y + 2(q - r) of patch q: the same phase, in block a + (q - r). Per phase (ey, ex), with B the
# phase's pixel plane of b (zero outside the image) and W the softmax weights:
#     out[a] = 1/4 sum_(dy, dx) sum_q B[q + (dy, dx)] W[a - (dy, dx), q].
# The two dx terms are summed on the weights first (H = W + W of the cell beside, shifted a column), which
# costs one add per weight instead of C multiply-adds; the dy term is a product with B shifted a row whose
# result columns are then read at the cell above or below. That is 8 instead of 16 multiply-adds per
# channel, weight and output cell, and no unfolding of 4x4 patches.
def _phase_stacks(b: torch.Tensor) -> torch.Tensor:
    """``[2 (ex), L, 4C]``: per phase column ex and cell, the pixel of phase rows 0 and 1 each followed by the
    same phase's pixel one cell lower (for 0) or higher (for 1), read for the cell above or below; all divided
    by 4 (the rebuild's normalisation). Cells by channels, like the generator's channels-last maps."""
    c, h, w = b.shape
    gh, gw = h // RATE, w // RATE
    pixels = b.permute(1, 2, 0)  # [h, w, C]: a view without copying on a channels-last map
    stacks = b.new_empty(2, gh, gw, 4, c)
    for ex in range(2):
        _write(stacks[ex, :, :, 0], torch.div, pixels[0::2, ex::2], 4.0)
        _write(stacks[ex, :, :, 2], torch.div, pixels[1::2, ex::2], 4.0)
        stacks[ex, :-1, :, 1] = stacks[ex, 1:, :, 0]  # B[q + (1, 0)]
        stacks[ex, -1, :, 1] = 0
        stacks[ex, 1:, :, 3] = stacks[ex, :-1, :, 2]  # B[q - (1, 0)]
        stacks[ex, 0, :, 3] = 0
    return stacks.view(2, gh * gw, 4 * c)


def _column_sums(weights: torch.Tensor, rows: torch.Tensor, grid: _Grid, ex: int) -> torch.Tensor:
    """``[R, L]``: W[r] plus, shifted one column the same way, W of the cell beside r (r - 1 for ex = 0,
    r + 1 for ex = 1) when that cell is on the grid and in ``rows``."""
    gw = grid.gw
    plane = weights.view(len(rows), -1, gw)
    out = torch.empty_like(plane)
    # Rows are sorted, so a present neighbouring cell is the neighbouring row of the matrix; rows without one
    # are rewritten afterwards (exact, unlike subtracting the wrong term again).
    gap = rows[1:] - rows[:-1] != 1
    edge = rows.new_ones(1, dtype=torch.bool)
    if ex == 0:
        _write(out[1:, :, 1:], torch.add, plane[1:, :, 1:], plane[:-1, :, :-1])
        out[1:, :, 0] = plane[1:, :, 0]
        lone = torch.cat([edge, gap | (rows[1:] % gw == 0)])
    else:
        _write(out[:-1, :, :-1], torch.add, plane[:-1, :, :-1], plane[1:, :, 1:])
        out[:-1, :, -1] = plane[:-1, :, -1]
        lone = torch.cat([gap | (rows[:-1] % gw == gw - 1), edge])
    lone = lone.nonzero().flatten()
    out[lone] = plane[lone]
    return out.view(len(rows), -1)


def _write(out: torch.Tensor, op, a: torch.Tensor, *args) -> None:
    """out = op(a, *args) (torch.add, torch.div, torch.index_select), written straight into ``out`` unless
    autograd records it."""
    if _recording(a):
        out.copy_(op(a, *args))
    else:
        op(a, *args, out=out)


def _rebuild_rows(weights: torch.Tensor, rows: torch.Tensor, grid: _Grid, stacks: torch.Tensor) -> torch.Tensor:
    """``[R, 2 (ey), 2 (ex), C]``: the rebuilt features at the blocks ``rows`` from the weights of the cells
    ``rows``; exact wherever every cell pasting a pixel is among ``rows``."""
    channels, r = stacks.shape[-1] // 4, len(rows)
    at = grid.lookup(rows)
    above = torch.where(rows >= grid.gw, at[(rows - grid.gw).clamp_min(0)], r)
    below = torch.where(rows < grid.size - grid.gw, at[(rows + grid.gw).clamp_max(grid.size - 1)], r)
    out = stacks.new_empty(r, 2, 2, channels)
    for ex in range(2):
        products = F.pad(_column_sums(weights, rows, grid, ex) @ stacks[ex], (0, 0, 0, 1))  # zero row r
        for ey, neighbour in ((0, above), (1, below)):
            own, shifted = products[:, 2 * ey * channels:(2 * ey + 2) * channels].chunk(2, dim=1)
            out[:, ey, ex] = own[:r] + shifted.index_select(0, neighbour)
    return out


def _with_pasting_cells(chunk: torch.Tensor, needed_rows: torch.Tensor, grid: _Grid) -> torch.Tensor:
    """The needed cells within one cell of the blocks ``chunk`` (all cells that paste into them), sorted."""
    y, x = chunk // grid.gw, chunk % grid.gw
    near = []
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            inside = (y + dy >= 0) & (y + dy < grid.gh) & (x + dx >= 0) & (x + dx < grid.gw)
            near.append(((y + dy) * grid.gw + x + dx)[inside])
    cells = torch.unique(torch.cat(near))
    return cells[needed_rows[cells]]


def _fast(f_small, b_small, b, valid, needed_rows, grid_shape, fuse, keep_weights):
    n, channels, h, w = b.shape
    grid = _Grid(*grid_shape, b.device)
    norms = patch_norms(b_small)
    # pixel (2y + ey, 2x + ex) at [y, ey, x, ex]: the feature map, cells by channels
    phases = b.new_zeros(n, grid.gh, 2, grid.gw, 2, channels)
    best = torch.arange(grid.size, device=b.device).repeat(n, 1)  # "copies itself" where not computed
    kept = [] if keep_weights else None
    for i in range(n):
        f_i = f_small[i]
        b_i = f_i if b_small is f_small else b_small[i]  # one padded copy when matching a map against itself
        stacks = _phase_stacks(b[i])
        cols = valid[i].nonzero().flatten()
        n_invalid = grid.size - len(cols)
        parts = []
        for chunk in _row_chunks(needed_rows[i], grid):
            rows = _with_pasting_cells(chunk, needed_rows[i], grid)
            scores = _fused_rows(f_i, b_i, norms[i], grid, rows, fuse)
            weights, winners = _softmax_over_valid(scores, valid[i], n_invalid)
            rebuilt = _rebuild_rows(weights, rows, grid, stacks)
            if len(rows) > len(chunk):  # keep the chunk's own blocks and cells
                at = grid.lookup(rows)[chunk]
                rebuilt, weights, winners = rebuilt.index_select(0, at), weights.index_select(0, at), winners[at]
            phases[i, chunk // grid.gw, :, chunk % grid.gw] = rebuilt
            best[i, chunk] = winners
            if keep_weights:
                parts.append((chunk, weights.index_select(1, cols)))
        if keep_weights:
            kept.append(AttentionWeights(torch.cat([c for c, _ in parts]) if parts else cols[:0], cols,
                                         torch.cat([w for _, w in parts]) if parts else b.new_zeros(0, len(cols))))
    features = phases.view(n, h, w, channels).permute(0, 3, 1, 2)  # NCHW, channels-last in memory
    return features, _argmax_offsets(best, grid_shape), kept


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
    path: "dense", "fast" or "auto" (``pick_path``: the dense op without a ``needed`` map).
    """
    n, _, h, w = f.shape
    if h % 2 or w % 2:
        raise ValueError(f"contextual attention needs even feature sizes, got {h}x{w}")
    # Always float32, also under bf16/fp16 autocast: the softmax scale of 10 turns bf16's 8-bit mantissa
    # in the scores into whole-factor changes of the attention weights.
    with torch.autocast(f.device.type, enabled=False):
        f32 = f.float()
        b32 = f32 if b is f else b.float()  # the generator matches a map against itself
        return _contextual_attention(f32, b32, mask, exclude, needed, fuse, keep_weights, path)


def _contextual_attention(f, b, mask, exclude, needed, fuse, keep_weights, path) -> AttentionOutput:
    n, _, h, w = f.shape
    # Plain NCHW layout for what gets unfolded (unfold and the patch norms run several times slower on the
    # generator's channels-last maps); made after downsampling, where the copy is a quarter of the size.
    f_small = downsample_half(f).contiguous()
    b_small = f_small if b is f else resize_nearest(b, (int(b.shape[-2] / RATE), int(b.shape[-1] / RATE))).contiguous()
    grid = (f_small.shape[-2], f_small.shape[-1])
    if mask is None:
        mask = torch.zeros(1, 1, h, w, dtype=f.dtype, device=f.device)
    mask_small = downsample_half(mask.to(f.dtype))
    exclude_small = None if exclude is None else any_pool(exclude, grid)
    valid = valid_background(mask_small, exclude_small).expand(n, -1)

    rows = None if needed is None else needed_grid_rows(needed).expand(n, -1)
    if path == "auto":
        path = "dense" if rows is None else pick_path(grid, f.device.type)
    if path == "fast":
        if rows is None:
            raise ValueError("the fast path needs the `needed` map")
        features, offsets, kept = _fast(f_small, b_small, b, valid, rows, grid, fuse, keep_weights)
    else:
        features, offsets, kept = _dense(f_small, b_small, b, valid, grid, fuse, keep_weights)
    return AttentionOutput(features=features, offsets=offsets, weights=kept)
