"""The editor names the engine's strategies and devices from the engine's own lists."""
from __future__ import annotations

from app.fill_worker import STRATEGIES, EngineSettings
from app.settings_panel import DEVICE_LABELS, STRATEGY_LABELS
from inpaint_core.devices import DEVICES
from inpaint_core.regions import Strategy


def test_every_strategy_and_device_has_a_label_and_settings_default_to_crop() -> None:
    assert set(STRATEGY_LABELS) == set(STRATEGIES) == {s.name for s in Strategy}
    assert set(DEVICE_LABELS) == set(DEVICES)
    assert Strategy[EngineSettings().strategy] is Strategy.CROP
