"""The building blocks of the official generator, with TensorFlow's numerics.

Two things differ from PyTorch's defaults and both change the output: TF "SAME" padding puts the odd pixel
of padding at the bottom/right (so a stride-2 3x3 conv on an even size pads 0 before and 1 after), and every
nearest-neighbour resize in the official graph uses ``align_corners=True``, which picks other source pixels
than ``F.interpolate(mode="nearest")`` when shrinking.
"""
from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F
from torch import nn


def same_padding(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TF "SAME" padding (before, after) along one axis."""
    effective = (kernel - 1) * dilation + 1
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


@functools.lru_cache(maxsize=256)
def _align_corners_indices(n_in: int, n_out: int) -> tuple[int, ...]:
    # tensorflow/core/kernels/image/resize_nearest_neighbor_op.cc: the scale and the product are float32,
    # rounded half away from zero, clamped to the last index.
    scale = torch.tensor((n_in - 1) / (n_out - 1) if n_out > 1 else n_in / n_out, dtype=torch.float32)
    pos = torch.arange(n_out, dtype=torch.float32) * scale
    rounded = torch.floor(pos + 0.5)  # positions are >= 0, so this is round-half-away-from-zero
    return tuple(min(int(i), n_in - 1) for i in rounded.tolist())


def align_corners_indices(n_in: int, n_out: int, device: torch.device | None = None) -> torch.Tensor:
    """Source index of every output index for TF's nearest resize with align_corners=True."""
    return torch.tensor(_align_corners_indices(n_in, n_out), dtype=torch.long, device=device)


@functools.lru_cache(maxsize=256)
def _matches_torch_nearest(n_in: int, n_out: int) -> bool:
    """Whether PyTorch's own nearest rule (floor(i * n_in / n_out)) picks the same pixels; true for every x2
    upsampling, which lets the generator use the fast built-in kernel there."""
    torch_rule = tuple(min(math.floor(i * n_in / n_out), n_in - 1) for i in range(n_out))
    return torch_rule == _align_corners_indices(n_in, n_out)


def resize_nearest(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Nearest-neighbour resize of an NCHW tensor to ``size`` with TF's align_corners=True rule."""
    h, w = x.shape[-2:]
    if (h, w) == tuple(size):
        return x
    if _matches_torch_nearest(h, size[0]) and _matches_torch_nearest(w, size[1]) and x.dim() == 4:
        return F.interpolate(x, size=tuple(size), mode="nearest")
    rows = align_corners_indices(h, size[0], x.device)
    cols = align_corners_indices(w, size[1], x.device)
    if x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last):
        # pick whole pixels (C values in a row) from the NHWC view: 3x faster than selecting on the NCHW view
        return x.permute(0, 2, 3, 1).index_select(1, rows).index_select(2, cols).permute(0, 3, 1, 2)
    return x.index_select(-2, rows).index_select(-1, cols)


def any_pool(area: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Shrink a 0/1 map to ``size`` (float) so a cell is set when any pixel under it is: a thin stroke must not
    slip between the sampled pixels of a nearest resize (the hole mask keeps the official nearest rule)."""
    return F.adaptive_max_pool2d(area.float(), size)


def downsample_half(x: torch.Tensor) -> torch.Tensor:
    """neuralgym's ``resize(x, scale=0.5)``: target size int(n / 2), align_corners=True."""
    h, w = x.shape[-2:]
    return resize_nearest(x, (int(h / 2), int(w / 2)))


class GenConv(nn.Conv2d):
    """``gen_conv`` of the official code: conv with TF "SAME" padding, then ELU (or another activation).

    ``tf_scope`` is the variable scope of this conv in the official checkpoint (without ``inpaint_net/``),
    so ``<tf_scope>/kernel`` and ``<tf_scope>/bias`` are this module's ``weight`` and ``bias``.
    """

    def __init__(self, tf_scope: str, in_ch: int, out_ch: int, kernel: int, stride: int = 1,
                 dilation: int = 1, activation: str | None = "elu") -> None:
        # At stride 1 "SAME" is symmetric whatever the size, so the conv pads by itself; at stride 2 the
        # split depends on the input size's parity and is done in forward().
        padding = dilation * (kernel - 1) // 2 if stride == 1 else 0
        super().__init__(in_ch, out_ch, kernel, stride=stride, dilation=dilation, padding=padding)
        self.tf_scope = tf_scope
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride[0] != 1:
            k, s, d = self.kernel_size[0], self.stride[0], self.dilation[0]
            top, bottom = same_padding(x.shape[-2], k, s, d)
            left, right = same_padding(x.shape[-1], k, s, d)
            x = F.pad(x, (left, right, top, bottom))
        return activate(super().forward(x), self.activation)


def activate(x: torch.Tensor, activation: str | None) -> torch.Tensor:
    """The official convs' activation (ELU by default), in place at inference (saves an allocation per layer)."""
    inplace = not torch.is_grad_enabled()
    if activation == "elu":
        return F.elu(x, inplace=inplace)
    if activation == "relu":
        return F.relu(x, inplace=inplace)
    return x


# A nearest x2 upsampling followed by a 3x3 conv is, for each output pixel phase (row parity a, column parity
# b), a 2x2 conv of the small input: upsampled rows 2i-1, 2i, 2i+1 are input rows i-1, i, i for a = 0, and
# rows 2i, 2i+1, 2i+2 are i, i, i+1 for a = 1. _PHASE_TAPS[a][u] marks the 3x3 kernel rows (or columns) that
# fall on tap u of phase a.
_PHASE_TAPS = ((1.0, 0.0, 0.0), (0.0, 1.0, 1.0)), ((1.0, 1.0, 0.0), (0.0, 0.0, 1.0))


class GenDeconv(nn.Module):
    """``gen_deconv``: nearest resize x2 (align_corners=True; for x2 it is plain pixel doubling) + 3x3 GenConv.

    Computed as one conv of the small input with four 2x2 kernels, one per output pixel phase, whose outputs
    are interleaved: the same sums regrouped, with 16 instead of 36 multiply-accumulates per input pixel and
    channel pair, and no upsampled copy of the input.

    The official checkpoint nests its conv one scope deeper: ``<name>/<name>_conv/kernel``.
    """

    def __init__(self, tf_scope: str, in_ch: int, out_ch: int) -> None:
        super().__init__()
        self.tf_scope = tf_scope
        self.conv = GenConv(f"{tf_scope}/{tf_scope}_conv", in_ch, out_ch, 3)

    def phase_kernels(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(``[4 * out, in, 2, 2]`` kernels, ``[4 * out]`` biases), phases (0, 0), (0, 1), (1, 0), (1, 1) in
        that order. Folded on every call (about 0.1 ms), so they always follow the parameters."""
        weight = self.conv.weight
        taps = torch.tensor(_PHASE_TAPS, dtype=weight.dtype, device=weight.device)
        kernels = torch.einsum("auy,bvx,oiyx->aboiuv", taps, taps, weight).reshape(-1, weight.shape[1], 2, 2)
        return kernels, self.conv.bias.repeat(4)

    def macs(self, h: int, w: int) -> int:
        """Multiply-accumulates of one image of ``h`` x ``w`` input pixels."""
        return 4 * self.conv.out_channels * (h + 1) * (w + 1) * self.conv.in_channels * 4

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        c = self.conv.out_channels
        # phases[:, block (a, b)] at [i + a, j + b] is output pixel (2i + a, 2j + b)
        phases = F.conv2d(x, *self.phase_kernels(), padding=1)
        layout = torch.channels_last if phases.is_contiguous(memory_format=torch.channels_last) else \
            torch.contiguous_format
        out = torch.empty(n, c, 2 * h, 2 * w, dtype=phases.dtype, device=phases.device, memory_format=layout)
        pixels = out.view(n, c, h, 2, w, 2)
        for a in range(2):
            for b in range(2):
                block = (2 * a + b) * c
                pixels[:, :, :, a, :, b] = phases[:, block:block + c, a:a + h, b:b + w]
        return activate(out, self.conv.activation)


def layers_that_run(module: nn.Module) -> list[nn.Module]:
    """The GenConv and GenDeconv layers of ``module`` in registration order (the order the generator runs
    them). A GenDeconv's own conv only holds its parameters: the phase kernels are folded from them and the
    GenDeconv runs as one layer, so that conv is left out."""
    folded = {id(m.conv) for m in module.modules() if isinstance(m, GenDeconv)}
    return [m for m in module.modules() if isinstance(m, (GenConv, GenDeconv)) and id(m) not in folded]
