"""Inpaint Studio's engine: DeepFill v1 (Yu et al., CVPR 2018) in PyTorch, without Qt.

The public API is ``Inpainter`` and its result types; see ``pipeline.py``.
"""
from .imageio import ImageReadError, ImageWriteError, LoadedImage, read_image, read_mask, write_image
from .pipeline import FillCancelled, InpaintInputError, InpaintResult, Inpainter, RegionResult
from .regions import Strategy
from .weights import ModelCard, WeightsError

__all__ = [
    "FillCancelled", "ImageReadError", "ImageWriteError", "InpaintInputError", "InpaintResult", "Inpainter",
    "LoadedImage", "ModelCard", "RegionResult", "Strategy", "WeightsError", "read_image", "read_mask",
    "write_image",
]
