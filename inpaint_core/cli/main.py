"""Dispatch to the command modules. User errors print one line on stderr and exit 2; no tracebacks.

Commands load lazily: ``--help`` imports no command module, and a command imports its module (which adds its
options) only when it is the one asked for; no command module imports torch before it runs.
"""
from __future__ import annotations

import argparse
import importlib
import sys

# command -> (module under inpaint_core.cli, what it does: the line `--help` shows)
COMMANDS = {
    "fill": ("fill", "fill the masked part of a photo"),
    "convert": ("convert", "convert an official TensorFlow checkpoint to safetensors"),
    "train": ("train", "train the inpainting generator (DeepFill v1 recipe)"),
    "eval": ("evaluate", "score DeepFill and classical fills against the originals of a photo folder"),
    "bench": ("bench", "time the model at several sizes"),
}


class UserError(Exception):
    """A problem the user can fix (bad file, bad option): shown as one line, exit status 2."""


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Every command with its one-line help, and the options of ``command`` (from its module's
    ``add_arguments``) when it names one."""
    parser = argparse.ArgumentParser(prog="python -m inpaint_core",
                                     description="DeepFill v1 inpainting engine of Inpaint Studio")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (module, summary) in COMMANDS.items():
        p = sub.add_parser(name, help=summary, description=summary)
        if name == command:
            importlib.import_module(f"inpaint_core.cli.{module}").add_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = next((arg for arg in argv if not arg.startswith("-")), None)  # the top level has no other options
    args = build_parser(command).parse_args(argv)
    from ..devices import DeviceError
    from ..imageio import ImageReadError, ImageWriteError
    from ..weights import WeightsError

    try:
        return int(args.run(args) or 0)
    except (UserError, DeviceError, ImageReadError, ImageWriteError, WeightsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except MemoryError as exc:  # the texture stage's own check (pipeline.NotEnoughMemory) says how much
        print(f"error: {exc or 'out of memory'}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
