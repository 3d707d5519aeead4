"""The only place image files are read or written.

Reading gives 8-bit RGB plus, apart, the alpha channel, by these rules:

- Orientation: the EXIF orientation (1-8) is applied to the pixels and dropped from the EXIF kept for saving.
  A photo whose EXIF block cannot be parsed still opens, unrotated and without EXIF.
- RGB: as stored. 16-bit RGB/RGBA: Pillow keeps the high byte of each channel.
- L (grey) and 1 (black and white): the grey value in R, G and B.
- I;16 (16-bit grey): round(v * 255 / 65535) in R, G and B.
- I (32-bit integer grey): used as 8-bit when every value fits 0..255, otherwise scaled as 16-bit (values
  above 65535 clipped).
- F (32-bit float grey): taken as 0..1 when no value exceeds 1, otherwise as 0..255; NaN is 0; clipped.
- P (palette): expanded; the palette's transparency becomes the alpha channel.
- LA, PA, RGBA, RGBa: colour as above, alpha apart. An alpha that is 255 everywhere is dropped (None).
- CMYK: Pillow's conversion (no colour management; Adobe's inverted CMYK JPEGs are handled by Pillow).
- YCbCr, LAB, HSV, RGBX and any other mode: Pillow's conversion to RGB.
- Alpha: the fill works on RGB only; a save given the alpha writes it back as it was read, so transparency
  outside the hole (and inside it) stays exactly as it was. Saving to a format without alpha (JPEG, BMP)
  composites the photo over white.
- ICC profile: kept for saving only when it describes RGB; a grey or CMYK profile does not fit the RGB pixels
  that are written, so it is dropped.

Only the raster formats listed in ``READ_FORMATS`` are decoded (never EPS, PSD or the other exotic decoders
Pillow has); a file declaring more than ``MAX_PIXELS`` pixels is refused from its header, before decoding.
Every failure to read is an ``ImageReadError`` whose one-line message names the file and says why.

Writing is atomic (a temporary file beside the target, flushed to disk, then renamed over it) and keeps the
source's options: ICC profile, EXIF without orientation, resolution, and for JPEG its exact quantisation
tables (hence quality), chroma subsampling and progressive mode.
"""
from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Callable

import cv2
import numpy as np
from PIL import Image, JpegImagePlugin, UnidentifiedImageError

from .atomic import atomic_write

# Pillow's own hard limit (2 x Image.MAX_IMAGE_PIXELS = 179 MP). It holds every camera photo (a Phase One IQ4
# is 151 MP); beyond it a "photo" is a panorama too large to edit, or a decompression bomb.
MAX_PIXELS = 2 * Image.MAX_IMAGE_PIXELS
Image.init()  # register Pillow's plugins, so READ_FORMATS can be checked against the decoders this build has
# (JPEG includes MPO, the multi-picture JPEG some phones write)
READ_FORMATS = tuple(f for f in ("PNG", "JPEG", "WEBP", "TIFF", "BMP", "DIB", "GIF", "PPM", "TGA", "AVIF")
                     if f in Image.OPEN)
FORMATS_BY_SUFFIX = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".bmp": "BMP",
                     ".tif": "TIFF", ".tiff": "TIFF"}
_ALPHA_FORMATS = {"PNG", "WEBP", "TIFF"}
_ICC_FORMATS = {"PNG", "JPEG", "WEBP", "TIFF"}
_EXIF_FORMATS = {"PNG", "JPEG", "WEBP", "TIFF"}
_DPI_FORMATS = {"PNG", "JPEG", "TIFF", "BMP"}
_LOSSLESS_TIFF = {"raw", "tiff_lzw", "tiff_deflate", "tiff_adobe_deflate", "packbits"}
_ORIENTATION = 0x0112
# EXIF orientation -> the transposition that shows the stored pixels upright
_UPRIGHT = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
            5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
            8: Image.Transpose.ROTATE_90}
# Tags that describe a TIFF's own pixel layout: in a TIFF's "EXIF" (its first IFD) they would contradict the
# file they are saved into.
_TIFF_LAYOUT_TAGS = {256, 257, 258, 259, 262, 266, 273, 277, 278, 279, 284, 317, 320, 322, 323, 324, 325, 330,
                     338, 339, 347, 529, 530, 531, 532, 34675}


class ImageReadError(ValueError):
    """An image file (or a folder or list of them) could not be read; the message names the file and says why."""


class ImageWriteError(OSError):
    """An image file could not be written; nothing at the destination was changed."""


