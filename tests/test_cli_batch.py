"""`python -m inpaint_core fill PHOTOS_DIR --masks MASKS_DIR -o OUT_DIR` end to end (the golden weights: random,
but every filled pixel is the model's): pairing by name, formats kept, nothing overwritten, bad and unmatched files
reported at the end without stopping the rest, the exit status."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from inpaint_core.cli import batch
from inpaint_core.cli.main import main
from inpaint_core.imageio import read_image

from .conftest import REPO

HOLE = (20, 16, 44, 40)  # x0, y0, x1, y1


def photo(path: Path, width: int, height: int, seed: int, **save) -> np.ndarray:
    rgb = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    rgb = np.asarray(Image.fromarray(rgb).resize((width, height))).copy()
    rgb[:] = np.clip(rgb.astype(int) // 4 + np.arange(width)[None, :, None], 0, 255)  # smooth, like a photo
    Image.fromarray(rgb).save(path, **save)
    return rgb


def mask(path: Path, width: int, height: int, box=HOLE) -> np.ndarray:
    hole = np.zeros((height, width), bool)
    x0, y0, x1, y1 = box
    hole[y0:y1, x0:x1] = True
    Image.fromarray(hole.astype(np.uint8) * 255).save(path)
    return hole


@pytest.fixture
def folders(tmp_path: Path) -> SimpleNamespace:
    photos, masks, out = tmp_path / "photos", tmp_path / "masks", tmp_path / "out"
    photos.mkdir()
    masks.mkdir()
    out.mkdir()
    photo(photos / "a.jpg", 96, 64, 1, quality=90)
    photo(photos / "b.png", 64, 64, 2)
    rgb_c = photo(photos / "c.png", 80, 72, 3)
    (photos / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a jpeg")
    photo(photos / "lonely.png", 64, 64, 4)
    hole_a = mask(masks / "a.png", 96, 64)
    mask(masks / "b_mask.png", 64, 64)              # the name the editor's Export Mask suggests
    hole_c = mask(masks / "c.png", 80, 72)
    mask(masks / "broken.png", 64, 64)
    mask(masks / "orphan.png", 64, 64)
    (out / "b.png").write_bytes(b"keep me")
    return SimpleNamespace(photos=photos, masks=masks, out=out, hole_a=hole_a, hole_c=hole_c, rgb_c=rgb_c)


def test_a_folder_is_filled_photo_by_photo_and_what_failed_is_reported_at_the_end(folders, golden_weights):
    proc = subprocess.run([sys.executable, "-m", "inpaint_core", "fill", str(folders.photos), "--masks",
                           str(folders.masks), "-o", str(folders.out), "--weights", str(golden_weights)],
                          capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 1, proc.stderr  # some failed...
    # ...but every photo that could be filled was, in its own format
    a, original_a = read_image(folders.out / "a.jpg"), read_image(folders.photos / "a.jpg")
    assert a.format == "JPEG" and a.size == (96, 64)
    assert a.save_options.get("quality") == original_a.save_options.get("quality") == 90  # saved as it came
    difference = np.abs(a.rgb.astype(int) - original_a.rgb.astype(int)).max(axis=2)
    assert difference[folders.hole_a].mean() > 4 * difference[~folders.hole_a].mean()  # the hole, not the rest
    c = read_image(folders.out / "c.png")
    assert c.format == "PNG"
    assert np.array_equal(c.rgb[~folders.hole_c], folders.rgb_c[~folders.hole_c])
    assert (c.rgb[folders.hole_c] != folders.rgb_c[folders.hole_c]).any(axis=1).mean() > 0.5
    assert (folders.out / "b.png").read_bytes() == b"keep me"  # never overwritten
    assert sorted(p.name for p in folders.out.iterdir()) == ["a.jpg", "b.png", "c.png"]
    assert "filled 2 of 4 photos with a mask" in proc.stdout and "b.png" in proc.stdout
    report = proc.stderr[proc.stderr.index("not filled"):]
    for name, why in (("broken.jpg", "broken.jpg"), ("lonely.png", "no mask"), ("orphan.png", "no photo")):
        assert any(line.strip().startswith(name) and why in line for line in report.splitlines()), report
    assert "Traceback" not in proc.stderr
    assert "Filling" in proc.stderr and "photo" in proc.stderr and "<" in proc.stderr  # the bar, with time left


def test_all_filled_exits_zero_and_a_second_run_changes_nothing(folders, golden_weights, capsys):
    for name in ("broken.jpg", "lonely.png"):
        (folders.photos / name).unlink()
    for name in ("broken.png", "orphan.png"):
        (folders.masks / name).unlink()
    (folders.out / "b.png").unlink()
    args = ["fill", str(folders.photos), "--masks", str(folders.masks), "-o", str(folders.out), "--weights",
            str(golden_weights)]
    assert main(args) == 0
    written = {p.name: p.read_bytes() for p in folders.out.iterdir()}
    assert sorted(written) == ["a.jpg", "b.png", "c.png"]
    assert main(args) == 0
    assert {p.name: p.read_bytes() for p in folders.out.iterdir()} == written
    assert "3 left as they were" in capsys.readouterr().out


def test_each_photo_gets_its_own_mask_and_exclude_area(tmp_path, monkeypatch):
    """Masks beside the photos (one folder), the editor's export names: NAME_mask.png and NAME_mask_exclude.png."""
    folder = tmp_path / "shoot"
    folder.mkdir()
    photo(folder / "x.png", 64, 48, 5)
    photo(folder / "y.jpg", 64, 48, 6)
    hole_x = mask(folder / "x_mask.png", 64, 48)
    exclude_x = mask(folder / "x_mask_exclude.png", 64, 48, (0, 0, 10, 48))
    hole_y = mask(folder / "y_mask.png", 64, 48, (30, 10, 50, 30))
    calls = {}

    class Recorder:
        def __init__(self, *args, **kwargs) -> None:
            pass

        def fill(self, rgb, hole, *, exclude=None):
            calls[rgb.shape, int(hole.sum())] = (hole.copy(), exclude)
            return SimpleNamespace(composite=rgb, texture_skipped=None, texture_partial=None)

    monkeypatch.setattr("inpaint_core.pipeline.Inpainter", Recorder)  # fill imports it when it runs
    assert main(["fill", str(folder), "--masks", str(folder), "-o", str(tmp_path / "out")]) == 0
    (got_x, got_exclude_x), (got_y, got_exclude_y) = calls[(48, 64, 3), hole_x.sum()], calls[(48, 64, 3), hole_y.sum()]
    assert np.array_equal(got_x, hole_x) and np.array_equal(got_exclude_x, exclude_x)
    assert np.array_equal(got_y, hole_y) and got_exclude_y is None
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["x.png", "y.jpg"]


