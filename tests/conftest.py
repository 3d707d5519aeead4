"""Shared fixtures: the shared data folder beside the repo, and weights converted from the golden checkpoint.

Threads: the suite runs on PyTorch's default thread count, which ``OMP_NUM_THREADS`` sets, and the engine
(``cpu.configure_threads``) honours it too, so ``OMP_NUM_THREADS=1 .venv/bin/python -m pytest -q`` runs every
test on one thread and ``OMP_NUM_THREADS=2`` on two. The header of the run names the count.
"""
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


def pytest_report_header() -> str:
    import torch

    return f"torch threads: {torch.get_num_threads()} (set with OMP_NUM_THREADS)"


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