@dataclass
class LoadedImage:
    """A photo as the editor and the engine use it, plus what is needed to save it back faithfully."""

    rgb: np.ndarray                      # uint8 [H, W, 3]
    alpha: np.ndarray | None = None      # uint8 [H, W] when the file had transparency
    format: str = "PNG"                  # Pillow format name of the source file (an MPO photo counts as JPEG)
    save_options: dict[str, Any] = field(default_factory=dict)  # icc_profile, exif, dpi, qtables, quality, ...
    path: Path | None = None

    @property
    def size(self) -> tuple[int, int]:
        """(width, height)"""
        return self.rgb.shape[1], self.rgb.shape[0]


# -- reading ---------------------------------------------------------------------------------------------------
def _grey_to_rgb(grey: np.ndarray) -> np.ndarray:
    return np.repeat(grey[..., None], 3, axis=2)


def _to_rgb_alpha(img: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    """Pixels by the mode rules of the module docstring."""
    if img.mode.startswith("I;16") or img.mode == "I":
        arr = np.asarray(img, dtype=np.float64)
        peak = 65535.0 if img.mode != "I" or arr.max() > 255 else 255.0
        return _grey_to_rgb(np.clip(np.round(arr / peak * 255.0), 0, 255).astype(np.uint8)), None
    if img.mode == "F":
        arr = np.nan_to_num(np.asarray(img, dtype=np.float64), nan=0.0, posinf=255.0, neginf=0.0)
        peak = 1.0 if arr.max() <= 1.0 else 255.0
        return _grey_to_rgb(np.round(np.clip(arr, 0.0, peak) / peak * 255.0).astype(np.uint8)), None
    if img.mode == "P":
        translucent = "transparency" in img.info or (img.palette is not None and img.palette.mode == "RGBA")
        img = img.convert("RGBA" if translucent else "RGB")
    if img.mode in ("LA", "PA", "RGBa"):
        img = img.convert("RGBA")
    if img.mode == "RGBA":
        arr = np.asarray(img)
        alpha = arr[..., 3].copy()
        return np.ascontiguousarray(arr[..., :3]), (None if alpha.min() == 255 else alpha)
    if img.mode != "RGB":
        img = img.convert("RGB")
    return np.array(img), None


def list_images(source: str | os.PathLike) -> list[Path]:
    """The image files of a folder or of a list file, by one rule for training and evaluation alike.

    A folder is searched recursively (datasets nest photos in class folders); files count by their suffix
    (``FORMATS_BY_SUFFIX``), sorted by path. A list file names one image per line, relative to the list's
    folder or absolute; blank lines and lines starting with # are skipped; the order is the list's. Raises
    ImageReadError when the source is missing or names no image.
    """
    source = Path(source)
    if source.is_dir():
        paths = sorted(p for p in source.rglob("*") if p.suffix.lower() in FORMATS_BY_SUFFIX and p.is_file())
    elif source.is_file():
        try:
            lines = source.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise ImageReadError(f"{source}: cannot read the image list ({exc})") from None
        entries = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
        paths = [p if p.is_absolute() else source.parent / p for p in map(Path, entries)]
    else:
        raise ImageReadError(f"{source}: no such folder or image list")
    if not paths:
        raise ImageReadError(f"{source}: no images found (looked for {', '.join(sorted(FORMATS_BY_SUFFIX))})")
    return paths


def read_image(path: str | os.PathLike, max_pixels: int = MAX_PIXELS) -> LoadedImage:
    """Read a photo from disk. Raises ImageReadError with a one-line reason naming the file."""
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
            # Pillow's warnings (a 100 MP photo over its lower bomb threshold, a corrupt EXIF tag) are not the
            # user's business: a file either opens or fails with one clear reason.
            warnings.simplefilter("ignore")
            return _decode(data, path, max_pixels)
    except ImageReadError:
        raise
    except UnidentifiedImageError:
        raise ImageReadError(f"{path}: not a readable image (the content is none of "
                             f"{', '.join(READ_FORMATS)})") from None
    except Image.DecompressionBombError:
        # Pillow refuses from the header, before this module's own check could report the size.
        raise ImageReadError(f"{path}: its header declares more than the {MAX_PIXELS / 1e6:.0f} MP this editor "
                             "opens (refused as a possible decompression bomb)") from None
    except MemoryError:
        raise ImageReadError(f"{path}: not enough memory to decode it") from None
    except Exception as exc:  # noqa: BLE001 - decoders of untrusted bytes fail in many ways; all mean "corrupt"
        raise ImageReadError(f"{path}: the image is truncated or corrupt ({type(exc).__name__}: {exc})") from None


def _decode(data: bytes, path: Path, max_pixels: int) -> LoadedImage:
    img = Image.open(io.BytesIO(data), formats=READ_FORMATS)
    width, height = img.size
    if width < 1 or height < 1:
        raise ImageReadError(f"{path}: the image has no pixels ({width}x{height})")
    if width * height > max_pixels:  # checked from the header, before anything is decoded
        raise ImageReadError(f"{path}: {width}x{height} is {width * height / 1e6:.0f} MP, more than the "
                             f"{max_pixels / 1e6:.0f} MP this editor opens")
    img.load()
    fmt = "JPEG" if img.format == "MPO" else (img.format or "PNG")
    exif = _readable_exif(img)
    orientation = exif.get(_ORIENTATION) if exif is not None else None
    options = _save_options(img, fmt, exif)
    if isinstance(orientation, int) and orientation in _UPRIGHT:
        img = img.transpose(_UPRIGHT[orientation])
    rgb, alpha = _to_rgb_alpha(img)
    return LoadedImage(rgb=rgb, alpha=alpha, format=fmt, save_options=options, path=path)


def _readable_exif(img: Image.Image) -> Image.Exif | None:
    """The file's EXIF, or None when it has none or it is broken (a broken EXIF must not make a photo
    unopenable; the photo is then shown as stored)."""
    try:
        exif = img.getexif()
        exif.tobytes()  # parse every tag now, so a broken one fails here and not when saving
    except Exception:  # noqa: BLE001 - see docstring
        return None
    return exif if len(exif) else None


def _save_options(img: Image.Image, fmt: str, exif: Image.Exif | None) -> dict[str, Any]:
    """Format options worth carrying to a save (see the module docstring)."""
    options: dict[str, Any] = {}
    icc = img.info.get("icc_profile")
    if icc and icc[16:20] == b"RGB ":  # bytes 16-19 of an ICC header: the colour space of the data it describes
        options["icc_profile"] = icc
    if exif is not None:
        drop = {_ORIENTATION} | (_TIFF_LAYOUT_TAGS if fmt == "TIFF" else set())
        for tag in drop & set(exif):
            del exif[tag]
        if len(exif):
            options["exif"] = exif.tobytes()
    dpi = img.info.get("dpi")
    if dpi and all(isinstance(v, (int, float)) and v > 1 for v in dpi):  # Pillow reports (1, 1) for "unknown"
        options["dpi"] = tuple(float(v) for v in dpi)
    if fmt == "JPEG":
        options["quality"] = estimate_jpeg_quality(img)
        tables = getattr(img, "quantization", None) or {}
        if len(tables) >= 2:  # a grey JPEG's single table cannot serve the colour JPEG written back
            options["qtables"] = [list(table) for _, table in sorted(tables.items())]
        sampling = JpegImagePlugin.get_sampling(img)
        if sampling != -1:
            options["subsampling"] = sampling
        if img.info.get("progressive") or img.info.get("progression"):
            options["progressive"] = True
    if fmt == "TIFF" and img.info.get("compression") in _LOSSLESS_TIFF:
        options["compression"] = img.info["compression"]
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
    """Any image as a mask -> bool [H, W], True = hole.

    A pixel is a hole when any of its channels is above 127. When the file has transparency, transparent
    pixels are never holes, and opaque ones are holes unless they mix dark and light pixels (then the light
    ones are): strokes of any one colour on a transparent layer, and black-and-white masks with or without
    transparency, all read as meant. ``size`` (width, height) fits a mask of another size to the photo, with a
    warning: shrinking keeps every pixel that covers any hole, enlarging repeats pixels.
    """
    loaded = read_image(path)
    bright = loaded.rgb.max(axis=2) > 127
    if loaded.alpha is None:
        hole = bright
    else:
        opaque = loaded.alpha > 127
        mixed = bright[opaque].any() and not bright[opaque].all()
        hole = opaque & bright if mixed else opaque
    if size is None or (hole.shape[1], hole.shape[0]) == tuple(size):
        return hole
    width, height = size
    turned = " (the photo's size turned 90 degrees: was one of them rotated by its EXIF orientation?)" \
        if (hole.shape[0], hole.shape[1]) == (width, height) else ""
    warnings.warn(f"mask {path} is {hole.shape[1]}x{hole.shape[0]}, the photo {width}x{height}: the mask was "
                  f"resized to fit{turned}", stacklevel=2)
    if width <= hole.shape[1] and height <= hole.shape[0]:
        # A photo pixel is a hole if any mask pixel under it is, so thin strokes survive the shrinking.
        return cv2.resize(hole.astype(np.float32), (width, height), interpolation=cv2.INTER_AREA) > 0
    return cv2.resize(hole.astype(np.uint8), (width, height), interpolation=cv2.INTER_NEAREST) > 0


# -- writing ---------------------------------------------------------------------------------------------------
def _pil_image(rgb: np.ndarray, alpha: np.ndarray | None, fmt: str) -> Image.Image:
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"write_image needs uint8 HxWx3 RGB, got {rgb.dtype} {rgb.shape}")
    if alpha is None:
        return Image.fromarray(np.ascontiguousarray(rgb), "RGB")
    alpha = np.asarray(alpha)
    if alpha.dtype != np.uint8 or alpha.shape != rgb.shape[:2]:
        raise ValueError(f"the alpha must be uint8 {rgb.shape[:2]}, got {alpha.dtype} {alpha.shape}")
    if fmt in _ALPHA_FORMATS:
        return Image.fromarray(np.dstack([rgb, alpha]), "RGBA")
    weight = alpha[..., None].astype(np.float32) / 255.0
    over_white = np.round(rgb * weight + 255.0 * (1.0 - weight)).astype(np.uint8)
    return Image.fromarray(over_white, "RGB")


