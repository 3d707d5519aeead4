"""The loss terms of the official DeepFill v1 training graph (``build_graph_with_losses``).

Images are ``[N, 3, H, W]`` in [-1, 1]; masks ``[1 or N, 1, H, W]``, 1 = hole; ``x1`` / ``x2`` are the raw
(clipped, not composited) coarse and refined outputs. Boxes are ``[N, 2]`` (top, left) of each sample's
fixed-size local crop.
"""
from __future__ import annotations

import torch

SLOPE_EPSILON = 1e-12


def spatial_discount(height: int, width: int, gamma: float, device: torch.device | None = None) -> torch.Tensor:
    """``[1, 1, H, W]`` weights max(gamma^min(i, H-i), gamma^min(j, W-j)): 1 on the box's top/left edge,
    gamma on its bottom/right edge, smallest in the middle (the official code measures from the box border,
    not from the nearest known pixel as the paper says)."""
    i = torch.arange(height, dtype=torch.float64, device=device)
    j = torch.arange(width, dtype=torch.float64, device=device)
    rows = gamma ** torch.minimum(i, height - i)
    cols = gamma ** torch.minimum(j, width - j)
    return torch.maximum(rows[:, None], cols[None, :]).float()[None, None]


def crop(x: torch.Tensor, boxes: torch.Tensor, size: int) -> torch.Tensor:
    """``[N, C, size, size]``: for each sample the square at its (top, left) in ``boxes``; differentiable."""
    x = x.expand(boxes.shape[0], -1, -1, -1)
    return torch.stack([x[i, :, t:t + size, l:l + size] for i, (t, l) in enumerate(boxes.tolist())])


def reconstruction_losses(gt: torch.Tensor, x1: torch.Tensor, x2: torch.Tensor | None, mask: torch.Tensor,
                          boxes: torch.Tensor, box_size: int, gamma: float, coarse_alpha: float = 1.2
                          ) -> tuple[torch.Tensor, torch.Tensor]:
    """(``l1_loss``, ``ae_loss``).

    l1_loss: spatially discounted L1 over each sample's box, coarse weighted by ``coarse_alpha``.
    ae_loss: L1 over the known region divided by the known fraction. ``x2=None`` drops the refined terms
    (the official PRETRAIN_COARSE_NETWORK losses).
    """
    discount = spatial_discount(box_size, box_size, gamma, gt.device)
    gt_box = crop(gt, boxes, box_size)
    known = 1.0 - mask
    l1 = coarse_alpha * torch.mean(torch.abs(gt_box - crop(x1, boxes, box_size)) * discount)
    ae = coarse_alpha * torch.mean(torch.abs(gt - x1) * known)
    if x2 is not None:
        l1 = l1 + torch.mean(torch.abs(gt_box - crop(x2, boxes, box_size)) * discount)
        ae = ae + torch.mean(torch.abs(gt - x2) * known)
    return l1, ae / torch.mean(known)


def wgan_losses(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(critic loss mean(D(fake)) - mean(D(real)), generator loss -mean(D(fake)))."""
    return fake_scores.mean() - real_scores.mean(), -fake_scores.mean()


def interpolates(real: torch.Tensor, fake: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """real + alpha * (fake - real), one alpha per sample, as a leaf that records its gradient."""
    return (real + alpha.view(-1, 1, 1, 1) * (fake - real)).detach().requires_grad_(True)


def gradient_penalty(scores: torch.Tensor, inputs: torch.Tensor, mask: torch.Tensor,
                     grad_scale: float = 1.0) -> torch.Tensor:
    """mean over the batch of (||dD/dx restricted to the hole||_2 - 1)^2 (neuralgym ``gradients_penalty``).

    ``scores`` = D(``inputs``); the graph is kept so the penalty trains the critic. ``grad_scale`` is the
    fp16 loss scale: the scores are scaled before differentiating (so small gradients survive fp16) and the
    gradient is unscaled after.
    """
    (grads,) = torch.autograd.grad(scores.sum() * grad_scale, inputs, create_graph=True)
    grads = grads.float() / grad_scale
    # The epsilon keeps the square root's gradient finite where a sample's gradient is zero over the hole
    # (sqrt'(0) is infinite, and inf * 0 = NaN would poison the critic's weights).
    slopes = torch.sqrt(torch.sum(grads.square() * mask, dim=(1, 2, 3)) + SLOPE_EPSILON)
    return torch.mean((slopes - 1.0) ** 2)


def hole_l1(gt: torch.Tensor, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean absolute error over the hole pixels only (a progress measure, not a training loss)."""
    mask = mask.expand_as(gt)
    return (torch.abs(gt - x) * mask).sum() / mask.sum().clamp_min(1.0)
