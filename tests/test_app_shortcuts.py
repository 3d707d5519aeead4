"""Help ▸ Keyboard Shortcuts and the action table it comes from: opened by F1 and Ctrl+/, lists every action with
the keys it answers to now, searchable; no key belongs to two actions; tooltips name the keys."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QKeySequence  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from app.actions import ACTIONS, CANVAS_KEYS, MENUS, key_text  # noqa: E402

from .app_helpers import FakeEngine, dialogs, fake_factory, make_window  # noqa: E402,F401


@pytest.fixture
def window(qtbot, tmp_path, dialogs):
    return make_window(qtbot, tmp_path, factory=fake_factory(FakeEngine()))


def open_with(qtbot, window, key, modifier=Qt.KeyboardModifier.NoModifier):
    QTest.keyClick(window.canvas, key, modifier)
    qtbot.waitUntil(lambda: window.shortcuts_dialog is not None and window.shortcuts_dialog.isVisible())
    return window.shortcuts_dialog


def test_f1_and_ctrl_slash_open_the_list_of_every_action_with_its_keys(qtbot, window):
    dialog = open_with(qtbot, window, Qt.Key.Key_F1)
    rows = dialog.visible_rows()
    assert len(rows) == len(ACTIONS) + len(CANVAS_KEYS)
    listed = dict(rows)
    for spec in ACTIONS:
        assert listed[spec.text.replace("&", "")] == key_text(window.act[spec.name].shortcuts())
    assert listed["Fill"] == "Ctrl+Return, F" and listed["Magic Wand"] == "W" and listed["Grow Mask…"] == "Ctrl+]"
    dialog.close()
    assert open_with(qtbot, window, Qt.Key.Key_Slash, Qt.KeyboardModifier.ControlModifier) is dialog


def test_the_list_shows_the_keys_as_they_are_now(qtbot, window):
    dialog = open_with(qtbot, window, Qt.Key.Key_F1)
    assert ("Fill", "Ctrl+Return, F") in dialog.visible_rows()
    dialog.close()
    window.act["fill"].setShortcut(QKeySequence("Ctrl+K"))
    assert open_with(qtbot, window, Qt.Key.Key_F1) is dialog
    assert ("Fill", "Ctrl+K") in dialog.visible_rows()


def test_the_search_narrows_by_name_or_key(qtbot, window):
    dialog = open_with(qtbot, window, Qt.Key.Key_F1)
    assert dialog.focusWidget() is dialog.search  # typing searches at once
    QTest.keyClicks(dialog.search, "wand")
    assert dialog.visible_rows() == [("Magic Wand", "W"), ("Add to the mask with the magic wand", "Shift + click")]
    dialog.search.clear()
    QTest.keyClicks(dialog.search, "ctrl+o")
    assert [text for text, _ in dialog.visible_rows()] == ["Open…"]
    dialog.search.clear()
    QTest.keyClicks(dialog.search, "mask grow")  # every word, in any order
    assert [text for text, _ in dialog.visible_rows()] == ["Grow Mask…"]
    QTest.keyClicks(dialog.search, " zebra")
    assert dialog.visible_rows() == [] and dialog.none_label.isVisibleTo(dialog)
    dialog.search.clear()
    assert len(dialog.visible_rows()) == len(ACTIONS) + len(CANVAS_KEYS) and not dialog.none_label.isVisibleTo(dialog)


def test_no_key_belongs_to_two_actions_and_every_action_is_in_a_menu(window):
    owners: dict[str, str] = {}
    for name, action in window.act.items():
        for sequence in action.shortcuts():
            text = sequence.toString()
            assert text not in owners, f"{text} is the key of both {owners[text]} and {name}"
            owners[text] = name
    in_menus = {entry for _, entries in MENUS for entry in entries if entry is not None}
    assert {spec.name for spec in ACTIONS} <= in_menus


def test_tooltips_name_the_keys(window):
    for spec in ACTIONS:
        keys = key_text(window.act[spec.name].shortcuts())
        if keys and spec.tip:
            assert window.act[spec.name].toolTip() == f"{spec.tip} ({keys})"
    assert window.act["tool_object"].toolTip().endswith("(O)")
