"""Training learns: the loss goes down in a few steps; the fill error halves in a few hundred (slow)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from inpaint_core.imageio import read_image
from inpaint_core.train.config import TrainConfig
from inpaint_core.train.data import BatchStream, TrainImages, make_loader, random_crop, to_tensor
from inpaint_core.train.losses import hole_l1
from inpaint_core.train.trainer import Trainer

from .conftest import TRAIN_DIR


def _paths(count: int) -> list[Path]:
    paths = sorted(TRAIN_DIR.glob("*.jpg"))[:count]
    if len(paths) < count:
        pytest.skip("shared/data/train is not present beside the repo")
    return paths


def _warmup_run(paths: list[Path], size: int, batch: int) -> tuple[Trainer, BatchStream]:
    """L1 warm-up on a handful of whole images shrunk to ``size`` (a crop as tall as the photo), with no
    spatial discount so the middle of the hole is supervised too; lr 3e-4 to learn within a test."""
    scale = size / 256  # the training photos' shorter side is 256
    config = TrainConfig(size=size, batch=batch, workers=0, lr=3e-4, gamma=1.0, warmup_steps=10**6,
                         scale_range=[scale, scale], flip=False)
    images = TrainImages(paths, size, config.scale_range, config.flip)
    return Trainer(config, torch.device("cpu")), BatchStream(make_loader(images, batch, 0, config.seed))


def test_loss_goes_down():
    torch.set_num_threads(1)
    trainer, stream = _warmup_run(_paths(2), 32, 2)
    losses = [trainer.train_step(stream.next)[0]["g_loss"].item() for _ in range(16)]
    assert np.mean(losses[-4:]) < 0.85 * np.mean(losses[:4]), losses


@pytest.mark.slow
def test_a_few_hundred_steps_halve_the_fill_error():
    torch.set_num_threads(1)
    paths = _paths(4)
    trainer, stream = _warmup_run(paths, 64, 4)
    scale = trainer.config.scale_range
    images = torch.stack([to_tensor(random_crop(read_image(p).rgb, 64, np.random.default_rng(0), scale, False))
                          for p in paths])
    mask = torch.zeros(1, 1, 64, 64)
    mask[..., 16:48, 16:48] = 1

    def fill_error() -> float:
        with torch.no_grad():
            return hole_l1(images, trainer.generator(images, mask).refined, mask).item()

    before = fill_error()
    for _ in range(300):
        trainer.train_step(stream.next)
    after = fill_error()
    assert after < 0.5 * before, (before, after)
