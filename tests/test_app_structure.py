"""The editor's shape: one engine interface for the real engine and the tests' stand-in, no import cycles, modules
of a readable size, and no torch on the UI thread at start-up."""
from __future__ import annotations

import ast
import inspect
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from app.fill_worker import Engine
from inpaint_core.imageio import write_image

from .app_helpers import FakeEngine
from .conftest import REPO

APP = REPO / "app"
MAX_LINES = 400


def _shape(function) -> list[tuple[str, inspect._ParameterKind, object]]:
    """Parameter names, kinds and defaults, without self (annotations are strings and may be spelt differently)."""
    return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values() if p.name != "self"]


def test_the_real_engine_and_the_stand_in_have_the_interface_the_worker_calls():
    from inpaint_core.pipeline import Inpainter

    for engine in (Inpainter, FakeEngine):
        assert issubclass(engine, Engine), engine
        assert _shape(engine.fill) == _shape(Engine.fill), engine
        assert _shape(engine.vary) == _shape(Engine.vary), engine


def _app_imports(path: Path) -> set[str]:
    """The app modules a module imports, TYPE_CHECKING blocks included (a cycle there is still a cycle to read)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            names.update([node.module] if node.module else [alias.name for alias in node.names])
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("app."):
            names.add(node.module.removeprefix("app."))
        elif isinstance(node, ast.Import):
            names.update(a.name.removeprefix("app.") for a in node.names if a.name.startswith("app."))
    return {name.split(".")[0] for name in names}


def test_app_modules_import_each_other_without_cycles():
    graph = {path.stem: _app_imports(path) for path in APP.glob("*.py")}
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        assert module not in path, "import cycle: " + " -> ".join(path[path.index(module):] + [module])
        if module in done:
            return
        for imported in graph.get(module, ()):
            visit(imported, path + [module])
        done.add(module)

    for module in graph:
        visit(module, [])


def test_no_app_module_is_longer_than_a_reader_can_hold():
    lengths = {path.name: len(path.read_text(encoding="utf-8").splitlines()) for path in APP.glob("*.py")}
    assert {name: n for name, n in lengths.items() if n > MAX_LINES} == {}


STARTUP = """
import sys, threading
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
from app.main_window import MainWindow
app = QApplication([])
never = threading.Event()
def factory(settings):
    never.wait()  # stands in for a model that is still loading
window = MainWindow(settings=QSettings(sys.argv[1], QSettings.Format.IniFormat), engine_factory=factory)
window.show()
window.files.open_path(sys.argv[2])
for _ in range(20):
    app.processEvents()
print("torch" in sys.modules)
never.set()
window.worker.shutdown()
"""


def test_the_window_starts_and_opens_a_photo_without_importing_torch(tmp_path):
    photo = write_image(tmp_path / "p.png", np.zeros((16, 16, 3), np.uint8))
    proc = subprocess.run([sys.executable, "-c", STARTUP, str(tmp_path / "s.ini"), str(photo)], cwd=REPO,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "False"
