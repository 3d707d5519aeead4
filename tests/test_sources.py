"""InpaintResult.sources / top_sources: where the fill borrowed from, and the exclude mask that steers it."""
from __future__ import annotations

import numpy as np
import pytest

from inpaint_core import Inpainter, Strategy

H, W = 128, 256


def two_textures(height: int = H, width: int = W) -> np.ndarray:
    """Left half: warm vertical stripes; right half: green diagonal stripes."""
    yy, xx = np.mgrid[:height, :width]
    left = ((np.sin(xx / 2.0) > 0) * 200 + 20).astype(np.uint8)
    right = ((np.sin(yy / 3.0 + xx / 3.0) > 0) * 60 + 100).astype(np.uint8)
    img = np.empty((height, width, 3), np.uint8)
    img[..., 0] = np.where(xx < width // 2, left, right // 3)
    img[..., 1] = np.where(xx < width // 2, left // 2, right)
    img[..., 2] = np.where(xx < width // 2, left // 3, right // 2)
    return img


@pytest.fixture(scope="module")
def scene():
    img = two_textures()
    hole = np.zeros((H, W), bool)
    hole[40:90, 170:220] = True
    return img, hole


def test_heat_map_of_a_hole_pixel_lies_on_its_own_texture(golden_inpainter, scene) -> None:
    img, hole = scene
    result = golden_inpainter.fill(img, hole)
    for x, y in [(190, 60), (175, 45), (215, 85)]:
        heat = result.sources(x, y)
        assert heat.shape == (H, W)
        assert heat[:, W // 2:].sum() / heat.sum() > 0.9
        assert heat[hole].sum() < 0.05 * heat.sum()  # nothing borrowed from the hole itself


def test_sources_sum_to_the_attention_weight_of_the_position(golden_inpainter, scene) -> None:
    img, hole = scene
    result = golden_inpainter.fill(img, hole)
    attention = result.regions[0].attention
    row = attention.cell_of(190, 60)
    assert row is not None
    # The heat map spreads the weights in float64 and is stored as float32 (one rounding); numpy sums float32
    # pairwise, off by about log2(K) * 6e-8 relative (K = 65536 pixels, 1024 weights): ~1e-6. rel 1e-5 covers it.
    assert result.sources(190, 60).sum() == pytest.approx(float(attention.values[row].sum()), rel=1e-5)
    top = result.top_sources(190, 60, k=3)
    assert len(top) == 3 and top[0][1] >= top[1][1] >= top[2][1] > 0
    assert not result.sources(10, 10).any() and result.top_sources(10, 10) == []  # not a filled pixel


def test_excluded_area_gets_no_weight_and_the_fill_changes(golden_inpainter, scene) -> None:
    img, hole = scene
    free = golden_inpainter.fill(img, hole)
    exclude = np.zeros((H, W), bool)
    exclude[:, W // 2:] = True
    steered = golden_inpainter.fill(img, hole, exclude=exclude)
    for x, y in [(190, 60), (215, 85)]:
        heat = steered.sources(x, y)
        assert heat.sum() > 0.5
        assert heat[exclude].sum() == 0
    assert np.abs(free.composite.astype(int) - steered.composite.astype(int))[hole].mean() > 1


def test_coordinates_survive_the_crop_strategy_on_a_large_photo(golden_weights) -> None:
    big = two_textures(2000, 3000)
    hole = np.zeros(big.shape[:2], bool)
    hole[1200:1300, 2000:2100] = True
    cropper = Inpainter(golden_weights, device="cpu", strategy=Strategy.CROP, work_size=512)
    result = cropper.fill(big, hole)
    x0, y0, x1, y1 = result.box
    assert (x1 - x0, y1 - y0) != (3000, 2000)
    # The same crop filled on its own gives the same heat map, shifted by the crop's corner.
    alone = Inpainter(golden_weights, device="cpu", strategy=Strategy.ORIGINAL).fill(
        big[y0:y1, x0:x1], hole[y0:y1, x0:x1])
    # the same computation on the same pixels (same shapes, so the same kernels and sums): identical in practice;
    # 1e-6 (16 float32 roundings of weights <= 1) allows a library to split a sum differently between calls
    np.testing.assert_allclose(result.sources(2050, 1250), alone.sources(2050 - x0, 1250 - y0), atol=1e-6)
    (box, weight), = result.top_sources(2050, 1250, k=1)
    (alone_box, alone_weight), = alone.top_sources(2050 - x0, 1250 - y0, k=1)
    assert box == (alone_box[0] + x0, alone_box[1] + y0, alone_box[2] + x0, alone_box[3] + y0)
    assert weight == pytest.approx(alone_weight, abs=1e-6)  # as above


def test_sources_keep_their_sum_when_the_crop_is_shrunk(golden_weights) -> None:
    big = two_textures(1200, 1600)
    hole = np.zeros(big.shape[:2], bool)
    hole[300:800, 500:1000] = True
    result = Inpainter(golden_weights, device="cpu", work_size=256).fill(big, hole)
    assert result.regions[0].region.scale < 1
    attention = result.regions[0].attention
    row = attention.cell_of(700, 500)
    # as above, plus cv2's area resize of the heat map (float64, then rescaled to its total before the float32
    # rounding): the same ~1e-6; rel 1e-4 is loose, the mass a wrong resize loses is tens of percent
    assert result.sources(700, 500).sum() == pytest.approx(float(attention.values[row].sum()), rel=1e-4)
    for (bx0, by0, bx1, by1), _ in result.top_sources(700, 500, k=5):
        rx0, ry0, rx1, ry1 = result.regions[0].region.box
        assert rx0 <= bx0 < bx1 <= rx1 and ry0 <= by0 < by1 <= ry1


def test_a_thin_exclude_stroke_is_not_stepped_over(golden_inpainter) -> None:
    """A 3-pixel stroke through the strongest source must remove it, though attention works on 8x8 cells."""
    img = two_textures(256, 512)
    hole = np.zeros(img.shape[:2], bool)
    hole[100:140, 250:300] = True
    free = golden_inpainter.fill(img, hole)
    heat = free.sources(270, 120)
    row = int(np.unravel_index(int(np.argmax(heat)), heat.shape)[0])
    stroke = np.zeros_like(hole)
    stroke[row:row + 3, :] = True
    assert heat[stroke].sum() > 0.05
    steered = golden_inpainter.fill(img, hole, exclude=stroke)
    assert steered.sources(270, 120)[stroke].sum() == 0
