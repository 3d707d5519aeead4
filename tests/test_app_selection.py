"""Select Object (a box, GrabCut's proposal, clicks that refine it) and the Magic Wand (tolerance, Shift adds, Alt
subtracts), driven with the mouse and the tools' keys on a photo whose objects are known, down to the mask; both
computed on a worker thread, also on a 12 MP photo."""
from __future__ import annotations

import os
import threading
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PySide6.QtCore import QRectF, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QGraphicsRectItem  # noqa: E402

import app.selection_tools as selection_tools  # noqa: E402
from app.canvas_tools import Tool  # noqa: E402
from inpaint_core.imageio import write_image  # noqa: E402

from .app_helpers import FakeEngine, dialogs, drag, fake_factory, make_window, view_point  # noqa: E402,F401

SIZE = 256
DISC = (90, 120, 40)                  # centre x, y and radius of a red disc on a green background
TAIL = (128, 112, 170, 128)           # x0, y0, x1, y1 of a dark green bar sticking out of the disc
SQUARES = ((170, 20, 210, 60), (220, 20, 250, 60), (170, 180, 230, 240))  # blue, apart from each other


def scene(width: int = SIZE, height: int = SIZE, noise: float = 3.0) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The photo and a mask of each of its objects."""
    rng = np.random.default_rng(7)
    scale = width / SIZE
    yy, xx = np.mgrid[:height, :width] / scale
    cx, cy, r = DISC
    parts = {"disc": (xx - cx) ** 2 + (yy - cy) ** 2 < r ** 2}
    x0, y0, x1, y1 = TAIL
    parts["tail"] = (xx >= x0) & (xx < x1) & (yy >= y0) & (yy < y1) & ~parts["disc"]
    for i, (x0, y0, x1, y1) in enumerate(SQUARES):
        parts[f"square{i}"] = (xx >= x0) & (xx < x1) & (yy >= y0) & (yy < y1)
    photo = np.empty((height, width, 3), np.float32)
    photo[:] = (70, 150, 80)
    photo[parts["disc"]] = (205, 50, 60)
    photo[parts["tail"]] = (40, 95, 50)
    for i in range(len(SQUARES)):
        photo[parts[f"square{i}"]] = (30, 60, 200)
    photo += rng.normal(0, noise, photo.shape)
    return np.clip(photo, 0, 255).astype(np.uint8), parts


@pytest.fixture
def objects(tmp_path) -> tuple[object, dict[str, np.ndarray]]:
    photo, parts = scene()
    return write_image(tmp_path / "objects.png", photo), parts


@pytest.fixture
def window(qtbot, tmp_path, dialogs, objects):
    window = make_window(qtbot, tmp_path, factory=fake_factory(FakeEngine()))
    assert window.files.open_path(objects[0])
    window.canvas.setFocus()
    return window


def outlines(canvas) -> list[QRectF]:
    return [item.rect() for item in canvas.scene().items()
            if isinstance(item, QGraphicsRectItem) and item.isVisible()]


def settle(qtbot, window) -> None:
    qtbot.waitUntil(lambda: not window.canvas.selections.busy, timeout=20_000)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return (a & b).sum() / (a | b).sum()


def test_select_object_masks_the_object_in_a_dragged_box_off_the_ui_thread(qtbot, window, objects):
    parts = objects[1]
    document = window.document
    QTest.keyClick(window.canvas, Qt.Key.Key_O)
    assert window.canvas.tool() == Tool.OBJECT and window.act["tool_object"].isChecked()
    drag(window.canvas, [(40, 70), (100, 120), (140, 170)])  # around the disc, not the tail
    assert window.canvas.selections.busy and not document.mask.any()  # GrabCut runs in the background
    settle(qtbot, window)
    assert iou(document.mask, parts["disc"]) > 0.95
    assert not document.mask[:, 141:].any() and not document.mask[:69].any()  # nothing outside the box
    assert document.undo_stack.undoText() == "Select Object"
    # the object's box stays outlined while the tool is current: clicks there refine it
    assert outlines(window.canvas) == [QRectF(40, 70, 100, 100)]
    window.act["tool_brush"].trigger()
    assert outlines(window.canvas) == []
    window.act["tool_object"].trigger()
    assert outlines(window.canvas) == [QRectF(40, 70, 100, 100)]
    window.act["undo"].trigger()
    assert not document.mask.any()

    # Alt takes an object out of the mask
    window.act["redo"].trigger()
    drag(window.canvas, [(165, 15), (215, 65)])
    settle(qtbot, window)
    assert iou(document.mask, parts["disc"] | parts["square0"]) > 0.95
    drag(window.canvas, [(40, 70), (140, 170)], modifier=Qt.KeyboardModifier.AltModifier)
    settle(qtbot, window)
    assert iou(document.mask, parts["square0"]) > 0.95


def test_clicks_refine_the_proposal_and_brush_edits_stay(qtbot, window, objects):
    parts = objects[1]
    document = window.document
    window.act["tool_object"].trigger()
    drag(window.canvas, [(40, 70), (180, 170)])  # the box holds the disc and its dark green tail
    settle(qtbot, window)
    assert document.mask[parts["disc"]].mean() > 0.97 and document.mask[parts["tail"]].mean() > 0.9
    history = document.undo_stack.count()
    # Alt+click on the tail: not part of the object, and the whole tail goes, not just the spot clicked
    QTest.mouseClick(window.canvas.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.AltModifier,
                     view_point(window.canvas, 160, 120))
    settle(qtbot, window)
    assert document.mask[parts["tail"]].mean() < 0.1 and document.mask[parts["disc"]].mean() > 0.97
    assert document.undo_stack.count() == history + 1 and document.undo_stack.undoText() == "Refine Object"
    # erase part of the disc with the eraser; a click that brings back part of the tail keeps the erasure
    window.act["tool_eraser"].trigger()
    window.canvas.set_brush_size(10)
    drag(window.canvas, [(70, 120), (80, 120)])
    erased = parts["disc"] & ~document.mask
    assert erased.sum() > 50
    window.act["tool_object"].trigger()
    QTest.mouseClick(window.canvas.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     view_point(window.canvas, 140, 120))
    settle(qtbot, window)
    assert document.mask[117:123, 137:143].all() and document.mask[parts["tail"]].mean() > 0.3
    assert not document.mask[erased].any() and document.mask[parts["disc"] & ~erased].mean() > 0.97
    window.act["undo"].trigger()
    assert document.mask[parts["tail"]].mean() < 0.1
    # a click outside the box does nothing but say how to use the tool
    before = document.mask.copy()
    QTest.mouseClick(window.canvas.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     view_point(window.canvas, 230, 230))
    settle(qtbot, window)
    np.testing.assert_array_equal(document.mask, before)
    assert "Drag a box" in window.statusBar().currentMessage()


def wand_click(window, x: int, y: int, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    QTest.mouseClick(window.canvas.viewport(), Qt.MouseButton.LeftButton, modifier, view_point(window.canvas, x, y))


def test_the_magic_wand_selects_connected_similar_colour_shift_adds_alt_subtracts(qtbot, window, objects):
    parts = objects[1]
    document = window.document
    QTest.keyClick(window.canvas, Qt.Key.Key_W)
    options = window.tool_options
    assert options.tolerance_spin.isVisible() and not options.brush_spin.isVisible()
    wand_click(window, 190, 40)
    settle(qtbot, window)
    np.testing.assert_array_equal(document.mask, parts["square0"])  # not the same blue of the other squares
    wand_click(window, 200, 210, Qt.KeyboardModifier.ShiftModifier)
    settle(qtbot, window)
    np.testing.assert_array_equal(document.mask, parts["square0"] | parts["square2"])
    wand_click(window, 190, 40, Qt.KeyboardModifier.AltModifier)
    settle(qtbot, window)
    np.testing.assert_array_equal(document.mask, parts["square2"])
    wand_click(window, 235, 40)  # a plain click starts afresh
    settle(qtbot, window)
    np.testing.assert_array_equal(document.mask, parts["square1"])
    window.act["undo"].trigger()
    np.testing.assert_array_equal(document.mask, parts["square2"])
    # with no tolerance the noise splits the square into specks of one exact colour
    options.tolerance_spin.setValue(0)
    assert window.canvas.tolerance() == 0
    wand_click(window, 190, 40)
    settle(qtbot, window)
    assert 0 < document.mask.sum() < 0.05 * parts["square0"].sum()


def test_both_tools_compute_off_the_ui_thread_on_a_12_mp_photo(qtbot, tmp_path, dialogs, monkeypatch):
    photo, parts = scene(4000, 3000, noise=3.0)
    path = tmp_path / "big.jpg"
    cv2.imwrite(str(path), photo[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 98])
    del photo
    threads: dict[str, tuple[bool, float]] = {}  # computation -> (ran on the UI thread, seconds)

    def recorded(name, compute):
        def run(*args):
            started = time.perf_counter()
            result = compute(*args)
            threads[name] = (threading.current_thread() is threading.main_thread(), time.perf_counter() - started)
            return result
        return run

    monkeypatch.setattr(selection_tools, "select_object", recorded("grabcut", selection_tools.select_object))
    monkeypatch.setattr(selection_tools, "similar_region", recorded("flood", selection_tools.similar_region))
    window = make_window(qtbot, tmp_path, factory=fake_factory(FakeEngine()))
    assert window.files.open_path(path)
    document = window.document
    scale = 4000 / SIZE
    window.act["tool_object"].trigger()
    drag(window.canvas, [(40 * scale, 70 * scale), (140 * scale, 170 * scale)])
    assert window.canvas.selections.busy  # the press and release returned before GrabCut did
    settle(qtbot, window)
    assert iou(document.mask, parts["disc"]) > 0.9
    window.act["tool_wand"].trigger()
    window.canvas.set_tolerance(40)
    wand_click(window, 5 * scale, 5 * scale)  # the background: most of the photo
    assert window.canvas.selections.busy
    settle(qtbot, window)
    assert document.mask.mean() > 0.5 and not document.mask[parts["disc"]].any()
    assert not threads["grabcut"][0] and not threads["flood"][0], threads
    document.mark_saved()
