"""Variations of a fill (Another Variation, ◀ ▶), Fill Settings' texture switch, and the texture stage's evidence in
the inspector and the flow panel, driven through the window's keys and widgets.

The stand-in engine's texture stage paints the hole with a colour of its seed and copies every pixel from one
known pixel (tests/app_helpers.py); two tests run the real engine (golden weights) on a 256x256 photo."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PySide6.QtCore import QSettings, Qt  # noqa: E402
from PySide6.QtGui import QImage  # noqa: E402
from PySide6.QtWidgets import QGraphicsPixmapItem  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from app.canvas import Tool  # noqa: E402
from app.fill_worker import EngineInfo  # noqa: E402
from inpaint_core.texture import RADIUS  # noqa: E402

from .app_helpers import (FakeEngine, dialogs, drag, fake_factory, make_window, photo,  # noqa: E402,F401
                          texture_colour, texture_source, view_point, wait_for_fill)

CTRL, SHIFT, ALT = (Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier,
                    Qt.KeyboardModifier.AltModifier)


def press(qtbot, window, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    """A key on the canvas, as a user types it, then the engine's job (if it started one) to its end."""
    QTest.keyClick(window.canvas, key, modifier)
    wait_for_fill(qtbot, window)


def fill(qtbot, window) -> tuple[np.ndarray, np.ndarray]:
    """Paint a stroke and fill it with Ctrl+Return; the photo and the mask before the fill."""
    before = window.document.image.copy()
    window.canvas.set_brush_size(20)
    drag(window.canvas, [(60, 60), (120, 80)])
    mask = window.document.mask.copy()
    press(qtbot, window, Qt.Key.Key_Return, CTRL)
    assert window.document.evidence is not None
    return before, mask


def vary(qtbot, window) -> None:
    press(qtbot, window, Qt.Key.Key_Return, CTRL | SHIFT)


def hole(window) -> np.ndarray:
    """The hole the engine filled (the painted mask, grown)."""
    return window.fills.variations(window.document).request.mask


def bar_text(window) -> str | None:
    bar = window.variation_bar
    return bar.label.text() if bar.isVisible() else None


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine(texture=True)


@pytest.fixture
def window(qtbot, tmp_path, engine, dialogs, photo):
    window = make_window(qtbot, tmp_path, factory=fake_factory(engine))
    assert window.files.open_path(photo)
    window.activateWindow()
    return window


def test_another_variation_changes_only_the_hole_and_arrows_step_back_to_the_exact_pixels(qtbot, window, engine):
    document = window.document
    assert not window.act["vary"].isEnabled() and bar_text(window) is None
    original, _ = fill(qtbot, window)
    first = document.image.copy()
    filled = hole(window)
    assert bar_text(window) == "Variation 1 of 1" and window.act["vary"].isEnabled()
    assert not window.act["previous_variation"].isEnabled() and not window.act["next_variation"].isEnabled()
    assert window.status.fill_time_label.text() == "Fill 0.02 s (network 0.01 s, texture 0.01 s)"
    history = document.undo_stack.count()
    vary(qtbot, window)
    second = document.image.copy()
    changed = (second != first).any(axis=2)
    assert changed.any() and not changed[~filled].any()  # only the hole's pixels changed...
    assert (second[filled] == texture_colour(1)).all()   # ...to the next seed's texture
    np.testing.assert_array_equal(second[~filled], original[~filled])
    assert engine.seeds == [0, 1] and engine.calls == 2   # one fill, then the texture stage alone
    assert bar_text(window) == "Variation 2 of 2" and window.status.fill_time_label.text().startswith("Variation ")
    vary(qtbot, window)
    third = document.image.copy()
    assert engine.seeds == [0, 1, 2] and bar_text(window) == "Variation 3 of 3"
    assert not window.act["next_variation"].isEnabled()
    for expected, label, seed in ((second, "2 of 3", 1), (first, "1 of 3", 0)):
        press(qtbot, window, Qt.Key.Key_Left, ALT)
        assert document.image.tobytes() == expected.tobytes() and bar_text(window) == f"Variation {label}"
        assert window.statusBar().currentMessage() == f"Variation {label} (seed {seed})"
    press(qtbot, window, Qt.Key.Key_Left, ALT)  # no earlier one: nothing happens
    assert document.image.tobytes() == first.tobytes() and not window.act["previous_variation"].isEnabled()
    for expected in (second, third):
        press(qtbot, window, Qt.Key.Key_Right, ALT)
        assert document.image.tobytes() == expected.tobytes()
    assert document.undo_stack.count() == history  # the fill was replaced in place, never pushed again
    assert engine.calls == 3  # stepping re-runs nothing


