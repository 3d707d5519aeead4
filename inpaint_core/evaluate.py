"""Fills scored against the originals: the paper's Table 1 protocol (Yu et al., CVPR 2018) plus hole measures.

Protocol: each photo is centre-cropped to a square and resized to ``size`` x ``size`` (INTER_AREA when shrinking,
Lanczos when enlarging), except for the ``lines`` holes, which are cut at the photo's own size; a hole is cut
(``make_mask``); every method sees the photo with the hole painted grey, never the true pixels; its output is
composited (known pixels are the photo's own) and scored.

Measures (``metrics.py`` defines each): over the hole, L1 %, PSNR, sharpness, GMSD (on the hole's box) and seam;
over the whole image, as in the paper, L1 and L2 in %, PSNR, TV in % and SSIM (diluted by the known area: a
128x128 hole in a 256x256 photo is a quarter of the pixels). Per method the report gives the mean over the
photos of each per-photo value (PSNR too: the mean of per-photo PSNR, not the PSNR of the mean error), the
median for the two ratios (sharpness, seam: one near-flat original can make a ratio huge) and the median
seconds per photo; metrics.json has both mean and median of everything.

Comparability with the paper: the authors describe their L1/L2 as "relative" errors (issue #146 of the official
repository) with a formula only shown as an image; these are plain mean absolute / mean squared errors, and
the paper's 25 % TV is far above what the definition here gives for natural photos (a few %). Use the numbers
to compare methods under this one protocol, not against Table 1.
"""
from __future__ import annotations

import functools
import json
import math
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import cv2
import numpy as np

from . import baselines
from .imageio import read_image, write_image
from .masks import box_mask, stroke_mask
from .metrics import score, tv_loss

if TYPE_CHECKING:
    from .pipeline import Inpainter

FillFn = Callable[[np.ndarray, np.ndarray], np.ndarray]
MASK_KINDS = ("center", "box", "strokes", "lines")
FULL_SIZE_KINDS = ("lines",)   # cut at the photo's own size; the others on its centre square at --size
METHOD_NAMES = ("deepfill", "deepfill+texture", "patchmatch", "patchmatch-np", "telea", "ns")
TEXTURE_OF = {"deepfill": "network", "deepfill+texture": "photo"}  # Inpainter's texture stage per method
METRICS = ("hole_l1", "hole_psnr", "sharpness", "gmsd", "seam", "l1", "l2", "psnr", "tv", "ssim")
MEDIAN_METRICS = ("sharpness", "seam")
HOLE_GREY = 128          # what every method sees in the hole
CONTACT_ROWS = 6         # photos shown in the contact sheet
# User-like brush strokes: a few short strokes, 15-40 px wide at 512 (scaled with the size), 4-12 % of the image.
STROKE_COUNT, STROKE_VERTICES = (2, 5), (1, 3)
STROKE_WIDTH = (15 / 512, 40 / 512)
STROKE_COVERAGE = (0.04, 0.12)
# Long lines and blobs on a full-size photo, in fractions of its long side (10-30 px and 60-220 px at 4000 px): a
# cable or a scratch from edge to edge, and two objects, where shrinking the whole photo would blur every fill.
LINE_COUNT, LINE_WIDTH = 2, (10 / 4000, 30 / 4000)
BLOB_COUNT, BLOB_SEMI_AXES = 2, (60 / 4000, 220 / 4000)
SHEET_TILE = 512           # full-size photos are shown fitted into squares of this side on the contact sheet


# -- protocol -----------------------------------------------------------------------------------------------------
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


def user_strokes(size: int, rng: np.random.Generator) -> np.ndarray:
    """2-5 brush strokes of 1-3 segments each, 15-40 px wide at 512, redrawn until they cover 4-12 % (median
    about 6.5 %): what a user paints over a wire, a sign or a person, unlike the training strokes."""
    while True:
        mask = np.zeros((size, size), dtype=bool)
        for _ in range(int(rng.integers(STROKE_COUNT[0], STROKE_COUNT[1] + 1))):
            mask |= stroke_mask((size, size), rng, max_strokes=1, vertices=STROKE_VERTICES,
                                width_fraction=STROKE_WIDTH)
        if STROKE_COVERAGE[0] <= mask.mean() <= STROKE_COVERAGE[1]:
            return mask


