"""Autosave of the open photo's unsaved work, and its recovery after a crash.

While a photo is open, ``Autosave`` writes what a crash would lose 30 s after the last edit (and at least every
2 minutes while the edits go on) into a folder of its own under AppDataLocation/recovery/: the rectangle of the
photo that fills changed since it was opened, the painted rectangles of the hole and exclude masks, and a JSON
manifest naming the source photo. The UI thread only copies those rectangles; encoding and writing run on a
background thread. Every write uses new file names and replaces the manifest last, atomically, so a crash in the
middle of a write leaves the previous state whole. A clean save, close or quit removes the data.

Each folder holds a QLockFile while its editor runs; the kernel drops the lock when a process dies, so at
start-up ``pending_recoveries`` finds exactly the folders whose editor crashed (recovery_dialog.py offers Recover /
Discard for the newest). ``apply_recovery`` applies the saved rectangles to the reopened photo as one undoable edit.
No widgets here: this module is storage only.
"""
from __future__ import annotations

import json
import re
import secrets
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

import numpy as np
from PySide6.QtCore import QLockFile, QMetaObject, QObject, QRect, QStandardPaths, QTimer, Signal

from inpaint_core.imageio import ImageReadError, read_image, read_mask, write_atomically, write_image, write_mask

from .document import Document, PatchCommand
from .patches import diff_patch

DELAY_MS = 30_000        # after the last edit
MAX_DELAY_MS = 120_000   # at the latest after the first unsaved edit, however long the editing goes on
MANIFEST = "recovery.json"
LOCK = "owner.lock"      # QLockFile also makes "owner.lock.rmlock" while it clears a stale lock
VERSION = 1
LAYERS = ("image", "mask", "exclude")

Box = tuple[int, int, int, int]  # x0, y0, x1, y1, end-exclusive


def default_root() -> Path:
    return Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)) / "recovery"


class RecoveryError(ValueError):
    """Recovery data that cannot be used; the message says why."""


@dataclass(frozen=True)
class Crop:
    """A rectangle of one layer: its top-left corner in the photo and its pixels."""

    x: int
    y: int
    pixels: np.ndarray


def _lock(folder: Path) -> QLockFile:
    lock = QLockFile(str(folder / LOCK))
    lock.setStaleLockTime(0)  # stale only when its process is gone, never because it is old
    return lock


class RecoveryFolder:
    """One document's recovery files and the lock that says its editor is running. Its writes run on the
    autosave thread, one at a time."""

    def __init__(self, path: Path, lock: QLockFile) -> None:
        self.path = path
        self._lock = lock
        self._entries: dict[str, dict[str, Any]] = {}  # layer -> {"file", "x", "y"} of the manifest

    @classmethod
    def create(cls, root: Path, source: Path) -> RecoveryFolder:
        """A new locked folder named after the photo (raises OSError)."""
        stem = re.sub(r"[^A-Za-z0-9_-]+", "_", source.stem)[:40] or "photo"
        root.mkdir(parents=True, exist_ok=True)
        while True:
            path = root / f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
            try:
                path.mkdir()
                break
            except FileExistsError:
                continue
        lock = _lock(path)
        if not lock.tryLock(0):
            raise OSError(f"{path}: cannot lock the new recovery folder ({lock.error()})")
        return cls(path, lock)

    def write(self, source: Path, size: tuple[int, int], crops: dict[str, Crop]) -> None:
        """Write the given layers under new names, then the manifest naming them, then drop the files the
        manifest no longer names. Layers not given keep their files from the last write."""
        entries = dict(self._entries)
        for layer, crop in crops.items():
            name = f"{layer}-{secrets.token_hex(4)}.png"
            if layer == "image":
                write_image(self.path / name, crop.pixels, compress_level=1)  # speed over size
            else:
                write_mask(self.path / name, crop.pixels)
            entries[layer] = {"file": name, "x": crop.x, "y": crop.y}
        manifest = {"version": VERSION, "source": str(source), "width": size[0], "height": size[1],
                    "saved_at": time.time(), "layers": entries}
        write_atomically(self.path / MANIFEST, lambda f: f.write(json.dumps(manifest, indent=1).encode()))
        self._entries = entries
        self._remove_files(keep={MANIFEST, *(entry["file"] for entry in entries.values())})

    def clear(self) -> None:
        """Remove the data but keep the folder and its lock (after a clean save)."""
        self._entries = {}
        self._remove_files(keep=set())

    def remove(self) -> None:
        """Remove the folder and release its lock."""
        self.clear()
        self._lock.unlock()
        for leftover in self.path.iterdir():  # a lock QLockFile was still clearing, at worst
            leftover.unlink(missing_ok=True)
        self.path.rmdir()

    def release(self) -> None:
        """Release the lock and leave the data, to be offered at a later start."""
        self._lock.unlock()

    def _remove_files(self, keep: set[str]) -> None:
        for path in self.path.iterdir():
            if path.name not in keep and not path.name.startswith(LOCK):
                path.unlink(missing_ok=True)