def test_past_the_memory_budget_the_oldest_variations_are_let_go_but_never_the_fill(qtbot, window, monkeypatch):
    """Each variation keeps its own pixels, flow colours and sources (160 MB on a 10 MP photo); with room for
    three, a fourth lets the oldest go but the fill itself, and stepping back still shows exact pixels."""
    document = window.document
    fill(qtbot, window)
    first = document.image.copy()
    state = window.fills.variations(document)
    one = state.items[0].own_bytes()
    assert one >= 3 * hole(window).sum()  # at least its pixels
    monkeypatch.setattr("app.variations.MEMORY_BUDGET", int(3.5 * one))
    vary(qtbot, window)
    vary(qtbot, window)
    assert [v.seed for v in state.items] == [0, 1, 2] and "let go" not in window.statusBar().currentMessage()
    third = document.image.copy()
    vary(qtbot, window)
    fourth = document.image.copy()
    assert [v.seed for v in state.items] == [0, 2, 3] and bar_text(window) == "Variation 3 of 3"
    assert "the oldest variations were let go" in window.statusBar().currentMessage()
    for expected, label in ((third, "2 of 3"), (first, "1 of 3")):
        press(qtbot, window, Qt.Key.Key_Left, ALT)
        assert document.image.tobytes() == expected.tobytes() and bar_text(window) == f"Variation {label}"
    press(qtbot, window, Qt.Key.Key_Right, ALT)
    press(qtbot, window, Qt.Key.Key_Right, ALT)
    assert document.image.tobytes() == fourth.tobytes()


def test_variations_are_forgotten_after_another_edit_and_a_new_fill_starts_afresh(qtbot, window, engine):
    fill(qtbot, window)
    vary(qtbot, window)
    varied = window.document.image.copy()
    drag(window.canvas, [(180, 180), (200, 200)])  # the next hole
    assert bar_text(window) is None and window.fills.variations(window.document) is None
    assert window.fills._variations is None  # their pixels and results are let go, not just hidden
    assert not window.act["vary"].isEnabled() and "Fill first" in window.act["vary"].toolTip()
    press(qtbot, window, Qt.Key.Key_Z, CTRL)  # the stroke undone: the fill is the photo again, but not the last edit
    assert window.document.image.tobytes() == varied.tobytes()
    assert bar_text(window) is None and not window.act["vary"].isEnabled()
    press(qtbot, window, Qt.Key.Key_Left, ALT)
    assert window.document.image.tobytes() == varied.tobytes()
    press(qtbot, window, Qt.Key.Key_Z, CTRL | SHIFT)  # the stroke back, and filled
    press(qtbot, window, Qt.Key.Key_Return, CTRL)
    assert bar_text(window) == "Variation 1 of 1" and engine.seeds == [0, 1, 0]


def test_a_variation_runs_on_the_engine_thread_and_can_be_cancelled(qtbot, window, engine):
    fill(qtbot, window)
    filled = window.document.image.copy()
    engine.release.clear()
    engine.started.clear()
    QTest.keyClick(window.canvas, Qt.Key.Key_Return, CTRL | SHIFT)
    assert engine.started.wait(10) and window.worker.is_busy  # the UI thread is free while the engine works
    assert window.status.cancel_button.isVisible() and not window.act["vary"].isEnabled()
    QTest.keyClick(window.canvas, Qt.Key.Key_Escape)
    wait_for_fill(qtbot, window)
    engine.release.set()
    assert window.document.image.tobytes() == filled.tobytes() and engine.seeds == [0]
    assert "Variation cancelled" in window.statusBar().currentMessage()
    assert bar_text(window) == "Variation 1 of 1" and window.act["vary"].isEnabled()


