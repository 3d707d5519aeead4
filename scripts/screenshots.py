"""Screenshots of the editor for the README: before and after a fill, in a light and a dark theme, the
source inspector at work on a fill steered away from part of the photo, Select Object on a photo, the variations
of a fill, and the keyboard shortcuts list.

    xvfb-run -s "-screen 0 1600x1000x24" sh -c 'openbox & QT_QPA_PLATFORM=xcb .venv/bin/python scripts/screenshots.py'
    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/screenshots.py [--weights FILE] [--out docs/screenshots]

Under Xvfb the windows are real X11 windows (the xcb plugin), as a user sees them; a window manager (openbox)
gives the shortcuts dialog its frame and title. Offscreen needs no X server.

Without --weights it uses the shipped weights, or, while none ship, weights converted from the golden
checkpoint in ../shared (random weights: the fill looks like noise, but it is the model's real output).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from PySide6.QtCore import QEvent, QPoint, QPointF, QSettings, Qt  # noqa: E402
from PySide6.QtGui import QColor, QHelpEvent, QPainter, QPalette  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.canvas_tools import Tool  # noqa: E402
from app.main_window import MainWindow  # noqa: E402
from app.raster import polygon_footprint, segment_footprint  # noqa: E402

SHARED = REPO.parent / "shared"
PHOTO = SHARED / "data" / "eval" / "kodak_0021.jpg"   # the Portland Head lighthouse; we remove the tower
BEACH = SHARED / "data" / "eval512" / "kodak_0012.jpg"  # a couple walking out of the sea
SWIMMER = [(160, 58), (282, 372)]                     # a box around the man and the flippers he carries
TOWER = [(97, 31), (123, 31), (130, 156), (89, 156)]
EXCLUDED = [(60, 30), (60, 150)]    # a stroke left of the tower, where the fill borrows from when free to
INSPECTED = (112, 104)              # a filled pixel halfway up the tower


def dark_palette() -> QPalette:
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: "#2b2d30", QPalette.ColorRole.WindowText: "#dfe1e5",
        QPalette.ColorRole.Base: "#1e1f22", QPalette.ColorRole.AlternateBase: "#2b2d30",
        QPalette.ColorRole.Text: "#dfe1e5", QPalette.ColorRole.Button: "#393b40",
        QPalette.ColorRole.ButtonText: "#dfe1e5", QPalette.ColorRole.Highlight: "#3574f0",
        QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.ToolTipBase: "#393b40",
        QPalette.ColorRole.ToolTipText: "#dfe1e5", QPalette.ColorRole.PlaceholderText: "#8c8f94",
        QPalette.ColorRole.Mid: "#4e5157", QPalette.ColorRole.Dark: "#1e1f22", QPalette.ColorRole.Light: "#4e5157",
    }
    for role, colour in roles.items():
        palette.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6f737a"))
    return palette


def default_or_golden_weights(workdir: Path) -> str | None:
    from inpaint_core.weights import DEFAULT_WEIGHTS

    if DEFAULT_WEIGHTS.exists():
        return None
    from inpaint_core.convert_tf import convert_checkpoint

    print("no shipped weights: using the golden checkpoint's random weights (the fill will look like noise)")
    return str(convert_checkpoint(SHARED / "golden" / "deepfill_v1" / "ckpt_seed0", workdir / "golden.safetensors"))


def wait(condition, timeout_s: float = 120.0) -> None:
    """Process events until ``condition()``. Sleeping between rounds releases the GIL, as the editor's own
    event loop does; QTest.qWait holds it, which slowed the engine thread's fills tenfold (and the screenshots
    showed that time)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        QApplication.processEvents()
        time.sleep(0.02)
        if time.monotonic() > deadline:
            raise TimeoutError("the editor did not get there in time")


def activate(window: MainWindow) -> None:
    """Give the window the keyboard, as clicking it would (Xvfb runs no window manager to do it), so that keys
    reach its shortcuts."""
    window.activateWindow()
    wait(window.isActiveWindow, timeout_s=10)


def open_editor(weights: str | None, workdir: Path, name: str, photo: Path) -> MainWindow:
    """A window with settings of its own, the model loaded and ``photo`` open."""
    window = MainWindow(settings=QSettings(str(workdir / f"settings_{name}.ini"), QSettings.Format.IniFormat),
                        weights=weights)
    window.show()
    wait(lambda: window.worker.is_ready or window.worker.error is not None)
    if window.worker.error:
        raise SystemExit(f"the model did not load: {window.worker.error}")
    window.files.open_path(photo)
    return window


def shoot(weights: str | None, out: Path, suffix: str, workdir: Path, inspector: bool = False) -> None:
    window = open_editor(weights, workdir, f"fill{suffix}", PHOTO)
    document = window.document
    document.apply_footprint("mask", polygon_footprint(TOWER), True, "Lasso")
    # a brush stroke over the flag pole on the roof, as a user would paint it
    window.canvas.set_brush_size(14)
    document.begin_stroke()
    document.paint(segment_footprint((110, 22), (110, 34), 14), True)
    document.end_stroke("Brush stroke")
    QTest.qWait(50)
    window.grab().save(str(out / f"editor_before_fill{suffix}.png"))
    window.fills.start(window.document)
    wait(lambda: not window.worker.is_busy)
    QTest.qWait(50)
    window.grab().save(str(out / f"editor_after_fill{suffix}.png"))
    if inspector:
        shoot_inspector(window, out)
    document.mark_saved()
    window.close()


