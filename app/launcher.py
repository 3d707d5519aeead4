"""Starting the editor: ``inpaint-studio [PHOTO]`` (the package's gui-script) or ``python main.py [PHOTO]``."""
from __future__ import annotations

import argparse
import sys
import traceback
from types import TracebackType

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QMessageBox

from .main_window import APP_NAME, MainWindow

DESKTOP_ID = "inpaint-studio"  # resources/inpaint-studio.desktop: lets the desktop match the window to its icon


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, list[str]]:
    """Our options, and the rest for Qt (e.g. -platform, -style)."""
    parser = argparse.ArgumentParser(prog="inpaint-studio",
                                     description=f"{APP_NAME}: fill holes in photos with DeepFill v1")
    parser.add_argument("photo", nargs="?", help="photo to open")
    parser.add_argument("--weights", help="a .safetensors weights file instead of the shipped default")
    return parser.parse_known_args(argv)


def create_window(args: argparse.Namespace, settings: QSettings | None = None) -> MainWindow:
    window = MainWindow(settings=settings, weights=args.weights)
    window.show()
    if args.photo:
        window.files.open_path(args.photo)
    return window


def report_unexpected_error(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    """An error in an event handler becomes a message, and the editor keeps running with the photo still open."""
    traceback.print_exception(exc_type, exc, tb)
    QMessageBox.critical(None, APP_NAME, f"Something went wrong: {exc_type.__name__}: {exc}\n\n"
                                         "The photo is still open; if in doubt, save it under a new name.")


def main(argv: list[str] | None = None) -> int:
    args, qt_args = parse_args(argv)
    app = QApplication([sys.argv[0], *qt_args])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName("InpaintStudio")  # where QSettings keeps brush size, device, recent files, layout
    app.setDesktopFileName(DESKTOP_ID)
    sys.excepthook = report_unexpected_error
    window = create_window(args)  # noqa: F841 - kept alive for the event loop
    return app.exec()
