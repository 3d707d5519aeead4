#!/usr/bin/env bash
# Sets up .venv with everything Inpaint Studio needs. Safe to run again; CI runs it on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

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
