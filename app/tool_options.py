"""The current tool's options in the toolbar: the brush size for the brushes, kept in step with the canvas."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QSpinBox, QWidget

from .canvas import MAX_BRUSH, MIN_BRUSH, Canvas

SLIDER_MAX = 500  # the slider covers usual sizes; the spin box and [ ] go up to MAX_BRUSH


class ToolOptions(QWidget):
    def __init__(self, canvas: Canvas, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.brush_slider = QSlider(Qt.Orientation.Horizontal)
        self.brush_slider.setRange(MIN_BRUSH, SLIDER_MAX)
        self.brush_slider.setFixedWidth(120)
        self.brush_slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keep keys ([, ], space, \) on the canvas
        self.brush_slider.setToolTip("Brush size in photo pixels ([ and ])")
        self.brush_spin = QSpinBox()
        self.brush_spin.setRange(MIN_BRUSH, MAX_BRUSH)
        self.brush_spin.setSuffix(" px")
        self.brush_spin.setToolTip(self.brush_slider.toolTip())
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        for widget in (QLabel("Size"), self.brush_slider, self.brush_spin):
            layout.addWidget(widget)
        self.brush_slider.valueChanged.connect(canvas.set_brush_size)
        self.brush_spin.valueChanged.connect(canvas.set_brush_size)
        canvas.brushSizeChanged.connect(self.show_brush_size)
        self.show_brush_size(canvas.brush_size())

    def show_brush_size(self, size: int) -> None:
        for widget in (self.brush_slider, self.brush_spin):
            widget.blockSignals(True)
            widget.setValue(size)
            widget.blockSignals(False)
