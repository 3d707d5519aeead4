"""Object removal on full-size photos: cases from the folder, crops where the hole is, and ``eval`` in that mode."""
from __future__ import annotations

import json

import numpy as np
import pytest

from inpaint_core.cli.main import main
from inpaint_core.evaluate import HOLE_GREY
from inpaint_core.evaluate_objects import CROP_SIDE, crop_boxes, find_cases, marked_input, run_objects
from inpaint_core.imageio import read_image, write_image, write_mask


def texture(h: int, w: int, seed: int = 0) -> np.ndarray:
    """Noise smoothed a little: the same detail everywhere, so the ring around any hole is like the hole."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (h // 2 + 1, w // 2 + 1, 3), dtype=np.uint8)
    return np.ascontiguousarray(np.repeat(np.repeat(base, 2, 0), 2, 1)[:h, :w])


def blob_mask(h: int, w: int, boxes: list[tuple[int, int, int, int]]) -> np.ndarray:
    mask = np.zeros((h, w), bool)
    for y0, x0, y1, x1 in boxes:
        mask[y0:y1, x0:x1] = True
    return mask


def test_cases_pair_each_mask_with_its_photo(tmp_path) -> None:
    photo = np.zeros((16, 16, 3), np.uint8)
    for name in ("b.house.jpg", "a.png"):  # a photo stem may hold dots
        write_image(tmp_path / name, photo)
    mask = blob_mask(16, 16, [(2, 2, 6, 6)])
    write_mask(tmp_path / "b.house.wires_mask.png", mask)
    write_mask(tmp_path / "a.person_mask.png", mask)
    write_mask(tmp_path / "a.sign_mask.png", mask)
    cases = find_cases(tmp_path)
    assert [(c.name, c.photo.name, c.mask.name) for c in cases] == [
        ("a.person", "a.png", "a.person_mask.png"), ("a.sign", "a.png", "a.sign_mask.png"),
        ("b.house.wires", "b.house.jpg", "b.house.wires_mask.png")]
    write_mask(tmp_path / "c.pole_mask.png", mask)
    with pytest.raises(ValueError, match="no photo c"):
        find_cases(tmp_path)


def test_a_folder_of_photos_alone_has_no_cases(tmp_path) -> None:
    write_image(tmp_path / "a.png", np.zeros((8, 8, 3), np.uint8))
    assert find_cases(tmp_path) == []


def test_crops_go_where_the_hole_is_densest_and_never_overlap() -> None:
    mask = blob_mask(1200, 1500, [(100, 100, 300, 300), (900, 1100, 1000, 1200), (700, 200, 705, 800)])
    boxes = crop_boxes(mask, side=512, count=5)
    assert len(boxes) == 3  # a fourth window would hold no hole pixel
    x0, y0, x1, y1 = boxes[0]
    assert (x1 - x0, y1 - y0) == (512, 512) and mask[y0:y1, x0:x1].sum() == 200 * 200  # the big blob, whole
    x0, y0, x1, y1 = boxes[1]
    assert x0 <= 1100 and 1200 <= x1 and y0 <= 900 and 1000 <= y1  # the small blob (with a bit of the line)
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
    assert crop_boxes(np.ones((100, 300), bool), side=512) == [(0, 0, 300, 100)]  # a small photo: all of it


def test_the_input_crop_tints_only_the_hole() -> None:
    photo = np.full((4, 4, 3), 100, np.uint8)
    mask = blob_mask(4, 4, [(0, 0, 2, 2)])
    marked = marked_input(photo, mask)
    assert (marked[0, 0] == [177, 50, 50]).all() and (marked[3, 3] == 100).all()


def test_run_objects_measures_each_method(tmp_path) -> None:
    photo = texture(700, 900)
    mask = blob_mask(700, 900, [(200, 300, 330, 420)])
    write_image(tmp_path / "p.png", photo)
    write_mask(tmp_path / "p.thing_mask.png", mask)
    seen = []

    def exact(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
        seen.append(image[hole])
        return photo if image.shape == photo.shape else image  # the warm-up photo is another one

    def flat(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
        filled = image.copy()
        filled[hole] = 99
        return filled

    report = run_objects(find_cases(tmp_path), {"exact": exact, "flat": flat})
    assert np.all(seen[-1] == HOLE_GREY)
    exact_row, flat_row = report.results["exact"][0], report.results["flat"][0]
    assert exact_row["context_sharpness"] == pytest.approx(1.0, abs=0.1)
    assert flat_row["context_sharpness"] == 0.0
    assert exact_row["seconds"] >= 0 and exact_row["peak_mb"] > 10
    (strip,) = report.crops["p.thing"]
    assert strip.shape == (512, 3 * 512, 3)
    assert report.cases == [{"name": "p.thing", "size": "900x700", "hole_fraction": pytest.approx(mask.mean())}]


def test_eval_command_fills_object_masks_at_full_resolution(tmp_path, capsys) -> None:
    photos = tmp_path / "photos"
    photo = texture(600, 1400, seed=1)
    write_image(photos / "street.jpg", photo)
    mask = blob_mask(600, 1400, [(100, 100, 180, 160), (300, 900, 340, 1200)])
    write_mask(photos / "street.sign_mask.png", mask)
    out = tmp_path / "out"
    assert main(["eval", "--images", str(photos), "--methods", "telea,ns", "--mask", "strokes",
                 "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "1 object masks, filled at full resolution" in captured.err
    assert "| street.sign | 1400x600 |" in captured.out and "| telea | " in captured.out
    metrics = json.loads((out / "metrics.json").read_text())
    (case,) = metrics["cases"]
    assert set(case["methods"]) == {"telea", "ns"}
    assert 0 < case["methods"]["telea"]["context_sharpness"] < 0.8  # diffusion leaves the hole smooth
    crops = sorted((out / "crops").iterdir())
    assert [p.name for p in crops] == ["street.sign_1.png", "street.sign_2.png"]
    first = read_image(crops[0]).rgb
    assert first.shape == (CROP_SIDE, 3 * CROP_SIDE, 3)
    assert not (out / "strokes").exists()  # no ground-truth tables in this mode


def test_a_mask_without_its_photo_is_a_one_line_error(tmp_path, capsys) -> None:
    write_mask(tmp_path / "lost.pole_mask.png", np.ones((8, 8), bool))
    assert main(["eval", "--images", str(tmp_path), "--methods", "telea", "--out", str(tmp_path / "o")]) == 2
    assert "no photo lost" in capsys.readouterr().err