def test_a_variation_finishing_after_the_fill_was_undone_is_dropped(qtbot, window, engine):
    original, _ = fill(qtbot, window)
    filled = window.document.image.copy()
    engine.release.clear()
    engine.started.clear()
    QTest.keyClick(window.canvas, Qt.Key.Key_Return, CTRL | SHIFT)
    assert engine.started.wait(10)
    QTest.keyClick(window.canvas, Qt.Key.Key_Z, CTRL)  # undo the fill while its variation is made
    engine.release.set()
    wait_for_fill(qtbot, window)
    assert window.document.image.tobytes() == original.tobytes()
    assert "dropped" in window.statusBar().currentMessage()
    press(qtbot, window, Qt.Key.Key_Z, CTRL | SHIFT)
    assert window.document.image.tobytes() == filled.tobytes() and bar_text(window) == "Variation 1 of 1"


def test_the_inspector_shows_the_one_patch_a_synthesised_pixel_was_copied_from(qtbot, window):
    fill(qtbot, window)
    canvas, inspector = window.canvas, window.inspector
    canvas.set_tool(Tool.INSPECT)
    for seed in (0, 1):
        QTest.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         view_point(canvas, 90.5, 70.5))
        sx, sy = texture_source(seed)
        boxes = [item.rect().getCoords() for item in inspector.box_items if item.isVisible()]
        assert boxes == [(sx - RADIUS, sy - RADIUS, sx + RADIUS + 1, sy + RADIUS + 1)]
        assert inspector.box_items[0].tag.text() == "1: 100%"
        assert f"copied from the photo's pixel ({sx}, {sy}), in the patch" in inspector.tooltip()
        vary(qtbot, window)  # the next variation copies from elsewhere; the inspector follows


def shown_pixels(panel) -> np.ndarray:
    """The RGB values the panel's view shows (its pixmap item's image)."""
    item = next(i for i in panel.view.scene().items() if isinstance(i, QGraphicsPixmapItem))
    image = item.pixmap().toImage().convertToFormat(QImage.Format.Format_RGB888)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, :image.width() * 3].reshape(image.height(), image.width(), 3).copy()  # before image goes


def test_the_flow_panel_shows_the_texture_stage_and_switches_to_the_network_attention(qtbot, window):
    panel = window.panels["flow_rgb"]
    texture, attention = panel.flow_buttons["texture_flow_rgb"], panel.flow_buttons["flow_rgb"]
    fill(qtbot, window)
    evidence = window.document.evidence
    assert texture.isChecked() and texture.isEnabled() and texture.text() == "Texture stage"
    np.testing.assert_array_equal(shown_pixels(panel), evidence.texture_flow_rgb)
    QTest.mouseClick(attention, Qt.MouseButton.LeftButton)
    assert attention.isChecked() and attention.text() == "Network attention"
    np.testing.assert_array_equal(shown_pixels(panel), evidence.flow_rgb)
    np.testing.assert_array_equal(shown_pixels(window.panels["refined"]), evidence.refined)  # the network's own
    vary(qtbot, window)
    assert attention.isChecked()  # the choice holds for the next variation
    QTest.mouseClick(texture, Qt.MouseButton.LeftButton)
    np.testing.assert_array_equal(shown_pixels(panel), window.document.evidence.texture_flow_rgb)


def test_texture_from_the_photo_is_on_by_default_rebuilds_the_engine_and_is_remembered(qtbot, tmp_path, dialogs):
    built = []

    def factory(settings):
        built.append(settings.texture)
        return FakeEngine(), EngineInfo("cpu", "fake engine", "tests", "", ("cpu",))

    first = make_window(qtbot, tmp_path, factory=factory)
    box = first.settings_panel.texture_box
    assert box.isChecked() and built == ["photo"]
    QTest.mouseClick(box, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: first.worker.is_ready and built == ["photo", "network"])
    first.close()
    assert QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat).value("engine/texture") == "network"
    second = make_window(qtbot, tmp_path, factory=factory)
    assert not second.settings_panel.texture_box.isChecked() and built[-1] == "network"


# -- the real engine ---------------------------------------------------------------------------------------------
@pytest.fixture
def real_window(qtbot, tmp_path, golden_weights, dialogs, photo):
    window = make_window(qtbot, tmp_path, weights=str(golden_weights))
    assert window.worker.is_ready, window.worker.error
    assert window.files.open_path(photo)
    window.activateWindow()
    return window


