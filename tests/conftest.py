"""Shared fixtures: the shared data folder beside the repo, and weights converted from the golden checkpoint.

Threads: the suite runs on PyTorch's default thread count, which ``OMP_NUM_THREADS`` sets, and the engine
(``cpu.configure_threads``) honours it too, so ``OMP_NUM_THREADS=1 .venv/bin/python -m pytest -q`` runs every
test on one thread and ``OMP_NUM_THREADS=2`` on two. The header of the run names the count.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
GOLDEN = SHARED / "golden" / "deepfill_v1"
EVAL_DIR = SHARED / "data" / "eval"
TRAIN_DIR = SHARED / "data" / "train"
LARGE_DIR = SHARED / "data" / "large"


def pytest_report_header() -> str:
    import torch

    return f"torch threads: {torch.get_num_threads()} (set with OMP_NUM_THREADS)"


# Modules that test the "auto" precision rule itself, on this machine's flags or on flags they set.
_PRECISION_RULE_TESTS = {"test_devices", "test_bench"}


@pytest.fixture(autouse=True)
def fp32_unless_testing_the_precision_rule(request, monkeypatch):
    """Fills resolve precision "auto" (the default) to fp32 in every other test: on a CPU with native bf16 (CI may
    run on one) "auto" means bf16, and the numeric expectations here are float32's (golden vectors, exact
    comparisons between paths). The bf16 path has its own test (test_pipeline's bf16 test asks for it)."""
    if request.module.__name__.rsplit(".", 1)[-1] not in _PRECISION_RULE_TESTS:
        from inpaint_core import devices

        monkeypatch.setattr(devices, "native_bf16", lambda device: False)


@pytest.fixture
def one_torch_thread():
    """Training tests run on one thread: faster on a shared 2-core machine, and repeatable sums."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def stripes_with_a_scratch() -> tuple[np.ndarray, np.ndarray]:
    """(photo, hole): vertical stripes (period 12 px, a little noise) 1400 x 700, and a 6 px scratch down across
    them from (0, 50) to (1399, 650): at a working size of 256 the network sees it in tiles."""
    import cv2

    rng = np.random.default_rng(0)
    columns = np.where(np.arange(1400) % 12 < 6, 70.0, 190.0)
    photo = np.clip(columns[None, :, None] + rng.normal(0, 4, (700, 1400, 3)), 0, 255).astype(np.uint8)
    line = np.zeros((700, 1400), np.uint8)
    cv2.line(line, (0, 50), (1399, 650), 1, 6)
    return photo, line > 0


def assert_plausible_fill(filled: np.ndarray, photo: np.ndarray, hole: np.ndarray) -> None:
    """What the shipped weights give on a real photo and a black, grey, mean-colour or random-weights fill does
    not: known pixels byte-identical, the hole rewritten, and a fill near a classical one (OpenCV's Telea).

    Measured on kodak_0003 (centre hole) and kodak_0007: the shipped weights' mean error against the true pixels
    is 0.93-0.98 of Telea's and their mean distance to Telea's fill 11 grey levels; a mean-colour fill is at
    1.35-1.38 and 26-37 levels, a constant grey or the golden checkpoint's random weights at 1.4-1.8 and 32-45.
    """
    from inpaint_core.baselines import telea

    assert np.array_equal(filled[~hole], photo[~hole])
    assert not np.array_equal(filled[hole], photo[hole])
    classical = telea(photo, hole).astype(int)
    error = np.abs(filled.astype(int) - photo)[hole].mean()
    assert error <= 1.2 * np.abs(classical - photo)[hole].mean()
    assert np.abs(filled.astype(int) - classical)[hole].mean() <= 20


@pytest.fixture(scope="session")
def golden_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The official code's golden checkpoint (random weights, BGR) converted to safetensors."""
    from inpaint_core.convert_tf import convert_checkpoint

    if not GOLDEN.is_dir():
        pytest.skip("shared/golden is not present beside the repo")
    return convert_checkpoint(GOLDEN / "ckpt_seed0", tmp_path_factory.mktemp("weights") / "golden.safetensors")


@pytest.fixture(scope="session")
def golden_inpainter(golden_weights: Path):
    """The network alone (texture="network"): the golden checkpoint pins the network's own numerics."""
    from inpaint_core import Inpainter

    return Inpainter(golden_weights, device="cpu", texture="network", precision="fp32")  # module-wide: pinned here
