"""The editor's commands as data: one table says what each is called, its keys, icon, tooltip and what it does.
Menus, the toolbar, tooltips and the keyboard-shortcuts dialog are built from it, so a key shown anywhere in the
editor is the key that works."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu, QMenuBar, QToolBar, QWidget

from .canvas import BRUSH_STEP, Canvas
from .canvas_tools import Tool
from .document import Document
from .file_workflow import FileWorkflow
from .fill_controller import FillController
from .mask_commands import MaskCommands

K = QKeySequence.StandardKey
VARY_TIP = "Re-synthesise the last fill's texture with a new seed (the network is not run again)"


class Editor(Protocol):
    """What the actions act on (the main window)."""

    canvas: Canvas
    files: FileWorkflow
    fills: FillController
    masks: MaskCommands
    act: dict[str, QAction]

    @property
    def document(self) -> Document | None: ...

    def close(self) -> bool: ...

    def zoom_to_fill(self) -> None: ...

    def show_about(self) -> None: ...

    def show_shortcuts(self) -> None: ...


@dataclass(frozen=True)
class ActionSpec:
    name: str
    text: str                                  # menu text; & marks the mnemonic
    run: Callable[[Editor], object]
    keys: tuple[str | QKeySequence.StandardKey, ...] = ()
    icon: str | None = None                    # resources/icons/<icon>.svg
    tip: str = ""                              # the tooltip, to which the keys are added
    checkable: bool = False
    needs_document: bool = True                # disabled while no photo is open
    group: str | None = None                   # checkable actions of one group exclude each other


def _on_document(edit: Callable[[Document], object]) -> Callable[[Editor], None]:
    """An action that edits the open photo (and does nothing without one)."""
    def run(editor: Editor) -> None:
        if editor.document is not None:
            edit(editor.document)
    return run


def _tool(tool: Tool) -> Callable[[Editor], None]:
    return lambda editor: editor.canvas.set_tool(tool)


def _tool_spec(tool: Tool, text: str, icon: str, key: str, tip: str) -> ActionSpec:
    return ActionSpec(f"tool_{tool.value}", text, _tool(tool), (key,), icon, tip, checkable=True, group="tools")


ACTIONS: tuple[ActionSpec, ...] = (
    # File
    ActionSpec("open", "&Open…", lambda e: e.files.open_dialog(), (K.Open,), "open", "Open a photo",
               needs_document=False),
    ActionSpec("save", "&Save", lambda e: e.files.save(), (K.Save,), "save", "Save the photo"),
    ActionSpec("save_as", "Save &As…", lambda e: e.files.save_as(), (K.SaveAs,), "save-as",
               "Save the photo under another name"),
    ActionSpec("export_mask", "&Export Mask…", lambda e: e.files.export_mask(), ("Ctrl+Shift+E",), "export-mask",
               "Save the mask as a black and white PNG (an exclude area goes beside it as <name>_exclude.png)"),
    ActionSpec("close", "&Close", lambda e: e.files.close_document(), (K.Close,), None, "Close the photo"),
    ActionSpec("quit", "&Quit", lambda e: e.close(), (K.Quit, "Ctrl+Q"), None, "Quit Inpaint Studio", needs_document=False),
    # Edit
    ActionSpec("undo", "&Undo", _on_document(Document.undo), (K.Undo,), "undo", "Undo"),
    ActionSpec("redo", "&Redo", _on_document(Document.redo), (K.Redo,), "redo", "Redo"),
    ActionSpec("fill", "&Fill", lambda e: e.fills.start(e.document), ("Ctrl+Return", "F"), "fill",
               "Fill the masked area with the model"),
    ActionSpec("vary", "Another &Variation", lambda e: e.fills.vary(e.document), ("Ctrl+Shift+Return",),
               "variation", VARY_TIP),
    ActionSpec("previous_variation", "&Previous Variation", lambda e: e.fills.step(e.document, -1),
               ("Alt+Left",), "variation-previous", "Show the variation made before this one, in place of the fill"),
    ActionSpec("next_variation", "N&ext Variation", lambda e: e.fills.step(e.document, 1), ("Alt+Right",),
               "variation-next", "Show the variation made after this one, in place of the fill"),
    ActionSpec("cancel_fill", "Cancel Fill", lambda e: e.fills.cancel(), ("Esc",), "cancel", "Stop the running fill",
               needs_document=False),
    ActionSpec("clear_mask", "C&lear Mask", _on_document(Document.clear_mask), (K.Delete,), "clear-mask",
               "Remove the whole mask"),
    ActionSpec("invert_mask", "&Invert Mask", _on_document(Document.invert_mask), ("Ctrl+I",), "invert-mask",
               "Swap masked and unmasked"),
    ActionSpec("clear_exclude", "Clear E&xclude Area", _on_document(lambda d: d.clear_mask("exclude")),
               ("Shift+X",), "clear-exclude", "Let the fill borrow from anywhere again"),
    ActionSpec("grow_mask", "&Grow Mask…", lambda e: e.masks.ask_grow(e.document), ("Ctrl+]",), None,
               "Grow the mask by a number of pixels, to take in an object's outline and halo"),
    ActionSpec("shrink_mask", "S&hrink Mask…", lambda e: e.masks.ask_shrink(e.document), ("Ctrl+[",), None,
               "Shrink the mask by a number of pixels"),
    # Tools
    _tool_spec(Tool.BRUSH, "&Brush", "brush", "B", "Paint the area to fill; Alt erases"),
    _tool_spec(Tool.ERASER, "&Eraser", "eraser", "E", "Erase the mask"),
    _tool_spec(Tool.RECT, "&Rectangle", "select-rect", "M", "Drag a rectangle to mask; Alt subtracts"),
    _tool_spec(Tool.LASSO, "&Lasso / Polygon", "select-lasso", "L",
               "Drag a free shape, or click corners and double-click to close; Alt subtracts"),
    _tool_spec(Tool.EXCLUDE, "E&xclude Brush", "exclude", "X", "Paint where the fill must not borrow from; Alt erases"),
    _tool_spec(Tool.INSPECT, "&Inspect Sources", "inspect", "I",
               "Point at a filled pixel to see where the fill borrowed it from; click to pin"),
    _tool_spec(Tool.OBJECT, "Select &Object", "select-object", "O",
               "Drag a box around an object to mask it (Alt takes it out); click inside the box to add a missed "
               "part, Alt+click to drop one"),
    _tool_spec(Tool.WAND, "Magic &Wand", "magic-wand", "W",
               "Click a region to mask the connected pixels of similar colour; Shift adds, Alt subtracts"),
    ActionSpec("brush_smaller", "S&maller Brush", lambda e: e.canvas.scale_brush(1 / BRUSH_STEP), ("[",), None,
               "Make the brush smaller"),
    ActionSpec("brush_bigger", "B&igger Brush", lambda e: e.canvas.scale_brush(BRUSH_STEP), ("]",), None,
               "Make the brush bigger"),
    # View
    ActionSpec("zoom_in", "Zoom &In", lambda e: e.canvas.zoom_by(1.25), (K.ZoomIn,), "zoom-in", "Zoom in"),
    ActionSpec("zoom_out", "Zoom &Out", lambda e: e.canvas.zoom_by(1 / 1.25), (K.ZoomOut,), "zoom-out", "Zoom out"),
    ActionSpec("fit", "&Fit to Window", lambda e: e.canvas.fit(), ("Ctrl+0",), "zoom-fit", "Show the whole photo"),
    ActionSpec("actual_pixels", "&Actual Pixels (100 %)", lambda e: e.canvas.actual_pixels(), ("Ctrl+1",),
               "zoom-100", "One photo pixel per screen pixel"),
    ActionSpec("zoom_to_fill", "Zoom to &Last Fill", lambda e: e.zoom_to_fill(), ("Ctrl+2",), None,
               "Show the region the last fill processed"),
    ActionSpec("compare", "&Compare with Original", lambda e: e.canvas.set_comparing(e.act["compare"].isChecked()),
               (), "compare", "Show the photo as opened (or hold \\ on the canvas)", checkable=True),
    # Help
    ActionSpec("shortcuts", "&Keyboard Shortcuts", lambda e: e.show_shortcuts(), (K.HelpContents, "Ctrl+/"), None,
               "Every action and its keys, searchable", needs_document=False),
    ActionSpec("about", "&About Inpaint Studio", lambda e: e.show_about(), needs_document=False),
)

# Keys the canvas handles itself (held keys and modifiers), for the shortcuts dialog.
CANVAS_KEYS: tuple[tuple[str, str], ...] = (
    ("Pan the photo", "Space + drag, or middle-drag"),
    ("Compare with the original while held", "\\"),
    ("Zoom around the pointer", "Mouse wheel"),
    ("Subtract with a selection tool, erase with a brush", "Alt + drag or click"),
    ("Add to the mask with the magic wand", "Shift + click"),
    ("Close a polygon being clicked", "Enter, or double-click"),
    ("Abandon a selection being drawn", "Esc"),
)

RECENT, PANELS = "@recent", "@panels"   # places in the menus the window fills in
MENUS: tuple[tuple[str, tuple[str | None, ...]], ...] = (
    ("&File", ("open", RECENT, None, "save", "save_as", "export_mask", None, "close", "quit")),
    ("&Edit", ("undo", "redo", None, "fill", "vary", "previous_variation", "next_variation", "cancel_fill", None,
               "clear_mask", "invert_mask", "grow_mask", "shrink_mask", None, "clear_exclude")),
    ("&Tools", (*(f"tool_{t.value}" for t in Tool), None, "brush_smaller", "brush_bigger")),
    ("&View", ("zoom_in", "zoom_out", "fit", "actual_pixels", "zoom_to_fill", None, "compare", None, PANELS)),
    ("&Help", ("shortcuts", None, "about")),
)
TOOLBAR_START = ("open", "save", None, "undo", "redo", None, *(f"tool_{t.value}" for t in Tool))
TOOLBAR_END = ("clear_mask", "invert_mask", "clear_exclude", None, "fill", "vary", None, "fit", "actual_pixels",
               "compare")


def sequences(keys: Sequence[str | QKeySequence.StandardKey]) -> list[QKeySequence]:
    """The key sequences of a spec's keys on this platform, each once."""
    found: list[QKeySequence] = []
    for key in keys:
        for sequence in (QKeySequence.keyBindings(key) if isinstance(key, K) else [QKeySequence(key)]):
            if not sequence.isEmpty() and sequence not in found:
                found.append(sequence)
    return found


