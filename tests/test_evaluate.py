"""Evaluation: metrics against hand-computed values, the protocol's masks and inputs, and ``eval`` end to end."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from inpaint_core import baselines
from inpaint_core.cli.main import main
from inpaint_core.evaluate import (HOLE_GREY, EvalReport, build_methods, l1_error, l2_error, make_mask,
                                   markdown_table, metrics_json, psnr, run_eval, square_resize, ssim, tv_loss)
from inpaint_core.imageio import read_image

from .conftest import EVAL_DIR


def grey(values: list[list[int]]) -> np.ndarray:
    """A tiny RGB image with R = G = B = ``values``."""
    return np.repeat(np.array(values, dtype=np.uint8)[..., None], 3, axis=2)


# -- metrics ------------------------------------------------------------------------------------------------------
def test_l1_l2_psnr_match_hand_computed_values() -> None:
    truth = np.zeros((2, 2, 3), np.uint8)
    output = truth.copy()
    output[0, 0, 0] = 51  # one of 12 values off by 0.2
    assert l1_error(output, truth) == pytest.approx(100 * 0.2 / 12)   # 1.667 %
    assert l2_error(output, truth) == pytest.approx(100 * 0.04 / 12)  # 0.333 %
    assert psnr(output, truth) == pytest.approx(10 * math.log10(300))  # MSE = 1/300 -> 24.77 dB


def test_psnr_of_identical_images_is_infinite_and_survives_the_report() -> None:
    image = grey([[10, 20], [30, 40]])
    assert psnr(image, image) == math.inf
    assert l1_error(image, image) == 0.0
    report = EvalReport(protocol={"size": 2, "mask": "center", "seed": 0, "images": 1}, images=["a.png"],
                        scores={"copy": [{"l1": 0.0, "l2": 0.0, "psnr": math.inf, "tv": 1.0, "ssim": 1.0,
                                          "seconds": 0.1}]},
                        truth_tv=[1.0])
    assert "| copy | 0.00 | 0.00 | inf |" in markdown_table(report)
    written = json.loads(json.dumps(metrics_json(report), allow_nan=False))
    assert written["methods"]["copy"]["mean"]["psnr"] is None
    assert written["methods"]["copy"]["per_image"][0]["psnr"] is None


def test_tv_is_the_mean_neighbour_difference() -> None:
    # horizontal pairs differ by 0.2, vertical pairs by 0: mean over the 4 pairs = 0.1
    assert tv_loss(grey([[0, 51], [0, 51]])) == pytest.approx(10.0)
    assert tv_loss(grey([[0, 255], [255, 0]])) == pytest.approx(100.0)
    assert tv_loss(grey([[7, 7], [7, 7]])) == 0.0
    # 3 columns: 2 horizontal pairs per row, 1 vertical pair per column; only the first row's pairs differ
    assert tv_loss(grey([[0, 255, 0], [0, 0, 0]])) == pytest.approx(100.0 * (1 + 1 + 0 + 0 + 1 + 0) / 7)


def test_ssim_is_one_for_identical_images_and_the_luminance_term_for_flat_ones() -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    assert ssim(image, image) == pytest.approx(1.0, abs=1e-12)
    # flat images: variances and covariance vanish, SSIM = (2ab + C1) / (a^2 + b^2 + C1)
    a, b, c1 = 0.4, 0.6, 0.01 ** 2
    flat_a, flat_b = np.full((16, 16, 3), 102, np.uint8), np.full((16, 16, 3), 153, np.uint8)
    assert ssim(flat_a, flat_b) == pytest.approx((2 * a * b + c1) / (a * a + b * b + c1))
    assert ssim(image, 255 - image) < 0


# -- protocol -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("size", [256, 512])
def test_center_mask_is_the_middle_half(size: int) -> None:
    mask = make_mask("center", size, np.random.default_rng(0))
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    assert (rows[0], rows[-1], cols[0], cols[-1]) == (size // 4, 3 * size // 4 - 1, size // 4, 3 * size // 4 - 1)
    assert mask.sum() == (size // 2) ** 2


def test_box_and_stroke_masks_are_seeded_and_in_range() -> None:
    for seed in range(20):
        box = make_mask("box", 256, np.random.default_rng(seed))
        rows, cols = np.flatnonzero(box.any(axis=1)), np.flatnonzero(box.any(axis=0))
        assert 96 <= rows.size <= 128 and 96 <= cols.size <= 128  # 128 box shrunk by 0..16 per side
        assert box.sum() == rows.size * cols.size
    first = make_mask("strokes", 256, np.random.default_rng(3))
    assert first.any() and np.array_equal(first, make_mask("strokes", 256, np.random.default_rng(3)))


def test_square_resize_takes_the_centre_square() -> None:
    photo = np.zeros((200, 300, 3), np.uint8)
    photo[:, 50:250] = 200  # exactly the centre square
    assert np.array_equal(square_resize(photo, 100), np.full((100, 100, 3), 200, np.uint8))
    assert square_resize(photo[:, 50:250], 400).shape == (400, 400, 3)


def test_methods_never_see_the_hole_and_cannot_change_known_pixels() -> None:
    seen = []

    def spy(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        seen.append(image[mask])
        return np.zeros_like(image)  # also scribbles over the known pixels

    paths = sorted(EVAL_DIR.glob("*.jpg"))[:1]
    report = run_eval(paths, {"spy": spy}, size=64, mask_kind="center", seed=0)
    assert np.all(seen[0] == HOLE_GREY)
    sample = report.samples[0]
    hole = make_mask("center", 64, np.random.default_rng(0))
    assert np.array_equal(sample.outputs["spy"][~hole], sample.truth[~hole])
    assert np.all(sample.outputs["spy"][hole] == 0)


def test_deepfill_method_runs_through_the_inpainter(golden_weights) -> None:
    methods = build_methods(["deepfill", "telea"], golden_weights, device="cpu")
    report = run_eval(sorted(EVAL_DIR.glob("*.jpg"))[:1], methods, size=64, mask_kind="center", seed=0)
    assert list(report.scores) == ["deepfill", "telea"]
    assert all(np.isfinite(report.scores["deepfill"][0][m]) for m in ("l1", "l2", "psnr", "tv", "ssim"))


def test_baselines_fill_only_the_hole() -> None:
    image = np.full((32, 32, 3), 90, np.uint8)
    mask = np.zeros((32, 32), bool)
    mask[10:20, 10:20] = True
    shown = image.copy()
    shown[mask] = 0
    for fill in (baselines.telea, baselines.navier_stokes):
        out = fill(shown, mask)
        assert np.array_equal(out[~mask], shown[~mask])
        assert np.abs(out[mask].astype(int) - 90).max() <= 2  # a flat surround fills flat (NS drifts by 2)


def periodic_noise(size: int, period: int, seed: int = 0) -> np.ndarray:
    """Random noise repeated with ``period``: every hole has an exact copy elsewhere, and no smooth guess is close."""
    tile = np.random.default_rng(seed).integers(0, 256, (period, period, 3), dtype=np.uint8)
    reps = size // period + 1
    return np.ascontiguousarray(np.tile(tile, (reps, reps, 1))[:size, :size])


def test_patchmatch_rebuilds_a_periodic_texture_exactly() -> None:
    truth = periodic_noise(128, 16)
    hole = np.zeros((128, 128), bool)
    hole[48:80, 48:80] = True
    shown = truth.copy()
    shown[hole] = HOLE_GREY
    filled = baselines.patchmatch(shown, hole)
    assert np.array_equal(filled, truth)  # known pixels untouched, hole copied from a period away
    assert np.abs(baselines.telea(shown, hole)[hole].astype(int) - truth[hole]).mean() > 30  # diffusion cannot


def test_patchmatch_is_seeded_and_fills_holes_at_the_border() -> None:
    truth = periodic_noise(128, 16, seed=1)
    hole = np.zeros((128, 128), bool)
    hole[:30, 90:] = True  # touches the top and right edges, where no patch can be centred
    shown = truth.copy()
    shown[hole] = HOLE_GREY
    filled = baselines.patchmatch(shown, hole, seed=1)
    assert np.array_equal(filled, baselines.patchmatch(shown, hole, seed=1))
    assert np.array_equal(filled, truth)


def test_patchmatch_refuses_a_hole_that_leaves_no_whole_patch_and_keeps_a_photo_without_one() -> None:
    hole = np.zeros((20, 20), bool)
    hole[8:12, 8:12] = True  # every 15x15 patch of a 20x20 image covers the centre
    with pytest.raises(ValueError, match="15x15"):
        baselines.patchmatch(np.zeros((20, 20, 3), np.uint8), hole)
    photo = periodic_noise(20, 5)
    assert np.array_equal(baselines.patchmatch(photo, np.zeros((20, 20), bool)), photo)  # no hole, no change


# -- command ------------------------------------------------------------------------------------------------------
def test_eval_command_writes_table_json_and_contact_sheet(tmp_path, capsys) -> None:
    out = tmp_path / "results"
    code = main(["eval", "--images", str(EVAL_DIR), "--methods", "telea", "--limit", "2", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "| method | L1 (%) | L2 (%) | PSNR (dB) | TV (%) | SSIM |" in printed
    assert "| telea |" in printed
    assert (out / "table.md").read_text().strip() in printed

    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["protocol"]["size"] == 256 and metrics["protocol"]["mask"] == "center"
    telea = metrics["methods"]["telea"]
    names = sorted(p.name for p in EVAL_DIR.iterdir())[:2]
    assert [row["image"] for row in telea["per_image"]] == names
    for metric in ("l1", "l2", "psnr", "tv", "ssim"):
        assert telea["mean"][metric] == pytest.approx(np.mean([row[metric] for row in telea["per_image"]]))
    assert 0 < telea["mean"]["l1"] < 20 and 10 < telea["mean"]["psnr"] < 40

    sheet = read_image(out / "contact_sheet.png").rgb
    header = sheet.shape[0] - 2 * 256
    assert 0 < header < 64 and sheet.shape[1:] == (3 * 256, 3)  # input | telea | truth
    truth = square_resize(read_image(EVAL_DIR / names[1]).rgb, 256)
    assert np.array_equal(sheet[header + 256:, 2 * 256:], truth)


@pytest.mark.parametrize("args, message", [
    (["--methods", "telea,magic"], "unknown method"),
    (["--methods", "telea,telea"], "twice"),
    (["--limit", "0"], "--limit"),
])
def test_eval_command_reports_bad_options_in_one_line(tmp_path, capsys, args, message) -> None:
    code = main(["eval", "--images", str(EVAL_DIR), "--out", str(tmp_path), *args])
    assert code == 2
    assert message in capsys.readouterr().err


def test_eval_command_refuses_a_folder_without_images(tmp_path, capsys) -> None:
    (tmp_path / "notes.txt").write_text("no photos here")
    assert main(["eval", "--images", str(tmp_path), "--methods", "telea", "--out", str(tmp_path / "o")]) == 2
    assert "holds no images" in capsys.readouterr().err
