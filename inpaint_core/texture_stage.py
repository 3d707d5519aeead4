"""The texture stage applied to a photo: from the network's regions to filled pixels and their exact sources.

The network fills each region at its working size (``regions.py``); this module takes those fills as the guide,
the attention argmax as where to look first, and runs the synthesis (``texture.py``) at the photo's own
resolution on each group of overlapping regions, keeps the network's broad colours under the synthesis's detail
where the network is trusted, then matches the fill to the photo at the hole's border (``seams.py``). It keeps
everything a re-run with another seed needs, so a variation costs only this stage.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Callable

import cv2
import numpy as np

from .model.grid import MATCHING_CELL
from .regions import merge_overlapping, overlap
from .seams import level_colours, match_boundary, membrane_at
from .texture import (PATCH, RADIUS, NoSourcePatches, Synthesis, TextureSettings, depth_in_hole, synthesize,
                      texture_features)

RoundCallback = Callable[[float], None]
# Network pixels: coarser than this the fill keeps the network's colours, finer it takes the synthesis's detail.
# The network is right about the broad shading (its hole L1 is the lowest of all methods) and wrong about the
# grain (a smear); copied patches are the reverse, so each gives the band it is good at. With the synthesis's
# majority copies (texture.MODE_WINDOW), a prototype on the same network fields measured 1.5 instead of 1.0:
# eval512 strokes hole L1 7.47 -> 7.62 % (Telea 7.68), median sharpness 0.48 -> 0.57; eval 256 centre Table-1 L1
# 3.03 -> 3.06 % (Telea 3.08); 1.25 half way (7.56 %, 0.53). Where the fill loses its sharpness: the copies
# alone (no network band) measure 8.00 % at sharpness 0.66 on eval512 strokes and Table-1 3.25 % at 0.60 on eval
# 256 centre, so the band buys 0.55 points of hole L1 with 0.19 of sharpness. Sharper copies do not pass
# through it: texture_weight 16 makes the copies 0.70 but the fill stays 0.47 (7.50 %). Every other cut of the
# network's share lands on the same trade line (eval512 strokes): NETWORK_TRUST_DISTANCE 16 / 8 7.49 / 7.61 % at
# 0.50 / 0.55; COPY_TRUST_COHERENCE (0.4, 0.8) 7.48 % at 0.50; the correction clipped to +-20 / 10 grey levels
# before its blur (a copied edge the network smeared keeps more of itself) 7.58 / 7.70 % at 0.53 / 0.57.
NETWORK_BAND_SIGMA = 1.0
# Network pixels: how far into the hole its broad shading is trusted, falling as exp(-distance / this). Near the
# border it continues the surroundings; deep in a large hole it paints a pale blob (often a ghost of what was
# removed), where the photo's own copies are the better guess.
NETWORK_TRUST_DISTANCE = 32.0
# Grey levels per pixel (mean gradient magnitude the hole's border predicts): below it the region is smooth (sky,
# a wall), where the network's broad shading adds nothing the copies lack but can add the faint lines of a
# removed cable; trust in it grows linearly up to this busy-ness. Measured on eval512: no change in hole L1.
NETWORK_TRUST_TEXTURE = 4.0
# Near the border a coherent copy takes trust away: where the search matched one piece of the photo (each pixel's
# neighbours continuing its match, before the synthesis's majority filter makes every copy coherent: a pipe carried
# through a stroke) and that piece continues the border, the copy is evidence of its own, and the network's broad
# shading there, often the same pipe broken into a smear, would blur it.
# A copy starts taking trust at the first of the COPY_TRUST_COHERENCE pair (coherence 0..1: the share of neighbours
# continuing its match over COHERENCE_WINDOW network pixels) and takes all of it at the second; the cut reaches
# COPY_TRUST_SPREAD network pixels around the copy, because the network smears a thin structure (a cable) over the
# sky beside it too. In a thick hole it fades to nothing COPY_TRUST_REACH network pixels in: deep in a large hole a
# coherent copy is one texture of many, and the network's broad shape the better guess. A thin hole (a stroke no more
# than twice THIN_HOLE_HALF_WIDTH network pixels wide) is near its border throughout: a 44 px stroke across the
# Bridge photo's cables at full size, seen by the network at 0.8, kept the network's smear of them as dark halos
# beside the copied cables until its middle counted as near. Against the cut of 0.75 x coherence fading over
# COPY_TRUST_REACH everywhere: eval512 strokes hole PSNR 19.44 -> 19.42 dB, L1 7.40 -> 7.41 %, sharpness 0.40 ->
# 0.41; 28 512-crops of the large photos 25.21 -> 25.20 dB, sharpness 0.48 -> 0.52; eval 256 centre unchanged.
COPY_TRUST_COHERENCE = (0.6, 0.9)
COPY_TRUST_SPREAD = 9.0
COPY_TRUST_REACH = 16.0
THIN_HOLE_HALF_WIDTH = 24.0
COHERENCE_WINDOW = 5
# Bytes the stage adds at its peak: a fixed part (its libraries' buffers and thread pools), per pixel of the box it
# synthesises on (the photo's and the finest level's tables) and per target patch (every pixel within a patch's reach
# of the hole: the fields, their distances and descriptors, the search's candidates); the runs of the synthesis come
# one after another. Measured as the process's peak during a run of the stage over its memory before it (RSS sampled
# every 2 ms, after a first run; scratch s40/memfit.py; the same job varies by up to a tenth from run to run): a
# chain-link fence over the 9.8 MP Wine photo, 3 px wires every 40 px or 5 px every 80 (9.8 M box pixels, 9.6 or
# 7.0 M targets) 3.7 and 3.2-3.4 GB; the latter over half of the 8 MP Picos photo (4.2 M, 2.9 M) 1.3-1.5 GB; the
# pedestal (3.7 M, 0.8 M) 0.5-0.7 GB; the Wine photo with the eval's lines and blobs (7.8 M, 0.3 M) 0.87 GB, its
# lines alone run tile by tile (five boxes of up to 1.3 M, with the evidence below) 0.27-0.30 GB, its bottle removed
# (1.0 M, 0.2 M) 0.26 GB. A least-squares fit gives 62 MB, 103 and 331 bytes; with these the estimate is 0.97-1.2 times
# those peaks. (105 bytes a target and no fixed part, fitted when no measured hole had more targets than a fifth of
# its box, put a fence's estimate at 0.55 of its peak.) On a 20 MP photo with lines and blobs, whose finest source
# table holds only what its search can reach (texture.SPARSE_SOURCE_REACH), it is a third above (1.94 GB).
PEAK_BYTES_FIXED = 96 << 20
PEAK_BYTES_PER_BOX_PIXEL = 115
PEAK_BYTES_PER_TARGET = 360
# Bytes per box pixel a run of the synthesis leaves behind for the runs after it: its sources (two int32) and the
# patches shown around them (two int8), kept as the fill's evidence.
EVIDENCE_BYTES_PER_BOX_PIXEL = 10


@dataclass
class RegionGuide:
    """What the network made of one region, at the photo's size: its fill and where attention looked."""

    box: tuple[int, int, int, int]   # x0, y0, x1, y1 in the photo
    owned: np.ndarray                # bool [h, w]: the hole pixels this region filled
    fill: np.ndarray                 # uint8 [h, w, 3]: the refined output, at the photo's size
    offsets: np.ndarray              # int [2, gh, gw]: attention argmax (row, col) in matching cells
    scale: float                     # network pixels per photo pixel

    @cached_property
    def thin(self) -> bool:
        """Whether no hole pixel it owns lies deeper than THIN_HOLE_HALF_WIDTH network pixels (a tile of a line);
        kept, as the stage's plan (``_units``) is made for its memory estimate and again for its run."""
        return float(depth_in_hole(self.owned).max(initial=0.0)) * self.scale <= THIN_HOLE_HALF_WIDTH


