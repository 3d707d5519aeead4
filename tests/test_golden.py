"""The engine reproduces outputs of the official DeepFill v1 TensorFlow code (shared/golden/deepfill_v1).

The references are TensorFlow's float32 results. Each test runs our graph in float64, which is exact to ~1e-12
here, so what it sees is the reference's own float32 rounding: fixed data, the same on every CPU. It then
checks that our float32 run (what ships) stays as close to our float64 one, which bounds our own rounding on
whatever CPU sums in whatever order.

TOLERANCE, from the arithmetic: float32 rounds each sum of K terms by about eps * sqrt(K) of the terms' scale
when the rounding errors add up like a random walk (eps = 1.2e-7; the worst case, eps * K, needs every error
to point the same way). The convs sum K <= 2304 terms (3x3 x 256 channels) of unit-gain layers whose values
stay within a few units: <= 6e-6 per layer, and sqrt(34 layers) * 6e-6 = 3.4e-5 at the output. The attention
op sums 9 * 9 * C terms per score, and its softmax multiplies score errors by 10, but with near one-hot
weights (ca_case) only the runners-up's small weights move. Measured: the references are 1.2e-5 (generator)
and 2.8e-5 (ca_case) from float64, our float32 runs 7e-6 and 1.4e-5. 1e-4 keeps a margin of 3x over the
estimate and is 1/80 of one 8-bit grey level, so no output pixel can differ visibly.
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


def nhwc(x: torch.Tensor) -> np.ndarray:
    return x.permute(0, 2, 3, 1).numpy()


@pytest.fixture(scope="module")
def generator() -> InpaintGenerator:
    g = InpaintGenerator()
    g.load_state_dict(tf_to_state_dict(read_checkpoint(GOLDEN / "ckpt_seed0")))
    return g.eval()


@pytest.mark.parametrize("case", ["case_256", "case_192x128"])
def test_generator_matches_official(generator: InpaintGenerator, case: str) -> None:
    d = np.load(GOLDEN / f"{case}.npz")
    xin, mask = nchw(d["xin"]), nchw(d["mask"])
    exact = InpaintGenerator().eval()
    exact.load_state_dict(generator.state_dict())
    exact.double()
    with torch.inference_mode():
        out = exact(xin.double(), mask.double(), attention_path="dense")  # the official op: exact outside the hole
        shipped = generator(xin, mask, attention_path="fast")  # float32, the path that fills photos on a CPU
    complete = out.refined * mask + xin * (1 - mask)
    assert np.abs(nhwc(out.coarse) - d["x_stage1"]).max() <= TOLERANCE
    assert np.abs(nhwc(out.refined) - d["x_stage2"]).max() <= TOLERANCE
    assert np.abs(nhwc(complete) - d["complete"]).max() <= TOLERANCE
    # our float32 run, in the hole, where the fast path is exact (test_attention_fast: equal to the dense op)
    assert (shipped.coarse - out.coarse).abs().max() <= TOLERANCE
    assert ((shipped.refined - out.refined).abs() * mask).max() <= TOLERANCE

    # The best source of each cell: equal except at near-ties of two scores within the references' rounding.
    ours = flow_levels(offsets_to_rgb(out.attention.offsets.numpy()), d["flow"].shape[1:3])
    same = (ours == official_levels(d["flow"])).all(axis=-1).mean()
    assert same >= 0.99, f"flow colours equal on only {same:.2%} of pixels"


@pytest.mark.parametrize("case", ["ca_case", "ca_case_soft"])
def test_contextual_attention_alone_matches_official(case: str) -> None:
    d = np.load(GOLDEN / f"{case}.npz")
    f, mask = nchw(d["f"]), nchw(d["mask"])
    out = contextual_attention(f.double(), f.double(), mask)
    assert np.abs(nhwc(out.features) - d["y"]).max() <= TOLERANCE
    assert (contextual_attention(f, f, mask).features - out.features).abs().max() <= TOLERANCE  # float32
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
    assert float(row_sums.max()) <= 1.0 + 1024 * 6e-8  # a float32 sum of 1024 weights: within K * eps/2 of 1
    assert float(row_sums.min()) < 1.0


def test_parameter_count_and_names_match_the_official_checkpoint() -> None:
    g = InpaintGenerator()
    assert sum(p.numel() for p in g.parameters()) == 3_601_542
    official = {line.split()[0] for line in (GOLDEN / "variables.txt").read_text().splitlines() if line.strip()}
    names = dict(g.tf_variable_names())
    assert set(names) == set(g.state_dict())
    assert set(names.values()) == official