def key_text(keys: Sequence[QKeySequence]) -> str:
    """Keys as this platform writes them, e.g. "Ctrl+Return, F"; the media and launch keys some standard bindings
    add (a keyboard's Open or Save key) are left out of what is shown."""
    return ", ".join(sequence.toString(QKeySequence.SequenceFormat.NativeText) for sequence in keys
                     if sequence[0].key().value < Qt.Key.Key_Back.value)


def set_tip(action: QAction, tip: str) -> None:
    """The action's tooltip (``tip`` with the keys it answers to) and status tip; its name when ``tip`` is empty."""
    shown = key_text(action.shortcuts())
    action.setToolTip(f"{tip} ({shown})" if tip and shown else tip or action.text().replace("&", ""))
    action.setStatusTip(tip)


def build_actions(parent: QWidget, editor: Editor, specs: Sequence[ActionSpec] = ACTIONS) -> dict[str, QAction]:
    """One QAction per spec, added to ``parent`` so its shortcut works even where no menu or toolbar shows it."""
    actions: dict[str, QAction] = {}
    groups: dict[str, QActionGroup] = {}
    for spec in specs:
        action = QAction(spec.text, parent)
        action.setObjectName(spec.name)
        action.setData(spec.icon)
        action.setShortcuts(sequences(spec.keys))
        set_tip(action, spec.tip)
        action.setCheckable(spec.checkable)
        if spec.group is not None:
            groups.setdefault(spec.group, QActionGroup(parent)).addAction(action)
        action.triggered.connect(lambda checked=False, run=spec.run: run(editor))
        parent.addAction(action)
        actions[spec.name] = action
    return actions


def fill_menus(bar: QMenuBar, actions: dict[str, QAction], places: dict[str, Callable[[QMenu], None]]) -> None:
    """The menu bar from MENUS; ``places`` fill in the entries that are not actions (recent files, panels)."""
    for title, entries in MENUS:
        menu = bar.addMenu(title)
        menu.setToolTipsVisible(True)  # a disabled entry's tooltip says why (Another Variation)
        for entry in entries:
            if entry is None:
                menu.addSeparator()
            elif entry.startswith("@"):
                places[entry](menu)
            else:
                menu.addAction(actions[entry])


def fill_toolbar(toolbar: QToolBar, actions: dict[str, QAction], entries: Sequence[str | None]) -> None:
    for entry in entries:
        toolbar.addSeparator() if entry is None else toolbar.addAction(actions[entry])
