"""The attention inspector and source steering: the Inspect tool's heat map, source outlines, tooltip and flow
marker; the Exclude brush, its undo, its way to the engine and into the mask export.

Most tests use a stand-in engine with made-up attention (every number checked against the result it returns);
one runs the real model (golden weights) on a photo large enough for the crop strategy."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402
from PySide6.QtCore import QPointF, QRectF, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QFileDialog, QToolTip  # noqa: E402

import app.inspector as inspector_module  # noqa: E402
from app.canvas import Tool  # noqa: E402
from app.canvas_items import OUTLINE_PX  # noqa: E402
from app.inspector import HOVER_INTERVAL_MS, TOP_K, percent  # noqa: E402
from inpaint_core.pipeline import RegionResult  # noqa: E402
from inpaint_core.regions import Region  # noqa: E402
from inpaint_core.sources import RegionAttention  # noqa: E402

from .app_helpers import (FakeEngine, click, dialogs, drag, fake_factory, make_window, photo,  # noqa: E402,F401
                          view_point, wait_for_fill)

# The stand-in's attention: every hole cell borrows from these 8x8 cells (row, column of the 32x32 grid of a
# 256x256 photo), cells of even rows with the first weights, of odd rows with the second.
SOURCE_CELLS = [(2, 2), (2, 3), (20, 28)]
WEIGHTS = ([0.6, 0.3, 0.1], [0.1, 0.3, 0.6])


class SourcesEngine(FakeEngine):
    """The stand-in engine, recording the exclude mask each fill gets and answering with made-up attention."""

    def __init__(self) -> None:
        super().__init__()
        self.excludes: list[np.ndarray | None] = []

    def fill(self, image, mask, *, exclude=None, progress=None, cancel=None):
        self.excludes.append(None if exclude is None else exclude.copy())
        result = super().fill(image, mask, exclude=exclude, progress=progress, cancel=cancel)
        height, width = mask.shape
        grid = (height // 8, width // 8)
        rows = np.flatnonzero(mask.reshape(grid[0], 8, grid[1], 8).any(axis=(1, 3)))
        values = np.array([WEIGHTS[(row // grid[1]) % 2] for row in rows], np.float32)
        attention = RegionAttention(box=(0, 0, width, height), scale=1.0, work_shape=(height, width), grid=grid,
                                    rows=rows, cols=np.array([r * grid[1] + c for r, c in SOURCE_CELLS]),
                                    values=values)
        result.regions = [RegionResult(Region(0, 0, width, height), result.coarse, result.refined, result.flow_rgb,
                                       attention)]
        return result


@pytest.fixture
def engine() -> SourcesEngine:
    return SourcesEngine()


@pytest.fixture
def window(qtbot, tmp_path, engine, dialogs, photo):
    window = make_window(qtbot, tmp_path, factory=fake_factory(engine))
    assert window.files.open_path(photo)
    return window


def fill_stroke(qtbot, window) -> None:
    """Mask a stroke over rows of cells 6 to 11 and fill it."""
    window.canvas.set_brush_size(20)
    drag(window.canvas, [(60, 60), (120, 80)])
    assert window.fills.start(window.document)
    wait_for_fill(qtbot, window)


def hover(qtbot, canvas, x: int, y: int) -> None:
    """The pointer to photo pixel (x, y)'s centre, from a neighbouring pixel (Qt drops a move to where it is),
    then rest there until the throttled hover has caught up."""
    QTest.mouseMove(canvas.viewport(), view_point(canvas, x - 1.5, y + 0.5))
    QTest.mouseMove(canvas.viewport(), view_point(canvas, x + 0.5, y + 0.5))
    qtbot.wait(2 * HOVER_INTERVAL_MS + 10)


def rect(box) -> QRectF:
    x0, y0, x1, y1 = box
    return QRectF(x0, y0, x1 - x0, y1 - y0)


def assert_shows(window, x: int, y: int) -> None:
    """The canvas and the panels show the sources of pixel (x, y) of the kept result."""
    inspector, result = window.inspector, window.inspector.result
    top = result.top_sources(x, y, k=TOP_K)
    assert inspector.point == (x, y) and top
    assert [item.rect() for item in inspector.box_items if item.isVisible()] == [rect(box) for box, _ in top]
    tooltip = inspector.tooltip()
    assert f"({x}, {y})" in tooltip and all(f"({x0}, {y0})–({x1}, {y1})" in tooltip for (x0, y0, x1, y1), _ in top)
    if not result.texture:
        assert all(f". {percent(weight)} from" in tooltip for _, weight in top)
    heat_item = inspector.heat_item
    assert heat_item.isVisible()
    # the drawn heat map covers its area's box in photo coordinates, and is transparent where nothing was taken
    region_box = next(e.box for e in result.evidence() if e.cell_of(x, y) is not None)
    assert heat_item.mapRectToScene(heat_item.boundingRect()) == rect(region_box)
    bx0, by0, bx1, by1 = result.box
    rx0, ry0, rx1, ry1 = region_box
    heat = result.sources(x, y)[ry0 - by0:ry1 - by0, rx0 - bx0:rx1 - bx0]
    alpha = inspector.shown().overlay.pixels >> 24
    assert alpha.shape == heat.shape
    assert not alpha[heat == 0].any() and alpha.flat[heat.argmax()] == alpha.max() > 150
    for view in (panel.view for panel in window.panels.values()):
        assert view.marker() == QPointF(x + 0.5, y + 0.5)
    assert inspector.marker_item.isVisible() and inspector.marker_item.pos() == QPointF(x + 0.5, y + 0.5)


def assert_shows_nothing(window) -> None:
    inspector = window.inspector
    assert inspector.point is None and inspector.tooltip() == ""
    assert not inspector.heat_item.isVisible() and not any(item.isVisible() for item in inspector.box_items)
    assert all(panel.view.marker() is None for panel in window.panels.values())


def test_hovering_a_filled_pixel_shows_its_sources_heat_tooltip_and_flow_marker(qtbot, window):
    fill_stroke(qtbot, window)
    canvas = window.canvas
    QTest.keyClick(canvas, Qt.Key.Key_I)
    assert canvas.tool() == Tool.INSPECT and window.act["tool_inspect"].isChecked()
    hover(qtbot, canvas, 90, 70)
    assert_shows(window, 90, 70)
    assert [item.tag.text() for item in window.inspector.box_items[:3]] == ["1: 60%", "2: 30%", "3: 10%"]
    assert "the 3 outlined sources hold 100%" in window.statusBar().currentMessage()
    hover(qtbot, canvas, 100, 80)  # a cell of an odd row: the order of the sources turns round
    assert_shows(window, 100, 80)
    assert window.inspector.box_items[0].rect() == rect(window.inspector.result.top_sources(100, 80)[0][0])
    # a pixel the fill did not make shows nothing
    hover(qtbot, canvas, 200, 200)
    assert_shows_nothing(window)


def test_outlines_keep_their_screen_width_and_places_after_zoom_and_pan(qtbot, window):
    fill_stroke(qtbot, window)
    canvas = window.canvas
    canvas.set_tool(Tool.INSPECT)
    canvas.zoom_to_percent(400, QPointF(view_point(canvas, 90, 70)))
    canvas.pan_by_scene(6, 4)
    hover(qtbot, canvas, 92, 72)
    assert_shows(window, 92, 72)
    click(canvas, 92.5, 72.5)
    # zoom in on the strongest source, which the pinned pixel keeps outlined
    item = window.inspector.box_items[0]
    for percent in (300, 1200):
        edge_point = item.rect().topLeft() + QPointF(0, item.rect().height() / 2)
        canvas.zoom_to_percent(percent, QPointF(view_point(canvas, edge_point.x(), edge_point.y())))
        assert_shows(window, 92, 72)
        scale = canvas.transform().m11()
        # cosmetic pens: the outline's room outside the rectangle is fixed in screen pixels
        assert (item.rect().left() - item.boundingRect().left()) * scale == pytest.approx(OUTLINE_PX + 3)
        # on screen: a dark line just outside the left edge, a light one on it, whatever the zoom
        shot = canvas.viewport().grab().toImage()
        edge = canvas.mapFromScene(edge_point)
        row = [shot.pixelColor(edge.x() + dx, edge.y()).lightness() for dx in range(-4, 4)]
        assert min(row[:4]) <= 60 and max(row[3:6]) >= 200, row
        assert sum(value >= 200 for value in row) <= 3, row  # thin: not scaled up with the photo


def test_hover_is_throttled_and_each_cell_is_drawn_once(qtbot, window, monkeypatch):
    fill_stroke(qtbot, window)
    canvas = window.canvas
    canvas.set_tool(Tool.INSPECT)
    rendered, shown = [], []
    render = inspector_module.render_heat
    monkeypatch.setattr(inspector_module, "render_heat", lambda heat: rendered.append(heat) or render(heat))
    show = window.inspector._show
    monkeypatch.setattr(window.inspector, "_show", lambda x, y: shown.append((x, y)) or show(x, y))
    for x in range(70, 110):  # a quick sweep across five cells
        QTest.mouseMove(canvas.viewport(), view_point(canvas, x + 0.5, 70.5))
    assert len(shown) == 1  # the first move, then nothing until the interval is over...
    qtbot.waitUntil(lambda: window.inspector.point == (109, 70))  # ...then where the pointer stopped
    assert len(shown) == 2 and len(rendered) == 2
    for x in (108, 104, 109, 70):  # back over cells already drawn, and moves inside one
        qtbot.wait(HOVER_INTERVAL_MS + 20)
        QTest.mouseMove(canvas.viewport(), view_point(canvas, x + 0.5, 70.5))
    assert window.inspector.point == (70, 70) and len(rendered) == 2


def test_a_click_pins_a_pixel_and_a_click_outside_the_fill_unpins_it(qtbot, window):
    fill_stroke(qtbot, window)
    canvas = window.canvas
    canvas.set_tool(Tool.INSPECT)
    click(canvas, 90.5, 70.5)
    assert window.inspector.pinned
    assert_shows(window, 90, 70)
    assert QToolTip.text() == window.inspector.tooltip()
    hover(qtbot, canvas, 110, 80)
    assert window.inspector.point == (90, 70)
    # the pinned pixel stays while an exclude area is painted over one of its sources
    QTest.keyClick(canvas, Qt.Key.Key_X)
    drag(canvas, [(20, 20), (30, 20)])
    assert window.inspector.point == (90, 70) and window.document.exclude[20, 25]
    # comparing with the original hides it for as long
    canvas.set_comparing(True)
    assert not window.inspector.heat_item.isVisible() and not window.inspector.marker_item.isVisible()
    canvas.set_comparing(False)
    assert_shows(window, 90, 70)
    canvas.set_tool(Tool.INSPECT)
    click(canvas, 200.5, 200.5)
    assert not window.inspector.pinned
    assert_shows_nothing(window)
    assert "did not make this pixel" in window.statusBar().currentMessage()


def test_undoing_the_fill_clears_the_inspector_and_redo_brings_it_back(qtbot, window, photo):
    fill_stroke(qtbot, window)
    canvas = window.canvas
    canvas.set_tool(Tool.INSPECT)
    click(canvas, 90.5, 70.5)
    assert_shows(window, 90, 70)
    window.act["undo"].trigger()
    assert_shows_nothing(window)
    assert window.inspector.result is None and not window.inspector.pinned
    click(canvas, 90.5, 70.5)  # the hole is back, unfilled: nothing to show
    assert_shows_nothing(window)
    assert "Nothing to inspect" in window.statusBar().currentMessage()
    window.act["redo"].trigger()
    click(canvas, 90.5, 70.5)
    assert_shows(window, 90, 70)
    # another photo drops the result
    assert window.files.open_path(photo)
    assert_shows_nothing(window)
    assert window.inspector.result is None


def test_exclude_brush_strokes_are_undoable_and_reach_the_engine(qtbot, window, engine):
    canvas, document = window.canvas, window.document
    QTest.keyClick(canvas, Qt.Key.Key_X)
    assert canvas.tool() == Tool.EXCLUDE
    canvas.set_brush_size(16)
    drag(canvas, [(150, 150), (220, 150)])
    assert document.exclude[150, 150] and document.exclude[150, 220] and not document.mask.any()
    assert document.undo_stack.undoText() == "Exclude stroke"
    # drawn in its own colour: bluer than the photo under it
    canvas.actual_pixels()
    shot = canvas.viewport().grab().toImage()
    shown = shot.pixelColor(view_point(canvas, 180.5, 150.5))
    red, green, blue = (int(v) for v in document.image[150, 180])
    assert shown.blue() - shown.red() > blue - red + 20
    drag(canvas, [(180, 140), (180, 160)], modifier=Qt.KeyboardModifier.AltModifier)
    assert not document.exclude[150, 180] and document.exclude[150, 150]
    assert document.undo_stack.undoText() == "Erase exclude"
    window.act["undo"].trigger()
    assert document.exclude[150, 180]
    window.act["undo"].trigger()
    assert not document.exclude.any()
    window.act["redo"].trigger()
    excluded = document.exclude.copy()
    assert excluded.sum() > 500

    QTest.keyClick(canvas, Qt.Key.Key_B)
    fill_stroke(qtbot, window)
    assert engine.excludes[-1] is not None and np.array_equal(engine.excludes[-1], excluded)
    assert np.array_equal(document.exclude, excluded)  # the steering stays for the next fill

    window.act["clear_exclude"].trigger()
    assert not document.exclude.any()
    window.act["undo"].trigger()
    assert np.array_equal(document.exclude, excluded)
    window.act["redo"].trigger()
    fill_stroke(qtbot, window)
    assert engine.excludes[-1] is None


def test_export_writes_the_exclude_area_beside_the_mask(window, photo, monkeypatch):
    canvas, document = window.canvas, window.document
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda parent, caption, directory, filters: (directory, filters)))
    drag(canvas, [(60, 60), (120, 80)])
    assert window.files.export_mask()
    assert not photo.with_name("kodak_0003_mask_exclude.png").exists()  # no exclude area, no file
    canvas.set_tool(Tool.EXCLUDE)
    drag(canvas, [(150, 150), (220, 150)])
    assert window.files.export_mask()
    mask = np.asarray(Image.open(photo.with_name("kodak_0003_mask.png")).convert("L")) > 127
    exclude = np.asarray(Image.open(photo.with_name("kodak_0003_mask_exclude.png")).convert("L")) > 127
    np.testing.assert_array_equal(mask, document.mask)
    np.testing.assert_array_equal(exclude, document.exclude)


def test_a_real_fill_on_a_large_photo_borrows_nothing_from_the_excluded_area(qtbot, tmp_path, golden_weights,
                                                                              dialogs, photo):
    """Golden weights on a 1024x768 photo: the crop strategy fills a sub-rectangle, and the inspector's
    coordinates, the exclude mask and the engine's sources agree."""
    large = tmp_path / "large.png"
    Image.open(photo).resize((1024, 768), Image.BICUBIC).save(large)
    window = make_window(qtbot, tmp_path, weights=str(golden_weights))
    assert window.worker.is_ready, window.worker.error
    assert window.files.open_path(large)
    canvas, document = window.canvas, window.document
    canvas.set_brush_size(30)
    drag(canvas, [(500, 400), (560, 420)])
    canvas.set_tool(Tool.EXCLUDE)
    canvas.set_brush_size(50)
    # below and right of the hole: where this model borrows three quarters or more of these pixels from, if free to
    drag(canvas, [(440, 465), (600, 465), (600, 350)])
    assert window.fills.start(window.document)
    wait_for_fill(qtbot, window)
    result = window.inspector.result
    x0, y0, x1, y1 = result.box
    assert (x1 - x0, y1 - y0) != (1024, 768) and x0 > 0 and y0 > 0  # a crop around the hole
    excluded = document.exclude[y0:y1, x0:x1]
    assert 0.1 < excluded.mean() < 0.9
    canvas.set_tool(Tool.INSPECT)
    # zoomed out, a screen pixel covers several photo pixels: zoom in to point at exact ones
    canvas.zoom_to_percent(200, QPointF(view_point(canvas, 530, 410)))
    for x, y in ((530, 410), (505, 402), (555, 418)):
        heat = result.sources(x, y)
        assert heat.sum() > 0.5 and heat[excluded].sum() == 0
        for (bx0, by0, bx1, by1), weight in result.top_sources(x, y):
            assert not document.exclude[by0:by1, bx0:bx1].any()
        hover(qtbot, canvas, x, y)
        assert_shows(window, x, y)
    canvas.zoom_to_percent(400, QPointF(view_point(canvas, 530, 410)))
    hover(qtbot, canvas, 540, 415)
    assert_shows(window, 540, 415)
    window.act["undo"].trigger()
    assert_shows_nothing(window)
