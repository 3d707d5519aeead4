"""The open photo, its hole mask and exclude mask, the evidence of the last fill, and their history.

Every edit is a QUndoCommand that keeps only the rectangle that changed (before and after), so the history of a long
session on a 48 MP photo costs memory in proportion to what was edited, not to the photo's size times the edits.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, QRect, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from inpaint_core.imageio import LoadedImage

from .patches import Patch, StrokeRecorder, bounding_box, diff_patch
from .raster import Footprint, clip_footprint

MASK_LAYERS = ("mask", "exclude")

# Each photo-changing command gets a fresh token; the photo's current token says which edit state it is in, so
# "modified since saved" and "changed while a fill was running" survive any mix of undo and redo.
_image_states = itertools.count(1)


@dataclass(frozen=True)
class FillEvidence:
    """What a fill produced besides the photo, for the side panels; arrays cover ``box`` = (x0, y0, x1, y1)."""

    box: tuple[int, int, int, int]
    coarse: np.ndarray
    refined: np.ndarray
    flow_rgb: np.ndarray
    seconds: float
    texture_flow_rgb: np.ndarray | None = None   # where the texture stage copied from; None without the stage


@dataclass(frozen=True)
class FillRequest:
    """Copies handed to the engine, so the user can keep painting while it works."""

    image: np.ndarray
    mask: np.ndarray
    exclude: np.ndarray | None
    image_state: int


class PatchCommand(QUndoCommand):
    """An edit as the patches it changed. Pushing it applies ``after``, which is harmless for a stroke that was
    already painted live."""

    def __init__(self, document: "Document", text: str, patches: list[Patch]) -> None:
        super().__init__(text)
        self._doc = document
        self.patches = tuple(patches)
        self._state_before = document.image_state
        touches_image = any(p.layer == "image" for p in self.patches)
        self._state_after = next(_image_states) if touches_image else document.image_state

    def redo(self) -> None:
        for patch in self.patches:
            self._doc._write(patch.layer, patch.x, patch.y, patch.after)
        self._doc._set_image_state(self._state_after)

    def undo(self) -> None:
        for patch in reversed(self.patches):
            self._doc._write(patch.layer, patch.x, patch.y, patch.before)
        self._doc._set_image_state(self._state_before)


class FillCommand(PatchCommand):
    """A fill: the hole's pixels, the cleared mask, and the evidence shown in the panels."""

    def __init__(self, document: "Document", patches: list[Patch], evidence: FillEvidence) -> None:
        super().__init__(document, "Fill", patches)
        self._evidence_before = document.evidence
        self._evidence_after = evidence

    @property
    def evidence(self) -> FillEvidence:
        """The evidence of the fill this command applies."""
        return self._evidence_after

    def replace_image(self, patch: Patch | None, evidence: FillEvidence) -> int:
        """Make this fill apply another result for the same hole (a variation): ``patch`` instead of the image
        patch, ``evidence`` instead of the evidence. Returns the photo's new state token: the pixels differ from
        any saved copy of the earlier result."""
        self.patches = tuple([p for p in self.patches if p.layer != "image"] + ([patch] if patch else []))
        self._evidence_after = evidence
        self._state_after = next(_image_states)
        return self._state_after

    def redo(self) -> None:
        super().redo()
        self._doc._set_evidence(self._evidence_after)

    def undo(self) -> None:
        super().undo()
        self._doc._set_evidence(self._evidence_before)


class InvertCommand(QUndoCommand):
    """Inverting a mask is its own inverse, so this command stores no pixels at all."""

    def __init__(self, document: "Document", layer: str) -> None:
        super().__init__("Invert mask" if layer == "mask" else "Invert exclude mask")
        self._doc = document
        self._layer = layer

    def redo(self) -> None:
        self._doc._invert(self._layer)

    def undo(self) -> None:
        self._doc._invert(self._layer)


