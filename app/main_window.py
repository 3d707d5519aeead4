"""The editor's window: menus, toolbar, docks, status bar, shortcuts, settings, and the open/save/fill workflows."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QByteArray, QEvent, QRectF, QSettings, QSize, Qt, QTimer
from PySide6.QtGui import (QAction, QActionGroup, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence, QPalette)
from PySide6.QtWidgets import (QDockWidget, QFileDialog, QLabel, QMainWindow, QMessageBox, QProgressBar, QSlider,
                               QSpinBox, QToolButton, QVBoxLayout, QWidget)

from inpaint_core.imageio import ImageReadError, ImageWriteError, read_image, write_image

from .canvas import MAX_BRUSH, MIN_BRUSH, Canvas, Tool
from .document import Document, FillEvidence, FillRequest
from .files import (MASK_FILTER, OPEN_FILTER, RecentFiles, default_mask_name, default_save_name, exclude_mask_name,
                    resolve_save_path, save_filters)
from .fill_worker import EngineFactory, EngineInfo, EngineSettings, FillWorker, STRATEGIES, load_inpainter
from .icons import app_icon, themed_icon
from .inspector import SourceInspector
from .panels import PANELS, EvidencePanel
from .recovery import Autosave, offer_recovery
from .settings_panel import DEVICE_LABELS, EngineSettingsPanel

APP_NAME = "Inpaint Studio"
DEFAULT_SIZE = QSize(1280, 800)
BRUSH_STEP = 1.2  # [ and ] scale the brush by this much (at least one pixel)
SLIDER_MAX = 500  # the slider covers usual sizes; the spin box and [ ] go up to MAX_BRUSH


class MainWindow(QMainWindow):
    def __init__(self, settings: QSettings | None = None, weights: str | None = None,
                 engine_factory: EngineFactory = load_inpainter) -> None:
        super().__init__()
        self.settings = settings if settings is not None else QSettings()
        self.recent = RecentFiles(self.settings)
        self._weights = weights
        self.document: Document | None = None
        self._save_path: Path | None = None       # where Save writes: the opened file until a Save As
        self._original_confirmed = False          # the user agreed to overwrite the opened file
        self._fill_document: Document | None = None
        self._shut_down = False

        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowNestedDocks)

        self.canvas = Canvas()
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setVisible(False)
        self.banner.setContentsMargins(10, 6, 10, 6)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        layout.addWidget(self.canvas, 1)
        self.setCentralWidget(central)

        self.worker = FillWorker(engine_factory, self)
        self.autosave = Autosave(parent=self)
        self.autosave.failed.connect(lambda message: self.statusBar().showMessage(message, 10000))
        self._build_actions()
        self._build_docks()
        self.inspector = SourceInspector(self.canvas, [panel.view for panel in self.panels.values()], self)
        self._build_menus()
        self._build_toolbar()
        self._build_status_bar()
        self._connect()
        self._restore_settings()
        self._apply_theme()
        self._set_document(None)
        # Load the model once the window is up: start-up stays quick and the window shows "loading" meanwhile.
        QTimer.singleShot(0, self._configure_engine)
        QTimer.singleShot(0, self, lambda: offer_recovery(self))  # work a crash left behind, once the window is up

    # -- construction ---------------------------------------------------------------------------------------------
    def _action(self, text: str, icon: str | None = None, shortcut=None, tip: str | None = None,
                slot=None, checkable: bool = False) -> QAction:
        action = QAction(text, self)
        action.setData(icon)
        if shortcut is not None:
            shortcuts = shortcut if isinstance(shortcut, list) else [shortcut]
            action.setShortcuts([QKeySequence(s) for s in shortcuts])
        if tip:
            action.setToolTip(tip)
            action.setStatusTip(tip)
        action.setCheckable(checkable)
        if slot is not None:
            action.triggered.connect(slot)
        self.addAction(action)  # shortcuts work even when the toolbar or menu holding the action is hidden
        return action

    def _build_actions(self) -> None:
        K = QKeySequence.StandardKey
        self.act_open = self._action("&Open…", "open", K.Open, "Open a photo", self.open_dialog)
        self.act_save = self._action("&Save", "save", K.Save, "Save the photo", self.save)
        self.act_save_as = self._action("Save &As…", "save-as", K.SaveAs, "Save the photo under another name",
                                        self.save_as)
        self.act_export_mask = self._action("&Export Mask…", "export-mask", "Ctrl+Shift+E",
                                            "Save the mask as a black and white PNG (an exclude area goes beside "
                                            "it as <name>_exclude.png)", self.export_mask)
        self.act_close = self._action("&Close", None, K.Close, "Close the photo", self.close_document)
        self.act_quit = self._action("&Quit", None, K.Quit, "Quit Inpaint Studio", self.close)
        self.act_undo = self._action("&Undo", "undo", K.Undo, "Undo", self._undo)
        self.act_redo = self._action("&Redo", "redo", K.Redo, "Redo", self._redo)
        self.act_fill = self._action("&Fill", "fill", ["Ctrl+Return", "F"],
                                     "Fill the masked area with the model (Ctrl+Return)", self.fill)
        self.act_cancel_fill = self._action("Cancel Fill", "cancel", "Esc", "Stop the running fill", self.cancel_fill)
        self.act_clear_mask = self._action("C&lear Mask", "clear-mask", K.Delete, "Remove the whole mask",
                                           self._clear_mask)
        self.act_invert_mask = self._action("&Invert Mask", "invert-mask", "Ctrl+I", "Swap masked and unmasked",
                                            self._invert_mask)
        self.act_clear_exclude = self._action("Clear E&xclude Area", "clear-exclude", "Shift+X",
                                              "Let the fill borrow from anywhere again", self._clear_exclude)
        self.tool_group = QActionGroup(self)
        self.tool_actions: dict[Tool, QAction] = {}
        for tool, text, icon, key, tip in (
                (Tool.BRUSH, "&Brush", "brush", "B", "Paint the area to fill (B); Alt erases"),
                (Tool.ERASER, "&Eraser", "eraser", "E", "Erase the mask (E)"),
                (Tool.RECT, "&Rectangle", "select-rect", "M", "Drag a rectangle to mask (M); Alt subtracts"),
                (Tool.LASSO, "&Lasso / Polygon", "select-lasso", "L",
                 "Drag a free shape, or click corners and double-click to close (L); Alt subtracts"),
                (Tool.EXCLUDE, "E&xclude Brush", "exclude", "X",
                 "Paint where the fill must not borrow from (X); Alt erases"),
                (Tool.INSPECT, "&Inspect Sources", "inspect", "I",
                 "Point at a filled pixel to see where the fill borrowed it from; click to pin (I)")):
            action = self._action(text, icon, key, tip, checkable=True)
            action.triggered.connect(lambda checked=False, t=tool: self.canvas.set_tool(t))
            self.tool_group.addAction(action)
            self.tool_actions[tool] = action
        self.act_smaller = self._action("S&maller Brush", None, "[", "Make the brush smaller ([)",
                                        lambda: self._scale_brush(1 / BRUSH_STEP))
        self.act_bigger = self._action("B&igger Brush", None, "]", "Make the brush bigger (])",
                                       lambda: self._scale_brush(BRUSH_STEP))
        self.act_zoom_in = self._action("Zoom &In", "zoom-in", K.ZoomIn, "Zoom in",
                                        lambda: self.canvas.zoom_by(1.25))
        self.act_zoom_out = self._action("Zoom &Out", "zoom-out", K.ZoomOut, "Zoom out",
                                         lambda: self.canvas.zoom_by(1 / 1.25))
        self.act_fit = self._action("&Fit to Window", "zoom-fit", "Ctrl+0", "Show the whole photo", self.canvas.fit)
        self.act_actual = self._action("&Actual Pixels (100 %)", "zoom-100", "Ctrl+1",
                                       "One photo pixel per screen pixel", self.canvas.actual_pixels)
        self.act_zoom_fill = self._action("Zoom to &Last Fill", None, "Ctrl+2",
                                          "Show the region the last fill processed", self._zoom_to_fill)
        self.act_compare = self._action("&Compare with Original", "compare", None,
                                        "Show the photo as opened (or hold \\ on the canvas)",
                                        checkable=True)
        self.act_compare.toggled.connect(self.canvas.set_comparing)
        self.act_about = self._action("&About Inpaint Studio", None, None, None, self._about)

    def _build_docks(self) -> None:
        self.settings_panel = EngineSettingsPanel(self._setting("engine/device", "auto"),
                                                  self._setting("engine/strategy", "CROP"))
        self.settings_dock = self._dock("Fill Settings", "fillSettings", self.settings_panel)
        self.panels: dict[str, EvidencePanel] = {}
        self.panel_docks: dict[str, QDockWidget] = {}
        previous = self.settings_dock
        for field in PANELS:
            panel = EvidencePanel(field)
            dock = self._dock(panel.title, f"panel_{field}", panel)
            self.splitDockWidget(previous, dock, Qt.Orientation.Vertical)
            self.panels[field] = panel
            self.panel_docks[field] = dock
            previous = dock
            panel.view.zoomRequested.connect(self.canvas.zoom_at_scene)
            panel.view.panRequested.connect(self.canvas.pan_by_scene)
            panel.view.focusRequested.connect(self._zoom_to_fill)
        docks = [self.settings_dock, *self.panel_docks.values()]
        self.resizeDocks(docks, [300] * len(docks), Qt.Orientation.Horizontal)
        self.resizeDocks(docks, [120, 200, 200, 200], Qt.Orientation.Vertical)

    def _dock(self, title: str, name: str, widget: QWidget) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)  # saveState() needs names to restore the layout
        dock.setWidget(widget)
        dock.setToolTip(widget.toolTip())
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        return dock

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.act_open)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addSeparator()
        for action in (self.act_save, self.act_save_as, self.act_export_mask):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(self.act_close)
        file_menu.addAction(self.act_quit)
        edit_menu = bar.addMenu("&Edit")
        for action in (self.act_undo, self.act_redo, None, self.act_fill, self.act_cancel_fill, None,
                       self.act_clear_mask, self.act_invert_mask, self.act_clear_exclude):
            edit_menu.addSeparator() if action is None else edit_menu.addAction(action)
        tools_menu = bar.addMenu("&Tools")
        for action in (*self.tool_actions.values(), None, self.act_smaller, self.act_bigger):
            tools_menu.addSeparator() if action is None else tools_menu.addAction(action)
        view_menu = bar.addMenu("&View")
        for action in (self.act_zoom_in, self.act_zoom_out, self.act_fit, self.act_actual, self.act_zoom_fill, None,
                       self.act_compare, None):
            view_menu.addSeparator() if action is None else view_menu.addAction(action)
        self.view_menu = view_menu
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.act_about)

    def _build_toolbar(self) -> None:
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        toolbar.setIconSize(QSize(22, 22))
        for action in (self.act_open, self.act_save, None, self.act_undo, self.act_redo, None,
                       *self.tool_actions.values()):
            toolbar.addSeparator() if action is None else toolbar.addAction(action)
        self.brush_slider = QSlider(Qt.Orientation.Horizontal)
        self.brush_slider.setRange(MIN_BRUSH, SLIDER_MAX)
        self.brush_slider.setFixedWidth(120)
        self.brush_slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keep keys ([, ], space, \) on the canvas
        self.brush_slider.setToolTip("Brush size in photo pixels ([ and ])")
        self.brush_spin = QSpinBox()
        self.brush_spin.setRange(MIN_BRUSH, MAX_BRUSH)
        self.brush_spin.setSuffix(" px")
        self.brush_spin.setToolTip(self.brush_slider.toolTip())
        size_label = QLabel(" Size ")
        toolbar.addWidget(size_label)
        toolbar.addWidget(self.brush_slider)
        toolbar.addWidget(self.brush_spin)
        for action in (None, self.act_clear_mask, self.act_invert_mask, self.act_clear_exclude, None, self.act_fill,
                       None, self.act_fit, self.act_actual, self.act_compare):
            toolbar.addSeparator() if action is None else toolbar.addAction(action)
        fill_button = toolbar.widgetForAction(self.act_fill)
        if isinstance(fill_button, QToolButton):
            fill_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toolbar = toolbar
        self.view_menu.addAction(toolbar.toggleViewAction())
        for dock in (self.settings_dock, *self.panel_docks.values()):
            self.view_menu.addAction(dock.toggleViewAction())

    def _build_status_bar(self) -> None:
        status = self.statusBar()
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 100)
        self.progress_bar.setFixedWidth(160)
        self.progress_bar.setVisible(False)
        self.cancel_button = QToolButton()
        self.cancel_button.setDefaultAction(self.act_cancel_fill)
        self.cancel_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.cancel_button.setAutoRaise(True)
        self.cancel_button.setVisible(False)
        self.size_label = QLabel()
        self.zoom_label = QLabel()
        self.device_label = QLabel()
        self.fill_time_label = QLabel()
        self.size_label.setToolTip("Photo size in pixels")
        self.zoom_label.setToolTip("Zoom: 100 % is one photo pixel per screen pixel")
        self.device_label.setToolTip("Where the model runs")
        self.fill_time_label.setToolTip("How long the last fill took")
        for widget in (self.progress_bar, self.cancel_button, self.size_label, self.zoom_label, self.device_label,
                       self.fill_time_label):
            status.addPermanentWidget(widget)

    def _connect(self) -> None:
        self.canvas.zoomChanged.connect(lambda percent: self.zoom_label.setText(f"{percent:.0f} %"))
        self.canvas.brushSizeChanged.connect(self._show_brush_size)
        self.canvas.comparingChanged.connect(self._on_comparing_changed)
        for panel in self.panels.values():
            self.canvas.visibleRegionChanged.connect(panel.view.show_region)
        self.brush_slider.valueChanged.connect(self.canvas.set_brush_size)
        self.brush_spin.valueChanged.connect(self.canvas.set_brush_size)
        self.settings_panel.settingsChanged.connect(self._on_engine_settings_changed)
        self.worker.engineLoading.connect(self._on_engine_loading)
        self.worker.engineReady.connect(self._on_engine_ready)
        self.worker.engineFailed.connect(self._on_engine_failed)
        self.worker.busyChanged.connect(self._on_busy_changed)
        self.worker.progress.connect(self._on_fill_progress)
        self.worker.finished.connect(self._on_fill_finished)
        self.worker.cancelled.connect(self._on_fill_cancelled)
        self.worker.failed.connect(self._on_fill_failed)
        self.inspector.message.connect(lambda text: self.statusBar().showMessage(text, 5000))

    # -- settings ---------------------------------------------------------------------------------------------------
    def _setting(self, key: str, default):
        value = self.settings.value(key, default)
        return default if value is None else value

    def _restore_settings(self) -> None:
        geometry = self.settings.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(DEFAULT_SIZE)
        state = self.settings.value("window/state")
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.restoreState(state)
        try:
            brush = int(self._setting("brush/size", 40))
        except (TypeError, ValueError):
            brush = 40
        self.canvas.set_brush_size(brush)
        self._show_brush_size(self.canvas.brush_size())
        self.tool_actions[self.canvas.tool()].setChecked(True)

    def _save_settings(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.setValue("brush/size", self.canvas.brush_size())
        self.settings.setValue("engine/device", self.settings_panel.device())
        self.settings.setValue("engine/strategy", self.settings_panel.strategy())
        self.settings.sync()

    def _engine_settings(self) -> EngineSettings:
        strategy = self.settings_panel.strategy()
        return EngineSettings(self._weights, self.settings_panel.device(),
                              strategy if strategy in STRATEGIES else "CROP")

    def _configure_engine(self) -> None:
        self.worker.configure(self._engine_settings())

    def _on_engine_settings_changed(self, device: str, strategy: str) -> None:
        self.settings.setValue("engine/device", device)
        self.settings.setValue("engine/strategy", strategy)
        self._configure_engine()

    # -- theme ------------------------------------------------------------------------------------------------------
    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_theme()

    def _apply_theme(self) -> None:
        """Icons are tinted with the palette's text colour; the banner picks colours that read on it."""
        for action in self.findChildren(QAction):
            if action.data():
                action.setIcon(themed_icon(action.data(), self.palette()))
        dark = self.palette().color(QPalette.ColorRole.Window).lightness() < 128
        background, foreground = ("#4a3b10", "#ffe6a3") if dark else ("#fff3cd", "#5a4500")
        self.banner.setStyleSheet(f"background: {background}; color: {foreground};")

    # -- document lifecycle -----------------------------------------------------------------------------------------
    def _set_document(self, document: Document | None) -> None:
        if self.worker.is_busy:
            self.worker.cancel()
        old = self.document
        self.document = document
        self.canvas.set_document(document)
        self.autosave.track(document)
        if old is not None:
            old.deleteLater()
        self._save_path = document.loaded.path if document is not None else None
        self._original_confirmed = False
        if document is not None:
            document.modifiedChanged.connect(self.setWindowModified)
            document.evidenceChanged.connect(self._show_evidence)
            stack = document.undo_stack
            stack.canUndoChanged.connect(self._update_actions)
            stack.canRedoChanged.connect(self._update_actions)
            stack.undoTextChanged.connect(self._update_actions)
            stack.redoTextChanged.connect(self._update_actions)
            self.size_label.setText(f"{document.width} × {document.height}")
            self.fill_time_label.setText("")
        else:
            self.size_label.setText("")
            self.zoom_label.setText("")
        self._show_evidence()
        self._update_title()
        self.setWindowModified(False)
        self._update_actions()

    def _update_title(self) -> None:
        """The file that Save writes to: the opened one, or the copy made by Save As."""
        path = self._save_path if self.document is not None else None
        name = path.name if path is not None else None
        self.setWindowTitle(f"{name}[*] — {APP_NAME}" if name else APP_NAME)

    def _update_actions(self) -> None:
        has_doc = self.document is not None
        busy = self.worker.is_busy
        for action in (self.act_save, self.act_save_as, self.act_export_mask, self.act_close, self.act_clear_mask,
                       self.act_invert_mask, self.act_clear_exclude, self.act_zoom_in, self.act_zoom_out,
                       self.act_fit, self.act_actual, self.act_compare):
            action.setEnabled(has_doc)
        self.act_zoom_fill.setEnabled(has_doc and self.document.evidence is not None)
        self.act_fill.setEnabled(has_doc and self.worker.is_ready and not busy)
        self.act_cancel_fill.setEnabled(busy)
        stack = self.document.undo_stack if has_doc else None
        self.act_undo.setEnabled(bool(stack and stack.canUndo()))
        self.act_redo.setEnabled(bool(stack and stack.canRedo()))
        self.act_undo.setText(f"&Undo {stack.undoText()}" if stack and stack.canUndo() else "&Undo")
        self.act_redo.setText(f"&Redo {stack.redoText()}" if stack and stack.canRedo() else "&Redo")

    def _maybe_keep_changes(self) -> bool:
        """Ask what to do with unsaved changes to the photo; False when the user cancels."""
        if self.document is None or not self.document.is_modified:
            return True
        name = self.document.loaded.path.name if self.document.loaded.path else "the photo"
        answer = QMessageBox.question(
            self, "Unsaved changes", f"Save the changes to {name}?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save)
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    # -- open -------------------------------------------------------------------------------------------------------
    def open_dialog(self) -> None:
        start = str(Path(self.recent.paths()[0]).parent) if self.recent.paths() else ""
        path, _ = QFileDialog.getOpenFileName(self, "Open photo", start, OPEN_FILTER)
        if path:
            self.open_path(path)

    def open_path(self, path: str | Path) -> bool:
        """Open a photo; an unreadable file is reported in a message box and the current photo stays."""
        if not self._maybe_keep_changes():
            return False
        try:
            loaded = read_image(path)
        except ImageReadError as exc:
            QMessageBox.critical(self, "Cannot open the photo", str(exc))
            if not Path(path).exists():
                self.recent.remove(path)
            return False
        self._set_document(Document(loaded, self))
        self.recent.add(path)
        self.statusBar().showMessage(f"Opened {Path(path).name}", 4000)
        return True

    def close_document(self) -> bool:
        if not self._maybe_keep_changes():
            return False
        self._set_document(None)
        return True

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        paths = self.recent.paths()
        for index, path in enumerate(paths, start=1):
            action = self.recent_menu.addAction(f"&{index} {Path(path).name}")
            action.setToolTip(path)
            action.triggered.connect(lambda checked=False, p=path: self.open_path(p))
        if paths:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear List", self.recent.clear)
        else:
            self.recent_menu.addAction("No recent photos").setEnabled(False)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        files = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if files:
            event.acceptProposedAction()
            self.open_path(files[0])

    # -- save -------------------------------------------------------------------------------------------------------
    def save(self) -> bool:
        """Save where the photo came from (asking first before overwriting the original) or was last saved to."""
        if self.document is None:
            return False
        original = self.document.loaded.path
        target = self._save_path
        if target is None:
            return self.save_as()
        if original is not None and target == original and not self._original_confirmed:
            answer = QMessageBox.question(
                self, "Overwrite the original?",
                f"Save over the original {original.name}? The photo as it was opened will be lost.\n\n"
                "Choose Cancel, then Save As, to keep it.",
                QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Cancel)
            if answer != QMessageBox.StandardButton.Save:
                return False
            self._original_confirmed = True
        return self._write_photo(target)

    def save_as(self) -> bool:
        if self.document is None:
            return False
        loaded = self.document.loaded
        base = self._save_path or loaded.path or Path.home() / "photo.png"
        suggested = default_save_name(loaded.path, loaded.format) if self._save_path == loaded.path else base
        filters, selected = save_filters(loaded.format)
        path, chosen_filter = QFileDialog.getSaveFileName(self, "Save photo as", str(suggested), filters, selected)
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
            QMessageBox.critical(self, "Cannot save the photo", str(exc))
            return False
        document.mark_saved()
        self.autosave.discard()
        self._save_path = target
        self._update_title()
        self.recent.add(target)
        self.statusBar().showMessage(f"Saved {target}", 5000)
        return True

    def export_mask(self) -> bool:
        if self.document is None:
            return False
        base = self.document.loaded.path or Path.home() / "photo.png"
        caption = "Export mask (an exclude area goes beside it as <name>_exclude.png)"
        path, _ = QFileDialog.getSaveFileName(self, caption, str(default_mask_name(base)), MASK_FILTER)
        if not path:
            return False
        target = resolve_save_path(path, MASK_FILTER)
        # white = the hole; the exclude area is a second mask of the same kind, which `fill --exclude` reads
        layers = [(target, self.document.mask)]
        if self.document.exclude.any():
            layers.append((exclude_mask_name(target), self.document.exclude))
        try:
            for layer_path, values in layers:
                grey = values.astype(np.uint8) * 255
                write_image(layer_path, np.repeat(grey[..., None], 3, axis=2))
        except ImageWriteError as exc:
            QMessageBox.critical(self, "Cannot export the mask", str(exc))
            return False
        self.statusBar().showMessage(f"Mask exported to {' and '.join(str(p) for p, _ in layers)}", 5000)
        return True

    # -- editing ----------------------------------------------------------------------------------------------------
    def _undo(self) -> None:
        if self.document is not None:
            self.document.undo()

    def _redo(self) -> None:
        if self.document is not None:
            self.document.redo()

    def _clear_mask(self) -> None:
        if self.document is not None:
            self.document.clear_mask()

    def _invert_mask(self) -> None:
        if self.document is not None:
            self.document.invert_mask()

    def _clear_exclude(self) -> None:
        if self.document is not None:
            self.document.clear_mask("exclude")

    def _scale_brush(self, factor: float) -> None:
        size = self.canvas.brush_size()
        new = round(size * factor)
        if new == size:
            new = size + (1 if factor > 1 else -1)
        self.canvas.set_brush_size(new)

    def _show_brush_size(self, size: int) -> None:
        for widget in (self.brush_slider, self.brush_spin):
            widget.blockSignals(True)
            widget.setValue(size)
            widget.blockSignals(False)

    def _on_comparing_changed(self, comparing: bool) -> None:
        self.act_compare.blockSignals(True)
        self.act_compare.setChecked(comparing)
        self.act_compare.blockSignals(False)
        if comparing:
            self.statusBar().showMessage("Showing the photo as opened")
        else:
            self.statusBar().clearMessage()

    def _zoom_to_fill(self) -> None:
        if self.document is not None and self.document.evidence is not None:
            x0, y0, x1, y1 = self.document.evidence.box
            self.canvas.show_region(QRectF(x0, y0, x1 - x0, y1 - y0))

    # -- fill -------------------------------------------------------------------------------------------------------
    def fill(self) -> bool:
        """Start filling the masked area in the background; False when there is nothing to do (with a message)."""
        if self.document is None or self.worker.is_busy:
            return False
        if not self.worker.is_ready:
            self.statusBar().showMessage(self.worker.error or "The model is still loading…", 5000)
            return False
        request = self.document.fill_request()
        if request is None:
            self.statusBar().showMessage("Paint over what to remove first: the mask is empty.", 5000)
            return False
        self._fill_document = self.document
        return self.worker.start(request)

    def cancel_fill(self) -> None:
        self.worker.cancel()
        if self.worker.is_busy:
            self.statusBar().showMessage("Cancelling…")

    def _on_busy_changed(self, busy: bool) -> None:
        self.progress_bar.setValue(0)
        self.progress_bar.setVisible(busy)
        self.cancel_button.setVisible(busy)
        if busy:
            self.statusBar().showMessage("Filling…")
        self._update_actions()

    def _on_fill_progress(self, fraction: float, text: str) -> None:
        self.progress_bar.setValue(int(round(fraction * 100)))
        if text:
            self.statusBar().showMessage(text)

    def _on_fill_finished(self, request: FillRequest, result) -> None:
        document, self._fill_document = self._fill_document, None
        if document is None or document is not self.document:
            return  # the photo it was for has been closed
        seconds = float(result.timings.get("total", 0.0))
        evidence = FillEvidence(tuple(int(v) for v in result.box), result.coarse, result.refined, result.flow_rgb,
                                seconds)
        try:
            applied = document.apply_fill(request, result.composite, evidence)
        except ValueError as exc:
            QMessageBox.warning(self, "Fill failed", f"The fill's result does not fit the photo: {exc}")
            return
        if not applied:
            QMessageBox.information(self, "Fill discarded",
                                    "The photo was changed (undo or redo) while the fill ran, so its result no "
                                    "longer fits. Nothing was changed; fill again.")
            self.statusBar().clearMessage()
            return
        self.inspector.set_result(evidence, result)
        self.fill_time_label.setText(f"Fill {seconds:.2f} s")
        self.statusBar().showMessage(f"Filled in {seconds:.2f} s", 5000)
        self._update_actions()

    def _on_fill_cancelled(self, request: FillRequest) -> None:
        self._fill_document = None
        self.statusBar().showMessage("Fill cancelled; the photo is unchanged.", 5000)

    def _on_fill_failed(self, request: FillRequest, message: str) -> None:
        self._fill_document = None
        self.statusBar().clearMessage()
        QMessageBox.warning(self, "Fill failed", f"The fill did not complete; the photo is unchanged.\n\n{message}")

    def _show_evidence(self) -> None:
        evidence = self.document.evidence if self.document is not None else None
        for panel in self.panels.values():
            panel.show_evidence(evidence)
            panel.view.show_region(self.canvas.visible_region() if self.document is not None else QRectF())
        self._update_actions()

    # -- engine -----------------------------------------------------------------------------------------------------
    def _on_engine_loading(self) -> None:
        self.device_label.setText("Loading model…")
        self.settings_panel.show_loading()
        self._update_actions()

    def _on_engine_ready(self, info: EngineInfo) -> None:
        self.banner.setVisible(False)
        self.device_label.setText(DEVICE_LABELS.get(info.device, info.device.upper()))
        self.settings_panel.show_engine(info)
        self._update_actions()

    def _on_engine_failed(self, message: str) -> None:
        self.banner.setText(f"<b>The model could not be loaded, so Fill is unavailable.</b> {message}")
        self.banner.setVisible(True)
        self.device_label.setText("No model")
        self.settings_panel.show_error()
        self._update_actions()

    # -- misc -------------------------------------------------------------------------------------------------------
    def _about(self) -> None:
        QMessageBox.about(self, f"About {APP_NAME}",
                          f"<b>{APP_NAME}</b><p>Fills holes in photos with DeepFill v1 (Yu et al., “Generative "
                          "Image Inpainting with Contextual Attention”, CVPR 2018) and shows the evidence: the "
                          "coarse and refined outputs and where contextual attention borrowed from.</p>")

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._shut_down:
            event.accept()
            return
        if not self._maybe_keep_changes():
            event.ignore()
            return
        self._save_settings()
        self.worker.shutdown()
        self.autosave.close()
        self._shut_down = True
        event.accept()
