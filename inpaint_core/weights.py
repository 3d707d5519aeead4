"""Generator weights on disk: safetensors plus a JSON model card in the file's metadata.

safetensors holds nothing but tensors, so loading a file from anywhere cannot run code (unlike pickle).
The model card says where the weights come from and how to feed them (notably the input channel order:
the official TensorFlow weights were trained on OpenCV's BGR images).
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from safetensors import SafetensorError

from .atomic import atomic_write

if TYPE_CHECKING:  # torch is imported where tensors are handled, so the editor can import errors cheaply
    import torch

CARD_KEY = "model_card"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WEIGHTS = PROJECT_ROOT / "weights" / "deepfill_v1_default.safetensors"
DEFAULT_SHA256_FILE = DEFAULT_WEIGHTS.with_suffix(".sha256")

HOW_TO_GET_WEIGHTS = (
    "Use the weights shipped in weights/ (reinstall or `git checkout weights/` if they were removed), train your own "
    "with `python -m inpaint_core train`, or convert an official DeepFill v1 TensorFlow checkpoint with "
    "`python -m inpaint_core convert --tf-checkpoint DIR --out FILE.safetensors` and pass --weights FILE."
)


class WeightsError(RuntimeError):
    """Weights are missing, unreadable, corrupt or do not fit the model; the message says what to do."""


@dataclass
class ModelCard:
    """What a user needs to know about a weights file."""

    name: str
    channel_order: str = "RGB"  # what the network's first conv expects: "RGB" or "BGR"
    source: str = ""
    training: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    notes: str = ""

    def to_json(self) -> str:
        return json.dumps(self.__dict__, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "ModelCard":
        data = json.loads(text)
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        card = cls(**known)
        if card.channel_order not in ("RGB", "BGR"):
            raise WeightsError(f"model card has an unknown channel order {card.channel_order!r}")
        return card


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_weights(path: str | os.PathLike, state_dict: dict[str, torch.Tensor], card: ModelCard,
                 dtype: torch.dtype | None = None) -> Path:
    """Write tensors + card atomically (``atomic.atomic_write``). ``dtype`` casts floats (e.g. fp16 to ship)."""
    from safetensors.torch import save

    tensors = {}
    for key, value in state_dict.items():
        value = value.detach().to("cpu")
        if dtype is not None and value.is_floating_point():
            value = value.to(dtype)
        tensors[key] = value.contiguous()
    data = save(tensors, metadata={CARD_KEY: card.to_json()})
    return atomic_write(path, lambda f: f.write(data))


def read_card(path: str | os.PathLike) -> ModelCard:
    """The model card alone, without reading the tensors."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as fh:
            meta = fh.metadata() or {}
    except (SafetensorError, OSError, ValueError) as exc:
        raise WeightsError(f"{path}: not a readable safetensors file ({exc}). {HOW_TO_GET_WEIGHTS}") from exc
    if CARD_KEY not in meta:
        raise WeightsError(f"{path}: no model card in the file's metadata, so its channel order is unknown")
    return ModelCard.from_json(meta[CARD_KEY])


def load_weights(path: str | os.PathLike, expected_sha256: str | None = None
                 ) -> tuple[dict[str, torch.Tensor], ModelCard]:
    """Tensors (as float32) and card. Raises WeightsError with a user-facing message on any problem."""
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"No weights file at {path}. {HOW_TO_GET_WEIGHTS}")
    if expected_sha256 is not None:
        actual = sha256_of(path)
        if actual != expected_sha256:
            raise WeightsError(
                f"{path} is corrupt or was replaced: its sha256 is {actual[:12]}..., "
                f"expected {expected_sha256[:12]}... {HOW_TO_GET_WEIGHTS}")
    card = read_card(path)
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise WeightsError(f"{path}: cannot read the tensors ({exc}). {HOW_TO_GET_WEIGHTS}") from exc
    return {k: v.float() for k, v in tensors.items()}, card


def default_weights() -> tuple[Path, str | None]:
    """Path of the shipped weights and the sha256 recorded beside them (None if no record)."""
    sha = DEFAULT_SHA256_FILE.read_text().split()[0] if DEFAULT_SHA256_FILE.is_file() else None
    return DEFAULT_WEIGHTS, sha


def load_generator_state(generator: torch.nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    """Strict load that names every missing, unexpected or mis-shaped tensor."""
    expected = generator.state_dict()
    problems = [f"missing {k}" for k in expected if k not in state]
    problems += [f"unexpected {k}" for k in state if k not in expected]
    problems += [f"{k}: shape {tuple(state[k].shape)}, model needs {tuple(v.shape)}"
                 for k, v in expected.items() if k in state and state[k].shape != v.shape]
    if problems:
        shown = "; ".join(problems[:8]) + (f"; and {len(problems) - 8} more" if len(problems) > 8 else "")
        raise WeightsError(f"{source} does not fit the DeepFill v1 generator: {shown}")
    generator.load_state_dict(state, strict=True)
