"""Fill a hole in a large photo the way the CLI does (read, fill, write) and print wall times and peak memory.

    .venv/bin/python -m inpaint_core convert --tf-checkpoint ../shared/golden/deepfill_v1/ckpt_seed0 \\
        --out /tmp/golden.safetensors
    .venv/bin/python scripts/bench_large_photo.py --weights /tmp/golden.safetensors [--json]

The photo is synthetic (smooth gradients with fine texture, written as a JPEG first, untimed); the hole is a
square in its middle. Peak memory is the process's resident high-water mark (VmHWM in /proc/self/status), so it
counts everything: Python, torch, the model, the photo and every copy the pipeline makes. The run also checks
that nothing changed outside the hole's feathered edge. total_s is load model + read + first fill + write;
second_fill_s is the same fill again, as a second fill in an editing session would run.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from inpaint_core.bench import peak_resident_mb  # noqa: E402
from inpaint_core.imageio import read_image, write_image  # noqa: E402
from inpaint_core.pipeline import Inpainter  # noqa: E402
from inpaint_core.regions import DEFAULT_MARGIN, DEFAULT_WORK_SIZE, Strategy  # noqa: E402


def synthetic_photo(width: int, height: int, seed: int = 0) -> np.ndarray:
    """Gradients plus texture, built from a 512x512 tile so making it costs no more memory than the photo."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:512, 0:512].astype(np.float32) / 512
    tile = np.dstack([160 + 60 * np.sin(6.3 * x), 120 + 50 * np.cos(4.1 * y), 90 + 40 * np.sin(3.0 * (x + y))])
    tile += rng.normal(0, 8, tile.shape).astype(np.float32)
    tile = np.clip(tile, 0, 255).astype(np.uint8)
    reps = (math.ceil(height / 512), math.ceil(width / 512), 1)
    return np.ascontiguousarray(np.tile(tile, reps)[:height, :width])


def run(weights: Path, width: int, height: int, hole: int, strategy: str, work_size: int, margin: int) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="bench_large_photo_"))
    source = folder / "photo.jpg"
    write_image(source, synthetic_photo(width, height), quality=92)
    mask = np.zeros((height, width), bool)
    y0, x0 = (height - hole) // 2, (width - hole) // 2
    mask[y0:y0 + hole, x0:x0 + hole] = True

    t0 = time.perf_counter()
    inpainter = Inpainter(weights, device="cpu", strategy=strategy, work_size=work_size, margin=margin)
    t1 = time.perf_counter()
    photo = read_image(source)
    t2 = time.perf_counter()
    result = inpainter.fill(photo.rgb, mask)
    t3 = time.perf_counter()
    write_image(folder / "photo_filled.jpg", result.composite, like=photo)
    t4 = time.perf_counter()
    inpainter.fill(photo.rgb, mask)  # again, with torch's kernels and allocator warm, as in a session
    t5 = time.perf_counter()

    # The feathered edge of a shrunk region reaches ceil(1 / scale) photo pixels beyond the hole.
    reach = max(math.ceil(1 / r.region.scale) for r in result.regions) if result.regions else 0
    changed = (result.composite != photo.rgb).any(axis=2)
    near = np.zeros_like(mask)
    near[max(0, y0 - reach):y0 + hole + reach, max(0, x0 - reach):x0 + hole + reach] = True
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    return {
        "photo": f"{width}x{height}", "hole": f"{hole}x{hole}", "strategy": strategy, "work_size": work_size,
        "margin": margin, "threads": __import__("torch").get_num_threads(),
        "regions": [f"{r.region.width}x{r.region.height}@{r.region.scale:.3f}" for r in result.regions],
        "load_model_s": round(t1 - t0, 3), "read_s": round(t2 - t1, 3), "fill_s": round(t3 - t2, 3),
        "model_s": round(result.timings.get("model", 0.0), 3), "write_s": round(t4 - t3, 3),
        "total_s": round(t4 - t0, 3), "second_fill_s": round(t5 - t4, 3), "changed_in_hole": int(changed[mask].sum()),
        "changed_outside_feathered_hole": int((changed & ~near).sum()), "peak_rss_mb": round(peak_resident_mb(), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", type=Path, required=True, help="safetensors weights (see above)")
    parser.add_argument("--width", type=int, default=6000)
    parser.add_argument("--height", type=int, default=4000)
    parser.add_argument("--hole", type=int, default=200, help="side of the square hole in the middle")
    parser.add_argument("--strategy", default=Strategy.CROP.value, choices=[s.value for s in Strategy])
    parser.add_argument("--work-size", type=int, default=DEFAULT_WORK_SIZE)
    parser.add_argument("--margin", type=int, default=DEFAULT_MARGIN)
    parser.add_argument("--json", action="store_true", help="print one JSON line instead of a table")
    args = parser.parse_args(argv)
    figures = run(args.weights, args.width, args.height, args.hole, args.strategy, args.work_size, args.margin)
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key:>32}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
