"""Where the engine runs: the device names a user chooses from, and what each one is on this machine.

Importing this module does not import torch: the command-line parser and the training config read ``DEVICES``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

DEVICES = ("auto", "cpu", "cuda")  # "auto": a CUDA GPU when PyTorch sees one, else the CPU


class DeviceError(ValueError):
    """The device asked for is not one of ``DEVICES``, or this machine lacks it; the message says which."""


def available_devices() -> list[str]:
    """The concrete devices this machine offers, e.g. ["cpu", "cuda"]."""
    import torch

    return ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]


def resolve_device(name: str, index: int = 0) -> torch.device:
    """The torch device for ``name``; ``index`` picks the GPU (a torchrun process's local rank)."""
    import torch

    if name not in DEVICES:
        raise DeviceError(f"device must be one of {', '.join(DEVICES)}, not {name!r}")
    if name == "cuda" and not torch.cuda.is_available():
        raise DeviceError("device 'cuda' was asked for, but PyTorch sees no CUDA GPU on this machine")
    if name == "cuda" or (name == "auto" and torch.cuda.is_available()):
        return torch.device("cuda", index)
    return torch.device("cpu")
