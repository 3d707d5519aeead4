"""The only place image files are read or written.

Reading applies the EXIF orientation, converts every Pillow mode to 8-bit RGB by documented rules (alpha kept
apart so a fill can keep it), refuses decompression bombs and broken files with one error type whose message
names the file and the reason. Writing is atomic (temp file + rename) and keeps the original's format options.
"""
from __future__ import annotations

import io
import os
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PIXELS = 200_000_000  # a 200 MP photo; beyond that a "photo" is almost surely a decompression bomb
FORMATS_BY_SUFFIX = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".bmp": "BMP",
                     ".tif": "TIFF", ".tiff": "TIFF"}


class ImageReadError(ValueError):
    """An image file could not be read; the message names the file and says why."""


class ImageWriteError(OSError):
    """An image file could not be written; nothing at the destination was changed."""


@dataclass
class LoadedImage:
    """A photo as the editor and the engine use it, plus what is needed to save it back faithfully."""

    rgb: np.ndarray                      # uint8 [H, W, 3]
    alpha: np.ndarray | None = None      # uint8 [H, W] when the file had transparency
    format: str = "PNG"                  # Pillow format name of the source file
    save_options: dict[str, Any] = field(default_factory=dict)  # icc_profile, exif, quality, ...
    path: Path | None = None

    @property
    def size(self) -> tuple[int, int]:
        """(width, height)"""
        return self.rgb.shape[1], self.rgb.shape[0]


def _to_rgb_alpha(img: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    """Mode rules: 16-bit and float greys are scaled to 8 bits by their full range; palettes and LA/RGBA keep
    transparency as a separate alpha; CMYK goes through Pillow's conversion."""
    alpha = None
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float64)
        peak = 65535.0 if img.mode.startswith("I;16") or arr.max() > 255 else 255.0
        grey = np.clip(np.round(arr / peak * 255.0), 0, 255).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2), None
    if img.mode == "F":
        arr = np.asarray(img, dtype=np.float64)
        arr = np.nan_to_num(arr)
        peak = 1.0 if arr.max() <= 1.0 else 255.0
        grey = np.clip(np.round(arr / peak * 255.0), 0, 255).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2), None
    if img.mode == "P":
        img = img.convert("RGBA") if "transparency" in img.info else img.convert("RGB")
    if img.mode in ("LA", "PA"):
        img = img.convert("RGBA")
    if img.mode == "RGBA":
        arr = np.asarray(img)
        alpha = arr[..., 3].copy()
        if alpha.min() == 255:
            alpha = None
        return np.ascontiguousarray(arr[..., :3]), alpha
    if img.mode != "RGB":
        img = img.convert("RGB")
    return np.asarray(img).copy(), None


