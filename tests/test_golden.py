"""The engine reproduces outputs of the official DeepFill v1 TensorFlow code (shared/golden/deepfill_v1).

Tolerance 1e-4 on the [-1, 1] scale: both implementations are float32 but sum convolutions and the attention
matrix products in different orders; the observed max error is ~3e-5 (the near one-hot softmax with scale 10
amplifies rounding in ca_case). 1e-4 is 1/80 of one 8-bit grey level, so no output pixel can differ visibly.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from inpaint_core.convert_tf import tf_to_state_dict
from inpaint_core.flow import offsets_to_rgb
from inpaint_core.model.attention import contextual_attention
from inpaint_core.model.generator import InpaintGenerator
from inpaint_core.model.layers import resize_nearest
from inpaint_core.tf_checkpoint import read_checkpoint

from .conftest import GOLDEN

TOLERANCE = 1e-4

pytestmark = pytest.mark.skipif(not GOLDEN.is_dir(), reason="shared/golden is not present beside the repo")


def nchw(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(a).permute(0, 3, 1, 2).contiguous()


def flow_levels(flow_grid_rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Our grid colours upsampled as the official op does (x2 nearest), in 0..255."""
    t = torch.from_numpy(flow_grid_rgb).permute(0, 3, 1, 2).float()
    return resize_nearest(t, size).permute(0, 2, 3, 1).numpy()


def official_levels(flow: np.ndarray) -> np.ndarray:
    return np.round((flow + 1.0) * 127.5)


@pytest.fixture(scope="module")
def generator() -> InpaintGenerator:
    g = InpaintGenerator()
    g.load_state_dict(tf_to_state_dict(read_checkpoint(GOLDEN / "ckpt_seed0")))
    return g.eval()


@pytest.mark.parametrize("case", ["case_256", "case_192x128"])
def test_generator_matches_official(generator: InpaintGenerator, case: str) -> None:
    d = np.load(GOLDEN / f"{case}.npz")
    xin, mask = nchw(d["xin"]), nchw(d["mask"])
    with torch.inference_mode():
        out = generator(xin, mask, attention_path="dense")  # the official op: exact outside the hole too
        fast = generator(xin, mask, attention_path="fast")
    coarse = out.coarse.permute(0, 2, 3, 1).numpy()
    refined = out.refined.permute(0, 2, 3, 1).numpy()
    complete = (out.refined * mask + xin * (1 - mask)).permute(0, 2, 3, 1).numpy()
    assert np.abs(coarse - d["x_stage1"]).max() <= TOLERANCE
    assert np.abs(refined - d["x_stage2"]).max() <= TOLERANCE
    assert np.abs(complete - d["complete"]).max() <= TOLERANCE
    fast_complete = (fast.refined * mask + xin * (1 - mask)).permute(0, 2, 3, 1).numpy()
    assert np.abs(fast_complete - d["complete"]).max() <= TOLERANCE

    ours = flow_levels(offsets_to_rgb(out.attention.offsets.numpy()), d["flow"].shape[1:3])
    same = (ours == official_levels(d["flow"])).all(axis=-1).mean()
    assert same >= 0.99, f"flow colours equal on only {same:.2%} of pixels"


@pytest.mark.parametrize("case", ["ca_case", "ca_case_soft"])
def test_contextual_attention_alone_matches_official(case: str) -> None:
    d = np.load(GOLDEN / f"{case}.npz")
    f, mask = nchw(d["f"]), nchw(d["mask"])
    out = contextual_attention(f, f, mask)
    y = out.features.permute(0, 2, 3, 1).numpy()
    assert np.abs(y - d["y"]).max() <= TOLERANCE
    ours = flow_levels(offsets_to_rgb(out.offsets.numpy()), d["flow"].shape[1:3])
    assert (ours == official_levels(d["flow"])).all(axis=-1).mean() >= 0.99
    if "offsets" in d:
        assert np.array_equal(out.offsets.permute(0, 2, 3, 1).numpy(), d["offsets"])


def test_attention_weights_are_returned_only_when_asked() -> None:
    d = np.load(GOLDEN / "ca_case_soft.npz")
    f, mask = nchw(d["f"]), nchw(d["mask"])
    assert contextual_attention(f, f, mask).weights is None
    (kept,) = contextual_attention(f, f, mask, keep_weights=True).weights
    assert kept.values.shape == (32 * 32, 32 * 32)
    # Masked patches count in the softmax denominator but get no weight: rows sum to less than one.
    row_sums = kept.values.sum(-1)
    assert float(row_sums.max()) <= 1.0 + 1e-6
    assert float(row_sums.min()) < 1.0


def test_parameter_count_and_names_match_the_official_checkpoint() -> None:
    g = InpaintGenerator()
    assert sum(p.numel() for p in g.parameters()) == 3_601_542
    official = {line.split()[0] for line in (GOLDEN / "variables.txt").read_text().splitlines() if line.strip()}
    names = dict(g.tf_variable_names())
    assert set(names) == set(g.state_dict())
    assert set(names.values()) == official
