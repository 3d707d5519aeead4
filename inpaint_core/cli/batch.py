"""``fill PHOTOS_DIR --masks MASKS_DIR -o OUT_DIR``: fill many photos, each with the mask of the same name.

A photo ``NAME.EXT`` pairs with ``MASKS_DIR/NAME.*`` or ``MASKS_DIR/NAME_mask.*`` (the name the editor's Export
Mask suggests); a ``<mask name>_exclude.*`` beside the mask marks where that fill must not borrow from. Each result
goes to ``OUT_DIR/NAME.EXT`` in the photo's own format (options, ICC profile and EXIF kept, as single-file ``fill``
does). Existing files are never replaced unless ``--overwrite``. A photo that cannot be filled (unreadable,
unmatched, empty mask) is reported at the end; the others are still filled. No torch here: the fill is handed in.
"""
from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..imageio import FORMATS_BY_SUFFIX, read_image, read_mask, write_image

MASK_SUFFIXES = ("", "_mask")
EXCLUDE_SUFFIX = "_exclude"

# (photo rgb, hole, exclude or None) -> the filled photo; it may warn with FillWarning (reported per photo)
Fill = Callable[[np.ndarray, np.ndarray, "np.ndarray | None"], np.ndarray]


class FillWarning(UserWarning):
    """Something the user should know about one photo's fill (it was made by the network alone)."""


@dataclass(frozen=True)
class Job:
    photo: Path
    mask: Path
    exclude: Path | None
    out: Path


@dataclass
class Plan:
    jobs: list[Job]
    problems: list[str] = field(default_factory=list)   # what could not be paired, one line each


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in FORMATS_BY_SUFFIX)


def plan(photos_dir: Path, masks_dir: Path, out_dir: Path) -> Plan:
    """Pair photos with masks by file name. With masks beside the photos (one folder), only ``NAME_mask.*`` is a
    mask, so that a photo is never taken for another one's mask."""
    same_folder = photos_dir.resolve() == masks_dir.resolve()
    suffixes = ("_mask",) if same_folder else MASK_SUFFIXES
    by_stem: dict[str, list[Path]] = {}
    for mask in _images(masks_dir):
        by_stem.setdefault(mask.stem, []).append(mask)
    pairs, problems = [], []
    for photo in _images(photos_dir):
        found = [m for s in suffixes for m in by_stem.get(photo.stem + s, []) if m.resolve() != photo.resolve()]
        pairs.append((photo, found))
    claimed = {m for _, found in pairs for m in found}
    claimed |= {e for m in list(claimed) for e in by_stem.get(m.stem + EXCLUDE_SUFFIX, [])}
    jobs = []
    for photo, found in pairs:
        if photo in claimed:
            continue  # (one folder) a mask or exclude area of another photo
        if not found:
            looked = " or ".join(f"{photo.stem}{s}.*" for s in suffixes)
            problems.append(f"{photo.name}: no mask ({looked} in {masks_dir})")
        elif len(found) > 1:
            problems.append(f"{photo.name}: more than one mask ({', '.join(m.name for m in found)}); keep one")
        else:
            excludes = by_stem.get(found[0].stem + EXCLUDE_SUFFIX, [])
            jobs.append(Job(photo, found[0], excludes[0] if excludes else None, out_dir / photo.name))
    for mask in _images(masks_dir):
        # in one folder the photos are there too: only the files named like masks can be masks left over
        if mask not in claimed and (not same_folder or mask.stem.endswith(("_mask", EXCLUDE_SUFFIX))):
            problems.append(f"{mask.name}: a mask with no photo of its name in {photos_dir}")
    return Plan(jobs, problems)


def _fill_one(job: Job, fill: Fill) -> list[str]:
    """Fill one photo and write it; returns its warnings. Raises on anything that stops it."""
    photo = read_image(job.photo)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mask = read_mask(job.mask, size=photo.size)
        exclude = None if job.exclude is None else read_mask(job.exclude, size=photo.size)
    if not mask.any():
        raise ValueError(f"the mask {job.mask.name} is empty: nothing to fill")
    with warnings.catch_warnings(record=True) as filling:
        warnings.simplefilter("always", FillWarning)
        filled = fill(photo.rgb, mask, exclude)
    write_image(job.out, filled, alpha=photo.alpha, like=photo)
    return [str(w.message) for w in caught + [w for w in filling if issubclass(w.category, FillWarning)]]


def run(batch: Plan, fill: Fill, overwrite: bool = False) -> int:
    """Fill every paired photo with a progress bar (time left included), then report; 1 when anything failed."""
    failed = list(batch.problems)
    kept, done = [], 0
    with tqdm(batch.jobs, desc="Filling", unit="photo", file=sys.stderr, dynamic_ncols=True) as bar:
        for job in bar:
            bar.set_postfix_str(job.photo.name, refresh=False)
            if job.out.exists() and not overwrite:
                kept.append(job.out.name)
                continue
            try:
                for warning in _fill_one(job, fill):
                    bar.write(f"warning: {job.photo.name}: {warning}", file=sys.stderr)
            except Exception as exc:  # noqa: BLE001 - one photo's failure must not stop the others
                text = str(exc).strip() or type(exc).__name__
                failed.append(f"{job.photo.name}: {text}")
                bar.write(f"failed: {job.photo.name}: {text}", file=sys.stderr)
                continue
            done += 1
    out_dir = batch.jobs[0].out.parent if batch.jobs else None
    print(f"filled {done} of {len(batch.jobs)} photos with a mask" + (f", into {out_dir}" if out_dir else ""))
    if kept:
        print(f"{len(kept)} left as they were, already in {out_dir} (--overwrite replaces them): {', '.join(kept)}")
    if failed:
        print(f"{len(failed)} not filled:", *(f"  {line}" for line in failed), sep="\n", file=sys.stderr)
    return 1 if failed else 0
