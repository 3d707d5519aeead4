"""Measures of a filled photo against its original (or, without one, against the photo around the hole).

Images are uint8 HxWx3 RGB, masks bool HxW with True = hole. Whole-image measures (the paper's Table 1 columns
plus SSIM) judge the composite as a whole and are diluted by the known area; hole measures look only where the
method painted. Definitions follow ../shared/reference/texture_stage_notes.md exactly:

- hole L1 %: mean absolute error over hole pixels and channels, in % of 255.
- hole PSNR: 10 log10(255² / MSE) over hole pixels and channels.
- sharpness: mean of (d/dx g)² + (d/dy g)² over the hole eroded by 3x3, g = mean of the three channels, central
  differences (``np.gradient``); the output's value divided by the original's. 1 = as sharp as the photo.
- GMSD (Xue, Zhang, Mou, Bovik, IEEE TIP 2014): gradient magnitudes of both images from 3x3 Prewitt kernels
  divided by 3 on the grey image (BT.601 luma) in 0..255, GMS = (2 m1 m2 + c) / (m1² + m2² + c) with c = 170,
  GMSD = standard deviation of GMS over the hole's bounding box. 0 = same gradient structure.
- seam: mean absolute step (all channels) across every pair (hole pixel, known 4-neighbour), the output's
  divided by the original's. 1 = the border is as smooth as in the photo; a pasted-looking outline is > 1.
- context sharpness (photos without ground truth): sharpness of the fill inside the eroded hole divided by that
  of the photo in a ring of known pixels around the hole.

A ratio whose denominator is zero (a flat original, a hole too thin to erode) is NaN: undefined, not invented.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

SSIM_WINDOW, SSIM_SIGMA, SSIM_K1, SSIM_K2 = 11, 1.5, 0.01, 0.03
LUMA = np.array([0.299, 0.587, 0.114])  # ITU-R BT.601, as in Wang et al.'s SSIM and Xue et al.'s GMSD
GMSD_C = 170.0                          # Xue et al.'s constant for 0..255 images
PREWITT_X = np.array([[1, 0, -1]] * 3, dtype=np.float64) / 3
RING_WIDTH = 24                         # px of known photo around the hole that context sharpness compares with
_CROSS = np.ones((3, 3), np.uint8)


# -- Table 1 (whole image) ----------------------------------------------------------------------------------------
def _unit(image: np.ndarray) -> np.ndarray:
    return np.asarray(image, dtype=np.float64) / 255.0


def l1_error(output: np.ndarray, truth: np.ndarray) -> float:
    """Mean absolute error over all pixels and channels, in % of the [0, 1] range."""
    return 100.0 * float(np.mean(np.abs(_unit(output) - _unit(truth))))


def l2_error(output: np.ndarray, truth: np.ndarray) -> float:
    """Mean squared error over all pixels and channels of [0, 1] images, in % (0.01 = 1 %)."""
    return 100.0 * float(np.mean((_unit(output) - _unit(truth)) ** 2))


def psnr(output: np.ndarray, truth: np.ndarray, peak: float = 255.0) -> float:
    """10 log10(peak² / MSE) in dB over every value given (``peak``: the range, 255 for uint8, 2 for [-1, 1]).
    Identical inputs give ``math.inf`` (the error is exactly zero, so any finite cap would be an invented number).
    Takes anything ``np.asarray`` reads, CPU tensors included."""
    diff = np.asarray(output, dtype=np.float64) - np.asarray(truth, dtype=np.float64)
    mse = float(np.mean(diff * diff)) / (peak * peak)
    return math.inf if mse == 0.0 else 10.0 * math.log10(1.0 / mse)


def tv_loss(image: np.ndarray) -> float:
    """Total variation of one image, in % of the [0, 1] range: the mean of |x(p) - x(q)| over every pair of
    horizontally or vertically adjacent pixels p, q and every channel (both directions pooled, each pair once).
    It measures the output alone; blurry fills lower it, copied texture keeps it near the photo's own."""
    x = _unit(image)
    across = np.abs(np.diff(x, axis=1))
    down = np.abs(np.diff(x, axis=0))
    return 100.0 * float((across.sum() + down.sum()) / (across.size + down.size))


def _luma(image: np.ndarray) -> np.ndarray:
    x = np.asarray(image, dtype=np.float64)
    return x @ LUMA if x.ndim == 3 else x


