"""Dispatch to the command modules. User errors print one line on stderr and exit 2; no tracebacks."""
from __future__ import annotations

import argparse
import importlib
import sys

# command name -> module under inpaint_core.cli (imported lazily so `--help` stays fast)
COMMANDS = {
    "fill": "fill",
    "convert": "convert",
    "train": "train",
    "eval": "evaluate",
    "bench": "bench",
}


class UserError(Exception):
    """A problem the user can fix (bad file, bad option): shown as one line, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m inpaint_core",
                                     description="DeepFill v1 inpainting engine of Inpaint Studio")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, module in COMMANDS.items():
        importlib.import_module(f"inpaint_core.cli.{module}").add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from ..devices import DeviceError
    from ..imageio import ImageReadError, ImageWriteError
    from ..weights import WeightsError

    try:
        return int(args.run(args) or 0)
    except (UserError, DeviceError, ImageReadError, ImageWriteError, WeightsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