@dataclass
class Recovery:
    """The unsaved work an editor left behind when it crashed."""

    folder: RecoveryFolder
    source: Path
    size: tuple[int, int]
    saved_at: float
    layers: dict[str, dict[str, Any]]

    def describe(self) -> str:
        parts = {"image": "fills", "mask": "the painted hole", "exclude": "the exclude area"}
        what = [parts[layer] for layer in LAYERS if layer in self.layers] or ["edits"]
        when = datetime.fromtimestamp(self.saved_at).strftime("%Y-%m-%d %H:%M")
        return (f"Inpaint Studio did not close properly. Unsaved work on {self.source.name} ({' and '.join(what)}, "
                f"autosaved {when}) can be recovered.\n\nRecover opens {self.source} with that work; Discard "
                "deletes it.")

    def load(self) -> dict[str, Crop]:
        """The saved rectangles, checked against the photo's size. Raises RecoveryError."""
        width, height = self.size
        crops = {}
        for layer, entry in self.layers.items():
            path = self.folder.path / entry["file"]
            try:
                pixels = read_image(path).rgb if layer == "image" else read_mask(path)
            except ImageReadError as exc:
                raise RecoveryError(str(exc)) from None
            x, y = entry["x"], entry["y"]
            if x < 0 or y < 0 or x + pixels.shape[1] > width or y + pixels.shape[0] > height:
                raise RecoveryError(f"{path}: lies outside the {width}x{height} photo")
            crops[layer] = Crop(x, y, pixels)
        return crops


def _read_manifest(folder: RecoveryFolder) -> Recovery:
    """Raises FileNotFoundError when there is none, ValueError when it is damaged."""
    manifest = json.loads((folder.path / MANIFEST).read_text(encoding="utf-8"))
    try:
        layers = {layer: {"file": str(e["file"]), "x": int(e["x"]), "y": int(e["y"])}
                  for layer, e in manifest["layers"].items() if layer in LAYERS}
        if manifest["version"] != VERSION:
            raise ValueError(f"recovery data version {manifest['version']}")
        return Recovery(folder, Path(manifest["source"]), (int(manifest["width"]), int(manifest["height"])),
                        float(manifest["saved_at"]), layers)
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"damaged manifest ({exc!r})") from None


def pending_recoveries(root: Path) -> list[Recovery]:
    """Work left by editors that crashed, newest first. Each returned folder is locked by this process:
    ``recover`` it, ``remove()`` it or ``release()`` it. Folders of running editors are skipped; a crashed
    editor's folder without a manifest (it crashed before its first autosave) is removed."""
    try:
        paths = sorted(p for p in root.iterdir() if p.is_dir())
    except OSError:  # no recovery folder yet, or one that cannot be read: nothing to offer
        return []
    found = []
    for path in paths:
        lock = _lock(path)
        if not lock.tryLock(0):
            continue
        folder = RecoveryFolder(path, lock)
        try:
            found.append(_read_manifest(folder))
            continue
        except FileNotFoundError:
            try:
                folder.remove()
                continue
            except OSError:
                pass
        except (OSError, ValueError):
            pass
        folder.release()  # damaged or stuck: left for a person to look at, never deleted unread
    return sorted(found, key=lambda r: r.saved_at, reverse=True)


