"""Device names resolve the same way for fills, the benchmark and training."""
from __future__ import annotations

import pytest
import torch

from inpaint_core.devices import DEVICES, DeviceError, available_devices, resolve_device


def test_names_resolve_to_what_this_machine_has() -> None:
    gpu = torch.cuda.is_available()
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if gpu else "cpu")
    assert available_devices() == (["cpu", "cuda"] if gpu else ["cpu"])
    assert set(available_devices()) < set(DEVICES)
    if gpu:
        assert resolve_device("cuda", 1) == torch.device("cuda", 1)  # a torchrun process's own GPU
    else:
        with pytest.raises(DeviceError, match="no CUDA GPU"):
            resolve_device("cuda")
    with pytest.raises(DeviceError, match="auto, cpu, cuda"):
        resolve_device("gpu")
