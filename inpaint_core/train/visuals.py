"""The TensorBoard image grid: one row per sample, columns input with hole | coarse | refined | flow | truth."""
from __future__ import annotations

import numpy as np
import torch

from ..flow import offsets_to_rgb
from ..pipeline import to_uint8


def sample_grid(truth: torch.Tensor, mask: torch.Tensor, coarse: torch.Tensor, refined: torch.Tensor,
                offsets: torch.Tensor, rows: int = 4) -> np.ndarray:
    """uint8 ``[rows * H, 5 * W, 3]`` (RGB). Coarse and refined are shown pasted into the known pixels, as the
    pipeline composes them; the hole in the input is what the network sees (zeros, i.e. mid grey)."""
    n = min(rows, truth.shape[0])
    truth, coarse, refined, offsets = truth[:n], coarse[:n], refined[:n], offsets[:n]
    mask = mask[:n].expand(n, 1, -1, -1).to(truth.dtype)  # one mask per batch, or one per sample
    known = truth * (1 - mask)
    columns = [to_uint8(known), to_uint8(coarse * mask + known), to_uint8(refined * mask + known)]
    flow = offsets_to_rgb(offsets.cpu().numpy())
    factor = truth.shape[-2] // flow.shape[1], truth.shape[-1] // flow.shape[2]
    columns.append(flow.repeat(factor[0], axis=1).repeat(factor[1], axis=2))
    columns.append(to_uint8(truth))
    return np.concatenate([np.concatenate(list(row), axis=1) for row in zip(*columns)], axis=0)
