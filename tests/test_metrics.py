"""The measures against values computed by hand on tiny images."""
from __future__ import annotations

import math

import numpy as np
import pytest

from inpaint_core.metrics import (context_ring, context_sharpness, gmsd, hole_l1, hole_psnr, l1_error, l2_error, psnr,
                                  seam, sharpness, ssim, tv_loss)


def grey(values) -> np.ndarray:
    """An RGB image with R = G = B = ``values``."""
    return np.repeat(np.array(values, dtype=np.uint8)[..., None], 3, axis=2)


def stripes(period_values: list[int], height: int, width: int) -> np.ndarray:
    """Vertical stripes repeating ``period_values`` across the columns."""
    row = np.resize(np.array(period_values, dtype=np.uint8), width)
    return grey(np.repeat(row[None, :], height, axis=0))


def box(shape: tuple[int, int], rows: slice, cols: slice) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    mask[rows, cols] = True
    return mask


# -- Table 1 ------------------------------------------------------------------------------------------------------
def test_l1_l2_psnr_match_hand_computed_values() -> None:
    truth = np.zeros((2, 2, 3), np.uint8)
    output = truth.copy()
    output[0, 0, 0] = 51  # one of 12 values off by 0.2
    assert l1_error(output, truth) == pytest.approx(100 * 0.2 / 12)   # 1.667 %
    assert l2_error(output, truth) == pytest.approx(100 * 0.04 / 12)  # 0.333 %
    assert psnr(output, truth) == pytest.approx(10 * math.log10(300))  # MSE = 1/300 -> 24.77 dB
    assert psnr(truth, truth) == math.inf


def test_psnr_with_another_peak_is_the_same_measure_on_another_range() -> None:
    # bench compares model outputs in [-1, 1]: peak 2 must give what the 0..255 images give
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 256, (8, 8, 3)), rng.integers(0, 256, (8, 8, 3))
    assert psnr(a / 127.5 - 1, b / 127.5 - 1, peak=2.0) == pytest.approx(psnr(a, b))


def test_tv_is_the_mean_neighbour_difference() -> None:
    # horizontal pairs differ by 0.2, vertical pairs by 0: mean over the 4 pairs = 0.1
    assert tv_loss(grey([[0, 51], [0, 51]])) == pytest.approx(10.0)
    assert tv_loss(grey([[0, 255], [255, 0]])) == pytest.approx(100.0)
    assert tv_loss(grey([[7, 7], [7, 7]])) == 0.0
    # 3 columns: 2 horizontal pairs per row, 1 vertical pair per column; only the first row's pairs differ
    assert tv_loss(grey([[0, 255, 0], [0, 0, 0]])) == pytest.approx(100.0 * (1 + 1 + 0 + 0 + 1 + 0) / 7)


def test_ssim_is_one_for_identical_images_and_the_luminance_term_for_flat_ones() -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    assert ssim(image, image) == pytest.approx(1.0, abs=1e-12)
    # flat images: variances and covariance vanish, SSIM = (2ab + C1) / (a^2 + b^2 + C1)
    a, b, c1 = 0.4, 0.6, 0.01 ** 2
    flat_a, flat_b = np.full((16, 16, 3), 102, np.uint8), np.full((16, 16, 3), 153, np.uint8)
    assert ssim(flat_a, flat_b) == pytest.approx((2 * a * b + c1) / (a * a + b * b + c1))
    assert ssim(image, 255 - image) < 0


# -- the hole -----------------------------------------------------------------------------------------------------
def test_hole_l1_and_psnr_look_only_inside_the_hole() -> None:
    truth = np.zeros((4, 4, 3), np.uint8)
    mask = box((4, 4), slice(0, 2), slice(0, 2))          # 4 hole pixels, 12 values
    output = truth.copy()
    output[0, 0] = 51                                     # 3 of the 12 hole values off by 0.2
    output[3, 3] = 255                                    # outside the hole: must not count
    assert hole_l1(output, truth, mask) == pytest.approx(100 * 3 * 0.2 / 12)
    assert hole_psnr(output, truth, mask) == pytest.approx(10 * math.log10(12 / (3 * 0.04)))
    assert hole_psnr(truth, truth, mask) == math.inf


def test_an_exact_fill_scores_sharpness_one_seam_one_gmsd_zero() -> None:
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)
    mask = box((40, 40), slice(10, 30), slice(5, 25))
    assert sharpness(image, image, mask) == 1.0
    assert seam(image, image, mask) == 1.0
    assert gmsd(image, image, mask) == 0.0


