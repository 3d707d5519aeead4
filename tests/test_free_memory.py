"""How much memory the engine counts as free before it starts the texture stage (``cpu.available_memory``)."""
from __future__ import annotations

from types import SimpleNamespace

import psutil

from inpaint_core import cpu


def test_free_memory_is_capped_by_a_containers_limit(tmp_path, monkeypatch):
    """In a container limited to 1 GB that uses 0.75 GB, 0.25 GB is free whatever the host has; unlimited
    ("max"), or without a control group, the system's figure stands."""
    monkeypatch.setattr(psutil, "virtual_memory", lambda: SimpleNamespace(available=8 * 2**30))
    monkeypatch.setattr(cpu, "CGROUP", str(tmp_path))
    assert cpu.available_memory() == 8 * 2**30
    (tmp_path / "memory.max").write_text("1073741824\n")
    (tmp_path / "memory.current").write_text("805306368\n")
    assert cpu.available_memory() == 2**28
    (tmp_path / "memory.current").write_text("2147483648\n")  # over its limit (reclaim pending): nothing free
    assert cpu.available_memory() == 0
    (tmp_path / "memory.max").write_text("max\n")
    assert cpu.available_memory() == 8 * 2**30
