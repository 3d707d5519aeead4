"""Official DeepFill v1 TensorFlow checkpoint -> our safetensors weights.

Variables map one to one by name (``inpaint_net/<scope>/kernel|bias``); kernels go from TF's HWIO to PyTorch's
OIHW. The official test script feeds OpenCV's BGR images, so the card records ``channel_order = "BGR"`` and
the pipeline swaps channels at its boundary; the tensors themselves are not altered.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .model.generator import InpaintGenerator
from .tf_checkpoint import read_checkpoint
from .weights import ModelCard, save_weights

GENERATOR_SCOPE = "inpaint_net/"


class ConversionError(ValueError):
    """The checkpoint does not hold the DeepFill v1 generator; the message lists every problem."""


def tf_to_state_dict(variables: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """Map TF variables to the generator's state dict, naming every missing, unexpected or mis-shaped one."""
    generator = InpaintGenerator()
    expected = generator.state_dict()
    mapping = dict(generator.tf_variable_names())  # torch key -> tf name
    tf_names = {tf: key for key, tf in mapping.items()}
    present = {k: v for k, v in variables.items() if k.startswith(GENERATOR_SCOPE)}

    problems = [f"missing variable {tf}" for tf in sorted(tf_names) if tf not in present]
    problems += [f"unexpected variable {name} {list(value.shape)}" for name, value in sorted(present.items())
                 if name not in tf_names]
    state = {}
    for tf_name, key in tf_names.items():
        if tf_name not in present:
            continue
        value = present[tf_name]
        if value.ndim == 4:
            value = value.transpose(3, 2, 0, 1)  # HWIO -> OIHW
        want = tuple(expected[key].shape)
        if value.shape != want:
            hwio = (want[2], want[3], want[1], want[0]) if len(want) == 4 else want
            problems.append(f"variable {tf_name} has shape {list(present[tf_name].shape)}, "
                            f"expected {list(hwio)}")
            continue
        state[key] = torch.from_numpy(np.ascontiguousarray(value, dtype=np.float32))
    if problems:
        raise ConversionError("the checkpoint is not a DeepFill v1 generator:\n  " + "\n  ".join(problems))
    return state


def convert_checkpoint(checkpoint: str | Path, out: str | Path, name: str | None = None) -> Path:
    """Read a TF checkpoint and write safetensors weights with a model card."""
    variables = read_checkpoint(checkpoint)
    state = tf_to_state_dict(variables)
    card = ModelCard(
        name=name or Path(checkpoint).name,
        channel_order="BGR",
        source=f"converted from the TensorFlow checkpoint {Path(checkpoint).name} "
               "(official DeepFill v1 code, JiahuiYu/generative_inpainting v1.0.0 layout)",
        notes="Official DeepFill v1 weights are licensed CC BY-NC 4.0 (non-commercial research use).",
    )
    return save_weights(out, state, card)
