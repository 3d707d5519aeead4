"""The WGAN-GP critics of DeepFill v1: a local one on the hole's box and a global one on the whole image.

Each is four 5x5 stride-2 convs with TF "SAME" padding and leaky ReLU 0.2, then a dense layer to one score.
The dense layer reads the features flattened in TF's NHWC (h, w, c) order, so a TF ``dout_*_fc/kernel``
maps to ``fc.weight`` by a plain transpose. Only training uses them.
"""
from __future__ import annotations

import math
from typing import Iterator

import torch
import torch.nn.functional as F
from torch import nn

from .layers import GenConv

CNUM = 64
LEAKY_SLOPE = 0.2  # TF's leaky_relu default


class Critic(nn.Module):
    """One critic; ``size`` is its fixed input side (the dense layer depends on it)."""

    def __init__(self, name: str, size: int, widths: tuple[int, int, int, int]) -> None:
        super().__init__()
        self.name, self.size = name, size
        channels = (3,) + widths
        self.convs = nn.ModuleList(
            GenConv(f"discriminator_{name}/conv{i + 1}", channels[i], channels[i + 1], 5, stride=2, activation=None)
            for i in range(4))
        side = size
        for _ in range(4):
            side = math.ceil(side / 2)  # TF "SAME" output size
        self.fc = nn.Linear(side * side * widths[-1], 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[N, 3, size, size]`` -> ``[N, 1]`` scores."""
        if x.shape[-2:] != (self.size, self.size):
            raise ValueError(f"the {self.name} critic takes {self.size}x{self.size} inputs, got {tuple(x.shape[-2:])}")
        for conv in self.convs:
            x = F.leaky_relu(conv(x), LEAKY_SLOPE)
        return self.fc(x.permute(0, 2, 3, 1).flatten(1))


class Critics(nn.Module):
    """Both critics in one module, so one optimiser and one DistributedDataParallel wrapper hold them."""

    def __init__(self, image_size: int = 256, local_size: int | None = None) -> None:
        super().__init__()
        self.local = Critic("local", local_size or image_size // 2, (CNUM, 2 * CNUM, 4 * CNUM, 8 * CNUM))
        self.global_ = Critic("global", image_size, (CNUM, 2 * CNUM, 4 * CNUM, 4 * CNUM))

    def forward(self, full: torch.Tensor, local: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Scores of the global critic on ``full`` images and of the local critic on ``local`` crops."""
        return self.global_(full), self.local(local)

    def tf_variable_names(self) -> Iterator[tuple[str, str]]:
        """(state-dict key, official TF variable name) for every parameter."""
        for attr, critic in (("local", self.local), ("global_", self.global_)):
            for i, conv in enumerate(critic.convs):
                yield f"{attr}.convs.{i}.weight", f"discriminator/{conv.tf_scope}/kernel"
                yield f"{attr}.convs.{i}.bias", f"discriminator/{conv.tf_scope}/bias"
            yield f"{attr}.fc.weight", f"discriminator/dout_{critic.name}_fc/kernel"
            yield f"{attr}.fc.bias", f"discriminator/dout_{critic.name}_fc/bias"
