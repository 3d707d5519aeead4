"""Screenshots of the editor for the README: before and after a fill, in a light and a dark theme, and the
attention inspector at work on a fill steered away from part of the photo.

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/screenshots.py [--weights FILE] [--out docs/screenshots]

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

from PySide6.QtCore import QEvent, QPoint, QPointF, QSettings  # noqa: E402
from PySide6.QtGui import QColor, QHelpEvent, QPainter, QPalette  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.main_window import MainWindow  # noqa: E402
from app.raster import polygon_footprint, segment_footprint  # noqa: E402

SHARED = REPO.parent / "shared"
PHOTO = SHARED / "data" / "eval" / "kodak_0021.jpg"   # the Portland Head lighthouse; we remove the tower
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


def shoot(weights: str | None, out: Path, suffix: str, workdir: Path, inspector: bool = False) -> None:
    settings = QSettings(str(workdir / f"settings{suffix}.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, weights=weights)
    window.show()
    wait(lambda: window.worker.is_ready or window.worker.error is not None)
    if window.worker.error:
        raise SystemExit(f"the model did not load: {window.worker.error}")
    window.files.open_path(PHOTO)
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
        app.setPalette(dark_palette())
        shoot(weights, out, "_dark", workdir)
    print(f"screenshots in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
