"""The variations control, a small bar over the top of the canvas while the last fill has variations: ◀, which
variation the photo shows, ▶, and Another Variation. Its buttons are the window's actions, so they share their
keys, tooltips and enabled state."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QAbstractScrollArea, QFrame, QHBoxLayout, QLabel, QToolButton

from .variations import Variations

MARGIN = 8  # px between the bar and the canvas's top edge


class VariationBar(QFrame):
    def __init__(self, canvas: QAbstractScrollArea, previous: QAction, following: QAction,
                 another: QAction) -> None:
        super().__init__(canvas)  # a child of the view, not of its viewport, which scrolls its children
        self.setObjectName("variationBar")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.previous_button = self._button(previous)
        self.label = QLabel()
        self.next_button = self._button(following)
        self.another_button = self._button(another, Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(4)
        for widget in (self.previous_button, self.label, self.next_button, self.another_button):
            layout.addWidget(widget)
        self._canvas = canvas
        canvas.installEventFilter(self)
        self.setVisible(False)

    def _button(self, action: QAction,
                style: Qt.ToolButtonStyle = Qt.ToolButtonStyle.ToolButtonIconOnly) -> QToolButton:
        button = QToolButton(self)
        button.setDefaultAction(action)
        button.setToolButtonStyle(style)
        button.setAutoRaise(True)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the canvas keeps the keyboard
        return button

    def show_state(self, variations: Variations | None) -> None:
        """Show which variation the photo shows, or hide while there are none to step through."""
        if variations is None:
            self.setVisible(False)
            return
        self.label.setText(variations.describe())
        self.label.setToolTip(f"The texture stage's seed {variations.current.seed}")
        self.adjustSize()
        self._place()
        self.setVisible(True)
        self.raise_()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._canvas and event.type() == QEvent.Type.Resize:
            self._place()
        return False

    def _place(self) -> None:
        area = self._canvas.viewport().geometry()
        self.move(area.x() + (area.width() - self.width()) // 2, area.y() + MARGIN)
