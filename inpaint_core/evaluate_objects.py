"""Object removal on full-size photos without ground truth (``eval --images ../shared/data/large``).

A folder of this kind holds photos ``<stem>.<ext>`` and their object masks ``<stem>.<what>_mask.png`` (white =
remove); each mask is one case. Every method fills the case at the photo's own resolution (the photo with the
hole painted grey, as in the Table 1 protocol), and the report gives per case and method:

- seconds: wall time of the fill alone (every method fills a small photo once before, so the first case does
  not pay for one-off start-up work);
- peak memory: the process's peak resident memory during the fill (VmHWM reset just before it), so it counts
  what the evaluation itself holds (the photo, its mask, earlier crops) as any program filling the photo would;
- context sharpness (``metrics.context_sharpness``): the fill's gradient energy inside the hole eroded by 3x3
  divided by the photo's in the known ring within ``RING_WIDTH`` px around the hole (less its first pixel).
  1 = as much detail as the surroundings; a blurred band gives a small fraction. It reads the surroundings
  as the truth, so it also drops where a removed object stood on a busier background than the plain one
  behind it, and rises where the fill copies busy texture; look at the crops before trusting it alone.

Crops: up to ``CROPS_PER_CASE`` squares of ``CROP_SIDE`` px at 100 % where the hole is densest (no two
overlapping): the input with the hole tinted red, then each method's fill, side by side.
"""
from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from .evaluate import FillFn, finite_or_none, label, with_hole
from .imageio import list_images, read_image, read_mask, write_image
from .metrics import RING_WIDTH, context_sharpness

MASK_SUFFIX = "_mask.png"
CROP_SIDE = 512
CROPS_PER_CASE = 3
HOLE_TINT = np.array([255, 0, 0])   # red over the hole in the input crop, at half opacity
WARMUP_SIDE = 128


@dataclass
class ObjectCase:
    """One photo and one of its object masks."""

    name: str    # the mask's name without "_mask.png": "<stem>.<what>"
    photo: Path
    mask: Path


def find_cases(folder: Path) -> list[ObjectCase]:
    """Every ``<stem>.<what>_mask.png`` under ``folder`` paired with the photo ``<stem>.*`` beside it, sorted by
    name; an empty list when the folder holds no object masks. Raises ValueError for a mask without a photo."""
    files = list_images(folder)
    masks = [p for p in files if p.name.endswith(MASK_SUFFIX)]
    photos = {(p.parent, p.stem): p for p in files if not p.name.endswith(MASK_SUFFIX)}
    cases = []
    for mask in masks:
        name = mask.name[:-len(MASK_SUFFIX)]
        stem = name.rsplit(".", 1)[0]
        photo = photos.get((mask.parent, stem))
        if photo is None or "." not in name:
            raise ValueError(f"{mask}: an object mask is named <photo stem>.<what>{MASK_SUFFIX} and sits beside "
                             f"its photo, but no photo {stem}.* is there")
        cases.append(ObjectCase(name=name, photo=photo, mask=mask))
    return sorted(cases, key=lambda case: case.name)


