"""Two CPU processes under torchrun (gloo): the run finishes and both hold the same weights.

Run as a script, this file is the torchrun worker: it trains a tiny run and saves its own process's weights.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]


def _worker(listing: str, out_dir: str) -> None:
    from inpaint_core.train.config import TrainConfig
    from inpaint_core.train.run import train

    torch.set_num_threads(1)
    # one step of stage 1 alone (stage 2 frozen, DDP over stage 1), then the full GAN step (DDP rebuilt)
    config = TrainConfig(size=32, batch=2, workers=0, critic_steps=1, warmup_steps=1, warmup_mode="coarse",
                         max_steps=2, device="cpu", log_every=1)
    result = train(config, listing, Path(out_dir) / "run", progress=False)
    trainer = result.trainer
    torch.save({"step": result.step, "generator": trainer.generator.state_dict(),
                "critics": trainer.critics.state_dict()},
               Path(out_dir) / f"rank{os.environ['RANK']}.pt")


def test_two_gloo_processes_end_identical(tmp_path):
    from .test_train_run import image_list

    listing = image_list(tmp_path, 8)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           str(Path(__file__)), str(listing), str(tmp_path)]
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1)]
    assert ranks[0]["step"] == ranks[1]["step"] == 2
    for part in ("generator", "critics"):
        for key, value in ranks[0][part].items():
            assert torch.equal(value, ranks[1][part][key]), f"{part}.{key} differs between the processes"
    assert (tmp_path / "run" / "generator.safetensors").is_file()  # written once, by rank 0


if __name__ == "__main__":
    _worker(sys.argv[1], sys.argv[2])
