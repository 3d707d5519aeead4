"""The status bar: a fill's progress and its Cancel button while it runs; the photo's size, the zoom, where the
model runs and how long the last fill took."""
from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar, QToolButton, QWidget


class StatusBar(QStatusBar):
    def __init__(self, cancel_action: QAction, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 100)
        self.progress_bar.setFixedWidth(160)
        self.progress_bar.setVisible(False)
        self.cancel_button = QToolButton()
        self.cancel_button.setDefaultAction(cancel_action)
        self.cancel_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.cancel_button.setAutoRaise(True)
        self.cancel_button.setVisible(False)
        self.size_label = self._label("Photo size in pixels")
        self.zoom_label = self._label("Zoom: 100 % is one photo pixel per screen pixel")
        self.device_label = self._label("Where the model runs")
        self.fill_time_label = self._label("How long the last fill took: the network and the texture stage")
        for widget in (self.progress_bar, self.cancel_button, self.size_label, self.zoom_label, self.device_label,
                       self.fill_time_label):
            self.addPermanentWidget(widget)

    @staticmethod
    def _label(tip: str) -> QLabel:
        label = QLabel()
        label.setToolTip(tip)
        return label

    def set_busy(self, busy: bool) -> None:
        """Show the progress bar and Cancel while a fill runs."""
        self.progress_bar.setValue(0)
        self.progress_bar.setVisible(busy)
        self.cancel_button.setVisible(busy)
        if busy:
            self.showMessage("Filling…")

    def show_progress(self, fraction: float, text: str) -> None:
        self.progress_bar.setValue(int(round(fraction * 100)))
        if text:
            self.showMessage(text)

    def show_photo_size(self, size: tuple[int, int] | None) -> None:
        """(width, height) of the open photo, or None when there is none (which also clears the zoom)."""
        self.size_label.setText(f"{size[0]} × {size[1]}" if size else "")
        if size is None:
            self.zoom_label.setText("")

    def show_zoom(self, percent: float) -> None:
        self.zoom_label.setText(f"{percent:.0f} %")

    def show_device(self, text: str) -> None:
        self.device_label.setText(text)

    def show_fill_time(self, timings: Mapping[str, float] | None, variation: bool = False) -> None:
        """How long the fill shown took (the engine's timings), with its two stages when the texture stage ran;
        a variation ran the texture stage alone."""
        if timings is None:
            self.fill_time_label.setText("")
            return
        total = timings.get("total", 0.0)
        texture = timings.get("texture")
        if variation:
            text = f"Variation {total:.2f} s"
        elif texture is None:
            text = f"Fill {total:.2f} s"
        else:
            text = f"Fill {total:.2f} s (network {total - texture:.2f} s, texture {texture:.2f} s)"
        self.fill_time_label.setText(text)
