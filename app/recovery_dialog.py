"""At start-up, the question about work a crashed editor left behind, and recovering it into the window."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMainWindow, QMessageBox

from .file_workflow import FileWorkflow
from .recovery import Autosave, Recovery, RecoveryError, apply_recovery, default_root, pending_recoveries


def offer_recovery(window: QMainWindow, files: FileWorkflow, autosave: Autosave,
                   root: Path | None = None) -> QMessageBox | None:
    """When an earlier session crashed with unsaved work, ask (without blocking) whether to recover the newest.
    Older ones stay on disk for later starts. Returns the question, if one was asked."""
    found = pending_recoveries(root or default_root())
    if not found:
        return None
    newest, *older = found
    for recovery in older:
        recovery.folder.release()
    box = QMessageBox(QMessageBox.Icon.Question, "Recover unsaved work?", newest.describe(), parent=window)
    recover_button = box.addButton("Recover", QMessageBox.ButtonRole.AcceptRole)
    discard_button = box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
    box.setDefaultButton(recover_button)
    box.setWindowModality(Qt.WindowModality.WindowModal)

    def decided() -> None:
        if box.clickedButton() is recover_button:
            recover(window, files, autosave, newest)
        elif box.clickedButton() is discard_button:
            newest.folder.remove()
        else:
            newest.folder.release()  # closed without an answer: ask again next time

    box.finished.connect(decided)
    box.open()
    return box


def recover(window: QMainWindow, files: FileWorkflow, autosave: Autosave, recovery: Recovery) -> bool:
    """Open the source photo and apply the saved work as one undoable edit; the autosave takes over the folder.
    When that cannot be done the data stays on disk and the user is told why."""
    def keep(reason: str) -> bool:
        recovery.folder.release()
        QMessageBox.warning(window, "Cannot recover", f"{reason}\n\nThe unsaved work is kept in "
                                                      f"{recovery.folder.path} and will be offered again.")
        return False

    try:
        crops = recovery.load()
    except RecoveryError as exc:
        return keep(f"The recovery data is damaged: {exc}")
    if not files.open_path(recovery.source):
        return keep(f"{recovery.source} could not be opened.")
    try:
        apply_recovery(files.document, recovery, crops, autosave)
    except RecoveryError as exc:
        return keep(str(exc))
    window.statusBar().showMessage(f"Recovered the unsaved work on {recovery.source.name}", 8000)
    return True
