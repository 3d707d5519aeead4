"""`convert`: TF checkpoint -> safetensors, and clear messages when the checkpoint is not the generator."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from inpaint_core.cli.main import main
from inpaint_core.model.generator import InpaintGenerator
from inpaint_core.tf_checkpoint import TFCheckpointError, read_checkpoint
from inpaint_core.weights import load_weights, read_card

from .conftest import GOLDEN
from .tf_bundle_writer import write_bundle

pytestmark = pytest.mark.skipif(not GOLDEN.is_dir(), reason="shared/golden is not present beside the repo")


@pytest.fixture(scope="module")
def official_variables() -> dict[str, np.ndarray]:
    return read_checkpoint(GOLDEN / "ckpt_seed0")


def test_reader_finds_every_variable_with_its_shape(official_variables) -> None:
    listed = {}
    for line in (GOLDEN / "variables.txt").read_text().splitlines():
        name, shape = line.split(" ", 1)
        listed[name] = tuple(int(s) for s in shape.strip("[]").split(","))
    assert {k: v.shape for k, v in official_variables.items()} == listed


def test_reader_round_trips_a_written_bundle(tmp_path) -> None:
    variables = {"a/kernel": np.arange(24, dtype=np.float32).reshape(2, 3, 4), "b": np.array([7, 8], np.int64)}
    read = read_checkpoint(write_bundle(tmp_path / "model", variables))
    assert set(read) == set(variables)
    for k in variables:
        np.testing.assert_array_equal(read[k], variables[k])


def test_convert_writes_weights_in_pytorch_layout_with_bgr_card(tmp_path, official_variables) -> None:
    out = tmp_path / "w.safetensors"
    assert main(["convert", "--tf-checkpoint", str(GOLDEN / "ckpt_seed0"), "--out", str(out)]) == 0
    state, card = load_weights(out)
    assert card.channel_order == "BGR"
    assert set(state) == set(InpaintGenerator().state_dict())
    kernel = official_variables["inpaint_net/conv13_upsample/conv13_upsample_conv/kernel"]
    expected = torch.from_numpy(kernel).permute(3, 2, 0, 1)
    assert torch.equal(state["coarse.layers.conv13_upsample.conv.weight"], expected)  # a copy: no arithmetic
    assert read_card(out).source.startswith("converted from the TensorFlow checkpoint")


def test_missing_unexpected_and_misshaped_variables_are_each_named(tmp_path, official_variables, capsys) -> None:
    broken = dict(official_variables)
    del broken["inpaint_net/pmconv9/kernel"]
    broken["inpaint_net/conv3/kernel"] = np.zeros((3, 3, 64, 32), np.float32)
    broken["inpaint_net/conv99/kernel"] = np.zeros((1,), np.float32)
    prefix = write_bundle(tmp_path / "broken" / "model", broken)
    out = tmp_path / "w.safetensors"
    assert main(["convert", "--tf-checkpoint", str(prefix), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "missing variable inpaint_net/pmconv9/kernel" in err
    assert "inpaint_net/conv3/kernel has shape [3, 3, 64, 32], expected [3, 3, 64, 64]" in err
    assert "unexpected variable inpaint_net/conv99/kernel" in err
    assert "Traceback" not in err
    assert not out.exists()


def test_truncated_data_file_is_reported(tmp_path, official_variables) -> None:
    prefix = write_bundle(tmp_path / "model", {"inpaint_net/conv1/bias": official_variables["inpaint_net/conv1/bias"]})
    data = prefix.parent / "model.data-00000-of-00001"
    data.write_bytes(data.read_bytes()[:10])
    with pytest.raises(TFCheckpointError, match="truncated"):
        read_checkpoint(prefix)


def test_not_a_checkpoint_is_reported(tmp_path) -> None:
    (tmp_path / "model.index").write_bytes(b"hello, this is not a table" * 3)
    with pytest.raises(TFCheckpointError, match="not a TensorFlow checkpoint"):
        read_checkpoint(tmp_path / "model")
