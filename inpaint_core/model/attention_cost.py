"""Which contextual-attention path to take: the work of each, and the choice the generator makes from it."""
from __future__ import annotations

import torch

from .attention_fast import chunk_work

# Above this many score entries (L x L) the dense op's copies of the matrix cost gigabytes (1024x1024 input:
# 268 M entries per copy), so inference takes the fast path whatever the device.
DENSE_MAX_ELEMENTS = 64 * 2**20


def dense_path_macs(cells: int, channels: int) -> int:
    """Multiply-accumulates of the dense op for one image: every cell's scores against every patch (C*9 each)
    and its rebuild from every patch (C*16 each)."""
    return cells * cells * channels * (9 + 16)


def fast_path_macs(needed_rows: torch.Tensor, grid_shape: tuple[int, int], channels: int, fuse: bool = True) -> int:
    """Multiply-accumulates of the fast path for one image: the pixel dot products behind the raw scores of
    every row the propagation reads (C per pixel those rows' patches cover and pixel of the padded grid), and
    the rebuild of each chunk's cells by phases (C*8 per cell and patch)."""
    cells = grid_shape[0] * grid_shape[1]
    padded = (grid_shape[0] + 2) * (grid_shape[1] + 2)
    return sum(pixels * padded * channels + rows * cells * channels * 8
               for pixels, rows in chunk_work(needed_rows, grid_shape, fuse))


def pick_path(grid_shape: tuple[int, int], device_type: str) -> str:
    """"fast" or "dense" for an inference pass that needs only the hole, by cost.

    On a CPU the fast path: its work is at most about 0.4 of the dense op's (every cell needed: 1 + 8 of its
    9 + 16 multiply-accumulates per cell and patch, plus the padding), and even then it ran faster. On
    a GPU the dense op's few large kernels beat the fast path's many small ones (H100, 512x512: 4 ms vs
    6-7 ms), so there the fast path only saves memory on large inputs.
    """
    if (grid_shape[0] * grid_shape[1]) ** 2 > DENSE_MAX_ELEMENTS or device_type == "cpu":
        return "fast"
    return "dense"
