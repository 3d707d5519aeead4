"""The masked fast path of contextual attention gives the dense (official) op's output where it matters."""
from __future__ import annotations

import pytest
import torch

from inpaint_core.model.attention import contextual_attention
from inpaint_core.model.attention_cost import dense_path_macs, fast_path_macs, pick_path
from inpaint_core.model.attention_fast import masked_contextual_attention
from inpaint_core.model.generator import InpaintGenerator, reach_back

SIZE = 64
# The two paths compute the same sums in other orders, so they are compared in float64 (u = 1.1e-16), where
# that costs nothing visible: a sum of K terms is off by at most K * u * sum|terms|. A patch score sums
# 9 * C = 72 products, 9 of them after the propagation (648 terms, sum|terms| <= 9 * |f patch| <= 76 for
# features in [0, 1)): <= 5e-12; the softmax scale of 10 makes that <= 1.1e-10 relative in the weights, and
# the rebuild (sum of weights <= 1 times |b| <= 1) adds 4 * 576 * u. Through the generator's ~30 convs of
# K <= 2304 terms and unit gain each adds <= 2.6e-13 relative. Hence 1e-9 of the values' own scale, while a
# real mismatch (a row left out, a wrong phase, a missed source) moves values by their own scale.
FLOAT64_TOL = 1e-9


def masks(size: int) -> dict[str, torch.Tensor]:
    def blank() -> torch.Tensor:
        return torch.zeros(1, 1, size, size)

    box = blank()
    box[..., 16:40, 20:44] = 1
    strokes = blank()
    strokes[..., 10:14, 4:60] = 1
    strokes[..., 20:60, 30:35] = 1
    border = blank()
    border[..., :12, 40:] = 1
    tiny = blank()
    tiny[..., 33:35, 33:35] = 1
    almost_full = torch.ones(1, 1, size, size)
    almost_full[..., 48:, :16] = 0
    return {"box": box, "strokes": strokes, "border": border, "tiny": tiny, "almost_full": almost_full}


@pytest.fixture(scope="module")
def generator() -> InpaintGenerator:
    torch.manual_seed(0)
    g = InpaintGenerator().eval()
    # The golden checkpoint's recipe: unit-gain random kernels and small biases, so every layer matters.
    for name, p in g.named_parameters():
        fan_in = p[0].numel() if p.dim() > 1 else 1
        torch.nn.init.normal_(p, std=1.15 / fan_in ** 0.5 if p.dim() > 1 else 0.05)
    return g.double()


@pytest.mark.parametrize("name", list(masks(SIZE)))
@pytest.mark.parametrize("with_exclude", [False, True])
def test_fast_generator_equals_dense_inside_the_hole(generator, name: str, with_exclude: bool) -> None:
    torch.manual_seed(1)
    image = torch.rand(1, 3, SIZE, SIZE, dtype=torch.float64) * 2 - 1
    mask = masks(SIZE)[name].double()
    exclude = None
    if with_exclude:
        exclude = torch.zeros_like(mask)
        exclude[..., :, 48:] = 1
    with torch.inference_mode():
        dense = generator(image, mask, exclude=exclude, attention_path="dense")
        fast = generator(image, mask, exclude=exclude, attention_path="fast")
    err = ((dense.refined - fast.refined).abs() * mask).max().item()
    assert err <= FLOAT64_TOL  # outputs in [-1, 1]
    # both must have actually filled something different from the coarse result
    assert ((dense.refined - dense.coarse).abs() * mask).max() > 1e-3


