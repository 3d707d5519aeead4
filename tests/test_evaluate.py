"""Evaluation: the protocol's masks and inputs, the methods, the report, and ``eval`` end to end."""
from __future__ import annotations

import json
import math
import sys

import cv2
import numpy as np
import pytest

from inpaint_core import baselines
from inpaint_core.cli.main import main
from inpaint_core.evaluate import (HOLE_GREY, METRICS, EvalReport, build_methods, make_mask, markdown_table,
                                   metrics_json, run_eval, square_resize, summary)
from inpaint_core.imageio import read_image
from inpaint_core.texture import TextureSettings

from .conftest import EVAL_DIR


# -- protocol -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("size", [256, 512])
def test_center_mask_is_the_middle_half(size: int) -> None:
    mask = make_mask("center", size, np.random.default_rng(0))
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    assert (rows[0], rows[-1], cols[0], cols[-1]) == (size // 4, 3 * size // 4 - 1, size // 4, 3 * size // 4 - 1)
    assert mask.sum() == (size // 2) ** 2


def test_box_masks_are_seeded_and_in_range() -> None:
    for seed in range(20):
        box = make_mask("box", 256, np.random.default_rng(seed))
        rows, cols = np.flatnonzero(box.any(axis=1)), np.flatnonzero(box.any(axis=0))
        assert 96 <= rows.size <= 128 and 96 <= cols.size <= 128  # 128 box shrunk by 0..16 per side
        assert box.sum() == rows.size * cols.size


def test_bench_box_is_evals_box() -> None:
    from inpaint_core.bench import bench_mask

    assert np.array_equal(bench_mask("box", 256), make_mask("box", 256, np.random.default_rng(0)))
    assert np.array_equal(bench_mask("center", 512), make_mask("center", 512, np.random.default_rng(0)))


@pytest.mark.parametrize("size", [256, 512])
def test_strokes_are_user_like(size: int) -> None:
    widths = []
    for seed in range(25):
        mask = make_mask("strokes", size, np.random.default_rng([seed, size]))
        assert 0.04 <= mask.mean() <= 0.12
        assert np.array_equal(mask, make_mask("strokes", size, np.random.default_rng([seed, size])))
        # a stroke's ridge (local maxima of the distance to the photo) lies half its width from either side
        distance = cv2.distanceTransform(np.pad(mask, 1).astype(np.uint8), cv2.DIST_L2, 5)
        ridge = (distance >= cv2.dilate(distance, np.ones((3, 3), np.uint8))) & (distance > 0)
        widths.append(2 * np.median(distance[ridge]) * 512 / size)  # in px at 512
    assert 10 <= min(widths) and max(widths) <= 42  # 15-40 px at 512, measured on a pixel grid
    assert 20 <= np.median(widths) <= 35


def test_lines_cross_the_whole_photo_at_its_own_size_and_are_seeded() -> None:
    shape = (3000, 4000)
    for seed in range(10):
        mask = make_mask("lines", shape, np.random.default_rng(seed))
        assert mask.shape == shape and 0.01 <= mask.mean() <= 0.06
        assert np.array_equal(mask, make_mask("lines", shape, np.random.default_rng(seed)))
        # each line runs from one edge to the opposite one: the hole touches two opposite edges
        assert (mask[0].any() and mask[-1].any()) or (mask[:, 0].any() and mask[:, -1].any())
        # two blobs: the hole's widest part (twice the largest distance to the photo) is 120-440 px across
        widest = 2 * cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 5).max()
        assert 110 <= widest <= 450
    with pytest.raises(ValueError, match="square"):
        make_mask("center", shape, np.random.default_rng(0))


def test_lines_are_scored_at_the_photos_own_size(tmp_path) -> None:
    photo = np.random.default_rng(0).integers(0, 256, (300, 520, 3), dtype=np.uint8)
    path = tmp_path / "wide.png"
    cv2.imwrite(str(path), photo[..., ::-1])
    shapes = []

    def grey(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        shapes.append(image.shape)
        return np.full_like(image, HOLE_GREY)

    report = run_eval([path], {"grey": grey}, size=256, mask_kind="lines", seed=0)
    assert shapes == [(300, 520, 3)] and report.protocol["size"] == "full"
    mask = make_mask("lines", (300, 520), np.random.default_rng([0, 0]))
    error = np.abs(photo[mask].astype(float) - HOLE_GREY).mean() / 255 * 100
    assert report.scores["grey"][0]["hole_l1"] == pytest.approx(error, rel=1e-6)
    assert "1 images, at their own size, mask lines" in markdown_table(report)
    tile = report.samples[0].truth  # fitted into the sheet's square: 520 px wide -> 512, centred on white
    assert tile.shape == (512, 512, 3) and np.all(tile[:100] == 255) and np.all(tile[-100:] == 255)


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
    scores = report.scores["spy"][0]
    assert scores["sharpness"] == 0.0 and scores["hole_l1"] > 10 * scores["l1"] / 4  # hole L1 undiluted


# -- methods ------------------------------------------------------------------------------------------------------
def test_deepfill_methods_ask_for_their_texture_stage_and_run_the_network(golden_weights, monkeypatch) -> None:
    from inpaint_core import pipeline

    network = pipeline.Inpainter(golden_weights, device="cpu")
    asked = []

    class Recording:
        """Stands in for ``pipeline.Inpainter``: records the texture stage asked for, fills with the real network."""

        def __init__(self, weights, device: str, texture: str, texture_settings: TextureSettings) -> None:
            assert (weights, device) == (golden_weights, "cpu")
            asked.append((texture, texture_settings.guide_coarse, texture_settings.guide_fine))

        def fill(self, image: np.ndarray, mask: np.ndarray) -> pipeline.InpaintResult:
            return network.fill(image, mask)

    monkeypatch.setattr(pipeline, "Inpainter", Recording)
    methods = build_methods(["deepfill+texture", "telea", "deepfill"], golden_weights, device="cpu",
                            texture_guide=4.0)
    assert asked == [("photo", 4.0, 4.0), ("network", 4.0, 4.0)]
    assert list(methods) == ["deepfill+texture", "telea", "deepfill"]
    report = run_eval(sorted(EVAL_DIR.glob("*.jpg"))[:1], methods, size=64, mask_kind="center", seed=0)
    deepfill = report.scores["deepfill"][0]
    assert all(np.isfinite(deepfill[m]) for m in METRICS)
    assert deepfill["hole_l1"] != report.scores["telea"][0]["hole_l1"]


def test_unknown_method_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown method"):
        build_methods(["telea", "magic"])


def test_patchmatch_without_the_package_names_the_extra(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "patchmatch", None)  # makes `import patchmatch` raise ImportError
    with pytest.raises(baselines.BaselineUnavailable, match=r"inpaint-studio\[eval\]"):
        build_methods(["telea", "patchmatch"])


def periodic_noise(size: int, period: int, seed: int = 0) -> np.ndarray:
    """Random noise repeated with ``period``: every hole has an exact copy elsewhere, and no smooth guess is close."""
    tile = np.random.default_rng(seed).integers(0, 256, (period, period, 3), dtype=np.uint8)
    reps = size // period + 1
    return np.ascontiguousarray(np.tile(tile, (reps, reps, 1))[:size, :size])


def test_pypatchmatch_copies_a_periodic_texture_and_is_seeded() -> None:
    pytest.importorskip("patchmatch", reason="the optional extra 'eval' (pypatchmatch) is not installed")
    truth = periodic_noise(96, 16)
    hole = np.zeros((96, 96), bool)
    hole[36:60, 36:60] = True
    shown = truth.copy()
    shown[hole] = HOLE_GREY
    fill = build_methods(["patchmatch"], seed=3)["patchmatch"]
    filled = fill(shown, hole)
    assert np.array_equal(filled[~hole], truth[~hole])
    error = np.abs(filled[hole].astype(int) - truth[hole]).mean()
    assert error < 0.25 * np.abs(baselines.telea(shown, hole)[hole].astype(int) - truth[hole]).mean()
    assert np.array_equal(filled, fill(shown, hole))


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


def test_numpy_patchmatch_rebuilds_a_periodic_texture_exactly() -> None:
    truth = periodic_noise(128, 16)
    hole = np.zeros((128, 128), bool)
    hole[48:80, 48:80] = True
    shown = truth.copy()
    shown[hole] = HOLE_GREY
    filled = build_methods(["patchmatch-np"])["patchmatch-np"](shown, hole)
    assert np.array_equal(filled, truth)  # known pixels untouched, hole copied from a period away
    assert np.abs(baselines.telea(shown, hole)[hole].astype(int) - truth[hole]).mean() > 30  # diffusion cannot


def test_numpy_patchmatch_is_seeded_and_fills_holes_at_the_border() -> None:
    truth = periodic_noise(128, 16, seed=1)
    hole = np.zeros((128, 128), bool)
    hole[:30, 90:] = True  # touches the top and right edges, where no patch can be centred
    shown = truth.copy()
    shown[hole] = HOLE_GREY
    filled = baselines.patchmatch_np(shown, hole, seed=1)
    assert np.array_equal(filled, baselines.patchmatch_np(shown, hole, seed=1))
    assert np.array_equal(filled, truth)


def test_numpy_patchmatch_refuses_a_hole_that_leaves_no_whole_patch_and_keeps_a_photo_without_one() -> None:
    hole = np.zeros((20, 20), bool)
    hole[8:12, 8:12] = True  # every 15x15 patch of a 20x20 image covers the centre
    with pytest.raises(ValueError, match="15x15"):
        baselines.patchmatch_np(np.zeros((20, 20, 3), np.uint8), hole)
    photo = periodic_noise(20, 5)
    assert np.array_equal(baselines.patchmatch_np(photo, np.zeros((20, 20), bool)), photo)  # no hole, no change


# -- report -------------------------------------------------------------------------------------------------------
def _row(**values: float) -> dict[str, float]:
    return {**{m: 1.0 for m in METRICS}, "seconds": 0.1, **values}


def test_ratios_are_summarised_by_the_median_the_rest_by_the_mean() -> None:
    rows = [_row(hole_l1=1.0, sharpness=0.1, seam=1.0), _row(hole_l1=2.0, sharpness=0.2, seam=1.2),
            _row(hole_l1=6.0, sharpness=9.0, seam=math.nan)]
    report = EvalReport(protocol={"size": 8, "mask": "center", "seed": 0, "images": 3},
                        images=["a", "b", "c"], scores={"m": rows}, hole_fraction=[0.25] * 3, truth_tv=[1.0] * 3)
    s = summary(report)["m"]
    assert s["hole_l1"] == pytest.approx(3.0) and s["hole_l1_median"] == 2.0
    assert s["sharpness"] == pytest.approx(0.2) and s["sharpness_mean"] == pytest.approx(3.1)
    assert s["seam"] == pytest.approx(1.1)  # the undefined ratio is left out
    assert "| m | 3.00 | 1.00 | 0.20 | 1.000 | 1.10 |" in markdown_table(report)
    written = json.loads(json.dumps(metrics_json(report), allow_nan=False))
    assert written["methods"]["m"]["per_image"][2]["seam"] is None


def test_an_exact_reproduction_survives_the_report() -> None:
    report = EvalReport(protocol={"size": 2, "mask": "center", "seed": 0, "images": 1}, images=["a.png"],
                        scores={"copy": [_row(l1=0.0, psnr=math.inf, hole_psnr=math.inf)]},
                        hole_fraction=[0.25], truth_tv=[1.0])
    assert "| inf | 1.00 | 1.0000 |" in markdown_table(report)  # PSNR, TV, SSIM
    written = json.loads(json.dumps(metrics_json(report), allow_nan=False))
    assert written["methods"]["copy"]["mean"]["psnr"] is None
    assert written["methods"]["copy"]["per_image"][0]["hole_psnr"] is None


# -- command ------------------------------------------------------------------------------------------------------
def test_eval_command_writes_a_report_per_mask_kind(tmp_path, capsys) -> None:
    out = tmp_path / "results"
    code = main(["eval", "--images", str(EVAL_DIR), "--methods", "telea,ns", "--mask", "center,strokes",
                 "--limit", "2", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert printed.count("| method | hole L1 (%) | hole PSNR (dB) | sharpness | GMSD | seam | L1 (%) |") == 2
    names = sorted(p.name for p in EVAL_DIR.iterdir())[:2]
    for kind in ("center", "strokes"):
        assert (out / kind / "table.md").read_text().strip() in printed
        metrics = json.loads((out / kind / "metrics.json").read_text())
        assert metrics["protocol"]["mask"] == kind and metrics["protocol"]["size"] == 256
        telea = metrics["methods"]["telea"]
        assert [row["image"] for row in telea["per_image"]] == names
        for metric in METRICS:
            values = [row[metric] for row in telea["per_image"]]
            assert telea["mean"][metric] == pytest.approx(np.mean(values))
            assert telea["median"][metric] == pytest.approx(np.median(values))
        assert telea["mean"]["hole_l1"] > telea["mean"]["l1"]  # the hole's error is not diluted
        assert 0 < telea["median"]["sharpness"] < 1  # diffusion blurs
        sheet = read_image(out / kind / "contact_sheet.png").rgb
        header = sheet.shape[0] - 2 * 256
        assert 0 < header < 64 and sheet.shape[1:] == (4 * 256, 3)  # input | telea | ns | truth
    truth = square_resize(read_image(EVAL_DIR / names[1]).rgb, 256)
    assert np.array_equal(sheet[header + 256:, 3 * 256:], truth)
    strokes = json.loads((out / "strokes" / "metrics.json").read_text())["hole_fraction"]
    assert all(0.04 <= f <= 0.12 for f in strokes.values())


def test_eval_command_with_one_mask_kind_writes_into_the_out_folder(tmp_path) -> None:
    # scripts/ship_weights.py reads <out>/metrics.json of a centre-hole run
    assert main(["eval", "--images", str(EVAL_DIR), "--methods", "telea", "--limit", "1", "--out", str(tmp_path)]) == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["protocol"]["mask"] == "center" and "l1" in metrics["methods"]["telea"]["mean"]
    assert (tmp_path / "contact_sheet.png").is_file() and not (tmp_path / "center").exists()


def test_eval_command_cuts_lines_into_the_photos_of_an_object_folder(tmp_path, capsys) -> None:
    folder = tmp_path / "cases"
    folder.mkdir()
    photo = np.random.default_rng(1).integers(0, 256, (240, 400, 3), dtype=np.uint8)
    cv2.imwrite(str(folder / "street.png"), photo)
    cv2.imwrite(str(folder / "street.sign_mask.png"), np.zeros((240, 400), np.uint8))
    out = tmp_path / "results"
    assert main(["eval", "--images", str(folder), "--mask", "lines", "--methods", "telea", "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["protocol"]["size"] == "full" and metrics["protocol"]["mask"] == "lines"
    assert [row["image"] for row in metrics["methods"]["telea"]["per_image"]] == ["street.png"]  # not the mask
    assert "1 images, at their own size, mask lines" in capsys.readouterr().out
    assert read_image(out / "contact_sheet.png").rgb.shape[1] == 3 * 512  # input | telea | truth


@pytest.mark.parametrize("args, message", [
    (["--methods", "telea,magic"], "unknown method"),
    (["--methods", "telea,telea"], "twice"),
    (["--mask", "center,ring"], "unknown mask kind"),
    (["--limit", "0"], "--limit"),
    (["--texture-guide", "-1"], "--texture-guide"),
    (["--texture-guide", "nan"], "--texture-guide"),
])
def test_eval_command_reports_bad_options_in_one_line(tmp_path, capsys, args, message) -> None:
    code = main(["eval", "--images", str(EVAL_DIR), "--out", str(tmp_path), *args])
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_eval_command_says_how_to_get_patchmatch(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "patchmatch", None)
    assert main(["eval", "--images", str(EVAL_DIR), "--methods", "patchmatch", "--out", str(tmp_path)]) == 2
    assert "pip install 'inpaint-studio[eval]'" in capsys.readouterr().err


def test_eval_command_refuses_a_folder_without_images(tmp_path, capsys) -> None:
    (tmp_path / "notes.txt").write_text("no photos here")
    assert main(["eval", "--images", str(tmp_path), "--methods", "telea", "--out", str(tmp_path / "o")]) == 2
    assert "no images" in capsys.readouterr().err