def test_a_photo_with_two_masks_or_an_empty_one_is_reported_not_guessed(tmp_path):
    photos, masks = tmp_path / "p", tmp_path / "m"
    photos.mkdir()
    masks.mkdir()
    photo(photos / "a.png", 32, 32, 7)
    mask(masks / "a.png", 32, 32)
    mask(masks / "a_mask.png", 32, 32)
    plan = batch.plan(photos, masks, tmp_path / "out")
    assert plan.jobs == [] and len(plan.problems) == 1 and "more than one mask" in plan.problems[0]
    photo(photos / "e.png", 32, 32, 8)
    mask(masks / "e.png", 32, 32, (0, 0, 0, 0))
    (tmp_path / "out").mkdir()
    plan = batch.plan(photos, masks, tmp_path / "out")
    assert batch.run(plan, lambda rgb, hole, exclude: rgb) == 1
    assert not (tmp_path / "out" / "e.png").exists()


def test_folder_arguments_are_checked_before_any_model_loads(tmp_path, capsys):
    (tmp_path / "p").mkdir()
    for args, expected in ((["fill", str(tmp_path / "p"), "-o", str(tmp_path / "o")], "--masks"),
                           (["fill", str(tmp_path / "p"), "--masks", str(tmp_path / "p"), "-o", str(tmp_path / "p")],
                            "folder of its own"),
                           (["fill", str(tmp_path / "p"), "--masks", str(tmp_path / "none"), "-o", str(tmp_path / "o")],
                            "not a folder")):
        assert main(args) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and expected in err


def test_a_photo_filled_by_the_network_alone_is_reported_but_written(tmp_path, capsys):
    """The fill's own warnings (the texture stage skipped for memory) reach the report, per photo; other
    warnings raised while filling do not."""
    import warnings

    photos, masks, out = tmp_path / "p", tmp_path / "m", tmp_path / "out"
    for folder in (photos, masks, out):
        folder.mkdir()
    photo(photos / "a.png", 32, 32, 7)
    mask(masks / "a.png", 32, 32)

    def fill(rgb, hole, exclude):
        warnings.warn("filled by the network alone: 9 MB needed, 3 MB free", batch.FillWarning)
        warnings.warn("some library's deprecation", DeprecationWarning)
        return rgb

    assert batch.run(batch.plan(photos, masks, out), fill) == 0
    err = capsys.readouterr().err
    assert "warning: a.png: filled by the network alone: 9 MB needed, 3 MB free" in err
    assert "deprecation" not in err and (out / "a.png").exists()
