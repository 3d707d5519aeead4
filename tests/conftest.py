"""Shared fixtures: the shared data folder beside the repo, and weights converted from the golden checkpoint."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
GOLDEN = SHARED / "golden" / "deepfill_v1"
EVAL_DIR = SHARED / "data" / "eval"
TRAIN_DIR = SHARED / "data" / "train"


@pytest.fixture
def one_torch_thread():
    """Training tests run on one thread: faster on a shared 2-core machine, and repeatable sums."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def golden_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The official code's golden checkpoint (random weights, BGR) converted to safetensors."""
    from inpaint_core.convert_tf import convert_checkpoint

    if not GOLDEN.is_dir():
        pytest.skip("shared/golden is not present beside the repo")
    return convert_checkpoint(GOLDEN / "ckpt_seed0", tmp_path_factory.mktemp("weights") / "golden.safetensors")


@pytest.fixture(scope="session")
def golden_inpainter(golden_weights: Path):
    from inpaint_core import Inpainter

    return Inpainter(golden_weights, device="cpu")
