"""Cut seeded 512x512 crops of the full-resolution photos in ../shared/data/large, at 100 %, for `eval`.

    .venv/bin/python scripts/large_crops.py ../shared/data/large /tmp/large512
    .venv/bin/python -m inpaint_core eval --images /tmp/large512 --size 512 --mask strokes \\
        --methods deepfill+texture,deepfill,patchmatch,telea --out eval_large512

`eval` scores fills against ground truth, which the large photos' object masks do not have; their crops with
`eval`'s brush strokes do, at the photos' own pixel scale (camera noise, fine grass, cables), where the 256 and
512 sets are downscaled. The positions depend only on --seed and the photos' sizes, so a run is repeatable.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from inpaint_core.imageio import list_images, read_image, write_image  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("photos", type=Path, help="folder of full-resolution photos (masks beside them are skipped)")
    parser.add_argument("out", type=Path, help="folder the crops are written to (PNG)")
    parser.add_argument("--per-photo", type=int, default=7)
    parser.add_argument("--side", type=int, default=512)
    parser.add_argument("--seed", type=int, default=29)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    photos = [p for p in list_images(args.photos) if "mask" not in p.stem]
    for path in photos:
        rgb = read_image(path).rgb
        h, w = rgb.shape[:2]
        if min(h, w) < args.side:
            print(f"{path.name}: {w}x{h} is smaller than a {args.side} crop; skipped")
            continue
        for k in range(args.per_photo):
            y, x = int(rng.integers(0, h - args.side + 1)), int(rng.integers(0, w - args.side + 1))
            write_image(args.out / f"{path.stem}_{k}.png", rgb[y:y + args.side, x:x + args.side])
        print(f"{path.name}: {args.per_photo} crops")


if __name__ == "__main__":
    main()
