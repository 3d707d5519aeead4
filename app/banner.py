"""The line above the canvas that says why Fill is unavailable when the model cannot be loaded."""
from __future__ import annotations

from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QLabel, QWidget


class EngineBanner(QLabel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setVisible(False)
        self.setContentsMargins(10, 6, 10, 6)

    def show_error(self, message: str) -> None:
        self.setText(f"<b>The model could not be loaded, so Fill is unavailable.</b> {message}")
        self.setVisible(True)

    def set_theme(self, palette: QPalette) -> None:
        """A warning's amber, dark or light to read on the window's theme (the window follows palette changes: a
        style sheet set here would change this label's own palette)."""
        dark = palette.color(QPalette.ColorRole.Window).lightness() < 128
        background, foreground = ("#4a3b10", "#ffe6a3") if dark else ("#fff3cd", "#5a4500")
        self.setStyleSheet(f"background: {background}; color: {foreground};")
