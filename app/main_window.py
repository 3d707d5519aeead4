"""The editor's window: wires the canvas, the action table, the file workflow, the fill controller, the docks and
the status bar together, and keeps the settings between sessions."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QRectF, QSettings, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QMainWindow, QMenu, QMessageBox, QToolButton, QVBoxLayout, QWidget

from .actions import (ACTIONS, PANELS, RECENT, TOOLBAR_END, TOOLBAR_START, VARY_TIP, build_actions, fill_menus,
                      fill_toolbar, set_tip)
from .banner import EngineBanner
from .canvas import Canvas
from .docks import Docks
from .document import Document
from .file_workflow import FileWorkflow
from .fill_controller import FillController, FillOptions
from .fill_worker import EngineFactory, EngineInfo, EngineSettings, FillWorker, STRATEGIES, load_inpainter
from .icons import app_icon, themed_icon
from .inspector import SourceInspector
from .mask_commands import MaskCommands
from .preferences import Preferences
from .recovery import Autosave
from .recovery_dialog import offer_recovery
from .settings_panel import DEVICE_LABELS, EngineSettingsPanel
from .shortcuts_dialog import ShortcutsDialog
from .status_bar import StatusBar
from .tool_options import ToolOptions
from .variation_bar import VariationBar

APP_NAME = "Inpaint Studio"
DEFAULT_SIZE = QSize(1280, 800)


class MainWindow(QMainWindow):
    def __init__(self, settings: QSettings | None = None, weights: str | None = None,
                 engine_factory: EngineFactory = load_inpainter) -> None:
        super().__init__()
        self.settings = settings if settings is not None else QSettings()
        self.prefs = Preferences(self.settings)
        self._weights = weights
        self._shut_down = False
        self.shortcuts_dialog: ShortcutsDialog | None = None
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowNestedDocks)

        self.canvas = Canvas()
        self.banner = EngineBanner()
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        layout.addWidget(self.canvas, 1)
        self.setCentralWidget(central)

        self.files = FileWorkflow(self, self.settings)
        self.worker = FillWorker(engine_factory, self)
        self.fills = FillController(self.worker, self)
        self.autosave = Autosave(parent=self)
        self.act: dict[str, QAction] = build_actions(self, self, ACTIONS)  # by ActionSpec name
        self.status = StatusBar(self.act["cancel_fill"])
        self.setStatusBar(self.status)
        self.masks = MaskCommands(self, self.prefs)
        self.fills.options = self.prefs.fill_options()
        self.settings_panel = EngineSettingsPanel(self.prefs.text("engine/device", "auto"),
                                                  self.prefs.text("engine/strategy", "CROP"),
                                                  self.prefs.text("engine/texture", "photo"), self.fills.options)
        self.docks = Docks(self, self.canvas, self.settings_panel)
        self.panels = self.docks.panels
        self.inspector = SourceInspector(self.canvas, [panel.view for panel in self.panels.values()], self)
        self.recent_menu = QMenu("Open &Recent", self)
        self.recent_menu.aboutToShow.connect(lambda: self.files.fill_recent_menu(self.recent_menu))
        self.tool_options = ToolOptions(self.canvas)
        self.variation_bar = VariationBar(self.canvas, self.act["previous_variation"], self.act["next_variation"],
                                          self.act["vary"])
        self._build_toolbar()
        fill_menus(self.menuBar(), self.act, {RECENT: lambda menu: menu.addMenu(self.recent_menu),
                                              PANELS: self._add_panel_toggles})
        self._connect()
        self._restore_settings()
        self._apply_theme()
        self._show_document(None)
        # Load the model once the window is up: start-up stays quick and the window shows "loading" meanwhile.
        QTimer.singleShot(0, self._configure_engine)
        QTimer.singleShot(0, self, lambda: offer_recovery(self, self.files, self.autosave))

    @property
    def document(self) -> Document | None:
        return self.files.document

    # -- construction ---------------------------------------------------------------------------------------------
    def _build_toolbar(self) -> None:
        self.toolbar = self.addToolBar("Main")
        self.toolbar.setObjectName("mainToolbar")
        self.toolbar.setMovable(False)
        self.toolbar.setIconSize(QSize(22, 22))
        fill_toolbar(self.toolbar, self.act, TOOLBAR_START)
        self.toolbar.addWidget(self.tool_options)
        self.toolbar.addSeparator()
        fill_toolbar(self.toolbar, self.act, TOOLBAR_END)
        fill_button = self.toolbar.widgetForAction(self.act["fill"])
        if isinstance(fill_button, QToolButton):
            fill_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)

    def _add_panel_toggles(self, menu: QMenu) -> None:
        menu.addAction(self.toolbar.toggleViewAction())
        self.docks.add_toggles(menu)

    def _connect(self) -> None:
        status = self.status
        self.files.documentReplaced.connect(self._show_document)
        self.files.saved.connect(self._on_saved)
        for source in (self.files, self.fills, self.masks):
            source.message.connect(status.showMessage)
        self.canvas.message.connect(lambda text: status.showMessage(text, 8000))
        self.autosave.failed.connect(lambda message: status.showMessage(message, 10000))
        self.inspector.message.connect(lambda text: status.showMessage(text, 5000))
        self.fills.filled.connect(self._on_filled)
        self.fills.variationsChanged.connect(self._update_actions)
        self.canvas.zoomChanged.connect(status.show_zoom)
        self.canvas.comparingChanged.connect(self._on_comparing_changed)
        for panel in self.panels.values():
            panel.view.focusRequested.connect(self.zoom_to_fill)
        self.canvas.toolChanged.connect(lambda tool: self.act[f"tool_{tool.value}"].setChecked(True))
        self.settings_panel.settingsChanged.connect(self._on_engine_settings_changed)
        self.settings_panel.fillOptionsChanged.connect(self._on_fill_options_changed)
        self.canvas.strokeFinished.connect(lambda layer, erasing: self.fills.stroke_finished(self.document, layer,
                                                                                             erasing))
        self.worker.busyChanged.connect(status.set_busy)
        self.worker.busyChanged.connect(self._update_actions)
        self.worker.progress.connect(status.show_progress)
        self.worker.engineLoading.connect(self._on_engine_loading)
        self.worker.engineReady.connect(self._on_engine_ready)
        self.worker.engineFailed.connect(self._on_engine_failed)

    # -- settings -------------------------------------------------------------------------------------------------
    def _on_fill_options_changed(self, options: FillOptions) -> None:
        self.fills.options = options
        self.prefs.set_fill_options(options)

    def _restore_settings(self) -> None:
        self.prefs.restore_layout(self, DEFAULT_SIZE)
        self.canvas.set_brush_size(self.prefs.integer("brush/size", self.canvas.brush_size()))
        self.canvas.set_tolerance(self.prefs.integer("wand/tolerance", self.canvas.tolerance()))
        self.act[f"tool_{self.canvas.tool().value}"].setChecked(True)

    def _save_settings(self) -> None:
        self.prefs.save_layout(self)
        for key, value in (("brush/size", self.canvas.brush_size()), ("wand/tolerance", self.canvas.tolerance())):
            self.prefs.set(key, value)
        self._save_engine_settings()
        self.settings.sync()

    def _save_engine_settings(self) -> None:
        panel = self.settings_panel
        for key, value in (("engine/device", panel.device()), ("engine/strategy", panel.strategy()),
                           ("engine/texture", panel.texture())):
            self.prefs.set(key, value)

    def _configure_engine(self) -> None:
        """(Re)build the engine with the panel's settings; the worker keeps the loaded one when they are the same."""
        panel = self.settings_panel
        strategy = panel.strategy()
        self.worker.configure(EngineSettings(self._weights, panel.device(),
                                             strategy if strategy in STRATEGIES else "CROP", panel.texture()))

    def _on_engine_settings_changed(self) -> None:
        self._save_engine_settings()
        self._configure_engine()

    # -- theme ----------------------------------------------------------------------------------------------------
    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_theme()

    def _apply_theme(self) -> None:
        """Icons are tinted with the palette's text colour, so they read in light and dark themes."""
        for action in self.act.values():
            if action.data():
                action.setIcon(themed_icon(action.data(), self.palette()))
        self.banner.set_theme(self.palette())

    # -- the open photo -------------------------------------------------------------------------------------------
    def _show_document(self, document: Document | None) -> None:
        self.fills.forget()
        self.canvas.set_document(document)
        self.autosave.track(document)
        if document is not None:
            document.modifiedChanged.connect(self.setWindowModified)
            document.evidenceChanged.connect(self._show_evidence)
            stack = document.undo_stack
            for changed in (stack.canUndoChanged, stack.canRedoChanged, stack.undoTextChanged, stack.redoTextChanged):
                changed.connect(self._update_actions)
        self.status.show_photo_size((document.width, document.height) if document is not None else None)
        self.status.show_fill_time(None)
        self._show_evidence()
        self._update_title()
        self.setWindowModified(False)

    def _update_title(self) -> None:
        """The file that Save writes to: the opened one, or the copy made by Save As."""
        path = self.files.save_path if self.document is not None else None
        self.setWindowTitle(f"{path.name}[*] — {APP_NAME}" if path is not None else APP_NAME)

    def _update_actions(self) -> None:
        document = self.document
        for spec in ACTIONS:
            if spec.needs_document:
                self.act[spec.name].setEnabled(document is not None)
        busy = self.worker.is_busy
        self.act["zoom_to_fill"].setEnabled(document is not None and document.evidence is not None)
        self.act["fill"].setEnabled(document is not None and self.worker.is_ready and not busy)
        self.act["cancel_fill"].setEnabled(busy)
        cannot_vary = self.fills.cannot_vary(document)
        self.act["vary"].setEnabled(document is not None and cannot_vary is None)
        # disabled, its tooltip says why (with no photo the reason is plain)
        set_tip(self.act["vary"], cannot_vary if document is not None and cannot_vary else VARY_TIP)
        variations = self.fills.variations(document)
        for name, step in (("previous_variation", -1), ("next_variation", 1)):
            self.act[name].setEnabled(variations is not None and variations.can_step(step))
        self.variation_bar.show_state(variations)
        stack = document.undo_stack if document is not None else None
        for name, can, text in (("undo", stack and stack.canUndo(), stack and stack.undoText()),
                                ("redo", stack and stack.canRedo(), stack and stack.redoText())):
            self.act[name].setEnabled(bool(can))
            self.act[name].setText(f"&{name.title()} {text}" if can else f"&{name.title()}")

    def _show_evidence(self) -> None:
        document = self.document
        self.docks.show_evidence(document.evidence if document is not None else None,
                                 self.canvas.visible_region() if document is not None else QRectF())
        self._update_actions()

    def _on_saved(self, path: object) -> None:
        self.autosave.discard()
        self._update_title()

    def _on_filled(self, evidence, result) -> None:
        self.inspector.set_result(evidence, result)
        variations = self.fills.variations(self.document)
        # the first of a fill's variations is the fill itself; the others ran the texture stage alone
        self.status.show_fill_time(result.timings, variation=variations is not None and variations.shown > 0)

    def zoom_to_fill(self) -> None:
        if self.document is not None and self.document.evidence is not None:
            x0, y0, x1, y1 = self.document.evidence.box
            self.canvas.show_region(QRectF(x0, y0, x1 - x0, y1 - y0))

    def _on_comparing_changed(self, comparing: bool) -> None:
        self.act["compare"].setChecked(comparing)
        self.status.showMessage("Showing the photo as opened" if comparing else "")

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        files = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if files:
            event.acceptProposedAction()
            self.files.open_path(files[0])

    # -- engine ---------------------------------------------------------------------------------------------------
    def _on_engine_loading(self) -> None:
        self.status.show_device("Loading model…")
        self.settings_panel.show_loading()
        self._update_actions()

    def _on_engine_ready(self, info: EngineInfo) -> None:
        self.banner.setVisible(False)
        self.status.show_device(DEVICE_LABELS.get(info.device, info.device.upper()))
        self.settings_panel.show_engine(info)
        self._update_actions()

    def _on_engine_failed(self, message: str) -> None:
        self.banner.show_error(message)
        self.status.show_device("No model")
        self.settings_panel.show_error()
        self._update_actions()

    # -- help and closing -----------------------------------------------------------------------------------------
    def show_shortcuts(self) -> None:
        """The shortcuts list, listing the keys as they are now; one window, brought forward when already open."""
        if self.shortcuts_dialog is None:
            self.shortcuts_dialog = ShortcutsDialog(self.act, self)
        self.shortcuts_dialog.refresh()
        self.shortcuts_dialog.show()
        self.shortcuts_dialog.raise_()
        self.shortcuts_dialog.activateWindow()
        self.shortcuts_dialog.search.setFocus()

    def show_about(self) -> None:
        QMessageBox.about(self, f"About {APP_NAME}",
                          f"<b>{APP_NAME}</b><p>Fills holes in photos with DeepFill v1 (Yu et al., “Generative "
                          "Image Inpainting with Contextual Attention”, CVPR 2018) and shows the evidence: the "
                          "coarse and refined outputs and where contextual attention borrowed from.</p>")

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._shut_down:
            event.accept()
            return
        if not self.files.maybe_keep_changes():
            event.ignore()
            return
        self._save_settings()
        self.worker.shutdown()
        self.autosave.close()
        self._shut_down = True
        event.accept()
