"""torchrun integration: one process per device, NCCL between GPUs, gloo between CPU processes.

torchrun sets RANK, WORLD_SIZE and LOCAL_RANK; without them this is a single process and nothing is set up.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from ..devices import resolve_device


@dataclass(frozen=True)
class Processes:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """Only the main process writes checkpoints, logs and exports."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world > 1


def start(preference: str) -> tuple[Processes, torch.device]:
    """Join the torchrun process group if there is one; the device this process trains on."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    procs = Processes(int(os.environ.get("RANK", "0")), world, int(os.environ.get("LOCAL_RANK", "0")))
    device = resolve_device(preference, procs.local_rank)  # auto: this process's GPU, if there are GPUs
    if procs.distributed and not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return procs, device


def stop() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def any_process(flag: bool, procs: Processes, device: torch.device) -> bool:
    """True if ``flag`` is true in any process, so all processes stop at the same step."""
    if not procs.distributed:
        return flag
    value = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


def barrier(procs: Processes) -> None:
    if procs.distributed:
        dist.barrier()
