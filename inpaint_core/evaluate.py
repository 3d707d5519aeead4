"""The paper's Table 1 protocol (Yu et al., CVPR 2018): fill a hole in every photo of a folder with each method and
score the result against the original.

Protocol: each photo is centre-cropped to a square and resized to ``size`` x ``size`` (INTER_AREA when shrinking,
Lanczos when enlarging); a hole is cut (``make_mask``); every method sees the photo with the hole painted grey,
never the true pixels; its output is composited (known pixels are the photo's own) and scored over the whole
image, as the paper does, so a method is judged only on what it put in the hole but the numbers are diluted by
the known area (a 128x128 hole in a 256x256 photo is a quarter of the pixels).

Metrics (pixels scaled to [0, 1], all three channels, whole image; definitions in each function's docstring):
``l1_error`` and ``l2_error`` in %, ``psnr`` in dB, ``tv_loss`` in %, ``ssim``. Per method the report gives
the mean over the photos of each per-photo value (PSNR too: the mean of per-photo PSNR, not the PSNR of the
mean error) and the median seconds per photo.

Comparability with the paper: the authors describe their L1/L2 as "relative" errors (issue #146 of the official
repository) with a formula only shown as an image; these are plain mean absolute / mean squared errors, and
the paper's 25 % TV is far above what the definition here gives for natural photos (a few %). Use the numbers
to compare methods under this one protocol, not against Table 1.
"""
from __future__ import annotations

import json
import math
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from . import baselines
from .imageio import FORMATS_BY_SUFFIX, read_image, write_image
from .masks import box_mask, stroke_mask

FillFn = Callable[[np.ndarray, np.ndarray], np.ndarray]
MASK_KINDS = ("center", "box", "strokes")
METHOD_NAMES = ("deepfill", "telea", "ns", "patchmatch")
METRICS = ("l1", "l2", "psnr", "tv", "ssim")
HOLE_GREY = 128          # what every method sees in the hole
CONTACT_ROWS = 6         # photos shown in the contact sheet
SSIM_WINDOW, SSIM_SIGMA, SSIM_K1, SSIM_K2 = 11, 1.5, 0.01, 0.03
LUMA = np.array([0.299, 0.587, 0.114])  # ITU-R BT.601, as in Wang et al.'s greyscale SSIM


# -- metrics ------------------------------------------------------------------------------------------------------
def _unit(image: np.ndarray) -> np.ndarray:
    return np.asarray(image, dtype=np.float64) / 255.0


def l1_error(output: np.ndarray, truth: np.ndarray) -> float:
    """Mean absolute error over all pixels and channels, in % of the [0, 1] range."""
    return 100.0 * float(np.mean(np.abs(_unit(output) - _unit(truth))))


def l2_error(output: np.ndarray, truth: np.ndarray) -> float:
    """Mean squared error over all pixels and channels of [0, 1] images, in % (0.01 = 1 %)."""
    return 100.0 * float(np.mean((_unit(output) - _unit(truth)) ** 2))


def psnr(output: np.ndarray, truth: np.ndarray) -> float:
    """10 log10(1 / MSE) in dB for [0, 1] images, whole image, all channels. Identical images give ``math.inf``
    (the error is exactly zero, so any finite cap would be an invented number)."""
    mse = float(np.mean((_unit(output) - _unit(truth)) ** 2))
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
    x = _unit(image)
    return x @ LUMA if x.ndim == 3 else x


