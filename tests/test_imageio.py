"""Reading photos: a corpus of generated odd and broken files, each checked pixel by pixel or for its error.

Every good case knows the pixels it must give (computed here by the documented rules, not by asking Pillow);
every bad case must raise ImageReadError naming the file and the reason.
"""
from __future__ import annotations

import io
import os
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from inpaint_core.imageio import ImageReadError, read_image

RNG = np.random.default_rng(7)


def random_rgb(height: int, width: int) -> np.ndarray:
    return RNG.integers(0, 256, (height, width, 3), dtype=np.uint8)


JPEG_EXACT = {"quality": 95, "subsampling": 0}  # no chroma subsampling: flat colour blocks stay within a few levels


def encode(img: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, fmt, **options)
    return buffer.getvalue()


def blocks(height: int = 32, width: int = 48) -> np.ndarray:
    """Flat 16x16 colour blocks (one JPEG MCU each), all different: survive JPEG nearly unchanged and show any
    turn or flip."""
    colours = RNG.integers(0, 256, (height // 16, width // 16, 3), dtype=np.uint8)
    return np.repeat(np.repeat(colours, 16, axis=0), 16, axis=1)


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_declaring(width: int, height: int) -> bytes:
    """A PNG whose header declares width x height RGB, followed by a few bytes of image data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + png_chunk(b"IEND", b""))


def jpeg_declaring(width: int, height: int) -> bytes:
    """A small valid JPEG whose SOF0 header is patched to declare width x height."""
    data = bytearray(encode(Image.new("RGB", (16, 16), "grey"), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def with_exif_orientation(rgb: np.ndarray, orientation: int, fmt: str = "PNG") -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "Test camera"
    return encode(Image.fromarray(rgb), fmt, exif=exif.tobytes(), **(JPEG_EXACT if fmt == "JPEG" else {}))


# What the EXIF specification says each orientation means: how the stored pixels S look upright.
UPRIGHT: dict[int, Callable[[np.ndarray], np.ndarray]] = {
    1: lambda s: s,
    2: lambda s: s[:, ::-1],                    # mirrored left-right
    3: lambda s: s[::-1, ::-1],                 # turned 180 degrees
    4: lambda s: s[::-1, :],                    # mirrored top-bottom
    5: lambda s: s.transpose(1, 0, 2),          # 0th row is the left side, 0th column the top
    6: lambda s: np.rot90(s, k=-1),             # 0th row is the right side: turn 90 degrees clockwise
    7: lambda s: np.rot90(s, k=-1)[::-1],       # 0th row is the right side, 0th column the bottom
    8: lambda s: np.rot90(s, k=1),              # 0th row is the left side, 0th column the bottom
}


@dataclass
class Good:
    """A file that must load, with the pixels (and alpha) it must give; ``tolerance`` for lossy formats."""

    name: str
    data: bytes
    rgb: np.ndarray
    alpha: np.ndarray | None = None
    tolerance: int = 0
    format: str | None = None


def good_cases() -> list[Good]:
    cases = []
    rgb = random_rgb(20, 30)
    cases.append(Good("rgb.png", encode(Image.fromarray(rgb), "PNG"), rgb, format="PNG"))
    cases.append(Good("png_named.jpg", encode(Image.fromarray(rgb), "PNG"), rgb, format="PNG"))
    b = blocks()
    cases.append(Good("jpeg_named.png", encode(Image.fromarray(b), "JPEG", **JPEG_EXACT), b, tolerance=12,
                      format="JPEG"))
    one = random_rgb(1, 1)
    cases.append(Good("one_pixel.png", encode(Image.fromarray(one), "PNG"), one))
    wide = random_rgb(1, 70000)
    cases.append(Good("wide_70000x1.png", encode(Image.fromarray(wide), "PNG"), wide))
    tall = random_rgb(70000, 1)
    cases.append(Good("tall_1x70000.png", encode(Image.fromarray(tall), "PNG"), tall))

    grey16 = RNG.integers(0, 65536, (12, 17), dtype=np.uint16)
    grey16[0, :3] = (0, 65535, 32896)  # black, white, and a value that rounds to 128
    expect16 = np.repeat(np.round(grey16 / 65535 * 255).astype(np.uint8)[..., None], 3, axis=2)
    cases.append(Good("grey16.png", encode(Image.fromarray(grey16), "PNG"), expect16))
    cases.append(Good("grey16.tif", encode(Image.fromarray(grey16), "TIFF"), expect16, format="TIFF"))
    rgb16 = RNG.integers(0, 65536, (9, 11, 3), dtype=np.uint16)
    ok, png16 = cv2.imencode(".png", rgb16[..., ::-1])  # OpenCV writes BGR
    assert ok
    cases.append(Good("rgb16.png", png16.tobytes(), (rgb16 >> 8).astype(np.uint8)))
    rgba16 = RNG.integers(0, 65536, (9, 11, 4), dtype=np.uint16)
    rgba16[0, 0, 3] = 0
    ok, png16a = cv2.imencode(".png", rgba16[..., [2, 1, 0, 3]])
    assert ok
    cases.append(Good("rgba16.png", png16a.tobytes(), (rgba16[..., :3] >> 8).astype(np.uint8),
                      alpha=(rgba16[..., 3] >> 8).astype(np.uint8)))

    grey = RNG.integers(0, 256, (10, 13), dtype=np.uint8)
    as_rgb = np.repeat(grey[..., None], 3, axis=2)
    cases.append(Good("grey.png", encode(Image.fromarray(grey), "PNG"), as_rgb))
    la_alpha = RNG.integers(0, 256, grey.shape, dtype=np.uint8)
    cases.append(Good("grey_alpha.png", encode(Image.fromarray(np.dstack([grey, la_alpha]), "LA"), "PNG"),
                      as_rgb, alpha=la_alpha))
    bits = RNG.random((9, 14)) > 0.5
    cases.append(Good("bilevel.png", encode(Image.fromarray(bits), "PNG"),
                      np.repeat((bits * 255).astype(np.uint8)[..., None], 3, axis=2)))
    unit = RNG.random((6, 7)).astype(np.float32)
    unit[0, 0] = np.nan
    expect_unit = np.round(np.nan_to_num(unit.astype(np.float64)) * 255).astype(np.uint8)
    cases.append(Good("float_0_1.tif", encode(Image.fromarray(unit, "F"), "TIFF"),
                      np.repeat(expect_unit[..., None], 3, axis=2)))
    wide_float = (RNG.random((6, 7)) * 300 - 20).astype(np.float32)  # 0..255 range, out-of-range values clip
    expect_wide = np.round(np.clip(wide_float.astype(np.float64), 0, 255)).astype(np.uint8)
    cases.append(Good("float_0_255.tif", encode(Image.fromarray(wide_float, "F"), "TIFF"),
                      np.repeat(expect_wide[..., None], 3, axis=2)))
    int32 = RNG.integers(0, 65536, (5, 8)).astype(np.int32)
    expect_int = np.round(int32 / 65535 * 255).astype(np.uint8)
    cases.append(Good("int32.tif", encode(Image.fromarray(int32, "I"), "TIFF"),
                      np.repeat(expect_int[..., None], 3, axis=2)))

    # CMYK: pure inks, on which every CMYK -> RGB formula agrees
    inks = np.array([[0, 0, 0, 0], [255, 0, 0, 0], [0, 255, 0, 0], [0, 0, 255, 0], [0, 0, 0, 255]], np.uint8)
    inks_rgb = np.array([[255, 255, 255], [0, 255, 255], [255, 0, 255], [255, 255, 0], [0, 0, 0]], np.uint8)
    cmyk = np.repeat(np.repeat(inks[None], 16, axis=0), 16, axis=1)  # one 16x16 block per ink
    cmyk_rgb = np.repeat(np.repeat(inks_rgb[None], 16, axis=0), 16, axis=1)
    cases.append(Good("cmyk.tif", encode(Image.fromarray(cmyk, "CMYK"), "TIFF"), cmyk_rgb))
    cases.append(Good("cmyk.jpg", encode(Image.fromarray(cmyk, "CMYK"), "JPEG", **JPEG_EXACT), cmyk_rgb,
                      tolerance=8))

    palette_img = Image.fromarray(RNG.integers(0, 3, (10, 12), dtype=np.uint8), "P")
    palette_img.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255])
    indices = np.asarray(palette_img)
    palette_rgb = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255]], np.uint8)[indices]
    cases.append(Good("palette.png", encode(palette_img, "PNG"), palette_rgb))
    cases.append(Good("palette_transparent.png", encode(palette_img, "PNG", transparency=1), palette_rgb,
                      alpha=np.where(indices == 1, 0, 255).astype(np.uint8)))
    cases.append(Good("palette_transparent.gif", encode(palette_img, "GIF", transparency=1), palette_rgb,
                      alpha=np.where(indices == 1, 0, 255).astype(np.uint8), format="GIF"))
    frames = [Image.fromarray(np.full((6, 6, 3), c, np.uint8)) for c in ((10, 200, 30), (200, 10, 30))]
    cases.append(Good("animated.gif", encode(frames[0], "GIF", save_all=True, append_images=frames[1:]),
                      np.full((6, 6, 3), (10, 200, 30), np.uint8), tolerance=0))

    rgba = random_rgb(10, 12)
    alpha = RNG.integers(0, 256, (10, 12), dtype=np.uint8)
    cases.append(Good("rgba.png", encode(Image.fromarray(np.dstack([rgba, alpha])), "PNG"), rgba, alpha=alpha))
    cases.append(Good("rgba_opaque.png", encode(Image.fromarray(np.dstack([rgba, np.full_like(alpha, 255)])),
                                                "PNG"), rgba))
    cases.append(Good("rgba_lossless.webp", encode(Image.fromarray(np.dstack([rgba, alpha])), "WEBP",
                                                   lossless=True, exact=True), rgba, alpha=alpha, format="WEBP"))
    cases.append(Good("rgb.bmp", encode(Image.fromarray(rgb), "BMP"), rgb, format="BMP"))
    cases.append(Good("rgb.tga", encode(Image.fromarray(rgb), "TGA"), rgb))
    cases.append(Good("rgb.ppm", encode(Image.fromarray(rgb), "PPM"), rgb))

    stored = random_rgb(5, 7)  # every pixel different: any wrong turn or flip shows
    for orientation, upright in UPRIGHT.items():
        cases.append(Good(f"exif_orientation_{orientation}.png", with_exif_orientation(stored, orientation),
                          np.ascontiguousarray(upright(stored))))
    for orientation in (3, 6, 8):  # as phones write them
        cases.append(Good(f"exif_orientation_{orientation}.jpg", with_exif_orientation(b, orientation, "JPEG"),
                          np.ascontiguousarray(UPRIGHT[orientation](b)), tolerance=12))
    cases.append(Good("exif_orientation_9_ignored.png", with_exif_orientation(stored, 9), stored))

    jpeg = bytearray(encode(Image.fromarray(b), "JPEG", **JPEG_EXACT))
    broken_exif = b"\xff\xe1" + struct.pack(">H", 2 + 6 + 20) + b"Exif\0\0" + b"MM\0\x2a\xff\xff\xff\xff" + b"\0" * 12
    cases.append(Good("broken_exif.jpg", bytes(jpeg[:2] + broken_exif + jpeg[2:]), b, tolerance=12))
    mpo = io.BytesIO()
    frames[0].save(mpo, "MPO", save_all=True, append_images=frames[1:], quality=95)
    cases.append(Good("phone.mpo.jpg", mpo.getvalue(), np.full((6, 6, 3), (10, 200, 30), np.uint8), tolerance=4,
                      format="JPEG"))
    return cases


def bad_cases() -> list[tuple[str, bytes, str]]:
    """(file name, content, what the message must say)"""
    png = encode(Image.fromarray(random_rgb(64, 64)), "PNG")
    jpeg = encode(Image.fromarray(random_rgb(64, 64)), "JPEG")
    gif = encode(Image.fromarray(random_rgb(32, 32)).convert("P"), "GIF")
    tiff = encode(Image.fromarray(random_rgb(32, 32)), "TIFF")
    webp = encode(Image.fromarray(random_rgb(32, 32)), "WEBP")
    idat = png.index(b"IDAT")
    corrupt_crc = png[:idat + 10] + bytes([png[idat + 10] ^ 0xFF]) + png[idat + 11:]
    zero_wide = (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 0, 10, 8, 2, 0, 0, 0))
                 + png_chunk(b"IEND", b""))
    pcx = encode(Image.fromarray(random_rgb(8, 8)), "PCX")
    return [
        ("empty.png", b"", "empty"),
        ("truncated.png", png[:len(png) // 2], "truncated or corrupt"),
        ("truncated.jpg", jpeg[:len(jpeg) // 2], "truncated or corrupt"),
        ("truncated.gif", gif[:len(gif) // 2], "truncated or corrupt"),
        ("truncated.tif", tiff[:len(tiff) // 2], "truncated or corrupt|not a readable image"),
        ("truncated.webp", webp[:len(webp) // 2], "truncated or corrupt|not a readable image"),
        ("signature_only.png", png[:8], "truncated or corrupt|not a readable image"),
        ("bad_crc.png", corrupt_crc, "truncated or corrupt"),
        ("no_pixels.png", zero_wide, "no pixels|truncated or corrupt|not a readable image"),
        ("jpeg_magic_then_junk.jpg", b"\xff\xd8\xff\xe0 not really a jpeg", "truncated or corrupt|not a readable"),
        ("notes.png", b"these are my holiday notes, not a photo\n", "not a readable image"),
        ("page.jpg", b"<!DOCTYPE html><html><body>404</body></html>", "not a readable image"),
        ("picture.pcx", pcx, "not a readable image"),
        ("bomb_100000x100000.png", png_declaring(100_000, 100_000), "more than the 179 MP this editor opens"),
        ("bomb_13400x13400.png", png_declaring(13_400, 13_400), "more than the 179 MP this editor opens"),
        ("bomb_65000x65000.jpg", jpeg_declaring(65_000, 65_000), "more than the 179 MP this editor opens"),
    ]


GOOD = good_cases()
BAD = bad_cases()


def test_the_corpus_is_large_enough() -> None:
    assert len(GOOD) + len(BAD) + 3 >= 30  # + the folder, missing-file and unreadable-file tests below


@pytest.mark.parametrize("case", GOOD, ids=[c.name for c in GOOD])
def test_odd_files_load_with_the_right_pixels(tmp_path: Path, case: Good) -> None:
    path = tmp_path / case.name
    path.write_bytes(case.data)
    loaded = read_image(path)
    assert loaded.rgb.dtype == np.uint8 and loaded.rgb.flags.writeable
    assert loaded.rgb.shape == case.rgb.shape
    diff = np.abs(loaded.rgb.astype(int) - case.rgb.astype(int))
    assert diff.max() <= case.tolerance, f"{case.name}: off by up to {diff.max()}"
    if case.alpha is None:
        assert loaded.alpha is None
    else:
        assert loaded.alpha is not None and np.array_equal(loaded.alpha, case.alpha)
    if case.format is not None:
        assert loaded.format == case.format
    assert loaded.path == path and loaded.size == (case.rgb.shape[1], case.rgb.shape[0])


@pytest.mark.parametrize("name, data, reason", BAD, ids=[c[0] for c in BAD])
def test_broken_files_raise_one_clear_error_naming_the_file(tmp_path: Path, name: str, data: bytes,
                                                            reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(ImageReadError, match=reason) as caught:
        read_image(path)
    message = str(caught.value)
    assert message.startswith(str(path)) and "\n" not in message


def test_a_folder_a_missing_file_and_an_unreadable_file_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ImageReadError, match="is a folder"):
        read_image(tmp_path)
    with pytest.raises(ImageReadError, match=r"missing\.png: no such file"):
        read_image(tmp_path / "missing.png")
    if os.geteuid() != 0:  # root reads anything
        locked = tmp_path / "locked.png"
        locked.write_bytes(encode(Image.new("RGB", (4, 4)), "PNG"))
        locked.chmod(0)
        with pytest.raises(ImageReadError, match=r"locked\.png: cannot be read"):
            read_image(locked)


def test_a_huge_declared_size_is_refused_from_the_header_without_decoding(tmp_path: Path) -> None:
    path = tmp_path / "huge.png"
    path.write_bytes(png_declaring(100_000, 100_000))
    with pytest.raises(ImageReadError, match=r"more than the 179 MP this editor opens"):
        read_image(path)
    # a lower limit is checked from the header too, and reports the size; a photo under it opens
    path.write_bytes(png_declaring(4000, 3000))
    with pytest.raises(ImageReadError, match=r"4000x3000 is 12 MP, more than the 10 MP this editor opens"):
        read_image(path, max_pixels=10_000_000)
    small = tmp_path / "small.png"
    small.write_bytes(encode(Image.new("RGB", (10, 10)), "PNG"))
    assert read_image(small, max_pixels=100).size == (10, 10)


def test_photos_over_pillows_own_warning_threshold_still_open(tmp_path: Path, monkeypatch) -> None:
    """Pillow warns from 89 MP on; a 100 MP photo is a real camera's and must open. Simulated by lowering
    Pillow's threshold, since a real 100 MP photo is too slow for this suite."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 50)
    path = tmp_path / "medium_format.png"
    path.write_bytes(encode(Image.new("RGB", (10, 8), "red"), "PNG"))  # 80 px: over 50, under Pillow's 2 x 50
    assert read_image(path).rgb[0, 0].tolist() == [255, 0, 0]


def test_exif_orientation_is_dropped_from_the_kept_exif_and_other_tags_stay(tmp_path: Path) -> None:
    path = tmp_path / "turned.jpg"
    path.write_bytes(with_exif_orientation(blocks(), 6, "JPEG"))
    kept = Image.Exif()
    kept.load(read_image(path).save_options["exif"])
    assert 0x0112 not in kept and kept[0x010F] == "Test camera"
