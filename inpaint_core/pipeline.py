"""``Inpainter``: photo + mask in, filled photo + evidence out. The one API the editor and the CLI use.

Images at this boundary are uint8 HxWx3 RGB and masks bool HxW (True = hole). Inside, the model sees each
region (see ``regions.py``) in [-1, 1], padded to whole matching cells (8 pixels) by edge replication (the
padding is marked as known, so attention may borrow from it but nothing is filled there).
"""
from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterator

import cv2
import numpy as np
import torch

from .cpu import available_memory, configure_threads, flush_denormals, reuse_freed_memory
from .devices import available_devices, resolve_device, resolve_precision
from .flow import offsets_to_rgb
from .model.generator import InpaintGenerator
from .model.grid import MATCHING_CELL
from .model.layers import layers_that_run
from .regions import DEFAULT_MARGIN, DEFAULT_WORK_SIZE, Region, Strategy, plan_regions
from .sources import RegionAttention
from .texture import PATCH, NoSourcePatches, TextureSettings
from .texture_stage import RegionGuide, TextureJob, TextureSources, peak_memory, run as run_texture
from .weights import default_weights, load_generator_state, load_weights

ProgressCallback = Callable[[float, str], None]
# What progress reports while each network runs, and at the end (the editor shows it in its status bar).
STAGE_MESSAGES = {"coarse": "Filling: coarse pass", "refine": "Filling: refinement with contextual attention",
                  "texture": "Filling: texture from the photo"}
TEXTURES = ("photo", "network")
NETWORK_SHARE = 0.5  # of the progress bar, when the texture stage follows the network
DONE_MESSAGE = "done"


class InpaintInputError(ValueError):
    """The image or mask cannot be filled (wrong shape or type, mask covering everything)."""


class NotEnoughMemory(MemoryError):
    """The texture stage would need more memory than the system has free; the message says how much of each."""


class TextureSkipped(RuntimeError):
    """A fill that asked for the texture stage was made without it (``InpaintResult.texture_skipped``, the message,
    says why: too little memory, or nothing in the photo to copy); raised where such a fill would be taken for one
    with the stage (eval's scores, bench's timings)."""


def texture_memory_shortfall(job: TextureJob) -> str | None:
    """Why the texture stage cannot run on ``job`` now (it would need more memory than is free: a long line
    across a very large photo, or other programs holding the memory), or None when it can. Swapping would take
    the whole machine down with it, and running out would get the editor killed, so the stage is not started.
    This counts the computer's memory: on a CUDA GPU the stage's tables are on the device, where running out
    raises PyTorch's own error, which ends the fill with its message."""
    return _memory_shortfall("The texture stage", peak_memory(job),
                             "Close other programs, or fill a shorter stroke at a time.")


def _memory_shortfall(who: str, needed: int, advice: str) -> str | None:
    """Why ``who`` cannot run now, needing ``needed`` bytes (both figures and ``advice``), or None when it can."""
    free = available_memory()
    if needed <= free:
        return None
    return f"{who} needs about {_size(needed)} for this fill and {_size(free)} of memory is free. {advice}"


# Bytes the network needs to fill one region on the CPU: a fixed part, per work pixel (its activations; bf16 halves
# most of them) and per pair of a hole cell and a cell of the region (MATCHING_CELL work pixels square) that
# contextual attention scores. Measured as the process's peak over its start (scratch s40/netmem.py: the sunset
# photo scaled, a centred square hole, strategy original, texture off; 2026-12-03): 1 MP with 1 % or 20 % of it
# hole 0.51 and 0.80 GB in bf16, 0.75 GB with 1 % in fp32; 4 MP with 1 % or 10 % 2.0 and 4.8 GB in bf16, 3.3 GB with
# 1 % in fp32; the 12 MP photo at its own size with 1 %, 8.9 GB (the whole process, bf16). 450 (bf16) and 790
# (fp32) bytes a pixel and 7.6 a pair fit them; these estimate 1.05-1.21 times those peaks. The regions run one at
# a time. With the default crops (at most 768 x 768 work pixels) a region needs at most about 1 GB.
NETWORK_BYTES_FIXED = 64 << 20
NETWORK_BYTES_PER_PIXEL = {"bf16": 500, "fp32": 850}
NETWORK_BYTES_PER_ATTENTION_PAIR = 9


