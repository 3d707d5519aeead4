"""Mixed precision: which autocast dtype a run uses, and how the generator runs under it.

The generator's convolutions may run in bf16/fp16, but its contextual attention may not: it compares features
by dot products and feeds them to a softmax scaled by 10, so bf16 rounding of the scores (8 bits of mantissa)
moves attention weights by whole factors. So instead of one autocast region around the generator, each conv
runs in its own region and hands fp32 on; everything between convs (attention, composition) stays fp32.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from ..model.layers import GenConv
from .config import ConfigError


def autocast_dtype(amp: str, device: torch.device) -> torch.dtype | None:
    """None for "off"; bf16 anywhere; fp16 on CUDA only (CPU autocast has no loss scaling to make it safe)."""
    if amp == "off":
        return None
    if amp == "fp16" and device.type != "cuda":
        raise ConfigError("amp fp16 needs a CUDA device; use bf16 on the CPU")
    return torch.bfloat16 if amp == "bf16" else torch.float16


class _ConvInLowPrecision:
    """A conv's forward run under autocast, with its output back in fp32."""

    def __init__(self, forward: Callable[[torch.Tensor], torch.Tensor], device_type: str, dtype: torch.dtype):
        self.forward, self.device_type, self.dtype = forward, device_type, dtype

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        with torch.autocast(self.device_type, dtype=self.dtype):
            y = self.forward(x)
        return y.float()


def convs_in_low_precision(generator: nn.Module, device_type: str, dtype: torch.dtype) -> None:
    """Run every conv of ``generator`` under autocast; call the generator itself outside autocast.
    Parameters and state-dict keys are untouched."""
    for module in generator.modules():
        if isinstance(module, GenConv):
            module.forward = _ConvInLowPrecision(module.forward, device_type, dtype)
