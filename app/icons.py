"""The editor's icons: SVG drawings in resources/icons, tinted with the palette's text colour so the same
drawings read in light and dark themes; accent strokes keep their own colour."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QRectF, QSize, Qt
from PySide6.QtGui import QGuiApplication, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer

ICON_DIR = Path(__file__).resolve().parent.parent / "resources" / "icons"
_SIZES = (16, 20, 24, 32, 48)
_DISABLED_OPACITY = 0.35


def app_icon() -> QIcon:
    return QIcon(str(ICON_DIR / "app.svg"))


def themed_icon(name: str, palette: QPalette | None = None) -> QIcon:
    """The icon ``resources/icons/<name>.svg`` with ``currentColor`` drawn in the palette's button text colour,
    rendered at the screens' highest device pixel ratio so it stays sharp on high-DPI displays."""
    palette = palette or QGuiApplication.palette()
    colour = palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.ButtonText).name()
    svg = (ICON_DIR / f"{name}.svg").read_text(encoding="utf-8").replace("currentColor", colour)
    renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
    if not renderer.isValid():
        raise ValueError(f"{name}.svg is not a valid SVG drawing")
    ratio = max((screen.devicePixelRatio() for screen in QGuiApplication.screens()), default=1.0)
    icon = QIcon()
    for size in _SIZES:
        for mode, opacity in ((QIcon.Mode.Normal, 1.0), (QIcon.Mode.Disabled, _DISABLED_OPACITY)):
            pixmap = QPixmap(QSize(size, size) * ratio)
            pixmap.setDevicePixelRatio(ratio)
            pixmap.fill(Qt.GlobalColor.transparent)
            painter = QPainter(pixmap)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setOpacity(opacity)
            renderer.render(painter, QRectF(0, 0, size, size))
            painter.end()
            icon.addPixmap(pixmap, mode)
    return icon
