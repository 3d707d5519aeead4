"""The docks beside the canvas: Fill Settings, then the evidence panels (coarse, refined, attention flow) stacked
below it, each following and steering the canvas."""
from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu, QScrollArea, QWidget

from .canvas import Canvas
from .document import FillEvidence
from .panels import PANELS, EvidencePanel


class Docks:
    def __init__(self, window: QMainWindow, canvas: Canvas, settings_panel: QWidget) -> None:
        self._window = window
        # scrolls rather than making the window taller than a small screen when the dock is short
        scroller = QScrollArea()
        scroller.setWidget(settings_panel)
        scroller.setWidgetResizable(True)
        scroller.setFrameShape(QScrollArea.Shape.NoFrame)
        scroller.setToolTip(settings_panel.toolTip())
        self.settings = self._dock("Fill Settings", "fillSettings", scroller)
        self.panels: dict[str, EvidencePanel] = {}
        self.panel_docks: dict[str, QDockWidget] = {}
        previous = self.settings
        for field in PANELS:
            panel = EvidencePanel(field)
            dock = self._dock(panel.title, f"panel_{field}", panel)
            window.splitDockWidget(previous, dock, Qt.Orientation.Vertical)
            self.panels[field], self.panel_docks[field] = panel, dock
            previous = dock
            panel.view.zoomRequested.connect(canvas.zoom_at_scene)
            panel.view.panRequested.connect(canvas.pan_by_scene)
            canvas.visibleRegionChanged.connect(panel.view.show_region)
        docks = [self.settings, *self.panel_docks.values()]
        window.resizeDocks(docks, [300] * len(docks), Qt.Orientation.Horizontal)
        # settings: seven rows; the flow panel: its switch above the view
        window.resizeDocks(docks, [262, 165, 165, 195], Qt.Orientation.Vertical)

    def _dock(self, title: str, name: str, widget: QWidget) -> QDockWidget:
        dock = QDockWidget(title, self._window)
        dock.setObjectName(name)  # saveState() needs names to restore the layout
        dock.setWidget(widget)
        dock.setToolTip(widget.toolTip())
        self._window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        return dock

    def add_toggles(self, menu: QMenu) -> None:
        """Show / hide entries for every dock."""
        for dock in (self.settings, *self.panel_docks.values()):
            menu.addAction(dock.toggleViewAction())

    def show_evidence(self, evidence: FillEvidence | None, region: QRectF) -> None:
        """The last fill's outputs (or none), framed to ``region``, the image rectangle the canvas shows."""
        for panel in self.panels.values():
            panel.show_evidence(evidence)
            panel.view.show_region(region)
