"""What the window remembers between sessions (QSettings): its layout, the brush, the wand, the engine and the
fill options. Values are read with their defaults standing in for missing or damaged ones."""
from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings, QSize
from PySide6.QtWidgets import QMainWindow

from .fill_controller import FillOptions


class Preferences:
    def __init__(self, settings: QSettings) -> None:
        self.settings = settings

    def text(self, key: str, default: str) -> str:
        value = self.settings.value(key, default)
        return default if value is None else str(value)

    def integer(self, key: str, default: int) -> int:
        try:
            return int(self.settings.value(key, default))
        except (TypeError, ValueError):
            return default

    def set(self, key: str, value: object) -> None:
        self.settings.setValue(key, value)

    def fill_options(self) -> FillOptions:
        grow = self.integer("fill/grow", -1)   # -1: automatic
        return FillOptions(None if grow < 0 else grow, max(self.integer("fill/feather", 0), 0),
                           self.text("fill/on_release", "false").lower() == "true")

    def set_fill_options(self, options: FillOptions) -> None:
        self.set("fill/grow", -1 if options.grow is None else options.grow)
        self.set("fill/feather", options.feather)
        self.set("fill/on_release", options.on_release)

    def restore_layout(self, window: QMainWindow, default_size: QSize) -> None:
        geometry = self.settings.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            window.restoreGeometry(geometry)
        else:
            window.resize(default_size)
        state = self.settings.value("window/state")
        if isinstance(state, QByteArray) and not state.isEmpty():
            window.restoreState(state)

    def save_layout(self, window: QMainWindow) -> None:
        self.set("window/geometry", window.saveGeometry())
        self.set("window/state", window.saveState())
