"""Device names resolve the same way for fills, the benchmark and training; "auto" precision follows the
hardware."""
from __future__ import annotations

import pytest
import torch

from inpaint_core import devices
from inpaint_core.devices import (DEVICES, DeviceError, available_devices, cpu_flags, native_bf16,
                                   resolve_device, resolve_precision)


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


@pytest.mark.parametrize("flags, expected", [
    ({"avx2", "avx512f"}, "fp32"),                      # AVX512 without its bf16 extension: bf16 is emulated
    ({"avx2", "avx512f", "avx512_bf16"}, "bf16"),
    ({"avx2", "amx_tile", "amx_bf16"}, "bf16"),
    (set(), "fp32"),                                     # no /proc/cpuinfo (not Linux): nothing known, fp32
])
def test_auto_precision_is_bf16_only_on_cpus_with_native_bf16(monkeypatch, flags, expected) -> None:
    monkeypatch.setattr(devices, "cpu_flags", lambda: frozenset(flags))
    assert resolve_precision("auto", torch.device("cpu")) == expected
    assert resolve_precision("fp32", torch.device("cpu")) == "fp32"
    assert resolve_precision("bf16", torch.device("cpu")) == "bf16"  # asked for: given, native or not


def test_this_machines_cpu_flags_decide_auto_and_bad_names_are_refused(golden_weights) -> None:
    from inpaint_core import Inpainter

    native = bool(cpu_flags() & {"avx512_bf16", "amx_bf16"})
    assert native_bf16(torch.device("cpu")) is native
    assert Inpainter(golden_weights, device="cpu", precision="auto").precision == ("bf16" if native else "fp32")
    assert Inpainter(golden_weights, device="cpu").precision == ("bf16" if native else "fp32")  # the default
    with pytest.raises(ValueError, match="auto, fp32, bf16"):
        resolve_precision("fp16", torch.device("cpu"))
