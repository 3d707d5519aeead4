"""The open photo's life on disk: open, save, save as, export the mask, close, and the questions a careful editor
asks first (unsaved changes, overwriting the original). It owns the current Document; the window shows whatever
``documentReplaced`` hands it."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox, QWidget

from inpaint_core.imageio import ImageReadError, ImageWriteError, read_image, write_image

from .document import Document
from .files import (MASK_FILTER, OPEN_FILTER, RecentFiles, default_mask_name, default_save_name, exclude_mask_name,
                    resolve_save_path, save_filters)

Button = QMessageBox.StandardButton


class FileWorkflow(QObject):
    documentReplaced = Signal(object)   # the new Document, or None
    saved = Signal(object)              # the Path written: the title names it, the autosave clears
    message = Signal(str, int)          # status-bar text and how long to show it (ms)

    def __init__(self, dialog_parent: QWidget, settings: QSettings) -> None:
        super().__init__(dialog_parent)
        self._parent = dialog_parent
        self.recent = RecentFiles(settings)
        self.document: Document | None = None
        self.save_path: Path | None = None     # where Save writes: the opened file until a Save As
        self._original_confirmed = False       # the user agreed to overwrite the opened file

    # -- open and close ---------------------------------------------------------------------------------------
    def open_dialog(self) -> None:
        paths = self.recent.paths()
        start = str(Path(paths[0]).parent) if paths else ""
        path, _ = QFileDialog.getOpenFileName(self._parent, "Open photo", start, OPEN_FILTER)
        if path:
            self.open_path(path)

    def open_path(self, path: str | Path) -> bool:
        """Open a photo; an unreadable file is reported in a message box and the current photo stays."""
        if not self.maybe_keep_changes():
            return False
        try:
            loaded = read_image(path)
        except ImageReadError as exc:
            QMessageBox.critical(self._parent, "Cannot open the photo", str(exc))
            if not Path(path).exists():
                self.recent.remove(path)
            return False
        self._replace(Document(loaded, self._parent))
        self.recent.add(path)
        self.message.emit(f"Opened {Path(path).name}", 4000)
        return True

    def close_document(self) -> bool:
        if not self.maybe_keep_changes():
            return False
        self._replace(None)
        return True

    def maybe_keep_changes(self) -> bool:
        """Ask what to do with unsaved changes to the photo; False when the user cancels."""
        if self.document is None or not self.document.is_modified:
            return True
        name = self.document.loaded.path.name if self.document.loaded.path else "the photo"
        answer = QMessageBox.question(self._parent, "Unsaved changes", f"Save the changes to {name}?",
                                      Button.Save | Button.Discard | Button.Cancel, Button.Save)
        if answer == Button.Save:
            return self.save()
        return answer == Button.Discard

    def fill_recent_menu(self, menu: QMenu) -> None:
        menu.clear()
        paths = self.recent.paths()
        for index, path in enumerate(paths, start=1):
            action = menu.addAction(f"&{index} {Path(path).name}")
            action.setToolTip(path)
            action.triggered.connect(lambda checked=False, p=path: self.open_path(p))
        if paths:
            menu.addSeparator()
            menu.addAction("Clear List", self.recent.clear)
        else:
            menu.addAction("No recent photos").setEnabled(False)

    def _replace(self, document: Document | None) -> None:
        old, self.document = self.document, document
        self.save_path = document.loaded.path if document is not None else None
        self._original_confirmed = False
        self.documentReplaced.emit(document)
        if old is not None:
            old.deleteLater()

    # -- save -----------------------------------------------------------------------------------------------------
    def save(self) -> bool:
        """Save where the photo came from (asking first before overwriting the original) or was last saved to."""
        if self.document is None:
            return False
        original = self.document.loaded.path
        target = self.save_path
        if target is None:
            return self.save_as()
        if original is not None and target == original and not self._original_confirmed:
            answer = QMessageBox.question(
                self._parent, "Overwrite the original?",
                f"Save over the original {original.name}? The photo as it was opened will be lost.\n\n"
                "Choose Cancel, then Save As, to keep it.", Button.Save | Button.Cancel, Button.Cancel)
            if answer != Button.Save:
                return False
            self._original_confirmed = True
        return self._write_photo(target)

    def save_as(self) -> bool:
        if self.document is None:
            return False
        loaded = self.document.loaded
        base = self.save_path or loaded.path or Path.home() / "photo.png"
        suggested = default_save_name(loaded.path, loaded.format) if self.save_path == loaded.path else base
        filters, selected = save_filters(loaded.format)
        path, chosen_filter = QFileDialog.getSaveFileName(self._parent, "Save photo as", str(suggested), filters,
                                                          selected)
        if not path:
            return False
        target = resolve_save_path(path, chosen_filter or selected)
        if loaded.path is not None and target.resolve() == loaded.path.resolve():
            # the dialog already asked about overwriting an existing file, the original included
            self._original_confirmed = True
        return self._write_photo(target)

    def _write_photo(self, target: Path) -> bool:
        document = self.document
        try:
            write_image(target, document.image, alpha=document.loaded.alpha, like=document.loaded)
        except ImageWriteError as exc:
            QMessageBox.critical(self._parent, "Cannot save the photo", str(exc))
            return False
        document.mark_saved()
        self.save_path = target
        self.recent.add(target)
        self.saved.emit(target)
        self.message.emit(f"Saved {target}", 5000)
        return True

    def export_mask(self) -> bool:
        """Write the hole as a black and white PNG (white = fill), and a painted exclude area beside it as
        ``<name>_exclude.png``: both feed ``python -m inpaint_core fill``."""
        if self.document is None:
            return False
        base = self.document.loaded.path or Path.home() / "photo.png"
        caption = "Export mask (an exclude area goes beside it as <name>_exclude.png)"
        path, _ = QFileDialog.getSaveFileName(self._parent, caption, str(default_mask_name(base)), MASK_FILTER)
        if not path:
            return False
        target = resolve_save_path(path, MASK_FILTER)
        layers = [(target, self.document.mask)]
        if self.document.exclude.any():
            layers.append((exclude_mask_name(target), self.document.exclude))
        try:
            for layer_path, values in layers:
                grey = values.astype(np.uint8) * 255
                write_image(layer_path, np.repeat(grey[..., None], 3, axis=2))
        except ImageWriteError as exc:
            QMessageBox.critical(self._parent, "Cannot export the mask", str(exc))
            return False
        self.message.emit(f"Mask exported to {' and '.join(str(p) for p, _ in layers)}", 5000)
        return True
