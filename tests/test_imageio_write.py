"""Writing photos and masks: the original's size, format and options survive, and a write is all or nothing."""
from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms, JpegImagePlugin

from inpaint_core.imageio import (ImageWriteError, LoadedImage, estimate_jpeg_quality, read_image, read_mask,
                                  write_image, write_mask)

from .test_imageio import blocks, random_rgb

SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
LAB = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()


def camera_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "Test camera"
    exif[0x0112] = 6
    exif.get_ifd(0x8769)[0x9003] = "2024:05:01 12:00:00"  # DateTimeOriginal, in the EXIF sub-IFD
    return exif


def test_jpeg_keeps_size_quality_tables_subsampling_icc_exif_and_dpi(tmp_path: Path) -> None:
    source = tmp_path / "photo.jpg"
    Image.fromarray(blocks(48, 64)).save(source, quality=83, subsampling=1, progressive=True, icc_profile=SRGB,
                                         exif=camera_exif().tobytes(), dpi=(300, 300))
    loaded = read_image(source)
    assert loaded.format == "JPEG" and loaded.size == (48, 64)  # turned upright by orientation 6
    assert loaded.save_options["quality"] == 83
    out = write_image(tmp_path / "out.jpg", loaded.rgb, like=loaded)

    original, saved = Image.open(source), Image.open(out)
    assert saved.format == "JPEG" and saved.size == (48, 64)
    assert saved.quantization == original.quantization
    assert JpegImagePlugin.get_sampling(saved) == JpegImagePlugin.get_sampling(original) == 1
    assert saved.info.get("progressive") and saved.info["icc_profile"] == SRGB
    assert saved.info["dpi"] == (300, 300)  # JFIF stores whole dots per inch: nothing to round
    exif = saved.getexif()
    assert exif[0x010F] == "Test camera" and 0x0112 not in exif  # the pixels are upright now
    assert exif.get_ifd(0x8769)[0x9003] == "2024:05:01 12:00:00"
    # the same picture, give or take one JPEG generation on saturated 4:2:2 colour blocks
    assert np.abs(read_image(out).rgb.astype(int) - loaded.rgb.astype(int)).mean() < 5


def test_an_explicit_quality_wins_and_webp_gets_the_jpegs_quality(tmp_path: Path) -> None:
    source = tmp_path / "photo.jpg"
    Image.fromarray(blocks()).save(source, quality=70)
    loaded = read_image(source)
    assert estimate_jpeg_quality(Image.open(write_image(tmp_path / "q40.jpg", loaded.rgb, like=loaded,
                                                        quality=40))) == 40
    assert estimate_jpeg_quality(Image.open(write_image(tmp_path / "same.jpg", loaded.rgb, like=loaded))) == 70
    webp = write_image(tmp_path / "photo.webp", loaded.rgb, like=loaded)
    assert Image.open(webp).format == "WEBP"


def test_a_grey_jpeg_saves_back_in_colour_and_an_mpo_as_jpeg(tmp_path: Path) -> None:
    grey = tmp_path / "grey.jpg"
    Image.new("L", (16, 16), 100).save(grey, quality=90)
    loaded = read_image(grey)
    assert np.array_equal(read_image(write_image(tmp_path / "g.jpg", loaded.rgb, like=loaded)).rgb[..., 0],
                          loaded.rgb[..., 0])
    mpo = tmp_path / "phone.jpg"
    frames = [Image.new("RGB", (16, 16), c) for c in ("red", "blue")]
    frames[0].save(mpo, "MPO", save_all=True, append_images=frames[1:], quality=88)
    loaded = read_image(mpo)
    assert loaded.format == "JPEG"
    saved = Image.open(write_image(tmp_path / "phone_filled.jpg", loaded.rgb, like=loaded))
    assert saved.format == "JPEG" and estimate_jpeg_quality(saved) == 88


