"""The masked fast path of contextual attention: the official dense op's output wherever it can reach the hole.

The generator keeps only the hole of the refined image, so attention is needed only at the feature positions
whose rebuilt value can reach a hole pixel (``needed``, traced by ``generator.reach_back``). This path
computes only the score rows of those grid cells (plus the rows the propagation reads for them), scores them
from single-pixel dot products summed over the patch's nine offsets (a ninth of the unfolded product's work,
see ``_raw_scores``), reproduces the dense op's softmax (which zeroes invalid scores, so each still adds e^0 to
the denominator), and rebuilds the output by pixel phases instead of a transposed convolution, with half its
multiply-accumulates (see ``_phase_stacks``). Rows are processed in chunks, so memory stays bounded however
large the input. ``attention_cost.py`` says when this path is worth taking.
"""
from __future__ import annotations

import math
from typing import Callable, Iterator

import torch
import torch.nn.functional as F

from .attention import (SOFTMAX_SCALE, AttentionOutput, AttentionWeights, argmax_offsets, computed_in_float32,
                        downsample_pair, patch_norms, valid_background)
from .grid import RATE

SCORE_CHUNK_ELEMENTS = 16 * 2**20  # rows are scored in chunks of about this many score entries (64 MB)
EXP_UNDERFLOW = -87.0  # exp(-87) = 1.6e-38, just above float32's smallest normal number
EXP_FLUSH = -86.0  # softmax terms below exp(-86) = 4e-38 are 0 (with 4096 of them they add up to 2e-34)


@computed_in_float32
def masked_contextual_attention(f: torch.Tensor, b: torch.Tensor, mask: torch.Tensor | None, needed: torch.Tensor,
                                *, exclude: torch.Tensor | None = None, fuse: bool = True,
                                keep_weights: bool = False) -> AttentionOutput:
    """``attention.contextual_attention`` at the positions ``needed`` (``[1 or N, 1, h, w]`` bool); elsewhere
    the features are not exact and the offsets are 0. Kept weights hold the rows of the needed cells and the
    columns of the valid patches (the dense op's weight on the others is exactly 0)."""
    f_small, b_small = downsample_pair(f, b)
    valid = valid_background(mask, exclude, f_small)
    needed_rows = needed_grid_rows(needed).expand(f.shape[0], -1)
    return _fast(f_small, b_small, b, valid, needed_rows, fuse, keep_weights)


def needed_grid_rows(needed: torch.Tensor) -> torch.Tensor:
    """``[N, L]`` bool: grid cells whose 4x4 pasted patch (stride 2, padding 1) touches a needed position."""
    touched = F.max_pool2d(needed.float(), kernel_size=2 * RATE, stride=RATE, padding=RATE // 2)
    return (touched > 0).flatten(1)


def chunk_work(needed_rows: torch.Tensor, grid_shape: tuple[int, int], fuse: bool = True
               ) -> Iterator[tuple[int, int]]:
    """Per chunk of one image's ``needed_rows`` ``[L]``: (padded-grid pixels whose dot products against the whole
    padded grid give the chunk's raw scores, cells rebuilt). What ``attention_cost`` counts."""
    grid = _Grid(*grid_shape, needed_rows.device)
    for chunk in _row_chunks(needed_rows, grid):
        rows = _with_pasting_cells(chunk, needed_rows, grid)
        scored = _propagation_rows(grid, rows)[1] if fuse else rows
        yield len(_patch_pixels(scored, grid)[2]), len(rows)


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

    def closure(self, idx: torch.Tensor, shift: Callable[[torch.Tensor, int], torch.Tensor]) -> torch.Tensor:
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
    """The needed rows of one image in chunks whose score matrices stay near SCORE_CHUNK_ELEMENTS; none when no
    row is needed (``split`` would give one empty chunk)."""
    rows = needed_rows.nonzero().flatten()
    return rows.split(max(64, SCORE_CHUNK_ELEMENTS // grid.size)) if len(rows) else ()


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


def _write(out: torch.Tensor, op: Callable[..., torch.Tensor], a: torch.Tensor, *args) -> None:
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


def _fast(f_small: torch.Tensor, b_small: torch.Tensor, b: torch.Tensor, valid: torch.Tensor,
          needed_rows: torch.Tensor, fuse: bool, keep_weights: bool) -> AttentionOutput:
    """Per image and chunk of needed rows: scores, softmax, rebuild by phases; only the chunk's own cells kept."""
    n, channels, h, w = b.shape
    grid_shape = (f_small.shape[-2], f_small.shape[-1])
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
    return AttentionOutput(features=features, offsets=argmax_offsets(best, grid_shape), weights=kept)
