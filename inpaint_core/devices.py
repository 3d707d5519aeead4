"""Where the engine runs: the device names a user chooses from, and what each one is on this machine.

Importing this module does not import torch: the command-line parser and the training config read ``DEVICES``
and ``PRECISIONS``.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

DEVICES = ("auto", "cpu", "cuda")  # "auto": a CUDA GPU when PyTorch sees one, else the CPU
PRECISIONS = ("auto", "fp32", "bf16")  # "auto": bf16 where the device computes it natively, else fp32
# CPU features that make bf16 convolutions faster than fp32 (oneDNN uses them); without them bf16 is emulated
# and slower than fp32.
NATIVE_BF16_CPU_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


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


def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags as Linux reports them (/proc/cpuinfo); empty elsewhere. PyTorch's own
    ``torch.backends.cpu.get_cpu_capability()`` says only "AVX512", which CPUs without bf16 report too."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.partition(":")[2].split())
    return frozenset()


def native_bf16(device: torch.device) -> bool:
    """Whether ``device`` computes bfloat16 in hardware: AVX512-BF16 or AMX on a CPU, compute capability 8.0
    (Ampere) or later on a CUDA GPU (older GPUs emulate it)."""
    import torch

    if device.type == "cuda":
        return torch.cuda.get_device_capability(device) >= (8, 0)
    return bool(cpu_flags() & NATIVE_BF16_CPU_FLAGS)


def resolve_precision(name: str, device: torch.device) -> str:
    """"fp32" or "bf16" for ``name`` (one of ``PRECISIONS``) on ``device``."""
    if name not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {name!r}")
    if name == "auto":
        return "bf16" if native_bf16(device) else "fp32"
    return name
