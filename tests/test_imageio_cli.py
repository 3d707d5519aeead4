"""`python -m inpaint_core fill` with odd and broken files: one line and a non-zero exit for what cannot be read,
and a result that keeps the photo's size, format, options and alpha for what can."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inpaint_core.cli.main import main
from inpaint_core.imageio import estimate_jpeg_quality, read_image

from .conftest import REPO
from .test_imageio import BAD, png_declaring, random_rgb
from .test_imageio_write import SRGB


def smooth_photo(height: int, width: int) -> np.ndarray:
    """Gradients: something a fill can continue, unlike noise."""
    y, x = np.mgrid[0:height, 0:width]
    return np.dstack([x * 255 // width, y * 255 // height, (x + y) * 255 // (width + height)]).astype(np.uint8)


def mask_png(path: Path, shape: tuple[int, int], *boxes: tuple[int, int, int, int]) -> Path:
    mask = np.zeros(shape, np.uint8)
    for y0, y1, x0, x1 in boxes:
        mask[y0:y1, x0:x1] = 255
    Image.fromarray(mask).save(path)
    return path


def run_fill(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["fill", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_error_line(err: str, *names: str) -> None:
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err
    for name in names:
        assert name in err


BAD_FOR_CLI = [case for case in BAD if case[0] in {"empty.png", "truncated.png", "truncated.jpg", "notes.png",
                                                    "bomb_100000x100000.png", "jpeg_magic_then_junk.jpg"}]


@pytest.mark.parametrize("name, data, reason", BAD_FOR_CLI, ids=[c[0] for c in BAD_FOR_CLI])
def test_a_bad_photo_or_mask_is_one_line_and_exit_2(tmp_path: Path, capsys, name: str, data: bytes,
                                                    reason: str) -> None:
    bad = tmp_path / name
    bad.write_bytes(data)
    good = tmp_path / "good.png"
    Image.fromarray(random_rgb(16, 16)).save(good)
    mask = mask_png(tmp_path / "mask.png", (16, 16), (4, 8, 4, 8))
    out = tmp_path / "out.png"
    # the files are read before the model is loaded, so no weights are needed to see the error
    code, _, err = run_fill(capsys, bad, mask, "-o", out, "--weights", tmp_path / "none.safetensors")
    assert code == 2 and not out.exists()
    assert_one_error_line(err, name)
    code, _, err = run_fill(capsys, good, bad, "-o", out, "--weights", tmp_path / "none.safetensors")
    assert code == 2 and not out.exists()
    assert_one_error_line(err, name)


def test_a_missing_photo_and_a_folder_are_one_line(tmp_path: Path, capsys) -> None:
    mask = mask_png(tmp_path / "mask.png", (16, 16), (4, 8, 4, 8))
    for photo in (tmp_path / "missing.jpg", tmp_path):
        code, _, err = run_fill(capsys, photo, mask, "-o", tmp_path / "out.png")
        assert code == 2
        assert_one_error_line(err, str(photo))


def test_a_real_process_prints_no_traceback_for_a_decompression_bomb(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_declaring(100_000, 100_000))
    mask = mask_png(tmp_path / "mask.png", (16, 16), (4, 8, 4, 8))
    proc = subprocess.run([sys.executable, "-m", "inpaint_core", "fill", str(bomb), str(mask), "-o",
                           str(tmp_path / "out.png")], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 2 and proc.stdout == ""
    assert_one_error_line(proc.stderr, "bomb.png", "179 MP")


def test_rgba_png_keeps_its_alpha_a_smaller_mask_warns_and_outputs_are_never_overwritten_silently(
        tmp_path: Path, capsys, golden_weights: Path) -> None:
    rgb = smooth_photo(48, 64)
    alpha = np.full((48, 64), 255, np.uint8)
    alpha[:, :16] = 0
    alpha[30:, 40:] = 128
    photo = tmp_path / "sticker.png"
    Image.fromarray(np.dstack([rgb, alpha])).save(photo)
    mask = mask_png(tmp_path / "half_mask.png", (24, 32), (8, 14, 12, 20))  # half the photo's size
    hole = np.zeros((48, 64), bool)
    hole[16:28, 24:40] = True
    out = tmp_path / "out.png"

    code, stdout, err = run_fill(capsys, photo, mask, "-o", out, "--weights", golden_weights)
    assert code == 0 and "wrote" in stdout
    assert err.count("\n") == 1 and err.startswith("warning: mask") and "resized to fit" in err
    filled = read_image(out)
    assert np.array_equal(filled.alpha, alpha)
    assert np.array_equal(filled.rgb[~hole], rgb[~hole]) and not np.array_equal(filled.rgb[hole], rgb[hole])

    written = out.read_bytes()
    code, _, err = run_fill(capsys, photo, mask, "-o", out, "--weights", golden_weights)
    assert code == 2 and out.read_bytes() == written
    assert_one_error_line(err, "exists", "--overwrite")
    code, _, _ = run_fill(capsys, photo, mask, "-o", out, "--weights", golden_weights, "--overwrite")
    assert code == 0


def test_empty_and_full_masks(tmp_path: Path, capsys, golden_weights: Path) -> None:
    photo = tmp_path / "photo.png"
    Image.fromarray(smooth_photo(32, 32)).save(photo)
    code, stdout, _ = run_fill(capsys, photo, mask_png(tmp_path / "empty.png", (32, 32)), "-o",
                               tmp_path / "same.png", "--weights", golden_weights)
    assert code == 0 and "0 hole pixels, 0 region(s)" in stdout
    assert np.array_equal(read_image(tmp_path / "same.png").rgb, read_image(photo).rgb)
    code, _, err = run_fill(capsys, photo, mask_png(tmp_path / "full.png", (32, 32), (0, 32, 0, 32)), "-o",
                            tmp_path / "none.png", "--weights", golden_weights)
    assert code == 2 and not (tmp_path / "none.png").exists()
    assert_one_error_line(err, "covers the whole image")


def test_a_turned_jpeg_is_filled_upright_and_saved_with_its_quality_and_profile(tmp_path: Path, capsys,
                                                                              golden_weights: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "Test camera"
    photo = tmp_path / "phone.jpg"
    # stored 64 wide and 48 tall, shown upright (turned 90 degrees clockwise) as 48 wide and 64 tall
    Image.fromarray(smooth_photo(48, 64)).save(photo, quality=85, icc_profile=SRGB, exif=exif.tobytes())
    mask = mask_png(tmp_path / "mask.png", (64, 48), (20, 30, 10, 20))
    out = tmp_path / "phone_filled.jpg"
    code, _, _ = run_fill(capsys, photo, mask, "-o", out, "--weights", golden_weights)
    assert code == 0
    saved = Image.open(out)
    assert saved.format == "JPEG" and saved.size == (48, 64)
    assert estimate_jpeg_quality(saved) == 85 and saved.info["icc_profile"] == SRGB
    assert 0x0112 not in saved.getexif() and saved.getexif()[0x010F] == "Test camera"


def test_strategy_work_size_and_margin_reach_the_engine(tmp_path: Path, capsys, golden_weights: Path) -> None:
    photo = tmp_path / "wide.png"
    Image.fromarray(smooth_photo(200, 320)).save(photo)
    mask = mask_png(tmp_path / "mask.png", (200, 320), (20, 40, 20, 40), (150, 180, 270, 300))
    out = tmp_path / "out.png"
    code, stdout, _ = run_fill(capsys, photo, mask, "-o", out, "--weights", golden_weights, "--strategy", "crop",
                               "--work-size", "128", "--margin", "16")
    assert code == 0 and "2 region(s)" in stdout  # two far-apart holes: two crops
    code, stdout, _ = run_fill(capsys, photo, mask, "-o", tmp_path / "r.png", "--weights", golden_weights,
                               "--strategy", "resize", "--work-size", "128")
    assert code == 0 and "1 region(s)" in stdout