@pytest.mark.parametrize("h,w", [(32, 32), (48, 24), (16, 40)])
def test_fast_op_equals_dense_op_on_needed_positions(h: int, w: int) -> None:
    torch.manual_seed(h * w)
    f = torch.rand(1, 8, h, w, dtype=torch.float64)
    mask = torch.zeros(1, 1, h, w)
    mask[..., h // 4: h // 2, w // 3: w // 2 + 2] = 1
    needed = torch.zeros(1, 1, h, w, dtype=torch.bool)
    needed[..., h // 4 - 3: h // 2 + 3, w // 3 - 3: w // 2 + 5] = True
    dense = contextual_attention(f, f, mask, keep_weights=True)
    fast = masked_contextual_attention(f, f, mask, needed, keep_weights=True)
    assert (dense.features - fast.features).abs()[needed.expand_as(f)].max() <= FLOAT64_TOL  # |features| <= 1
    (dk,), (fk,) = dense.weights, fast.weights
    torch.testing.assert_close(fk.values, dk.values[fk.rows][:, fk.cols], atol=FLOAT64_TOL, rtol=FLOAT64_TOL)
    # the dense op's weight on patches the fast path left out is exactly zero (they touch the hole)
    left_out = torch.ones(dk.values.shape[1], dtype=torch.bool)
    left_out[fk.cols] = False
    assert dk.values[fk.rows][:, left_out].abs().max() == 0
    # The best sources agree: a near-tie within float64's 1e-10 of two random patch scores does not occur.
    rows = fk.rows
    dense_off = dense.offsets.flatten(2)[..., rows]
    fast_off = fast.offsets.flatten(2)[..., rows]
    assert torch.equal(dense_off, fast_off)


def test_a_generator_pass_without_a_hole_needs_no_attention_row(generator) -> None:
    """Nothing to fill (an empty mask: the editor never asks, a script may): the fast path computes no row."""
    image = torch.rand(1, 3, SIZE, SIZE, dtype=torch.float64) * 2 - 1
    with torch.inference_mode():
        out = generator(image, torch.zeros(1, 1, SIZE, SIZE, dtype=torch.float64), attention_path="fast")
    assert not out.attention.features.any() and not out.attention.offsets.any()
    assert torch.isfinite(out.refined).all()


def test_receptive_field_covers_every_influence() -> None:
    """Perturbing the attention output outside the traced region must not change any hole pixel."""
    torch.manual_seed(3)
    g = InpaintGenerator().eval()
    layers = [*g.refine.attention_decoder, *g.refine.decoder]
    mask = torch.zeros(1, 1, 64, 64)
    mask[..., 20:30, 24:36] = 1
    needed = reach_back(mask, layers)
    assert needed.shape[-2:] == (16, 16)
    assert needed.sum() < needed.numel()  # a real restriction, not everything

    def decode(features: torch.Tensor) -> torch.Tensor:
        hallucinated = torch.zeros_like(features)
        return g.refine.decoder(torch.cat([hallucinated, g.refine.attention_decoder(features)], dim=1))

    g = g.double()
    base = torch.rand(1, 128, 16, 16, dtype=torch.float64)
    noisy = base + torch.randn_like(base) * (~needed).double() * 10
    with torch.no_grad():
        diff = (decode(base) - decode(noisy)).abs() * mask.double()
    # Exactly 0 when no perturbed input is summed into a hole pixel. A conv that regroups its inputs (Winograd,
    # FFT) could leak rounding: at most K * u * sum|terms| = 1152 * 1.1e-16 * ~1e3 per layer in float64, far
    # below the tolerance; a real leak carries the perturbation (10 per value) through unit-gain layers.
    assert diff.max() <= FLOAT64_TOL


def test_fast_path_in_row_chunks_is_still_exact(monkeypatch) -> None:
    from inpaint_core.model import attention_fast

    torch.manual_seed(7)
    f = torch.rand(1, 8, 48, 48, dtype=torch.float64)
    mask = torch.zeros(1, 1, 48, 48)
    mask[..., 10:30, 12:40] = 1
    needed = torch.ones(1, 1, 48, 48, dtype=torch.bool)
    whole = masked_contextual_attention(f, f, mask, needed, keep_weights=True)
    monkeypatch.setattr(attention_fast, "SCORE_CHUNK_ELEMENTS", 1)  # 64-row chunks: 576 rows in 9 pieces
    chunked = masked_contextual_attention(f, f, mask, needed, keep_weights=True)
    dense = contextual_attention(f, f, mask)
    # (the chunks' matrix products have other shapes, which may sum in another order: compared like the paths)
    assert (whole.features - chunked.features).abs().max() <= FLOAT64_TOL
    assert torch.equal(whole.weights[0].rows, chunked.weights[0].rows)
    assert (chunked.features - dense.features).abs().max() <= FLOAT64_TOL
    assert torch.equal(chunked.offsets, dense.offsets)


def test_auto_picks_fast_on_cpu_and_dense_on_gpus_unless_too_big() -> None:
    grid = (32, 32)
    thin = torch.zeros(32 * 32, dtype=torch.bool)
    thin[5 * 32:6 * 32] = True  # one grid row to fill
    everything = torch.ones(32 * 32, dtype=torch.bool)
    assert pick_path(grid, "cpu") == "fast"
    # the cost behind it: even with every cell needed the fast path does fewer multiply-accumulates (1 + 8 of
    # 9 + 16, plus the padded grid's border), and with few cells far fewer
    assert fast_path_macs(everything, grid, 128) < 0.4 * dense_path_macs(32 * 32, 128)
    assert fast_path_macs(thin, grid, 128) < 0.1 * dense_path_macs(32 * 32, 128)
    assert pick_path(grid, "cuda") == "dense"
    big = (128, 128)  # a 1024x1024 photo: the dense score matrix alone would take 1 GB
    assert pick_path(big, "cuda") == "fast"


def test_fast_path_work_counts_the_rows_the_propagation_reads() -> None:
    rows = torch.zeros(16 * 16, dtype=torch.bool)
    rows[8 * 16 + 8] = True  # one cell: 3 column-major rows, each with its 2 row-major neighbours
    # their scores: every pixel their 3x3 patches cover (a 5x5 block) against the 18x18 padded grid
    assert fast_path_macs(rows, (16, 16), 2) == 25 * 18 * 18 * 2 + 1 * 256 * 2 * 8
    assert fast_path_macs(rows, (16, 16), 2, fuse=False) == 9 * 18 * 18 * 2 + 1 * 256 * 2 * 8


def test_gradients_through_the_fast_path_equal_the_dense_ones() -> None:
    """Fine-tuning with attention_path="fast" must train the same way as with the official op."""
    torch.manual_seed(3)
    f = torch.randn(1, 8, 16, 16, dtype=torch.float64, requires_grad=True)
    mask = torch.zeros(1, 1, 16, 16)
    mask[..., 4:10, 5:12] = 1
    needed = torch.zeros(1, 1, 16, 16, dtype=torch.bool)
    needed[..., 2:12, 3:14] = True
    grads = []
    for out in (contextual_attention(f, f, mask), masked_contextual_attention(f, f, mask, needed)):
        (grad,) = torch.autograd.grad((out.features * needed).square().sum(), f)
        grads.append(grad)
    # In float32 the two differ by up to 5e-6 of the gradient's scale (1 element of 2048 by 2.3e-4 on an AMD
    # Zen 4, where the tolerance was 4.7e-5): the softmax's backward multiplies the scores' rounding by 10
    # again. The float64 bound above, at the gradient's own scale, holds on any CPU.
    scale = float(grads[0].abs().max())
    torch.testing.assert_close(grads[1], grads[0], rtol=FLOAT64_TOL, atol=FLOAT64_TOL * scale)
