"""``convert``: an official DeepFill v1 TensorFlow checkpoint -> safetensors weights."""
from __future__ import annotations

import argparse

from ..tf_checkpoint import TFCheckpointError
from .main import UserError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description += ". Reads the checkpoint's .index/.data files directly (no TensorFlow needed)."
    p.add_argument("--tf-checkpoint", required=True, metavar="PREFIX_OR_DIR",
                   help="checkpoint prefix (e.g. DIR/snap-0), its .index file, or a folder with a 'checkpoint' file")
    p.add_argument("--out", required=True, metavar="FILE.safetensors")
    p.add_argument("--name", help="model name for the model card (default: the checkpoint folder's name)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..convert_tf import ConversionError, convert_checkpoint  # imports torch

    try:
        out = convert_checkpoint(args.tf_checkpoint, args.out, name=args.name)
    except (TFCheckpointError, ConversionError) as exc:
        raise UserError(str(exc)) from None
    print(f"wrote {out} (84 generator tensors; input channel order BGR, recorded in the model card)")
    return 0
