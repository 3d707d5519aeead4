"""Files that are either old or new, never half-written: the one way the engine and the editor replace a file.

No torch and no image libraries here: images, weights, training checkpoints and the editor's recovery files all
go through ``atomic_write``.
"""
from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path
from typing import BinaryIO, Callable


def atomic_write(path: str | os.PathLike, save: Callable[[BinaryIO], None]) -> Path:
    """Write through ``save`` into a temporary file beside ``path``, flush it to disk, rename it over ``path`` and
    flush the folder: a crash or a full disk leaves either the old file or the new one. Whatever ``save`` raises,
    or OSError, propagates after the temporary file is removed. A replaced file keeps its permissions; a new
    one gets those the umask allows (not mkstemp's 0o600)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp: Path | None = None
    try:
        while tmp is None:
            candidate = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
            try:
                fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
                tmp = candidate
            except FileExistsError:
                continue
        with os.fdopen(fd, "wb") as f:
            save(f)
            f.flush()
            os.fsync(f.fileno())
        if path.exists():
            os.chmod(tmp, stat.S_IMODE(path.stat().st_mode))
        os.replace(tmp, path)
        tmp = None
        _fsync_folder(path.parent)
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
    return path


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX; a no-op where folders cannot be opened)."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass  # some file systems refuse to sync a folder; the file itself is already on disk
