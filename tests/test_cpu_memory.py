"""The engine keeps memory it frees during a fill for its next layers and hands it all back afterwards."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from inpaint_core import cpu

pytestmark = pytest.mark.skipif(cpu._LIBC is None or not Path("/proc/self/statm").exists(),
                                reason="the allocator settings are for glibc on Linux")


def resident_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * 4096 / 2**20


def test_memory_freed_inside_is_kept_until_the_end_then_handed_back():
    before = resident_mb()
    with cpu.reuse_freed_memory():
        with cpu.reuse_freed_memory():  # nested blocks share the setting: leaving this one keeps it
            blocks = [torch.ones(4 * 2**20) for _ in range(16)]  # 256 MB in 16 MB tensors
            del blocks
        held = resident_mb()
    after = resident_mb()
    assert held - before > 200  # freed, but kept for the next allocations
    assert after - before < 50  # handed back when the outer block ends
