"""``fill``: fill the white pixels of a mask image in a photo."""
from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

from ..imageio import read_image, read_mask, write_image
from ..pipeline import InpaintInputError, Inpainter
from ..regions import DEFAULT_MARGIN, DEFAULT_WORK_SIZE, Strategy
from .main import UserError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("fill", help="fill the masked part of a photo")
    p.add_argument("image", type=Path, help="the photo")
    p.add_argument("mask", type=Path, help="mask image: white (non-zero) pixels are the hole")
    p.add_argument("-o", "--out", type=Path, required=True, help="where to write the filled photo")
    p.add_argument("--weights", type=Path, help="safetensors weights (default: the shipped weights)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--strategy", default=Strategy.CROP.value, choices=[s.value for s in Strategy])
    p.add_argument("--work-size", type=int, default=DEFAULT_WORK_SIZE,
                   help="largest side the model sees; larger regions are shrunk (crop/resize strategies)")
    p.add_argument("--margin", type=int, default=DEFAULT_MARGIN, help="context around each hole (crop strategy)")
    p.add_argument("--precision", default="fp32", choices=["fp32", "bf16"],
                   help="bf16 runs the convolutions in bfloat16: faster on recent CPUs/GPUs, slightly different")
    p.add_argument("--save-stages", type=Path, metavar="DIR",
                   help="also write coarse.png, refined.png and flow.png (full image size) into DIR")
    p.add_argument("--overwrite", action="store_true", help="allow --out to replace an existing file")
    p.set_defaults(run=run)


def _stage_image(base: np.ndarray, box: tuple[int, int, int, int], region_rgb: np.ndarray) -> np.ndarray:
    full = base.copy()
    x0, y0, x1, y1 = box
    full[y0:y1, x0:x1] = region_rgb
    return full


def run(args: argparse.Namespace) -> int:
    if args.out.exists() and not args.overwrite:
        raise UserError(f"{args.out} exists; pass --overwrite to replace it")
    if args.out.resolve() == args.image.resolve():
        raise UserError("--out is the input photo itself; write the result to a new file")
    photo = read_image(args.image)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mask = read_mask(args.mask, size=photo.size)
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    inpainter = Inpainter(args.weights, device=args.device, strategy=args.strategy, work_size=args.work_size,
                          margin=args.margin, precision=args.precision)
    try:
        result = inpainter.fill(photo.rgb, mask)
    except InpaintInputError as exc:
        raise UserError(str(exc)) from None
    write_image(args.out, result.composite, alpha=photo.alpha, like=photo)
    if args.save_stages:
        args.save_stages.mkdir(parents=True, exist_ok=True)
        white = np.full_like(photo.rgb, 255)
        write_image(args.save_stages / "coarse.png", _stage_image(photo.rgb, result.box, result.coarse))
        write_image(args.save_stages / "refined.png", _stage_image(photo.rgb, result.box, result.refined))
        write_image(args.save_stages / "flow.png", _stage_image(white, result.box, result.flow_rgb))
    model_seconds = result.timings.get("model", 0.0)
    print(f"wrote {args.out} ({photo.size[0]}x{photo.size[1]}, {int(mask.sum())} hole pixels, "
          f"{len(result.regions)} region(s), model {model_seconds:.2f} s on {inpainter.device})")
    return 0
