"""Inpaint Studio's engine: DeepFill v1 (Yu et al., CVPR 2018) in PyTorch, without Qt.

The public API is ``Inpainter`` and its result types; see ``pipeline.py``. Names are imported on first use
(PEP 562), so ``from inpaint_core.imageio import read_image`` does not pay for importing torch.
"""
from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "ImageReadError": "imageio", "ImageWriteError": "imageio", "LoadedImage": "imageio", "read_image": "imageio",
    "read_mask": "imageio", "write_image": "imageio",
    "FillCancelled": "pipeline", "InpaintInputError": "pipeline", "InpaintResult": "pipeline",
    "Inpainter": "pipeline", "RegionResult": "pipeline",
    "Strategy": "regions",
    "ModelCard": "weights", "WeightsError": "weights",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'inpaint_core' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value