def read_image(path: str | os.PathLike, max_pixels: int = MAX_PIXELS) -> LoadedImage:
    """Read a photo from disk. Raises ImageReadError with a one-line reason."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImageReadError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ImageReadError(f"{path}: is a folder, not an image") from None
    except OSError as exc:
        raise ImageReadError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if not data:
        raise ImageReadError(f"{path}: the file is empty (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            fmt = img.format or "PNG"
            width, height = img.size
            if width * height > max_pixels:
                raise ImageReadError(f"{path}: {width}x{height} is {width * height / 1e6:.0f} MP, more than the "
                                     f"{max_pixels / 1e6:.0f} MP this editor opens")
            if width < 1 or height < 1:
                raise ImageReadError(f"{path}: the image has no pixels ({width}x{height})")
            img.load()
            options = _save_options(img, fmt)
            img = ImageOps.exif_transpose(img)
            rgb, alpha = _to_rgb_alpha(img)
    except ImageReadError:
        raise
    except UnidentifiedImageError:
        raise ImageReadError(f"{path}: not an image file Pillow can read") from None
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise ImageReadError(f"{path}: refused as a possible decompression bomb ({exc})") from None
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as exc:
        raise ImageReadError(f"{path}: the image is truncated or corrupt ({exc})") from None
    return LoadedImage(rgb=rgb, alpha=alpha, format=fmt, save_options=options, path=path)


def _save_options(img: Image.Image, fmt: str) -> dict[str, Any]:
    """Format options worth carrying to a save: ICC profile, EXIF without orientation, JPEG quality."""
    options: dict[str, Any] = {}
    if img.info.get("icc_profile"):
        options["icc_profile"] = img.info["icc_profile"]
    exif = img.getexif()
    if exif:
        exif.pop(0x0112, None)  # orientation is applied to the pixels on load
        options["exif"] = exif.tobytes()
    if fmt == "JPEG":
        options["quality"] = estimate_jpeg_quality(img)
    return options


def estimate_jpeg_quality(img: Image.Image) -> int:
    """The libjpeg quality whose standard luminance table best matches the file's (95 if unknown)."""
    tables = getattr(img, "quantization", None)
    if not tables or 0 not in tables:
        return 95
    base = np.array([16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69,
                     56, 14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104,
                     113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99], dtype=np.float64)
    actual = np.sort(np.asarray(tables[0], dtype=np.float64))
    best, best_err = 95, np.inf
    for q in range(1, 101):
        scale = 5000 / q if q < 50 else 200 - 2 * q
        table = np.sort(np.clip(np.floor((base * scale + 50) / 100), 1, 255))
        err = np.abs(table - actual).sum()
        if err < best_err:
            best, best_err = q, err
    return best


def read_mask(path: str | os.PathLike, size: tuple[int, int] | None = None) -> np.ndarray:
    """A mask image -> bool [H, W], True = hole.

    White/non-zero pixels are the hole; if the file has transparency and is otherwise uniform, its opaque
    pixels are. ``size`` (width, height) resizes a mismatched mask by nearest neighbour with a warning.
    """
    loaded = read_image(path)
    grey = loaded.rgb.max(axis=2)
    if loaded.alpha is not None and grey.min() == grey.max():
        hole = loaded.alpha > 127
    else:
        hole = grey > 127
    if size is not None and (hole.shape[1], hole.shape[0]) != tuple(size):
        warnings.warn(f"mask {path} is {hole.shape[1]}x{hole.shape[0]}, the photo {size[0]}x{size[1]}: "
                      "the mask was resized to fit", stacklevel=2)
        resized = Image.fromarray(hole.astype(np.uint8) * 255).resize(tuple(size), Image.NEAREST)
        hole = np.asarray(resized) > 127
    return hole


def write_image(path: str | os.PathLike, rgb: np.ndarray, *, alpha: np.ndarray | None = None,
                like: LoadedImage | None = None, quality: int | None = None) -> Path:
    """Write atomically. The format follows the suffix; options (ICC, EXIF, JPEG quality) come from ``like``."""
    path = Path(path)
    fmt = FORMATS_BY_SUFFIX.get(path.suffix.lower())
    if fmt is None:
        raise ImageWriteError(f"{path}: unknown image type {path.suffix!r}; use .png, .jpg, .webp, .tif or .bmp")
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    img = Image.fromarray(rgb, "RGB")
    if alpha is not None and fmt in ("PNG", "WEBP", "TIFF"):
        img = Image.fromarray(np.dstack([rgb, alpha.astype(np.uint8)]), "RGBA")
    options: dict[str, Any] = {}
    if like is not None:
        options.update({k: v for k, v in like.save_options.items() if k in ("icc_profile", "exif")})
        if fmt == "JPEG" and like.format == "JPEG":
            options["quality"] = like.save_options.get("quality", 95)
    if fmt in ("JPEG", "WEBP"):
        options.setdefault("quality", quality or 95)
        if quality is not None:
            options["quality"] = quality
    if fmt == "BMP":
        options.pop("exif", None)
        options.pop("icc_profile", None)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        img.save(tmp, format=fmt, **options)
        os.replace(tmp, path)
    except (OSError, ValueError) as exc:
        raise ImageWriteError(f"{path}: could not be written ({exc})") from exc
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
