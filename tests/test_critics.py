"""The WGAN critics: official shapes, parameter counts, TF names, TF padding and NHWC flatten order."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from inpaint_core.model.critics import Critic, Critics


def test_official_sizes_and_parameter_counts():
    critics = Critics(256)
    assert critics.local.size == 128 and critics.global_.size == 256
    assert sum(p.numel() for p in critics.local.parameters()) == 4_339_329
    assert sum(p.numel() for p in critics.global_.parameters()) == 2_733_441
    assert critics.local.fc.in_features == 8 * 8 * 512 and critics.global_.fc.in_features == 16 * 16 * 256


def test_tf_names_cover_every_parameter_once():
    critics = Critics(64)
    names = dict(critics.tf_variable_names())
    assert set(names) == set(critics.state_dict())
    assert len(set(names.values())) == len(names)
    assert names["local.convs.0.weight"] == "discriminator/discriminator_local/conv1/kernel"
    assert names["global_.convs.3.bias"] == "discriminator/discriminator_global/conv4/bias"
    assert names["local.fc.weight"] == "discriminator/dout_local_fc/kernel"
    assert names["global_.fc.bias"] == "discriminator/dout_global_fc/bias"


def test_matches_a_hand_written_tf_critic():
    """TF SAME pads 1 before / 2 after for a 5x5 stride-2 conv on an even size; a TF dense kernel reads the
    features in (h, w, c) order."""
    torch.manual_seed(0)
    critic = Critic("local", 16, (2, 3, 4, 5)).double()
    x = torch.randn(2, 3, 16, 16, dtype=torch.float64)
    y = x
    with torch.no_grad():
        for conv in critic.convs:
            y = F.leaky_relu(F.conv2d(F.pad(y, (1, 2, 1, 2)), conv.weight, conv.bias, stride=2), 0.2)
        scores = critic(x)
    nhwc = y.permute(0, 2, 3, 1).reshape(2, -1).numpy()
    tf_kernel = critic.fc.weight.detach().numpy().T  # [h*w*c, 1], as TF stores it
    expected = nhwc @ tf_kernel + critic.fc.bias.detach().numpy()
    # Same sums, other orders (the dense layer reads 1 x 1 x 5 features here; the convs sum <= 5 * 5 * 4 terms):
    # in float64 at most K * 1.1e-16 * sum|terms| ~ 1e-13, while reading the features in another order or
    # padding on the other side changes the score by the weights' own size.
    np.testing.assert_allclose(scores.numpy(), expected, rtol=1e-10, atol=1e-10)


def test_forward_shapes_and_size_check():
    critics = Critics(32)
    scores_global, scores_local = critics(torch.zeros(3, 3, 32, 32), torch.zeros(3, 3, 16, 16))
    assert scores_global.shape == scores_local.shape == (3, 1)
    try:
        critics.local(torch.zeros(1, 3, 32, 32))
    except ValueError as exc:
        assert "16x16" in str(exc)
    else:
        raise AssertionError("a wrongly sized crop must be refused")
