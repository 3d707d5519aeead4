"""``bench``: speed and memory of the generator, with the machine's conv ceiling measured in the same run; the
fill's network and texture stages timed separately; the precision "auto" picks and its cost."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..devices import DEVICES
from ..model.grid import MATCHING_CELL
from .main import UserError


def add_arguments(p: argparse.ArgumentParser) -> None:
    from ..bench import MASK_KINDS  # the masks live with the benchmark, which imports torch
    p.add_argument("--sizes", default="256,512,1024",
                   help=f"comma-separated square sizes, multiples of {MATCHING_CELL}")
    p.add_argument("--mask", default="center", choices=MASK_KINDS)
    p.add_argument("--device", default="cpu", choices=DEVICES)
    p.add_argument("--repeats", type=int, default=5, help="timed runs per size after one warm-up run")
    p.add_argument("--bf16", action="store_true",
                   help="also time bfloat16 autocast and report its PSNR cost (always done where precision "
                        "\"auto\" picks bf16)")
    p.add_argument("--weights", type=Path, help="weights for the bf16 quality figure and the timed fills "
                                                "(default: the shipped ones)")
    p.add_argument("--photo", type=Path, metavar="FILE",
                   help="the input, its centre square resized to each size (default: uniform noise); the bf16 "
                        "PSNR and the texture stage's work depend on the content")
    p.add_argument("--model-only", action="store_true",
                   help="skip timing the whole fill with the network alone and with the texture stage")
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the figures as JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..bench import format_report, run_bench, to_numpy_safe
    from ..imageio import read_image
    from ..pipeline import TextureSkipped

    try:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        raise UserError(f"--sizes must be integers separated by commas, not {args.sizes!r}") from None
    if not sizes or any(s < 64 or s % MATCHING_CELL for s in sizes):
        raise UserError(f"every size must be a multiple of {MATCHING_CELL} and at least 64")
    photo = None if args.photo is None else read_image(args.photo).rgb
    try:
        report = run_bench(sizes, args.mask, args.device, args.repeats, args.bf16, args.weights, photo=photo,
                           photo_name=str(args.photo), stages=not args.model_only)
    except TextureSkipped as exc:  # the stage's row would time the network's fill alone
        raise UserError(str(exc)) from None
    print(format_report(report))
    if args.json:
        args.json.write_text(json.dumps(to_numpy_safe(report), indent=2))
    return 0
