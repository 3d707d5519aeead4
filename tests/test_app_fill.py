"""End to end with the real engine (weights converted from the golden checkpoint: random, so fills look like noise,
but every number comes from the model): paint, fill, undo, redo, cancel, and the UI thread staying responsive."""
from __future__ import annotations

import os
import threading

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PySide6.QtCore import QSettings, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QMessageBox  # noqa: E402

from app import launcher  # noqa: E402
from inpaint_core.imageio import read_image  # noqa: E402
from inpaint_core.pipeline import FillCancelled  # noqa: E402

from .app_helpers import (dialogs, drag, fake_factory, gaps_while, make_window, photo,  # noqa: E402,F401
                          wait_for_fill)

MAX_GAP_S = 0.100


@pytest.fixture
def window(qtbot, tmp_path, golden_weights, dialogs, photo):
    window = make_window(qtbot, tmp_path, weights=str(golden_weights))
    assert window.worker.is_ready, window.worker.error
    assert window.files.open_path(photo)
    return window


def paint_hole(window) -> np.ndarray:
    window.canvas.set_brush_size(24)
    drag(window.canvas, [(70, 90), (110, 100), (150, 95), (170, 130)])
    return window.document.mask.copy()


def test_command_line_photo_opens_with_the_weights_loaded(qtbot, tmp_path, golden_weights, photo, dialogs):
    args, _ = launcher.parse_args([str(photo), "--weights", str(golden_weights)])
    window = launcher.create_window(args, QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    assert window.document is not None and window.document.loaded.path == photo
    qtbot.waitUntil(lambda: window.worker.is_ready, timeout=60_000)
    assert window.status.device_label.text() == "CPU" and not window.banner.isVisible()


def test_fill_changes_the_hole_only_then_undo_redo_chain_and_save(qtbot, window, dialogs, photo):
    document = window.document
    original = document.image.copy()
    hole = paint_hole(window)
    assert 1500 < hole.sum() < 10_000
    assert window.fills.start(window.document)
    wait_for_fill(qtbot, window)
    assert dialogs.calls == []
    filled = document.image.copy()
    # the default fill grows the hole by 2 px on this 256 x 256 photo (Fill Settings: Grow mask, Auto)
    grown = cv2.distanceTransform((~hole).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE) <= 2
    assert (filled[hole] != original[hole]).any(axis=1).mean() > 0.5  # the hole changed...
    np.testing.assert_array_equal(filled[~grown], original[~grown])  # ...and nothing beyond its grown edge did
    assert not document.mask.any()  # the mask clears: the result is the new base
    assert document.evidence is not None and all(p.view.has_image() for p in window.panels.values())
    assert window.status.fill_time_label.text().startswith("Fill ")

    window.act["undo"].trigger()
    assert document.image.tobytes() == original.tobytes()
    np.testing.assert_array_equal(document.mask, hole)
    window.act["redo"].trigger()
    assert document.image.tobytes() == filled.tobytes()

    # a second fill builds on the first; undoing it returns to the first fill's bytes
    drag(window.canvas, [(30, 200), (80, 210)])
    assert window.fills.start(window.document)
    wait_for_fill(qtbot, window)
    assert document.image.tobytes() != filled.tobytes()
    window.act["undo"].trigger()
    assert document.image.tobytes() == filled.tobytes()

    # saving (over the original, once agreed) writes the filled photo at the original's size and format
    dialogs.answer = QMessageBox.StandardButton.Save
    assert window.files.save()
    saved = read_image(photo)
    assert saved.size == (256, 256) and saved.format == "JPEG"


class PausingEngine:
    """The real engine, held inside its first progress report until the test lets it go on, so the test can act
    while a fill is certainly under way; records every fraction reported and how the fill ended."""

    def __init__(self, engine) -> None:
        self._engine = engine
        self.first_progress = threading.Event()
        self.go_on = threading.Event()
        self.fractions: list[float] = []
        self.outcome: str | None = None

    def fill(self, image, mask, *, exclude=None, progress=None, cancel=None):
        def report(fraction: float, text: str) -> None:
            self.fractions.append(fraction)
            first = not self.first_progress.is_set()
            self.first_progress.set()  # before the report reaches the window, which may act on it at once
            if progress is not None:
                progress(fraction, text)
            if first:
                self.go_on.wait(30)

        try:
            result = self._engine.fill(image, mask, exclude=exclude, progress=report, cancel=cancel)
        except FillCancelled:
            self.outcome = "cancelled"
            raise
        self.outcome = "completed"
        return result


def test_cancel_during_a_running_fill_stops_the_engine_and_changes_nothing(qtbot, tmp_path, golden_inpainter,
                                                                           dialogs, photo):
    engine = PausingEngine(golden_inpainter)
    window = make_window(qtbot, tmp_path, factory=fake_factory(engine))
    assert window.files.open_path(photo)
    document = window.document
    original = document.image.copy()
    hole = paint_hole(window)
    history = document.undo_stack.count()
    with qtbot.waitSignal(window.worker.progress, timeout=60_000):
        assert window.fills.start(document)
    assert engine.first_progress.is_set() and window.status.progress_bar.isVisible()
    QTest.keyClick(window.canvas, Qt.Key.Key_Escape)  # Cancel Fill's shortcut, while the engine is mid-fill
    engine.go_on.set()
    wait_for_fill(qtbot, window)
    # the engine itself stopped: it raised FillCancelled before reporting the end
    assert engine.outcome == "cancelled" and max(engine.fractions) < 1.0
    assert document.image.tobytes() == original.tobytes()
    np.testing.assert_array_equal(document.mask, hole)
    assert document.undo_stack.count() == history and document.evidence is None
    # and the window is idle again
    assert not window.status.progress_bar.isVisible() and not window.status.cancel_button.isVisible()
    assert window.act["fill"].isEnabled() and not window.act["cancel_fill"].isEnabled()
    assert "cancelled" in window.statusBar().currentMessage()
    assert dialogs.calls == []


def test_the_event_loop_keeps_serving_events_during_a_fill(qtbot, window):
    paint_hole(window)
    assert window.fills.start(window.document)
    gaps = gaps_while(qtbot, lambda: window.worker.is_busy)
    assert window.document.evidence is not None  # the fill really ran to the end
    assert len(gaps) > 10
    assert max(gaps) < MAX_GAP_S, f"longest gap between 16 ms ticks: {max(gaps) * 1000:.0f} ms"
