"""File names, dialog filters and the recent-files list: the editor's rules for where photos are read and written."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

from inpaint_core.imageio import FORMATS_BY_SUFFIX

OPEN_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff);;All files (*)"
MASK_FILTER = "PNG image (*.png)"
# Formats offered for saving, with the suffix used when a name has none; the photo's own format is added if missing.
_SAVE_FORMATS = {
    "PNG": ("PNG image", (".png",)),
    "JPEG": ("JPEG image", (".jpg", ".jpeg")),
    "WEBP": ("WebP image", (".webp",)),
    "TIFF": ("TIFF image", (".tif", ".tiff")),
    "BMP": ("BMP image", (".bmp",)),
}
_OFFERED = ("PNG", "JPEG", "WEBP")
MAX_RECENT = 8


def _filter(fmt: str) -> str:
    label, suffixes = _SAVE_FORMATS[fmt]
    return f"{label} ({' '.join('*' + s for s in suffixes)})"


def save_filters(photo_format: str) -> tuple[str, str]:
    """(filters for a save dialog, the one to preselect): the photo's own format comes first and is preselected,
    so saving never switches format unless the user picks another."""
    own = photo_format if photo_format in _SAVE_FORMATS else "PNG"
    formats = [own] + [f for f in _OFFERED if f != own]
    return ";;".join(_filter(f) for f in formats), _filter(own)


def default_save_name(original: Path, photo_format: str) -> Path:
    """``<stem>_filled.<ext>`` next to the original, in the original's format (PNG if it cannot be written back)."""
    suffix = original.suffix if FORMATS_BY_SUFFIX.get(original.suffix.lower()) in _SAVE_FORMATS else ""
    if not suffix:
        suffix = _SAVE_FORMATS.get(photo_format, _SAVE_FORMATS["PNG"])[1][0]
    return original.with_name(f"{original.stem}_filled{suffix}")


def default_mask_name(original: Path) -> Path:
    return original.with_name(f"{original.stem}_mask.png")


def exclude_mask_name(mask: Path) -> Path:
    """Where an exported mask's exclude area goes: ``<mask stem>_exclude.png`` beside it."""
    return mask.with_name(f"{mask.stem}_exclude.png")


def resolve_save_path(chosen: str, selected_filter: str) -> Path:
    """The dialog's answer as a path with an image suffix: a name typed without one gets the selected filter's."""
    path = Path(chosen)
    if path.suffix.lower() in FORMATS_BY_SUFFIX:
        return path
    for fmt in _SAVE_FORMATS:
        if selected_filter == _filter(fmt):
            return path.with_name(path.name + _SAVE_FORMATS[fmt][1][0])
    return path.with_name(path.name + ".png")


class RecentFiles:
    """The most recently opened or saved photos, newest first, kept in QSettings."""

    KEY = "files/recent"

    def __init__(self, settings: QSettings) -> None:
        self._settings = settings

    def paths(self) -> list[str]:
        value = self._settings.value(self.KEY, [])
        if isinstance(value, str):  # QSettings gives back a one-element list as a plain string
            value = [value]
        return [str(v) for v in value or []]

    def add(self, path: Path | str) -> None:
        path = str(Path(path).resolve())
        self._store([path] + [p for p in self.paths() if p != path])

    def remove(self, path: Path | str) -> None:
        path = str(Path(path).resolve())
        self._store([p for p in self.paths() if p != path])

    def clear(self) -> None:
        self._store([])

    def _store(self, paths: list[str]) -> None:
        self._settings.setValue(self.KEY, paths[:MAX_RECENT])
