"""Every file the engine replaces is written by one helper: old or new on disk, never half of one."""
from __future__ import annotations

import os

import pytest
import torch

from inpaint_core.atomic import atomic_write
from inpaint_core.train.checkpoint import load_checkpoint, save_checkpoint
from inpaint_core.weights import ModelCard, load_weights, save_weights


def test_a_failed_write_leaves_the_old_file_and_no_temporary_one(tmp_path) -> None:
    target = tmp_path / "file.bin"
    target.write_bytes(b"old")
    os.chmod(target, 0o640)

    def fails_half_way(f) -> None:
        f.write(b"half")
        raise ValueError("encoder failed")

    with pytest.raises(ValueError, match="encoder failed"):
        atomic_write(target, fails_half_way)
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["file.bin"]
    atomic_write(target, lambda f: f.write(b"new"))
    assert target.read_bytes() == b"new" and os.listdir(tmp_path) == ["file.bin"]
    assert target.stat().st_mode & 0o777 == 0o640  # a replaced file keeps its permissions


def test_weights_and_checkpoints_are_written_through_it(tmp_path, monkeypatch) -> None:
    from inpaint_core import atomic

    written = []
    real = atomic.atomic_write

    def recording(path, save):
        written.append(os.fspath(path))
        return real(path, save)

    monkeypatch.setattr("inpaint_core.weights.atomic_write", recording)
    monkeypatch.setattr("inpaint_core.train.checkpoint.atomic_write", recording)
    tensors = {"w": torch.arange(6.0).view(2, 3)}
    save_weights(tmp_path / "sub" / "w.safetensors", tensors, ModelCard(name="t"))
    save_checkpoint(tmp_path / "run" / "checkpoint.pt", {"step": 3, "w": tensors["w"]})
    assert written == [os.fspath(tmp_path / "sub" / "w.safetensors"), os.fspath(tmp_path / "run" / "checkpoint.pt")]
    state, card = load_weights(tmp_path / "sub" / "w.safetensors")
    assert torch.equal(state["w"], tensors["w"]) and card.name == "t"
    assert load_checkpoint(tmp_path / "run" / "checkpoint.pt")["step"] == 3
