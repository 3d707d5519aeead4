"""DeepFill v1 generator: coarse network, two-branch refinement network, merged decoder.

Layer for layer the official ``build_inpaint_net`` (cnum 32). Every conv knows its official variable scope,
so ``tf_variable_names()`` maps each parameter to ``inpaint_net/<scope>/kernel|bias`` one to one.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Iterable, Iterator

import torch
import torch.nn.functional as F
from torch import nn

from .attention import AttentionOutput, contextual_attention
from .attention_cost import pick_path
from .attention_fast import masked_contextual_attention
from .grid import MATCHING_CELL, RATE
from .layers import GenConv, GenDeconv, align_corners_indices, any_pool, resize_nearest

CNUM = 32


def _encoder(prefix: str, widths: tuple[int, int, int, int, int]) -> list[nn.Module]:
    """conv1 (5x5) .. conv6 / pmconv6: two stride-2 downsamplings to 1/4 resolution."""
    c1, c2, c3, c4, c5 = widths
    return [
        GenConv(f"{prefix}conv1", 5, c1, 5),
        GenConv(f"{prefix}conv2_downsample", c1, c2, 3, stride=2),
        GenConv(f"{prefix}conv3", c2, c3, 3),
        GenConv(f"{prefix}conv4_downsample", c3, c4, 3, stride=2),
        GenConv(f"{prefix}conv5", c4, c5, 3),
    ]


def _atrous(prefix: str, channels: int) -> list[nn.Module]:
    return [GenConv(f"{prefix}conv{i}_atrous", channels, channels, 3, dilation=d)
            for i, d in zip(range(7, 11), (2, 4, 8, 16))]


def _decoder(prefix: str, in_ch: int) -> list[nn.Module]:
    """conv11 .. conv17: back to full resolution, 3 channels, no activation on the last conv."""
    c = CNUM
    return [
        GenConv(f"{prefix}conv11", in_ch, 4 * c, 3),
        GenConv(f"{prefix}conv12", 4 * c, 4 * c, 3),
        GenDeconv(f"{prefix}conv13_upsample", 4 * c, 2 * c),
        GenConv(f"{prefix}conv14", 2 * c, 2 * c, 3),
        GenDeconv(f"{prefix}conv15_upsample", 2 * c, c),
        GenConv(f"{prefix}conv16", c, c // 2, 3),
        GenConv(f"{prefix}conv17", c // 2, 3, 3, activation=None),
    ]


def _named(*layers: nn.Module) -> nn.Sequential:
    """A Sequential whose children are named after their official scopes (readable state-dict keys)."""
    return nn.Sequential(OrderedDict((layer.tf_scope, layer) for layer in layers))


def _upsample_sources(needed: torch.Tensor) -> torch.Tensor:
    """Through a x2 nearest upsampling backwards: a low-res pixel matters if any pixel copied from it does."""
    h, w = needed.shape[-2:]
    pick_rows = torch.zeros(h // 2, h, device=needed.device)
    pick_rows[align_corners_indices(h // 2, h, needed.device), torch.arange(h, device=needed.device)] = 1
    pick_cols = torch.zeros(w // 2, w, device=needed.device)
    pick_cols[align_corners_indices(w // 2, w, needed.device), torch.arange(w, device=needed.device)] = 1
    return pick_rows @ needed @ pick_cols.T


def reach_back(needed: torch.Tensor, layers: Iterable[nn.Module]) -> torch.Tensor:
    """Input positions of ``layers`` (stride-1 convs and x2 upsamplings) that can influence the ``needed``
    output positions: the receptive field walked backwards, layer by layer (a square per conv, which covers
    dilated taps too). Squares in a row of convs add up to one square, grown once."""
    needed = needed.float()
    radius = 0
    for layer in reversed(list(layers)):
        if isinstance(layer, GenDeconv):
            needed = _upsample_sources(_grow(needed, radius + _radius(layer.conv)))
            radius = 0
        elif isinstance(layer, GenConv):
            radius += _radius(layer)
        else:
            raise TypeError(f"cannot trace the receptive field through {type(layer).__name__}")
    return _grow(needed, radius) > 0


def _radius(conv: GenConv) -> int:
    return conv.dilation[0] * (conv.kernel_size[0] - 1) // 2


def _grow(needed: torch.Tensor, radius: int) -> torch.Tensor:
    """A 0/1 map grown by a (2 radius + 1) square: a box mean above zero, several times faster than max_pool2d."""
    if radius == 0:
        return needed
    return (F.avg_pool2d(needed, 2 * radius + 1, stride=1, padding=radius) > 0).float()


def network_input(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Image, a ones channel (lets zero padding mark the border) and the mask: 5 channels."""
    ones = torch.ones_like(x[:, :1])
    # Channels-last lets oneDNN/cuDNN pick their fastest conv kernels (measured 1.35x for a training step on
    # CPU); every conv after this one keeps the layout.
    return torch.cat([x, ones, ones * mask], dim=1).contiguous(memory_format=torch.channels_last)


