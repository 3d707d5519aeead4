"""Launching like an application: the ``inpaint-studio`` gui-script, the .desktop entry and its icons, and
``scripts/setup.sh --desktop`` installing them for the user."""
from __future__ import annotations

import configparser
import mimetypes
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

from app import launcher
from inpaint_core.imageio import FORMATS_BY_SUFFIX, write_image

from .conftest import REPO

DESKTOP = REPO / "resources" / "desktop"
ICON_SVG = REPO / "resources" / "icons" / "app.svg"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)

RUN_ENTRY_POINT = """
import sys
from importlib.metadata import EntryPoint
from PySide6.QtWidgets import QApplication

def exec_(self):  # instead of the event loop: report what the command opened, then close it
    window = next(w for w in QApplication.topLevelWidgets() if type(w).__name__ == "MainWindow")
    print(window.windowTitle())
    print(QApplication.desktopFileName(), QApplication.applicationName())
    window.document.mark_saved()
    window.close()
    return 0

QApplication.exec = exec_
name, value, photo = sys.argv[1:]
sys.argv = [name, photo]
sys.exit(EntryPoint(name=name, value=value, group="gui_scripts").load()())
"""


def gui_scripts() -> dict[str, str]:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["gui-scripts"]


def test_the_inpaint_studio_command_opens_the_editor_with_a_photo(tmp_path):
    value = gui_scripts()["inpaint-studio"]
    photo = write_image(tmp_path / "holiday.png", np.zeros((32, 48, 3), np.uint8))
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "XDG_DATA_HOME": str(tmp_path / "data")}
    proc = subprocess.run([sys.executable, "-c", RUN_ENTRY_POINT, "inpaint-studio", value, str(photo)], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    title, names = proc.stdout.strip().splitlines()[-2:]
    assert title.startswith("holiday.png") and names == "inpaint-studio Inpaint Studio"


def test_main_py_is_the_same_command():
    import main

    assert main.main is launcher.main


def desktop_entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return parser["Desktop Entry"]


def test_the_desktop_entry_launches_the_command_with_the_photo_and_names_the_icon():
    entry = desktop_entry(DESKTOP / "inpaint-studio.desktop")
    assert entry["Type"] == "Application" and entry["Name"] == "Inpaint Studio" and entry["Terminal"] == "false"
    assert entry["Exec"] == "inpaint-studio %f" and entry["TryExec"] == "inpaint-studio"
    assert entry["Icon"] == "inpaint-studio" and "Graphics" in entry["Categories"].split(";")
    readable = {mimetypes.guess_type(f"x{suffix}")[0] for suffix in FORMATS_BY_SUFFIX}
    offered = {m for m in entry["MimeType"].split(";") if m}
    assert {"image/jpeg", "image/png"} <= offered <= readable


def rendered(size: int) -> np.ndarray:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    QSvgRenderer(str(ICON_SVG)).render(painter, QRectF(0, 0, size, size))
    painter.end()
    return pixels(image)


def pixels(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGBA8888)
    return np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())[
        :, :image.width() * 4].reshape(image.height(), image.width(), 4).copy()


@pytest.mark.parametrize("size", SIZES)
def test_each_icon_size_is_the_svg_drawn_at_that_size(qapp, size):
    png = QImage(str(DESKTOP / "hicolor" / f"{size}x{size}" / "apps" / "inpaint-studio.png"))
    assert (png.width(), png.height()) == (size, size) and png.hasAlphaChannel()
    assert np.abs(pixels(png).astype(int) - rendered(size)).mean() < 1.0  # the SVG changed: render them again


def stub(path: Path, body: str = "exit 0") -> None:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def test_setup_desktop_puts_the_editor_in_the_users_application_menu(tmp_path):
    """setup.sh in a copy of the repo whose .venv tools are stand-ins (nothing is installed), so only what
    --desktop adds really runs."""
    repo = tmp_path / "Inpaint Studio"   # a space in the path: the menu entry must still run
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(REPO / "scripts" / "setup.sh", repo / "scripts")
    shutil.copytree(REPO / "resources", repo / "resources")
    bin_dir = repo / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    stub(bin_dir / "python")
    stub(bin_dir / "inpaint-studio")
    tools = tmp_path / "tools"
    tools.mkdir()
    stub(tools / "dpkg")  # every X library "installed": setup.sh asks apt for nothing
    home = tmp_path / "home"
    env = {"HOME": str(home), "PATH": f"{tools}:/usr/bin:/bin"}
    proc = subprocess.run(["bash", str(repo / "scripts" / "setup.sh"), "--desktop"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    share = home / ".local" / "share"
    entry = desktop_entry(share / "applications" / "inpaint-studio.desktop")
    assert entry["Exec"] == f'"{bin_dir / "inpaint-studio"}" %f' and entry["TryExec"] == str(bin_dir / "inpaint-studio")
    assert entry["Icon"] == "inpaint-studio"
    for size in SIZES:
        installed = share / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "inpaint-studio.png"
        assert installed.read_bytes() == (DESKTOP / "hicolor" / f"{size}x{size}" / "apps" /
                                          "inpaint-studio.png").read_bytes()
    assert (share / "icons" / "hicolor" / "scalable" / "apps" / "inpaint-studio.svg").read_bytes() == \
        ICON_SVG.read_bytes()
    assert "application menu" in proc.stdout

    # without --desktop nothing goes to the menu; an unknown option is refused before anything runs
    shutil.rmtree(share)
    assert subprocess.run(["bash", str(repo / "scripts" / "setup.sh")], env=env, capture_output=True).returncode == 0
    assert not share.exists()
    refused = subprocess.run(["bash", str(repo / "scripts" / "setup.sh"), "--desktp"], env=env, capture_output=True,
                             text=True)
    assert refused.returncode == 2 and "usage" in refused.stderr
