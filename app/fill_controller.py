"""Fills of the open photo: asks the engine thread for one, follows it, cancels it, and makes its result an
undoable edit of the document it was made for (or says why not). The hole the engine fills is the painted mask
grown a little (leftover outlines and halos are what removals most often leave), and the result may be pasted
with a feathered edge.

After a fill made with the texture stage, Another Variation re-runs only that stage with the next seed, and the
user steps between the variations made so far; each replaces the fill in place (one undo step still goes back to
the photo before it). They are forgotten as soon as any other edit is made or another fill lands."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QMetaObject, QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from .document import Document, FillEvidence, FillRequest
from .fill_worker import FillWorker
from .mask_ops import Crop, auto_grow, blend, paste_plan
from .variations import Variation, Variations

if TYPE_CHECKING:  # the engine's module imports torch, which the UI thread never loads
    from inpaint_core.pipeline import InpaintResult


@dataclass(frozen=True)
class FillOptions:
    grow: int | None = None      # pixels the mask grows before the fill; None: auto_grow() for the photo
    feather: int = 0             # pixels beyond that over which the paste fades out
    on_release: bool = False     # fill when a brush stroke ends


class FillController(QObject):
    message = Signal(str, int)            # status-bar text and how long to show it (ms; 0 = until replaced)
    filled = Signal(object, object)       # FillEvidence, InpaintResult: a fill (or a variation) became the photo
    variationsChanged = Signal()          # one was made or shown, or they were forgotten or undone

    def __init__(self, worker: FillWorker, dialog_parent: QWidget) -> None:
        super().__init__(dialog_parent)
        self.worker = worker
        self._parent = dialog_parent
        self.options = FillOptions()
        self._document: Document | None = None   # the photo the running fill is for
        self._weights: Crop | None = None        # how its result is pasted (None: as it is)
        self._again = False                      # a stroke ended while it ran: fill again when it is done
        self._varying = False                    # the running job is a variation of the last fill
        self._variations: Variations | None = None
        self._history: QMetaObject.Connection | None = None     # to the undo stack of the variations' photo
        self._network_only: FillEvidence | None = None  # the last fill, when it had no texture stage to vary
        self._texture_skipped: str | None = None  # ... and why, when the stage was asked for (too little memory)
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
        self._document, self._varying = document, False
        return self.worker.start(replace(request, mask=hole))

    # -- variations ---------------------------------------------------------------------------------------------
    def variations(self, document: Document | None) -> Variations | None:
        """The last fill's variations while ``document`` shows one of them as its last edit, else None."""
        state = self._variations
        if state is None or document is not state.document or not document.shows_fill(state.current.evidence):
            return None
        return state

    def cannot_vary(self, document: Document | None) -> str | None:
        """Why Another Variation cannot run now, or None when it can."""
        if self.variations(document) is None:
            if document is not None and document.evidence is not None and document.evidence is self._network_only:
                if self._texture_skipped is not None:
                    return f"The last fill has no texture to vary. {self._texture_skipped}"
                return ("The last fill ran without the texture stage (Fill Settings: Texture from the photo), so "
                        "it has no texture to vary.")
            return "Fill first: a variation re-synthesises the texture of the last fill, while it is the last edit."
        if self.worker.is_busy:
            return "Wait for the running fill to finish."
        if not self.worker.is_ready:
            return self.worker.error or "The model is still loading…"
        return None

    def vary(self, document: Document | None) -> bool:
        """Start another variation of the last fill on the engine thread (the next seed); False, with a message,
        when there is none to make now."""
        reason = self.cannot_vary(document)
        if reason is not None:
            self.message.emit(reason, 5000)
            return False
        state = self._variations
        self._document, self._varying = document, True
        return self.worker.vary(state.request, state.current.result, state.next_seed())

    def step(self, document: Document | None, step: int) -> bool:
        """Show the variation ``step`` places after (negative: before) the one shown; False when there is none."""
        state = self.variations(document)
        if state is None or not state.can_step(step) or not self._show(state, state.shown + step):
            return False
        self.message.emit(f"{state.describe()} (seed {state.current.seed})", 3000)
        return True

    def _show(self, state: Variations, index: int) -> bool:
        variation = state.items[index]
        if not state.document.replace_fill(state.current.evidence, variation.pixels, variation.evidence):
            return False
        state.shown = index
        self.filled.emit(variation.evidence, variation.result)
        self.variationsChanged.emit()
        return True

    def _keep_variations(self, document: Document, request: FillRequest, composite: np.ndarray,
                         evidence: FillEvidence, result: InpaintResult) -> None:
        """A fill landed: its variations start with it, if it has a texture stage to vary."""
        self._forget_variations()
        if result.seed is None:
            self._network_only, self._texture_skipped = evidence, result.texture_skipped
        else:
            self._variations = Variations(document, request, self._weights,
                                          [self._variation(result, composite, evidence)])
            self._history = document.undo_stack.indexChanged.connect(self._on_history_changed)
        self.variationsChanged.emit()

    def _forget_variations(self) -> None:
        if self._history is not None:
            QObject.disconnect(self._history)  # harmless when the photo, and its undo stack, are already gone
        self._variations = self._history = self._network_only = self._texture_skipped = None

    def _on_history_changed(self) -> None:
        state = self._variations
        if state is not None and not state.document.holds_fill(state.current.evidence):
            self._forget_variations()  # another edit: the fill can never again be the last one
        self.variationsChanged.emit()

    def _on_varied(self, document: Document | None, result: InpaintResult) -> None:
        state = self._variations
        if document is None or self.variations(document) is None:
            self.message.emit("The photo changed (an edit or an undo) while the variation was made; it was "
                              "dropped.", 5000)
            return
        composite = self._pasted(state.request, result.composite, state.weights)
        let_go = state.add(self._variation(result, composite, self._evidence(result)))
        self._show(state, len(state.items) - 1)
        note = "; the oldest variations were let go to save memory" if let_go else ""
        self.message.emit(f"{state.describe()} (seed {result.seed}) in {state.current.evidence.seconds:.2f} s"
                          f"{note}", 5000)

    @staticmethod
    def _variation(result: InpaintResult, composite: np.ndarray, evidence: FillEvidence) -> Variation:
        x0, y0, x1, y1 = evidence.box
        # only the box is kept (the photo itself is the document's); the result without its composite likewise
        return Variation(int(result.seed), composite[y0:y1, x0:x1].copy(), evidence,
                         replace(result, composite=np.empty((0, 0, 3), np.uint8)))

    @staticmethod
    def _evidence(result: InpaintResult) -> FillEvidence:
        return FillEvidence(tuple(int(v) for v in result.box), result.coarse, result.refined, result.flow_rgb,
                            float(result.timings.get("total", 0.0)), result.texture_flow_rgb)

    @staticmethod
    def _pasted(image: np.ndarray, composite: np.ndarray, weights: Crop | None) -> np.ndarray:
        """The engine's composite pasted over the photo as the fill options say (feathered, or as it is)."""
        if weights is not None and composite.shape == image.shape:
            return blend(image, composite, weights)
        return composite

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
        """The photo is being closed or replaced: stop its fill, whose result would have nowhere to go, and
        forget its variations."""
        self.worker.cancel()
        self._document = None
        self._again = False
        self._forget_variations()
        self.variationsChanged.emit()

    def _on_finished(self, request: FillRequest, result: InpaintResult) -> None:
        document, self._document = self._document, None
        varying, self._varying = self._varying, False
        if varying:
            self._on_varied(document, result)
            return
        again, self._again = self._again, False
        if document is None:
            return  # the photo it was for has been closed
        evidence = self._evidence(result)
        seconds = evidence.seconds
        composite = self._pasted(request.image, result.composite, self._weights)
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
        self._keep_variations(document, request, composite, evidence, result)
        self.filled.emit(evidence, result)
        if result.texture_partial is not None:
            self.message.emit(f"Filled in {seconds:.2f} s; {result.texture_partial}", 20000)
        elif result.texture_skipped is None:
            self.message.emit(f"Filled in {seconds:.2f} s", 5000)
        else:
            self.message.emit(f"Filled in {seconds:.2f} s by the network alone. {result.texture_skipped}", 20000)
        if again:
            self.start(document)

    def _on_cancelled(self, request: FillRequest) -> None:
        self._document = None
        self._again = False
        what, self._varying = "Variation" if self._varying else "Fill", False
        self.message.emit(f"{what} cancelled; the photo is unchanged.", 5000)

    def _on_failed(self, request: FillRequest, message: str) -> None:
        self._document = None
        self._again = False
        what, self._varying = "variation" if self._varying else "fill", False
        self.message.emit("", 0)
        QMessageBox.warning(self._parent, f"{what.title()} failed",
                            f"The {what} did not complete; the photo is unchanged.\n\n{message}")
