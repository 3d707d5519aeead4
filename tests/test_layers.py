"""The generator's upsampling conv computes exactly an x2 pixel doubling followed by its 3x3 conv."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from inpaint_core.model.layers import GenDeconv, activate, resize_nearest

# The phase kernels regroup the same sums (4 instead of 9 taps per input channel, the kernel's weights added
# first), so results agree up to rounding only. Compared in float64 (u = 1.1e-16): a sum of K = 9 * 6 terms of
# size ~1 is off by at most K * u * sum|terms| < 1e-13, far below the 1e-10 used here; a wrong tap or phase
# moves outputs by the weights' own size (0.5).
FLOAT64_TOL = 1e-10


def _reference(deconv: GenDeconv, x: torch.Tensor) -> torch.Tensor:
    """The official graph: resize (align_corners, x2) then a 3x3 "SAME" conv and its ELU."""
    up = resize_nearest(x, (2 * x.shape[-2], 2 * x.shape[-1]))
    return activate(F.conv2d(up, deconv.conv.weight, deconv.conv.bias, padding=1), "elu")


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("h,w", [(4, 4), (5, 7)])
def test_phase_convs_equal_upsampling_then_conv(channels_last: bool, h: int, w: int) -> None:
    torch.manual_seed(h * w)
    deconv = GenDeconv("up", 6, 4).double()
    torch.nn.init.normal_(deconv.conv.weight, std=0.5)
    torch.nn.init.normal_(deconv.conv.bias, std=0.5)
    x = torch.randn(2, 6, h, w, dtype=torch.float64)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        out = deconv(x)
        assert out.shape == (2, 4, 2 * h, 2 * w)
        torch.testing.assert_close(out, _reference(deconv, x), atol=FLOAT64_TOL, rtol=FLOAT64_TOL)


def test_gradients_match_and_weight_updates_are_followed() -> None:
    torch.manual_seed(0)
    deconv = GenDeconv("up", 3, 2).double()
    x = torch.randn(1, 3, 6, 6, dtype=torch.float64)
    grads = []
    for fn in (deconv, lambda t: _reference(deconv, t)):
        deconv.zero_grad()
        fn(x).square().sum().backward()
        grads.append(deconv.conv.weight.grad.clone())
    # a weight's gradient sums 2 * 36 output pixels' products: still far below the tolerance in float64
    torch.testing.assert_close(grads[0], grads[1], atol=FLOAT64_TOL, rtol=FLOAT64_TOL)
    with torch.no_grad():
        before = deconv(x)
        deconv.conv.weight.add_(0.1)  # as an optimiser step does
        after = deconv(x)
        torch.testing.assert_close(after, _reference(deconv, x), atol=FLOAT64_TOL, rtol=FLOAT64_TOL)
    assert not torch.allclose(before, after)
