"""Property: whatever bytes a file holds, the loader returns a photo or raises ImageReadError, nothing else."""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from inpaint_core.imageio import ImageReadError, LoadedImage, read_image

from .test_imageio import encode, random_rgb, with_exif_orientation

# A small pixel limit keeps a mutated header from making the test decode hundreds of megapixels.
LIMIT = 1_000_000
FUZZ = settings(max_examples=200, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _valid_files() -> list[bytes]:
    rgb = random_rgb(24, 32)
    alpha = np.dstack([rgb, random_rgb(24, 32)[..., 0]])
    palette = Image.fromarray(rgb).convert("P")
    return [
        encode(Image.fromarray(rgb), "PNG"),
        encode(Image.fromarray(alpha), "PNG"),
        encode(palette, "PNG", transparency=3),
        encode(Image.fromarray((np.arange(24 * 32, dtype=np.uint16) * 80).reshape(24, 32)), "PNG"),
        encode(Image.fromarray(rgb), "JPEG", quality=80),
        encode(Image.fromarray(rgb), "JPEG", progressive=True),
        with_exif_orientation(rgb, 6, "JPEG"),
        encode(Image.fromarray(rgb).convert("CMYK"), "JPEG"),
        encode(palette, "GIF"),
        encode(Image.fromarray(rgb), "BMP"),
        encode(Image.fromarray(rgb), "TIFF"),
        encode(Image.fromarray(rgb), "TIFF", compression="tiff_lzw"),
        encode(Image.fromarray(alpha), "WEBP"),
        encode(Image.fromarray(rgb), "TGA"),
        encode(Image.fromarray(rgb), "PPM"),
    ]


VALID = _valid_files()


def _check(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzzed.img"
        path.write_bytes(data)
        try:
            loaded = read_image(path, max_pixels=LIMIT)
        except ImageReadError as exc:
            assert str(path) in str(exc) and "\n" not in str(exc)
            return
        assert isinstance(loaded, LoadedImage)
        assert loaded.rgb.dtype == np.uint8 and loaded.rgb.ndim == 3 and loaded.rgb.shape[2] == 3
        assert loaded.alpha is None or loaded.alpha.shape == loaded.rgb.shape[:2]


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes_never_crash_the_loader(data: bytes) -> None:
    _check(data)


@FUZZ
@given(st.sampled_from(VALID).flatmap(lambda f: st.tuples(
    st.just(f),
    st.lists(st.tuples(st.integers(0, len(f) - 1), st.integers(0, 255)), max_size=12),  # overwritten bytes
    st.integers(1, len(f)),                                                               # truncation point
    st.binary(max_size=64))))                                                             # appended junk
def test_mutated_valid_files_never_crash_the_loader(case: tuple[bytes, list[tuple[int, int]], int, bytes]) -> None:
    original, edits, keep, tail = case
    data = bytearray(original)
    for position, value in edits:
        data[position] = value
    _check(bytes(data[:keep]) + tail)