def test_undo_after_two_variations_restores_the_photo_in_one_step_and_redo_the_variation_shown(qtbot, real_window):
    window, document = real_window, real_window.document
    original, mask = fill(qtbot, window)
    filled = hole(window)
    first = document.image.copy()
    assert window.status.fill_time_label.text().startswith("Fill ") and "texture" in \
        window.status.fill_time_label.text()
    vary(qtbot, window)
    vary(qtbot, window)
    assert bar_text(window) == "Variation 3 of 3"
    third = document.image.copy()
    press(qtbot, window, Qt.Key.Key_Left, ALT)
    shown = document.image.copy()
    for image in (first, shown, third):
        changed = (image != original).any(axis=2)
        assert changed[filled].mean() > 0.5 and not changed[~filled].any()  # each changed the hole, only the hole
    assert len({first.tobytes(), shown.tobytes(), third.tobytes()}) == 3  # three different fills
    press(qtbot, window, Qt.Key.Key_Z, CTRL)  # one undo: the photo before the fill, and its mask back
    assert document.image.tobytes() == original.tobytes()
    np.testing.assert_array_equal(document.mask, mask)
    assert bar_text(window) is None and not window.act["vary"].isEnabled()
    press(qtbot, window, Qt.Key.Key_Z, CTRL | SHIFT)  # redo: the variation that was shown
    assert document.image.tobytes() == shown.tobytes() and not document.mask.any()
    assert bar_text(window) == "Variation 2 of 3"
    press(qtbot, window, Qt.Key.Key_Right, ALT)
    assert bar_text(window) == "Variation 3 of 3"
    press(qtbot, window, Qt.Key.Key_Z, CTRL)
    assert document.image.tobytes() == original.tobytes()


def test_another_variation_is_disabled_after_a_fill_without_the_texture_stage(qtbot, real_window):
    window = real_window
    QTest.mouseClick(window.settings_panel.texture_box, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.worker.is_ready and window.worker.settings.texture == "network", timeout=60_000)
    fill(qtbot, window)
    assert window.inspector.result.seed is None  # the engine was built without the stage
    filled = window.document.image.copy()
    vary_action = window.act["vary"]
    assert not vary_action.isEnabled() and "without the texture stage" in vary_action.toolTip()
    QTest.keyClick(window.canvas, Qt.Key.Key_Return, CTRL | SHIFT)
    assert not window.worker.is_busy and window.document.image.tobytes() == filled.tobytes()
    assert bar_text(window) is None
    panel = window.panels["flow_rgb"]
    assert not panel.flow_buttons["texture_flow_rgb"].isEnabled() and panel.flow_buttons["flow_rgb"].isChecked()
    assert window.status.fill_time_label.text().startswith("Fill ") and "texture" not in \
        window.status.fill_time_label.text()


def test_a_fill_the_texture_stage_left_partly_to_the_network_says_how_much_and_still_varies(qtbot, tmp_path, dialogs,
                                                                                            photo):
    note = ("61 % of the hole is the network's fill alone: the texture stage found no 15 x 15 patch outside the hole "
            "and the excluded area near it to copy from.")
    window = make_window(qtbot, tmp_path, factory=fake_factory(FakeEngine(texture=True, texture_partial=note)))
    assert window.files.open_path(photo)
    fill(qtbot, window)
    assert window.statusBar().currentMessage().startswith("Filled in ")
    assert window.statusBar().currentMessage().endswith(f" s; {note}")
    assert window.act["vary"].isEnabled()


def test_a_fill_without_the_memory_for_the_texture_stage_says_so_and_has_no_variations(qtbot, tmp_path, dialogs,
                                                                                     photo):
    reason = "The texture stage needs about 6.7 GB for this fill and 3.1 GB of memory is free."
    window = make_window(qtbot, tmp_path, factory=fake_factory(FakeEngine(texture=True, texture_skipped=reason)))
    assert window.files.open_path(photo)
    fill(qtbot, window)
    assert window.statusBar().currentMessage().endswith(f"by the network alone. {reason}")
    vary_action = window.act["vary"]
    assert not vary_action.isEnabled() and reason in vary_action.toolTip()
    assert bar_text(window) is None
