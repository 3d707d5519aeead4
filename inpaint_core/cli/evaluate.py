"""``eval``: the paper's Table 1 comparison (L1, L2, PSNR, TV, plus SSIM) on a folder of photos."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ..devices import DEVICES
from ..evaluate import MASK_KINDS, METHOD_NAMES, build_methods, list_images, markdown_table, run_eval, write_report
from ..imageio import ImageWriteError
from .main import UserError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--images", type=Path, required=True, help="folder of photos (evaluation photos only)")
    p.add_argument("--size", type=int, default=256, choices=[256, 512], help="side of the square each photo becomes")
    p.add_argument("--mask", default="center", choices=MASK_KINDS,
                   help="center: the middle size/2 square (the paper's); box: random box; strokes: free-form")
    p.add_argument("--seed", type=int, default=0, help="seed of the box and stroke holes")
    p.add_argument("--methods", default="deepfill,telea,ns",
                   help=f"comma-separated, from {', '.join(METHOD_NAMES)} (default: deepfill,telea,ns; patchmatch "
                        "is pure numpy, a few seconds per 256x256 photo)")
    p.add_argument("--weights", type=Path, help="DeepFill safetensors weights (default: the shipped weights)")
    p.add_argument("--device", default="auto", choices=DEVICES, help="where DeepFill runs")
    p.add_argument("--limit", type=int, help="only the first N photos (sorted by name)")
    p.add_argument("--out", type=Path, default=Path("eval_results"),
                   help="folder for table.md, metrics.json and contact_sheet.png (default: ./eval_results)")
    p.set_defaults(run=run)


def _method_names(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise UserError("--methods is empty")
    if len(set(names)) != len(names):
        raise UserError("--methods names a method twice")
    return names


def _photos(folder: Path, limit: int | None) -> list[Path]:
    if not folder.is_dir():
        raise UserError(f"{folder} is not a folder")
    if limit is not None and limit < 1:
        raise UserError("--limit must be at least 1")
    paths = list_images(folder)[:limit]
    if not paths:
        raise UserError(f"{folder} holds no images (.png, .jpg, .webp, .tif, .bmp)")
    return paths


def _progress(i: int, n: int, name: str) -> None:
    print(f"[{i}/{n}] {name}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    names = _method_names(args.methods)
    paths = _photos(args.images, args.limit)
    if args.out.exists() and not args.out.is_dir():
        raise UserError(f"--out {args.out} is a file, not a folder")
    try:
        methods = build_methods(names, args.weights, args.device)
    except ValueError as exc:  # an unknown method name
        raise UserError(str(exc)) from None
    started = time.perf_counter()
    report = run_eval(paths, methods, size=args.size, mask_kind=args.mask, seed=args.seed, progress=_progress)
    report.protocol.update(folder=str(args.images),
                           weights=str(args.weights or "default") if "deepfill" in names else None)
    try:
        written = write_report(report, args.out)
    except (ImageWriteError, OSError) as exc:
        raise UserError(f"could not write the report into {args.out}: {exc}") from None
    print(markdown_table(report))
    print(f"\n{len(paths)} images in {time.perf_counter() - started:.1f} s; wrote "
          + ", ".join(str(p) for p in written))
    return 0
