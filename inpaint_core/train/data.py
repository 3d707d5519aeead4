"""Training images (listed by ``imageio.list_images``: a folder, searched recursively, or a list file).

Every sample's crop and flip come from its own random generator, keyed by (seed, epoch, rank, position), and
the order of every epoch comes from a seeded DistributedSampler. So the stream of batches depends only on the
seed and on how many batches were drawn before: a resumed run sees exactly the batches an uninterrupted run
would have, whatever the number of workers.
"""
from __future__ import annotations

import signal
import warnings
from pathlib import Path
from typing import Iterator, Sequence

import cv2
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler
from torch.utils.data.distributed import DistributedSampler

from ..imageio import ImageReadError, read_image

SampleKey = tuple[int, tuple[int, ...]]  # (image index, seed of the sample's random generator)


class DataError(ValueError):
    """The training data cannot be used (no readable image, too few images); says what to do."""


def random_crop(rgb: np.ndarray, size: int, rng: np.random.Generator, scale_range: Sequence[float],
                flip: bool) -> np.ndarray:
    """A ``size x size`` crop of the image rescaled by a random factor from ``scale_range`` (raised to the
    smallest factor at which the crop fits), then flipped left-right with probability 1/2 if ``flip``."""
    h, w = rgb.shape[:2]
    scale = max(size / min(h, w), rng.uniform(scale_range[0], scale_range[1]))
    side = max(1, min(h, w, int(round(size / scale))))  # the crop's side in source pixels
    top = int(rng.integers(0, h - side + 1))
    left = int(rng.integers(0, w - side + 1))
    patch = rgb[top:top + side, left:left + side]
    if side != size:
        patch = cv2.resize(patch, (size, size), interpolation=cv2.INTER_AREA if side > size else cv2.INTER_CUBIC)
    if flip and rng.random() < 0.5:
        patch = patch[:, ::-1]
    return np.ascontiguousarray(patch)


def to_tensor(rgb: np.ndarray) -> torch.Tensor:
    """uint8 ``[H, W, 3]`` -> float32 ``[3, H, W]`` in [-1, 1] (in NumPy: 10x faster than torch ops on a
    strided view, which matters when the training process loads its own images)."""
    chw = rgb.transpose(2, 0, 1).astype(np.float32)
    chw /= np.float32(127.5)
    chw -= np.float32(1.0)
    return torch.from_numpy(chw)


class TrainImages(Dataset):
    """Random crops of the listed images. An unreadable image is replaced by the next readable one in the
    list; its error message travels with the sample so the training process can warn once per file."""

    def __init__(self, paths: Sequence[Path], size: int, scale_range: Sequence[float], flip: bool) -> None:
        self.paths = list(paths)
        self.size, self.scale_range, self.flip = size, tuple(scale_range), flip

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, key: SampleKey) -> tuple[torch.Tensor, tuple[str, ...]]:
        index, seed = key
        rng = np.random.default_rng(seed)
        errors: list[str] = []
        for attempt in range(len(self.paths)):
            path = self.paths[(index + attempt) % len(self.paths)]
            try:
                rgb = read_image(path).rgb
            except ImageReadError as exc:
                errors.append(str(exc))
                continue
            return to_tensor(random_crop(rgb, self.size, rng, self.scale_range, self.flip)), tuple(errors)
        raise DataError(f"none of the {len(self.paths)} training images can be read, e.g. {errors[0]}")


class EndlessShuffle(Sampler):
    """Sample keys forever: each epoch is a seeded DistributedSampler permutation (this process's share, cut
    to whole batches); the first ``start_batch`` batches are skipped so a resumed run continues the stream."""

    def __init__(self, dataset: TrainImages, batch: int, seed: int, rank: int = 0, world: int = 1,
                 start_batch: int = 0) -> None:
        self.dataset, self.batch, self.seed, self.rank, self.world = dataset, batch, seed, rank, world
        self.batches_per_epoch = len(dataset) // world // batch
        if self.batches_per_epoch == 0:
            raise DataError(f"{len(dataset)} images are too few for batches of {batch} on {world} process(es); "
                            f"add images or lower --batch")
        self.start_batch = start_batch

    def __iter__(self) -> Iterator[SampleKey]:
        epoch, skip = divmod(self.start_batch, self.batches_per_epoch)
        while True:
            order = DistributedSampler(self.dataset, num_replicas=self.world, rank=self.rank, shuffle=True,
                                       seed=self.seed, drop_last=True)
            order.set_epoch(epoch)
            indices = list(order)[:self.batches_per_epoch * self.batch]
            for position in range(skip * self.batch, len(indices)):
                yield indices[position], (self.seed, epoch, self.rank, position)
            epoch, skip = epoch + 1, 0


def collate(samples: list[tuple[torch.Tensor, tuple[str, ...]]]) -> tuple[torch.Tensor, list[str]]:
    """Stack the images; gather the read errors met while making them."""
    return torch.stack([image for image, _ in samples]), [err for _, errors in samples for err in errors]


def _leave_stops_to_the_main_process(worker_id: int) -> None:
    """Ctrl+C signals every process of the terminal's job and ``pkill -f`` matches the data workers too: a
    worker that died of it would break the step the main process is finishing before it saves. The main
    process shuts its workers down itself (and they exit on their own if it dies)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def make_loader(dataset: TrainImages, batch: int, workers: int, seed: int, rank: int = 0, world: int = 1,
                start_batch: int = 0, pin_memory: bool = False) -> DataLoader:
    """An endless loader of ``(images [batch, 3, size, size], read errors)`` continuing at ``start_batch``."""
    sampler = EndlessShuffle(dataset, batch, seed, rank, world, start_batch)
    return DataLoader(dataset, batch_size=batch, sampler=sampler, num_workers=workers, collate_fn=collate,
                      drop_last=True, pin_memory=pin_memory, persistent_workers=workers > 0,
                      prefetch_factor=4 if workers > 0 else None, worker_init_fn=_leave_stops_to_the_main_process)


class BatchStream:
    """Draws batches from an endless loader and warns once for each unreadable file it reports."""

    def __init__(self, loader: DataLoader) -> None:
        self._batches = iter(loader)
        self._reported: set[str] = set()

    def next(self) -> torch.Tensor:
        images, errors = next(self._batches)
        for error in errors:
            if error not in self._reported:
                self._reported.add(error)
                warnings.warn(f"skipping an unreadable training image: {error}", stacklevel=2)
        return images
