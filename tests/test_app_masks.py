"""Masks that remove the whole object: Grow / Shrink Mask from their shortcuts (the amount remembered), growing the
hole before a fill, the feathered paste edge, and filling when the brush is released. Stand-in engine (fills the
hole it is given with green), real widgets."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QInputDialog  # noqa: E402

from .app_helpers import FakeEngine, dialogs, drag, fake_factory, make_window, photo, wait_for_fill  # noqa: E402,F401

GREEN = (0, 255, 0)


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine(colour=GREEN)


@pytest.fixture
def window(qtbot, tmp_path, engine, dialogs, photo):
    window = make_window(qtbot, tmp_path, factory=fake_factory(engine))
    assert window.files.open_path(photo)
    return window


def distance_to(mask: np.ndarray) -> np.ndarray:
    """Each pixel's distance to the nearest True pixel of ``mask``."""
    return cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)


def open_question(window) -> QInputDialog | None:
    return next((d for d in window.findChildren(QInputDialog) if d.isVisible()), None)


def answer(qtbot, window, pixels: int | None) -> int:
    """Answer the open Grow / Shrink question with ``pixels`` (typed, then Enter); returns what it offered."""
    qtbot.waitUntil(lambda: open_question(window) is not None)
    dialog = open_question(window)
    offered = dialog.intValue()
    if pixels is not None:
        spin = dialog.findChild(type(window.tool_options.brush_spin))
        spin.selectAll()
        QTest.keyClicks(spin, str(pixels))
    QTest.keyClick(dialog, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: open_question(window) is None)
    return offered


def rectangle(window, x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
    window.act["tool_rect"].trigger()
    drag(window.canvas, [(x0, y0), (x1, y1)])
    return window.document.mask.copy()


def test_grow_and_shrink_change_the_mask_by_n_pixels_and_remember_n(qtbot, tmp_path, engine, window):
    document = window.document
    box = rectangle(window, 80, 80, 160, 140)
    QTest.keyClick(window.canvas, Qt.Key.Key_BracketRight, Qt.KeyboardModifier.ControlModifier)
    assert answer(qtbot, window, 6) == 4  # the first time, the default amount
    np.testing.assert_array_equal(document.mask, distance_to(box) <= 6)
    assert document.undo_stack.undoText() == "Grow mask by 6 px"
    window.act["undo"].trigger()
    np.testing.assert_array_equal(document.mask, box)

    QTest.keyClick(window.canvas, Qt.Key.Key_BracketLeft, Qt.KeyboardModifier.ControlModifier)
    answer(qtbot, window, 10)
    np.testing.assert_array_equal(document.mask, distance_to(~box) > 10)
    QTest.keyClick(window.canvas, Qt.Key.Key_BracketRight, Qt.KeyboardModifier.ControlModifier)
    assert answer(qtbot, window, None) == 6  # offered again: the last amount grown by

    window.close()
    again = make_window(qtbot, tmp_path, factory=fake_factory(engine))  # the same settings file
    assert again.masks.amount("grow") == 6 and again.masks.amount("shrink") == 10


def test_shrinking_keeps_a_mask_against_the_photo_edge_at_the_edge(window):
    edge = rectangle(window, 0, 100, 60, 160)
    assert edge[120, 0]
    window.masks.apply(window.document, "shrink", 5)
    mask = window.document.mask
    assert mask[130, 0] and mask[130, 54 - 5] and not mask[130, 56] and not mask[102, 20]


def fill(qtbot, window) -> None:
    assert window.fills.start(window.document)
    wait_for_fill(qtbot, window)


def test_growing_the_mask_before_filling_fills_the_ring_around_it(qtbot, window, engine):
    document = window.document
    original = document.image.copy()
    panel = window.settings_panel
    assert panel.grow_spin.text() == "Auto"  # the default: 2 px on a 256 x 256 photo
    window.canvas.set_brush_size(12)
    drag(window.canvas, [(60, 60), (140, 90)])
    painted = document.mask.copy()
    distance = distance_to(painted)
    for grow in (0, 2, 7):  # 2 = what Auto gives this photo
        panel.grow_spin.setValue(grow if grow != 2 else -1)
        fill(qtbot, window)
        green = (document.image == GREEN).all(axis=2) & (original != GREEN).any(axis=2)
        expected = (distance <= grow) & (original != GREEN).any(axis=2)
        np.testing.assert_array_equal(green, expected)
        assert not document.mask.any()
        window.act["undo"].trigger()
        np.testing.assert_array_equal(document.mask, painted)
    assert window.settings.value("fill/grow") in (7, "7")


def test_the_feathered_edge_fades_the_fill_into_the_photo(qtbot, window):
    document = window.document
    original = document.image.astype(np.int16)
    window.settings_panel.grow_spin.setValue(2)
    window.settings_panel.feather_spin.setValue(6)
    window.canvas.set_brush_size(12)
    drag(window.canvas, [(60, 60), (140, 90)])
    distance = distance_to(document.mask)
    fill(qtbot, window)
    image = document.image.astype(np.int16)
    assert (image[distance <= 2] == GREEN).all()
    np.testing.assert_array_equal(image[distance > 8], original[distance > 8])
    band = (distance > 2) & (distance < 8)
    # between the photo and the fill, the nearer the fill the closer to it
    weight = np.clip((8 - distance[band]) / 6, 0, 1)[:, None]
    expected = original[band] + (np.array(GREEN) - original[band]) * weight
    assert np.abs(image[band] - expected).max() <= 1
    assert ((image[band] != GREEN).any(axis=1) & (image[band] != original[band]).any(axis=1)).mean() > 0.8


def test_with_fill_on_release_a_brush_stroke_fills_when_let_go(qtbot, window, engine):
    document = window.document
    drag(window.canvas, [(40, 40), (80, 40)])
    assert not window.worker.is_busy and engine.calls == 0  # off by default
    box = window.settings_panel.on_release_box
    QTest.mouseClick(box, Qt.MouseButton.LeftButton, pos=box.rect().center())
    assert box.isChecked() and window.fills.options.on_release
    drag(window.canvas, [(40, 120), (80, 120)])
    wait_for_fill(qtbot, window)
    assert engine.calls == 1 and tuple(document.image[120, 60]) == GREEN
    assert tuple(document.image[40, 60]) == GREEN  # the mask painted before is filled too
    window.act["tool_eraser"].trigger()
    drag(window.canvas, [(40, 200), (80, 200)])
    assert engine.calls == 1  # erasing fills nothing
    # a stroke ending while a fill runs fills again once that one is done
    window.act["tool_brush"].trigger()
    engine.release.clear()
    drag(window.canvas, [(150, 150), (190, 150)])
    qtbot.waitUntil(engine.started.is_set)
    drag(window.canvas, [(150, 220), (190, 220)])
    engine.release.set()
    qtbot.waitUntil(lambda: engine.calls == 3 and not window.worker.is_busy)
    assert tuple(document.image[220, 170]) == GREEN and not document.mask.any()
