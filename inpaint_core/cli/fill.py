"""``fill``: fill the white pixels of a mask image in a photo; optionally steer where the fill borrows from
(``--exclude``) and show where it did (``--inspect``). By default the texture stage puts the photo's own texture
into the network's fill (``--texture photo``); ``--seed`` picks one of its variations."""
from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from ..devices import DEVICES, PRECISIONS
from ..imageio import FORMATS_BY_SUFFIX, read_image, read_mask, write_image
from ..regions import DEFAULT_MARGIN, DEFAULT_WORK_SIZE, Strategy
from ..sources import heat_colours
from . import batch
from .main import UserError

if TYPE_CHECKING:  # torch: imported when a fill runs, never for --help
    from ..pipeline import Inpainter


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = ("fill PHOTO MASK -o OUT, or fill PHOTOS_DIR --masks MASKS_DIR -o OUT_DIR "
                     "(each photo with the mask of its name: NAME.* or NAME_mask.*)")
    p.add_argument("image", type=Path, help="the photo, or a folder of photos")
    p.add_argument("mask", type=Path, nargs="?", help="mask image: white (non-zero) pixels are the hole")
    p.add_argument("--masks", type=Path, metavar="MASKS_DIR",
                   help="with a folder of photos: the folder of their masks (may be the same folder)")
    p.add_argument("-o", "--out", type=Path, required=True,
                   help="where to write the filled photo (with a folder of photos: the folder to write into)")
    p.add_argument("--weights", type=Path, help="safetensors weights (default: the shipped weights)")
    p.add_argument("--device", default="auto", choices=DEVICES)
    p.add_argument("--strategy", default=Strategy.CROP.value, choices=[s.value for s in Strategy])
    p.add_argument("--work-size", type=int, default=DEFAULT_WORK_SIZE,
                   help="largest side the model sees; larger regions are shrunk (crop/resize strategies)")
    p.add_argument("--margin", type=int, default=DEFAULT_MARGIN, help="context around each hole (crop strategy)")
    p.add_argument("--precision", default="auto", choices=PRECISIONS,
                   help="bf16 runs the convolutions in bfloat16: faster on recent CPUs/GPUs, slightly different; "
                        "auto (default): bf16 where the device has it natively, else fp32")
    p.add_argument("--texture", default="photo", choices=["photo", "network"],
                   help="photo: the network's fill given the photo's own texture at full resolution (default); "
                        "network: the network's fill alone")
    p.add_argument("--seed", type=int, default=0,
                   help="the texture stage's seed: another seed gives another plausible fill (default 0)")
    p.add_argument("--exclude", type=Path, metavar="EXCLUDE",
                   help="mask image: the fill must not borrow from its white (non-zero) pixels")
    p.add_argument("--save-stages", type=Path, metavar="DIR",
                   help="also write coarse.png, refined.png and flow.png (full image size) into DIR, and "
                        "texture_flow.png (where the texture stage copied each pixel from) with --texture photo")
    p.add_argument("--inspect", type=_point, action="append", default=[], metavar="X,Y",
                   help="with --save-stages: also write DIR/sources_X_Y.png, where the fill at hole pixel (X, Y) "
                        "came from (the patch the texture stage copied; with --texture network the attention's "
                        "heat map, its 5 strongest source patches outlined); repeatable")
    p.add_argument("--overwrite", action="store_true", help="allow --out to replace an existing file")
    p.set_defaults(run=run)