def ssim(output: np.ndarray, truth: np.ndarray) -> float:
    """Structural similarity (Wang, Bovik, Sheikh, Simoncelli 2004) on BT.601 luma of [0, 1] images: local
    means, variances and covariance under an 11x11 Gaussian window (sigma 1.5), K1 = 0.01, K2 = 0.03, L = 1,
    averaged over the window positions that lie wholly inside the image (the reference code's 'valid'
    filtering). No downsampling first. Identical images give 1."""
    x, y = _luma(output), _luma(truth)
    c1, c2 = SSIM_K1 ** 2, SSIM_K2 ** 2

    def blur(a: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(a, (SSIM_WINDOW, SSIM_WINDOW), SSIM_SIGMA, borderType=cv2.BORDER_REFLECT)

    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    index = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    r = SSIM_WINDOW // 2  # border where the window would reach outside the image
    return float(index[r:-r, r:-r].mean())


def score(output: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """All metrics of one filled photo against its original."""
    return {"l1": l1_error(output, truth), "l2": l2_error(output, truth), "psnr": psnr(output, truth),
            "tv": tv_loss(output), "ssim": ssim(output, truth)}


# -- protocol -----------------------------------------------------------------------------------------------------
def list_images(folder: Path) -> list[Path]:
    """The image files directly in ``folder`` (by suffix), sorted by name."""
    return sorted(p for p in Path(folder).iterdir() if p.is_file() and p.suffix.lower() in FORMATS_BY_SUFFIX)


def square_resize(rgb: np.ndarray, size: int) -> np.ndarray:
    """Centre square of the photo (side = its shorter side) resized to ``size`` x ``size``."""
    h, w = rgb.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = rgb[top:top + side, left:left + side]
    if side == size:
        return square.copy()
    interpolation = cv2.INTER_AREA if side > size else cv2.INTER_LANCZOS4
    return cv2.resize(square, (size, size), interpolation=interpolation)


def make_mask(kind: str, size: int, rng: np.random.Generator) -> np.ndarray:
    """The hole, bool [size, size].

    center: the middle size/2 square (rows and columns size/4 .. 3size/4 - 1; the official validation hole).
    box: a size/2 box at a uniform position, shrunk by 0..size/16 px per side (the official training rule).
    strokes: free-form brush strokes from ``masks.stroke_mask``.
    """
    if kind == "center":
        mask = np.zeros((size, size), dtype=bool)
        mask[size // 4:size // 4 + size // 2, size // 4:size // 4 + size // 2] = True
        return mask
    if kind == "box":
        return box_mask((size, size), (size // 2, size // 2), (size // 8, size // 8), rng)[0]
    if kind == "strokes":
        return stroke_mask((size, size), rng)
    raise ValueError(f"unknown mask kind {kind!r}; choose from {', '.join(MASK_KINDS)}")


def image_rng(seed: int, index: int) -> np.random.Generator:
    """One generator per photo, so a photo's hole does not depend on --limit or on which methods run."""
    return np.random.default_rng([seed, index])


def with_hole(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The photo as the methods see it: hole pixels grey, so no method can peek at the truth."""
    shown = image.copy()
    shown[mask] = HOLE_GREY
    return shown


def build_methods(names: list[str], weights: Path | None = None, device: str = "auto") -> dict[str, FillFn]:
    """Fill functions by name, in the order given. The DeepFill model is loaded here, once, so a missing or
    broken weights file fails before any photo is processed."""
    unknown = [n for n in names if n not in METHOD_NAMES]
    if unknown:
        raise ValueError(f"unknown method(s) {', '.join(unknown)}; choose from {', '.join(METHOD_NAMES)}")
    methods: dict[str, FillFn] = {"telea": baselines.telea, "ns": baselines.navier_stokes,
                                  "patchmatch": baselines.patchmatch}
    if "deepfill" in names:
        from .pipeline import Inpainter  # torch is only imported when the model is asked for

        inpainter = Inpainter(weights, device=device)
        methods["deepfill"] = lambda image, mask: inpainter.fill(image, mask).composite
    return {name: methods[name] for name in names}


# -- running ------------------------------------------------------------------------------------------------------
@dataclass
class Sample:
    """One photo kept for the contact sheet."""

    name: str
    shown: np.ndarray                 # the input, hole grey
    truth: np.ndarray
    outputs: dict[str, np.ndarray]    # method -> composited fill


@dataclass
class EvalReport:
    protocol: dict[str, object]
    images: list[str] = field(default_factory=list)
    scores: dict[str, list[dict[str, float]]] = field(default_factory=dict)  # method -> per photo, incl. seconds
    truth_tv: list[float] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)


def _run_method(fill: FillFn, shown: np.ndarray, mask: np.ndarray, truth: np.ndarray
                ) -> tuple[np.ndarray, dict[str, float]]:
    started = time.perf_counter()
    filled = fill(shown, mask)
    seconds = time.perf_counter() - started
    # Known pixels always come from the photo, so a method that alters them is neither punished nor rewarded.
    composite = np.where(mask[..., None], filled, truth)
    return composite, {**score(composite, truth), "seconds": seconds}


def run_eval(paths: list[Path], methods: dict[str, FillFn], *, size: int, mask_kind: str, seed: int,
             progress: Callable[[int, int, str], None] | None = None) -> EvalReport:
    """Fill and score every photo with every method. ``progress(i, n, name)`` is called before photo i (1-based)."""
    protocol = {"size": size, "mask": mask_kind, "seed": seed, "images": len(paths),
                "inpaint_radius": baselines.INPAINT_RADIUS, "patchmatch_patch_radius": baselines.PATCH_RADIUS,
                "hole_grey": HOLE_GREY}
    report = EvalReport(protocol=protocol, scores={name: [] for name in methods})
    for index, path in enumerate(paths):
        if progress is not None:
            progress(index + 1, len(paths), path.name)
        truth = square_resize(read_image(path).rgb, size)
        mask = make_mask(mask_kind, size, image_rng(seed, index))
        shown = with_hole(truth, mask)
        outputs = {}
        for name, fill in methods.items():
            outputs[name], scores = _run_method(fill, shown, mask, truth)
            report.scores[name].append(scores)
        report.images.append(path.name)
        report.truth_tv.append(tv_loss(truth))
        if len(report.samples) < CONTACT_ROWS:
            report.samples.append(Sample(path.name, shown, truth, outputs))
    return report


# -- reporting ----------------------------------------------------------------------------------------------------
def summary(report: EvalReport) -> dict[str, dict[str, float]]:
    """Per method: the mean of each metric over the photos and the median seconds per photo."""
    table = {}
    for name, rows in report.scores.items():
        means = {metric: float(np.mean([row[metric] for row in rows])) for metric in METRICS}
        table[name] = {**means, "seconds_median": statistics.median(row["seconds"] for row in rows)}
    return table


def markdown_table(report: EvalReport) -> str:
    """The summary as a markdown table, with the originals' own TV underneath for reference."""
    p = report.protocol
    lines = [f"{p['images']} images, {p['size']}x{p['size']}, mask {p['mask']} (seed {p['seed']}); "
             "whole-image metrics, mean over images",
             "",
             "| method | L1 (%) | L2 (%) | PSNR (dB) | TV (%) | SSIM | s / image (median) |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, s in summary(report).items():
        lines.append(f"| {name} | {s['l1']:.2f} | {s['l2']:.2f} | {s['psnr']:.2f} | {s['tv']:.2f} | "
                     f"{s['ssim']:.4f} | {s['seconds_median']:.3f} |")
    if report.truth_tv:
        lines += ["", f"TV of the originals: {np.mean(report.truth_tv):.2f} %"]
    return "\n".join(lines)


def _finite_or_none(value: float) -> float | None:
    # JSON has no infinity; a PSNR of an exact reproduction is written as null (see the "notes" entry).
    return value if math.isfinite(value) else None


def metrics_json(report: EvalReport) -> dict[str, object]:
    """``metrics.json``: the protocol, and per method the means and the per-image values."""
    methods = {}
    for name, means in summary(report).items():
        per_image = [{"image": image, **{k: _finite_or_none(v) for k, v in row.items()}}
                     for image, row in zip(report.images, report.scores[name])]
        methods[name] = {"mean": {k: _finite_or_none(v) for k, v in means.items()}, "per_image": per_image}
    return {"protocol": report.protocol,
            "notes": "l1, l2, tv in % of [0,1]; psnr in dB (null = identical to the original, infinite); "
                     "ssim on BT.601 luma; all over the whole image; seconds = wall time of the fill alone",
            "methods": methods,
            "truth_tv": {"mean": float(np.mean(report.truth_tv)) if report.truth_tv else None,
                         "per_image": dict(zip(report.images, report.truth_tv))}}


def _label(tile: np.ndarray, text: str) -> None:
    # Dark outline under white text, readable on any photo.
    for colour, thickness in (((0, 0, 0), 3), ((255, 255, 255), 1)):
        cv2.putText(tile, text, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, colour, thickness, cv2.LINE_AA)


def contact_sheet(report: EvalReport) -> np.ndarray:
    """Rows = the first photos; columns: input (hole grey) | each method | truth; a header names the columns."""
    size = report.protocol["size"]
    columns = ["input", *report.scores, "truth"]
    header = np.full((24, size * len(columns), 3), 255, dtype=np.uint8)
    for i, title in enumerate(columns):
        cv2.putText(header, title, (i * size + 6, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 1, cv2.LINE_AA)
    rows = [header]
    for sample in report.samples:
        shown = sample.shown.copy()
        _label(shown, sample.name)
        rows.append(np.hstack([shown, *sample.outputs.values(), sample.truth]))
    return np.vstack(rows)


def write_report(report: EvalReport, out_dir: Path) -> list[Path]:
    """Write ``table.md``, ``metrics.json`` and ``contact_sheet.png`` into ``out_dir``; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    table, metrics, sheet = out_dir / "table.md", out_dir / "metrics.json", out_dir / "contact_sheet.png"
    table.write_text(markdown_table(report) + "\n")
    metrics.write_text(json.dumps(metrics_json(report), indent=2, allow_nan=False) + "\n")
    write_image(sheet, contact_sheet(report))
    return [table, metrics, sheet]
