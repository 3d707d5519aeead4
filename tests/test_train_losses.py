"""Loss terms against closed forms and hand computations."""
from __future__ import annotations

import math

import pytest
import torch

from inpaint_core.train.losses import (crop, gradient_penalty, hole_l1, interpolates, reconstruction_losses,
                                       spatial_discount, wgan_losses)

# float32's unit roundoff. A float32 sum or mean of K positive terms is within K * U32 of the exact value,
# relatively (every rounding at most U32 of a partial sum); pytest.approx's default rel=1e-6 is 17 U32.
U32 = 2.0 ** -24


def test_discount_equals_the_closed_form():
    gamma = 0.5
    weights = spatial_discount(4, 5, gamma)[0, 0]
    for i in range(4):
        for j in range(5):
            # computed in float64, stored as float32: one rounding (U32), within the default rel=1e-6
            assert weights[i, j].item() == pytest.approx(max(gamma ** min(i, 4 - i), gamma ** min(j, 5 - j)))


def test_discount_at_the_official_size():
    weights = spatial_discount(128, 128, 0.9)[0, 0]
    # one float32 rounding of float64 values (U32 = 6e-8 relative)
    assert weights[0, 0] == 1.0 and weights[127, 127] == pytest.approx(0.9)
    assert weights[64, 64].item() == pytest.approx(0.9 ** 64, rel=2 * U32)
    assert weights.mean().item() == pytest.approx(0.253, abs=0.001)  # the official mean, known to 3 digits


def test_crop_takes_each_samples_box():
    x = torch.arange(2 * 1 * 6 * 6, dtype=torch.float32).view(2, 1, 6, 6)
    out = crop(x, torch.tensor([[0, 1], [3, 2]]), 3)
    assert torch.equal(out[0, 0], x[0, 0, 0:3, 1:4]) and torch.equal(out[1, 0], x[1, 0, 3:6, 2:5])
    shared = crop(x[:1], torch.tensor([[1, 1], [2, 2]]), 2)  # one mask for the batch, two boxes
    assert shared.shape == (2, 1, 2, 2) and torch.equal(shared[1, 0], x[0, 0, 2:4, 2:4])


def test_reconstruction_losses_by_hand():
    gt = torch.zeros(1, 3, 4, 4)
    x1 = torch.full((1, 3, 4, 4), 0.5)
    x2 = torch.full((1, 3, 4, 4), 0.25)
    mask = torch.zeros(1, 1, 4, 4)
    mask[..., 1:3, 1:3] = 1
    boxes = torch.tensor([[0, 0]])
    l1, ae = reconstruction_losses(gt, x1, x2, mask, boxes, 4, 0.9, coarse_alpha=1.2)
    mean_discount = spatial_discount(4, 4, 0.9).mean().item()
    # two float32 means of 48 terms, the known fraction's mean of 16, a few products: K <= 2 * 48 + 16 + 8
    rel = 120 * U32
    assert l1.item() == pytest.approx(1.2 * 0.5 * mean_discount + 0.25 * mean_discount, rel=rel)
    known = 12 / 16
    assert ae.item() == pytest.approx((1.2 * 0.5 * known + 0.25 * known) / known, rel=rel)
    l1_coarse, ae_coarse = reconstruction_losses(gt, x1, None, mask, boxes, 4, 0.9, coarse_alpha=1.2)
    assert l1_coarse.item() == pytest.approx(1.2 * 0.5 * mean_discount, rel=rel)
    assert ae_coarse.item() == pytest.approx(1.2 * 0.5, rel=rel)


def test_wgan_losses():
    real, fake = torch.tensor([[1.0], [3.0]]), torch.tensor([[0.5], [-1.5]])
    d, g = wgan_losses(real, fake)
    # means of two exactly representable halves: exact
    assert d.item() == -0.5 - 2.0 and g.item() == 0.5


def test_gradient_penalty_of_a_linear_critic():
    """D(x) = <w, x> + b has gradient w everywhere, so slope = sqrt(sum(w^2 * mask)) exactly."""
    torch.manual_seed(0)
    w = torch.randn(1, 2, 3, 3, requires_grad=True)
    mask = torch.zeros(1, 1, 3, 3)
    mask[..., 1:, :2] = 1
    real, fake = torch.randn(4, 2, 3, 3), torch.randn(4, 2, 3, 3)
    alpha = torch.rand(4)
    mixed = interpolates(real, fake, alpha)
    assert torch.equal(mixed, real + alpha.view(4, 1, 1, 1) * (fake - real)) and mixed.requires_grad  # same ops
    scores = (mixed * w).sum(dim=(1, 2, 3)) + 0.7
    gp = gradient_penalty(scores, mixed, mask)
    slope = math.sqrt(float((w.detach() ** 2 * mask).sum()))
    # float32: the slope is a sum of 8 squares (8 U32) under a root (halved); slope - 1 loses a factor
    # slope / (slope - 1) (< 3 unless slope is near 1, which it is not here: ~2.5); squared, then a mean of 4:
    # about 2 * 3 * 8 + 4 = 52 U32 = 3e-6. 1e-5 (170 U32) leaves a 3x margin.
    assert abs(slope - 1) > 0.5
    assert gp.item() == pytest.approx((slope - 1) ** 2, rel=1e-5)
    # the penalty trains the critic: d gp / d w = 2 (slope - 1) * w * mask / slope
    (grad_w,) = torch.autograd.grad(gp, w)
    expected = 2 * (slope - 1) * w.detach() * mask / slope
    # the same roundings as gp, then a division by the slope and a product: within the same 1e-5 relative
    assert torch.allclose(grad_w, expected, rtol=1e-5, atol=0)
    # a loss scale (fp16 training) changes nothing but the intermediate magnitudes: a power of two scales exactly
    scaled = gradient_penalty((mixed * w).sum(dim=(1, 2, 3)), mixed, mask, grad_scale=1024.0)
    assert scaled.item() == gp.item()


def test_gradient_penalty_stays_finite_where_the_hole_gets_no_gradient():
    """A sample whose crop holds no hole pixels has slope 0: penalty 1, and a finite (zero) gradient."""
    w = torch.randn(1, 2, 3, 3, requires_grad=True)
    mixed = interpolates(torch.randn(2, 2, 3, 3), torch.randn(2, 2, 3, 3), torch.rand(2))
    gp = gradient_penalty((mixed * w).sum(dim=(1, 2, 3)), mixed, torch.zeros(2, 1, 3, 3))
    (grad_w,) = torch.autograd.grad(gp, w)
    # the epsilon 1e-12 under the root makes the slope 1e-6, so the penalty is (1 - 1e-6)^2 = 1 - 2e-6
    assert gp.item() == pytest.approx(1.0, abs=3e-6) and torch.equal(grad_w, torch.zeros_like(grad_w))


def test_hole_l1_counts_hole_pixels_only():
    gt = torch.zeros(2, 3, 2, 2)
    x = torch.ones(2, 3, 2, 2)
    x[:, :, 0, 0] = 3
    mask = torch.zeros(1, 1, 2, 2)
    mask[..., 1, 1] = 1
    assert hole_l1(gt, x, mask).item() == 1.0
