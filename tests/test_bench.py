"""``bench``: the fill's two stages timed apart on the same input, and the precision "auto" picks with its cost."""
from __future__ import annotations

import math

import numpy as np

from inpaint_core import bench, devices
from inpaint_core.imageio import read_image

from .conftest import EVAL_DIR


def test_bench_times_the_network_and_the_texture_stage_apart_and_reports_auto_precision(monkeypatch) -> None:
    """On a CPU said to have AMX, "auto" picks bf16, so the bench measures bf16 unasked and prints its cost; the
    fill is timed with the network alone and with the texture stage, whose own time is part of the latter."""
    monkeypatch.setattr(devices, "cpu_flags", lambda: frozenset({"avx2", "amx_tile", "amx_bf16"}))
    photo = read_image(EVAL_DIR / "kodak_0005.jpg").rgb
    report = bench.run_bench([64], "strokes", repeats=1, photo=photo, photo_name="kodak_0005.jpg")
    (figures,) = report.sizes
    assert report.auto_precision == "bf16" and report.native_bf16
    assert figures.bf16_seconds_median > 0 and 30 < figures.bf16_psnr_vs_fp32_db < math.inf
    assert figures.network_fill_s > 0 and 0 < figures.texture_stage_s < figures.texture_fill_s
    text = bench.format_report(report)
    assert 'precision "auto" picks bf16 here: a CPU with native bf16; cost 64: ' in text
    assert f"hole {figures.bf16_psnr_vs_fp32_db:.1f} dB" in text
    assert "| 64 | strokes (" in text.split("Inpainter.fill")[1]  # the stage table, one row per size
    assert "input kodak_0005.jpg" in text


def test_without_native_bf16_auto_is_fp32_at_no_cost_and_model_only_skips_the_fills(monkeypatch) -> None:
    monkeypatch.setattr(devices, "cpu_flags", lambda: frozenset({"avx2"}))
    report = bench.run_bench([64], "center", repeats=1, stages=False)
    (figures,) = report.sizes
    assert report.auto_precision == "fp32" and figures.bf16_seconds_median is None
    assert figures.network_fill_s is None and figures.texture_stage_s is None
    text = bench.format_report(report)
    assert 'precision "auto" picks fp32 here: a CPU without native bf16' in text and "no cost" in text
    assert "Inpainter.fill" not in text and "input uniform noise" in text


def test_the_bench_input_is_the_photos_centre_square_at_each_size() -> None:
    photo = np.zeros((100, 200, 3), np.uint8)
    photo[:, 50:150] = 200  # the centre square, bright; the sides dark
    assert (bench.bench_image(64, photo) == 200).all()
    noise = bench.bench_image(64, None)
    assert noise.shape == (64, 64, 3) and noise.std() > 60 and np.array_equal(noise, bench.bench_image(64, None))
