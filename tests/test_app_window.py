"""The window's workflows with a stand-in engine: open, save, export, close, settings, errors, working during a fill."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402
from PySide6.QtCore import QMimeData, QPoint, QPointF, QRectF, Qt, QUrl  # noqa: E402
from PySide6.QtGui import QDropEvent  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QFileDialog, QMessageBox  # noqa: E402

from app.canvas import Tool  # noqa: E402
from inpaint_core.weights import WeightsError  # noqa: E402

from .app_helpers import (FakeEngine, dialogs, drag, fake_factory, make_window, photo,  # noqa: E402,F401
                          view_point, wait_for_fill, wheel)

Button = QMessageBox.StandardButton


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine()


@pytest.fixture
def window(qtbot, tmp_path, engine, dialogs):
    return make_window(qtbot, tmp_path, factory=fake_factory(engine))


def filled(qtbot, window) -> None:
    """Mask a stroke and fill it with the stand-in engine."""
    drag(window.canvas, [(60, 60), (120, 80)])
    assert window.fills.start(window.document)
    wait_for_fill(qtbot, window)


def test_open_dialog_opens_the_chosen_photo_and_starts_in_the_last_folder(window, photo, monkeypatch):
    asked = []

    def fake_dialog(parent, caption, directory, filters):
        asked.append(directory)
        return str(photo), filters

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(fake_dialog))
    window.files.open_dialog()
    assert window.document is not None and window.document.loaded.path == photo
    window.files.open_dialog()
    assert asked[1] == str(photo.parent.resolve())


def test_an_unreadable_file_is_reported_and_the_open_photo_stays(window, dialogs, photo, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg at all")
    assert window.files.open_path(photo)
    assert not window.files.open_path(broken)
    assert dialogs.kinds() == ["critical"]
    assert "broken.jpg" in dialogs.calls[0][2]
    assert window.document.loaded.path == photo
    assert not window.files.open_path(tmp_path / "missing.png")
    assert str((tmp_path / "missing.png").resolve()) not in window.files.recent.paths()


def test_save_on_the_original_asks_first_then_writes_the_original_size(qtbot, window, dialogs, photo):
    window.files.open_path(photo)
    filled(qtbot, window)
    untouched = photo.read_bytes()
    dialogs.answer = Button.Cancel
    assert not window.files.save()
    assert [kind for kind, title, _ in dialogs.calls] == ["question"]
    assert photo.read_bytes() == untouched
    dialogs.answer = Button.Save
    assert window.files.save()
    assert photo.read_bytes() != untouched
    with Image.open(photo) as saved:
        assert saved.size == (256, 256) and saved.format == "JPEG"
    assert not window.isWindowModified()
    assert window.files.save() and len(dialogs.calls) == 2  # asked once per photo, not at every save


def test_save_as_suggests_stem_filled_in_the_same_format(qtbot, window, photo, monkeypatch):
    window.files.open_path(photo)
    filled(qtbot, window)
    untouched = photo.read_bytes()
    asked = {}

    def fake_dialog(parent, caption, directory, filters, selected):
        asked.update(directory=directory, filters=filters, selected=selected)
        return str(photo.with_name("kodak_0003_filled")), selected  # typed without a suffix

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(fake_dialog))
    assert window.files.save_as()
    assert asked["directory"] == str(photo.with_name("kodak_0003_filled.jpg"))
    assert asked["selected"].startswith("JPEG") and asked["filters"].startswith("JPEG")
    target = photo.with_name("kodak_0003_filled.jpg")
    with Image.open(target) as saved:
        assert saved.size == (256, 256) and saved.format == "JPEG"
    assert window.windowTitle().startswith("kodak_0003_filled.jpg")
    # later saves go to the copy without asking; the original is untouched
    assert window.files.save()
    assert not window.isWindowModified()
    assert photo.read_bytes() == untouched


def test_export_mask_writes_the_mask_as_black_and_white_png(window, photo, monkeypatch):
    window.files.open_path(photo)
    drag(window.canvas, [(60, 60), (120, 80)])
    suggested = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda parent, caption, directory, filters: (suggested.append(directory)
                                                                                  or directory, filters)))
    assert window.files.export_mask()
    assert suggested == [str(photo.with_name("kodak_0003_mask.png"))]
    exported = np.asarray(Image.open(photo.with_name("kodak_0003_mask.png")).convert("L")) > 127
    np.testing.assert_array_equal(exported, window.document.mask)


def test_closing_with_unsaved_changes_asks_and_cancel_keeps_the_window(qtbot, window, dialogs, photo):
    window.files.open_path(photo)
    filled(qtbot, window)
    assert window.isWindowModified()
    dialogs.answer = Button.Cancel
    window.close()
    assert window.isVisible() and dialogs.kinds() == ["question"]
    # opening another photo asks too
    assert not window.files.open_path(photo)
    dialogs.answer = Button.Discard
    window.close()
    assert not window.isVisible()


def test_recent_files_drag_and_drop_and_the_title(window, photo):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(photo))])
    drop = QDropEvent(QPointF(400, 300), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    window.dropEvent(drop)
    assert window.document is not None and window.document.loaded.path == photo
    assert window.files.recent.paths()[0] == str(photo.resolve())
    assert window.windowTitle().startswith("kodak_0003.jpg")
    window.files.fill_recent_menu(window.recent_menu)
    assert any("kodak_0003.jpg" in action.text() for action in window.recent_menu.actions())


def test_settings_are_kept_between_sessions(qtbot, tmp_path, engine, dialogs):
    first = make_window(qtbot, tmp_path, factory=fake_factory(engine))
    first.canvas.set_brush_size(77)
    first.tool_options.tolerance_spin.setValue(50)
    first.settings_panel.strategy_box.setCurrentIndex(first.settings_panel.strategy_box.findData("RESIZE"))
    first.settings_panel.device_box.setCurrentIndex(first.settings_panel.device_box.findData("cpu"))
    first.resize(760, 560)  # within the offscreen screen (800x600), where restoreGeometry keeps it
    first.close()
    second = make_window(qtbot, tmp_path, factory=fake_factory(engine))
    assert second.canvas.brush_size() == 77
    assert second.tool_options.brush_spin.value() == 77
    assert second.canvas.tolerance() == 50 and second.tool_options.tolerance_spin.value() == 50
    assert second.settings_panel.strategy() == "RESIZE" and second.settings_panel.device() == "cpu"
    assert second.worker.settings.strategy == "RESIZE"
    assert (second.width(), second.height()) == (760, 560)


def test_brackets_resize_the_brush_and_tool_keys_pick_tools(window, photo):
    window.files.open_path(photo)
    window.canvas.set_brush_size(40)
    QTest.keyClick(window.canvas, Qt.Key.Key_BracketRight)
    assert window.canvas.brush_size() == 48 and window.tool_options.brush_slider.value() == 48
    QTest.keyClick(window.canvas, Qt.Key.Key_BracketLeft)
    assert window.canvas.brush_size() == 40
    QTest.keyClick(window.canvas, Qt.Key.Key_M)
    assert window.canvas.tool() == Tool.RECT and window.act["tool_rect"].isChecked()


def test_status_bar_shows_size_zoom_device_and_last_fill_time(qtbot, window, photo):
    window.files.open_path(photo)
    assert window.status.size_label.text() == "256 × 256"
    assert window.status.zoom_label.text().endswith("%")
    assert window.status.device_label.text() == "CPU"
    filled(qtbot, window)
    assert window.status.fill_time_label.text() == "Fill 0.01 s"
    assert all(panel.view.has_image() for panel in window.panels.values())


def test_a_failing_fill_is_a_message_and_loses_nothing(qtbot, window, engine, dialogs, photo):
    window.files.open_path(photo)
    drag(window.canvas, [(60, 60), (120, 80)])
    mask, image = window.document.mask.copy(), window.document.image.copy()
    engine.error = RuntimeError("CUDA out of memory")
    assert window.fills.start(window.document)
    wait_for_fill(qtbot, window)
    assert dialogs.kinds() == ["warning"] and "CUDA out of memory" in dialogs.calls[0][2]
    np.testing.assert_array_equal(window.document.mask, mask)
    np.testing.assert_array_equal(window.document.image, image)
    assert window.act["fill"].isEnabled()


def test_missing_weights_show_a_banner_and_disable_fill(qtbot, tmp_path, dialogs, photo):
    def no_weights(settings):
        raise WeightsError("No weights file at weights/deepfill_v1_default.safetensors.")

    window = make_window(qtbot, tmp_path, factory=no_weights)
    window.files.open_path(photo)
    assert window.banner.isVisible() and "No weights file" in window.banner.text()
    assert not window.act["fill"].isEnabled() and window.status.device_label.text() == "No model"
    drag(window.canvas, [(60, 60), (120, 80)])
    assert not window.fills.start(window.document)  # a shortcut press does nothing worse than a status message
    assert dialogs.calls == []


def test_painting_and_zooming_work_during_a_fill_and_cancel_changes_nothing(qtbot, window, engine, photo):
    window.files.open_path(photo)
    document = window.document
    drag(window.canvas, [(60, 60), (120, 80)])
    image, history = document.image.copy(), document.undo_stack.count()
    engine.release.clear()  # the stand-in engine now runs until cancelled or released
    assert window.fills.start(window.document)
    qtbot.waitUntil(engine.started.is_set)
    assert window.status.progress_bar.isVisible() and window.act["cancel_fill"].isEnabled()
    drag(window.canvas, [(200, 200), (220, 210)])
    assert document.mask[205, 210]
    zoom = window.canvas.zoom_percent()
    window.act["zoom_in"].trigger()
    assert window.canvas.zoom_percent() > zoom
    window.act["cancel_fill"].trigger()
    wait_for_fill(qtbot, window)
    np.testing.assert_array_equal(document.image, image)
    assert document.undo_stack.count() == history + 1  # the stroke painted during the fill, nothing else
    assert not window.status.progress_bar.isVisible()
    # a fill released normally keeps what was painted while it ran
    engine.release.clear()
    engine.started.clear()
    assert window.fills.start(window.document)
    qtbot.waitUntil(engine.started.is_set)
    drag(window.canvas, [(20, 230), (40, 230)])
    engine.release.set()
    wait_for_fill(qtbot, window)
    assert document.mask[230, 30] and not document.mask[205, 210]
    assert document.image[205, 210].tolist() == [0, 255, 0]


def test_evidence_panels_follow_the_canvas_and_steer_it(qtbot, window, photo):
    window.files.open_path(photo)
    filled(qtbot, window)
    canvas = window.canvas
    canvas.zoom_to_percent(800, QPointF(view_point(canvas, 200, 60)))
    region = canvas.visible_region()
    for panel in window.panels.values():
        view = panel.view
        shown = view.mapToScene(view.viewport().rect()).boundingRect()
        assert abs(shown.center().x() - region.center().x()) < 2 and abs(shown.center().y() - region.center().y()) < 2
        assert shown.width() >= region.width() - 2 and shown.height() >= region.height() - 2
    # the wheel over a panel zooms the canvas (and so every panel) around the image point under it
    view = window.panels["refined"].view
    zoom = canvas.zoom_percent()
    wheel(view.viewport(), view.viewport().rect().center(), 2)
    assert canvas.zoom_percent() == pytest.approx(zoom * 1.2 ** 2, rel=1e-3)
    # a drag in a panel pans the canvas
    bars = canvas.horizontalScrollBar().value(), canvas.verticalScrollBar().value()
    centre = view.viewport().rect().center()
    QTest.mousePress(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, centre)
    QTest.mouseMove(view.viewport(), centre + QPoint(-30, -20))
    QTest.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       centre + QPoint(-30, -20))
    assert (canvas.horizontalScrollBar().value(), canvas.verticalScrollBar().value()) != bars
    assert not window.document.mask.any()  # panels never paint
    # a double-click in a panel brings the fill's whole region into view
    QTest.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, centre)
    shown = canvas.visible_region()
    assert shown.contains(QRectF(0, 0, 256, 256).adjusted(1, 1, -1, -1))
