"""The engine keeps memory it frees during a fill for its next layers and hands it all back afterwards."""
from __future__ import annotations

import subprocess
import sys
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


# Run in a fresh interpreter: a fill still running in another thread (an app test's worker) shares its block's
# setting with every block that starts meanwhile, so in this process the limit could be someone else's.
SIZE_LIMIT_CHECK = """
import torch
from inpaint_core import cpu
from tests.test_cpu_memory import resident_mb

before = resident_mb()
with cpu.reuse_freed_memory(up_to=8 * 2**20):
    large = [torch.ones(4 * 2**20) for _ in range(16)]  # 16 MB each, above the limit: mapped afresh
    del large
    after_large = resident_mb()
    small = [torch.ones(2**20) for _ in range(64)]  # 4 MB each: kept for the next allocations
    del small
    after_small = resident_mb()
print(after_large - before, after_small - before, resident_mb() - before)
"""


def test_with_a_size_limit_only_smaller_buffers_are_kept():
    done = subprocess.run([sys.executable, "-c", SIZE_LIMIT_CHECK], capture_output=True, text=True, check=True,
                          timeout=120, cwd=Path(__file__).resolve().parents[1])
    after_large, after_small, after_block = (float(v) for v in done.stdout.split())
    assert after_large < 50
    assert after_small > 200
    assert after_block < 50  # and handed back at the end
