"""Helpers for the editor's tests: photos, a stand-in engine, recorded message boxes, a window factory, and
mouse gestures sent to the canvas viewport with QTest."""
from __future__ import annotations

import os
import shutil
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PySide6.QtCore import QPoint, QPointF, QSettings, Qt, QTimer  # noqa: E402
from PySide6.QtGui import QWheelEvent  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget  # noqa: E402

from app.canvas import Canvas  # noqa: E402
from app.fill_worker import EngineInfo, EngineSettings  # noqa: E402
from app.main_window import MainWindow  # noqa: E402
from inpaint_core.pipeline import FillCancelled, InpaintResult  # noqa: E402
from inpaint_core.texture import TextureSettings  # noqa: E402
from inpaint_core.texture_stage import TextureJob, TextureSources  # noqa: E402

from .conftest import EVAL_DIR  # noqa: E402

PHOTO = "kodak_0003.jpg"  # every photo in shared/data/eval is 256x256


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    """A 256x256 JPEG copied next to the test's files, so saves beside it stay in tmp_path."""
    if not EVAL_DIR.is_dir():
        pytest.skip("shared/data/eval is not present beside the repo")
    target = tmp_path / PHOTO
    shutil.copyfile(EVAL_DIR / PHOTO, target)
    return target


@dataclass
class Dialogs:
    """QMessageBox's static functions, replaced: calls are recorded and ``answer`` is what question() returns."""

    answer: QMessageBox.StandardButton = QMessageBox.StandardButton.Discard
    calls: list[tuple[str, str, str]] = field(default_factory=list)

    def kinds(self) -> list[str]:
        return [kind for kind, _, _ in self.calls]


@pytest.fixture
def dialogs(monkeypatch: pytest.MonkeyPatch) -> Dialogs:
    record = Dialogs()

    def fake(kind: str):
        def show(parent, title, text, *args, **kwargs):
            record.calls.append((kind, title, text))
            return record.answer if kind == "question" else QMessageBox.StandardButton.Ok
        return show

    for kind in ("question", "critical", "warning", "information", "about"):
        monkeypatch.setattr(QMessageBox, kind, staticmethod(fake(kind)))
    return record


def texture_colour(seed: int) -> tuple[int, int, int]:
    """The colour the stand-in's texture stage paints with ``seed``: another seed, another colour."""
    return (40 * seed % 256, 0, 255)


def texture_source(seed: int) -> tuple[int, int]:
    """(x, y) of the photo pixel every hole pixel of the stand-in's texture stage copies with ``seed``."""
    return 8 + seed, 8


class FakeEngine:
    """Stands in for Inpainter where the model's numbers do not matter: fills the hole with one colour, can wait
    on an event (to test cancel and responsiveness) or raise. With ``texture``, a stand-in texture stage follows:
    the hole painted with ``texture_colour(seed)``, every pixel copied from ``texture_source(seed)``, and
    ``vary`` re-runs only that. With ``texture_skipped``, the stage is asked for but does not run, for that reason
    (as Inpainter does without the memory for it); ``texture_partial`` says it left part of the hole to the network."""

    def __init__(self, colour: tuple[int, int, int] = (0, 255, 0), error: Exception | None = None,
                 texture: bool = False, texture_skipped: str | None = None,
                 texture_partial: str | None = None) -> None:
        self.colour = colour
        self.error = error
        self.texture = texture
        self.texture_skipped = texture_skipped
        self.texture_partial = texture_partial
        self.release = threading.Event()
        self.release.set()
        self.started = threading.Event()
        self.calls = 0
        self.seeds: list[int] = []   # of every texture stage run, fills and variations

    def _wait(self, cancel) -> None:
        self.calls += 1
        self.started.set()
        while not self.release.wait(0.01):
            if cancel is not None and cancel.is_set():
                raise FillCancelled()
        if self.error is not None:
            raise self.error

    def fill(self, image, mask, *, exclude=None, progress=None, cancel=None, seed=None) -> InpaintResult:
        self._wait(cancel)
        if progress is not None:
            progress(0.5, "filling")
        composite = image.copy()
        composite[mask] = self.colour
        region = np.full_like(image, 128)
        result = InpaintResult(composite=composite, box=(0, 0, image.shape[1], image.shape[0]), coarse=region,
                               refined=region, flow_rgb=region, timings={"total": 0.01},
                               texture_skipped=self.texture_skipped)
        if not self.texture or self.texture_skipped is not None:
            return result
        job = TextureJob(photo=image, hole=mask, exclude=exclude, guides=[], settings=TextureSettings())
        return self._textured(result, job, 0 if seed is None else seed)

    def vary(self, result, seed, *, progress=None, cancel=None) -> InpaintResult:
        self._wait(cancel)
        if result.texture_job is None:
            raise ValueError("this fill has no texture stage to vary")
        if progress is not None:
            progress(0.5, "texture")
        return self._textured(result, result.texture_job, seed)

    def _textured(self, result: InpaintResult, job: TextureJob, seed: int) -> InpaintResult:
        self.seeds.append(seed)
        composite = job.photo.copy()
        composite[job.hole] = texture_colour(seed)
        x, y = texture_source(seed)
        sources = TextureSources(result.box, np.where(job.hole, y, -1).astype(np.int32),
                                 np.where(job.hole, x, -1).astype(np.int32))
        flow = np.full_like(job.photo, 200)
        return replace(result, composite=composite, texture=[sources], texture_flow_rgb=flow, seed=seed,
                       texture_job=job, timings={"total": 0.02, "texture": 0.01}, texture_partial=self.texture_partial)


