"""Every training hyper-parameter, with the official ``inpaint.yml`` values as defaults.

A run's configuration is this dataclass; YAML files hold the same keys (see ``default.yaml`` for each key's
meaning and its official name). Keys that the official code does not have are marked "ours" there.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..devices import DEVICES
from ..model.grid import MATCHING_CELL

DEFAULT_YAML = Path(__file__).with_name("default.yaml")
AMP_MODES = ("off", "bf16", "fp16")
WARMUP_MODES = ("both", "coarse")


class ConfigError(ValueError):
    """A configuration value is unknown, of the wrong type or out of range; the message names the key."""


@dataclass
class TrainConfig:
    # data
    size: int = 256
    batch: int = 16
    workers: int = 4
    scale_range: list[float] = field(default_factory=lambda: [0.5, 1.0])
    flip: bool = True
    # masks
    box_size: int | None = None
    max_delta: int | None = None
    margin: int = 0
    stroke_prob: float = 0.5
    per_sample_masks: bool = True
    # losses
    gamma: float = 0.9
    coarse_l1_alpha: float = 1.2
    l1_loss_alpha: float = 1.2
    ae_loss_alpha: float = 1.2
    gan_loss_alpha: float = 0.001
    global_wgan_loss_alpha: float = 1.0
    wgan_gp_lambda: float = 10.0
    # optimisation
    lr: float = 1e-4
    critic_lr: float | None = None
    beta1: float = 0.5
    beta2: float = 0.9
    critic_steps: int = 5
    max_steps: int = 1_000_000
    warmup_steps: int = 0
    warmup_mode: str = "both"
    critic_warmup_steps: int = 0
    # run control
    seed: int = 0
    device: str = "auto"
    amp: str = "off"
    max_minutes: float | None = None
    log_every: int = 100
    image_every: int = 1000
    checkpoint_every: int = 1000

    @property
    def local_size(self) -> int:
        """Side of the box hole's outer box, which is also the local critic's input (official HEIGHT/WIDTH)."""
        return self.box_size if self.box_size is not None else self.size // 2

    @property
    def critic_learning_rate(self) -> float:
        """The critics' Adam learning rate: ``critic_lr``, or ``lr`` when unset (official: one rate for both)."""
        return self.critic_lr if self.critic_lr is not None else self.lr

    @property
    def delta(self) -> int:
        """Official MAX_DELTA: the hole is its box shrunk by 0..delta/2 px per side (32 for a 128 box)."""
        return self.max_delta if self.max_delta is not None else self.local_size // 4

    def batches_consumed(self, step: int) -> int:
        """Batches a process has drawn after ``step`` generator steps (each GAN step also feeds its critic steps)."""
        warm = min(step, self.warmup_steps)
        return warm + (step - warm) * (1 + self.critic_steps)

    def validate(self) -> None:
        checks = [
            (self.size >= 32 and self.size % MATCHING_CELL == 0, "size", f"a multiple of {MATCHING_CELL}, at least 32"),
            (self.batch >= 1, "batch", "at least 1"),
            (self.workers >= 0, "workers", "0 or more"),
            (len(self.scale_range) == 2 and 0 < self.scale_range[0] <= self.scale_range[1], "scale_range",
             "[low, high] with 0 < low <= high"),
            (8 <= self.local_size < self.size - 2 * self.margin, "box_size",
             "at least 8 and smaller than size minus both margins"),
            (0 <= self.delta // 2 < self.local_size // 2, "max_delta", "0 or more and less than box_size"),
            (self.margin >= 0, "margin", "0 or more"),
            (0.0 <= self.stroke_prob <= 1.0, "stroke_prob", "between 0 and 1"),
            (0.0 < self.gamma <= 1.0, "gamma", "in (0, 1]"),
            (self.lr > 0, "lr", "positive"),
            (self.critic_lr is None or self.critic_lr > 0, "critic_lr", "positive (or null for lr)"),
            (0 <= self.beta1 < 1 and 0 <= self.beta2 < 1, "beta1/beta2", "in [0, 1)"),
            (self.critic_steps >= 1, "critic_steps", "at least 1"),
            (self.max_steps >= 1, "max_steps", "at least 1"),
            (self.warmup_steps >= 0, "warmup_steps", "0 or more"),
            (self.warmup_mode in WARMUP_MODES, "warmup_mode", f"one of {WARMUP_MODES}"),
            (self.critic_warmup_steps >= 0, "critic_warmup_steps", "0 or more"),
            (self.device in DEVICES, "device", f"one of {DEVICES}"),
            (self.amp in AMP_MODES, "amp", f"one of {AMP_MODES}"),
            (self.max_minutes is None or self.max_minutes > 0, "max_minutes", "positive"),
            (min(self.log_every, self.image_every, self.checkpoint_every) >= 1,
             "log_every/image_every/checkpoint_every", "at least 1"),
        ]
        for ok, key, rule in checks:
            if not ok:
                raise ConfigError(f"config: {key} must be {rule}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


_FIELDS = {f.name: f for f in dataclasses.fields(TrainConfig)}


def _coerce(key: str, value: Any) -> Any:
    """The value as the field's type; YAML gives ints for floats like ``1`` and strings for ``1e-4``."""
    kind = str(_FIELDS[key].type)
    if value is None:
        if "None" in kind:
            return None
        raise ConfigError(f"config: {key} must not be empty")
    if kind == "str" and isinstance(value, bool):  # YAML reads a bare off/on/yes/no as a bool
        raise ConfigError(f"config: {key} must be text; quote it (e.g. {key}: \"off\"), got {value!r}")
    try:
        if isinstance(value, bool) != kind.startswith("bool"):
            raise TypeError
        if kind.startswith("list"):
            return [float(v) for v in value]
        if kind.startswith("int"):
            if float(value) != int(float(value)):
                raise TypeError
            return int(float(value))
        if kind.startswith("float"):
            return float(value)
        return value if kind.startswith("bool") else str(value)
    except (TypeError, ValueError):
        raise ConfigError(f"config: {key} must be {kind.replace(' | None', ' or null')}, got {value!r}") from None


def config_from_dict(values: dict[str, Any], base: TrainConfig | None = None) -> TrainConfig:
    """``base`` (defaults if None) with ``values`` applied; unknown keys and bad values raise ConfigError."""
    unknown = sorted(set(values) - set(_FIELDS))
    if unknown:
        raise ConfigError(f"config: unknown key(s) {', '.join(unknown)}; known keys are in {DEFAULT_YAML.name}")
    merged = dataclasses.replace(base or TrainConfig(), **{k: _coerce(k, v) for k, v in values.items()})
    merged.validate()
    return merged


def read_config_file(path: str | Path) -> dict[str, Any]:
    """The key: value mapping of a YAML config file (not yet checked against the fields)."""
    try:
        loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config ({exc.strerror or exc})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    if loaded is not None and not isinstance(loaded, dict):
        raise ConfigError(f"{path}: the config must be a mapping of key: value")
    return loaded or {}


def load_config(path: str | Path | None = None, overrides: dict[str, Any] | None = None,
                base: TrainConfig | None = None) -> TrainConfig:
    """``base`` (defaults if None), then the YAML file (if any), then ``overrides`` (e.g. command-line options)."""
    values = read_config_file(path) if path is not None else {}
    values.update(overrides or {})
    return config_from_dict(values, base)


def dump_config(config: TrainConfig) -> str:
    return yaml.safe_dump(config.to_dict(), sort_keys=False)
