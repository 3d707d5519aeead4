#!/usr/bin/env bash
# Sets up .venv with everything Inpaint Studio needs. Safe to run again; CI runs it on a fresh machine.
# --desktop: also put Inpaint Studio in this user's application menu (a .desktop file and its icons under
# ${XDG_DATA_HOME:-~/.local/share}, running .venv/bin/inpaint-studio).
set -euo pipefail
cd "$(dirname "$0")/.."

DESKTOP=0
for arg in "$@"; do
    case "$arg" in
        --desktop) DESKTOP=1 ;;
        *) echo "usage: bash scripts/setup.sh [--desktop]" >&2; exit 2 ;;
    esac
done

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
PIP=".venv/bin/python -m pip"
$PIP install --quiet --upgrade pip

# torch first, pinned: with no torch present, the loose requirement in pyproject.toml would download a
# multi-GB CUDA build. 2.13.0 is the CPU build this workplace's machines carry (DEVELOPERS.md).
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
    $PIP install --quiet "torch==2.13.0"
fi
$PIP install --quiet -e ".[dev]"

# Qt's xcb platform plugin (a real window under X11) needs a few X libraries a desktop has and a bare
# server may lack; install them when we can (root with apt), otherwise say what is missing.
if [ "$(uname -s)" = "Linux" ] && command -v apt-get >/dev/null 2>&1; then
    need=()
    for pkg in libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxkbcommon-x11-0 libegl1 libfontconfig1; do
        dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
    done
    if [ ${#need[@]} -gt 0 ]; then
        if [ "$(id -u)" = "0" ]; then
            (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null) \
                || echo "warning: could not install ${need[*]}; the editor still runs offscreen" >&2
        else
            echo "note: for the editor window install: sudo apt-get install ${need[*]}" >&2
        fi
    fi
fi
echo "Inpaint Studio is set up in .venv"

if [ "$DESKTOP" = 1 ]; then
    data="${XDG_DATA_HOME:-$HOME/.local/share}"
    launcher="$PWD/.venv/bin/inpaint-studio"   # the package's gui-script, made by the install above
    if [ ! -x "$launcher" ]; then
        echo "error: $launcher is missing: the install above did not make the inpaint-studio command" >&2
        exit 1
    fi
    mkdir -p "$data/applications"
    # the desktop runs the command by its full path: .venv/bin is not on the menu's PATH
    sed -e "s|^Exec=.*|Exec=\"$launcher\" %f|" -e "s|^TryExec=.*|TryExec=$launcher|" \
        resources/desktop/inpaint-studio.desktop > "$data/applications/inpaint-studio.desktop"
    for icon in resources/desktop/hicolor/*/apps/inpaint-studio.png; do
        size=$(basename "$(dirname "$(dirname "$icon")")")
        install -D -m 644 "$icon" "$data/icons/hicolor/$size/apps/inpaint-studio.png"
    done
    install -D -m 644 resources/icons/app.svg "$data/icons/hicolor/scalable/apps/inpaint-studio.svg"
    # menus and icon themes notice new files sooner with their caches refreshed (optional tools)
    if command -v update-desktop-database >/dev/null 2>&1; then
        update-desktop-database -q "$data/applications" || true
    fi
    if command -v gtk-update-icon-cache >/dev/null 2>&1; then
        gtk-update-icon-cache -q -t "$data/icons/hicolor" 2>/dev/null || true
    fi
    echo "Inpaint Studio is in the application menu: $data/applications/inpaint-studio.desktop"
fi
