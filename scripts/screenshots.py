"""Screenshots of the editor for the README: before and after a fill, in a light and a dark theme.

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/screenshots.py [--weights FILE] [--out docs/screenshots]

Without --weights it uses the shipped weights, or, while none ship, weights converted from the golden
checkpoint in ../shared (random weights: the fill looks like noise, but it is the model's real output).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtGui import QColor, QPalette  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.main_window import MainWindow  # noqa: E402
from app.raster import polygon_footprint, segment_footprint  # noqa: E402

SHARED = REPO.parent / "shared"
PHOTO = SHARED / "data" / "eval" / "kodak_0021.jpg"   # the Portland Head lighthouse; we remove the tower
TOWER = [(97, 31), (123, 31), (130, 156), (89, 156)]


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
    waited = 0
    while not condition():
        QTest.qWait(20)
        waited += 0.02
        if waited > timeout_s:
            raise TimeoutError("the editor did not get there in time")


def shoot(weights: str | None, out: Path, suffix: str, workdir: Path) -> None:
    settings = QSettings(str(workdir / f"settings{suffix}.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, weights=weights)
    window.show()
    wait(lambda: window.worker.is_ready or window.worker.error is not None)
    if window.worker.error:
        raise SystemExit(f"the model did not load: {window.worker.error}")
    window.open_path(PHOTO)
    document = window.document
    document.apply_footprint("mask", polygon_footprint(TOWER), True, "Lasso")
    # a brush stroke over the flag pole on the roof, as a user would paint it
    window.canvas.set_brush_size(14)
    document.begin_stroke()
    document.paint(segment_footprint((110, 22), (110, 34), 14), True)
    document.end_stroke("Brush stroke")
    QTest.qWait(50)
    window.grab().save(str(out / f"editor_before_fill{suffix}.png"))
    window.fill()
    wait(lambda: not window.worker.is_busy)
    QTest.qWait(50)
    window.grab().save(str(out / f"editor_after_fill{suffix}.png"))
    document.mark_saved()
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
        shoot(weights, out, "", workdir)
        app.setPalette(dark_palette())
        shoot(weights, out, "_dark", workdir)
    print(f"screenshots in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
