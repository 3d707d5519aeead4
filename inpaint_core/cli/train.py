"""``train``: train the generator with the DeepFill v1 recipe; resumable; under torchrun, on several devices."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..train.config import DEFAULT_YAML, ConfigError, TrainConfig, config_from_dict, load_config
from .main import UserError

# options that are config keys: (flag, key, type, help)
_OVERRIDES = [
    ("--size", "size", int, "training crop side, a multiple of 8 (default 256)"),
    ("--batch", "batch", int, "images per batch per process (default 16)"),
    ("--max-steps", "max_steps", int, "stop after this many generator steps in all (default 1000000)"),
    ("--max-minutes", "max_minutes", float, "stop cleanly after this much wall time, with checkpoint and export"),
    ("--warmup-steps", "warmup_steps", int, "first steps with L1 losses only, no critics (default 0)"),
    ("--warmup-mode", "warmup_mode", str, "both: train both stages in warm-up; coarse: stage 1 alone"),
    ("--critic-warmup-steps", "critic_warmup_steps", int,
     "then steps that train the critics alone, the generator unchanged (default 0)"),
    ("--amp", "amp", str, "mixed precision: off, bf16 or fp16 (CUDA only)"),
    ("--device", "device", str, "auto, cpu or cuda"),
    ("--workers", "workers", int, "data loading processes (default 4)"),
    ("--lr", "lr", float, "Adam learning rate (default 1e-4)"),
    ("--critic-lr", "critic_lr", float, "the critics' Adam learning rate (default: --lr)"),
    ("--stroke-prob", "stroke_prob", float, "probability of a stroke mask instead of a box (default 0.5)"),
    ("--seed", "seed", int, "seed of weights, data order, crops and masks (default 0)"),
]
# keys a resumed run may not change: they fix the critics' shapes
_FROZEN_ON_RESUME = ("size", "box_size")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description += (". Under `torchrun --nproc_per_node N -m inpaint_core train ...` every process trains on its "
                      "own device with its own share of the data.")
    p.add_argument("--data", type=Path, help="folder of images (searched recursively) or a text file with one "
                                             "image path per line (on --resume: default the run's data)")
    p.add_argument("--run-dir", type=Path, required=True,
                   help="where the checkpoint, config.yaml, TensorBoard logs (tb/) and generator.safetensors go")
    p.add_argument("--config", type=Path, help=f"YAML config; every key and its default: {DEFAULT_YAML}. "
                                                "With --resume its keys change the run's own config")
    for flag, key, kind, text in _OVERRIDES:
        p.add_argument(flag, dest=key, type=kind, help=text)
    p.add_argument("--resume", action="store_true", help="continue the run in --run-dir from its checkpoint")
    p.add_argument("--init-weights", type=Path, metavar="FILE",
                   help="start the generator from these safetensors weights instead of random ones")
    p.add_argument("--export", type=Path, metavar="FILE",
                   help="only write the generator of --run-dir's checkpoint to FILE (safetensors), then exit")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {key: getattr(args, key) for _, key, _, _ in _OVERRIDES if getattr(args, key) is not None}


def _resumed_config(state: dict[str, Any], config_file: Path | None, overrides: dict[str, Any]) -> TrainConfig:
    """The run's own config, changed by the keys of ``config_file`` and then by the command-line options."""
    base = config_from_dict(state["config"])
    config = load_config(config_file, overrides, base=base)
    changed = [k for k in _FROZEN_ON_RESUME if getattr(config, k) != getattr(base, k)]
    if changed:
        raise UserError(f"--resume cannot change {', '.join(changed)} (the critics' shapes depend on it)")
    return config


def run(args: argparse.Namespace) -> int:
    from ..train.checkpoint import TrainingCheckpointError, checkpoint_path, load_checkpoint  # these import torch
    from ..train.data import DataError

    ckpt = checkpoint_path(args.run_dir)
    try:
        if args.export is not None:
            from ..train.run import export_checkpoint

            path = export_checkpoint(load_checkpoint(ckpt), args.export, args.run_dir.name)
            print(f"wrote {path}")
            return 0
        resume_state = None
        if args.resume:
            if args.init_weights is not None:
                raise UserError("--resume continues with the run's own weights; drop --init-weights")
            resume_state = load_checkpoint(ckpt)
            config = _resumed_config(resume_state, args.config, _overrides(args))
        else:
            if ckpt.exists():
                raise UserError(f"{args.run_dir} already holds a run; add --resume to continue it, "
                                "or choose another --run-dir")
            config = load_config(args.config, _overrides(args))
        data = args.data or (Path(resume_state["meta"]["data"]) if resume_state else None)
        if data is None:
            raise UserError("--data is required: a folder of images or a text file listing them")

        from ..train.run import TrainingDiverged, train  # imports torch and the models; keep `--help` fast

        try:
            result = train(config, data, args.run_dir, resume_state=resume_state, init_weights=args.init_weights,
                           progress=not args.no_progress)
        except TrainingDiverged as exc:
            raise UserError(str(exc)) from None
    except (ConfigError, DataError, TrainingCheckpointError) as exc:
        raise UserError(str(exc)) from None
    if result.export is not None:
        losses = ", ".join(f"{k} {v:.4f}" for k, v in sorted(result.losses.items()))
        print(f"stopped at step {result.step} ({result.stopped_by}); {losses}")
        print(f"checkpoint {result.checkpoint}; generator {result.export}")
    return 0