def test_an_rgba_png_keeps_its_alpha_exactly(tmp_path: Path) -> None:
    rgb, alpha = random_rgb(20, 30), np.random.default_rng(1).integers(0, 256, (20, 30), dtype=np.uint8)
    source = tmp_path / "logo.png"
    Image.fromarray(np.dstack([rgb, alpha])).save(source)
    loaded = read_image(source)
    filled = loaded.rgb.copy()
    filled[5:10, 5:10] = 0  # what a fill does: RGB inside the hole changes
    saved = read_image(write_image(tmp_path / "out.png", filled, alpha=loaded.alpha, like=loaded))
    assert np.array_equal(saved.alpha, alpha) and np.array_equal(saved.rgb, filled)


def test_alpha_in_a_format_without_alpha_is_composited_over_white(tmp_path: Path) -> None:
    rgb = np.zeros((16, 16, 3), np.uint8)
    alpha = np.zeros((16, 16), np.uint8)
    alpha[:, 8:] = 255
    out = read_image(write_image(tmp_path / "flat.bmp", rgb, alpha=alpha))
    assert out.alpha is None
    assert (out.rgb[:, :8] == 255).all() and (out.rgb[:, 8:] == 0).all()


def test_only_an_rgb_icc_profile_is_kept(tmp_path: Path) -> None:
    rgb_profiled, lab_profiled = tmp_path / "srgb.png", tmp_path / "lab.png"
    Image.fromarray(random_rgb(8, 8)).save(rgb_profiled, icc_profile=SRGB)
    Image.fromarray(random_rgb(8, 8)).save(lab_profiled, icc_profile=LAB)  # a profile that does not fit RGB
    assert read_image(rgb_profiled).save_options["icc_profile"] == SRGB
    assert "icc_profile" not in read_image(lab_profiled).save_options
    loaded = read_image(rgb_profiled)
    assert Image.open(write_image(tmp_path / "out.tif", loaded.rgb, like=loaded)).info["icc_profile"] == SRGB
    write_image(tmp_path / "out.bmp", loaded.rgb, like=loaded)  # BMP takes no profile: dropped, no error


def test_tiff_keeps_its_compression_and_as_much_exif_as_libtiff_can_write(tmp_path: Path) -> None:
    source = tmp_path / "scan.tif"
    Image.fromarray(random_rgb(16, 16)).save(source, exif=camera_exif().tobytes())
    loaded = read_image(source)
    assert "exif" in loaded.save_options
    plain = Image.open(write_image(tmp_path / "plain.tif", loaded.rgb, like=loaded))
    assert plain.getexif()[0x010F] == "Test camera"
    assert plain.getexif().get_ifd(0x8769)[0x9003] == "2024:05:01 12:00:00"
    compressed = LoadedImage(loaded.rgb, format="TIFF", save_options={**loaded.save_options,
                                                                      "compression": "tiff_lzw"})
    saved = Image.open(write_image(tmp_path / "lzw.tif", loaded.rgb, like=compressed))
    assert saved.info["compression"] == "tiff_lzw" and saved.getexif()[0x010F] == "Test camera"
    assert np.array_equal(read_image(tmp_path / "lzw.tif").rgb, loaded.rgb)


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "photo.png"
    target.write_bytes(b"the old photo")

    def half_then_fail(self, fp, *args, **kwargs):
        fp.write(b"half a PNG")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", half_then_fail)
    with pytest.raises(ImageWriteError, match="photo.png: could not be written.*No space left"):
        write_image(target, random_rgb(8, 8))
    assert target.read_bytes() == b"the old photo"
    assert [p.name for p in tmp_path.iterdir()] == ["photo.png"]


