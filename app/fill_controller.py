"""Fills of the open photo: asks the engine thread for one, follows it, cancels it, and makes its result an
undoable edit of the document it was made for (or says why not). The hole the engine fills is the painted mask
grown a little (leftover outlines and halos are what removals most often leave), and the result may be pasted
with a feathered edge."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from .document import Document, FillEvidence, FillRequest
from .fill_worker import FillWorker
from .mask_ops import Crop, auto_grow, blend, paste_plan

if TYPE_CHECKING:  # the engine's module imports torch, which the UI thread never loads
    from inpaint_core.pipeline import InpaintResult


@dataclass(frozen=True)
class FillOptions:
    grow: int | None = None      # pixels the mask grows before the fill; None: auto_grow() for the photo
    feather: int = 0             # pixels beyond that over which the paste fades out
    on_release: bool = False     # fill when a brush stroke ends


class FillController(QObject):
    message = Signal(str, int)            # status-bar text and how long to show it (ms; 0 = until replaced)
    filled = Signal(object, object)       # FillEvidence, InpaintResult: a fill became part of the photo

    def __init__(self, worker: FillWorker, dialog_parent: QWidget) -> None:
        super().__init__(dialog_parent)
        self.worker = worker
        self._parent = dialog_parent
        self.options = FillOptions()
        self._document: Document | None = None   # the photo the running fill is for
        self._weights: Crop | None = None        # how its result is pasted (None: as it is)
        self._again = False                      # a stroke ended while it ran: fill again when it is done
        worker.finished.connect(self._on_finished)
        worker.cancelled.connect(self._on_cancelled)
        worker.failed.connect(self._on_failed)

    def start(self, document: Document | None) -> bool:
        """Start filling the document's masked area in the background; False when there is nothing to do or it
        cannot be done now (with a message)."""
        if document is None or self.worker.is_busy:
            return False
        if not self.worker.is_ready:
            self.message.emit(self.worker.error or "The model is still loading…", 5000)
            return False
        request = document.fill_request()
        if request is None:
            self.message.emit("Paint over what to remove first: the mask is empty.", 5000)
            return False
        grow = self.options.grow if self.options.grow is not None else auto_grow(document.width, document.height)
        hole, self._weights = paste_plan(request.mask, grow, self.options.feather)
        self._document = document
        return self.worker.start(replace(request, mask=hole))

    def stroke_finished(self, document: Document | None, layer: str, erasing: bool) -> None:
        """With "fill on release": a brush stroke that added to the hole fills it, right away or, while a fill
        runs, as soon as that one is done."""
        if not self.options.on_release or layer != "mask" or erasing or document is None:
            return
        if self.worker.is_busy:
            self._again = True
        else:
            self.start(document)

    def cancel(self) -> None:
        self._again = False
        self.worker.cancel()
        if self.worker.is_busy:
            self.message.emit("Cancelling…", 0)

    def forget(self) -> None:
        """The photo is being closed or replaced: stop its fill, whose result would have nowhere to go."""
        self.worker.cancel()
        self._document = None
        self._again = False

    def _on_finished(self, request: FillRequest, result: InpaintResult) -> None:
        document, self._document = self._document, None
        again, self._again = self._again, False
        if document is None:
            return  # the photo it was for has been closed
        seconds = float(result.timings.get("total", 0.0))
        evidence = FillEvidence(tuple(int(v) for v in result.box), result.coarse, result.refined, result.flow_rgb,
                                seconds)
        composite = result.composite
        if self._weights is not None and composite.shape == request.image.shape:
            composite = blend(request.image, composite, self._weights)
        try:
            applied = document.apply_fill(request, composite, evidence)
        except ValueError as exc:
            QMessageBox.warning(self._parent, "Fill failed", f"The fill's result does not fit the photo: {exc}")
            return
        if not applied:
            QMessageBox.information(self._parent, "Fill discarded",
                                    "The photo was changed (undo or redo) while the fill ran, so its result no "
                                    "longer fits. Nothing was changed; fill again.")
            self.message.emit("", 0)
            return
        self.filled.emit(evidence, result)
        self.message.emit(f"Filled in {seconds:.2f} s", 5000)
        if again:
            self.start(document)

    def _on_cancelled(self, request: FillRequest) -> None:
        self._document = None
        self._again = False
        self.message.emit("Fill cancelled; the photo is unchanged.", 5000)

    def _on_failed(self, request: FillRequest, message: str) -> None:
        self._document = None
        self._again = False
        self.message.emit("", 0)
        QMessageBox.warning(self._parent, "Fill failed",
                            f"The fill did not complete; the photo is unchanged.\n\n{message}")
