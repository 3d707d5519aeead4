"""Training checkpoints: one torch file per run directory, written atomically, read without pickled code.

Checkpoints are our own files, but they are still read with ``weights_only=True``: every value in them is a
tensor or a plain Python container/number/string, so nothing in a file can run code when loaded.
"""
from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..atomic import atomic_write

CHECKPOINT_NAME = "checkpoint.pt"


class TrainingCheckpointError(ValueError):
    """No training checkpoint where one was expected, or the file is not one; the message names the path.
    (Official TensorFlow checkpoints raise ``tf_checkpoint.TFCheckpointError``.)"""


def checkpoint_path(run_dir: str | os.PathLike) -> Path:
    return Path(run_dir) / CHECKPOINT_NAME


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> Path:
    """Written atomically (``atomic.atomic_write``): a crash never leaves a half-written checkpoint."""
    return atomic_write(path, lambda f: torch.save(state, f))


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """The checkpoint's contents, tensors on the CPU."""
    path = Path(path)
    if not path.is_file():
        raise TrainingCheckpointError(f"no checkpoint at {path}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, OSError, EOFError, ValueError) as exc:
        raise TrainingCheckpointError(f"{path}: not a readable training checkpoint ({exc})") from None


def rng_state() -> dict[str, Any]:
    """The global random generators (Python, NumPy, torch CPU and CUDA) as weights_only-loadable values."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    return {
        "python": random.getstate(),
        "numpy": (kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def restore_rng_state(state: dict[str, Any]) -> None:
    random.setstate((state["python"][0], tuple(state["python"][1]), state["python"][2]))
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
