"""A training run: data stream, the step loop, TensorBoard, progress bar, checkpoints, time budget, export.

Under torchrun every process runs this; only the main process writes files. A run directory holds
``checkpoint.pt`` (everything needed to continue), ``config.yaml`` (for people), ``tb/`` (TensorBoard) and, at
the end, ``generator.safetensors`` (the generator alone, with its model card).
"""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from ..cpu import flush_denormals, reuse_freed_memory
from ..imageio import list_images
from ..weights import ModelCard, load_weights, save_weights
from . import distributed
from .checkpoint import checkpoint_path, restore_rng_state, rng_state, save_checkpoint
from .config import TrainConfig, dump_config
from .data import BatchStream, TrainImages, make_loader
from .stop import StopRequests
from .trainer import Trainer
from .visuals import sample_grid

EXPORT_NAME = "generator.safetensors"


@dataclass
class RunResult:
    step: int
    stopped_by: str                      # "max_steps", "max_minutes" or the signal's name ("SIGTERM")
    trainer: Trainer                     # this process's models and optimisers as they ended
    losses: dict[str, float] = field(default_factory=dict)  # averages over the last logging window
    checkpoint: Path | None = None       # None outside the main process
    export: Path | None = None


class _Window:
    """Running sums of the step losses and times between two log lines (summed on the device, read once)."""

    def __init__(self) -> None:
        self.sums: dict[str, torch.Tensor] = {}
        self.counts: dict[str, int] = {}
        self.seconds, self.steps = 0.0, 0

    def add(self, losses: dict[str, torch.Tensor], seconds: float) -> None:
        for key, value in losses.items():
            self.sums[key] = self.sums.get(key, 0.0) + value.float()
            self.counts[key] = self.counts.get(key, 0) + 1
        self.seconds += seconds
        self.steps += 1

    def means(self) -> dict[str, float]:
        return {k: float(v) / self.counts[k] for k, v in self.sums.items()}

    def non_finite(self) -> list[str]:
        """The losses that were NaN or infinite at some step of the window (a NaN or inf sum says so)."""
        return sorted(k for k, v in self.sums.items() if not bool(torch.isfinite(v)))


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite; the run stopped without writing the poisoned weights anywhere."""


def hardware_name(device: torch.device, processes: int) -> str:
    """What trained the weights, for the model card: e.g. "1 x NVIDIA H100 80GB HBM3" or "CPU, 2 threads"."""
    if device.type == "cuda":
        return f"{processes} x {torch.cuda.get_device_name(device)}"
    return f"CPU, {torch.get_num_threads()} threads" + (f" x {processes} processes" if processes > 1 else "")


def objective(config: dict[str, Any], steps: int) -> str:
    """What a run of ``steps`` generator steps minimised, with the weights of its ``config`` (a
    ``TrainConfig.to_dict()``), phase by phase: the model card's account of the training."""
    c = config
    reconstruction = (f"{c['l1_loss_alpha']:g} * box L1 (spatial discount gamma {c['gamma']:g}) + "
                      f"{c['ae_loss_alpha']:g} * known-region L1, each with the coarse stage's term "
                      f"x{c['coarse_l1_alpha']:g}")
    adversarial = f"{c['gan_loss_alpha']:g} * ({c['global_wgan_loss_alpha']:g} * WGAN global + WGAN local)"
    warm = min(steps, c["warmup_steps"])
    critics_alone = min(steps - warm, c["critic_warmup_steps"])
    gan = steps - warm - critics_alone
    phases = []
    if warm:
        phases.append(f"{_steps(warm)} of the L1 terms alone" + (" (stage 1 only)" if c["warmup_mode"] == "coarse"
                                                                  else ""))
    if critics_alone:
        phases.append(f"{_steps(critics_alone)} training the critics alone")
    if gan:
        phases.append(f"{_steps(gan)} of the full objective")
    if not (critics_alone or gan):
        return f"generator: {reconstruction}; no critics; {', then '.join(phases)}"
    return (f"generator: {adversarial} + {reconstruction}; critics: WGAN + {c['wgan_gp_lambda']:g} * gradient "
            f"penalty inside the hole; {', then '.join(phases)}")


def _steps(n: int) -> str:
    return f"{n} step" if n == 1 else f"{n} steps"


