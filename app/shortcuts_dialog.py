"""Help ▸ Keyboard Shortcuts: every action with the keys it answers to now, grouped as the menus are, then the keys
the canvas handles itself; a search field narrows the list by name or key. Built from the action table and the
live actions, so it cannot go stale."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog, QLabel, QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from .actions import ACTIONS, CANVAS_KEYS, MENUS, key_text


def keys_of(action: QAction) -> str:
    return key_text(action.shortcuts())


class ShortcutsDialog(QDialog):
    def __init__(self, actions: dict[str, QAction], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard Shortcuts")
        self.resize(520, 600)
        self._actions = actions
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search actions or keys")
        self.search.setClearButtonEnabled(True)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Action", "Keys"])
        self.tree.setRootIsDecorated(False)
        self.tree.setColumnWidth(0, 300)
        self.none_label = QLabel("No action matches the search.")
        self.none_label.setVisible(False)
        layout = QVBoxLayout(self)
        for widget in (self.search, self.tree, self.none_label):
            layout.addWidget(widget)
        self.search.textChanged.connect(self._filter)

    def refresh(self) -> None:
        """Rebuild the list from the actions as they are now."""
        self.tree.clear()
        specs = {spec.name: spec for spec in ACTIONS}
        listed: set[str] = set()
        for title, entries in MENUS:
            names = [entry for entry in entries if entry is not None and entry in specs]
            listed.update(names)
            self._group(title.replace("&", ""), [(specs[n].text.replace("&", ""), keys_of(self._actions[n]),
                                                  specs[n].tip) for n in names])
        others = [n for n in specs if n not in listed]
        if others:
            self._group("Other", [(specs[n].text.replace("&", ""), keys_of(self._actions[n]), specs[n].tip)
                                  for n in others])
        self._group("On the Canvas", [(what, keys, "") for what, keys in CANVAS_KEYS])
        self._filter(self.search.text())

    def _group(self, title: str, rows: list[tuple[str, str, str]]) -> None:
        group = QTreeWidgetItem(self.tree, [title])
        font = group.font(0)
        font.setBold(True)
        group.setFont(0, font)
        group.setFlags(Qt.ItemFlag.ItemIsEnabled)
        for text, keys, tip in rows:
            item = QTreeWidgetItem(group, [text, keys])
            item.setToolTip(0, tip)
        group.setExpanded(True)

    def _filter(self, text: str) -> None:
        """Show the rows whose name or keys hold every word of ``text`` (any case; "ctrl+o" finds Ctrl+O)."""
        words = text.lower().split()
        shown = 0
        for i in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(i)
            visible = 0
            for j in range(group.childCount()):
                item = group.child(j)
                haystack = f"{item.text(0)} {item.text(1)} {group.text(0)}".lower()
                match = all(word in haystack for word in words)
                item.setHidden(not match)
                visible += match
            group.setHidden(visible == 0)
            shown += visible
        self.none_label.setVisible(shown == 0)

    def visible_rows(self) -> list[tuple[str, str]]:
        """(action, keys) of every row the search leaves shown."""
        rows = []
        for i in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(i)
            rows += [(group.child(j).text(0), group.child(j).text(1)) for j in range(group.childCount())
                     if not group.isHidden() and not group.child(j).isHidden()]
        return rows
