"""The generator's upsampling conv computes exactly an x2 pixel doubling followed by its 3x3 conv."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from inpaint_core.model.layers import GenDeconv, activate, resize_nearest


def _reference(deconv: GenDeconv, x: torch.Tensor) -> torch.Tensor:
    """The official graph: resize (align_corners, x2) then a 3x3 "SAME" conv and its ELU."""
    up = resize_nearest(x, (2 * x.shape[-2], 2 * x.shape[-1]))
    return activate(F.conv2d(up, deconv.conv.weight, deconv.conv.bias, padding=1), "elu")


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("h,w", [(4, 4), (5, 7)])
def test_phase_convs_equal_upsampling_then_conv(channels_last: bool, h: int, w: int) -> None:
    torch.manual_seed(h * w)
    deconv = GenDeconv("up", 6, 4)
    torch.nn.init.normal_(deconv.conv.weight, std=0.5)
    torch.nn.init.normal_(deconv.conv.bias, std=0.5)
    x = torch.randn(2, 6, h, w)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        out = deconv(x)
        assert out.shape == (2, 4, 2 * h, 2 * w)
        torch.testing.assert_close(out, _reference(deconv, x), atol=1e-5, rtol=1e-5)


def test_gradients_match_and_weight_updates_are_followed() -> None:
    torch.manual_seed(0)
    deconv = GenDeconv("up", 3, 2)
    x = torch.randn(1, 3, 6, 6)
    grads = []
    for fn in (deconv, lambda t: _reference(deconv, t)):
        deconv.zero_grad()
        fn(x).square().sum().backward()
        grads.append(deconv.conv.weight.grad.clone())
    torch.testing.assert_close(grads[0], grads[1], atol=1e-4, rtol=1e-4)
    with torch.no_grad():
        before = deconv(x)
        deconv.conv.weight.add_(0.1)  # as an optimiser step does
        after = deconv(x)
        torch.testing.assert_close(after, _reference(deconv, x), atol=1e-5, rtol=1e-5)
    assert not torch.allclose(before, after)
