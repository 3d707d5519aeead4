"""Large photos: which regions the model sees (CROP, RESIZE, ORIGINAL; long thin holes in tiles), the feathered
paste-back of a shrunk crop, and (marked slow) a 6000x4000 photo filled in seconds within 2 GB and a 12 MP photo
with a thin line through it filled within 3 GB."""
from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from inpaint_core import Inpainter, Strategy
from inpaint_core.regions import MIN_SCALE, Region, plan_regions

from .conftest import REPO


def holes(shape: tuple[int, int], *boxes: tuple[int, int, int, int]) -> np.ndarray:
    """A bool mask with the given (x0, y0, x1, y1) boxes as holes."""
    mask = np.zeros(shape, bool)
    for x0, y0, x1, y1 in boxes:
        mask[y0:y1, x0:x1] = True
    return mask


def textured(height: int, width: int) -> np.ndarray:
    """Gradients with texture, tiled from a small patch so a huge photo costs no more than its own bytes."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:256, 0:256] / 256
    tile = np.dstack([150 + 80 * np.sin(6.3 * x), 110 + 60 * np.cos(6.3 * y), 90 + 30 * x])
    tile = np.clip(tile + rng.normal(0, 6, tile.shape), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(np.tile(tile, (math.ceil(height / 256), math.ceil(width / 256), 1))[:height, :width])


def grown(mask: np.ndarray, pixels: int) -> np.ndarray:
    kernel = np.ones((2 * pixels + 1, 2 * pixels + 1), np.uint8)
    return cv2.dilate(mask.astype(np.uint8), kernel).astype(bool)


# -- planning (no model) ---------------------------------------------------------------------------------------
def test_far_apart_holes_are_separate_crops_with_context_around_each() -> None:
    mask = holes((4000, 6000), (1000, 1000, 1200, 1200), (5000, 3000, 5040, 3020))
    regions = plan_regions(mask, Strategy.CROP, work_size=768, margin=64)
    # context: the larger of the margin and half the hole's longest side, on every side
    assert regions == [Region(900, 900, 1300, 1300), Region(4936, 2936, 5104, 3084)]


def test_holes_whose_context_overlaps_share_one_crop() -> None:
    mask = holes((4000, 6000), (1000, 1000, 1100, 1100), (1150, 1000, 1250, 1100))
    assert plan_regions(mask, Strategy.CROP, work_size=768, margin=64) == [Region(936, 936, 1314, 1164)]


def test_the_margin_is_configurable_and_clipped_at_the_photo_edge() -> None:
    mask = holes((2000, 3000), (10, 10, 30, 30))
    assert plan_regions(mask, Strategy.CROP, work_size=768, margin=200) == [Region(0, 0, 230, 230)]


def test_a_crop_larger_than_the_working_size_is_shrunk_to_it() -> None:
    mask = holes((4000, 6000), (2000, 1000, 3000, 2500))
    (region,) = plan_regions(mask, Strategy.CROP, work_size=512, margin=64)
    assert region.box == (1250, 250, 3750, 3250)  # 750 px of context: half the hole's longest side
    assert region.scale == 512 / 3000 and max(region.work_shape) == 512  # the same division: exact


def test_resize_original_and_small_photos() -> None:
    mask = holes((3000, 4000), (100, 100, 200, 200))
    assert plan_regions(mask, Strategy.RESIZE, work_size=800) == [Region(0, 0, 4000, 3000, 0.2)]
    assert plan_regions(mask, Strategy.ORIGINAL) == [Region(0, 0, 4000, 3000)]
    small = holes((600, 700), (100, 100, 120, 120))
    assert plan_regions(small, Strategy.CROP, work_size=768) == [Region(0, 0, 700, 600)]  # seen whole
    assert plan_regions(np.zeros((600, 700), bool)) == []


@pytest.mark.parametrize("line", ["horizontal", "vertical", "diagonal"])
def test_a_thin_line_across_12_mp_is_tiled_at_min_scale_and_each_pixel_filled_once(line: str) -> None:
    """A 6 px cable across a 4000x3000 photo: shrinking the photo to the working size would upsample its fill
    5x; the tiles along it are each seen at MIN_SCALE or finer, and together own every hole pixel exactly once."""
    mask = np.zeros((3000, 4000), np.uint8)
    if line == "horizontal":
        mask[1500:1506] = 1
    elif line == "vertical":
        mask[:, 2000:2006] = 1
    else:
        cv2.line(mask, (0, 200), (3999, 2800), 1, thickness=6)
    mask = mask.astype(bool)
    regions = plan_regions(mask, Strategy.CROP, work_size=768, margin=64)
    assert len(regions) > 1 and all(r.scale >= MIN_SCALE for r in regions)
    owners = np.zeros(mask.shape, np.uint8)
    for r in regions:
        owners[r.y0:r.y1, r.x0:r.x1] += r.owned(mask)
    assert (owners[mask] == 1).all() and not owners[~mask].any()


def test_a_blob_on_a_long_line_is_seen_whole_and_the_line_still_in_tiles() -> None:
    """A 900 px disc on a 12 px line across a 4000x3000 photo (one connected hole): the disc is too thick for a
    tile, so one region sees it whole with its context; the line away from it is still tiled at MIN_SCALE or
    finer instead of the whole hole being shrunk ~5x (as it was), and every hole pixel has exactly one owner."""
    mask = np.zeros((3000, 4000), np.uint8)
    cv2.line(mask, (0, 400), (3999, 2600), 1, thickness=12)
    cv2.circle(mask, (2000, 1500), 450, 1, thickness=-1)
    mask = mask.astype(bool)
    regions = plan_regions(mask, Strategy.CROP, work_size=768, margin=64)
    blob = [r for r in regions if r.x0 <= 1550 and r.x1 >= 2450 and r.y0 <= 1050 and r.y1 >= 1950]
    assert len(blob) == 1 and blob[0].scale < MIN_SCALE  # seen whole, with context, shrunk
    owners = np.zeros(mask.shape, np.uint8)
    finest = np.zeros(mask.shape, np.float32)
    for r in regions:
        owned = r.owned(mask)
        owners[r.y0:r.y1, r.x0:r.x1] += owned
        finest[r.y0:r.y1, r.x0:r.x1][owned] = r.scale
    assert (owners[mask] == 1).all() and not owners[~mask].any()
    line_far = mask.copy()
    line_far[900:2100, 1400:2600] = False  # the disc and the line's pixels next to it
    assert (finest[line_far] >= MIN_SCALE).all()


# -- filling (golden weights) ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_work_size(golden_weights: Path) -> Inpainter:
    """An inpainter whose working size makes photos of a few hundred pixels "large" (the network alone: these
    tests are about how its regions are pasted back)."""
    return Inpainter(golden_weights, device="cpu", work_size=256, margin=48, texture="network", precision="fp32")


def test_a_shrunk_crop_is_pasted_back_only_in_the_hole_and_a_thin_feathered_seam(small_work_size) -> None:
    photo = textured(800, 1000)
    mask = holes(photo.shape[:2], (350, 250, 650, 550))  # crop 600x600 at 256: scale 0.43
    result = small_work_size.fill(photo, mask)
    (region,) = result.regions
    assert region.region.scale < 1
    reach = math.ceil(1 / region.region.scale)
    changed = (result.composite != photo).any(axis=2)
    assert changed[mask].mean() > 0.95
    assert not changed[~grown(mask, reach)].any()
    seam = grown(mask, reach) & ~mask
    assert changed[seam].any()  # feathered: the fill fades into the photo instead of ending at a hard edge


def test_a_thin_line_is_filled_tile_by_tile_along_its_whole_length(small_work_size) -> None:
    """A 4 px magenta scratch across a 1400 px wide photo: tiles along it (not the photo shrunk), and each tile
    pastes the network's fill over its own part of the line, so no pixel of it is left behind. The line lies
    12 px below the top of its tile cell's context (60 - 48 margin): a cell starting above the tile's box."""
    photo = textured(300, 1400)
    mask = holes(photo.shape[:2], (0, 60, 1400, 64))
    scratched = photo.copy()
    scratched[mask] = (255, 0, 255)
    result = small_work_size.fill(scratched, mask)
    assert len(result.regions) > 1 and all(r.region.core is not None for r in result.regions)
    changed = (result.composite != scratched).any(axis=2)
    assert changed[mask].all()
    reach = max(math.ceil(1 / r.region.scale) for r in result.regions)
    assert not changed[~grown(mask, reach)].any()


def test_several_far_holes_are_filled_as_separate_crops_and_nothing_else_changes(small_work_size) -> None:
    photo = textured(900, 1400)
    mask = holes(photo.shape[:2], (100, 100, 140, 130), (1200, 120, 1250, 160), (650, 750, 700, 790))
    result = small_work_size.fill(photo, mask)
    assert len(result.regions) == 3
    for r in result.regions:
        x0, y0, x1, y1 = r.region.box
        assert r.region.scale == 1 and mask[y0:y1, x0:x1].any()
    changed = (result.composite != photo).any(axis=2)
    assert not changed[~mask].any() and changed[mask].mean() > 0.95


# -- the 6000x4000 photo (pytest -m slow) ----------------------------------------------------------------------
@pytest.mark.slow
def test_a_6000x4000_photo_with_a_200px_hole_fills_in_seconds_only_inside_the_hole(golden_weights: Path) -> None:
    photo = textured(4000, 6000)
    mask = holes(photo.shape[:2], (2900, 1900, 3100, 2100))
    inpainter = Inpainter(golden_weights, device="cpu")
    started = time.perf_counter()
    result = inpainter.fill(photo, mask)
    seconds = time.perf_counter() - started
    changed = (result.composite != photo).any(axis=2)
    assert changed[mask].mean() > 0.95 and not changed[~mask].any()  # a 400x400 crop at full scale: no seam
    assert seconds < 20, f"{seconds:.1f} s"


@pytest.mark.slow
def test_the_large_photo_benchmark_stays_under_2_gb(golden_weights: Path) -> None:
    proc = subprocess.run([sys.executable, "scripts/bench_large_photo.py", "--weights", str(golden_weights),
                           "--json"], capture_output=True, text=True, cwd=REPO, timeout=600, check=True)
    figures = json.loads(proc.stdout)
    # The texture stage copies the photo's own pixels, and this photo repeats a 512 px tile: a few copies land on
    # their own original value (17 of 40 000 measured), so "changed" is nearly, not exactly, every hole pixel.
    assert figures["photo"] == "6000x4000" and figures["changed_in_hole"] > 0.99 * 200 * 200
    assert figures["changed_outside_feathered_hole"] == 0
    assert figures["peak_rss_mb"] < 2048, figures
    assert figures["total_s"] < 30, figures


THIN_LINE_FILL = """
import json, sys, time
import numpy as np
from inpaint_core import Inpainter
from inpaint_core.bench import peak_resident_mb
from tests.test_large_photo import textured
photo = textured(3000, 4000)
mask = np.zeros(photo.shape[:2], bool)
mask[1500:1506] = True
started = time.perf_counter()
result = Inpainter(device="cpu", texture="photo").fill(photo, mask)
changed = (result.composite != photo).any(axis=2)
print(json.dumps({"seconds": time.perf_counter() - started, "peak_rss_mb": peak_resident_mb(),
                  "regions": len(result.regions), "changed_in_hole": float(changed[mask].mean()),
                  "changed_outside": int(changed[~mask].sum()), "timings": result.timings}))
"""


@pytest.mark.slow
def test_a_12_mp_photo_with_a_thin_line_fills_within_3_gb() -> None:
    """The whole fill (shipped weights, texture stage at the photo's resolution) in a fresh process, whose peak
    resident memory counts Python, torch, the photo and every copy. Measured: 0.71 GB, 65 s on 2 busy cores
    (52 s of it the texture stage)."""
    proc = subprocess.run([sys.executable, "-c", THIN_LINE_FILL], capture_output=True, text=True, cwd=REPO,
                          timeout=900, check=True)
    figures = json.loads(proc.stdout)
    assert figures["regions"] > 1  # tiled, not shrunk
    assert figures["changed_in_hole"] > 0.99 and figures["changed_outside"] == 0
    assert figures["peak_rss_mb"] < 3072, figures