class Document(QObject):
    """One open photo. Views listen to the signals; every change goes through the undo stack."""

    imageChanged = Signal(QRect)          # region of the photo that changed
    maskChanged = Signal(str, QRect)      # layer ("mask" or "exclude"), region that changed
    evidenceChanged = Signal()
    modifiedChanged = Signal(bool)

    def __init__(self, loaded: LoadedImage, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.loaded = loaded
        self.image = np.ascontiguousarray(loaded.rgb).copy()
        height, width = self.image.shape[:2]
        self.mask = np.zeros((height, width), dtype=bool)
        self.exclude = np.zeros((height, width), dtype=bool)
        self.evidence: FillEvidence | None = None
        self.undo_stack = QUndoStack(self)
        self.image_state = 0
        self._saved_state = 0
        self._stroke: StrokeRecorder | None = None
        self._deferred_fill: tuple[FillRequest, np.ndarray, FillEvidence] | None = None

    # -- facts -------------------------------------------------------------------------------------------------
    @property
    def width(self) -> int:
        return self.image.shape[1]

    @property
    def height(self) -> int:
        return self.image.shape[0]

    @property
    def is_modified(self) -> bool:
        """Whether the photo differs from the last saved (or opened) state; masks alone do not count."""
        return self.image_state != self._saved_state

    @property
    def stroke_active(self) -> bool:
        return self._stroke is not None

    def layer(self, name: str) -> np.ndarray:
        return {"image": self.image, "mask": self.mask, "exclude": self.exclude}[name]

    def mark_saved(self) -> None:
        was = self.is_modified
        self._saved_state = self.image_state
        if was:
            self.modifiedChanged.emit(False)

    # -- history -----------------------------------------------------------------------------------------------
    def undo(self) -> None:
        """Undo, except in the middle of a stroke (the stroke's tiles would no longer match the layer)."""
        if not self.stroke_active:
            self.undo_stack.undo()

    def redo(self) -> None:
        if not self.stroke_active:
            self.undo_stack.redo()

    # -- live strokes (brush, eraser) ---------------------------------------------------------------------------
    def begin_stroke(self, layer: str = "mask") -> None:
        if layer not in MASK_LAYERS:
            raise ValueError(f"strokes paint a mask layer, not {layer!r}")
        self.end_stroke("Stroke")
        self._stroke = StrokeRecorder(layer, self.layer(layer))

    def paint(self, footprint: Footprint, value: bool) -> None:
        """Paint a dab of the current stroke: set the footprint's pixels of the stroke's layer to ``value``."""
        if self._stroke is None:
            raise RuntimeError("paint() outside a stroke: call begin_stroke() first")
        clipped = clip_footprint(footprint, self.width, self.height)
        if clipped is None:
            return
        x0, y0, inside = clipped
        h, w = inside.shape
        self._stroke.touch(x0, y0, x0 + w, y0 + h)
        self.layer(self._stroke.layer)[y0:y0 + h, x0:x0 + w][inside] = value
        self.maskChanged.emit(self._stroke.layer, QRect(x0, y0, w, h))

    def end_stroke(self, text: str) -> bool:
        """Record the finished stroke as one undoable command; False when it changed no pixel (nothing recorded)."""
        stroke, self._stroke = self._stroke, None
        patch = stroke.patch() if stroke is not None else None
        if patch is not None:
            self.undo_stack.push(PatchCommand(self, text, [patch]))
        if self._deferred_fill is not None:
            deferred, self._deferred_fill = self._deferred_fill, None
            self._push_fill(*deferred)
        return patch is not None

    # -- selections and whole-mask operations ------------------------------------------------------------------
    def apply_footprint(self, layer: str, footprint: Footprint | None, value: bool, text: str) -> bool:
        """Set a selection's pixels (rectangle, lasso) to ``value``; False when that changed nothing."""
        clipped = None if footprint is None else clip_footprint(footprint, self.width, self.height)
        if clipped is None:
            return False
        x0, y0, inside = clipped
        h, w = inside.shape
        before = self.layer(layer)[y0:y0 + h, x0:x0 + w]
        after = before.copy()
        after[inside] = value
        return self._push_diff(layer, before, after, x0, y0, text)

    def set_region(self, layer: str, x: int, y: int, values: np.ndarray, text: str) -> bool:
        """Replace the rectangle of ``layer`` at (x, y) with ``values`` as one undoable edit (grow, shrink, a
        selection tool's result); False when that changed nothing."""
        h, w = values.shape[:2]
        return self._push_diff(layer, self.layer(layer)[y:y + h, x:x + w], values, x, y, text)

    def clear_mask(self, layer: str = "mask") -> bool:
        values = self.layer(layer)
        box = bounding_box(values)
        if box is None:
            return False
        x0, y0, x1, y1 = box
        before = values[y0:y1, x0:x1]
        return self._push_diff(layer, before, np.zeros_like(before), x0, y0,
                               "Clear mask" if layer == "mask" else "Clear exclude mask")

    def invert_mask(self, layer: str = "mask") -> None:
        self.undo_stack.push(InvertCommand(self, layer))

    # -- fills ----------------------------------------------------------------------------------------------------
    def fill_request(self) -> FillRequest | None:
        """Copies of what the engine needs, or None when there is no hole to fill."""
        if not self.mask.any():
            return None
        exclude = self.exclude.copy() if self.exclude.any() else None
        return FillRequest(self.image.copy(), self.mask.copy(), exclude, self.image_state)

    def apply_fill(self, request: FillRequest, composite: np.ndarray, evidence: FillEvidence) -> bool:
        """Make the engine's composite the new photo and clear the hole that was filled, as one undoable step.

        Returns False, changing nothing, when the photo was changed (e.g. an earlier fill undone) after the request
        was made: that result was computed for pixels that are no longer there. Strokes painted meanwhile are kept.
        """
        if request.image_state != self.image_state:
            return False
        if composite.shape != self.image.shape or composite.dtype != np.uint8:
            raise ValueError(f"fill result is {composite.shape} {composite.dtype}, the photo {self.image.shape} uint8")
        if self.stroke_active:
            # The stroke may still paint inside the hole's box: build the command when the stroke has ended.
            self._deferred_fill = (request, composite, evidence)
        else:
            self._push_fill(request, composite, evidence)
        return True

    def holds_fill(self, evidence: FillEvidence) -> bool:
        """Whether the fill that gave ``evidence`` is the last edit in the history (applied or undone), or is
        waiting for the stroke being painted to end; any later edit makes it false for good."""
        if self._deferred_fill is not None and self._deferred_fill[2] is evidence:
            return True
        return (fill := self._last_fill()) is not None and fill.evidence is evidence

    def shows_fill(self, evidence: FillEvidence) -> bool:
        """Whether the photo is the result of the fill that gave ``evidence``, with no edit after it."""
        stack = self.undo_stack
        return (fill := self._last_fill()) is not None and fill.evidence is evidence and stack.index() == stack.count()

    def replace_fill(self, evidence: FillEvidence, pixels: np.ndarray, replacement: FillEvidence) -> bool:
        """Swap the last fill's result (``evidence``) for another one of the same hole, in place: ``pixels`` (uint8,
        covering ``replacement.box``) become the photo there and the fill's undo step, which still undoes to the
        photo before the fill, now redoes to them. False, changing nothing, when the photo no longer shows that
        fill as its last edit."""
        fill = self._last_fill()
        if fill is None or not self.shows_fill(evidence):
            return False
        x0, y0, x1, y1 = replacement.box
        if replacement.box != evidence.box or pixels.shape != (y1 - y0, x1 - x0, 3) or pixels.dtype != np.uint8:
            raise ValueError(f"a variation must cover the fill's box {evidence.box} (got {replacement.box}, "
                             f"{pixels.shape} {pixels.dtype})")
        # the photo before the fill, over the box: the fill changed only what its image patch covers
        before = self.image[y0:y1, x0:x1].copy()
        for patch in fill.patches:
            if patch.layer == "image":
                h, w = patch.before.shape[:2]
                before[patch.y - y0:patch.y - y0 + h, patch.x - x0:patch.x - x0 + w] = patch.before
        state = fill.replace_image(diff_patch("image", before, pixels, x0, y0), replacement)
        self._write("image", x0, y0, pixels)
        self._set_image_state(state)
        self._set_evidence(replacement)
        return True

    def _last_fill(self) -> FillCommand | None:
        stack = self.undo_stack
        last = stack.command(stack.count() - 1) if stack.count() else None
        return last if isinstance(last, FillCommand) else None

    def _push_fill(self, request: FillRequest, composite: np.ndarray, evidence: FillEvidence) -> None:
        patches = []
        x0, y0, x1, y1 = evidence.box
        image_patch = diff_patch("image", self.image[y0:y1, x0:x1], composite[y0:y1, x0:x1], x0, y0)
        if image_patch is not None:
            patches.append(image_patch)
        hole = bounding_box(request.mask)
        if hole is not None:
            hx0, hy0, hx1, hy1 = hole
            before = self.mask[hy0:hy1, hx0:hx1]
            mask_patch = diff_patch("mask", before, before & ~request.mask[hy0:hy1, hx0:hx1], hx0, hy0)
            if mask_patch is not None:
                patches.append(mask_patch)
        self.undo_stack.push(FillCommand(self, patches, evidence))

    # -- writes (only commands call these) ---------------------------------------------------------------------
    def _push_diff(self, layer: str, before: np.ndarray, after: np.ndarray, x: int, y: int, text: str) -> bool:
        patch = diff_patch(layer, before, after, x, y)
        if patch is None:
            return False
        self.undo_stack.push(PatchCommand(self, text, [patch]))
        return True

    def _write(self, layer: str, x: int, y: int, values: np.ndarray) -> None:
        h, w = values.shape[:2]
        self.layer(layer)[y:y + h, x:x + w] = values
        rect = QRect(x, y, w, h)
        if layer == "image":
            self.imageChanged.emit(rect)
        else:
            self.maskChanged.emit(layer, rect)

    def _invert(self, layer: str) -> None:
        values = self.layer(layer)
        np.logical_not(values, out=values)
        self.maskChanged.emit(layer, QRect(0, 0, self.width, self.height))

    def _set_image_state(self, state: int) -> None:
        was = self.is_modified
        self.image_state = state
        if self.is_modified != was:
            self.modifiedChanged.emit(self.is_modified)

    def _set_evidence(self, evidence: FillEvidence | None) -> None:
        self.evidence = evidence
        self.evidenceChanged.emit()
