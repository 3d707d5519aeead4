"""The Select Object and Magic Wand tools: what they do with the mouse, and running their computation
(selection.py) on a worker thread so the editor stays responsive on 12-48 MP photos. Each result becomes one
undoable edit of the hole mask, which the brush, eraser and Alt then edit as usual."""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtWidgets import QGraphicsRectItem, QGraphicsScene

from .canvas_tools import CLICK_SLOP, BoxHandler, Modifiers, ToolHandler, ToolHost, preview_item
from .document import Document
from .patches import bounding_box
from .raster import rect_footprint
from .selection import Box, Hint, refine_labels, select_object, similar_region

MIN_TOLERANCE, MAX_TOLERANCE, DEFAULT_TOLERANCE = 0, 255, 32


class SelectionRunner(QObject):
    """Runs one computation at a time on a worker thread and hands its result to a callback on the UI thread;
    when a newer one was asked for meanwhile, the older result is dropped."""

    failed = Signal(str)
    _delivered = Signal(int, object, object)   # job, result, exception

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="selection")
        self._latest = 0
        self._callbacks: dict[int, Callable[[Any], None]] = {}
        self._delivered.connect(self._deliver)

    @property
    def busy(self) -> bool:
        return self._latest in self._callbacks

    def run(self, compute: Callable[[], Any], done: Callable[[Any], None]) -> None:
        self._latest += 1
        job = self._latest
        self._callbacks[job] = done

        def work() -> None:
            try:
                result, error = compute(), None
            except Exception as exc:  # noqa: BLE001 - reported in the status bar, never a crash
                result, error = None, exc
            try:
                self._delivered.emit(job, result, error)
            except RuntimeError:
                pass  # the canvas has been destroyed: nobody is waiting for the answer

        self._executor.submit(work)

    def _deliver(self, job: int, result: Any, error: BaseException | None) -> None:
        done = self._callbacks.pop(job)
        if job != self._latest:
            return
        if error is not None:
            self.failed.emit(f"Selection failed: {error}")
        else:
            done(result)


class SelectionHost(ToolHost, Protocol):
    def tolerance(self) -> int:
        """The magic wand's colour tolerance (0-255 per channel)."""
        ...


@dataclass
class Proposal:
    """The object Select Object found last: where, and what it put in the mask (to tell the user's edits)."""

    document: Document
    box: Box
    proposed: np.ndarray
    hints: list[Hint] = field(default_factory=list)