def _point(text: str) -> tuple[int, int]:
    try:
        x, y = (int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected X,Y in pixels (e.g. 120,80), got {text!r}") from None
    return x, y


def _check_inspect_points(points: list[tuple[int, int]], mask: np.ndarray, mask_path: Path) -> None:
    """Before the model runs: every point must be a hole pixel, the only pixels the fill makes."""
    height, width = mask.shape
    for x, y in points:
        if not (0 <= x < width and 0 <= y < height):
            raise UserError(f"--inspect {x},{y} is outside the photo ({width}x{height})")
        if not mask[y, x]:
            raise UserError(f"--inspect {x},{y} is outside the hole: only pixels the fill makes (white in "
                            f"{mask_path.name}) have sources")


def _sources_image(rgb: np.ndarray, box: tuple[int, int, int, int], heat: np.ndarray,
                   top: list[tuple[tuple[int, int, int, int], float]], point: tuple[int, int]) -> np.ndarray:
    """The photo with the heat map of ``point`` over ``box`` (inferno ramp, opacity rising with the weight, as in
    the editor's inspector), its strongest sources outlined and the point marked."""
    out = rgb.copy()
    colours, alpha = heat_colours(heat)
    x0, y0, x1, y1 = box
    region = out[y0:y1, x0:x1].astype(np.float32)
    out[y0:y1, x0:x1] = np.round(region * (1 - alpha[..., None]) + colours * alpha[..., None]).astype(np.uint8)
    # A light line just inside each source and a dark one just outside, as in the editor: readable on any photo
    # while a 16-pixel source keeps most of its heat visible. Lines grow with the photo, to stay visible.
    line = max(1, round(max(rgb.shape[:2]) / 1024))
    for (bx0, by0, bx1, by1), _ in reversed(top):  # the strongest drawn last, on top
        cv2.rectangle(out, (bx0 - line, by0 - line), (bx1 - 1 + line, by1 - 1 + line), (0, 0, 0), line)
        cv2.rectangle(out, (bx0, by0), (bx1 - 1, by1 - 1), (255, 255, 255), line)
    for colour, width in (((0, 0, 0), 3 * line), ((255, 255, 255), line)):
        cv2.drawMarker(out, point, colour, cv2.MARKER_CROSS, 10 * line + 1, width)
    return out


def _stage_image(base: np.ndarray, box: tuple[int, int, int, int], region_rgb: np.ndarray) -> np.ndarray:
    full = base.copy()
    x0, y0, x1, y1 = box
    full[y0:y1, x0:x1] = region_rgb
    return full


def _engine(args: argparse.Namespace) -> Inpainter:
    from ..pipeline import Inpainter  # torch is imported only when a fill runs

    return Inpainter(args.weights, device=args.device, strategy=args.strategy, work_size=args.work_size,
                     margin=args.margin, precision=args.precision, texture=args.texture, seed=args.seed)


def run_folder(args: argparse.Namespace) -> int:
    if args.mask is not None or args.masks is None:
        raise UserError(f"{args.image} is a folder: to fill every photo in it, give their masks' folder as "
                        "--masks MASKS_DIR (and no MASK)")
    if not args.masks.is_dir():
        raise UserError(f"--masks {args.masks} is not a folder")
    if args.save_stages or args.inspect:
        raise UserError("--save-stages and --inspect work on one photo at a time, not a folder")
    if args.out.exists() and not args.out.is_dir():
        raise UserError(f"-o {args.out} is a file; with a folder of photos, -o names a folder")
    if args.out.resolve() in (args.image.resolve(), args.masks.resolve()):
        raise UserError("-o must be a folder of its own, not the photos' or the masks'")
    jobs = batch.plan(args.image, args.masks, args.out)
    if not jobs.jobs and not jobs.problems:
        raise UserError(f"{args.image} holds no photos ({', '.join(sorted(FORMATS_BY_SUFFIX))})")
    args.out.mkdir(parents=True, exist_ok=True)
    inpainter = _engine(args) if jobs.jobs else None

    def fill(rgb: np.ndarray, mask: np.ndarray, exclude: np.ndarray | None) -> np.ndarray:
        result = inpainter.fill(rgb, mask, exclude=exclude)
        if result.texture_skipped is not None:
            warnings.warn(f"filled by the network alone: {result.texture_skipped}", batch.FillWarning)
        if result.texture_partial is not None:
            warnings.warn(result.texture_partial, batch.FillWarning)
        return result.composite

    return batch.run(jobs, fill, overwrite=args.overwrite)


def run(args: argparse.Namespace) -> int:
    if args.image.is_dir():
        return run_folder(args)
    if args.mask is None or args.masks is not None:
        raise UserError("give the photo's mask: fill PHOTO MASK -o OUT (--masks is for a folder of photos)")
    if args.out.exists() and not args.overwrite:
        raise UserError(f"{args.out} exists; pass --overwrite to replace it")
    if args.out.resolve() == args.image.resolve():
        raise UserError("--out is the input photo itself; write the result to a new file")
    if args.out.suffix.lower() not in FORMATS_BY_SUFFIX:
        raise UserError(f"{args.out}: unknown image type {args.out.suffix!r}; use one of "
                        f"{', '.join(sorted(FORMATS_BY_SUFFIX))}")
    if not args.out.parent.is_dir():
        raise UserError(f"{args.out.parent}: no such folder for the output")
    if args.inspect and not args.save_stages:
        raise UserError("--inspect writes its pictures into the --save-stages folder: pass --save-stages DIR too")
    photo = read_image(args.image)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mask = read_mask(args.mask, size=photo.size)
        exclude = None if args.exclude is None else read_mask(args.exclude, size=photo.size)
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    _check_inspect_points(args.inspect, mask, args.mask)
    from ..pipeline import InpaintInputError  # torch: only once the inputs are known to be good

    inpainter = _engine(args)
    try:
        result = inpainter.fill(photo.rgb, mask, exclude=exclude)
    except InpaintInputError as exc:
        raise UserError(str(exc)) from None
    write_image(args.out, result.composite, alpha=photo.alpha, like=photo)
    if args.save_stages:
        args.save_stages.mkdir(parents=True, exist_ok=True)
        white = np.full_like(photo.rgb, 255)
        write_image(args.save_stages / "coarse.png", _stage_image(photo.rgb, result.box, result.coarse))
        write_image(args.save_stages / "refined.png", _stage_image(photo.rgb, result.box, result.refined))
        write_image(args.save_stages / "flow.png", _stage_image(white, result.box, result.flow_rgb))
        if result.texture_flow_rgb is not None:
            texture_flow = _stage_image(white, result.box, result.texture_flow_rgb)
            write_image(args.save_stages / "texture_flow.png", texture_flow)
        for x, y in args.inspect:
            picture = _sources_image(result.composite, result.box, result.sources(x, y), result.top_sources(x, y),
                                     (x, y))
            write_image(args.save_stages / f"sources_{x}_{y}.png", picture)
    if result.texture_skipped is not None:
        print(f"warning: filled by the network alone: {result.texture_skipped}", file=sys.stderr)
    if result.texture_partial is not None:
        print(f"warning: {result.texture_partial}", file=sys.stderr)
    seconds = f"model {result.timings.get('model', 0.0):.2f} s"
    if "texture" in result.timings:
        seconds += f", texture {result.timings['texture']:.2f} s (seed {result.seed})"
    print(f"wrote {args.out} ({photo.size[0]}x{photo.size[1]}, {int(mask.sum())} hole pixels, "
          f"{len(result.regions)} region(s), {seconds} on {inpainter.device})")
    return 0