def model_card(name: str, config: dict[str, Any], meta: dict[str, Any], step: int) -> ModelCard:
    init = meta.get("init_weights")
    return ModelCard(
        name=name,
        channel_order=meta["channel_order"],
        source="trained with `python -m inpaint_core train` (DeepFill v1 recipe)"
               + (f", starting from {init}" if init else ", from scratch"),
        training={"data": meta["data"], "images": meta["images"], "steps": step, "size": config["size"],
                  "hardware": meta.get("hardware", ""),
                  "batch_per_process": config["batch"], "processes": meta["processes"],
                  "warmup_steps": config["warmup_steps"], "warmup_mode": config["warmup_mode"],
                  "critic_warmup_steps": config.get("critic_warmup_steps", 0),
                  "objective": objective(config, step),
                  "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                  "config": config},
        metrics={"losses": meta["losses"]},
        notes=meta["notes"],
    )


def export_checkpoint(state: dict[str, Any], path: str | Path, name: str) -> Path:
    """The generator of a checkpoint as safetensors with its model card."""
    return save_weights(path, state["trainer"]["generator"], model_card(name, state["config"], state["meta"],
                                                                        state["trainer"]["step"]))


def train(config: TrainConfig, data: str | Path, run_dir: str | Path, *, resume_state: dict[str, Any] | None = None,
          init_weights: str | Path | None = None, progress: bool = True) -> RunResult:
    """Train until ``config.max_steps`` generator steps, ``config.max_minutes`` or a SIGINT/SIGTERM (which end
    the current step first); checkpoint and export.

    resume_state: a loaded checkpoint to continue from (its step, weights, optimisers, random state).
    init_weights: safetensors generator weights to start from (the critics start fresh).
    """
    procs, device = distributed.start(config.device)
    # Every training batch has the same shape, so cuDNN's one-off search for the fastest kernels pays back.
    torch.backends.cudnn.benchmark = device.type == "cuda"
    try:
        flush_denormals()
        with reuse_freed_memory(), StopRequests() as stops:
            return _train(config, Path(data), Path(run_dir), procs, device, resume_state, init_weights, progress,
                          stops)
    finally:
        distributed.stop()


def _train(config: TrainConfig, data: Path, run_dir: Path, procs: distributed.Processes, device: torch.device,
           resume_state: dict[str, Any] | None, init_weights: str | Path | None, progress: bool,
           stops: StopRequests) -> RunResult:
    paths = list_images(data)
    meta = {"data": str(data), "images": len(paths), "processes": procs.world, "channel_order": "RGB",
            "init_weights": None, "notes": "", "losses": {}, "hardware": hardware_name(device, procs.world)}
    generator_state = None
    if init_weights is not None:
        generator_state, card = load_weights(init_weights)
        meta.update(channel_order=card.channel_order, init_weights=str(init_weights), notes=card.notes)
    if resume_state is not None:
        meta.update({k: resume_state["meta"][k] for k in ("channel_order", "init_weights", "notes", "losses")})

    trainer = Trainer(config, device, procs, generator_state, str(init_weights))
    if resume_state is not None:
        trainer.load_state_dict(resume_state["trainer"])
        restore_rng_state(resume_state["rng"])
    bgr = meta["channel_order"] == "BGR"  # e.g. fine-tuning converted official weights: keep their order

    dataset = TrainImages(paths, config.size, config.scale_range, config.flip)
    stream = BatchStream(make_loader(dataset, config.batch, config.workers, config.seed, procs.rank, procs.world,
                                     config.batches_consumed(trainer.step), pin_memory=device.type == "cuda"))

    def next_batch() -> torch.Tensor:
        images = stream.next().to(device, non_blocking=True)
        return images.flip(1) if bgr else images

    def snapshot() -> dict[str, Any]:
        return {"trainer": trainer.state_dict(), "config": config.to_dict(), "rng": rng_state(), "meta": meta}

    writer = None
    if procs.is_main:
        from torch.utils.tensorboard import SummaryWriter  # slow import; only the main process logs

        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "config.yaml").write_text(dump_config(config), encoding="utf-8")
        writer = SummaryWriter(str(run_dir / "tb"))
    bar = tqdm(total=config.max_steps, initial=trainer.step, unit="step", dynamic_ncols=True,
               disable=not (progress and procs.is_main))
    started, stopped_by, window = time.monotonic(), "max_steps", _Window()
    last_saved = trainer.step if resume_state is not None else None

    def check_finite() -> None:
        """Checked only when the window's sums are read anyway (log, checkpoint, end): no extra device sync."""
        bad = window.non_finite()
        if bad:
            kept = (f"{checkpoint_path(run_dir)} still holds step {last_saved}; resume it with a lower --lr"
                    if last_saved is not None else "no checkpoint was written")
            raise TrainingDiverged(f"training diverged: {', '.join(bad)} became NaN or infinite between steps "
                                   f"{trainer.step - window.steps + 1} and {trainer.step}; {kept}")

    try:
        while trainer.step < config.max_steps:
            tick = time.perf_counter()
            losses, out, mask, images = trainer.train_step(next_batch)
            window.add(losses, time.perf_counter() - tick)
            bar.update(1)
            step = trainer.step
            if step % config.log_every == 0 or (procs.is_main and step % config.checkpoint_every == 0):
                check_finite()
            if step % config.log_every == 0:
                meta["losses"] = window.means()
                bar.set_postfix({k: f"{meta['losses'][k]:.4f}" for k in ("g_loss", "hole_l1", "d_loss")
                                 if k in meta["losses"]}, refresh=False)
                if writer is not None:
                    for key, value in meta["losses"].items():
                        writer.add_scalar(f"loss/{key}", value, step)
                    writer.add_scalar("speed/seconds_per_step", window.seconds / window.steps, step)
                window = _Window()
            # Checkpoint before anything optional, so a failure after it never costs the steps since the last one.
            if procs.is_main and step % config.checkpoint_every == 0:
                save_checkpoint(checkpoint_path(run_dir), snapshot())
                last_saved = step
            if writer is not None and step % config.image_every == 0:
                flip = (lambda x: x.flip(1)) if bgr else (lambda x: x)
                grid = sample_grid(flip(images), mask, flip(out.coarse), flip(out.refined), out.attention.offsets)
                writer.add_image("samples/hole_coarse_refined_flow_truth", grid, step, dataformats="HWC")
            out_of_time = config.max_minutes is not None and time.monotonic() - started >= 60 * config.max_minutes
            if distributed.any_process(out_of_time or stops.requested is not None, procs, device):
                stopped_by = "max_minutes" if out_of_time else (stops.requested or "another process's signal")
                break
    finally:
        bar.close()
        if writer is not None:
            writer.close()
    if window.steps:
        check_finite()
        meta["losses"] = window.means()

    result = RunResult(step=trainer.step, stopped_by=stopped_by, trainer=trainer, losses=dict(meta["losses"]))
    if procs.is_main:
        state = snapshot()
        result.checkpoint = save_checkpoint(checkpoint_path(run_dir), state)
        result.export = export_checkpoint(state, run_dir / EXPORT_NAME, run_dir.name)
    distributed.barrier(procs)
    return result