class Autosave(QObject):
    """Writes the tracked document's unsaved work in the background, some time after each edit."""

    failed = Signal(str)  # a write failed: the message, for the status bar

    def __init__(self, root: Path | None = None, delay_ms: int = DELAY_MS, max_delay_ms: int = MAX_DELAY_MS,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._root = root
        self._delay_ms, self._max_delay_ms = delay_ms, max_delay_ms
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.save_now)
        self._document: Document | None = None
        self._connections: list[QMetaObject.Connection] = []
        self._folder: RecoveryFolder | None = None
        self._boxes: dict[str, Box] = {}  # per layer: everything changed since the photo was opened
        self._dirty: set[str] = set()     # layers changed since the last write
        self._dirty_since: float | None = None
        self._executor: ThreadPoolExecutor | None = None

    @property
    def folder(self) -> Path | None:
        """Where the tracked document's data goes (None until the first write)."""
        return self._folder.path if self._folder is not None else None

    def track(self, document: Document | None, folder: RecoveryFolder | None = None) -> None:
        """Follow ``document`` from now on, writing into ``folder`` if given (a recovered one). The previous
        document's data is removed: the window only switches photos once their changes were saved or dropped."""
        self._timer.stop()
        self._dirty_since = None
        for connection in self._connections:
            QObject.disconnect(connection)
        self._connections = []
        if self._folder is not None and self._folder is not folder:
            self._submit(self._folder.remove)
        self._document, self._folder = document, folder
        self._boxes, self._dirty = {}, set()
        if document is not None:
            self._connections = [document.imageChanged.connect(lambda rect: self._changed("image", rect)),
                                 document.maskChanged.connect(self._changed)]

    def discard(self) -> None:
        """After a clean save: nothing needs recovering until the next edit, which writes every layer anew."""
        self._timer.stop()
        self._dirty_since = None
        self._dirty = set(self._boxes)
        if self._folder is not None:
            self._submit(self._folder.clear)

    def save_now(self) -> None:
        """Copy the changed rectangles (UI thread, fast) and write them on the autosave thread."""
        self._timer.stop()
        self._dirty_since = None
        document = self._document
        if document is None or document.loaded.path is None or not self._dirty:
            return  # a photo that came from no file has nothing to be recovered from
        crops = {}
        for layer in self._dirty:
            x0, y0, x1, y1 = self._boxes[layer]
            crops[layer] = Crop(x0, y0, document.layer(layer)[y0:y1, x0:x1].copy())
        if self._folder is None:
            try:
                self._folder = RecoveryFolder.create(self._root or default_root(), document.loaded.path)
            except OSError as exc:
                self.failed.emit(f"Autosave failed: {exc}")
                return
        self._dirty = set()
        self._submit(self._folder.write, document.loaded.path.resolve(), (document.width, document.height), crops)

    def flush(self) -> None:
        """Wait until every write asked for so far is on disk."""
        self._submit(lambda: None).result()

    def close(self) -> None:
        """Remove the data and stop the thread (the window is closing)."""
        self.track(None)
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    def _changed(self, layer: str, rect: QRect) -> None:
        box = (rect.x(), rect.y(), rect.x() + rect.width(), rect.y() + rect.height())
        old = self._boxes.get(layer)
        self._boxes[layer] = box if old is None else (min(old[0], box[0]), min(old[1], box[1]),
                                                      max(old[2], box[2]), max(old[3], box[3]))
        self._dirty.add(layer)
        now = time.monotonic()
        if self._dirty_since is None:
            self._dirty_since = now
        left_ms = self._max_delay_ms - (now - self._dirty_since) * 1000
        self._timer.start(int(max(0.0, min(self._delay_ms, left_ms))))

    def _submit(self, job: Callable[..., None], *args: Any) -> Future:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="autosave")
        return self._executor.submit(self._run, job, *args)

    def _run(self, job: Callable[..., None], *args: Any) -> None:
        try:
            job(*args)
        except OSError as exc:  # ImageWriteError included: a full disk must not take the editor down
            self.failed.emit(f"Autosave failed: {exc}")


def apply_recovery(document: Document, recovery: Recovery, crops: dict[str, Crop], autosave: Autosave) -> None:
    """Apply the saved rectangles (``recovery.load()``) to ``document``, the reopened source photo, as one undoable
    edit, with ``autosave`` taking over the recovery folder first (so the recovered work stays recoverable).
    Raises RecoveryError, changing nothing, when the photo no longer has the size the work was saved at."""
    if (document.width, document.height) != recovery.size:
        raise RecoveryError(f"{recovery.source} is now {document.width}x{document.height}, not "
                            f"{recovery.size[0]}x{recovery.size[1]} as when the work was saved.")
    autosave.track(document, recovery.folder)
    patches = []
    for layer, crop in crops.items():
        height, width = crop.pixels.shape[:2]
        current = document.layer(layer)[crop.y:crop.y + height, crop.x:crop.x + width]
        patch = diff_patch(layer, current, crop.pixels, crop.x, crop.y)
        if patch is not None:
            patches.append(patch)
    if patches:
        document.undo_stack.push(PatchCommand(document, "Recover Unsaved Work", patches))
