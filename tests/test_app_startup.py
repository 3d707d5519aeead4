"""The editor's rule for the engine: nothing imported at start-up (on the UI thread) imports torch.

The app uses torch-free engine modules directly (image files, source heat maps, flow legend, regions) and
loads ``Inpainter``, and with it torch (~2 s), in the fill worker's thread, so the window opens at once.
"""
from __future__ import annotations

import os
import subprocess
import sys

from .conftest import REPO

IMPORT_EVERYTHING_THE_EDITOR_HAS = """
import importlib, pkgutil, sys
import app, main  # main.py: the editor's entry point
for module in pkgutil.walk_packages(app.__path__, "app."):
    importlib.import_module(module.name)
engine = sorted(name for name in sys.modules if name.startswith("inpaint_core"))
print("torch" in sys.modules, " ".join(engine))
"""


def test_the_editor_imports_no_torch_at_start_up() -> None:
    proc = subprocess.run([sys.executable, "-c", IMPORT_EVERYTHING_THE_EDITOR_HAS], cwd=REPO, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert proc.returncode == 0, proc.stderr
    torch_loaded, *engine_modules = proc.stdout.split()
    assert "inpaint_core.imageio" in engine_modules  # the check sees the engine modules the editor uses...
    assert torch_loaded == "False", f"torch was imported with {engine_modules}"  # ...and none brings torch