def test_a_blurred_fill_keeps_a_quarter_of_the_gradient_energy() -> None:
    # columns 0,0,100,100,...: every central difference is +-50, energy 2500. The fill is the [1,2,1]/4 blur of
    # it, columns 25,25,75,75,...: differences +-25, energy 625. The eroded hole reads fill pixels only.
    truth = stripes([0, 0, 100, 100], 16, 16)
    mask = box((16, 16), slice(2, 14), slice(4, 12))
    output = truth.copy()
    output[mask] = stripes([25, 25, 75, 75], 16, 16)[mask]
    assert sharpness(output, truth, mask) == pytest.approx(625 / 2500)
    flat = truth.copy()
    flat[mask] = 50
    assert sharpness(flat, truth, mask) == 0.0


def test_sharpness_is_undefined_on_a_flat_original_or_a_hole_too_thin_to_erode() -> None:
    flat = np.full((16, 16, 3), 90, np.uint8)
    noisy = np.random.default_rng(2).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    assert math.isnan(sharpness(noisy, flat, box((16, 16), slice(4, 12), slice(4, 12))))
    assert math.isnan(sharpness(noisy, noisy, box((16, 16), slice(4, 6), slice(2, 14))))  # 2 px thick


def test_seam_of_a_constant_offset_inside_the_hole() -> None:
    # a ramp rising 10 per column; the hole (rows 2-5, columns 3-4) brightened by 20. Pairs across the border:
    # 4 on the left (truth step 10, output 30), 4 on the right (10 -> |10 - 20| = 10), 4 above and below
    # (0 -> 20). Mean step 80/12 in the photo, 240/12 in the output: ratio 3.
    truth = grey(np.repeat((50 + 10 * np.arange(8))[None, :], 8, axis=0))
    mask = box((8, 8), slice(2, 6), slice(3, 5))
    output = truth.copy()
    output[mask] += 20
    assert seam(output, truth, mask) == pytest.approx(3.0)
    darker = truth.copy()
    darker[mask] -= 4  # left 10 -> 6, right 10 -> 14, top and bottom 0 -> 4: (24 + 56 + 16) / 80
    assert seam(darker, truth, mask) == pytest.approx(96 / 80)


def test_gmsd_of_a_flat_fill_over_an_edge() -> None:
    # truth: columns 0-2 black, 3-5 at 90; Prewitt/3 gives magnitude 90 in columns 2 and 3, 0 elsewhere. A black
    # output has magnitude 0 everywhere: GMS = c / (90^2 + c) on a third of the box, 1 on the rest.
    truth = np.zeros((6, 6, 3), np.uint8)
    truth[:, 3:] = 90
    low = 170 / (8100 + 170)
    expected = math.sqrt(1 / 3 * 2 / 3) * (1 - low)  # std of a two-valued variable
    assert gmsd(np.zeros_like(truth), truth, np.ones((6, 6), bool)) == pytest.approx(expected)


def test_gmsd_reads_only_the_holes_box() -> None:
    rng = np.random.default_rng(3)
    truth = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    mask = box((32, 32), slice(8, 16), slice(8, 16))
    output = truth.copy()
    output[24:, 24:] = 0  # far outside the hole's box (and its 1-px gradient reach)
    assert gmsd(output, truth, mask) == 0.0
    output[10:14, 10:14] = 0
    assert gmsd(output, truth, mask) > 0.05


def test_context_ring_is_known_pixels_within_the_width_less_the_first() -> None:
    mask = box((40, 40), slice(18, 22), slice(18, 22))
    ring = context_ring(mask, width=5)
    assert not (ring & mask).any()
    assert not ring[17, 20] and ring[16, 20] and ring[13, 20] and not ring[12, 20]  # 2..5 px above the hole
    assert not ring[0, 0]


def test_context_sharpness_compares_the_fill_with_the_photo_around_it() -> None:
    photo = stripes([0, 0, 100, 100], 48, 48)
    mask = box((48, 48), slice(16, 32), slice(16, 32))
    blurred = photo.copy()
    blurred[mask] = stripes([25, 25, 75, 75], 48, 48)[mask]
    assert context_sharpness(photo, mask, width=8) == pytest.approx(1.0)
    assert context_sharpness(blurred, mask, width=8) == pytest.approx(0.25)