def network_memory(regions: list[Region], mask: np.ndarray, precision: str) -> int:
    """Bytes the network will add to the process at its peak while it fills ``regions`` of ``mask`` on the CPU."""
    def region_bytes(region: Region) -> int:
        h, w = region.work_shape
        hole = np.count_nonzero(mask[region.y0:region.y1, region.x0:region.x1]) * region.scale ** 2
        cells = h * w / MATCHING_CELL ** 2
        return int(NETWORK_BYTES_PER_PIXEL[precision] * h * w
                   + NETWORK_BYTES_PER_ATTENTION_PAIR * cells * hole / MATCHING_CELL ** 2)
    return NETWORK_BYTES_FIXED + max(region_bytes(r) for r in regions)


def _size(n: int) -> str:
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.0f} MB"


class FillCancelled(Exception):
    """The fill was cancelled through its ``cancel`` event; nothing was changed."""


def _blend(photo: np.ndarray, fill: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """uint8 ``photo * (1 - weight) + fill * weight``; pixels of weight 0 stay byte-identical."""
    blended = photo.astype(np.float32) * (1 - weight[..., None]) + fill.astype(np.float32) * weight[..., None]
    return np.where(weight[..., None] > 0, np.round(blended).astype(np.uint8), photo)


@dataclass
class RegionResult:
    """Model outputs for one processed region, at the region's size in the photo."""

    region: Region
    coarse: np.ndarray    # uint8 [h, w, 3]
    refined: np.ndarray   # uint8 [h, w, 3]
    flow_rgb: np.ndarray  # uint8 [h, w, 3]
    attention: RegionAttention | None = None
    owned: np.ndarray | None = None    # bool [h, w]: the hole pixels this region filled
    offsets: np.ndarray | None = None  # int64 [2, gh, gw]: the attention argmax, in matching cells


@dataclass
class InpaintResult:
    """What a fill produced.

    ``composite`` is the whole photo with the holes filled: with the texture stage byte-identical outside them;
    with the network's fill alone too, unless a region had to be shrunk, where a seam a few pixels wide is
    feathered. ``coarse``, ``refined`` and ``flow_rgb`` (the network's evidence) cover ``box``, the union of the
    processed regions; ``coarse`` and ``refined`` are each network stage's fill pasted over the photo, and
    outside the regions the flow is white. ``texture_flow_rgb`` (same box, same colour wheel) shows where the
    texture stage copied each pixel from, ``seed`` which variation this is; both empty / None without the stage.
    ``texture_skipped`` says why the stage was asked for but did not run (too little free memory, or nothing in the
    photo to copy from); ``texture_partial``, how much of the hole it left to the network and why (parts of it with
    nothing to copy around them).
    """

    composite: np.ndarray
    box: tuple[int, int, int, int]
    coarse: np.ndarray
    refined: np.ndarray
    flow_rgb: np.ndarray
    regions: list[RegionResult] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    texture: list[TextureSources] = field(default_factory=list)
    texture_flow_rgb: np.ndarray | None = None
    seed: int | None = None
    texture_job: TextureJob | None = field(default=None, repr=False)  # what ``Inpainter.vary`` re-runs
    texture_skipped: str | None = None  # why the texture stage, though asked for, did not run
    texture_partial: str | None = None  # how much of the hole the stage left to the network, and why

    def evidence(self) -> list[RegionAttention | TextureSources]:
        """Per-area source maps (``box``, ``cell_of``, ``heat``, ``top``) of the final fill: the texture stage's
        exact sources when it ran, contextual attention's otherwise."""
        if self.texture:
            return list(self.texture)
        return [r.attention for r in self.regions if r.attention is not None]

    def _attention_at(self, x: int, y: int) -> tuple[RegionAttention | TextureSources, int] | None:
        for evidence in self.evidence():
            row = evidence.cell_of(x, y)
            if row is not None:
                return evidence, row
        return None

    def sources(self, x: int, y: int) -> np.ndarray:
        """float32 heat map over ``box``: how much each pixel's patch contributed to the fill at photo pixel
        (x, y). It sums to the attention weight of that position (just under 1), or to 1 over the one patch the
        texture stage copied; all zeros where (x, y) was not filled."""
        bx0, by0, bx1, by1 = self.box
        heat = np.zeros((by1 - by0, bx1 - bx0), np.float32)
        found = self._attention_at(x, y)
        if found is not None:
            attention, row = found
            x0, y0, x1, y1 = attention.box
            heat[y0 - by0:y1 - by0, x0 - bx0:x1 - bx0] = attention.heat(row)
        return heat

    def top_sources(self, x: int, y: int, k: int = 5) -> list[tuple[tuple[int, int, int, int], float]]:
        """The k strongest source patches for photo pixel (x, y): ((x0, y0, x1, y1) in photo coordinates,
        weight), strongest first; empty where (x, y) was not filled."""
        found = self._attention_at(x, y)
        return [] if found is None else found[0].top(found[1], k)


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """``[N, 3, H, W]`` in [-1, 1] -> uint8 ``[N, H, W, 3]`` the official way (test.py of the official code):
    (x + 1) * 127.5, clamped, truncated."""
    img = ((x.detach().float() + 1.0) * 127.5).clamp(0, 255).to(torch.uint8)
    return img.permute(0, 2, 3, 1).cpu().numpy()


class _StepWatcher:
    """Forward hooks on every layer that runs: report progress after each, with its stage's message, and stop the
    forward pass before the next one as soon as cancel is set."""

    def __init__(self, model: InpaintGenerator, progress: ProgressCallback | None, cancel: threading.Event | None,
                 start: float, span: float) -> None:
        self.stage = {id(layer): STAGE_MESSAGES[name] for name, network in (("coarse", model.coarse),
                                                                              ("refine", model.refine))
                      for layer in layers_that_run(network)}
        self.layers = [m for m in model.modules() if id(m) in self.stage]
        self.progress, self.cancel = progress, cancel
        self.start, self.span = start, span
        self.done = 0

    def _before(self, module: torch.nn.Module, inputs: tuple) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise FillCancelled()

    def _after(self, module: torch.nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(self.start + self.span * self.done / len(self.layers), self.stage[id(module)])

    @contextlib.contextmanager
    def attached(self) -> Iterator[None]:
        handles = [h for m in self.layers
                   for h in (m.register_forward_pre_hook(self._before), m.register_forward_hook(self._after))]
        try:
            yield
        finally:
            for handle in handles:
                handle.remove()


class Inpainter:
    """Loads DeepFill v1 weights once and fills photos.

    weights: a safetensors file, or None for the shipped default (sha256-checked).
    device: "auto" (CUDA when present), "cpu" or "cuda".
    strategy, work_size, margin: how large photos are handled (see ``regions.py``).
    precision: "fp32", "bf16" to run the convolutions in bfloat16 (faster on CPUs with AMX/AVX512-BF16 and on
        recent GPUs; contextual attention stays float32), or "auto" (the default): bf16 where the device has it
        natively (``devices.native_bf16``), else fp32; bf16 changes the hole by about 55 dB PSNR against fp32.
        ``precision`` holds the one chosen. `bench` reports the choice and its cost.
    texture: "photo" (the texture stage puts the photo's own texture into the network's fill, at the photo's
        resolution; see ``texture.py``) or "network" (the network's fill alone).
    seed: the texture stage's seed; another seed gives another plausible fill (``vary``).
    """

    def __init__(self, weights: str | Path | None = None, device: str = "auto",
                 strategy: Strategy | str = Strategy.CROP, work_size: int = DEFAULT_WORK_SIZE,
                 margin: int = DEFAULT_MARGIN, precision: str = "auto", texture: str = "photo", seed: int = 0,
                 texture_settings: TextureSettings = TextureSettings()) -> None:
        if texture not in TEXTURES:
            raise ValueError(f"texture must be one of {', '.join(TEXTURES)}, not {texture!r}")
        self.texture, self.seed, self.texture_settings = texture, seed, texture_settings
        if weights is None:
            path, sha = default_weights()
            state, self.card = load_weights(path, expected_sha256=sha)
        else:
            path = Path(weights)
            state, self.card = load_weights(path)
        self.weights_path = path
        self._device = resolve_device(device)
        if self._device.type == "cpu":
            configure_threads()
        self.model = InpaintGenerator()
        load_generator_state(self.model, state, str(path))
        self.model.prepare_for_inference(self._device)
        self.strategy = Strategy(strategy)
        if work_size < 64 or work_size % MATCHING_CELL:
            raise ValueError(f"work_size must be a multiple of {MATCHING_CELL} and at least 64, not {work_size}")
        self.work_size, self.margin = work_size, margin
        self.precision = resolve_precision(precision, self._device)

    @property
    def device(self) -> str:
        return self._device.type

    @staticmethod
    def available_devices() -> list[str]:
        """The devices this machine offers (``devices.available_devices``), for the editor's settings."""
        return available_devices()

    # -- public API -------------------------------------------------------------------------------------------
    def fill(self, image: np.ndarray, mask: np.ndarray, *, exclude: np.ndarray | None = None,
             progress: ProgressCallback | None = None, cancel: threading.Event | None = None,
             seed: int | None = None) -> InpaintResult:
        """Fill the True pixels of ``mask`` in ``image``. See the module docstring for conventions. ``seed``
        overrides the texture stage's seed for this fill."""
        started = time.perf_counter()
        image, mask, exclude = self._validate(image, mask, exclude)
        regions = plan_regions(mask, self.strategy, self.work_size, self.margin)
        if not regions:
            empty = np.zeros((0, 0, 3), np.uint8)
            return InpaintResult(composite=image.copy(), box=(0, 0, 0, 0), coarse=empty, refined=empty,
                                 flow_rgb=empty, timings={"total": time.perf_counter() - started})
        if self._device.type == "cpu":  # on a GPU, running out raises PyTorch's own error, as the stage's tables do
            # Swapping would take the machine down with it; running out, the editor.
            shortfall = _memory_shortfall(
                "The network", network_memory(regions, mask, self.precision),
                "Fill large photos a crop around the hole at a time (Fill Settings: Large photos; the command line's "
                "--strategy crop), or close other programs.")
            if shortfall is not None:
                raise NotEnoughMemory(shortfall)
        timings: dict[str, float] = {}
        composite = image.copy()
        results = []
        network_share = NETWORK_SHARE if self.texture == "photo" else 1.0
        for i, region in enumerate(regions):
            share = network_share / len(regions)
            result, alpha, region_timings = self._fill_region(image, mask, exclude, region, progress, cancel,
                                                              start=i * share, span=share)
            for name, seconds in region_timings.items():
                timings[name] = timings.get(name, 0.0) + seconds
            results.append((result, alpha))
        # Paste only after every region ran, so a cancel part-way leaves nothing half-done.
        views = []
        for result, alpha in results:
            x0, y0, x1, y1 = result.region.box
            weight = result.owned.astype(np.float32) if alpha is None else alpha
            composite[y0:y1, x0:x1] = _blend(composite[y0:y1, x0:x1], result.refined, weight)
            # Each stage's fill over the photo, as pasted: that is what the two stages are compared on, and
            # outside the hole their raw outputs are not even computed exactly (fast attention skips those rows).
            photo = image[y0:y1, x0:x1]
            views.append((result.region, _blend(photo, result.coarse, weight), _blend(photo, result.refined, weight),
                          result.flow_rgb, result.owned))
        box, coarse, refined, flow = self._union_views(image, views)
        result = InpaintResult(composite=composite, box=box, coarse=coarse, refined=refined, flow_rgb=flow,
                               regions=[r for r, _ in results], timings=timings)
        if self.texture == "photo":
            guides = [RegionGuide(box=r.region.box, owned=r.owned, fill=r.refined, offsets=r.offsets,
                                  scale=r.region.scale) for r, _ in results]
            job = TextureJob(photo=image, hole=mask, exclude=exclude, guides=guides, settings=self.texture_settings)
            # Without the memory for the texture stage the network's fill is the result, and says why.
            shortfall = texture_memory_shortfall(job)
            if shortfall is None:
                try:
                    result = self._with_texture(result, job, self.seed if seed is None else seed, progress, cancel,
                                                start=network_share)
                except NoSourcePatches as nothing_to_copy:
                    result.texture_skipped = str(nothing_to_copy)
            else:
                result.texture_skipped = shortfall
        result.timings["total"] = time.perf_counter() - started
        if progress is not None:
            progress(1.0, DONE_MESSAGE)
        return result

    def vary(self, result: InpaintResult, seed: int, *, progress: ProgressCallback | None = None,
             cancel: threading.Event | None = None) -> InpaintResult:
        """Another variation of a fill made with the texture stage: the same network outputs, the texture stage
        re-run with ``seed`` (a fraction of a fill's time). The result replaces ``result``."""
        if result.texture_job is None:
            why = result.texture_skipped or "It was made with texture='network'."
            raise ValueError(f"This fill has no texture stage to vary. {why}")
        shortfall = texture_memory_shortfall(result.texture_job)
        if shortfall is not None:
            raise NotEnoughMemory(shortfall)
        started = time.perf_counter()
        varied = self._with_texture(result, result.texture_job, seed, progress, cancel, start=0.0)
        varied.timings = {"texture": varied.timings["texture"], "total": time.perf_counter() - started}
        if progress is not None:
            progress(1.0, DONE_MESSAGE)
        return varied

    def _with_texture(self, network: InpaintResult, job: TextureJob, seed: int, progress: ProgressCallback | None,
                      cancel: threading.Event | None, start: float) -> InpaintResult:
        """``network``'s result with the texture stage's fill, evidence and flow (a new result)."""
        t0 = time.perf_counter()

        def on_round(fraction: float) -> None:
            if cancel is not None and cancel.is_set():
                raise FillCancelled()
            if progress is not None:
                progress(start + (1.0 - start) * fraction, STAGE_MESSAGES["texture"])

        with reuse_freed_memory():
            composite, evidence = run_texture(job, seed, device=self.device, on_round=on_round)
        flow = self._texture_flow(network.box, evidence)
        timings = dict(network.timings, texture=time.perf_counter() - t0)
        # A run with nothing to copy in its box (a tile of a line where the exclude brush covers all around it)
        # keeps the network's fill and leaves no evidence.
        holes = int(np.count_nonzero(job.hole))
        left = holes - sum(int(np.count_nonzero(group.source_y >= 0)) for group in evidence)
        partial = None if left == 0 else (f"{max(1, round(100 * left / holes))} % of the hole is the network's fill "
                                          f"alone: the texture stage found no {PATCH} x {PATCH} patch outside the "
                                          "hole and the excluded area near it to copy from.")
        return replace(network, composite=composite, texture=evidence, texture_flow_rgb=flow, seed=seed,
                       texture_job=job, timings=timings, texture_partial=partial)

    @staticmethod
    def _texture_flow(box: tuple[int, int, int, int], evidence: list[TextureSources]) -> np.ndarray:
        """The texture stage's offsets over ``box`` on the attention flow's colour wheel (white: not filled)."""
        bx0, by0, bx1, by1 = box
        rows, cols, moves = [], [], []
        for group in evidence:
            ys, xs, offsets = group.copies()
            rows.append(ys - by0)
            cols.append(xs - bx0)
            moves.append(offsets)
        # Colours for the filled pixels only, listed (a thin hole is a small part of a large photo's box): the
        # normalisation is over them alone, as the others have offset 0.
        flow = np.full((by1 - by0, bx1 - bx0, 3), 255, np.uint8)
        if rows:
            flow[np.concatenate(rows), np.concatenate(cols)] = offsets_to_rgb(
                np.concatenate(moves, axis=1)[None, :, :, None])[0, :, 0]
        return flow

    # -- steps ------------------------------------------------------------------------------------------------
    @staticmethod
    def _validate(image: np.ndarray, mask: np.ndarray, exclude: np.ndarray | None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        image = np.asarray(image)
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise InpaintInputError(f"the image must be uint8 HxWx3 RGB, got {image.dtype} {image.shape}")
        if image.shape[0] < 8 or image.shape[1] < 8:
            raise InpaintInputError(f"the image is too small to fill ({image.shape[1]}x{image.shape[0]}); "
                                    "it needs at least 8x8 pixels")
        mask = np.asarray(mask)
        if mask.shape != image.shape[:2]:
            raise InpaintInputError(f"the mask is {mask.shape[1]}x{mask.shape[0]} but the image is "
                                    f"{image.shape[1]}x{image.shape[0]}")
        mask = mask.astype(bool)
        if mask.all():
            raise InpaintInputError("the mask covers the whole image: leave part of the photo unmasked so the "
                                    "fill has something to borrow from")
        if exclude is not None:
            exclude = np.asarray(exclude).astype(bool)
            if exclude.shape != mask.shape:
                raise InpaintInputError("the exclude mask must have the image's size")
            if (exclude | mask).all():
                raise InpaintInputError("the hole and the excluded area together cover the whole image: "
                                        "nothing is left to borrow from")
        return np.ascontiguousarray(image), mask, exclude

    def _to_model(self, rgb: np.ndarray) -> torch.Tensor:
        if not rgb.flags.writeable:  # e.g. np.asarray of a PIL image; torch warns about sharing read-only memory
            rgb = rgb.copy()
        x = torch.from_numpy(rgb).to(self._device).permute(2, 0, 1)[None].float() / 127.5 - 1.0
        return x.flip(1) if self.card.channel_order == "BGR" else x

    def _from_model(self, x: torch.Tensor) -> np.ndarray:
        return to_uint8(x.flip(1) if self.card.channel_order == "BGR" else x)[0]

    def _fill_region(self, image: np.ndarray, mask: np.ndarray, exclude: np.ndarray | None, region: Region,
                     progress: ProgressCallback | None, cancel: threading.Event | None, start: float, span: float
                     ) -> tuple[RegionResult, np.ndarray | None, dict[str, float]]:
        t0 = time.perf_counter()
        x0, y0, x1, y1 = region.box
        crop, hole = image[y0:y1, x0:x1], mask[y0:y1, x0:x1]
        owned = region.owned(mask)
        keep_out = None if exclude is None else exclude[y0:y1, x0:x1]
        work_h, work_w = region.work_shape
        if region.scale < 1.0:
            crop = cv2.resize(crop, (work_w, work_h), interpolation=cv2.INTER_AREA)
            # A work pixel is a hole if any photo pixel under it is: never let a hole pixel count as known.
            hole = cv2.resize(hole.astype(np.float32), (work_w, work_h), interpolation=cv2.INTER_AREA) > 0
            if keep_out is not None:
                keep_out = cv2.resize(keep_out.astype(np.float32), (work_w, work_h),
                                      interpolation=cv2.INTER_AREA) > 0
        pad_h, pad_w = (-work_h) % MATCHING_CELL, (-work_w) % MATCHING_CELL
        if pad_h or pad_w:
            crop = np.pad(crop, ((0, pad_h), (0, pad_w), (0, 0)), mode="edge")
            hole = np.pad(hole, ((0, pad_h), (0, pad_w)))
            if keep_out is not None:
                keep_out = np.pad(keep_out, ((0, pad_h), (0, pad_w)))

        x = self._to_model(crop)
        m = torch.from_numpy(hole).to(self._device)[None, None].float()
        ex = None if keep_out is None else torch.from_numpy(keep_out).to(self._device)[None, None].float()
        t1 = time.perf_counter()
        watcher = _StepWatcher(self.model, progress, cancel, start, span)
        low_precision = torch.autocast(self._device.type, dtype=torch.bfloat16, enabled=self.precision == "bf16")
        flush_denormals()
        with torch.inference_mode(), watcher.attached(), low_precision, reuse_freed_memory():
            out = self.model(x, m, exclude=ex, keep_attention=True)
        t2 = time.perf_counter()
        attention = self._hole_attention(out.attention, hole, region, (work_h, work_w))

        coarse = self._from_model(out.coarse)[:work_h, :work_w]
        refined = self._from_model(out.refined)[:work_h, :work_w]
        grid = offsets_to_rgb(out.attention.offsets.cpu().numpy())[0]
        flow = np.repeat(np.repeat(grid, MATCHING_CELL, axis=0), MATCHING_CELL, axis=1)[:work_h, :work_w]
        alpha = None
        if region.scale < 1.0:
            size = (region.width, region.height)
            coarse = cv2.resize(coarse, size, interpolation=cv2.INTER_CUBIC)
            refined = cv2.resize(refined, size, interpolation=cv2.INTER_CUBIC)
            flow = cv2.resize(flow, size, interpolation=cv2.INTER_NEAREST)
            alpha = self._feather(owned, region.scale)
        t3 = time.perf_counter()
        timings = {"prepare": t1 - t0, "model": t2 - t1, "compose": t3 - t2}
        result = RegionResult(region=region, coarse=coarse, refined=refined, flow_rgb=flow, attention=attention,
                              owned=owned, offsets=out.attention.offsets[0].cpu().numpy())
        return result, alpha, timings

    @staticmethod
    def _hole_attention(attention, hole_padded: np.ndarray, region: Region, work_shape: tuple[int, int]
                        ) -> RegionAttention:
        """Keep the attention rows of grid cells that hold hole pixels (memory ~ hole size x background)."""
        (kept,) = attention.weights
        gh, gw = attention.grid
        cells = hole_padded.reshape(gh, MATCHING_CELL, gw, MATCHING_CELL).any(axis=(1, 3)).ravel()
        rows = kept.rows.cpu().numpy()
        keep = cells[rows]
        return RegionAttention(box=region.box, scale=region.scale, work_shape=work_shape, grid=(gh, gw),
                               rows=rows[keep], cols=kept.cols.cpu().numpy(),
                               values=kept.values[torch.from_numpy(keep).to(kept.values.device)].float().cpu().numpy())

    @staticmethod
    def _feather(hole: np.ndarray, scale: float) -> np.ndarray:
        """Blend weights for a fill computed at a smaller scale: 1 in the hole, fading to 0 over about one
        work pixel outside it, so the upscaled fill meets the sharp photo without a hard edge."""
        radius = max(1, int(np.ceil(1.0 / scale)))
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
        grown = cv2.dilate(hole.astype(np.uint8), kernel).astype(np.float32)
        soft = cv2.GaussianBlur(grown, (0, 0), sigmaX=radius / 2)
        return np.where(hole, 1.0, np.clip(soft, 0.0, 1.0) * grown).astype(np.float32)

    @staticmethod
    def _union_views(image: np.ndarray,
                     views: list[tuple[Region, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]
                     ) -> tuple[tuple[int, int, int, int], np.ndarray, np.ndarray, np.ndarray]:
        """(box, coarse, refined, flow) over the union of the regions' boxes, from each region's views
        (region, coarse, refined, flow, owned hole pixels)."""
        if len(views) == 1:
            region, coarse, refined, flow, _ = views[0]
            return region.box, coarse, refined, flow
        x0 = min(r.x0 for r, *_ in views)
        y0 = min(r.y0 for r, *_ in views)
        x1 = max(r.x1 for r, *_ in views)
        y1 = max(r.y1 for r, *_ in views)
        coarse = image[y0:y1, x0:x1].copy()
        refined = coarse.copy()
        flow = np.full_like(coarse, 255)
        for r, region_coarse, region_refined, region_flow, _ in views:
            sl = np.s_[r.y0 - y0:r.y1 - y0, r.x0 - x0:r.x1 - x0]
            coarse[sl], refined[sl], flow[sl] = region_coarse, region_refined, region_flow
        # Tiles of one long hole overlap: each hole pixel shows the tile that filled it.
        for r, region_coarse, region_refined, region_flow, owned in views:
            sl = np.s_[r.y0 - y0:r.y1 - y0, r.x0 - x0:r.x1 - x0]
            coarse[sl][owned], refined[sl][owned], flow[sl][owned] = (region_coarse[owned], region_refined[owned],
                                                                      region_flow[owned])
        return (x0, y0, x1, y1), coarse, refined, flow