def fake_factory(engine: FakeEngine):
    def factory(settings: EngineSettings):
        return engine, EngineInfo("cpu", "fake engine", "tests", "", ("cpu",))
    return factory


def make_window(qtbot, tmp_path: Path, *, weights: str | None = None, factory=None) -> MainWindow:
    """A shown window with its own settings file, whose engine has finished loading."""
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    kwargs = {"engine_factory": factory} if factory is not None else {}
    window = MainWindow(settings=settings, weights=weights, **kwargs)
    # an unsaved photo would make closing ask a question, after the test's patched message boxes are gone
    qtbot.addWidget(window, before_close_func=lambda w: w.document is not None and w.document.mark_saved())
    window.show()
    qtbot.waitUntil(lambda: window.worker.is_ready or window.worker.error is not None, timeout=60_000)
    return window


def view_point(canvas: Canvas, x: float, y: float) -> QPoint:
    """The viewport point over image coordinate (x, y)."""
    return canvas.mapFromScene(QPointF(x, y))


def drag(canvas: Canvas, points: list[tuple[float, float]], button=Qt.MouseButton.LeftButton,
         modifier=Qt.KeyboardModifier.NoModifier) -> None:
    """Press at the first image point, move through the others, release at the last."""
    viewport = canvas.viewport()
    first = view_point(canvas, *points[0])
    QTest.mouseMove(viewport, first)
    QTest.mousePress(viewport, button, modifier, first)
    for x, y in points[1:]:
        QTest.mouseMove(viewport, view_point(canvas, x, y))
    QTest.mouseRelease(viewport, button, modifier, view_point(canvas, *points[-1]))


def click(canvas: Canvas, x: float, y: float, double: bool = False) -> None:
    viewport = canvas.viewport()
    point = view_point(canvas, x, y)
    if double:
        QTest.mouseDClick(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)
    else:
        QTest.mouseClick(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)


def wheel(viewport: QWidget, at: QPoint, notches: int) -> None:
    """Turn the mouse wheel over a viewport (QTest has no wheel events)."""
    event = QWheelEvent(QPointF(at), QPointF(viewport.mapToGlobal(at)), QPoint(0, 0), QPoint(0, 120 * notches),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(viewport, event)


def wait_for_fill(qtbot, window: MainWindow, timeout_ms: int = 60_000) -> None:
    qtbot.waitUntil(lambda: not window.worker.is_busy, timeout=timeout_ms)


def gaps_while(qtbot, condition, interval_ms: int = 16, timeout_s: float = 60.0) -> list[float]:
    """Run the event loop until ``condition()`` is False, ticking a timer; return the seconds between ticks."""
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(interval_ms)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    try:
        qtbot.waitUntil(lambda: not condition(), timeout=int(timeout_s * 1000))
    finally:
        timer.stop()
    return list(np.diff(ticks))
