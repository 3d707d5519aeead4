"""Edit ▸ Grow Mask… and Shrink Mask…: ask by how many pixels (the last amount is offered again, also in the
next session) and change the hole mask by that much as one undoable edit."""
from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QInputDialog, QWidget

from .document import Document
from .mask_ops import grown, shrunk
from .preferences import Preferences

MAX_STEP = 500
DEFAULT_STEP = 4


class MaskCommands(QObject):
    message = Signal(str, int)   # status-bar text and how long to show it (ms)

    def __init__(self, dialog_parent: QWidget, prefs: Preferences) -> None:
        super().__init__(dialog_parent)
        self._parent = dialog_parent
        self._prefs = prefs

    def amount(self, kind: str) -> int:
        """The last amount used to grow or shrink ("grow" or "shrink")."""
        return min(max(self._prefs.integer(f"mask/{kind}", DEFAULT_STEP), 1), MAX_STEP)

    def ask_grow(self, document: Document | None) -> None:
        self._ask(document, "grow")

    def ask_shrink(self, document: Document | None) -> None:
        self._ask(document, "shrink")

    def _ask(self, document: Document | None, kind: str) -> None:
        if document is None:
            return
        if not document.mask.any():
            self.message.emit(f"Nothing to {kind}: the mask is empty.", 5000)
            return
        dialog = QInputDialog(self._parent)
        dialog.setWindowTitle(f"{kind.title()} Mask")
        dialog.setLabelText(f"{kind.title()} the mask by (pixels):")
        dialog.setInputMode(QInputDialog.InputMode.IntInput)
        dialog.setIntRange(1, MAX_STEP)
        dialog.setIntValue(self.amount(kind))
        dialog.intValueSelected.connect(lambda pixels: self.apply(document, kind, pixels))
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()  # not exec(): the window keeps running, and Enter or a click answers

    def apply(self, document: Document, kind: str, pixels: int) -> bool:
        """Grow or shrink the hole by ``pixels``, remembered for next time; False when nothing changed."""
        self._prefs.set(f"mask/{kind}", pixels)
        crop = (grown if kind == "grow" else shrunk)(document.mask, pixels)
        if crop is None:
            return False
        x0, y0, values = crop
        return document.set_region("mask", x0, y0, values, f"{kind.title()} mask by {pixels} px")
