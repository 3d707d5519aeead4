"""Speed and memory figures of the generator and the fill's two stages, read against what the machine can do.

Everything is measured in one run: the model at each size (median and min over repeats after warm-up), the
machine's sustained conv2d rate on the model's most common layer (3x3, 128 -> 128), and the dense contextual
attention against the masked fast path on the same input. Multiply-accumulates are counted from the layers
actually run, so the achieved GFLOP/s (2 FLOPs per MAC) is a fraction of the conv ceiling anyone can check.
Then the whole fill as the editor runs it (``Inpainter.fill``), on the same photo and hole: with the network alone
and with the texture stage, so the stage's own time stands beside the network's. Last, the precision
``Inpainter(precision="auto")`` picks on this device, and what bf16 costs: its time and the hole's PSNR against
fp32.
"""
from __future__ import annotations

import contextlib
import functools
import math
import platform
import resource
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import cv2
import numpy as np
import torch

from .evaluate import make_mask
from .masks import stroke_mask
from .metrics import psnr
from .model.attention import contextual_attention
from .model.attention_cost import dense_path_macs, fast_path_macs, pick_path
from .model.attention_fast import masked_contextual_attention, needed_grid_rows
from .model.generator import InpaintGenerator, network_input, reach_back
from .model.grid import MATCHING_CELL
from .model.layers import GenDeconv, layers_that_run, resize_nearest
from .cpu import configure_threads, flush_denormals, reuse_freed_memory
from .devices import native_bf16, resolve_device, resolve_precision
from .weights import DEFAULT_WEIGHTS, load_generator_state, load_weights

MASK_KINDS = ("center", "box", "strokes")


@dataclass
class SizeFigures:
    size: int
    mask: str
    hole_fraction: float
    gmac_coarse: float
    gmac_refine_convs: float
    gmac_attention_dense: float
    gmac_attention_fast: float
    attention_path: str           # the path the model took ("auto" picks by cost and device)
    seconds_median: float
    seconds_min: float
    gflops_achieved: float
    fraction_of_conv_ceiling: float
    peak_memory_mb: float
    attention_dense_s: float
    attention_fast_s: float
    attention_speedup: float
    attention_max_abs_diff_in_needed: float
    bf16_seconds_median: float | None = None
    bf16_psnr_vs_fp32_db: float | None = None   # over the hole's pixels of the refined output
    network_fill_s: float | None = None         # Inpainter.fill, texture="network": median total
    texture_fill_s: float | None = None         # Inpainter.fill, texture="photo": median total ...
    texture_stage_s: float | None = None        # ... and the median of its texture stage alone


@dataclass
class BenchReport:
    device: str
    torch_version: str
    threads: int
    cpu: str
    conv_ceiling_gflops: float
    weights: str = ""
    photo: str = "uniform noise"
    auto_precision: str = "fp32"  # what Inpainter(precision="auto") runs here
    native_bf16: bool = False
    sizes: list[SizeFigures] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def bench_mask(kind: str, size: int) -> np.ndarray:
    """Fixed masks: eval's centre square and random box (``evaluate.make_mask``, the box at seed 0), or brush
    strokes covering 9.5-10.5 % of the image (the first seed that lands there, so every run uses the same strokes)."""
    if kind in ("center", "box"):
        return make_mask(kind, size, np.random.default_rng(0))
    if kind == "strokes":
        for seed in range(1000):
            mask = stroke_mask((size, size), np.random.default_rng(seed), max_strokes=2,
                               width_fraction=(10 / 256, 16 / 256))
            if 0.095 <= mask.mean() <= 0.105:
                break
        return mask
    raise ValueError(f"mask must be one of {', '.join(MASK_KINDS)}")


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def _time(fn: Callable[[], object], device: torch.device, repeats: int, warmup: int = 1) -> list[float]:
    for _ in range(warmup):
        fn()
    _sync(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - start)
    return times


def conv_ceiling_gflops(device: torch.device, repeats: int = 5) -> float:
    """Sustained GFLOP/s of a 3x3 128->128 conv on a 128x128 map (the bottleneck layer at 512x512)."""
    conv = torch.nn.Conv2d(128, 128, 3, padding=1).to(device).eval()
    x = torch.randn(1, 128, 128, 128, device=device)
    with torch.inference_mode():
        best = min(_time(lambda: conv(x), device, repeats, warmup=2))
    macs = 128 * 128 * 128 * 128 * 9
    return 2 * macs / best / 1e9


