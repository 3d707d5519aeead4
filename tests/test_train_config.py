"""Training configuration: official defaults, the documented YAML, overrides and errors."""
from __future__ import annotations

import pytest
import yaml

from inpaint_core.train.config import DEFAULT_YAML, ConfigError, TrainConfig, dump_config, load_config


def test_documented_yaml_equals_the_defaults():
    documented = yaml.safe_load(DEFAULT_YAML.read_text())
    assert documented == TrainConfig().to_dict()


def test_defaults_are_the_official_recipe():
    c = TrainConfig()
    assert (c.size, c.batch, c.lr, c.beta1, c.beta2, c.critic_steps) == (256, 16, 1e-4, 0.5, 0.9, 5)
    assert (c.local_size, c.delta, c.margin, c.gamma) == (128, 32, 0, 0.9)
    assert (c.coarse_l1_alpha, c.l1_loss_alpha, c.ae_loss_alpha) == (1.2, 1.2, 1.2)
    assert (c.gan_loss_alpha, c.global_wgan_loss_alpha, c.wgan_gp_lambda) == (0.001, 1.0, 10.0)
    assert c.max_steps == 1_000_000 and c.warmup_steps == 0
    assert TrainConfig(size=64).local_size == 32 and TrainConfig(size=64).delta == 8


def test_file_then_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("size: 64\nlr: 1e-3\namp: bf16\n")
    c = load_config(path, {"size": 128})
    assert (c.size, c.lr, c.amp) == (128, 1e-3, "bf16")
    assert load_config(None, yaml.safe_load(dump_config(c))) == c


@pytest.mark.parametrize("values, message", [
    ({"sise": 64}, "unknown key"),
    ({"size": 60}, "size"),
    ({"amp": False}, "quote it"),
    ({"amp": "fp8"}, "amp"),
    ({"batch": 1.5}, "batch"),
    ({"flip": "yes"}, "flip"),
    ({"box_size": 128, "size": 128}, "box_size"),
    ({"warmup_mode": "stage2"}, "warmup_mode"),
])
def test_bad_values_name_the_key(values, message):
    with pytest.raises(ConfigError, match=message):
        load_config(None, values)


def test_unreadable_files(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(tmp_path / "list.yaml")


def test_batches_consumed_counts_critic_batches():
    c = TrainConfig(warmup_steps=3, critic_steps=5)
    assert [c.batches_consumed(s) for s in (0, 2, 3, 4, 6)] == [0, 2, 3, 9, 21]