def crop_boxes(mask: np.ndarray, side: int = CROP_SIDE, count: int = CROPS_PER_CASE
               ) -> list[tuple[int, int, int, int]]:
    """Up to ``count`` non-overlapping (x0, y0, x1, y1) squares of ``side`` px (less on a smaller photo) holding
    the most hole pixels, densest first; squares without any hole pixel are not returned."""
    h, w = mask.shape
    sh, sw = min(side, h), min(side, w)
    integral = np.pad(mask.astype(np.int64).cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    # hole pixels in the window whose top-left corner is (y, x), for every corner that keeps it inside the photo
    density = integral[sh:, sw:] - integral[:-sh, sw:] - integral[sh:, :-sw] + integral[:-sh, :-sw]
    boxes = []
    for _ in range(count):
        y, x = np.unravel_index(int(np.argmax(density)), density.shape)
        if density[y, x] == 0:
            break
        boxes.append((int(x), int(y), int(x) + sw, int(y) + sh))
        # no later window may overlap this one
        density[max(0, y - sh + 1):y + sh, max(0, x - sw + 1):x + sw] = 0
    return boxes


def marked_input(photo: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The photo with the hole tinted red at half opacity (the object stays visible under it)."""
    marked = photo.copy()
    marked[mask] = ((photo[mask].astype(np.uint16) + HOLE_TINT) // 2).astype(np.uint8)
    return marked


@dataclass
class ObjectReport:
    protocol: dict[str, object]
    cases: list[dict[str, object]] = field(default_factory=list)   # name, size, hole_fraction
    results: dict[str, list[dict[str, float]]] = field(default_factory=dict)  # method -> per case
    crops: dict[str, list[np.ndarray]] = field(default_factory=dict)  # case -> crop strips


def _warm_up(methods: dict[str, FillFn]) -> None:
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (WARMUP_SIDE, WARMUP_SIDE, 3), dtype=np.uint8)
    hole = np.zeros((WARMUP_SIDE, WARMUP_SIDE), dtype=bool)
    hole[WARMUP_SIDE // 4:WARMUP_SIDE // 2, WARMUP_SIDE // 4:WARMUP_SIDE // 2] = True
    for fill in methods.values():
        fill(with_hole(photo, hole), hole)


def run_objects(cases: list[ObjectCase], methods: dict[str, FillFn], *,
                progress: Callable[[int, int, str], None] | None = None) -> ObjectReport:
    """Fill every case with every method at full resolution; time, memory, context sharpness and crops."""
    from .bench import peak_resident_mb, reset_peak_resident  # imports torch: only this mode needs it

    report = ObjectReport(protocol={"ring_width": RING_WIDTH, "crop_side": CROP_SIDE, "cases": len(cases)},
                          results={name: [] for name in methods})
    _warm_up(methods)
    for index, case in enumerate(cases):
        if progress is not None:
            progress(index + 1, len(cases), case.name)
        photo = read_image(case.photo).rgb
        mask = read_mask(case.mask, size=(photo.shape[1], photo.shape[0]))
        shown = with_hole(photo, mask)
        boxes = crop_boxes(mask)
        strips = [[marked_input(photo[y0:y1, x0:x1], mask[y0:y1, x0:x1])] for x0, y0, x1, y1 in boxes]
        for name, fill in methods.items():
            reset_peak_resident()
            started = time.perf_counter()
            filled = fill(shown, mask)
            seconds = time.perf_counter() - started
            peak = peak_resident_mb()
            filled = np.where(mask[..., None], filled, photo)
            report.results[name].append({"seconds": seconds, "peak_mb": peak,
                                         "context_sharpness": context_sharpness(filled, mask)})
            for strip, (x0, y0, x1, y1) in zip(strips, boxes):
                strip.append(filled[y0:y1, x0:x1].copy())
            del filled
        for strip in strips:
            for tile, title in zip(strip, ["input", *methods]):
                label(tile, title)
        report.crops[case.name] = [np.hstack(strip) for strip in strips]
        report.cases.append({"name": case.name, "size": f"{photo.shape[1]}x{photo.shape[0]}",
                             "hole_fraction": float(mask.mean())})
    return report


def _median(values: list[float]) -> float:
    finite = [v for v in values if not np.isnan(v)]
    return statistics.median(finite) if finite else float("nan")


def markdown_table(report: ObjectReport) -> str:
    """Per case and method, then per method (median seconds and context sharpness, largest peak memory)."""
    lines = [f"{len(report.cases)} object-removal cases at full resolution; context sharpness = gradient energy "
             f"in the eroded hole / in a {report.protocol['ring_width']} px ring of the photo around it",
             "",
             "| case | size | hole (%) | method | s | peak MB | context sharpness |",
             "| --- | --- | ---: | --- | ---: | ---: | ---: |"]
    for i, case in enumerate(report.cases):
        for name, rows in report.results.items():
            r = rows[i]
            lines.append(f"| {case['name']} | {case['size']} | {100 * case['hole_fraction']:.1f} | {name} | "
                         f"{r['seconds']:.1f} | {r['peak_mb']:.0f} | {r['context_sharpness']:.2f} |")
    lines += ["", "| method | s (median) | peak MB (max) | context sharpness (median) |",
              "| --- | ---: | ---: | ---: |"]
    for name, rows in report.results.items():
        lines.append(f"| {name} | {_median([r['seconds'] for r in rows]):.1f} | "
                     f"{max(r['peak_mb'] for r in rows):.0f} | "
                     f"{_median([r['context_sharpness'] for r in rows]):.2f} |")
    return "\n".join(lines)


def write_report(report: ObjectReport, out_dir: Path) -> list[Path]:
    """Write ``table.md``, ``metrics.json`` and ``crops/<case>_<k>.png`` into ``out_dir``; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    table, metrics = out_dir / "table.md", out_dir / "metrics.json"
    table.write_text(markdown_table(report) + "\n")
    per_case = [{**case, "methods": {name: {k: finite_or_none(v) for k, v in rows[i].items()}
                                     for name, rows in report.results.items()}}
                for i, case in enumerate(report.cases)]
    metrics.write_text(json.dumps({"protocol": report.protocol, "cases": per_case}, indent=2, allow_nan=False)
                       + "\n")
    written = [table, metrics]
    for name, strips in report.crops.items():
        for k, strip in enumerate(strips, 1):
            written.append(write_image(out_dir / "crops" / f"{name}_{k}.png", strip))
    return written