class ObjectHandler(BoxHandler):
    """Drag a box around an object: GrabCut adds the object to the mask (Alt takes it out). Click inside the last
    object's box to refine it: the object reaches there (Alt: it does not)."""

    def __init__(self, host: ToolHost, scene: QGraphicsScene, runner: SelectionRunner,
                 message: Callable[[str], None]) -> None:
        super().__init__(host, scene)
        self._runner, self._message = runner, message
        self._outline = preview_item(QGraphicsRectItem(), scene)  # the last object's box: clicks there refine it
        self._outline.setBrush(Qt.BrushStyle.NoBrush)
        self.proposal: Proposal | None = None

    def drag(self, at: QPointF) -> None:
        if self._start is not None and self._host.view_distance(self._start, at) >= CLICK_SLOP:
            self._outline.setVisible(False)  # a new box, not a refining click
        super().drag(at)

    def finish(self, start: QPointF, end: QPointF) -> None:
        document = self._host.document()
        if self._host.view_distance(start, end) < CLICK_SLOP:
            self._preview.setVisible(False)
            self._refine(document, end)
            return
        footprint = rect_footprint((start.x(), start.y()), (end.x(), end.y()))
        if footprint is None:
            self._preview.setVisible(False)
            return
        x0, y0, inside = footprint
        box = (x0, y0, x0 + inside.shape[1], y0 + inside.shape[0])
        subtract, state = self._subtract, document.image_state
        self._message("Selecting the object…")
        self._runner.run(lambda: select_object(document.image, box),
                         lambda found: self._add(document, state, box, found, subtract))

    def _add(self, document: Document, state: int, box: Box, found: np.ndarray, subtract: bool) -> None:
        self._preview.setVisible(False)
        if not self._current(document, state):
            return
        x0, y0, x1, y1 = box
        changed = document.apply_footprint("mask", (x0, y0, found), not subtract,
                                           "Subtract Object" if subtract else "Select Object")
        if not found.any():
            self._message("No object found in the box: drag a box that holds it whole.")
        elif not subtract and changed:
            self.proposal = Proposal(document, box, document.mask[y0:y1, x0:x1].copy())
            self._message("Object selected: click inside its box to add a missed part, Alt+click to drop one.")
        self.activate()

    def _refine(self, document: Document, at: QPointF) -> None:
        proposal = self.proposal
        if proposal is None or proposal.document is not document or not _contains(proposal.box, at):
            self._message("Drag a box around the object to select it.")
            return
        x0, y0, x1, y1 = box = proposal.box
        proposal.hints.append(Hint(at.x(), at.y(), not self._subtract))
        current = document.mask[y0:y1, x0:x1].copy()
        hints, proposed, state = list(proposal.hints), proposal.proposed, document.image_state
        self._message("Refining the object…")
        self._runner.run(lambda: select_object(document.image, box, refine_labels(current, proposed, hints, box)),
                         lambda found: self._replace(document, state, proposal, current, found))

    def _replace(self, document: Document, state: int, proposal: Proposal, current: np.ndarray,
                 found: np.ndarray) -> None:
        if not self._current(document, state):
            return
        x0, y0, x1, y1 = proposal.box
        now = document.mask[y0:y1, x0:x1]
        # what was painted while GrabCut ran stays painted
        document.set_region("mask", x0, y0, np.where(now != current, now, found), "Refine Object")
        proposal.proposed = document.mask[y0:y1, x0:x1].copy()
        self._message("")

    def _current(self, document: Document, state: int) -> bool:
        """The result still fits: same photo, same pixels (a fill or undo would have changed them)."""
        if document is self._host.document() and document.image_state == state:
            return True
        self._message("The photo changed while the selection was computed: select again.")
        return False

    def activate(self) -> None:
        proposal = self.proposal
        if proposal is not None and proposal.document is self._host.document():
            x0, y0, x1, y1 = proposal.box
            self._outline.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
            self._outline.setVisible(True)

    def cancel(self) -> None:
        self._start = None
        self._outline.setVisible(False)
        if not self._runner.busy:  # a box being computed stays shown until its object arrives
            self._preview.setVisible(False)


def _contains(box: Box, at: QPointF) -> bool:
    x0, y0, x1, y1 = box
    return x0 <= at.x() < x1 and y0 <= at.y() < y1


class WandHandler(ToolHandler):
    """Click a region: the connected pixels of similar colour become the mask; Shift adds them, Alt subtracts."""

    def __init__(self, host: SelectionHost, runner: SelectionRunner, message: Callable[[str], None]) -> None:
        self._host, self._runner, self._message = host, runner, message

    def press(self, at: QPointF, modifiers: Modifiers) -> None:
        document = self._host.document()
        x, y = int(at.x()), int(at.y())
        if not (0 <= x < document.width and 0 <= y < document.height):
            return
        mode = ("subtract" if modifiers & Modifiers.AltModifier
                else "add" if modifiers & Modifiers.ShiftModifier else "replace")
        tolerance, state = self._host.tolerance(), document.image_state
        self._runner.run(lambda: similar_region(document.image, (x, y), tolerance),
                         lambda region: self._apply(document, state, region, mode))

    def _apply(self, document: Document, state: int, region: tuple[int, int, np.ndarray], mode: str) -> None:
        if document is not self._host.document() or document.image_state != state:
            return
        if mode != "replace":
            document.apply_footprint("mask", region, mode == "add",
                                     "Magic Wand (add)" if mode == "add" else "Magic Wand (subtract)")
            return
        # replace: the region becomes the whole mask, over the box of what was masked and what is now
        x, y, inside = region
        h, w = inside.shape
        x0, y0, x1, y1 = x, y, x + w, y + h
        old = bounding_box(document.mask)
        if old is not None:
            x0, y0, x1, y1 = min(x0, old[0]), min(y0, old[1]), max(x1, old[2]), max(y1, old[3])
        after = np.zeros((y1 - y0, x1 - x0), bool)
        after[y - y0:y - y0 + h, x - x0:x - x0 + w] = inside
        document.set_region("mask", x0, y0, after, "Magic Wand")