def shoot_inspector(window: MainWindow, out: Path) -> None:
    """Undo the fill, keep the fill from borrowing left of the tower, fill again and rest the pointer on a filled
    pixel until its tooltip shows."""
    window.act["undo"].trigger()
    window.act["tool_exclude"].trigger()
    window.canvas.set_brush_size(36)
    document = window.document
    document.begin_stroke("exclude")
    document.paint(segment_footprint(*EXCLUDED, 36), True)
    document.end_stroke("Exclude stroke")
    window.fills.start(window.document)
    wait(lambda: not window.worker.is_busy)
    window.act["tool_inspect"].trigger()
    canvas = window.canvas
    x, y = INSPECTED
    for dx in (-2, 0):  # a move to where the pointer already is would be dropped
        QTest.mouseMove(canvas.viewport(), canvas.mapFromScene(QPointF(x + dx + 0.5, y + 0.5)))
    wait(lambda: window.inspector.point == INSPECTED, timeout_s=5)
    viewport = canvas.viewport()
    at = canvas.mapFromScene(QPointF(x + 0.5, y + 0.5))
    QApplication.sendEvent(viewport, QHelpEvent(QEvent.Type.ToolTip, at, viewport.mapToGlobal(at)))
    QTest.qWait(50)
    shot = window.grab()
    # A tooltip is a window of its own, which grabbing the main window leaves out: paint it in below the pointer,
    # where Qt puts it on a screen large enough (the offscreen screen is smaller than the window).
    tip = next(w for w in QApplication.topLevelWidgets() if w.inherits("QTipLabel") and w.isVisible())
    painter = QPainter(shot)
    painter.drawPixmap(viewport.mapTo(window, at) + QPoint(2, 16), tip.grab())
    painter.end()
    shot.save(str(out / "inspector.png"))


def shoot_select_object(weights: str | None, out: Path, workdir: Path) -> None:
    """Select Object (O) dragged around a person on a beach: GrabCut's proposal as the mask, its box outlined."""
    window = open_editor(weights, workdir, "select", BEACH)
    canvas = window.canvas
    activate(window)
    QTest.keyClick(canvas, Qt.Key.Key_O)
    wait(lambda: canvas.tool() == Tool.OBJECT, timeout_s=10)
    viewport = canvas.viewport()
    (x0, y0), (x1, y1) = SWIMMER
    start, end = canvas.mapFromScene(QPointF(x0, y0)), canvas.mapFromScene(QPointF(x1, y1))
    QTest.mouseMove(viewport, start)
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(viewport, (start + end) / 2)
    QTest.mouseMove(viewport, end)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)
    wait(lambda: not canvas.selections.busy)
    QTest.mouseMove(viewport, end + QPoint(40, 10))  # the pointer off the selection
    QTest.qWait(100)
    window.grab().save(str(out / "select_object.png"))
    window.document.mark_saved()
    window.close()


def shoot_variations(weights: str | None, out: Path, workdir: Path) -> None:
    """The tower filled (Ctrl+Return), two more variations (Ctrl+Shift+Return), then back one (Alt+Left): the bar
    over the canvas reads "Variation 2 of 3". Every step is the real key, as a user presses it."""
    window = open_editor(weights, workdir, "variations", PHOTO)
    canvas = window.canvas
    activate(window)
    window.document.apply_footprint("mask", polygon_footprint(TOWER), True, "Lasso")
    ctrl, shift, alt = (Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier,
                        Qt.KeyboardModifier.AltModifier)
    for key, modifiers in ((Qt.Key.Key_Return, ctrl), (Qt.Key.Key_Return, ctrl | shift),
                           (Qt.Key.Key_Return, ctrl | shift), (Qt.Key.Key_Left, alt)):
        QTest.keyClick(canvas, key, modifiers)
        wait(lambda: not window.worker.is_busy)
    wait(lambda: window.variation_bar.isVisible() and window.variation_bar.label.text() == "Variation 2 of 3",
         timeout_s=10)
    QTest.qWait(50)
    window.grab().save(str(out / "variations.png"))
    window.document.mark_saved()
    window.close()


def shoot_shortcuts(weights: str | None, out: Path, workdir: Path) -> None:
    """Help > Keyboard Shortcuts (F1) over the editor, a search typed in: the screen as it looks."""
    window = open_editor(weights, workdir, "keys", PHOTO)
    activate(window)
    QTest.keyClick(window.canvas, Qt.Key.Key_F1)
    wait(lambda: window.shortcuts_dialog is not None and window.shortcuts_dialog.isVisible(), timeout_s=10)
    dialog = window.shortcuts_dialog
    dialog.resize(520, 560)
    QTest.keyClicks(dialog.search, "mask")
    QTest.qWait(200)
    screen = QApplication.primaryScreen()
    if QApplication.platformName() == "xcb":
        # the whole X screen, cropped to the window: the dialog is a window of its own, drawn over the editor
        top_left = window.frameGeometry().topLeft()
        shot = screen.grabWindow(0, top_left.x(), top_left.y(), window.frameGeometry().width(),
                                 window.frameGeometry().height())
    else:
        shot = window.grab()
        painter = QPainter(shot)
        painter.drawPixmap(dialog.geometry().topLeft() - window.geometry().topLeft(), dialog.grab())
        painter.end()
    shot.save(str(out / "shortcuts.png"))
    dialog.close()
    window.document.mark_saved()
    window.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", help="weights file (default: shipped, else golden-converted)")
    parser.add_argument("--out", default=str(REPO / "docs" / "screenshots"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication([sys.argv[0]])
    app.setStyle("Fusion")  # the same look on every machine that runs this script
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        weights = args.weights or default_or_golden_weights(workdir)
        shoot(weights, out, "", workdir, inspector=True)
        shoot_select_object(weights, out, workdir)
        shoot_variations(weights, out, workdir)
        shoot_shortcuts(weights, out, workdir)
        app.setPalette(dark_palette())
        shoot(weights, out, "_dark", workdir)
    print(f"screenshots in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