@contextlib.contextmanager
def _count_conv_macs(model: InpaintGenerator) -> Iterator[dict[str, float]]:
    counts = {"coarse": 0.0, "refine": 0.0}

    def hook(layer: torch.nn.Module, inputs: tuple, output: torch.Tensor, part: str) -> None:
        if isinstance(layer, GenDeconv):
            counts[part] += inputs[0].shape[0] * layer.macs(*inputs[0].shape[-2:])
        else:
            counts[part] += output.numel() * layer.in_channels * layer.kernel_size[0] * layer.kernel_size[1]

    handles = [layer.register_forward_hook(functools.partial(hook, part=part))
               for part, network in (("coarse", model.coarse), ("refine", model.refine))
               for layer in layers_that_run(network)]
    try:
        yield counts
    finally:
        for h in handles:
            h.remove()


class _PeakMemory:
    """Peak resident memory (CPU: the kernel's high-water mark, reset per measurement) or CUDA allocations."""

    def __init__(self, device: torch.device) -> None:
        self.device = device

    def reset(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats()
            return
        reset_peak_resident()

    def peak_mb(self) -> float:
        if self.device.type == "cuda":
            return torch.cuda.max_memory_allocated() / 2**20
        return peak_resident_mb()


def reset_peak_resident() -> None:
    """Start a new peak-resident measurement (Linux: writing 5 to clear_refs resets VmHWM; elsewhere a no-op)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_resident_mb() -> float:
    """This process's peak resident memory in MB: VmHWM on Linux (resettable), else getrusage's maximum."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 1024 if platform.system() == "Linux" else rss / 2**20


def bench_image(size: int, photo: np.ndarray | None) -> np.ndarray:
    """uint8 [size, size, 3]: ``photo``'s centre square resized to ``size``, or uniform noise (seeded by the
    size). The network's speed does not depend on the content, but the bf16 PSNR and the texture stage's
    matches do: give a photo for those."""
    if photo is None:
        return np.random.default_rng(size).integers(0, 256, (size, size, 3), dtype=np.uint8)
    h, w = photo.shape[:2]
    side = min(h, w)
    square = photo[(h - side) // 2:(h - side) // 2 + side, (w - side) // 2:(w - side) // 2 + side]
    return cv2.resize(square, (size, size), interpolation=cv2.INTER_AREA if side > size else cv2.INTER_CUBIC)


def bench_size(model: InpaintGenerator, size: int, mask_kind: str, device: torch.device, repeats: int,
               ceiling: float, bf16: bool, rgb: np.ndarray) -> SizeFigures:
    image = (torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 127.5 - 1).to(device)
    hole = torch.from_numpy(bench_mask(mask_kind, size)).to(device)[None, None].float()
    memory = _PeakMemory(device)

    with torch.inference_mode():
        with _count_conv_macs(model) as counts:
            reference = model(image, hole)
        times = _time(lambda: model(image, hole), device, repeats)
        memory.reset()
        model(image, hole)
        _sync(device)
        peak = memory.peak_mb()

        # The attention op alone, dense vs fast, on the features the model really produces.
        features = model.refine.attention_encoder(network_input(image * (1 - hole), hole))
        quarter = resize_nearest(hole, features.shape[-2:])
        needed = reach_back(hole, [*model.refine.attention_decoder, *model.refine.decoder])
        dense = contextual_attention(features, features, quarter)
        fast = masked_contextual_attention(features, features, quarter, needed)
        diff = float((dense.features - fast.features).abs()[needed.expand_as(features)].max())
        t_dense = statistics.median(_time(lambda: contextual_attention(features, features, quarter),
                                          device, max(1, repeats // 2)))
        t_fast = statistics.median(_time(lambda: masked_contextual_attention(features, features, quarter, needed),
                                         device, max(1, repeats // 2)))

        bf16_median = bf16_psnr = None
        if bf16:
            with torch.autocast(device_type=device.type, dtype=torch.bfloat16):
                low = model(image, hole)
                bf16_median = statistics.median(_time(lambda: model(image, hole), device, repeats))
            # Over the hole's pixels only: outside it the fill is not used, and counting those zeros of the
            # difference would add 10 log10(1 / hole fraction) dB.
            inside = hole.bool().expand_as(reference.refined)
            bf16_psnr = psnr(low.refined.float()[inside].cpu(), reference.refined[inside].cpu(), peak=2.0)

    grid = (size // MATCHING_CELL, size // MATCHING_CELL)
    channels = features.shape[1]
    rows = needed_grid_rows(needed)[0]
    dense_macs = dense_path_macs(grid[0] * grid[1], channels)
    fast_macs = fast_path_macs(rows, grid, channels)
    used = pick_path(grid, device.type)
    total_macs = counts["coarse"] + counts["refine"] + (fast_macs if used == "fast" else dense_macs)
    median = statistics.median(times)
    achieved = 2 * total_macs / median / 1e9
    return SizeFigures(
        size=size, mask=mask_kind, hole_fraction=float(hole.mean()),
        gmac_coarse=counts["coarse"] / 1e9, gmac_refine_convs=counts["refine"] / 1e9,
        gmac_attention_dense=dense_macs / 1e9, gmac_attention_fast=fast_macs / 1e9, attention_path=used,
        seconds_median=median, seconds_min=min(times), gflops_achieved=achieved,
        fraction_of_conv_ceiling=achieved / ceiling, peak_memory_mb=peak,
        attention_dense_s=t_dense, attention_fast_s=t_fast, attention_speedup=t_dense / t_fast,
        attention_max_abs_diff_in_needed=diff, bf16_seconds_median=bf16_median, bf16_psnr_vs_fp32_db=bf16_psnr)


def bench_stages(size: int, mask_kind: str, rgb: np.ndarray, weights: Path, device: str, repeats: int
                 ) -> tuple[float, float, float]:
    """(network fill s, texture fill s, texture stage s), medians over ``repeats`` after one warm-up each:
    ``Inpainter.fill`` on the same photo and hole with the network alone and with the texture stage."""
    from .pipeline import Inpainter, TextureSkipped  # the pipeline imports the texture stage: only this needs it

    mask = bench_mask(mask_kind, size)
    network = Inpainter(weights, device=device, precision="fp32", texture="network")
    textured = Inpainter(weights, device=device, precision="fp32", texture="photo")
    network_s = statistics.median(_time(lambda: network.fill(rgb, mask), torch.device(device), repeats))
    warm = textured.fill(rgb, mask)
    if warm.texture_skipped is not None:  # timed without its stage, the row would be the network's
        raise TextureSkipped(warm.texture_skipped)
    totals, stage = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        stage.append(textured.fill(rgb, mask).timings["texture"])
        totals.append(time.perf_counter() - start)
    return network_s, statistics.median(totals), statistics.median(stage)


def _weights(weights: Path | None) -> Path | None:
    return weights or (DEFAULT_WEIGHTS if DEFAULT_WEIGHTS.is_file() else None)


def _model(path: Path | None) -> tuple[InpaintGenerator, str]:
    """Trained weights when there are any (the bf16 quality figure needs them); speed is the same with random
    ones, so the bench still runs without weights."""
    model = InpaintGenerator()
    if path is None:
        return model, "random (no weights found; the bf16 PSNR is then meaningless, and no fill is timed)"
    state, _ = load_weights(path)
    load_generator_state(model, state, str(path))
    return model, str(path)


def run_bench(sizes: list[int], mask_kind: str = "center", device: str = "cpu", repeats: int = 5,
              bf16: bool = False, weights: Path | None = None, photo: np.ndarray | None = None,
              photo_name: str = "", stages: bool = True) -> BenchReport:
    """The figures at each size. bf16 is measured when asked (``bf16``) and whenever "auto" picks it here, so
    the report always says what the automatic choice costs; ``stages`` times the two-stage fill."""
    threads = configure_threads()
    dev = resolve_device(device)
    path = _weights(weights)
    model, source = _model(path)
    model = model.prepare_for_inference(dev)
    cpu = platform.processor() or platform.machine()
    auto = resolve_precision("auto", dev)
    flush_denormals()
    with reuse_freed_memory():  # as the pipeline runs the model (the ceiling too)
        ceiling = conv_ceiling_gflops(dev)
        report = BenchReport(device=dev.type, torch_version=torch.__version__, threads=threads, cpu=cpu,
                             conv_ceiling_gflops=ceiling, weights=source,
                             photo=photo_name if photo is not None else "uniform noise",
                             auto_precision=auto, native_bf16=native_bf16(dev))
        for size in sizes:
            rgb = bench_image(size, photo)
            figures = bench_size(model, size, mask_kind, dev, repeats, ceiling, bf16 or auto == "bf16", rgb)
            if stages and path is not None:
                figures.network_fill_s, figures.texture_fill_s, figures.texture_stage_s = bench_stages(
                    size, mask_kind, rgb, path, dev.type, repeats)
            report.sizes.append(figures)
    return report


def _precision_line(report: BenchReport) -> str:
    """Which precision "auto" picks here, why, and what it costs against fp32."""
    if report.device == "cuda":
        why = "a GPU with native bf16" if report.native_bf16 else "a GPU without native bf16 (before Ampere)"
    else:
        why = ("a CPU with native bf16" if report.native_bf16
               else "a CPU without native bf16 (no avx512_bf16 or amx_bf16 flag)")
    line = f'precision "auto" picks {report.auto_precision} here: {why}'
    measured = [s for s in report.sizes if s.bf16_seconds_median is not None]
    if report.auto_precision == "fp32":
        return line + "; fp32 is the reference, no cost"
    costs = ", ".join(f"{s.size}: {s.bf16_seconds_median:.3f} s vs {s.seconds_median:.3f} s fp32, hole "
                      f"{s.bf16_psnr_vs_fp32_db:.1f} dB" for s in measured)
    return f"{line}; cost {costs}"


def format_report(report: BenchReport) -> str:
    lines = [f"device {report.device}, torch {report.torch_version}, {report.threads} threads; conv ceiling "
             f"(3x3 128->128 at 128x128) {report.conv_ceiling_gflops:.1f} GFLOP/s; weights {report.weights}; "
             f"input {report.photo}", _precision_line(report), "",
             "| size | mask | GMAC coarse / refine / attn (dense, fast; used) | median s | min s | GFLOP/s | "
             "of ceiling | peak MB | attn dense s | attn fast s | speed-up | max diff | bf16 s | bf16 PSNR dB |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for s in report.sizes:
        bf16 = (f"{s.bf16_seconds_median:.3f} | {s.bf16_psnr_vs_fp32_db:.1f}" if s.bf16_seconds_median is not None
                else "- | -")
        lines.append(
            f"| {s.size} | {s.mask} ({s.hole_fraction:.0%}) | {s.gmac_coarse:.1f} / {s.gmac_refine_convs:.1f} / "
            f"({s.gmac_attention_dense:.1f}, {s.gmac_attention_fast:.1f}; {s.attention_path}) | "
            f"{s.seconds_median:.3f} | "
            f"{s.seconds_min:.3f} | {s.gflops_achieved:.1f} | {s.fraction_of_conv_ceiling:.0%} | "
            f"{s.peak_memory_mb:.0f} | {s.attention_dense_s:.3f} | {s.attention_fast_s:.3f} | "
            f"{s.attention_speedup:.1f}x | {s.attention_max_abs_diff_in_needed:.1e} | {bf16} |")
    timed = [s for s in report.sizes if s.network_fill_s is not None]
    if timed:
        lines += ["", "Inpainter.fill, fp32, the same photo and hole (median s):", "",
                  "| size | mask | network only | with texture stage | texture stage alone |", "|---|---|---|---|---|"]
        lines += [f"| {s.size} | {s.mask} ({s.hole_fraction:.0%}) | {s.network_fill_s:.2f} | {s.texture_fill_s:.2f} | "
                  f"{s.texture_stage_s:.2f} |" for s in timed]
    return "\n".join(lines)


def to_numpy_safe(report: BenchReport) -> dict:
    """JSON-ready dict (floats only, inf as None)."""
    def clean(v):
        if isinstance(v, float) and not np.isfinite(v):
            return None
        return v
    data = report.as_dict()
    data["sizes"] = [{k: clean(v) for k, v in s.items()} for s in data["sizes"]]
    return data
