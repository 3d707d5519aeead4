"""The current tool's options in the toolbar, kept in step with the canvas: the brush size for the brushes, the
colour tolerance for the magic wand."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QSlider, QSpinBox, QWidget

from .canvas import MAX_BRUSH, MIN_BRUSH, Canvas
from .canvas_tools import Tool
from .selection_tools import MAX_TOLERANCE, MIN_TOLERANCE

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
        self.tolerance_spin = QSpinBox()
        self.tolerance_spin.setRange(MIN_TOLERANCE, MAX_TOLERANCE)
        self.tolerance_spin.setValue(canvas.tolerance())
        self.tolerance_spin.setToolTip("How far a colour may be from the clicked one (0-255 in each channel) and "
                                       "still be taken by the magic wand")
        self._brush = (QLabel("Size"), self.brush_slider, self.brush_spin)
        self._wand = (QLabel("Tolerance"), self.tolerance_spin)
        # as wide as its widgets want, no wider: the toolbar would otherwise stretch the spin boxes
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        for widget in (*self._brush, *self._wand):
            layout.addWidget(widget)
        self.brush_slider.valueChanged.connect(canvas.set_brush_size)
        self.brush_spin.valueChanged.connect(canvas.set_brush_size)
        canvas.brushSizeChanged.connect(self.show_brush_size)
        self.tolerance_spin.valueChanged.connect(canvas.set_tolerance)
        canvas.toleranceChanged.connect(self.tolerance_spin.setValue)
        canvas.toolChanged.connect(self.show_tool)
        self.show_brush_size(canvas.brush_size())
        self.show_tool(canvas.tool())

    def show_tool(self, tool: Tool) -> None:
        """The wand's tolerance while the wand is the tool, the brush size otherwise (the size also sets [ ])."""
        for widget in self._wand:
            widget.setVisible(tool == Tool.WAND)
        for widget in self._brush:
            widget.setVisible(tool != Tool.WAND)

    def show_brush_size(self, size: int) -> None:
        for widget in (self.brush_slider, self.brush_spin):
            widget.blockSignals(True)
            widget.setValue(size)
            widget.blockSignals(False)