def ssim(output: np.ndarray, truth: np.ndarray) -> float:
    """Structural similarity (Wang, Bovik, Sheikh, Simoncelli 2004) on BT.601 luma of [0, 1] images: local
    means, variances and covariance under an 11x11 Gaussian window (sigma 1.5), K1 = 0.01, K2 = 0.03, L = 1,
    averaged over the window positions that lie wholly inside the image (the reference code's 'valid'
    filtering). No downsampling first. Identical images give 1."""
    x, y = _luma(output) / 255.0, _luma(truth) / 255.0
    c1, c2 = SSIM_K1 ** 2, SSIM_K2 ** 2

    def blur(a: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(a, (SSIM_WINDOW, SSIM_WINDOW), SSIM_SIGMA, borderType=cv2.BORDER_REFLECT)

    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    index = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    r = SSIM_WINDOW // 2  # border where the window would reach outside the image
    return float(index[r:-r, r:-r].mean())


# -- the hole -----------------------------------------------------------------------------------------------------
def hole_l1(output: np.ndarray, truth: np.ndarray, mask: np.ndarray) -> float:
    """Mean absolute error over the hole's pixels and channels, in % of 255."""
    return l1_error(output[mask], truth[mask])


def hole_psnr(output: np.ndarray, truth: np.ndarray, mask: np.ndarray) -> float:
    """PSNR over the hole's pixels and channels (inf when the hole is reproduced exactly)."""
    return psnr(output[mask], truth[mask])


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else math.nan


def gradient_energy(image: np.ndarray, region: np.ndarray) -> float:
    """Mean of (d/dx g)² + (d/dy g)² over ``region``, g = the channel mean, central differences. NaN for an
    empty region."""
    if not region.any():
        return math.nan
    grey = np.asarray(image, dtype=np.float64).mean(axis=2)
    dy, dx = np.gradient(grey)
    return float((dx * dx + dy * dy)[region].mean())


def hole_core(mask: np.ndarray) -> np.ndarray:
    """The hole eroded by 3x3: pixels whose central differences read hole pixels only (the image's edge does
    not erode, so a hole touching it keeps its edge pixels, measured with np.gradient's one-sided step)."""
    return cv2.erode(mask.astype(np.uint8), _CROSS, borderType=cv2.BORDER_REPLICATE).astype(bool)


def sharpness(output: np.ndarray, truth: np.ndarray, mask: np.ndarray) -> float:
    """Gradient energy of the output over the eroded hole divided by the original's there (1 = as sharp)."""
    core = hole_core(mask)
    return _ratio(gradient_energy(output, core), gradient_energy(truth, core))


def context_ring(mask: np.ndarray, width: int = RING_WIDTH) -> np.ndarray:
    """Known pixels within ``width`` px (Euclidean) of the hole, less the first pixel outside it, whose central
    differences would read hole pixels."""
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * width + 1, 2 * width + 1))
    hole = mask.astype(np.uint8)
    return cv2.dilate(hole, disc).astype(bool) & ~cv2.dilate(hole, _CROSS).astype(bool)


def context_sharpness(output: np.ndarray, mask: np.ndarray, width: int = RING_WIDTH) -> float:
    """For photos without ground truth: gradient energy inside the eroded hole divided by that of the photo in
    the ring of ``width`` px around it (1 = as much detail as the surroundings; a smear gives ~0.1)."""
    return _ratio(gradient_energy(output, hole_core(mask)), gradient_energy(output, context_ring(mask, width)))


def _prewitt_magnitude(image: np.ndarray) -> np.ndarray:
    grey = _luma(image)
    gx = cv2.filter2D(grey, cv2.CV_64F, PREWITT_X, borderType=cv2.BORDER_REPLICATE)
    gy = cv2.filter2D(grey, cv2.CV_64F, PREWITT_X.T, borderType=cv2.BORDER_REPLICATE)
    return np.sqrt(gx * gx + gy * gy)


def gmsd(output: np.ndarray, truth: np.ndarray, mask: np.ndarray) -> float:
    """Gradient magnitude similarity deviation over the hole's bounding box (0 = the same gradient structure;
    gradients are taken on the whole image first, so the box's edge reads its true neighbours)."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    box = np.s_[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    m1, m2 = _prewitt_magnitude(output)[box], _prewitt_magnitude(truth)[box]
    gms = (2 * m1 * m2 + GMSD_C) / (m1 * m1 + m2 * m2 + GMSD_C)
    return float(gms.std())


def _border_step(image: np.ndarray, mask: np.ndarray) -> float:
    x = np.asarray(image, dtype=np.float64)
    # every 4-neighbour pair is either side by side or one above the other; a pair across the border has one
    # hole and one known pixel, so each (hole pixel, known neighbour) pair is counted exactly once
    across = mask[:, :-1] != mask[:, 1:]
    down = mask[:-1, :] != mask[1:, :]
    steps = np.concatenate([np.abs(x[:, :-1] - x[:, 1:])[across], np.abs(x[:-1, :] - x[1:, :])[down]])
    return float(steps.mean()) if steps.size else math.nan


def seam(output: np.ndarray, truth: np.ndarray, mask: np.ndarray) -> float:
    """Mean absolute step across the hole's border in the output divided by the same in the original."""
    return _ratio(_border_step(output, mask), _border_step(truth, mask))


def score(output: np.ndarray, truth: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    """Every measure of one filled photo against its original."""
    return {"hole_l1": hole_l1(output, truth, mask), "hole_psnr": hole_psnr(output, truth, mask),
            "sharpness": sharpness(output, truth, mask), "gmsd": gmsd(output, truth, mask),
            "seam": seam(output, truth, mask),
            "l1": l1_error(output, truth), "l2": l2_error(output, truth), "psnr": psnr(output, truth),
            "tv": tv_loss(output), "ssim": ssim(output, truth)}
