"""``eval``: fills scored against the originals of a photo folder (Table 1 plus hole measures), or, for a folder
of photos with object masks, timed and measured at full resolution without ground truth."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ..baselines import BaselineUnavailable
from ..devices import DEVICES
from .. import evaluate_objects as objects
from ..evaluate import (FULL_SIZE_KINDS, MASK_KINDS, METHOD_NAMES, TEXTURE_OF, FillFn, build_methods,
                        markdown_table, run_eval, write_report)
from ..imageio import ImageWriteError, list_images
from .main import UserError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--images", type=Path, required=True,
                   help="folder of photos (searched recursively); when it holds object masks "
                        "<stem>.<what>_mask.png, each mask is filled at full resolution without ground truth, "
                        "unless --mask names lines")
    p.add_argument("--size", type=int, default=256, choices=[256, 512],
                   help="side of the square each photo becomes (not for --mask lines)")
    p.add_argument("--mask", default="center",
                   help=f"comma-separated, from {', '.join(MASK_KINDS)}; one table per kind. "
                        "center: the middle size/2 square (the paper's); box: random size/2 box; strokes: "
                        "user-like brush strokes; lines: two long lines from edge to edge and two blobs, cut at "
                        "each photo's own size")
    p.add_argument("--seed", type=int, default=0, help="seed of the box and stroke holes and of PatchMatch")
    p.add_argument("--methods", default="deepfill,telea,ns",
                   help=f"comma-separated, from {', '.join(METHOD_NAMES)} (default: deepfill,telea,ns). "
                        "patchmatch needs the optional extra: pip install 'inpaint-studio[eval]'")
    p.add_argument("--weights", type=Path, help="DeepFill safetensors weights (default: the shipped weights)")
    p.add_argument("--device", default="auto", choices=DEVICES, help="where DeepFill runs")
    p.add_argument("--texture-guide", type=float, default=0.0, metavar="WEIGHT",
                   help="weight of the texture stage's guide term, which steers its copies by the network's fill "
                        "(0 = off, the default; 4 judges new weights, see weights/README.md)")
    p.add_argument("--limit", type=int, help="only the first N photos (sorted by name), or N object masks")
    p.add_argument("--out", type=Path, default=Path("eval_results"),
                   help="output folder (default: ./eval_results) for table.md, metrics.json and contact_sheet.png "
                        "(in a subfolder per kind when --mask names several); for object masks table.md, "
                        "metrics.json and crops/")
    p.set_defaults(run=run)


def _names(text: str, option: str, allowed: tuple[str, ...]) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise UserError(f"{option} is empty")
    if len(set(names)) != len(names):
        raise UserError(f"{option} names one twice")
    unknown = [n for n in names if n not in allowed]
    if unknown:
        what = "method" if option == "--methods" else "mask kind"
        raise UserError(f"unknown {what}(s) {', '.join(unknown)} in {option}; choose from {', '.join(allowed)}")
    return names


def _progress(i: int, n: int, name: str) -> None:
    print(f"[{i}/{n}] {name}", file=sys.stderr, flush=True)


def _methods(names: list[str], args: argparse.Namespace) -> dict[str, FillFn]:
    try:
        return build_methods(names, args.weights, args.device, args.seed, args.texture_guide)
    except BaselineUnavailable as exc:
        raise UserError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    names = _names(args.methods, "--methods", METHOD_NAMES)
    kinds = _names(args.mask, "--mask", MASK_KINDS)
    if not args.images.is_dir():
        raise UserError(f"{args.images} is not a folder")
    if args.limit is not None and args.limit < 1:
        raise UserError("--limit must be at least 1")
    if not args.texture_guide >= 0:  # also refuses nan
        raise UserError("--texture-guide must be 0 or more")
    if args.out.exists() and not args.out.is_dir():
        raise UserError(f"--out {args.out} is a file, not a folder")
    try:
        cases = objects.find_cases(args.images)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    from ..pipeline import TextureSkipped  # imports torch, which no option's check needs

    started = time.perf_counter()
    try:
        if cases and not set(kinds) & set(FULL_SIZE_KINDS):
            _run_objects(cases[:args.limit], names, args)
        else:  # the photos with holes of their own (a folder of object-removal cases: its photos, not their masks)
            photos = [p for p in list_images(args.images) if not p.name.endswith(objects.MASK_SUFFIX)]
            if not photos:
                raise UserError(f"{args.images} holds object masks but no photos")
            _run_photos(photos[:args.limit], names, kinds, args)
    except TextureSkipped as exc:  # deepfill+texture without its stage would score the network's fill
        raise UserError(str(exc)) from None
    print(f"\n{time.perf_counter() - started:.1f} s")
    return 0


def _run_photos(paths: list[Path], names: list[str], kinds: list[str], args: argparse.Namespace) -> None:
    methods = _methods(names, args)
    for kind in kinds:
        report = run_eval(paths, methods, size=args.size, mask_kind=kind, seed=args.seed, progress=_progress)
        report.protocol.update(folder=str(args.images), weights=_weights(names, args))
        out = args.out / kind if len(kinds) > 1 else args.out
        try:
            written = write_report(report, out)
        except (ImageWriteError, OSError) as exc:
            raise UserError(f"could not write the report into {out}: {exc}") from None
        print(markdown_table(report))
        print(f"wrote {', '.join(str(p) for p in written)}\n")


def _weights(names: list[str], args: argparse.Namespace) -> str | None:
    if not any(n in TEXTURE_OF for n in names):
        return None
    guide = f", texture guide {args.texture_guide:g}" if args.texture_guide > 0 else ""
    return str(args.weights or "default") + guide


def _run_objects(cases: list[objects.ObjectCase], names: list[str], args: argparse.Namespace) -> None:
    print(f"{args.images}: {len(cases)} object masks, filled at full resolution without ground truth "
          "(--size and --mask do not apply; --mask lines cuts holes into the photos instead)", file=sys.stderr)
    methods = _methods(names, args)
    report = objects.run_objects(cases, methods, progress=_progress)
    report.protocol.update(folder=str(args.images), weights=_weights(names, args))
    try:
        written = objects.write_report(report, args.out)
    except (ImageWriteError, OSError) as exc:
        raise UserError(f"could not write the report into {args.out}: {exc}") from None
    print(objects.markdown_table(report))
    print(f"wrote {written[0]}, {written[1]} and {len(written) - 2} crops in {args.out / 'crops'}")
