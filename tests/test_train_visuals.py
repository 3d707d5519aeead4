"""The TensorBoard sample grid works with one mask per batch and with one mask per sample."""
from __future__ import annotations

import torch

from inpaint_core.train.visuals import sample_grid


def test_grid_with_per_sample_masks_larger_than_the_rows_shown() -> None:
    images = torch.rand(8, 3, 16, 16) * 2 - 1
    masks = torch.zeros(8, 1, 16, 16)
    masks[:, :, 4:12, 4:12] = 1
    offsets = torch.zeros(8, 2, 2, 2, dtype=torch.long)
    grid = sample_grid(images, masks, images, images, offsets, rows=4)
    assert grid.shape == (4 * 16, 5 * 16, 3)
    shared = sample_grid(images, masks[:1], images, images, offsets, rows=4)
    assert (grid == shared).all()
    # the hole as the network sees it: zeros, mid grey (127.5, truncated as the official code does)
    assert (grid[4:12, 4:12] == 127).all()