def _write_options(fmt: str, like: LoadedImage | None, quality: int | None,
                   compress_level: int | None) -> dict[str, Any]:
    source = like.save_options if like is not None else {}
    same_format = like is not None and like.format == fmt
    options: dict[str, Any] = {}
    for key, formats in (("icc_profile", _ICC_FORMATS), ("exif", _EXIF_FORMATS), ("dpi", _DPI_FORMATS)):
        if key in source and fmt in formats:
            options[key] = source[key]
    if fmt == "JPEG":
        if same_format:
            options.update({k: source[k] for k in ("subsampling", "progressive") if k in source})
        if quality is not None or not (same_format and "qtables" in source):
            options["quality"] = quality or source.get("quality", 95)
        else:
            options["qtables"] = source["qtables"]  # the original's own tables: the same quality, exactly
    elif fmt == "WEBP":
        options["quality"] = quality or source.get("quality", 95)
    elif fmt == "TIFF" and same_format and "compression" in source:
        options["compression"] = source["compression"]
        if source["compression"] != "raw" and "exif" in options:
            options["exif"] = _without_sub_ifds(options["exif"])
    elif fmt == "PNG" and compress_level is not None:
        options["compress_level"] = compress_level
    return options


def _without_sub_ifds(exif_bytes: bytes) -> bytes:
    """libtiff, which writes compressed TIFFs, cannot write the EXIF and GPS sub-IFDs: keep the main IFD's
    tags (camera, date, author, copyright) rather than lose the compression or the whole EXIF."""
    exif = Image.Exif()
    exif.load(exif_bytes)
    for pointer in (0x8769, 0x8825, 0xA005):  # Exif IFD, GPS IFD, interoperability IFD
        exif.pop(pointer, None)
    return exif.tobytes()


