"""Autosave and crash recovery: what is written and when, that a running editor's work is never taken, that a
crashed one's is found (a real process killed mid-session), and Recover / Discard in the window."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QMessageBox  # noqa: E402

import app.recovery as recovery_module  # noqa: E402
import app.recovery_dialog as dialog_module  # noqa: E402
from app.document import Document, FillEvidence  # noqa: E402
from app.recovery import MANIFEST, Autosave, Crop, RecoveryFolder, pending_recoveries  # noqa: E402
from app.recovery_dialog import recover  # noqa: E402
from inpaint_core.imageio import read_image, read_mask, write_image  # noqa: E402

from .app_helpers import FakeEngine, dialogs, fake_factory, gaps_while, make_window  # noqa: E402, F401
from .conftest import REPO  # noqa: E402

HOLE = (10, 6, 30, 20)      # x0, y0, x1, y1 of the filled hole
EXCLUDE = (40, 30, 50, 40)  # of the exclude area


def photo_file(folder: Path, width: int = 64, height: int = 48) -> Path:
    rgb = np.random.default_rng(5).integers(0, 256, (height, width, 3), dtype=np.uint8)
    return write_image(folder / "holiday.png", rgb)


def rect(box: tuple[int, int, int, int]):
    x0, y0, x1, y1 = box
    return x0, y0, np.ones((y1 - y0, x1 - x0), bool)


def edit(document: Document) -> None:
    """A short session: paint a hole, fill it (green), paint an exclude area, then a new hole."""
    document.apply_footprint("mask", rect(HOLE), True, "Rectangle")
    request = document.fill_request()
    composite = request.image.copy()
    composite[request.mask] = (0, 255, 0)
    x0, y0, x1, y1 = HOLE
    region = composite[y0:y1, x0:x1]
    assert document.apply_fill(request, composite, FillEvidence(HOLE, region, region, region, 0.1))
    document.apply_footprint("exclude", rect(EXCLUDE), True, "Exclude")
    document.apply_footprint("mask", rect((2, 30, 8, 40)), True, "Rectangle")


def manifest(folder: Path) -> dict:
    return json.loads((folder / MANIFEST).read_text())


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "recovery"


@pytest.fixture
def autosave(qtbot, root: Path):
    saver = Autosave(root, delay_ms=20, max_delay_ms=200)
    yield saver
    saver.close()


def test_edits_are_written_after_the_delay_as_the_changed_rectangles_only(qtbot, tmp_path, root, autosave) -> None:
    document = Document(read_image(photo_file(tmp_path)))
    autosave.track(document)
    edit(document)
    assert autosave.folder is None  # nothing is written on the spot
    qtbot.waitUntil(lambda: autosave.folder is not None and (autosave.folder / MANIFEST).exists(), timeout=5000)
    autosave.flush()
    data = manifest(autosave.folder)
    assert data["source"] == str((tmp_path / "holiday.png").resolve()) and (data["width"], data["height"]) == (64, 48)
    layers = data["layers"]
    image = read_image(autosave.folder / layers["image"]["file"]).rgb
    x0, y0, x1, y1 = HOLE
    assert (layers["image"]["x"], layers["image"]["y"]) == (x0, y0) and image.shape == (y1 - y0, x1 - x0, 3)
    assert (image == (0, 255, 0)).all()
    mask = read_mask(autosave.folder / layers["mask"]["file"])
    mx, my = layers["mask"]["x"], layers["mask"]["y"]
    assert np.array_equal(document.mask[my:my + mask.shape[0], mx:mx + mask.shape[1]], mask)
    exclude = read_mask(autosave.folder / layers["exclude"]["file"])
    assert exclude.all() and (layers["exclude"]["x"], layers["exclude"]["y"]) == EXCLUDE[:2]
    # only the files the manifest names, the manifest and the lock are there
    names = {p.name for p in autosave.folder.iterdir()}
    assert names == {MANIFEST, "owner.lock", *(entry["file"] for entry in layers.values())}


def test_a_running_editors_work_is_never_offered_and_a_clean_close_removes_it(qtbot, tmp_path, root,
                                                                             autosave) -> None:
    document = Document(read_image(photo_file(tmp_path)))
    autosave.track(document)
    edit(document)
    autosave.save_now()
    autosave.flush()
    assert (autosave.folder / MANIFEST).exists()
    assert pending_recoveries(root) == []  # locked by this (running) editor
    autosave.close()
    assert list(root.iterdir()) == []


def test_a_clean_save_clears_the_data_and_the_next_edit_writes_every_layer_again(qtbot, tmp_path, autosave) -> None:
    document = Document(read_image(photo_file(tmp_path)))
    autosave.track(document)
    edit(document)
    autosave.save_now()
    autosave.discard()
    autosave.flush()
    assert sorted(p.name for p in autosave.folder.iterdir()) == ["owner.lock"]
    document.apply_footprint("mask", rect((50, 2, 60, 8)), True, "Rectangle")
    autosave.save_now()
    autosave.flush()
    assert set(manifest(autosave.folder)["layers"]) == {"image", "mask", "exclude"}


def test_long_editing_is_still_saved_at_the_latest_after_the_longest_delay(qtbot, tmp_path, root) -> None:
    saver = Autosave(root, delay_ms=60_000, max_delay_ms=300)
    document = Document(read_image(photo_file(tmp_path)))
    saver.track(document)
    strokes = iter(range(1000))
    painter = QTimer()
    painter.timeout.connect(lambda: document.apply_footprint("mask", rect((next(strokes) % 60, 0, 63, 4)),
                                                            True, "Stroke"))
    painter.start(20)  # an edit every 20 ms: the 60 s delay after the last edit never comes
    try:
        qtbot.waitUntil(lambda: saver.folder is not None and (saver.folder / MANIFEST).exists(), timeout=5000)
    finally:
        painter.stop()
        saver.close()


def test_the_ui_thread_only_copies_and_stays_responsive_while_a_large_photo_is_written(qtbot, tmp_path,
                                                                                      autosave) -> None:
    document = Document(read_image(photo_file(tmp_path, 3000, 2000)))
    autosave.track(document)
    document.apply_footprint("mask", rect((0, 0, 3000, 1990)), True, "Rectangle")
    request = document.fill_request()
    composite = np.full_like(request.image, 90)  # a fill that changed nearly the whole photo
    region = composite[:1990]
    document.apply_fill(request, composite, FillEvidence((0, 0, 3000, 1990), region, region, region, 1.0))
    started = time.perf_counter()
    autosave.save_now()
    copy_seconds = time.perf_counter() - started
    gaps = gaps_while(qtbot, lambda: not (autosave.folder / MANIFEST).exists(), timeout_s=60)
    autosave.flush()
    assert copy_seconds < 0.5, copy_seconds
    assert max(gaps, default=0.0) < 0.3, max(gaps)
    assert read_image(autosave.folder / manifest(autosave.folder)["layers"]["image"]["file"]).size == (3000, 1990)


def test_a_failed_write_is_reported_not_raised(qtbot, tmp_path) -> None:
    blocker = tmp_path / "not_a_folder"
    blocker.write_bytes(b"")
    saver = Autosave(blocker / "recovery", delay_ms=10)
    document = Document(read_image(photo_file(tmp_path)))
    saver.track(document)
    with qtbot.waitSignal(saver.failed, timeout=5000) as signal:
        document.apply_footprint("mask", rect(HOLE), True, "Rectangle")
    assert signal.args[0].startswith("Autosave failed")
    saver.close()


CRASHING_EDITOR = """
import os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from pathlib import Path
from PySide6.QtWidgets import QApplication
app = QApplication([])
from app.document import Document
from app.recovery import Autosave
from inpaint_core.imageio import read_image
from tests.test_recovery import edit
document = Document(read_image(sys.argv[1]))
autosave = Autosave(Path(sys.argv[2]))
autosave.track(document)
edit(document)
autosave.save_now()
autosave.flush()
os._exit(9)  # a crash: no clean close, no cleanup, the lock file stays behind
"""


def test_work_left_by_a_killed_editor_process_is_found_and_loads_exactly(tmp_path, root) -> None:
    source = photo_file(tmp_path)
    proc = subprocess.run([sys.executable, "-c", CRASHING_EDITOR, str(source), str(root)], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 9, proc.stderr
    assert len(list(root.iterdir())) == 1 and (next(root.iterdir()) / "owner.lock").exists()
    (found,) = pending_recoveries(root)
    assert found.source == source.resolve() and found.size == (64, 48)
    assert "holiday.png" in found.describe() and "fills" in found.describe()
    expected = Document(read_image(source))
    edit(expected)
    for layer, crop in found.load().items():
        height, width = crop.pixels.shape[:2]
        assert np.array_equal(expected.layer(layer)[crop.y:crop.y + height, crop.x:crop.x + width], crop.pixels)
    assert pending_recoveries(root) == []  # this process holds it now
    found.folder.release()
    assert len(pending_recoveries(root)) == 1


def crashed_session(root: Path, source: Path, saved_at_offset: float = 0.0) -> Path:
    """Recovery data as a crashed editor leaves it (written with this process's own classes, then unlocked)."""
    document = Document(read_image(source))
    edit(document)
    folder = RecoveryFolder.create(root, source)
    crops = {}
    for layer, box in (("image", HOLE), ("mask", (2, 30, 8, 40)), ("exclude", EXCLUDE)):
        x0, y0, x1, y1 = box
        crops[layer] = Crop(x0, y0, document.layer(layer)[y0:y1, x0:x1].copy())
    folder.write(source.resolve(), (document.width, document.height), crops)
    if saved_at_offset:
        data = manifest(folder.path)
        data["saved_at"] += saved_at_offset
        (folder.path / MANIFEST).write_text(json.dumps(data))
    folder.release()
    return folder.path


def test_pending_lists_the_newest_first_removes_empty_folders_and_leaves_damaged_ones(tmp_path, root) -> None:
    source = photo_file(tmp_path)
    older = crashed_session(root, source, saved_at_offset=-3600)
    newer = crashed_session(root, source)
    empty = root / "crashed_before_its_first_write"
    empty.mkdir()
    damaged = root / "damaged"
    damaged.mkdir()
    (damaged / MANIFEST).write_text("{not json")
    found = pending_recoveries(root)
    assert [r.folder.path for r in found] == [newer, older]
    assert not empty.exists() and damaged.exists()
    for r in found:
        r.folder.release()


def use_root(monkeypatch, root: Path) -> None:
    """Autosave and the start-up offer both use ``root`` instead of the user's recovery folder."""
    for module in (recovery_module, dialog_module):
        monkeypatch.setattr(module, "default_root", lambda: root)


def recovery_box(qtbot, window) -> QMessageBox:
    qtbot.waitUntil(lambda: window.findChild(QMessageBox) is not None, timeout=5000)
    return window.findChild(QMessageBox)


def click(box: QMessageBox, text: str) -> None:
    next(button for button in box.buttons() if button.text() == text).click()


def test_recover_at_start_up_reopens_the_photo_with_its_fills_and_masks_as_one_undoable_edit(
        qtbot, tmp_path, root, monkeypatch) -> None:
    use_root(monkeypatch, root)
    source = photo_file(tmp_path)
    folder = crashed_session(root, source)
    window = make_window(qtbot, tmp_path, factory=fake_factory(FakeEngine()))
    box = recovery_box(qtbot, window)
    assert "holiday.png" in box.text()
    click(box, "Recover")
    document = window.document
    expected = Document(read_image(source))
    edit(expected)
    x0, y0, x1, y1 = HOLE
    assert (document.image[y0:y1, x0:x1] == (0, 255, 0)).all()
    assert np.array_equal(document.image, expected.image)
    assert np.array_equal(document.mask[30:40, 2:8], expected.mask[30:40, 2:8])
    assert np.array_equal(document.exclude, expected.exclude)
    assert document.is_modified and window.autosave.folder == folder
    document.undo()
    assert np.array_equal(document.image, read_image(source).rgb) and not document.mask.any()
    window.close()
    assert not folder.exists()  # a clean close after recovering removes the data


def test_discard_at_start_up_deletes_the_work(qtbot, tmp_path, root, monkeypatch) -> None:
    use_root(monkeypatch, root)
    folder = crashed_session(root, photo_file(tmp_path))
    window = make_window(qtbot, tmp_path, factory=fake_factory(FakeEngine()))
    click(recovery_box(qtbot, window), "Discard")
    assert not folder.exists() and window.document is None


def test_work_whose_photo_is_gone_is_kept_and_offered_again(qtbot, tmp_path, root, monkeypatch, dialogs) -> None:
    use_root(monkeypatch, tmp_path / "no_recovery")  # no start-up offer
    source = photo_file(tmp_path)
    folder = crashed_session(root, source)
    source.unlink()
    window = make_window(qtbot, tmp_path, factory=fake_factory(FakeEngine()))
    (found,) = pending_recoveries(root)
    assert not recover(window, window.files, window.autosave, found)
    assert dialogs.kinds() == ["critical", "warning"]  # cannot open the photo; the work is kept
    assert str(folder) in dialogs.calls[-1][2]
    assert [r.folder.path for r in pending_recoveries(root)] == [folder]


def test_saving_in_the_window_clears_the_autosaved_work(qtbot, tmp_path, root, monkeypatch, dialogs) -> None:
    use_root(monkeypatch, root)
    window = make_window(qtbot, tmp_path, factory=fake_factory(FakeEngine()))
    assert window.files.open_path(photo_file(tmp_path))
    edit(window.document)
    window.autosave.save_now()
    window.autosave.flush()
    assert (window.autosave.folder / MANIFEST).exists()
    dialogs.answer = QMessageBox.StandardButton.Save  # yes, save over the original
    assert window.files.save()
    window.autosave.flush()
    assert not (window.autosave.folder / MANIFEST).exists()