def lines_and_blobs(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """bool [H, W]: two straight lines from one edge of the photo to the opposite one (either pair of edges), 10-30
    px wide at a 4000 px long side, and two filled ellipses with semi-axes of 60-220 px there, centred in the
    middle three quarters: a removed cable or scratch and two removed objects, 1.7-3.9 % of the photo (median 2.6)."""
    h, w = shape
    scale = max(h, w)
    mask = np.zeros((h, w), np.uint8)
    for _ in range(LINE_COUNT):
        if rng.integers(2):
            ends = ((0, int(rng.integers(h))), (w - 1, int(rng.integers(h))))
        else:
            ends = ((int(rng.integers(w)), 0), (int(rng.integers(w)), h - 1))
        width = max(1, round(rng.uniform(*LINE_WIDTH) * scale))
        cv2.line(mask, ends[0], ends[1], 1, width)
    for _ in range(BLOB_COUNT):
        centre = (int(rng.integers(w // 8, 7 * w // 8 + 1)), int(rng.integers(h // 8, 7 * h // 8 + 1)))
        axes = tuple(max(1, round(rng.uniform(*BLOB_SEMI_AXES) * scale)) for _ in range(2))
        cv2.ellipse(mask, centre, axes, float(rng.uniform(0, 180)), 0, 360, 1, -1)
    return mask.astype(bool)


def make_mask(kind: str, size: int | tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """The hole, bool [size, size] (``size`` a side), or [H, W] for ``lines`` (``size`` the photo's (H, W)).

    center: the middle size/2 square (rows and columns size/4 .. 3size/4 - 1; the official validation hole).
    box: a size/2 box at a uniform position, shrunk by 0..size/16 px per side (the official training rule).
    strokes: user-like brush strokes (``user_strokes``).
    lines: long lines and blobs at the photo's own size (``lines_and_blobs``).
    """
    if kind == "lines":
        return lines_and_blobs((size, size) if isinstance(size, int) else size, rng)
    if not isinstance(size, int):
        raise ValueError(f"the {kind} hole is cut on a square: give its side, not {size}")
    if kind == "center":
        mask = np.zeros((size, size), dtype=bool)
        mask[size // 4:size // 4 + size // 2, size // 4:size // 4 + size // 2] = True
        return mask
    if kind == "box":
        return box_mask((size, size), (size // 2, size // 2), (size // 8, size // 8), rng)[0]
    if kind == "strokes":
        return user_strokes(size, rng)
    raise ValueError(f"unknown mask kind {kind!r}; choose from {', '.join(MASK_KINDS)}")


def image_rng(seed: int, index: int) -> np.random.Generator:
    """One generator per photo, so a photo's hole does not depend on --limit or on which methods run."""
    return np.random.default_rng([seed, index])


def with_hole(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The photo as the methods see it: hole pixels grey, so no method can peek at the truth."""
    shown = image.copy()
    shown[mask] = HOLE_GREY
    return shown


def build_methods(names: list[str], weights: Path | None = None, device: str = "auto", seed: int = 0,
                  texture_guide: float = 0.0) -> dict[str, FillFn]:
    """Fill functions by name, in the order given. Models and optional packages are loaded here, so a missing
    weights file or package fails before any photo is processed (BaselineUnavailable names the extra).
    ``texture_guide``: the texture stage's guide-term weight (``TextureSettings.guide_coarse`` and
    ``guide_fine``; 0 = off, the default), for judging weights by how well their fill steers the copies."""
    unknown = [n for n in names if n not in METHOD_NAMES]
    if unknown:
        raise ValueError(f"unknown method(s) {', '.join(unknown)}; choose from {', '.join(METHOD_NAMES)}")
    methods: dict[str, FillFn] = {}
    for name in names:
        if name in TEXTURE_OF:
            from .pipeline import Inpainter  # torch is only imported when the model is asked for
            from .texture import TextureSettings

            settings = TextureSettings(guide_coarse=texture_guide, guide_fine=texture_guide)
            methods[name] = _composite_of(Inpainter(weights, device=device, texture=TEXTURE_OF[name],
                                                    texture_settings=settings))
        elif name == "patchmatch":
            methods[name] = baselines.pypatchmatch_fill(seed)
        elif name == "patchmatch-np":
            methods[name] = functools.partial(baselines.patchmatch_np, seed=seed)
        else:
            methods[name] = {"telea": baselines.telea, "ns": baselines.navier_stokes}[name]
    return methods


def _composite_of(inpainter: Inpainter) -> FillFn:
    def fill(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        result = inpainter.fill(image, mask)
        if result.texture_skipped is not None:  # scored as deepfill+texture, it would be the network's alone
            from .pipeline import TextureSkipped
            raise TextureSkipped(result.texture_skipped)
        return result.composite
    return fill


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
    hole_fraction: list[float] = field(default_factory=list)
    truth_tv: list[float] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)


def run_eval(paths: list[Path], methods: dict[str, FillFn], *, size: int, mask_kind: str, seed: int,
             progress: Callable[[int, int, str], None] | None = None) -> EvalReport:
    """Fill and score every photo with every method, on its centre square at ``size`` or, for the ``lines`` holes,
    at its own size. ``progress(i, n, name)`` is called before photo i (1-based)."""
    full_size = mask_kind in FULL_SIZE_KINDS
    # Contact-sheet rows of full-size photos are kept shrunk, not at 10 MP each.
    tile = (lambda image: fit_in_square(image, SHEET_TILE)) if full_size else (lambda image: image)
    protocol = {"size": "full" if full_size else size, "mask": mask_kind, "seed": seed, "images": len(paths),
                "inpaint_radius": baselines.INPAINT_RADIUS, "patchmatch_np_patch_radius": baselines.PATCH_RADIUS,
                "pypatchmatch_patch_size": baselines.PYPATCHMATCH_PATCH_SIZE, "hole_grey": HOLE_GREY}
    report = EvalReport(protocol=protocol, scores={name: [] for name in methods})
    for index, path in enumerate(paths):
        if progress is not None:
            progress(index + 1, len(paths), path.name)
        photo = read_image(path).rgb
        truth = photo if full_size else square_resize(photo, size)
        mask = make_mask(mask_kind, truth.shape[:2] if full_size else size, image_rng(seed, index))
        shown = with_hole(truth, mask)
        outputs = {}
        for name, fill in methods.items():
            started = time.perf_counter()
            filled = fill(shown, mask)
            seconds = time.perf_counter() - started
            # Known pixels always come from the photo, so a method that alters them is neither punished nor rewarded.
            outputs[name] = np.where(mask[..., None], filled, truth)
            report.scores[name].append({**score(outputs[name], truth, mask), "seconds": seconds})
        report.images.append(path.name)
        report.hole_fraction.append(float(mask.mean()))
        report.truth_tv.append(tv_loss(truth))
        if len(report.samples) < CONTACT_ROWS:
            report.samples.append(Sample(path.name, tile(shown), tile(truth),
                                         {name: tile(o) for name, o in outputs.items()}))
    return report


def fit_in_square(image: np.ndarray, side: int) -> np.ndarray:
    """The image shrunk (INTER_AREA) to fit a ``side`` x ``side`` square, centred on white: a contact-sheet tile of
    a full-size photo."""
    h, w = image.shape[:2]
    factor = min(1.0, side / max(h, w))
    fitted = cv2.resize(image, (max(1, round(w * factor)), max(1, round(h * factor))), interpolation=cv2.INTER_AREA)
    tile = np.full((side, side, 3), 255, np.uint8)
    top, left = (side - fitted.shape[0]) // 2, (side - fitted.shape[1]) // 2
    tile[top:top + fitted.shape[0], left:left + fitted.shape[1]] = fitted
    return tile


# -- reporting ----------------------------------------------------------------------------------------------------
def _average(values: list[float], how: str) -> float:
    # NaN marks an undefined ratio for one photo (flat original): left out, not counted as 0 or 1
    finite = [v for v in values if not math.isnan(v)]
    if not finite:
        return math.nan
    return statistics.median(finite) if how == "median" else float(np.mean(finite))


def summary(report: EvalReport) -> dict[str, dict[str, float]]:
    """Per method: mean and median over the photos of each metric (``<metric>`` is the one the table shows: the
    median for sharpness and seam, the mean otherwise), and the median seconds per photo."""
    table = {}
    for name, rows in report.scores.items():
        figures: dict[str, float] = {}
        for metric in METRICS:
            values = [row[metric] for row in rows]
            figures[f"{metric}_mean"] = _average(values, "mean")
            figures[f"{metric}_median"] = _average(values, "median")
            figures[metric] = figures[f"{metric}_median" if metric in MEDIAN_METRICS else f"{metric}_mean"]
        figures["seconds_median"] = statistics.median(row["seconds"] for row in rows)
        table[name] = figures
    return table


def markdown_table(report: EvalReport) -> str:
    """The summary as a markdown table, with the hole's share and the originals' own TV underneath."""
    p = report.protocol
    at = "at their own size" if p["size"] == "full" else f"{p['size']}x{p['size']}"
    lines = [f"{p['images']} images, {at}, mask {p['mask']} (seed {p['seed']}); "
             "hole columns over the hole's pixels (GMSD over its box), the rest over the whole image; "
             "sharpness and seam: median of output / original (1 = like the photo), the rest: mean over images",
             "",
             "| method | hole L1 (%) | hole PSNR (dB) | sharpness | GMSD | seam | L1 (%) | L2 (%) | PSNR (dB) | "
             "TV (%) | SSIM | s / image (median) |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, s in summary(report).items():
        lines.append(f"| {name} | {s['hole_l1']:.2f} | {s['hole_psnr']:.2f} | {s['sharpness']:.2f} | "
                     f"{s['gmsd']:.3f} | {s['seam']:.2f} | {s['l1']:.2f} | {s['l2']:.2f} | {s['psnr']:.2f} | "
                     f"{s['tv']:.2f} | {s['ssim']:.4f} | {s['seconds_median']:.3f} |")
    if report.truth_tv:
        lines += ["", f"Hole: {100 * np.mean(report.hole_fraction):.1f} % of the image on average; "
                      f"TV of the originals: {np.mean(report.truth_tv):.2f} %"]
    return "\n".join(lines)


def finite_or_none(value: float) -> float | None:
    """JSON has no infinity or NaN: an exact reproduction's PSNR and an undefined ratio are written as null."""
    return value if math.isfinite(value) else None


def metrics_json(report: EvalReport) -> dict[str, object]:
    """``metrics.json``: the protocol, and per method the mean and the median of every metric over the photos
    (plus the median seconds under "mean", where scripts/ship_weights.py reads the means) and the per-image
    values."""
    methods = {}
    for name, figures in summary(report).items():
        per_image = [{"image": image, **{k: finite_or_none(v) for k, v in row.items()}}
                     for image, row in zip(report.images, report.scores[name])]
        means = {m: finite_or_none(figures[f"{m}_mean"]) for m in METRICS}
        medians = {m: finite_or_none(figures[f"{m}_median"]) for m in METRICS}
        methods[name] = {"mean": {**means, "seconds_median": figures["seconds_median"]}, "median": medians,
                         "per_image": per_image}
    return {"protocol": report.protocol,
            "notes": "hole_l1, l1, l2, tv in % (of 255 / of [0,1]); hole_psnr, psnr in dB; sharpness and seam are "
                     "output/original ratios (the table shows their median); gmsd over the hole's box; ssim on "
                     "BT.601 luma; definitions in inpaint_core/metrics.py; null = infinite PSNR (exact) or "
                     "undefined ratio, left out of mean and median; seconds = wall time of the fill alone",
            "methods": methods,
            "hole_fraction": dict(zip(report.images, report.hole_fraction)),
            "truth_tv": {"mean": float(np.mean(report.truth_tv)) if report.truth_tv else None,
                         "per_image": dict(zip(report.images, report.truth_tv))}}


def label(tile: np.ndarray, text: str) -> None:
    """Write ``text`` in the tile's top-left corner: dark outline under white text, readable on any photo."""
    for colour, thickness in (((0, 0, 0), 3), ((255, 255, 255), 1)):
        cv2.putText(tile, text, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, colour, thickness, cv2.LINE_AA)


def contact_sheet(report: EvalReport) -> np.ndarray:
    """Rows = the first photos; columns: input (hole grey) | each method | truth; a header names the columns."""
    size = SHEET_TILE if report.protocol["size"] == "full" else report.protocol["size"]
    columns = ["input", *report.scores, "truth"]
    header = np.full((24, size * len(columns), 3), 255, dtype=np.uint8)
    for i, title in enumerate(columns):
        cv2.putText(header, title, (i * size + 6, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 1, cv2.LINE_AA)
    rows = [header]
    for sample in report.samples:
        shown = sample.shown.copy()
        label(shown, sample.name)
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