class CoarseNetwork(nn.Module):
    """Stage 1: an encoder-decoder with dilated convolutions."""

    def __init__(self) -> None:
        super().__init__()
        c = CNUM
        self.layers = _named(
            *_encoder("", (c, 2 * c, 2 * c, 4 * c, 4 * c)),
            GenConv("conv6", 4 * c, 4 * c, 3),
            *_atrous("", 4 * c),
            *_decoder("", 4 * c),
        )

    def forward(self, xin: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.layers(network_input(xin, mask)).clamp(-1.0, 1.0)


class RefineNetwork(nn.Module):
    """Stage 2: a dilated-conv branch and a contextual-attention branch, merged by a shared decoder."""

    def __init__(self) -> None:
        super().__init__()
        c = CNUM
        self.hallucination = _named(
            *_encoder("x", (c, c, 2 * c, 2 * c, 4 * c)),
            GenConv("xconv6", 4 * c, 4 * c, 3),
            *_atrous("x", 4 * c),
        )
        self.attention_encoder = _named(
            *_encoder("pm", (c, c, 2 * c, 4 * c, 4 * c)),
            GenConv("pmconv6", 4 * c, 4 * c, 3, activation="relu"),
        )
        self.attention_decoder = _named(
            GenConv("pmconv9", 4 * c, 4 * c, 3),
            GenConv("pmconv10", 4 * c, 4 * c, 3),
        )
        self.decoder = _named(*_decoder("all", 8 * c))

    def forward(self, x: torch.Tensor, mask: torch.Tensor, *, exclude: torch.Tensor | None = None,
                keep_attention: bool = False, attention_path: str = "auto") -> tuple[torch.Tensor, AttentionOutput]:
        xnow = network_input(x, mask)
        hallucinated = self.hallucination(xnow)
        features = self.attention_encoder(xnow)
        size = (features.shape[-2], features.shape[-1])
        if attention_path == "auto":
            # With gradients (training) the whole output feeds the losses: the dense op. Without, only the hole
            # is kept, and the cheaper of the two paths computes what reaches it.
            attention_path = "dense" if torch.is_grad_enabled() else \
                pick_path((size[0] // RATE, size[1] // RATE), features.device.type)
        mask_small = resize_nearest(mask, size)
        exclude_small = None if exclude is None else any_pool(exclude, size)
        if attention_path == "fast":
            needed = reach_back(mask, [*self.attention_decoder, *self.decoder])
            attention = masked_contextual_attention(features, features, mask_small, needed, exclude=exclude_small,
                                                    keep_weights=keep_attention)
        elif attention_path == "dense":
            attention = contextual_attention(features, features, mask_small, exclude=exclude_small,
                                             keep_weights=keep_attention)
        else:
            raise ValueError(f"attention_path must be 'auto', 'dense' or 'fast', not {attention_path!r}")
        borrowed = self.attention_decoder(attention.features)
        out = self.decoder(torch.cat([hallucinated, borrowed], dim=1)).clamp(-1.0, 1.0)
        return out, attention


@dataclass
class GeneratorOutput:
    coarse: torch.Tensor      # x_stage1, [N, 3, H, W] in [-1, 1]
    refined: torch.Tensor     # x_stage2, [N, 3, H, W] in [-1, 1]
    attention: AttentionOutput


class InpaintGenerator(nn.Module):
    """The full generator. Input sizes must be whole matching cells (``grid.MATCHING_CELL``; the pipeline pads)."""

    def __init__(self) -> None:
        super().__init__()
        self.coarse = CoarseNetwork()
        self.refine = RefineNetwork()

    def forward(self, image: torch.Tensor, mask: torch.Tensor, *, exclude: torch.Tensor | None = None,
                keep_attention: bool = False, attention_path: str = "auto") -> GeneratorOutput:
        """image ``[N, 3, H, W]`` in [-1, 1] (hole content is ignored); mask ``[1 or N, 1, H, W]``, 1 = hole;
        exclude: optional ``[1 or N, 1, H, W]``, 1 = background the attention may not copy from.
        attention_path: "dense" (the official op), "fast" (exact inside the hole only), or "auto": fast when
        it saves work and no gradients are recorded."""
        h, w = image.shape[-2:]
        if h % MATCHING_CELL or w % MATCHING_CELL:
            raise ValueError(f"generator input must be a multiple of {MATCHING_CELL}, got {h}x{w}")
        mask = mask.to(image.dtype)
        xin = image * (1.0 - mask)
        coarse = self.coarse(xin, mask)
        pasted = coarse * mask + xin * (1.0 - mask)
        refined, attention = self.refine(pasted, mask, exclude=exclude, keep_attention=keep_attention,
                                         attention_path=attention_path)
        return GeneratorOutput(coarse=coarse, refined=refined, attention=attention)

    def prepare_for_inference(self, device: torch.device) -> InpaintGenerator:
        """Evaluation mode without gradients on ``device``, kernels stored channels-last like the feature maps
        (otherwise every conv converts its kernel again on every call). Returns self."""
        return self.eval().requires_grad_(False).to(device, memory_format=torch.channels_last)

    def tf_variable_names(self) -> Iterator[tuple[str, str]]:
        """(state-dict key, official TF variable name) for every parameter."""
        for module_name, module in self.named_modules():
            if isinstance(module, GenConv):
                yield f"{module_name}.weight", f"inpaint_net/{module.tf_scope}/kernel"
                yield f"{module_name}.bias", f"inpaint_net/{module.tf_scope}/bias"