@dataclass
class TextureSources:
    """The photo pixel every synthesised pixel of one group was copied from, and the whole known patch that holds it
    (the patch shown: one the search matched, so it never covers the hole, as one centred on the copy could).

    Shaped like the attention's per-region evidence (``sources.RegionAttention``: ``box``, ``cell_of``, ``heat``,
    ``top``), so the inspector shows a synthesised pixel's exact source the way it shows attention's."""

    box: tuple[int, int, int, int]
    source_y: np.ndarray             # int32 [h, w] photo row of each hole pixel's source, -1 elsewhere
    source_x: np.ndarray
    # int8 [h, w]: from each source to the centre of the whole known patch shown around it (``Synthesis.patch_dy``,
    # one the search matched, never over the hole); None: the patch centred on the source
    patch_dy: np.ndarray | None = None
    patch_dx: np.ndarray | None = None

    def cell_of(self, x: int, y: int) -> int | None:
        """A key for photo pixel (x, y) when it was synthesised here, else None."""
        x0, y0, x1, y1 = self.box
        if not (x0 <= x < x1 and y0 <= y < y1) or self.source_y[y - y0, x - x0] < 0:
            return None
        return (y - y0) * (x1 - x0) + (x - x0)

    def source(self, key: int) -> tuple[int, int]:
        """(x, y): the photo pixel the synthesised pixel ``key`` (from ``cell_of``) was copied from."""
        x0, y0, x1, y1 = self.box
        ry, rx = divmod(key, x1 - x0)
        return int(self.source_x[ry, rx]), int(self.source_y[ry, rx])

    def _source_box(self, key: int) -> tuple[int, int, int, int]:
        sx, sy = self.source(key)
        if self.patch_dy is not None and self.patch_dx is not None:
            ry, rx = divmod(key, self.box[2] - self.box[0])
            sy, sx = sy + int(self.patch_dy[ry, rx]), sx + int(self.patch_dx[ry, rx])
        return sx - RADIUS, sy - RADIUS, sx + RADIUS + 1, sy + RADIUS + 1

    def heat(self, key: int) -> np.ndarray:
        """float32 [h, w] over the group's box: the patch holding the copied pixel, weight 1 spread over it."""
        x0, y0, x1, y1 = self.box
        heat = np.zeros((y1 - y0, x1 - x0), np.float32)
        bx0, by0, bx1, by1 = self._source_box(key)
        heat[max(0, by0 - y0):max(0, by1 - y0), max(0, bx0 - x0):max(0, bx1 - x0)] = 1.0 / (PATCH * PATCH)
        return heat

    def top(self, key: int, k: int) -> list[tuple[tuple[int, int, int, int], float]]:
        """The patch holding the copied pixel as (photo box, weight 1.0): a synthesised pixel has one source."""
        return [(self._source_box(key), 1.0)] if k > 0 else []

    def copies(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rows, columns, int32 [2, n] (row, col) offsets): each synthesised pixel, in photo coordinates, and the
        offset from it to its source."""
        ys, xs = np.nonzero(self.source_y >= 0)
        rows, cols = ys + self.box[1], xs + self.box[0]
        return rows, cols, np.stack([self.source_y[ys, xs] - rows, self.source_x[ys, xs] - cols]).astype(np.int32)


@dataclass
class TextureJob:
    """Everything one run of the stage needs, kept with the result so variations skip the network."""

    photo: np.ndarray                # uint8 [H, W, 3]
    hole: np.ndarray                 # bool [H, W]
    exclude: np.ndarray | None
    guides: list[RegionGuide]
    settings: TextureSettings


def attention_offsets_in_pixels(guide: RegionGuide) -> np.ndarray:
    """int32 [n, 2] (dy, dx) in photo pixels at the n pixels the region owns (row-major): each one's attention
    argmax, from its matching cell."""
    ys, xs = np.nonzero(guide.owned)
    gh, gw = guide.offsets.shape[1:]
    rows = np.minimum(((ys + 0.5) * guide.scale // MATCHING_CELL).astype(int), gh - 1)
    cols = np.minimum(((xs + 0.5) * guide.scale // MATCHING_CELL).astype(int), gw - 1)
    cell_px = MATCHING_CELL / guide.scale
    return np.round(guide.offsets[:, rows, cols].T * cell_px).astype(np.int32)


def network_trust(features: np.ndarray, inside: np.ndarray, trust_distance: float) -> np.ndarray:
    """float32 [H, W]: how far the network's fill is trusted at each pixel: exp(-``inside`` (``depth_in_hole``)
    / ``trust_distance``) (photo pixels), times the busy-ness the border predicts (``texture_features``, grey
    levels per pixel) over NETWORK_TRUST_TEXTURE (at most 1)."""
    busy = np.clip(features.mean(axis=2) / NETWORK_TRUST_TEXTURE, 0.0, 1.0)
    return (np.exp(-inside / trust_distance) * busy).astype(np.float32)


def copy_coherence(source_y: np.ndarray, source_x: np.ndarray, hole: np.ndarray, window: int) -> np.ndarray:
    """float32 [H, W] in 0..1: for each hole pixel, the share of its 4-neighbours in the hole whose source
    continues its own (the neighbour one step away copied the source pixel one step away), averaged over the
    hole pixels of a ``window`` x ``window`` box; 0 outside the hole."""
    h, w = hole.shape
    ys, xs = np.nonzero(hole)
    flat = ys * w + xs  # sorted: the hole's pixels are listed row-major
    sy, sx = source_y[ys, xs], source_x[ys, xs]
    continued = np.zeros(len(flat), np.float32)
    counted = np.zeros(len(flat), np.float32)
    for dy, dx in ((0, 1), (1, 0)):
        # pairs (p, q = p + (dy, dx)) with both in the hole; each pair counts for both of its pixels
        inside = (ys + dy < h) & (xs + dx < w)
        q = np.minimum(np.searchsorted(flat, flat + dy * w + dx), len(flat) - 1)
        p = np.flatnonzero(inside & (flat[q] == flat + dy * w + dx))
        q = q[p]
        same = (sy[q] == sy[p] + dy) & (sx[q] == sx[p] + dx)
        for at in (p, q):  # a pixel is in at most one pair per direction as p, and one as q
            continued[at] += same
            counted[at] += 1.0
    share = np.zeros((h, w), np.float32)
    share[ys, xs] = np.divide(continued, counted, out=np.zeros_like(continued), where=counted > 0)
    in_hole = hole.astype(np.float32)
    total = cv2.boxFilter(share, -1, (window, window), normalize=False)
    area = cv2.boxFilter(in_hole, -1, (window, window), normalize=False)
    return np.where(hole, total / np.maximum(area, 1.0), 0.0).astype(np.float32)


def _odd(size: float) -> int:
    """The odd integer nearest ``size`` (a window's side)."""
    return 2 * int(round(size / 2)) + 1


def near_border(inside: np.ndarray, scale: float) -> np.ndarray:
    """float32 [H, W] 0..1: how near each hole pixel counts as to the border for a coherent copy's evidence: 1
    throughout a hole whose local half-width (the deepest ``inside`` within THIN_HOLE_HALF_WIDTH) is at most
    THIN_HOLE_HALF_WIDTH network pixels, falling to the fade over COPY_TRUST_REACH at twice that width.
    ``scale``: network pixels per photo pixel."""
    thin = THIN_HOLE_HALF_WIDTH / scale
    half_width = cv2.dilate(inside, np.ones((_odd(2 * thin),) * 2, np.uint8))
    fade = 1.0 - inside * (scale / COPY_TRUST_REACH)
    return np.clip(np.maximum(fade, 2.0 - half_width / thin), 0.0, 1.0).astype(np.float32)


def copy_trust_cut(coherence: np.ndarray, scale: float) -> np.ndarray:
    """float32 [H, W] 0..1: the share of trust in the network a coherent copy takes (``coherence`` from
    ``copy_coherence``, 0 outside the hole, below the ramp's start), spread COPY_TRUST_SPREAD network pixels around
    it."""
    low, high = COPY_TRUST_COHERENCE
    cut = np.clip((coherence - low) / (high - low), 0.0, 1.0).astype(np.float32)
    side = _odd(COPY_TRUST_SPREAD / scale)
    return cv2.GaussianBlur(cv2.dilate(cut, np.ones((side, side), np.uint8)), (0, 0), side / 3)


def trusted_guide(photo: np.ndarray, hole: np.ndarray, network: np.ndarray, trust: np.ndarray) -> np.ndarray:
    """float32 [N, 3] at the hole's pixels (``np.nonzero`` order): what the synthesis should match there: the
    network's fill where it is trusted, the surroundings smoothly interpolated (a membrane, no structure of its
    own) where it is not."""
    ys, xs = np.nonzero(hole)
    around = membrane_at(photo.astype(np.float32), (~hole).astype(np.float32), ys, xs)
    t = trust[ys, xs, None]
    return t * network[ys, xs] + (1 - t) * around


def network_lows_texture_highs(photo: np.ndarray, hole: np.ndarray, network: np.ndarray, synthesis: np.ndarray,
                               sigma: float, trust: np.ndarray | None = None) -> np.ndarray:
    """float32 [H, W, 3]: in the hole, the network's fill blurred by ``sigma`` (photo pixels) plus the detail of
    the synthesis above that scale; both composited over the photo, so the border blends alike. ``network``:
    float32 [N, 3] at the hole's pixels (``np.nonzero`` order); ``synthesis``: float32 [H, W, 3], the photo outside
    the hole (as ``Synthesis.image`` is). Where ``trust`` ([H, W], 0..1) is below 1, the broad shading moves from
    the network's to the synthesis's own."""
    ys, xs = np.nonzero(hole)
    net = photo.astype(np.float32)
    if trust is None:
        net[ys, xs] = network
    else:
        t = trust[ys, xs, None]
        net[ys, xs] = t * network + (1 - t) * synthesis[ys, xs]
    # In place: on a 10 MP box each fresh image costs more than the blur that fills it.
    fill = cv2.GaussianBlur(net, (0, 0), sigma)
    fill += synthesis
    fill -= cv2.GaussianBlur(synthesis, (0, 0), sigma, dst=net)
    return fill


def composite_reach(scale: float) -> int:
    """Photo pixels around the hole beyond which the composite in it no longer changes, for a group seen by the
    network at ``scale`` (network pixels per photo pixel). Outside the hole the network's and the synthesis's
    images are both the photo, and the coherence and the cut are 0, so only a filter's reflection off a nearer
    edge could reach the hole: the band's blur (OpenCV's kernel reaches 4 sigma), the cut's blur after its
    spread, or the coherence window. (near_border's dilation ignores the edge.)"""
    side = _odd(COPY_TRUST_SPREAD / scale)
    window = _odd(COHERENCE_WINDOW / scale)
    return int(math.ceil(max(4 * NETWORK_BAND_SIGMA / scale, side // 2 + 4 * side / 3, window // 2))) + 2


def composite_in_hole(photo: np.ndarray, hole: np.ndarray, network: np.ndarray, synthesis: Synthesis,
                      trust: np.ndarray, inside: np.ndarray, scale: float, reach: int | None = None) -> np.ndarray:
    """float32 [N, 3] at the hole's pixels (``np.nonzero`` order): the network's broad shading where it is
    trusted (``trust`` from ``network_trust``, less where a coherent copy near the border takes it) under the
    synthesis's detail. ``network``: float32 [N, 3], the network's fill at the hole's pixels (in that order);
    ``inside``: ``depth_in_hole``; ``scale``: network pixels per photo pixel.

    Computed on the hole's bounding box grown by ``reach`` (default ``composite_reach``, on which it depends) only:
    the group's box also holds the context the network saw, often several times the hole's area."""
    rows, cols = np.flatnonzero(hole.any(axis=1)), np.flatnonzero(hole.any(axis=0))
    reach = composite_reach(scale) if reach is None else reach
    crop = np.s_[max(0, rows[0] - reach):rows[-1] + 1 + reach, max(0, cols[0] - reach):cols[-1] + 1 + reach]
    hole = hole[crop]
    coherence = copy_coherence(synthesis.match_y[crop], synthesis.match_x[crop], hole, _odd(COHERENCE_WINDOW / scale))
    trust = trust[crop] * (1.0 - near_border(inside[crop], scale) * copy_trust_cut(coherence, scale))
    # The crop holds the whole hole, so its hole pixels are listed in the same order as the box's.
    blend = network_lows_texture_highs(photo[crop], hole, network, synthesis.image[crop], NETWORK_BAND_SIGMA / scale,
                                       trust)
    return blend[hole]


@dataclass
class _Unit:
    """One run of the synthesis: a box of the photo, the regions whose fills guide it (every one overlapping it),
    and those whose hole pixels it fills. The runs of a group of overlapping regions come one after another, each
    seeing the earlier ones' fills as known pixels (never as sources)."""

    box: tuple[int, int, int, int]
    members: list[int]
    writes: list[int] | None  # None: every hole pixel in the box


def _area(box: tuple[int, int, int, int]) -> int:
    return (box[2] - box[0]) * (box[3] - box[1])


def _units(job: TextureJob) -> list[_Unit]:
    """The synthesis's runs for ``job``. Overlapping regions are synthesised together on the box around them all,
    unless they are all thin (tiles of long lines: no hole pixel deeper than THIN_HOLE_HALF_WIDTH network pixels)
    and their own boxes hold fewer pixels than that box: then each region on its own box, in turn. The tiles of a
    line across a photo make the box around them the whole photo, while the stage's cost and memory go with the
    box. A thick hole keeps the whole box: its copies come from further away (on the Bridge photo a 320 px blob
    on the horizon, synthesised on its own region's box grown by 6 times its depth, came back 0.35 dB worse in
    the hole; on its region's box alone, 2.3 dB worse)."""
    boxes = [g.box for g in job.guides]
    units = []
    for members, box in merge_overlapping(boxes):
        thin = all(job.guides[i].thin for i in members)
        if thin and len(members) > 1 and sum(_area(boxes[i]) for i in members) < _area(box):
            units += [_Unit(boxes[i], [j for j in members if overlap(boxes[i], boxes[j])], [i]) for i in members]
        else:
            units.append(_Unit(box, members, None))
    return units


def peak_memory(job: TextureJob) -> int:
    """Bytes the stage will add to the process at its peak: PEAK_BYTES_FIXED, and PEAK_BYTES_PER_BOX_PIXEL and
    PEAK_BYTES_PER_TARGET of a run of the synthesis plus the evidence the runs before it keep
    (EVIDENCE_BYTES_PER_BOX_PIXEL), at the largest of those sums."""
    peaks, kept = [], 0
    for unit in _units(job):
        x0, y0, x1, y1 = unit.box
        hole = np.ascontiguousarray(job.hole[y0:y1, x0:x1]).view(np.uint8)
        targets = np.count_nonzero(cv2.dilate(hole, np.ones((PATCH, PATCH), np.uint8)))
        peaks.append(kept + PEAK_BYTES_PER_BOX_PIXEL * _area(unit.box) + PEAK_BYTES_PER_TARGET * targets)
        kept += EVIDENCE_BYTES_PER_BOX_PIXEL * _area(unit.box)
    return PEAK_BYTES_FIXED + max(peaks, default=0)


def _within(box: tuple[int, int, int, int], inner: tuple[int, int, int, int]
            ) -> tuple[tuple[slice, slice], tuple[slice, slice]] | None:
    """(slices of ``box``, slices of ``inner``) covering the pixels the two boxes share, or None if none."""
    x0, y0 = max(box[0], inner[0]), max(box[1], inner[1])
    x1, y1 = min(box[2], inner[2]), min(box[3], inner[3])
    if x0 >= x1 or y0 >= y1:
        return None
    return ((np.s_[y0 - box[1]:y1 - box[1], x0 - box[0]:x1 - box[0]],
             np.s_[y0 - inner[1]:y1 - inner[1], x0 - inner[0]:x1 - inner[0]]))


def _listed_within(mask: np.ndarray, values: np.ndarray, part: tuple[slice, slice]) -> np.ndarray:
    """The rows of ``values`` (one per set pixel of ``mask``, in ``np.nonzero`` order) whose pixels lie in ``part``
    (a slice of ``mask``), in ``np.nonzero`` order of ``mask[part]``: no whole box of them is laid out to cut."""
    ys, xs = np.nonzero(mask)
    rows, cols = part
    return values[(ys >= rows.start) & (ys < rows.stop) & (xs >= cols.start) & (xs < cols.stop)]


def _guide_over(job: TextureJob, unit: _Unit, photo: np.ndarray) -> np.ndarray:
    """uint8 [h, w, 3] over the unit's box: ``photo`` with each member's fill at the hole pixels it owns."""
    guide = photo.copy()
    for i in unit.members:
        g = job.guides[i]
        shared = _within(unit.box, g.box)
        if shared is not None:
            mine, theirs = shared
            owned = g.owned[theirs]
            guide[mine][owned] = g.fill[theirs][owned]
    return guide


def _attention_starts(job: TextureJob, unit: _Unit) -> np.ndarray:
    """int32 [h, w, 2] over the unit's box: each hole pixel's attention argmax in photo pixels (dy, dx), where
    the synthesis looks first; 0 elsewhere."""
    x0, y0, x1, y1 = unit.box
    starts = np.zeros((y1 - y0, x1 - x0, 2), np.int32)
    for i in unit.members:
        g = job.guides[i]
        shared = _within(unit.box, g.box)
        if shared is not None:
            mine, theirs = shared
            starts[mine][g.owned[theirs]] = _listed_within(g.owned, attention_offsets_in_pixels(g), theirs)
    return starts


def run(job: TextureJob, seed: int, device: str = "cpu", on_round: RoundCallback | None = None
        ) -> tuple[np.ndarray, list[TextureSources]]:
    """(composite uint8 [H, W, 3], evidence per run of the synthesis): the hole filled with the photo's own
    texture. A run with no whole patch of known pixels in its box keeps the network's fill and adds no evidence;
    ``NoSourcePatches`` when no run had one."""
    # (box, the pixels filled there, their values): the composite is made at the end, not beside the synthesis
    fills: list[tuple[tuple[int, int, int, int], np.ndarray, np.ndarray]] = []
    evidence = []
    done = 0.0
    total = max(1, int(job.hole.sum()))
    for unit in _units(job):
        gx0, gy0, gx1, gy1 = unit.box
        photo = job.photo[gy0:gy1, gx0:gx1]
        hole = job.hole[gy0:gy1, gx0:gx1]
        exclude = None if job.exclude is None else job.exclude[gy0:gy1, gx0:gx1]
        # Earlier runs' fills are known pixels here, so this run continues them; they are no sources.
        earlier = [(shared, filled, values) for box, filled, values in fills
                   if (shared := _within(unit.box, box)) is not None]
        before = np.zeros(hole.shape, bool)
        if earlier:
            photo = photo.copy()
            for (mine, theirs), filled, values in earlier:
                photo[mine][filled[theirs]] = _listed_within(filled, values, theirs)
                before[mine] |= filled[theirs]
            hole = hole & ~before
            exclude = before if exclude is None else exclude | before
        if unit.writes is None:
            writes = hole
        else:
            writes = np.zeros(hole.shape, bool)
            for i in unit.writes:
                shared = _within(unit.box, job.guides[i].box)
                if shared is not None:
                    writes[shared[0]] |= job.guides[i].owned[shared[1]]
            writes &= hole
        if not writes.any():
            continue
        share = writes.sum() / total

        def progress(fraction: float, start: float = done, span: float = share) -> None:
            if on_round is not None:
                on_round(start + span * fraction)

        # The network's fill can carry a faint cast of what was removed; level it to the surroundings first, or
        # the synthesis, which starts from it deep in a large hole, matches sources of that cast, and the
        # composite keeps it in its low frequencies. Deep in a large hole its pale blob would start the
        # synthesis on the palest sources of the photo (the sun's glare): there the guide is the surroundings.
        guide = level_colours(photo, _guide_over(job, unit, photo).astype(np.float32), hole)
        scale = min(job.guides[i].scale for i in unit.members)  # network pixels per photo pixel
        features = texture_features(photo, hole)
        inside = depth_in_hole(hole)
        trust = network_trust(features, inside, NETWORK_TRUST_DISTANCE / scale)
        # The estimate deep in a large hole is the trusted guide; the guide term, when on, compares the network's
        # own fill everywhere (with the truth in its place, the trusted guide's membrane cost eval512 strokes
        # 7.04 instead of 6.70 % hole L1 for the copies alone). Off, ``compared`` is not read.
        estimate = trusted_guide(photo, hole, guide, trust)
        # From here on only the network's fill in the hole is read (unless the guide term compares all of it),
        # and the attention's offsets only by the synthesis's first level (it lets them go): neither needs a
        # whole box beside the synthesis's finest level, where the stage's memory peaks.
        network = guide[hole]
        compared = guide if job.settings.compares_guide else None
        del guide
        try:
            result = synthesize(photo, hole, estimate, exclude=exclude, init_offsets=_attention_starts(job, unit),
                                seed=seed, settings=job.settings, device=device, on_round=progress,
                                features=features, compared=compared)
        except NoSourcePatches:
            # Nothing to copy in this box (a fence across it): the network's fill stays there, matched to the
            # photo at its border like a synthesised one; without a copy anywhere, the caller is told why.
            result = None
        del estimate, compared, features
        if result is None:
            blend = network
        else:
            blend = composite_in_hole(photo, hole, network, result, trust, inside, scale)
            copied = writes & (result.source_y >= 0)
            if gx0 or gy0:
                result.source_y += gy0
                result.source_x += gx0
            evidence.append(TextureSources(box=unit.box, source_y=np.where(copied, result.source_y, -1),
                                           source_x=np.where(copied, result.source_x, -1),
                                           patch_dy=result.patch_dy, patch_dx=result.patch_dx))
            del copied
        # The synthesis's whole-box images go before the boundary is matched: on a line across a 20 MP photo
        # with blobs on it, that was the stage's peak memory.
        depth = inside[hole]
        del result, trust, inside
        if before.any():
            # Matched to the photo's own border only: at a join with an earlier run's fill, whatever that run
            # left near its end would be carried into this one.
            joined = hole | before
            values = photo[joined].astype(np.float32)
            values[hole[joined]] = blend
            matched = match_boundary(photo, joined, values, depth_in_hole(joined)[joined])[hole[joined]]
        else:
            matched = match_boundary(photo, hole, blend, depth)
        fills.append((unit.box, writes, np.clip(np.round(matched[writes[hole]]), 0, 255).astype(np.uint8)))
        done += share
    if fills and not evidence:
        raise NoSourcePatches()
    composite = job.photo.copy()
    for (gx0, gy0, gx1, gy1), filled, values in fills:
        composite[gy0:gy1, gx0:gx1][filled] = values
    return composite, evidence
