"""Seconds per training step: one critic update, one generator update, one full step (its critic updates plus
the generator update), and one L1-only warm-up step (the generator update without critics).

    .venv/bin/python scripts/bench_train_step.py --size 256 --batch 4 --amp off bf16

Random images stand in for data (loading is measured by nothing here); each figure is the median of --repeats
timed runs after one untimed warm-up step.
"""
from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from typing import Callable

import torch

from inpaint_core.cpu import flush_denormals, reuse_freed_memory
from inpaint_core.devices import resolve_device
from inpaint_core.train.config import TrainConfig
from inpaint_core.train.trainer import Trainer


def _median_seconds(fn: Callable[[], object], repeats: int, device: torch.device) -> float:
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _bench(args: argparse.Namespace, amp: str, device: torch.device, images: torch.Tensor) -> None:
    """Print the median seconds of a critic step, a generator update and a full step with ``amp``."""
    config = TrainConfig(size=args.size, batch=args.batch, critic_steps=args.critic_steps, amp=amp,
                         device=args.device, workers=0)
    trainer = Trainer(config, device)
    trainer.train_step(lambda: images)  # warm-up: allocations, oneDNN/cuDNN kernel choice
    critic = _median_seconds(lambda: trainer.critic_step(images), args.repeats, device)
    generator = _median_seconds(lambda: trainer.generator_step(images), args.repeats, device)
    full = _median_seconds(lambda: trainer.train_step(lambda: images), args.repeats, device)
    warm = Trainer(dataclasses.replace(config, warmup_steps=10**9), device)
    warm.train_step(lambda: images)
    warmup = _median_seconds(lambda: warm.train_step(lambda: images), args.repeats, device)
    print(f"amp {amp:4s}: critic step {critic:7.3f} s | generator update {generator:7.3f} s | "
          f"full step (critic x{args.critic_steps} + generator) {full:7.3f} s | L1 warm-up step {warmup:7.3f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--critic-steps", type=int, default=5)
    parser.add_argument("--amp", nargs="+", default=["off", "bf16"], choices=["off", "bf16", "fp16"])
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    images = torch.rand(args.batch, 3, args.size, args.size, device=device) * 2 - 1
    print(f"device {device}, {args.threads} threads, {args.size}x{args.size}, batch {args.batch}, "
          f"{args.critic_steps} critic steps per generator step, torch {torch.__version__}")
    flush_denormals()
    with reuse_freed_memory():  # as training runs
        for amp in args.amp:
            _bench(args, amp, device, images)
    return 0


if __name__ == "__main__":
    sys.exit(main())
