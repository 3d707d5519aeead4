"""The source inspector: point at a pixel the last fill made and see where it came from, as a heat map over the
photo, the strongest source patches outlined, and a marker on the evidence panels. The sources are the fill's own
(``InpaintResult.evidence()``): the one patch the texture stage copied a pixel from, when the stage ran; the
patches contextual attention borrowed from, otherwise.

Attention is computed per matching cell (8x8 model pixels), so every pixel of a cell has the same sources, and the
texture stage's per pixel: what is shown is cached per cell (or pixel), and moving inside a cell only moves the
marker. Hover updates are throttled to one per HOVER_INTERVAL_MS, always ending on where the pointer stopped.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import cv2
import numpy as np
from PySide6.QtCore import QObject, QPointF, QTimer, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QToolTip

from inpaint_core.sources import heat_colours

from .canvas import Canvas
from .canvas_items import CrosshairItem, HeatOverlayItem, SourceBoxItem
from .document import Document, FillEvidence
from .panels import EvidenceView
from .qimage import BufferImage, write_argb32

if TYPE_CHECKING:  # the engine's module imports torch, which the UI thread never loads
    from inpaint_core.pipeline import InpaintResult

TOP_K = 5
HOVER_INTERVAL_MS = 30
MAX_OVERLAY_SIDE = 1024       # larger regions are drawn from a smaller heat image: it is smooth at cell scale
CACHE_BYTES = 64 * 1024 ** 2  # rendered cells kept, most recently used first
HEAT_Z, BOX_Z, MARK_Z = 2.0, 3.0, 4.0  # above the masks (0.5, 1), below selection previews (5), brush ring (10)


@dataclass(frozen=True)
class CellSources:
    """What one attention cell borrowed, or the patch one synthesised pixel was copied from: its heat map rendered
    over ``box``, and the strongest source patches."""

    box: tuple[int, int, int, int]
    overlay: BufferImage
    top: list[tuple[tuple[int, int, int, int], float]]
    total: float   # the cell's whole attention weight (just under 1)
    copied: bool = False   # made by the texture stage: ``top`` is the one patch it was copied from ...
    source: tuple[int, int] | None = None  # ... and this the photo pixel (x, y) it copied

    @property
    def nbytes(self) -> int:
        return self.overlay.pixels.nbytes


def render_heat(heat: np.ndarray) -> BufferImage:
    """A heat map as a premultiplied ARGB image, shrunk (by area, which keeps the weights' proportions) when its
    longer side exceeds MAX_OVERLAY_SIDE."""
    height, width = heat.shape
    shrink = MAX_OVERLAY_SIDE / max(height, width)
    if shrink < 1.0:
        size = (max(1, round(width * shrink)), max(1, round(height * shrink)))
        heat = cv2.resize(heat, size, interpolation=cv2.INTER_AREA)
    rgb, alpha = heat_colours(heat)
    premultiplied = np.round(rgb * alpha[..., None]).astype(np.uint8)
    buffer = BufferImage(heat.shape[1], heat.shape[0], QImage.Format.Format_ARGB32_Premultiplied)
    write_argb32(buffer.pixels, premultiplied, np.round(alpha * 255).astype(np.uint8))
    return buffer


def percent(weight: float) -> str:
    """A share of the attention as the tooltip writes it; a trace is not rounded to a misleading 0.0%."""
    return f"{weight:.1%}" if weight >= 0.0005 else "<0.1%"


def sources_text(x: int, y: int, cell: CellSources) -> str:
    """The tooltip: the patch pixel (x, y) was copied from, or each outlined source's share of its attention."""
    if cell.copied:
        (x0, y0, x1, y1), _ = cell.top[0]
        sx, sy = cell.source
        return (f"Pixel ({x}, {y}) was copied from the photo's pixel ({sx}, {sy}), in the patch ({x0}, {y0})–"
                f"({x1}, {y1}) the texture stage matched.")
    lines = [f"Pixel ({x}, {y}) borrowed from:"]
    for rank, ((x0, y0, x1, y1), weight) in enumerate(cell.top, start=1):
        lines.append(f"{rank}. {percent(weight)} from ({x0}, {y0})–({x1}, {y1})")
    shown = sum(weight for _, weight in cell.top)
    lines.append(f"These {len(cell.top)} hold {percent(shown)} of its attention (all sources: "
                 f"{percent(cell.total)}).")
    return "\n".join(lines)


class SourceInspector(QObject):
    """Listens to the canvas's inspect tool and draws on the canvas and the panels; holds the last fill's result.

    Hovering shows the pixel under the pointer; a click pins a pixel (it stays shown while the pointer moves on,
    e.g. to paint an exclude area over a source), a click outside the fill unpins. What is shown is cleared as soon
    as the document's evidence changes: after an undo the photo no longer holds that fill.
    """

    message = Signal(str)   # a line for the status bar

    def __init__(self, canvas: Canvas, markers: Iterable[EvidenceView], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._canvas = canvas
        self._views = list(markers)
        self._document: Document | None = None
        self._evidence: FillEvidence | None = None
        self._result: InpaintResult | None = None
        self._cache: OrderedDict[tuple[int, int], CellSources] = OrderedDict()
        self._shown: CellSources | None = None
        self._point: tuple[int, int] | None = None
        self._pinned = False
        self._pending: tuple[int, int] | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(HOVER_INTERVAL_MS)
        self._timer.timeout.connect(self._flush)
        scene = canvas.scene()
        self.heat_item = HeatOverlayItem()
        self.heat_item.setZValue(HEAT_Z)
        scene.addItem(self.heat_item)
        self.box_items: list[SourceBoxItem] = []
        for rank in range(TOP_K):
            item = SourceBoxItem()
            item.setZValue(BOX_Z + (TOP_K - rank) / (10 * TOP_K))  # the strongest on top
            scene.addItem(item)
            self.box_items.append(item)
        self.marker_item = CrosshairItem()  # the inspected pixel, which the pointer may have left when pinned
        self.marker_item.setZValue(MARK_Z)
        scene.addItem(self.marker_item)
        self._hide()
        canvas.documentChanged.connect(self._on_document_changed)
        canvas.inspectHovered.connect(self._on_hover)
        canvas.inspectClicked.connect(self._on_click)
        canvas.toolChanged.connect(self._on_tool_changed)
        canvas.comparingChanged.connect(self._on_comparing_changed)
        canvas.zoomChanged.connect(self._on_zoom_changed)

    # -- what is shown ----------------------------------------------------------------------------------------------
    @property
    def point(self) -> tuple[int, int] | None:
        """The photo pixel shown, or None."""
        return self._point

    @property
    def pinned(self) -> bool:
        return self._pinned

    @property
    def result(self) -> InpaintResult | None:
        """The last fill's InpaintResult (its composite dropped), while its fill is the document's last one."""
        return self._result if self.available() else None

    def shown(self) -> CellSources | None:
        return self._shown

    def tooltip(self) -> str:
        return self.heat_item.toolTip() if self._shown is not None else ""

    def available(self) -> bool:
        """Whether the photo still holds the fill whose result is kept (not undone, not replaced)."""
        return (self._result is not None and self._evidence is not None and self._document is not None
                and self._document.evidence is self._evidence)

    # -- input ------------------------------------------------------------------------------------------------------
    def set_result(self, evidence: FillEvidence, result: InpaintResult) -> None:
        """Keep a fill's result for inspection; ``evidence`` is what the fill gave the document, and inspecting
        works while the document's evidence is that object (so again after an undo is redone)."""
        self.clear()
        self._cache.clear()
        self._evidence = evidence
        # The document holds the filled photo already; a second copy would cost a photo's size for nothing.
        self._result = replace(result, composite=np.empty((0, 0, 3), np.uint8))

    def inspect(self, x: int, y: int, pin: bool = False) -> bool:
        """Show where pixel (x, y) came from (pinning it if asked); False, showing nothing, when the last fill did
        not make that pixel."""
        self._pending = None
        self._pinned = False
        shown = self._show(x, y)
        self._pinned = pin and shown
        return shown

    def clear(self) -> None:
        """Show nothing and unpin."""
        self._pending = None
        self._pinned = False
        self._hide()

    def _on_hover(self, scene_pos: QPointF) -> None:
        if self._pinned:
            return
        self._pending = _pixel(scene_pos)
        if not self._timer.isActive():
            self._flush()

    def _flush(self) -> None:
        if self._pending is None:
            return
        (x, y), self._pending = self._pending, None
        self._show(x, y)
        self._timer.start()  # nothing more until the interval is over; then the latest position, if it moved

    def _on_click(self, scene_pos: QPointF) -> None:
        x, y = _pixel(scene_pos)
        if self.inspect(x, y, pin=True):
            viewport = self._canvas.viewport()
            QToolTip.showText(viewport.mapToGlobal(self._canvas.mapFromScene(scene_pos)), self.tooltip(), viewport)
            self.message.emit(f"Pinned pixel ({x}, {y}); click outside the fill to unpin.")
        elif not self.available():
            self.message.emit("Nothing to inspect: fill first (inspecting shows the last fill, until it is undone).")
        else:
            self.message.emit("The last fill did not make this pixel: click inside the filled area.")

    def _on_document_changed(self, document: Document | None) -> None:
        if self._document is not None:
            self._document.evidenceChanged.disconnect(self.clear)
        self._document = document
        self._result = self._evidence = None
        self._cache.clear()
        self.clear()
        if document is not None:
            document.evidenceChanged.connect(self.clear)

    def _on_tool_changed(self, tool) -> None:
        if not self._pinned:
            self.clear()

    def _on_comparing_changed(self, comparing: bool) -> None:
        if self._point is not None:
            self._show(*self._point)  # hidden over the original photo, back with the current one

    def _on_zoom_changed(self, percent: float) -> None:
        scale = self._canvas.transform().m11()
        for item in self.box_items:
            item.set_view_scale(scale)

    # -- drawing ----------------------------------------------------------------------------------------------------
    def _show(self, x: int, y: int) -> bool:
        cell = self._cell(x, y)
        if cell is None:
            self._hide()
            return False
        if cell is not self._shown:
            self.heat_item.show_buffer(cell.overlay, cell.box)
            for item, (box, weight), rank in zip(self.box_items, cell.top, range(1, TOP_K + 1)):
                item.set_source(box, rank, weight)
            self._shown = cell
        if (x, y) != self._point:
            self.heat_item.setToolTip(sources_text(x, y, cell))
            shown = sum(weight for _, weight in cell.top)
            self.message.emit(f"Pixel ({x}, {y}): copied from the outlined patch by the texture stage" if cell.copied
                              else f"Pixel ({x}, {y}): the {len(cell.top)} outlined sources hold {shown:.0%} of its "
                              "attention")
        # the original photo (before/after comparison) has no fill to explain
        visible = not self._canvas.is_comparing()
        self.heat_item.setVisible(visible)
        self.marker_item.setPos(x + 0.5, y + 0.5)
        self.marker_item.setVisible(visible)
        for index, item in enumerate(self.box_items):
            item.setVisible(visible and index < len(cell.top))
        self._point = (x, y)
        for view in self._views:
            view.set_marker(QPointF(x + 0.5, y + 0.5))
        return True

    def _hide(self) -> None:
        self._shown = None
        self._point = None
        self.heat_item.setVisible(False)
        self.heat_item.setToolTip("")
        self.marker_item.setVisible(False)
        for item in self.box_items:
            item.setVisible(False)
        for view in self._views:
            view.set_marker(None)

    def _cell(self, x: int, y: int) -> CellSources | None:
        """The sources of pixel (x, y), from the cache or computed; None when the last fill did not make it."""
        if not self.available():
            return None
        for index, sources in enumerate(self._result.evidence()):
            row = sources.cell_of(x, y)
            if row is not None:
                break
        else:
            return None
        key = (index, row)
        cell = self._cache.get(key)
        if cell is not None:
            self._cache.move_to_end(key)
            return cell
        # The area's own map, not result.sources(): that one spans every region's box, which for two holes far
        # apart in a large photo is most of the photo, for a map that is zero outside this area.
        heat = sources.heat(row)
        copied = bool(self._result.texture)  # then every area's evidence is the texture stage's own
        cell = CellSources(sources.box, render_heat(heat), sources.top(row, TOP_K), float(heat.sum()),
                           copied=copied, source=sources.source(row) if copied else None)
        self._cache[key] = cell
        while sum(c.nbytes for c in self._cache.values()) > CACHE_BYTES and len(self._cache) > 1:
            self._cache.popitem(last=False)
        return cell


def _pixel(scene_pos: QPointF) -> tuple[int, int]:
    return int(np.floor(scene_pos.x())), int(np.floor(scene_pos.y()))
