"""`python -m inpaint_core --help` answers at once: commands load lazily, and torch only when a command runs.

Checked by what a fresh interpreter has imported, not by a stopwatch (this machine's load varies): torch takes
~2 s to import, numpy ~0.2 s; the top-level help imports neither (0.17 s for the whole process, measured).
"""
from __future__ import annotations

import subprocess
import sys

import pytest

from .conftest import REPO


def imported_after(argv: list[str]) -> set[str]:
    """Top-level packages a fresh interpreter has imported after ``python -m inpaint_core ARGV``."""
    code = ("import runpy, sys\n"
            f"sys.argv = ['inpaint_core', *{argv!r}]\n"
            "try:\n"
            "    runpy.run_module('inpaint_core', run_name='__main__')\n"
            "except SystemExit as exc:\n"
            "    assert exc.code == 0, exc.code\n"
            "print(' '.join(sorted({name.split('.')[0] for name in sys.modules})), file=sys.stderr)\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "usage: python -m inpaint_core" in proc.stdout
    return set(proc.stderr.split())


def test_top_level_help_imports_neither_torch_nor_numpy() -> None:
    loaded = imported_after(["--help"])
    assert "inpaint_core" in loaded and not loaded & {"torch", "numpy", "cv2"}


# bench's --mask choices are the benchmark's own masks, defined beside it in bench.py, which imports torch
@pytest.mark.parametrize("command", ["fill", "convert", "train", "eval"])
def test_a_commands_help_imports_no_torch(command: str) -> None:
    assert "torch" not in imported_after([command, "--help"])
