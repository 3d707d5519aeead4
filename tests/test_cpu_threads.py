"""The engine's thread count: the caller's number, else the user's OMP_NUM_THREADS, else the physical cores."""
from __future__ import annotations

import torch

from inpaint_core import cpu


def test_thread_count_follows_the_argument_then_omp_num_threads_then_the_cores(monkeypatch) -> None:
    before = torch.get_num_threads()
    try:
        monkeypatch.setenv("OMP_NUM_THREADS", "1")
        assert cpu.configure_threads() == 1 == torch.get_num_threads()
        assert cpu.configure_threads(2) == 2 == torch.get_num_threads()
        for unusable in ("0", "4,2", ""):
            monkeypatch.setenv("OMP_NUM_THREADS", unusable)
            assert cpu.configure_threads() == cpu.physical_cores()
        monkeypatch.delenv("OMP_NUM_THREADS")
        assert cpu.configure_threads() == cpu.physical_cores()
    finally:
        torch.set_num_threads(before)