def write_image(path: str | os.PathLike, rgb: np.ndarray, *, alpha: np.ndarray | None = None,
                like: LoadedImage | None = None, quality: int | None = None,
                compress_level: int | None = None) -> Path:
    """Write atomically in the format the suffix names, with the options of ``like`` (the photo as read).

    ``quality`` (JPEG, WebP) overrides the original's; ``compress_level`` (PNG, 0-9) trades size for speed.
    Raises ImageWriteError, leaving any existing file at ``path`` untouched.
    """
    path = Path(path)
    fmt = FORMATS_BY_SUFFIX.get(path.suffix.lower())
    if fmt is None:
        raise ImageWriteError(f"{path}: unknown image type {path.suffix!r}; use .png, .jpg, .webp, .tif or .bmp")
    img = _pil_image(rgb, alpha, fmt)
    options = _write_options(fmt, like, quality, compress_level)
    write_atomically(path, lambda f: img.save(f, format=fmt, **options))
    return path


def write_mask(path: str | os.PathLike, mask: np.ndarray) -> Path:
    """A bool mask as a 1-bit PNG, white = hole: small and quick to write, and ``read_mask`` reads it back."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ImageWriteError(f"{path}: masks are written as .png")
    img = Image.fromarray(np.asarray(mask, dtype=bool))
    write_atomically(path, lambda f: img.save(f, format="PNG", compress_level=1))
    return path


def write_atomically(path: Path, save: Callable[[BinaryIO], None]) -> None:
    """``atomic.atomic_write`` for image files and the editor's other files that must survive a crash (such as
    its recovery manifest): every failure, the encoders' included, as one ImageWriteError."""
    try:
        atomic_write(path, save)
    except (OSError, ValueError, RuntimeError) as exc:  # RuntimeError: libtiff's encoder
        raise ImageWriteError(f"{path}: could not be written ({exc})") from exc
