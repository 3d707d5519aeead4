"""Training data: listing, crops of small and large images, unreadable files, a resumable batch stream."""
from __future__ import annotations

import warnings
from itertools import islice
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from inpaint_core.imageio import ImageReadError, list_images
from inpaint_core.train.data import BatchStream, DataError, EndlessShuffle, TrainImages, make_loader, random_crop


def _write(path: Path, size: tuple[int, int], value: int = 100) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rgb = np.full((size[1], size[0], 3), value, np.uint8)
    rgb[..., 0] = np.arange(size[0], dtype=np.uint8)[None, :]  # a horizontal ramp in red shows flips
    Image.fromarray(rgb).save(path)
    return path


def test_lists_a_folder_recursively_or_a_list_file(tmp_path):
    a = _write(tmp_path / "imgs" / "a.png", (40, 40))
    b = _write(tmp_path / "imgs" / "sub" / "b.JPG", (40, 40))
    (tmp_path / "imgs" / "notes.txt").write_text("not an image")
    assert list_images(tmp_path / "imgs") == [a, b]
    listing = tmp_path / "list.txt"
    listing.write_text(f"# training set\nimgs/sub/b.JPG\n\n{a}\n")
    assert list_images(listing) == [tmp_path / "imgs" / "sub" / "b.JPG", a]
    with pytest.raises(ImageReadError, match="no images"):
        list_images(_empty(tmp_path))
    with pytest.raises(ImageReadError, match="no such"):
        list_images(tmp_path / "missing")


def _empty(tmp_path: Path) -> Path:
    (tmp_path / "empty").mkdir()
    return tmp_path / "empty"


def test_crop_enlarges_small_images_and_flips():
    rng = np.random.default_rng(0)
    small = np.zeros((20, 30, 3), np.uint8)
    assert random_crop(small, 64, rng, (0.5, 1.0), flip=True).shape == (64, 64, 3)
    ramp = np.repeat(np.arange(64, dtype=np.uint8)[None, :, None], 64, axis=0).repeat(3, axis=2)
    flips = {random_crop(ramp, 64, np.random.default_rng(s), (1.0, 1.0), flip=True)[0, 0, 0] for s in range(20)}
    assert flips == {0, 63}  # same crop, sometimes mirrored
    big = np.zeros((512, 700, 3), np.uint8)
    assert random_crop(big, 64, rng, (0.5, 1.0), flip=False).shape == (64, 64, 3)


def test_samples_are_tensors_in_range_and_keyed(tmp_path):
    paths = [_write(tmp_path / f"{i}.png", (48 + 8 * i, 40)) for i in range(3)]
    data = TrainImages(paths, 32, (0.5, 1.0), True)
    image, errors = data[(1, (0, 0, 0, 5))]
    assert image.shape == (3, 32, 32) and image.dtype == torch.float32 and errors == ()
    assert -1.0 <= image.min() and image.max() <= 1.0
    assert torch.equal(image, data[(1, (0, 0, 0, 5))][0])
    assert not torch.equal(image, data[(1, (0, 0, 0, 6))][0])


def test_unreadable_images_are_skipped_with_one_warning_each(tmp_path):
    good = _write(tmp_path / "good.png", (40, 40))
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png")
    data = TrainImages([bad, good], 32, (1.0, 1.0), False)
    stream = BatchStream(make_loader(data, batch=2, workers=0, seed=0))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            assert stream.next().shape == (2, 3, 32, 32)
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1 and "bad.png" in messages[0]
    with pytest.raises(DataError, match="none of the 1"):
        TrainImages([bad], 32, (1.0, 1.0), False)[(0, (0,))]


def test_stream_resumes_where_it_stopped_and_ignores_worker_count(tmp_path):
    paths = [_write(tmp_path / f"{i}.png", (40, 40), value=20 * i) for i in range(5)]
    data = TrainImages(paths, 32, (0.5, 1.0), True)
    full = [b for b, _ in islice(iter(make_loader(data, batch=2, workers=0, seed=3)), 7)]
    resumed = [b for b, _ in islice(iter(make_loader(data, batch=2, workers=0, seed=3, start_batch=4)), 3)]
    for a, b in zip(full[4:], resumed):
        assert torch.equal(a, b)
    with_workers = [b for b, _ in islice(iter(make_loader(data, batch=2, workers=2, seed=3)), 3)]
    for a, b in zip(full, with_workers):
        assert torch.equal(a, b)


def test_processes_get_disjoint_shares_of_each_epoch(tmp_path):
    data = TrainImages([tmp_path / f"{i}.png" for i in range(8)], 32, (1.0, 1.0), False)
    shares = [[i for i, _ in islice(iter(EndlessShuffle(data, 2, seed=0, rank=r, world=2)), 4)] for r in (0, 1)]
    assert sorted(shares[0] + shares[1]) == list(range(8))
    with pytest.raises(DataError, match="too few"):
        EndlessShuffle(data, 8, seed=0, world=2)