def test_permissions_follow_the_umask_for_a_new_file_and_are_kept_when_replacing(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        new = write_image(tmp_path / "new.png", random_rgb(4, 4))
        assert new.stat().st_mode & 0o777 == 0o644
        existing = tmp_path / "shared.png"
        existing.write_bytes(b"old")
        existing.chmod(0o640)
        write_image(existing, random_rgb(4, 4))
        assert existing.stat().st_mode & 0o777 == 0o640 and read_image(existing).size == (4, 4)
    finally:
        os.umask(umask)


def test_bad_targets_raise_image_write_errors(tmp_path: Path) -> None:
    with pytest.raises(ImageWriteError, match=r"unknown image type '\.xyz'"):
        write_image(tmp_path / "out.xyz", random_rgb(4, 4))
    (tmp_path / "a_file").write_bytes(b"")
    with pytest.raises(ImageWriteError, match="could not be written"):
        write_image(tmp_path / "a_file" / "out.png", random_rgb(4, 4))
    with pytest.raises(ValueError, match="uint8 HxWx3"):
        write_image(tmp_path / "out.png", np.zeros((4, 4, 3), np.float32))


def test_masks_round_trip_as_one_bit_pngs(tmp_path: Path) -> None:
    mask = np.random.default_rng(3).random((30, 40)) > 0.7
    path = write_mask(tmp_path / "mask.png", mask)
    assert Image.open(path).mode == "1"
    assert np.array_equal(read_mask(path), mask)


def mask_file(tmp_path: Path, name: str, rgba: np.ndarray) -> Path:
    path = tmp_path / name
    Image.fromarray(rgba).save(path)
    return path


def test_any_image_reads_as_a_mask_by_brightness_or_by_alpha(tmp_path: Path) -> None:
    stroke = np.zeros((10, 10), bool)
    stroke[2:5, 3:8] = True
    transparent = np.zeros((10, 10, 4), np.uint8)
    for name, colour, background in (("white_on_clear", (255, 255, 255), (255, 255, 255)),
                                     ("black_on_clear", (0, 0, 0), (255, 255, 255)),
                                     ("red_on_clear", (255, 0, 0), (0, 0, 0))):
        image = transparent.copy()
        image[..., :3] = background
        image[stroke] = (*colour, 255)
        assert np.array_equal(read_mask(mask_file(tmp_path, f"{name}.png", image)), stroke), name
    grey = np.where(stroke, 200, 30).astype(np.uint8)
    assert np.array_equal(read_mask(mask_file(tmp_path, "grey.png", grey)), stroke)
    # black and white with a transparent border: the border is no hole, the white is
    bw = np.dstack([np.repeat(np.where(stroke, 255, 0).astype(np.uint8)[..., None], 3, axis=2),
                    np.full((10, 10), 255, np.uint8)])
    bw[0, :, 3] = 0
    bw[0, :, :3] = 255
    assert np.array_equal(read_mask(mask_file(tmp_path, "bw_border.png", bw)), stroke)


def test_a_mask_of_another_size_is_fitted_with_a_warning(tmp_path: Path) -> None:
    small = np.zeros((10, 20), np.uint8)
    small[2:4, 5:6] = 255
    path = mask_file(tmp_path, "half.png", small)
    with pytest.warns(UserWarning, match=r"half.png is 20x10, the photo 40x20: the mask was resized to fit$"):
        bigger = read_mask(path, size=(40, 20))
    assert bigger.shape == (20, 40) and bigger[4:8, 10:12].all() and bigger.sum() == 8
    thin = np.zeros((40, 80), np.uint8)
    thin[10, 3:70] = 255  # a one-pixel stroke must survive shrinking
    with pytest.warns(UserWarning):
        shrunk = read_mask(mask_file(tmp_path, "thin.png", thin), size=(20, 10))
    assert shrunk[2, 1:17].all()
    with pytest.warns(UserWarning, match="turned 90 degrees"):
        read_mask(mask_file(tmp_path, "turned.png", np.zeros((20, 10), np.uint8)), size=(20, 10))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_mask(path, size=(20, 10)).shape == (10, 20)  # same size: no warning
