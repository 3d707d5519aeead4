"""`python -m inpaint_core fill` end to end."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
from PIL import Image

from inpaint_core.cli.main import main
from inpaint_core.imageio import read_image

from .conftest import EVAL_DIR, REPO, assert_plausible_fill, stripes_with_a_scratch


def write_mask(path, shape, box) -> None:
    mask = np.zeros(shape, np.uint8)
    y0, y1, x0, x1 = box
    mask[y0:y1, x0:x1] = 255
    Image.fromarray(mask).save(path)


def test_fill_writes_result_and_stages(tmp_path) -> None:
    """With the shipped weights and the network alone: the photo filled plausibly, and each stage picture showing
    what its name says."""
    photo = EVAL_DIR / "kodak_0007.jpg"
    write_mask(tmp_path / "mask.png", (256, 256), (90, 150, 100, 170))
    out, stages = tmp_path / "out.png", tmp_path / "stages"
    code = main(["fill", str(photo), str(tmp_path / "mask.png"), "-o", str(out), "--save-stages", str(stages),
                 "--texture", "network"])
    assert code == 0
    original, filled = read_image(photo).rgb, read_image(out).rgb
    hole = np.zeros((256, 256), bool)
    hole[90:150, 100:170] = True
    assert_plausible_fill(filled, original, hole)
    coarse, refined, flow = (read_image(stages / name).rgb for name in ("coarse.png", "refined.png", "flow.png"))
    assert np.array_equal(refined, filled)  # the refined stage is what the photo received
    assert_plausible_fill(coarse, original, hole)  # the coarse stage fills the hole too, pasted the same way
    assert not np.array_equal(coarse[hole], refined[hole])
    # Flow: every hole pixel shows where its fill came from (white = no displacement); attention is computed
    # only where it reaches the hole, so far from it the picture stays white.
    moved = (flow != 255).any(axis=2)
    assert moved[hole].mean() > 0.9
    assert not moved[:40].any() and not moved[200:].any()
    assert not (stages / "texture_flow.png").exists()  # no texture stage ran


def test_fill_with_the_photos_texture_is_seeded_and_shows_where_it_copied_from(tmp_path, capsys) -> None:
    """The default --texture photo: only the hole changes, the refined panel keeps the network's fill,
    texture_flow.png colours exactly the hole, and --seed picks the variation (the same seed, the same bytes)."""
    photo = EVAL_DIR / "kodak_0007.jpg"
    write_mask(tmp_path / "mask.png", (256, 256), (90, 150, 100, 170))
    hole = np.zeros((256, 256), bool)
    hole[90:150, 100:170] = True
    original = read_image(photo).rgb
    outputs = {}
    for name, seed in (("a", "5"), ("b", "5"), ("c", "6")):
        out, stages = tmp_path / f"{name}.png", tmp_path / f"stages_{name}"
        assert main(["fill", str(photo), str(tmp_path / "mask.png"), "-o", str(out), "--seed", seed,
                     "--save-stages", str(stages)]) == 0
        assert f"(seed {seed})" in capsys.readouterr().out  # the summary names both stages' times and the seed
        outputs[name] = read_image(out).rgb
    filled = outputs["a"]
    assert_plausible_fill(filled, original, hole)
    refined = read_image(tmp_path / "stages_a" / "refined.png").rgb
    assert (refined != filled).any(axis=2)[hole].mean() > 0.5
    texture_flow = read_image(tmp_path / "stages_a" / "texture_flow.png").rgb
    coloured = (texture_flow != 255).any(axis=2)
    assert coloured[hole].mean() > 0.99 and not coloured[~hole].any()
    assert np.array_equal(outputs["a"], outputs["b"])
    assert (outputs["a"] != outputs["c"]).any(axis=2)[hole].mean() > 0.3


def test_fill_refuses_to_overwrite_and_reports_bad_files_in_one_line(tmp_path, golden_weights) -> None:
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    write_mask(tmp_path / "mask.png", (8, 8), (0, 4, 0, 4))
    proc = subprocess.run([sys.executable, "-m", "inpaint_core", "fill", str(tmp_path / "broken.jpg"),
                           str(tmp_path / "mask.png"), "-o", str(tmp_path / "o.png"), "--weights", str(golden_weights)],
                          capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "broken.jpg" in proc.stderr and "Traceback" not in proc.stderr

    existing = tmp_path / "exists.png"
    existing.write_bytes(b"keep me")
    code = main(["fill", str(EVAL_DIR / "kodak_0007.jpg"), str(tmp_path / "mask.png"), "-o", str(existing),
                 "--weights", str(golden_weights)])
    assert code == 2 and existing.read_bytes() == b"keep me"


def test_fill_exclude_steers_the_sources_and_inspect_writes_them(tmp_path, golden_weights) -> None:
    photo = EVAL_DIR / "kodak_0007.jpg"
    write_mask(tmp_path / "mask.png", (256, 256), (90, 150, 100, 170))
    # everything but a strip on the left is off limits, so without the exclude mask the sources would lie elsewhere
    write_mask(tmp_path / "exclude.png", (256, 256), (0, 256, 64, 256))
    stages = tmp_path / "stages"
    code = main(["fill", str(photo), str(tmp_path / "mask.png"), "-o", str(tmp_path / "out.png"), "--weights",
                 str(golden_weights), "--exclude", str(tmp_path / "exclude.png"), "--save-stages", str(stages),
                 "--inspect", "130,120", "--inspect", "101,91"])
    assert code == 0
    filled = read_image(tmp_path / "out.png").rgb
    for name in ("sources_130_120.png", "sources_101_91.png"):
        picture = read_image(stages / name).rgb
        assert picture.shape == filled.shape
        changed = (picture != filled).any(axis=2)
        assert changed[:, :64].sum() > 50  # heat and outlines on the strip the fill could borrow from...
        # ...none in the excluded area, beyond the outlines' dark edge and the marker on the inspected pixel
        changed[80:160, 90:180] = False
        assert not changed[:, 66:].any()


def test_inspect_outside_the_hole_or_without_stages_is_a_one_line_error(tmp_path, capsys) -> None:
    photo = EVAL_DIR / "kodak_0007.jpg"
    write_mask(tmp_path / "mask.png", (256, 256), (90, 150, 100, 170))
    base = ["fill", str(photo), str(tmp_path / "mask.png"), "-o", str(tmp_path / "out.png")]
    for extra, expected in ((["--inspect", "10,10", "--save-stages", str(tmp_path)], "outside the hole"),
                            (["--inspect", "300,10", "--save-stages", str(tmp_path)], "outside the photo"),
                            (["--inspect", "120,100"], "--save-stages")):
        assert main(base + extra) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and expected in err
    assert not (tmp_path / "out.png").exists()  # refused before any model ran


def test_unusable_output_path_is_refused_before_filling(tmp_path, golden_weights, capsys) -> None:
    write_mask(tmp_path / "mask.png", (256, 256), (90, 150, 100, 170))
    photo = str(EVAL_DIR / "kodak_0007.jpg")
    for out in (tmp_path / "out.xyz", tmp_path / "missing" / "out.png"):
        assert main(["fill", photo, str(tmp_path / "mask.png"), "-o", str(out), "--weights", str(golden_weights)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err


def test_without_the_memory_for_the_texture_stage_fill_warns_and_eval_stops(tmp_path, golden_weights, capsys,
                                                                            monkeypatch) -> None:
    """`fill` writes the network's fill and says why the texture stage did not run; `eval` stops with that
    message rather than score the network's fill as deepfill+texture."""
    from inpaint_core import pipeline

    monkeypatch.setattr(pipeline, "network_memory", lambda *args: 0)  # the network's own check passes
    monkeypatch.setattr(pipeline, "available_memory", lambda: 3 * 2**20)
    write_mask(tmp_path / "mask.png", (256, 256), (90, 150, 100, 170))
    out = tmp_path / "out.png"
    assert main(["fill", str(EVAL_DIR / "kodak_0007.jpg"), str(tmp_path / "mask.png"), "-o", str(out),
                 "--weights", str(golden_weights)]) == 0
    assert out.exists()
    # 96 MB, 115 B a pixel of the 256 x 256 box and 360 B a target patch (tests/test_texture_pipeline.py): 105 MB
    assert "warning: filled by the network alone: The texture stage needs about 105 MB for this fill and 3 MB of " \
           "memory is free" in capsys.readouterr().err
    assert main(["eval", "--images", str(EVAL_DIR), "--limit", "1", "--methods", "deepfill+texture",
                 "--weights", str(golden_weights), "--out", str(tmp_path / "eval")]) == 2
    # eval's centre hole: 96 MB + 115 B x 256 x 256 + 360 B x 142 x 142 target patches, 110 MB
    assert "error: The texture stage needs about 110 MB for this fill and 3 MB" in capsys.readouterr().err


def test_fill_warns_when_part_of_the_hole_is_the_networks_alone(tmp_path, capsys) -> None:
    """The tile case of tests/test_texture_pipeline.py through the command line: the left tiles of a diagonal
    scratch have nothing to copy beside them (all but the right 300 columns excluded), and `fill` says what share
    of the hole is the network's fill."""
    photo, hole = stripes_with_a_scratch()
    Image.fromarray(photo).save(tmp_path / "stripes.png")
    Image.fromarray(hole.astype(np.uint8) * 255).save(tmp_path / "mask.png")
    exclude = np.full((700, 1400), 255, np.uint8)
    exclude[:, 1100:] = 0
    Image.fromarray(exclude).save(tmp_path / "exclude.png")
    assert main(["fill", str(tmp_path / "stripes.png"), str(tmp_path / "mask.png"), "-o", str(tmp_path / "out.png"),
                 "--exclude", str(tmp_path / "exclude.png"), "--work-size", "256", "--margin", "48",
                 "--precision", "fp32"]) == 0
    assert "warning: 61 % of the hole is the network's fill alone: the texture stage found no 15 x 15 patch" in \
        capsys.readouterr().err
