"""The texture stage: the photo's own pixels copied into the hole, guided by the network's fill.

Guided exemplar synthesis in the classic form (Wexler, Shechtman and Irani, TPAMI 2007), coarse to fine over an
image pyramid that ends at the photo's own resolution. Each level iterates two steps:

1. search: a nearest-neighbour field (NNF) from every patch that overlaps the hole to a patch of known pixels,
   improved PatchMatch-style (Barnes et al. 2009) by propagation from neighbours (jump steps, so it runs in
   parallel for all pixels) and random search around the current match with a halving radius;
2. vote: every hole pixel becomes the weighted mean of what all the patches covering it copy there.

The pyramid is the one of PatchMatch's inpainting: a coarse pixel is known if any photo pixel under it is, so
the hole shrinks level by level, thin strokes vanish, and each level's hole starts from what the known pixels
around it say (interpolated from the level below). The synthesis starts at the coarsest level that still has a
hole, searching against that estimate, so a bar crossing a stroke can be carried through it from both sides
(not always: a pipe crossing a stroke on the Bridge photo still breaks). Deep in a large hole, which outlasts
the pyramid, the estimate is the network's fill.

The vote lets the photo's structure into the hole: a patch that straddles the border matches on its known
pixels and puts their continuation into the hole's first pixels, where the next search starts from it. Between
searches the votes weigh the matches evenly enough that a continuation that most patches agree
on is not outvoted by a few close flat matches. Averaging blurs wherever the field is not coherent, and a blurred
estimate is best matched by flat sources; the texture term below keeps busy sources winning there, and
propagated candidates get a bias (COHERENCE), so a neighbour's continued source wins unless another is clearly
closer, and a source far from its target costs more than a near one (LOCALITY_REACH), so where many fit alike the
hole takes the surface beside it. Each level above the photo's own first
matches every patch on its known pixels alone (raw samples, the hole's masked out of the distance),
so what surrounds the hole picks the first sources, not the smooth estimate inside it: a pipe under a blob and a
wall's courses through a stroke continue. Rounds at the coarser levels (six
each) let the field settle before the finer levels copy from it. After the last search no vote averages:
each hole pixel copies one photo pixel, at the offset most hole pixels around it copy at (a majority filter of
the field, MODE_WINDOW), so the fill is whole pieces of the photo, neither blurred where the field is incoherent
nor speckled; each copy is shifted to the shade around where it lands (VOTE_BIAS_SIGMA), so pieces of a sky's
gradient copied from higher or lower do not leave lighter and darker blocks.

Patches are 15x15 pixels, PatchMatch's size: on the full-resolution photos, where a thin stroke crosses cables
and pipes, they carry the structure through it that 7x7 patches broke. They are compared on every second pixel
(8x8 samples: the time of a 7x7 patch) and on a short descriptor: the projection of those samples on the
level's principal components (most of a patch's energy in 16 of 192 numbers, so a candidate costs one gather of
a row), plus texture features (local mean gradient magnitudes, Newson et al. 2014): in the hole, those
its border predicts. The texture term keeps a busy region busy: without it a flat source of the right colour
matches a textured estimate best, and a knitted scarf comes back as a red smear. A guide term (the blurred
network fill at the patch centre against the blurred photo there) is available and off by default
(``TextureSettings``).

The network guides the start: the estimate deep inside a large hole is its fill, and the NNF starts from the
contextual-attention argmax (the flow), where that points at a valid source; ``texture_stage`` then keeps its
low frequencies where it is trusted. Sources are known pixels outside the exclude mask whose whole patch is
known and outside it too (at the levels above the photo's own, the patch's core: COARSE_SOURCE_CORE): they are
validated at every level, never carried over stale. Known pixels never change. The result
carries, for every hole pixel, the photo pixel it copied (the evidence the inspector and the flow
panel show).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterator

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from .seams import membrane_at

PATCH = 15                 # patch side at every level (PatchMatch's radius 7)
RADIUS = PATCH // 2
PATCH_STEP = 2             # a patch is compared on every second pixel, both ways ...
TAPS = RADIUS * 2 // PATCH_STEP + 1  # ... 8 x 8 samples spanning its 15 x 15 pixels
DESCRIPTOR_SIZE = 16       # principal components kept per patch
PCA_SAMPLES = 4096         # source patches the components are estimated from
COARSEST_THICKNESS = 1.0   # the pyramid halves until the hole is about this many pixels from its border
MIN_LEVEL_SIDE = 24        # ... and never below this many pixels on the box's shorter side
DOWNSAMPLE_TAPS = (1.0, 5.0, 10.0, 10.0, 5.0, 1.0)  # binomial kernel of the masked downsampling (both axes)
JUMPS = (8, 4, 2, 1)       # propagation steps
COARSE_ROUNDS_HOLE = 1 << 16  # hole pixels up to which a level above the photo's own gets iterations_coarse
GUIDE_SIGMA = 4.0          # photo pixels: the blur at which the guide compares colours
FINEST_SEARCH_RADIUS = 8   # random search radius (pixels) at the photo's own resolution; the level's size above
# There, the search moves a source by at most FINEST_SEARCH_RADIUS at random, or to a neighbour's source shifted by
# one of JUMPS, so its descriptor table holds only the source patches within this many pixels of a target, a source
# carried from the level above or a target's nearest allowed source; a candidate beyond is never taken. On a line
# across a photo with a blob on it, the box is the whole photo and the table was a dense 36 bytes a pixel.
SPARSE_SOURCE_REACH = 64
SPARSE_SHARE = 0.8         # ... when those are at most this share of the level (else every pixel, in order: the
                           # row map costs 4 bytes a pixel, a row 36 or more)
COHERENCE = 0.5            # a neighbour's continued source wins unless another is this much closer
# The final image: every hole pixel copies the photo at the offset (source minus target) that most hole pixels
# within a MODE_WINDOW square around it copy at, taken MODE_ROUNDS times (a majority filter of the field; its own
# offset stays unless another is strictly more common). The field is incoherent where many sources fit about as
# well (a fifth of neighbouring hole pixels continue each other's source on eval512 strokes): a vote that averages
# the overlapping patches there blurs, and each pixel's own copy there is single-pixel speckle. The majority
# filter makes it piecewise constant (86 % continuing), so the fill is whole pieces of the photo, as PatchMatch's,
# and every pixel still copies a known, allowed pixel: each round moves a copy at most MODE_WINDOW // 2 from the
# match whose offset it takes, MODE_ROUNDS x MODE_WINDOW // 2 <= RADIUS in all, so it stays inside that (allowed)
# patch. With texture_stage.NETWORK_BAND_SIGMA 1.0, against
# the vote of the 3x3 nearest patches at the tenth quantile with that band at 1.5 (eval512 strokes / eval 256
# centre / 28 512-crops of the large photos): median sharpness 0.41 / 0.27 / 0.49 -> 0.47 / 0.44 / 0.71, GMSD
# 0.098 / 0.258 / 0.0333 -> 0.095 / 0.249 / 0.0321; hole L1 7.33 -> 7.45 % (Telea 7.68), Table-1 L1 2.97 ->
# 3.02 % (Telea 3.08), 2.08 -> 2.14 % (PatchMatch 2.28). Each pixel's own copy instead, at the same band: 7.58 %,
# 3.04 %, 2.16 %, sharpness 0.51 / 0.48 / 0.80, speckled. A prototype on the same fields: window 5 with one round
# 7.50 % at 0.49 on eval512 strokes (70 % continuing).
MODE_WINDOW = 7
MODE_ROUNDS = 2
MODE_CHUNK = 1 << 16       # hole pixels filtered at once: their [chunk, 49] offsets, 25 MB
# Photo pixels: each copy is shifted to the shade of the estimate around where it lands (the estimate blurred over
# this sigma at the target minus the photo blurred alike at the source; bias compensation as in Image Melding,
# without the gain): a piece of sky copied from higher up is as light as the sky it lands in, and a cable's
# neighbours do not leave lighter and darker blocks around it. 512 crops of the large photos with strokes hole L1
# 3.90 -> 3.88 %, PSNR 25.15 -> 25.21 dB, GMSD 0.0678 -> 0.0674 (PatchMatch's), sharpness 0.49 -> 0.48; eval512
# strokes 7.44 -> 7.40 %, 19.42 -> 19.44 dB; eval 256 centre 3.04 -> 3.03 %, 22.10 -> 22.13 dB (measured with the
# earlier final vote). At 3: a little lower L1 still, but GMSD at 256 0.257 -> 0.259 and sharpness 0.01 lower.
VOTE_BIAS_SIGMA = 6.0
ITERATION_VOTE_QUANTILE = 0.5   # the votes between searches: a milder weighting (see _revote)
ITERATION_VOTE_RADIUS = RADIUS  # ... from the patches that cover a pixel,
ITERATION_VOTE_STEP = 3    # ... centred on every third row and column (25 of 225)
TEXTURE_WINDOW = 4.0       # photo pixels: the blur over which gradient magnitudes become texture features
BLUR_BAND_PIXELS = 1 << 19  # filters over a whole box (the texture features, shading, the pyramid) run in bands
                            # of rows of about this many pixels
# Each level above the photo's own weighs the texture features by this factor less than the next finer one. The
# features are the photo's gradient magnitudes at its own resolution at every level, while a coarser level's
# patches are averages in which fine texture cancels: their differences shrink level by level, and at one weight
# the texture term outweighed the patches' look at the coarse levels, where sources were then picked by busy-ness,
# the field came out incoherent and the votes blurred (a rock removed from a meadow of the 8 MP Picos photo came
# back as a smooth green blob: context sharpness 0.35-0.51 for seeds 0-2, with this factor 0.62-0.71). Against one
# weight at every level: eval512 strokes hole L1 7.41 -> 7.40 %, 19.42 -> 19.43 dB, GMSD 0.0976 -> 0.0974; eval 256
# centre Table-1 3.03 -> 3.02 %, 22.13 -> 22.15 dB, GMSD 0.2574 -> 0.2581 (PatchMatch 0.2589); 28 512-crops of the
# large photos 3.88 -> 3.90 %, 25.20 -> 25.16 dB, GMSD 0.0674 -> 0.0681. At 0.25: the meadow 0.68-0.76, eval 256
# GMSD 0.2589 (PatchMatch's); texture weight 1 at every level: the meadow 0.83, but GMSD 0.2611 and 0.0685.
TEXTURE_WEIGHT_DECAY = 0.5
# Levels above the photo's own with at most this many targets (all of a 512 photo's; a 10 MP photo's coarse ones),
# at least this share of them with a known pixel (strokes, lines, small blobs: not a large hole's interior, which
# the network shapes; with it, a 12 MP photo's pedestal became a smooth grey blob), first search this many rounds
# on the known part of each patch (``_KnownPartDistance``), compared on every third pixel (5 x 5 samples: as good
# as 8 x 8 on eval512 and 512 crops of the large photos, in a third of the time), with these propagation steps and
# random candidates. With all four steps and 12 candidates: eval512 strokes 7.38 instead of 7.44 % hole L1, but
# 0.35 s instead of 0.17 s more per 512 fill, which the 1 s budget of the stage did not have.
# Levels above the photo's own: a source patch is allowed when the square of this radius around its centre
# holds no hole or excluded pixel (its outer ring may cover the hole's estimate). With whole patches, a large
# hole's coarse levels had no allowed source near it: on the 12 MP pedestal, at 32 photo pixels a level pixel, a
# 15 px patch spans 480 photo pixels, no whole patch fitted in the strip of meadow between the hole and the hills
# beyond it, and the disc's top came back as a dark pond copied from the hills, its foot as one dark smooth area.
# With radius 6 the foot comes back as the sunlit ground around it and the pond is smaller. eval512 strokes hole
# L1 7.45 -> 7.42 %, 19.51 -> 19.52 dB, GMSD 0.0955 -> 0.0953, sharpness 0.471 -> 0.467; eval 256 centre Table-1
# 3.023 -> 3.014 %, 22.14 -> 22.16 dB. Radius 5: 7.42 % but sharpness 0.446, 256 centre 3.026 %; radius 3: the
# pedestal a smooth blob (context sharpness 0.36). The photo's own level keeps whole patches: every copy in the
# fill is a known, allowed pixel.
COARSE_SOURCE_CORE = 6
# Sources near a target are preferred: a source r level pixels away costs its distance times 1 + (r / reach)^2,
# reach = LOCALITY_REACH x (the target's depth in the hole + LOCALITY_DEPTH) level pixels, so deep in a large hole
# the search looks further. The photo near a hole is the likeliest to continue into it: the same surface, at the
# same distance from the camera (the same grain and focus), in the same light. Without it, a pedestal removed from
# a 12 MP meadow came back with smooth grey patches copied from the shadowed ground far below it. Against no
# locality term, means of seeds 0-2: eval512 strokes hole L1 7.413 -> 7.402 %, 19.51 -> 19.51 dB, median
# sharpness 0.464 -> 0.471; 28 512-crops of the large photos 2.613 -> 2.613 %, 31.62 -> 31.64 dB, sharpness
# 0.690 -> 0.706; eval 256 centre unchanged (hole L1 12.08 %, sharpness 0.44); the four large photos with lines
# and blobs at full size (seed 0) 2.97 -> 2.90 %, 26.60 -> 26.63 dB, sharpness 0.63 -> 0.68 (the Bridge 2.05 ->
# 1.79 %). At 6: sharpness 0.49 at 512 and 0.73 on the crops, the pedestal cleaner still, but on the Bridge a blob
# over the horizon came back as a block of the sand just below it (29.0 -> 27.9 dB, seeds 0-2).
LOCALITY_REACH = 12.0
LOCALITY_DEPTH = 16.0
KNOWN_PART_TARGETS = 1 << 15
KNOWN_PART_SHARE = 0.9
KNOWN_PART_ROUNDS = 2
KNOWN_PART_STEP = 3
KNOWN_PART_JUMPS = (8, 2)
KNOWN_PART_CANDIDATES = 6


@dataclass(frozen=True)
class TextureSettings:
    """How the synthesis trades the network's structure against the photo's texture.

    guide_coarse / guide_fine: weight of the guide term (the guide, halved to each level, against the photo, both
        blurred over GUIDE_SIGMA photo pixels, at the patch centre; 1 = as much as the same colour difference at
        every pixel of the patch) at the coarsest and the finest level; geometric between (linear if either is
        0). Off by default: with today's network it only moves the final fill along the trade between hole L1
        and sharpness that the composite's network band sets (eval512 strokes: off 7.41 % / sharpness 0.45,
        weight 1 7.41 % / 0.44, weight 4 7.55 % / 0.50). It is the way to the sharpness targets once the
        network's fill is closer to the truth: with the truth in the guide's place at weight 4, the copies
        alone (no network band) measure 6.70 % / 20.27 dB / sharpness 0.79 on eval512 strokes and Table-1 L1
        2.25 % / 24.4 dB / 0.80 on eval 256 centre; with a guide a quarter of the way from the network's fill
        to the truth, 7.63 % / 19.21 dB / 0.73 at 512 (Telea 7.68 % / 18.94 dB, PatchMatch 0.63); with the
        network's own, 8.09 % / 18.71 dB / 0.76.
    texture_weight: weight of the texture features (same scale) at the photo's own resolution, TEXTURE_WEIGHT_DECAY
        times less at each coarser level: how strongly a source must be as busy as the hole's border says the hole
        is.
    iterations_coarse / iterations_fine: search + vote rounds at every level above the photo's own resolution
        whose hole has at most COARSE_ROUNDS_HOLE pixels, and at the others.
    random_candidates: random-search samples per round, at radii halving from the level's size to 1 (at most
        one per radius).
    """

    guide_coarse: float = 0.0
    guide_fine: float = 0.0
    texture_weight: float = 4.0
    iterations_coarse: int = 6
    iterations_fine: int = 2
    random_candidates: int = 12

    @property
    def compares_guide(self) -> bool:
        """Whether the guide term counts at any level."""
        return self.guide_coarse > 0 or self.guide_fine > 0


class NoSourcePatches(ValueError):
    """No whole patch of the photo lies outside the hole and the excluded area (a fence or specks all over it, a
    photo hardly larger than a patch): the synthesis has nothing to copy from."""

    def __init__(self) -> None:
        super().__init__(f"The texture stage has no {PATCH} x {PATCH} patch of the photo outside the hole and the "
                         "excluded area to copy from. Fill part of the mask at a time.")


@dataclass
class Synthesis:
    """What the texture stage produced for one box of the photo.

    image: float32 [H, W, 3] in 0..255, the box with its hole filled (known pixels as given).
    source_y, source_x: int32 [H, W], the box pixel each hole pixel was copied from; -1 outside the hole.
    match_y, match_x: int32 [H, W], the centre of the patch the search matched to each hole pixel's own patch
        (before the majority filter made the copies coherent); -1 outside the hole.
    patch_dy, patch_dx: int8 [H, W], from each hole pixel's source to the centre of a whole allowed patch that
        holds it (the patch matched where its copy's offset came from; within MODE_ROUNDS x MODE_WINDOW // 2 <
        RADIUS); 0 outside the hole.
    """

    image: np.ndarray
    source_y: np.ndarray
    source_x: np.ndarray
    match_y: np.ndarray
    match_x: np.ndarray
    patch_dy: np.ndarray
    patch_dx: np.ndarray


@dataclass
class _Level:
    photo: torch.Tensor      # [3, H + 2R, W + 2R] float32, padded by edge replication; the hole holds the estimate
    low: torch.Tensor | None  # [3, H + 2R, W + 2R] blurred photo outside the hole, blurred guide inside; None
                              # when the guide term is off
    texture: torch.Tensor    # [2, H + 2R, W + 2R] texture features; in the hole, those its border predicts
    valid: torch.Tensor      # bool [H + 2R, W + 2R]: allowed source patch centres
    allowed: torch.Tensor    # int32 [S] the allowed source centres as flat indices (random candidates, PCA samples)
    index: torch.Tensor      # int64 [H + 2R, W + 2R]: target number at a target patch centre, -1 elsewhere
    ty: torch.Tensor         # int64 [N] target patch centres: every patch that overlaps the hole (padded coords)
    tx: torch.Tensor
    hy: torch.Tensor         # int64 [M] hole pixels (padded coordinates)
    hx: torch.Tensor
    reach: torch.Tensor      # float32 [N] per target: how far its sources may lie before they cost more (_locality)
    scale: int               # photo pixels per level pixel

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.photo.shape[1]), int(self.photo.shape[2])


# -- pyramid ---------------------------------------------------------------------------------------------------------
def _blur_radius(sigma: float) -> int:
    """Pixels the taps of ``_blur`` reach on each side."""
    return max(1, int(math.ceil(2.5 * sigma)))


def _row_bands(h: int, w: int, reach: int) -> Iterator[tuple[int, int, int, int]]:
    """(top, bottom, lo, hi): ``h`` rows of ``w`` pixels in bands of about BLUR_BAND_PIXELS (rows top..bottom),
    each with the ``reach`` rows a filter reads on either side (lo..hi, within the image)."""
    band = max(reach, BLUR_BAND_PIXELS // w)
    for top in range(0, h, band):
        bottom = min(top + band, h)
        yield top, bottom, max(0, top - reach), min(h, bottom + reach)


def _blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of [C, H, W] with edge replication, taps out to 2.5 sigma."""
    radius = _blur_radius(sigma)
    if x.device.type == "cpu":
        # OpenCV's separable filter, the same taps and border: ten times faster than grouped conv2d on the CPU
        # (0.05 vs 0.57 s for a 4 MP colour level).
        planes = cv2.GaussianBlur(x.permute(1, 2, 0).contiguous().numpy(), (2 * radius + 1,) * 2, sigma,
                                  borderType=cv2.BORDER_REPLICATE)
        return torch.from_numpy(planes.reshape(*x.shape[1:], -1)).permute(2, 0, 1).contiguous()
    return _blur_conv(x, sigma, radius)


def _blur_conv(x: torch.Tensor, sigma: float, radius: int) -> torch.Tensor:
    """``_blur`` as two grouped convolutions: on any device (a GPU's path)."""
    taps = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    kernel = torch.exp(-0.5 * (taps / sigma) ** 2)
    kernel = kernel / kernel.sum()
    c = x.shape[0]
    y = F.pad(x[None], (radius, radius, radius, radius), mode="replicate")
    y = F.conv2d(y, kernel.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    y = F.conv2d(y, kernel.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)
    return y[0]


def _pad(x: torch.Tensor, value: float | None = None) -> torch.Tensor:
    """Pad the last two dimensions by RADIUS: edge replication, or a constant."""
    if value is None:
        return F.pad(x[None].float(), (RADIUS,) * 4, mode="replicate")[0]
    return F.pad(x, (RADIUS,) * 4, value=value)


def depth_in_hole(hole: np.ndarray) -> np.ndarray:
    """float32 [H, W]: each hole pixel's distance to the nearest known pixel (photo pixels); 0 outside."""
    return cv2.distanceTransform(hole.astype(np.uint8), cv2.DIST_L2, 3)


def _level_count(hole: np.ndarray) -> int:
    """Levels so that halving alone would bring the hole's deepest pixel within COARSEST_THICKNESS pixels of its
    border; the shrinking pyramid's kernel closes thin strokes sooner, and levels left without a hole are skipped."""
    thickness = float(depth_in_hole(hole).max())
    levels = 1 + max(0, int(math.ceil(math.log2(max(thickness, 1.0) / COARSEST_THICKNESS))))
    side = min(hole.shape)
    while levels > 1 and side / 2 ** (levels - 1) < MIN_LEVEL_SIDE:
        levels -= 1
    return levels


def _texture_features(photo: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    """[2, H, W]: mean |d/dx| and |d/dy| of the grey photo over TEXTURE_WINDOW (Newson et al. 2014), from known
    pixel pairs only; in the hole, interpolated from its border (what texture the surroundings say belongs there).

    They tell a knitted scarf from a flat patch of the same red, which the colours alone do not: matched against
    a blurred estimate, flat sources always look closest, and the fill drifts into a smear."""
    h, w = hole.shape
    filled = np.empty((h, w, 2), np.float32)
    sure = np.empty((h, w), bool)
    # In bands of rows, each with the blur's reach of rows around it: a dozen whole-box temporaries of the same
    # sums were a gigabyte of fresh pages on a 10 MP box, the stage's largest allocation there.
    for top, bottom, lo, hi in _row_bands(h, w, _blur_radius(TEXTURE_WINDOW)):
        sums = _blur(_gradient_sums(photo[:, lo:min(h, hi + 1)], hole[lo:min(h, hi + 1)], hi - lo),
                     TEXTURE_WINDOW)[:, top - lo:bottom - lo]
        features = sums[:2] / sums[2:].clamp(min=1e-3)
        sure[top:bottom] = (sums[2:].min(dim=0).values > 0.5).cpu().numpy()
        filled[top:bottom] = features.permute(1, 2, 0).cpu().numpy()
    ys, xs = np.nonzero(~sure)
    filled[ys, xs] = membrane_at(filled, sure.astype(np.float32), ys, xs)
    return torch.from_numpy(filled).to(photo.device).permute(2, 0, 1).contiguous()


def _gradient_sums(photo: torch.Tensor, hole: torch.Tensor, rows: int) -> torch.Tensor:
    """[4, rows, W]: |d/dx|, |d/dy| of the grey ``photo`` ([3, R, W], R = ``rows`` or one more: the row below,
    for the last row's d/dy) where both pixels of the pair are known (0 elsewhere), and whether they are."""
    grey = photo.mean(dim=0)
    known = (~hole).float()
    gx = F.pad((grey[:, 1:] - grey[:, :-1]).abs() * known[:, 1:] * known[:, :-1], (0, 1))[:rows]
    gy = F.pad((grey[1:] - grey[:-1]).abs() * known[1:] * known[:-1], (0, 0, 0, 1))[:rows]
    wx = F.pad(known[:, 1:] * known[:, :-1], (0, 1))[:rows]
    wy = F.pad(known[1:] * known[:-1], (0, 0, 0, 1))[:rows]
    return torch.stack([gx, gy, wx, wy])


def texture_features(photo: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """float32 [H, W, 2]: the texture features ``synthesize`` compares (mean |d/dx|, |d/dy| of the grey photo, in
    grey levels per pixel; in the hole, what its border predicts), for callers that need them too."""
    photo_t = torch.from_numpy(np.ascontiguousarray(photo, dtype=np.float32)).permute(2, 0, 1).contiguous()
    features = _texture_features(photo_t, torch.from_numpy(np.ascontiguousarray(hole, dtype=bool)))
    return features.permute(1, 2, 0).numpy()


def _make_level(parts: list[torch.Tensor], scale: int, guide: torch.Tensor | None = None) -> _Level:
    """One pyramid level from ``parts``: [the photo with its estimate in the hole, the hole, blocked (hole |
    exclude), the texture features], taken out of the list (it is left empty), so each goes once its padded copy
    is made (a whole box of the photo beside its copy was the stage's peak memory); ``guide``: the photo with the
    guide in its hole at this level's size, when the guide term is compared here (its blurred colours are made
    only then)."""
    photo, hole, blocked, texture = parts
    parts.clear()
    device = photo.device
    # The guide compares colours blurred over GUIDE_SIGMA photo pixels, the scale at which the network's fill is
    # right; finer, a flat network fill would penalise every textured source and the result would be flat too.
    low = _pad(_blur(guide, max(0.5, GUIDE_SIGMA / scale))) if guide is not None else None
    photo = _pad(photo)
    texture = _pad(texture)
    hole_p = _pad(hole, False)
    blocked_p = _pad(blocked, True)  # the pad ring is no source
    touched = _within_patch(blocked_p, PATCH if scale == 1 else 2 * COARSE_SOURCE_CORE + 1)
    # Targets are all patches that overlap the hole, also those centred on known pixels next to it: their
    # matches must agree with the known pixels they cover, and their votes carry that into the hole's border.
    near = _within_patch(hole_p)
    near[:RADIUS], near[-RADIUS:], near[:, :RADIUS], near[:, -RADIUS:] = False, False, False, False
    ty, tx = torch.nonzero(near, as_tuple=True)
    index = torch.full(hole_p.shape, -1, dtype=torch.int64, device=device)
    index[ty, tx] = torch.arange(ty.numel(), device=device)
    hy, hx = torch.nonzero(hole_p, as_tuple=True)
    valid = ~touched
    del touched
    depth = torch.from_numpy(depth_in_hole(hole_p.cpu().numpy())).to(device)[ty, tx]
    return _Level(photo=photo, low=low, texture=texture, valid=valid, allowed=_flat_indices(valid),
                  index=index, ty=ty, tx=tx, hy=hy, hx=hx, reach=LOCALITY_REACH * (depth + LOCALITY_DEPTH),
                  scale=scale)


def _flat_indices(m: torch.Tensor) -> torch.Tensor:
    """int32 [S]: the flat indices of ``m``'s set pixels, ascending: one list, not a (row, column) pair, in half
    the bytes of int64 (any photo imageio reads has fewer pixels than int32 counts), found in bands of rows (a
    whole level's int64 positions were 8 bytes a pixel)."""
    flat = m.reshape(-1)
    band = max(1, BLUR_BAND_PIXELS // m.shape[1]) * m.shape[1]
    return torch.cat([torch.nonzero(flat[start:start + band]).squeeze(1).add_(start).to(torch.int32)
                      for start in range(0, len(flat), band)])


def _within_patch(m: torch.Tensor, side: int = PATCH) -> torch.Tensor:
    """bool: pixels whose ``side`` x ``side`` square (odd side; a patch by default) holds a set pixel of ``m``."""
    if m.device.type == "cpu":  # OpenCV's dilation: a twentieth of max_pool2d's time on a 4 MP level
        grown = cv2.dilate(np.ascontiguousarray(m.numpy()).view(np.uint8), np.ones((side, side), np.uint8))
        return torch.from_numpy(grown.view(bool))
    return _within_patch_pooled(m, side)


def _within_patch_pooled(m: torch.Tensor, side: int = PATCH) -> torch.Tensor:
    """``_within_patch`` as two 1-D max pools: on any device (a GPU's path)."""
    x = m[None, None].float()
    x = F.max_pool2d(x, (1, side), stride=1, padding=(0, side // 2))
    return F.max_pool2d(x, (side, 1), stride=1, padding=(side // 2, 0))[0, 0] > 0


def _downsample(x: torch.Tensor) -> torch.Tensor:
    """2x2 box average of [C, H, W] (odd edges replicated first)."""
    h, w = x.shape[-2:]
    if h % 2 or w % 2:  # padded only then: a copy of a whole box otherwise
        x = F.pad(x[None], (0, w % 2, 0, h % 2), mode="replicate")[0]
    return F.avg_pool2d(x[None], 2)[0]


def _downsample_mask(m: torch.Tensor) -> torch.Tensor:
    """A coarse pixel is set if any photo pixel under it is (a hole pixel never counts as known)."""
    h, w = m.shape
    m = F.pad(m[None, None].float(), (0, w % 2, 0, h % 2))
    return F.max_pool2d(m, 2)[0, 0] > 0


def _masked_downsample(photo: torch.Tensor, known: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """([3, H/2, W/2] the binomial-weighted mean of the known photo pixels under each coarse pixel, bool
    [H/2, W/2] whether any is known); sizes rounded down, coarse pixel i centred between photo pixels 2i, 2i+1."""
    weights = known.to(photo.dtype)[None]
    pad = len(DOWNSAMPLE_TAPS) // 2 - 1
    h, w = known.shape
    rows = (h + 2 * pad - len(DOWNSAMPLE_TAPS)) // 2 + 1
    sums = torch.empty(4, rows, (w + 2 * pad - len(DOWNSAMPLE_TAPS)) // 2 + 1, dtype=photo.dtype, device=photo.device)
    # In bands of coarse rows, each from the photo rows under it (edge rows replicated): the padded, weighted
    # copy of a whole 10 MP box and its first pass were 0.6 GB of fresh pages.
    band = max(1, BLUR_BAND_PIXELS // (2 * w))
    for top in range(0, rows, band):
        bottom = min(top + band, rows)
        under = torch.arange(2 * top - pad, 2 * bottom + len(DOWNSAMPLE_TAPS) - 2 - pad, device=photo.device)
        under.clamp_(0, h - 1)
        part, part_weights = photo.index_select(1, under), weights.index_select(1, under)
        stacked = F.pad(torch.cat([part.mul_(part_weights), part_weights]), (pad, pad), mode="replicate")
        # The separable kernel as weighted sums of strided views, one axis at a time: a 4-channel conv2d was
        # reordered by oneDNN on AVX-512 CPUs into 16-channel blocks, a transient of four times its input (+340 MB
        # on a 4 MP box, the texture stage's peak memory there).
        sums[:, top:bottom] = _strided_taps(_strided_taps(stacked, 2), 1)
    return sums[:3] / sums[3:].clamp(min=1e-12), sums[3] > 0


def _strided_taps(x: torch.Tensor, dim: int) -> torch.Tensor:
    """DOWNSAMPLE_TAPS applied along ``dim`` of ``x`` at every second position (a valid, stride-2 correlation):
    output i is the taps' sum over inputs 2i .. 2i + len(taps) - 1."""
    count = (x.shape[dim] - len(DOWNSAMPLE_TAPS)) // 2 + 1
    total = torch.zeros(*x.shape[:dim], count, *x.shape[dim + 1:], dtype=x.dtype, device=x.device)
    for k, tap in enumerate(DOWNSAMPLE_TAPS):
        total.add_(x.narrow(dim, k, 2 * count - 1)[(slice(None),) * dim + (slice(None, None, 2),)], alpha=tap)
    return total


def _shrinking_pyramid(photo: torch.Tensor, hole: torch.Tensor, blocked: torch.Tensor, features: torch.Tensor,
                       levels: int) -> list[list[torch.Tensor]]:
    """[[photo, hole, blocked, features]] from the photo's resolution down, each level half the last.

    As in PatchMatch's inpainting (after Wexler et al.), a coarse pixel is known if any photo pixel under its
    kernel is, and then averages only those: the hole shrinks level by level and thin strokes vanish. Each
    level's hole then starts from the next coarser level's values, interpolated: a bar crossing a stroke is
    continued through it by its known parts on both sides, where a copy of the network's smooth fill broke it.
    Deep inside a large hole, which outlasts the pyramid, the values given in the hole (the guide) remain.
    Excluded pixels stay excluded at every level they touch. ``photo``'s hole is overwritten (its copy at the
    photo's resolution is the finest level)."""
    pyramid = [[photo, hole, blocked, features]]
    for _ in range(levels - 1):
        p, m, b, t = pyramid[-1]
        known_mean, known = _masked_downsample(p, ~m)
        coarse_hole = ~known
        h, w = coarse_hole.shape
        coarse_blocked = coarse_hole | _downsample_mask(b & ~m)[:h, :w]
        estimate = torch.where(coarse_hole[None], _downsample(p)[:, :h, :w], known_mean)
        pyramid.append([estimate, coarse_hole, coarse_blocked, _downsample(t)[:, :h, :w]])
    for depth in reversed(range(levels - 1)):
        p, m, b, t = pyramid[depth]
        coarser = F.interpolate(pyramid[depth + 1][0][None], size=tuple(m.shape), mode="bilinear",
                                align_corners=False)[0]
        pyramid[depth] = [torch.where(m[None], coarser, p, out=p), m, b, t]  # in place: the caller's photo too
    return pyramid


def _guide_pyramid(guided: torch.Tensor, shapes: list[tuple[int, int]]) -> list[torch.Tensor | None]:
    """The photo with the guide in its hole (``guided``, [3, H, W]) halved to each of the pyramid's ``shapes``
    (2x2 box averages): what the guide term compares, at every level."""
    levels: list[torch.Tensor | None] = [guided]
    for h, w in shapes[1:]:
        levels.append(_downsample(levels[-1])[:, :h, :w])
    return levels


def _level_weight(coarse: float, fine: float, fraction: float) -> float:
    """A weight ``fraction`` of the way from the finest level (0) to the coarsest (1): geometric between two
    positive weights, linear when either is 0."""
    if coarse > 0 and fine > 0:
        return fine * (coarse / fine) ** fraction
    return fine + (coarse - fine) * fraction


# -- patch descriptors ------------------------------------------------------------------------------------------
def _patch_offsets(device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    d = torch.arange(-RADIUS, RADIUS + 1, PATCH_STEP, device=device)
    dy, dx = torch.meshgrid(d, d, indexing="ij")
    return dy.reshape(-1), dx.reshape(-1)


def _samples_at(image: torch.Tensor, centres: torch.Tensor, shifts: torch.Tensor) -> torch.Tensor:
    """[3, N, S]: the colours of [3, H, W] ``image`` at each flat pixel index of ``centres`` plus each of the S flat
    ``shifts`` (one index_select: twice as fast as fancy indexing on the CPU)."""
    return torch.index_select(image.reshape(3, -1), 1, (centres[:, None] + shifts).view(-1)).view(3, len(centres), -1)


def _patches_at(image: torch.Tensor, y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """[N, 3 * TAPS * TAPS] colour patches centred at (y, x), sampled every PATCH_STEP pixels (channel-major,
    like conv2d's weight layout)."""
    dy, dx = _patch_offsets(image.device)
    w = image.shape[2]
    return _samples_at(image, y * w + x, dy * w + dx).permute(1, 0, 2).reshape(len(y), -1)


def _principal_basis(level: _Level, generator: torch.Generator) -> torch.Tensor:
    """[DESCRIPTOR_SIZE, 3 * TAPS * TAPS]: the leading principal components of the level's source patches."""
    count = len(level.allowed)
    pick = torch.randint(count, (min(PCA_SAMPLES, count),), generator=generator, device=level.allowed.device)
    samples = _patches_at(level.photo, *_allowed_at(level, pick)).double()
    samples -= samples.mean(dim=0)
    _, vectors = torch.linalg.eigh(samples.T @ samples)
    return vectors[:, -DESCRIPTOR_SIZE:].T.contiguous().float()


DISTANCE_CHUNK = 1 << 18   # target patches compared at once: 22 MB of gathered descriptors (as float32)
LINE_CHUNK = 1 << 12       # target patches gathered at once to be projected: 3 MB, cache-sized
# A convolution over the targets' bounding box costs about a fifth of gathering a target's patch per pixel.
DENSE_BOX_RATIO = 4.0


class _Descriptors:
    """Descriptors of the source patches (once per level: every one, or those in ``reach``) and of the hole's
    patches (after every vote)."""

    def __init__(self, level: _Level, basis: torch.Tensor, guide_weight: float, texture_weight: float,
                 reach: torch.Tensor | None = None) -> None:
        """``reach``: bool [H, W] (padded level coordinates), the only source centres whose distance may be asked
        for (``_reachable``); a candidate elsewhere is as far as an invalid one. None: every pixel."""
        self.level, self.basis = level, basis
        # The guide and the texture features are compared per channel at the patch centre, scaled so that at
        # weight 1 a difference there counts as much as the same difference at every sample of the patch.
        self.guide = math.sqrt(guide_weight * TAPS * TAPS)
        self.texture = math.sqrt(texture_weight * TAPS * TAPS)
        # The guide's three columns only when it counts (it is off by default): every comparison then gathers
        # 18 values, not 21 of which 3 are zero.
        if guide_weight > 0 and level.low is None:
            raise ValueError("the guide term needs a level made with a guide")
        self.width = DESCRIPTOR_SIZE + 2 + (3 if guide_weight > 0 else 0)
        # One row of ``width`` values per pixel, written in place: in channels-last layout the convolution's output
        # is already pixel-major (a third of the time of a plain conv2d, transposed and concatenated, on a 4 MP
        # level).
        self.kernel = basis.view(DESCRIPTOR_SIZE, 3, TAPS, TAPS).contiguous(memory_format=torch.channels_last)
        h, w = level.shape
        pixels = h * w
        # Stored in half precision: the table is the stage's peak memory (0.37 GB instead of 0.74 on a 10 MP box;
        # the Bridge with lines across it peaked 0.34-0.40 GB lower). Its values stay under about 2,500 (colours
        # 0..255 projected on unit vectors), where float16's rounding is at most 1, under 1 % of a typical best
        # match's squared distance; the comparison itself is in float32. Fills then differ as another seed's do:
        # eval512 strokes 7.40 -> 7.41 % / 19.43 -> 19.42 dB, eval 256 centre Table-1 3.02 % / 22.15 dB as before.
        device = level.photo.device
        # The table's row of each level pixel (int32: any photo imageio reads has fewer pixels), -1 for none; None
        # when every pixel has its own row, in order.
        self.rows: torch.Tensor | None = None
        listed = None
        if reach is not None:
            listed = _flat_indices(reach)
            self.rows = torch.full((pixels,), -1, dtype=torch.int32, device=device)
            self.rows[listed.long()] = torch.arange(len(listed), dtype=torch.int32, device=device)
        self.sources = torch.empty(pixels if listed is None else len(listed), self.width, dtype=torch.float16,
                                   device=device)
        # In bands of rows, each convolved with its RADIUS rows above and below (zeros beyond the level, as a
        # padded convolution of the whole level): the dense output of a whole 10 MP level (0.7 GB) never exists
        # beside the table, which was the texture stage's peak memory. With ``reach``, each band only between its
        # first and last column in reach, and kept at those pixels alone.
        band = max(1, DISTANCE_CHUNK // w)
        texture = level.texture.reshape(2, pixels)
        low = level.low.reshape(3, pixels) if self.width > DESCRIPTOR_SIZE + 2 else None
        for top in range(0, h, band):
            bottom = min(top + band, h)
            if listed is None:
                at, first, last, x0, x1 = None, top * w, bottom * w, 0, w
            else:
                first, last = (int(i) for i in torch.searchsorted(
                    listed, torch.tensor([top * w, bottom * w], dtype=torch.int32, device=device)))
                if first == last:
                    continue
                at = listed[first:last].long()
                cols = at % w
                x0, x1 = int(cols.min()), int(cols.max()) + 1
            projections = self._band_projections(top, bottom, x0, x1)
            if at is not None:  # the band's projections are row-major over its rows and columns x0..x1
                projections = torch.index_select(projections, 0, (at // w - top) * (x1 - x0) + cols - x0)
            pixels_here = slice(top * w, bottom * w) if at is None else at
            self.sources[first:last, :DESCRIPTOR_SIZE] = projections
            self.sources[first:last, DESCRIPTOR_SIZE:DESCRIPTOR_SIZE + 2] = (self.texture * texture[:, pixels_here]).T
            if low is not None:
                self.sources[first:last, DESCRIPTOR_SIZE + 2:] = (self.guide * low[:, pixels_here]).T
        self.targets = self.hole_descriptors()

    def hole_descriptors(self) -> torch.Tensor:
        """[N, width] descriptors of the target patches, from the current estimate."""
        lv = self.level
        w = lv.shape[1]
        centres = lv.ty * w + lv.tx
        targets = torch.empty(len(centres), self.width, dtype=lv.photo.dtype, device=lv.photo.device)
        targets[:, :DESCRIPTOR_SIZE] = self._projections()
        texture = torch.index_select(lv.texture.reshape(2, -1), 1, centres)
        targets[:, DESCRIPTOR_SIZE:DESCRIPTOR_SIZE + 2] = (self.texture * texture).T
        if self.width > DESCRIPTOR_SIZE + 2:
            low = torch.index_select(lv.low.reshape(3, -1), 1, centres)
            targets[:, DESCRIPTOR_SIZE + 2:] = (self.guide * low).T
        return targets

    def _band_projections(self, top: int, bottom: int, x0: int, x1: int) -> torch.Tensor:
        """[(bottom - top) * (x1 - x0), DESCRIPTOR_SIZE] the projections of the patches centred in rows top..bottom,
        columns x0..x1 (row-major): one convolution of that band with the RADIUS pixels around it, zeros beyond
        the level (as a padded convolution of the whole level)."""
        h, w = self.level.shape
        above, below = max(0, top - RADIUS), min(h, bottom + RADIUS)
        left, right = max(0, x0 - RADIUS), min(w, x1 + RADIUS)
        band = F.pad(self.level.photo[None, :, above:below, left:right],
                     (RADIUS - (x0 - left), RADIUS - (right - x1), RADIUS - (top - above), RADIUS - (below - bottom)))
        dense = F.conv2d(band.contiguous(memory_format=torch.channels_last), self.kernel, dilation=PATCH_STEP)
        return dense[0].permute(1, 2, 0).reshape(-1, DESCRIPTOR_SIZE)

    def _projections(self) -> torch.Tensor:
        """[N, DESCRIPTOR_SIZE] the target patches' projections on the basis.

        Where the targets fill most of their bounding box (a blob), a convolution over the box in bands of
        DISTANCE_CHUNK pixels, gathered at the targets (a quarter of the time on the pedestal's 0.8 M targets);
        where they are thin lines across it (cables), the targets' patches gathered LINE_CHUNK at a time and
        projected by one matrix product (a third of the time of 64 [3, chunk] gathers and rank-3 updates on
        0.5 M targets along four cables of a 10 MP photo)."""
        lv = self.level
        w = lv.shape[1]
        ty, tx = lv.ty, lv.tx  # row-major, as nonzero lists them
        y0, y1 = int(ty[0]), int(ty[-1]) + 1
        x0, x1 = int(tx.min()), int(tx.max()) + 1
        out = torch.empty(len(ty), DESCRIPTOR_SIZE, dtype=lv.photo.dtype, device=lv.photo.device)
        if (y1 - y0) * (x1 - x0) < DENSE_BOX_RATIO * len(ty):
            band = max(1, DISTANCE_CHUNK // (x1 - x0))
            for top in range(y0, y1, band):
                bottom = min(top + band, y1)
                first, last = (int(i) for i in torch.searchsorted(ty, torch.tensor([top, bottom], device=ty.device)))
                rows = self._band_projections(top, bottom, x0, x1)
                out[first:last] = torch.index_select(rows, 0, (ty[first:last] - top) * (x1 - x0) + tx[first:last] - x0)
            return out
        centres = ty * w + tx
        dys, dxs = _patch_offsets(centres.device)
        shifts = dys * w + dxs  # once, not per chunk as _patches_at would
        for start in range(0, len(centres), LINE_CHUNK):
            at = centres[start:start + LINE_CHUNK]
            patches = _samples_at(lv.photo, at, shifts).permute(1, 0, 2).reshape(len(at), -1)
            torch.mm(patches, self.basis.T, out=out[start:start + len(at)])
        return out

    def distance(self, sy: torch.Tensor, sx: torch.Tensor) -> torch.Tensor:
        """Squared descriptor distance from each hole patch to the source patches at (sy, sx); inf if invalid."""
        lv = self.level
        h, w = lv.shape
        sy, sx = sy.clamp(0, h - 1), sx.clamp(0, w - 1)
        flat = sy * w + sx
        allowed = torch.index_select(lv.valid.reshape(-1), 0, flat)
        row = flat
        if self.rows is not None:
            row = torch.take(self.rows, flat)
            allowed &= row >= 0
            row = row.clamp_(min=0).long()
        d = torch.empty(len(flat), dtype=self.targets.dtype, device=flat.device)
        # index_select, not fancy indexing: the same rows, gathered twice as fast on the CPU; in chunks, each
        # reusing the last one's pages (see VOTE_CHUNK)
        for start in range(0, len(flat), DISTANCE_CHUNK):
            part = slice(start, start + DISTANCE_CHUNK)
            rows = torch.index_select(self.sources, 0, row[part]).float().sub_(self.targets[part])
            torch.sum(rows.square_(), dim=1, out=d[part])
        return _locality(lv, sy, sx, d).masked_fill_(~allowed, math.inf)


class _KnownPartDistance:
    """Squared differences over the known pixels of each target patch alone, on the raw samples (not the
    descriptors): the distance a level's first search uses.

    At a level's start the hole holds only a smooth estimate, and matched against it the first sources are smooth
    too (a brick wall's courses came back as a grey smudge through a stroke); matched on what surrounds the hole
    alone, they continue it. The distance is the mean over the known samples; a target with none is infinitely
    far from every source, so it keeps its match and does not vote. ``level`` and ``distance`` are what
    ``_search`` asks of ``_Descriptors``."""

    def __init__(self, level: _Level, shifts: torch.Tensor, known: torch.Tensor) -> None:
        self.level, self.shifts, self.known = level, shifts, known
        self.known_count = known.sum(dim=1)
        self.samples = _samples_at(level.photo, level.ty * level.shape[1] + level.tx, shifts)  # [3, N, samples]

    @classmethod
    def if_known(cls, level: _Level, share: float) -> _KnownPartDistance | None:
        """The distance for ``level`` when at least ``share`` of its targets have a known sample, else None
        (decided before any sample is gathered)."""
        h, w = level.shape
        d = torch.arange(-(RADIUS // KNOWN_PART_STEP) * KNOWN_PART_STEP, RADIUS + 1, KNOWN_PART_STEP,
                         device=level.ty.device)
        dys, dxs = (g.reshape(-1) for g in torch.meshgrid(d, d, indexing="ij"))
        shifts = dys * w + dxs
        hole = torch.zeros(h * w, dtype=torch.bool, device=level.ty.device)
        hole[level.hy * w + level.hx] = True
        known = (~torch.take(hole, (level.ty * w + level.tx)[:, None] + shifts)).to(level.photo.dtype)  # [N, samples]
        if float((known.amax(dim=1) > 0).float().mean()) < share:
            return None
        return cls(level, shifts, known)

    def distance(self, sy: torch.Tensor, sx: torch.Tensor) -> torch.Tensor:
        lv = self.level
        h, w = lv.shape
        # Out of range is never allowed: clamped, it lands in the blocked pad ring. Gathered patches stay inside.
        allowed = torch.take(lv.valid, sy.clamp(0, h - 1) * w + sx.clamp(0, w - 1))
        flat = sy.clamp(RADIUS, h - 1 - RADIUS) * w + sx.clamp(RADIUS, w - 1 - RADIUS)
        d = torch.empty(len(flat), dtype=lv.photo.dtype, device=flat.device)
        for start in range(0, len(flat), LINE_CHUNK):
            part = slice(start, start + LINE_CHUNK)
            squares = _samples_at(lv.photo, flat[part], self.shifts).sub_(self.samples[:, part]).square_().sum(dim=0)
            torch.sum(squares.mul_(self.known[part]), dim=1, out=d[part])
        d.div_(self.known_count)  # 0 / 0 where no sample is known: NaN, made infinite below
        return _locality(lv, sy, sx, d).masked_fill_(~allowed | ~(self.known_count > 0), math.inf)


def _locality(level: _Level, sy: torch.Tensor, sx: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
    """``d`` (each target's distance to its candidate source at (sy, sx)) times 1 + (r / reach)^2, r the
    candidate's distance from the target (LOCALITY_REACH), in place."""
    r2 = (sy - level.ty).square_().add_((sx - level.tx).square_()).to(d.dtype)
    return d.mul_(r2.div_(level.reach.square()).add_(1.0))


# -- search and vote --------------------------------------------------------------------------------------------
def _allowed_at(level: _Level, pick: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(rows, columns) of the allowed source centres numbered ``pick``."""
    flat = level.allowed[pick].long()
    w = level.shape[1]
    return torch.div(flat, w, rounding_mode="floor"), flat % w


def _reachable(level: _Level, *centres: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor | None:
    """bool [H, W] (padded level coordinates): the allowed source centres within SPARSE_SOURCE_REACH pixels of a
    target or of one of the ``centres`` ((rows, columns) pairs); None where they are over SPARSE_SHARE of the
    level's pixels."""
    seeds = torch.zeros(level.shape, dtype=torch.bool, device=level.valid.device)
    for ys, xs in ((level.ty, level.tx), *centres):
        seeds[ys, xs] = True
    reach = _within_patch(seeds, 2 * SPARSE_SOURCE_REACH + 1) & level.valid
    if int(reach.sum()) > SPARSE_SHARE * seeds.numel():
        return None
    return reach


def _random_valid(level: _Level, count: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    pick = torch.randint(len(level.allowed), (count,), generator=generator, device=level.allowed.device)
    return _allowed_at(level, pick)


def _nearest_valid(level: _Level) -> tuple[torch.Tensor, torch.Tensor]:
    """Each target's nearest allowed source centre (padded level coordinates)."""
    valid = level.valid.cpu().numpy()
    _, label = cv2.distanceTransformWithLabels((~valid).view(np.uint8), cv2.DIST_L2, 5,
                                               labelType=cv2.DIST_LABEL_PIXEL)
    # Labels number the allowed pixels in row-major order, from 1; read at the targets only.
    nearest = np.flatnonzero(valid)[label[level.ty.cpu().numpy(), level.tx.cpu().numpy()] - 1]
    zy, zx = np.divmod(nearest, valid.shape[1])
    return torch.from_numpy(zy).to(level.ty.device), torch.from_numpy(zx).to(level.ty.device)


def _improve(desc: _Descriptors | _KnownPartDistance, sy: torch.Tensor, sx: torch.Tensor, dist: torch.Tensor,
             cy: torch.Tensor, cx: torch.Tensor, bias: float = 1.0) -> None:
    """Take candidate (cy, cx) wherever it is closer (in place); ``bias`` < 1 favours it by that factor."""
    d = desc.distance(cy, cx)
    better = d * bias < dist
    torch.where(better, cy, sy, out=sy)
    torch.where(better, cx, sx, out=sx)
    torch.where(better, d, dist, out=dist)


def _search(desc: _Descriptors | _KnownPartDistance, sy: torch.Tensor, sx: torch.Tensor, dist: torch.Tensor,
            candidates: int, generator: torch.Generator, radius: int | None = None,
            jumps: tuple[int, ...] = JUMPS) -> None:
    """One round of propagation (``jumps`` steps in four directions) and random search, in place."""
    lv = desc.level
    h, w = lv.shape
    for step in jumps:
        if step >= max(h, w):
            continue
        for dy, dx in ((step, 0), (-step, 0), (0, step), (0, -step)):
            # The neighbour at -d copies from its source; shifted by +d that source continues here.
            ny, nx = (lv.ty - dy).clamp(0, h - 1), (lv.tx - dx).clamp(0, w - 1)
            neighbour = torch.take(lv.index, ny * w + nx)
            has = neighbour >= 0
            n = neighbour.clamp(min=0)
            _improve(desc, sy, sx, dist, torch.where(has, torch.take(sy, n) + dy, sy),
                     torch.where(has, torch.take(sx, n) + dx, sx), bias=1.0 - COHERENCE)
    # Random search at radii halving from ``radius`` (default: the level's size) down to one pixel (the last
    # ones align the match), ``candidates`` samples spread evenly over that range. Over the whole level at
    # every coarser level, not only the coarsest: searched near the sources carried over from the level above
    # only, a fill keeps the coarsest level's choices, made where grass and smooth ground look alike, and a
    # removed rock in a meadow came back as a smooth blob. At the photo's own resolution the sources are
    # right to a pixel or two; a search over the whole level there changed no measure on the eval sets and
    # took about a fifth of the pedestal's texture stage (21 -> 16 s).
    radii = _halving(max(h, w) if radius is None else radius)
    for r in (radii[i * len(radii) // candidates] for i in range(candidates)) if candidates < len(radii) else radii:
        jy = torch.randint(-r, r + 1, sy.shape, generator=generator, device=sy.device)
        jx = torch.randint(-r, r + 1, sx.shape, generator=generator, device=sx.device)
        _improve(desc, sy, sx, dist, sy + jy, sx + jx)


def _halving(size: int) -> list[int]:
    radii = [size]
    while radii[-1] > 1:
        radii.append(radii[-1] // 2)
    return radii


# Hole pixels voted at once. It bounds the [3, voters, chunk] gather's memory (9.6 MB), whose pages each chunk
# reuses from the last one (``cpu.reuse_freed_memory``) instead of faulting in fresh ones (the pedestal's votes
# 4.5 -> 3.6 s against chunks four times larger, when buffers over 32 MB were still mapped afresh).
VOTE_CHUNK = 1 << 14


def _vote(level: _Level, sy: torch.Tensor, sx: torch.Tensor, dist: torch.Tensor | None, radius: int,
          quantile: float, step: int = 1) -> torch.Tensor:
    """[3, M] hole colours: each pixel's weighted mean of what the matched patches centred within ``radius`` of
    it (every ``step``-th row and column) put there.

    Weights exp(-d / 2 sigma^2) with sigma^2 the ``quantile`` of this level's distances (Wexler et al.): a low
    one lets the close matches dominate; equal weights when ``dist`` is None (a field not yet matched against
    this estimate)."""
    colours = level.photo.reshape(3, -1)
    if dist is None:
        dist = torch.zeros(len(level.ty), dtype=colours.dtype, device=colours.device)
    finite = dist[torch.isfinite(dist)]
    sigma2 = max(float(torch.quantile(finite, quantile)) if finite.numel() else 1.0, 1e-6)
    w = level.shape[1]
    reach = radius // step * step  # symmetric about the pixel's own patch
    span = torch.arange(-reach, reach + 1, step, device=dist.device)
    dy, dx = (g.reshape(-1) for g in torch.meshgrid(span, span, indexing="ij"))
    offsets = dy * w + dx                   # a footprint position's shift, in flat level pixels
    pixels = level.hy * w + level.hx
    source = sy * w + sx  # valid sources lie RADIUS inside the level: a patch never leaves it
    result = level.photo[:, level.hy, level.hx].clone()  # kept where no patch voted
    for start in range(0, len(pixels), VOTE_CHUNK):
        # [V, chunk]: the target patch centred at (pixel - offset), whose offset-th pixel lands here; -1: none
        q = torch.take(level.index, pixels[start:start + VOTE_CHUNK][None] - offsets[:, None])
        has = q >= 0
        q.clamp_(min=0)
        d = torch.take(dist, q).masked_fill_(~has, math.inf)
        # Distances relative to each pixel's closest voter: where every voter matched badly (next to a
        # textured border) exp(-d / 2 sigma^2) would underflow to zero for all of them. A missing voter's
        # infinite distance gives it weight 0; where all are missing the weights are NaN and the pixel keeps
        # its value (norm > 0 fails below).
        closest = d.min(dim=0).values
        weight = d.sub_(closest).mul_(-0.5 / sigma2).exp_()
        copied = torch.index_select(colours, 1, torch.take(source, q).add_(offsets[:, None]).view(-1)).view(3, *q.shape)
        total = copied.mul_(weight).sum(dim=1)
        norm = weight.sum(dim=0)
        result[:, start:start + VOTE_CHUNK] = torch.where(norm > 0, total / norm.clamp(min=1e-12),
                                                          result[:, start:start + VOTE_CHUNK])
    return result


def _majority_sources(level: _Level, sy: torch.Tensor, sx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """([M], [M]) flat level indices: of the pixel each hole pixel copies, itself plus the offset most common among
    the hole pixels' own offsets in the MODE_WINDOW square around it (MODE_ROUNDS rounds; see MODE_WINDOW), and of
    the centre of a whole allowed patch holding that pixel: the match of the hole pixel the offset came from (each
    round passes it on with the offset), what the inspector outlines."""
    h, w = level.shape
    own = level.index[level.hy, level.hx]
    pixels = level.hy * w + level.hx
    # Flat offsets: a pixel plus a neighbour's offset is that neighbour's source shifted by their distance, a
    # pixel of its source patch, so the flat sum never wraps around a row. They and the keys below lie within
    # +-(h * w + window), which int32 holds for any photo imageio reads (MAX_PIXELS): half the bytes to sort.
    offset = ((sy[own] - level.hy) * w + (sx[own] - level.hx)).to(torch.int32)
    anchor = (sy[own] * w + sx[own]).to(torch.int32)
    r = MODE_WINDOW // 2
    span = torch.arange(-r, r + 1, device=pixels.device)
    shifts = (span[:, None] * w + span[None, :]).reshape(-1)
    window = len(shifts)
    # Positions without a hole pixel get keys below any offset and distinct from each other, so they never
    # form a majority (the hole's pixels lie RADIUS >= r inside the padded level: every shift stays in it).
    absent = (-(h * w) - 1 - torch.arange(window, device=pixels.device)).to(torch.int32)
    nowhere = -(h * w) - 1 - window  # below every key: marks the level's pixels outside the hole
    for _ in range(MODE_ROUNDS):
        field = torch.full((h * w,), nowhere, dtype=torch.int32, device=pixels.device)
        field[pixels] = offset
        anchors = torch.zeros((h * w,), dtype=torch.int32, device=pixels.device)
        anchors[pixels] = anchor
        chosen, chosen_anchor = offset.clone(), anchor.clone()
        for start in range(0, len(pixels), MODE_CHUNK):
            keys = field[pixels[start:start + MODE_CHUNK, None] + shifts]
            missing = keys == nowhere
            keys = torch.where(missing, absent, keys)
            mine = offset[start:start + MODE_CHUNK]
            mine_count = (keys == mine[:, None]).sum(dim=1)
            # Another offset can only be more common where the window's other hole pixels outnumber this one's
            # (absent keys never repeat): most windows of a coherent field are settled without sorting.
            open_ = torch.nonzero(2 * mine_count + missing.sum(dim=1) < window).squeeze(1)
            ranked = keys[open_].sort(dim=1).values
            # The length of the run of equal keys up to each position of a sorted row; its first maximum is the
            # longest run, the first one on ties (the smallest offset).
            step = torch.arange(window, dtype=torch.int16, device=pixels.device).expand_as(ranked)
            starts = torch.ones_like(ranked, dtype=torch.bool)
            starts[:, 1:] = ranked[:, 1:] != ranked[:, :-1]
            run = step - torch.where(starts, step, 0).cummax(dim=1).values + 1
            count, at = run.max(dim=1, keepdim=True)
            best = ranked.gather(1, at).squeeze(1)
            wins = count.squeeze(1) > mine_count[open_]
            chosen[start + open_] = torch.where(wins, best, mine[open_])
            # The winning offset's patch: that of the first pixel in the window that copies at it.
            won = open_[wins]
            first = (keys[won] == best[wins][:, None]).to(torch.uint8).argmax(dim=1)
            chosen_anchor[start + won] = anchors[pixels[start + won] + shifts[first]]
        offset, anchor = chosen, chosen_anchor
    return pixels + offset, anchor.to(pixels.dtype)


def _copy_shaded(level: _Level, source: torch.Tensor) -> torch.Tensor:
    """[3, M] the photo at each hole pixel's ``source`` (flat level indices), shifted to the shade of the estimate
    where it lands (VOTE_BIAS_SIGMA)."""
    colours = level.photo.reshape(3, -1)
    pixels = level.hy * level.shape[1] + level.hx
    shade_here, shade_there = _blurred_at(level.photo, VOTE_BIAS_SIGMA / level.scale,
                                          torch.cat([pixels, source])).split(len(pixels), dim=1)
    return torch.index_select(colours, 1, source) + shade_here - shade_there


def _blurred_at(image: torch.Tensor, sigma: float, at: torch.Tensor) -> torch.Tensor:
    """[C, N]: ``_blur(image, sigma)`` ([C, H, W]) at the flat pixel indices ``at``, blurred in bands of rows with
    the blur's reach around each (the same values): a whole blurred copy of a 10 MP level and its two transposes
    were half a gigabyte of fresh pages, for the few pixels read."""
    h, w = image.shape[1:]
    order = torch.argsort(at)
    ranked = at[order]
    out = torch.empty(image.shape[0], len(at), dtype=image.dtype, device=image.device)
    for top, bottom, lo, hi in _row_bands(h, w, _blur_radius(sigma)):
        first, last = (int(i) for i in torch.searchsorted(ranked, torch.tensor([top * w, bottom * w],
                                                                                 device=at.device)))
        if first == last:
            continue
        blurred = _blur(image[:, lo:hi], sigma).reshape(image.shape[0], -1)
        out[:, order[first:last]] = torch.index_select(blurred, 1, ranked[first:last] - lo * w)
    return out


def _revote(level: _Level, sy: torch.Tensor, sx: torch.Tensor, dist: torch.Tensor | None) -> None:
    """The estimate in the hole becomes the vote of every patch that covers each pixel (in place).

    Milder weights than the final vote's: where a few close flat matches dominate, a continuation that most
    patches agree on is outvoted. With 7x7 patches and the quantile at 0.3 / 0.5 / 1: eval512 strokes (28
    photos) hole L1 7.54 / 7.50 / 7.49 %, median sharpness 0.49 / 0.46 / 0.45; eval 256 centre (100 photos)
    Table-1 L1 3.082 / 3.064 / 3.058 % (Telea 3.082), sharpness 0.43 / 0.42 / 0.40; 28 512 crops of the large
    photos hole L1 4.06 / 4.05 / 4.02 %, sharpness 0.57 / 0.55 / 0.51 (0.1, the final vote's: 7.07 % and 0.50
    on 16 of the eval512 photos, where 0.5 gives 7.01 % and 0.49). With 15x15 patches, 0.2 instead of 0.5:
    sharpness 0.41 vs 0.38 at the same L1 on eval512, but pipes carried through strokes less often (28.0 vs
    28.5 dB on six full-resolution crops)."""
    level.photo[:, level.hy, level.hx] = _vote(level, sy, sx, dist, ITERATION_VOTE_RADIUS, ITERATION_VOTE_QUANTILE,
                                               ITERATION_VOTE_STEP)


# -- the stage ----------------------------------------------------------------------------------------------------
def synthesize(photo: np.ndarray, hole: np.ndarray, guide: np.ndarray, *, exclude: np.ndarray | None = None,
               init_offsets: np.ndarray | None = None, seed: int = 0,
               settings: TextureSettings = TextureSettings(), device: str | torch.device = "cpu",
               on_round: Callable[[float], None] | None = None, features: np.ndarray | None = None,
               compared: np.ndarray | None = None) -> Synthesis:
    """Fill ``hole`` of ``photo`` with the photo's own texture, guided by ``guide`` (the network's fill).

    photo, guide: uint8 or float [H, W, 3] (0..255); only the guide's pixels in the hole are read, and it may be
        given as those alone (float [N, 3], the hole's pixels in ``np.nonzero`` order).
    compared: what the guide term (``TextureSettings.guide_coarse`` / ``guide_fine``) compares in the hole, when
        it differs from the estimate ``guide`` starts from; default ``guide``.
    hole, exclude: bool [H, W]; exclude = known pixels the fill must not copy from.
    init_offsets: optional int [H, W, 2] (dy, dx) in pixels, where each hole pixel should first look for its
        source (the attention argmax); invalid or missing ones start at random sources.
    seed: another seed gives another plausible fill; the same seed the same one.
    on_round: called after every search + vote round with the fraction of the work done (it may raise to stop).
    features: ``texture_features(photo, hole)`` when the caller has computed them already.
    """
    hole = np.asarray(hole, dtype=bool)
    if not hole.any():
        nowhere, level = np.full(hole.shape, -1, np.int32), np.zeros(hole.shape, np.int8)
        return Synthesis(np.asarray(photo, np.float32).copy(), nowhere, nowhere.copy(), nowhere.copy(),
                         nowhere.copy(), level, level.copy())
    device = torch.device(device)
    generator = torch.Generator(device=device)
    generator.manual_seed(int(seed))
    blocked = hole if exclude is None else hole | np.asarray(exclude, dtype=bool)

    def tensor(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(a)).to(device)

    # The network's fill is the first estimate in the hole, made in one copy: each copy of a 10 MP box is 0.13 GB,
    # and the stage's peak memory is reached at its finest level, while these are alive.
    guide = np.asarray(guide, np.float32)
    estimate = np.array(photo, np.float32)
    estimate[hole] = guide if guide.ndim == 2 else guide[hole]
    photo_t = tensor(estimate).permute(2, 0, 1).contiguous()
    del estimate, guide  # the caller's guide is often a temporary: let it go too
    hole_t, blocked_t = tensor(hole), tensor(blocked)

    levels = _level_count(hole)
    # Texture features come from the photo's own resolution at every level: a coarse level still knows which
    # of its pixels stand for fine grass and which for smooth sky.
    features_t = (_texture_features(photo_t, hole_t) if features is None
                  else tensor(np.asarray(features, np.float32)).permute(2, 0, 1))  # a view: no second copy
    # The guide term's own pyramid: the pyramid's estimate is the guide only where the hole outlasts it (a thin
    # stroke's is what the known pixels around it say at every level), so compared with the estimate the guide
    # term could not tell the copies what the network put there. Made only when the term is on (a copy, taken
    # before the pyramid fills the estimate's hole in place).
    guided = None
    if settings.compares_guide:
        guided = photo_t.clone() if compared is None else tensor(
            np.where(hole[..., None], np.asarray(compared, np.float32), np.asarray(photo, np.float32))
        ).permute(2, 0, 1).contiguous()
    pyramid = _shrinking_pyramid(photo_t, hole_t, blocked_t, features_t, levels)
    guides = None
    if guided is not None:
        guides = _guide_pyramid(guided, [level[1].shape for level in pyramid])
        del guided
    del photo_t, features_t  # held by the pyramid, whose levels are let go as they are made (below)

    # Progress in units of level pixels x rounds: a level has a quarter of the pixels of the next finer one.
    # Coarser levels get more rounds (the field settles there before the finer levels copy from it), except
    # levels whose hole is over 3.5 times a 512 photo's strokes: on a 12 MP photo the level below the photo's
    # own is itself full of detail and costly (the pedestal's fill with 7x7 patches: 19.3 s with six rounds
    # there, 17.7 s with two).
    rounds = [settings.iterations_coarse if depth > 0 and int(pyramid[depth][1].sum()) <= COARSE_ROUNDS_HOLE
              else settings.iterations_fine for depth in range(levels)]
    work = [r / 4 ** depth for depth, r in enumerate(rounds)]
    done = 0.0
    sy = sx = None
    previous: _Level | None = None
    for depth in reversed(range(levels)):
        fraction = 0.0 if levels == 1 else depth / (levels - 1)
        guide_weight = _level_weight(settings.guide_coarse, settings.guide_fine, fraction)
        level = _make_level(pyramid[depth], scale=2 ** depth,  # padded copies
                            guide=guides[depth] if guide_weight > 0 and guides is not None else None)
        pyramid[depth] = None
        if guides is not None:
            guides[depth] = None
        if len(level.allowed) == 0 or len(level.ty) == 0:  # no allowed source, or the hole has vanished: finer
            if depth == 0:  # the photo's own level allows only whole known patches, and its copies come from them
                raise NoSourcePatches()
            done += work[depth]
            continue
        first = previous is None or sy is None
        if first:
            sy, sx = _initial_field(level, init_offsets, generator)
            init_offsets = None  # read once: the caller's whole box of them can go
        else:
            sy, sx, carried = _upsample_field(previous, level, sy, sx, generator)
        previous = None  # the coarser level goes before this level's tables are made
        # The first level searches against the pyramid's own estimate: what the known pixels around a thin
        # stroke say continues through it, the guide deep inside a large hole. Below, the carried-over field is
        # voted into the estimate first: the finer photo's pixels at those sources, not an upsampled blur. The
        # descriptors then describe that estimate. Patches with no carried match do not vote: their random
        # sources would paint the photo's mean colour into a stroke that reappears here (a muddy streak).
        if not first:
            _revote(level, sy, sx, torch.where(carried, 0.0, math.inf))
        # The nearest allowed patch is often the best one for a thin stroke, and random search rarely finds it
        # on a large photo (the Wine photo's 20 px lines came out dark without it). Found before the source
        # table is made: its distance transform's buffers then never sit beside the table.
        nearest = _nearest_valid(level)
        reach = _reachable(level, (sy, sx), nearest) if depth == 0 and not first else None
        desc = _Descriptors(level, _principal_basis(level, generator), guide_weight,
                            settings.texture_weight * TEXTURE_WEIGHT_DECAY ** depth, reach)
        del reach
        dist = desc.distance(sy, sx)
        _improve(desc, sy, sx, dist, *nearest)
        # Matched first on what surrounds the hole, not on the smooth estimate in it: a pipe under a blob and a
        # wall's courses through a stroke continue (eval512 strokes hole L1 7.46 -> 7.43 %, 512 crops of the
        # large photos 24.90 -> 25.10 dB; at the photo's own resolution too slow for what it added).
        known_part = (_KnownPartDistance.if_known(level, KNOWN_PART_SHARE)
                      if depth > 0 and len(level.ty) <= KNOWN_PART_TARGETS else None)
        if known_part is not None:
            for _ in range(KNOWN_PART_ROUNDS):
                _search(known_part, sy, sx, known_part.distance(sy, sx), KNOWN_PART_CANDIDATES, generator,
                        jumps=KNOWN_PART_JUMPS)
            # An even vote of the patches with a known pixel; where none covers a pixel, its estimate stays.
            # (Weighted by the known parts' distances instead: 512 crops of the large photos 25.14 -> 24.94 dB.)
            _revote(level, sy, sx, torch.where(known_part.known_count > 0, 0.0, math.inf))
            desc.targets = desc.hole_descriptors()
            dist = desc.distance(sy, sx)
        for round_ in range(rounds[depth]):
            if depth > 0 or first:
                _search(desc, sy, sx, dist, settings.random_candidates, generator)
            elif round_ == 0:
                _search(desc, sy, sx, dist, settings.random_candidates, generator, radius=FINEST_SEARCH_RADIUS)
            else:
                # At the photo's own resolution the field is right to a pixel after one round; what a later round
                # adds is the vote with matches re-scored against the sharper estimate. Neighbours one pixel
                # away are all its search needs: the same hole L1 and sharpness on eval512 strokes, eval 256
                # centre and 512 crops of the large photos as a full round, at a fifth of the round's
                # candidates (without this round: sharpness 0.09 lower in the busy-region test).
                _search(desc, sy, sx, dist, 0, generator, jumps=(1,))
            _revote(level, sy, sx, dist)
            desc.targets = desc.hole_descriptors()
            dist = desc.distance(sy, sx)
            done += work[depth] / rounds[depth]
            if on_round is not None:
                on_round(done / sum(work))
        # This level's tables go before the next level is made (a quarter of its: 0.1 GB on a 10 MP box); the
        # level stays until the next one has taken its field.
        previous, desc, known_part = level, None, None
    assert previous is not None and sy is not None  # the photo's own level has targets and an allowed source
    source, anchor = _majority_sources(previous, sy, sx)
    previous.photo[:, previous.hy, previous.hx] = _copy_shaded(previous, source)
    return _result(previous, source, anchor, sy, sx, hole.shape)


def _initial_field(level: _Level, init_offsets: np.ndarray | None, generator: torch.Generator
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """The coarsest level's NNF: the attention argmax where it points at a valid source, random elsewhere."""
    ry, rx = _random_valid(level, len(level.ty), generator)
    if init_offsets is None:
        return ry, rx
    # Read at the targets' pixels before widening to int64: a widened copy of the whole box's offsets was 16 bytes
    # a photo pixel (0.17 GB on a 10 MP box).
    off = torch.from_numpy(np.ascontiguousarray(init_offsets)).to(level.ty.device)
    s = level.scale
    py, px = (level.ty - RADIUS) * s, (level.tx - RADIUS) * s  # a photo pixel under each level pixel
    py, px = py.clamp(0, off.shape[0] - 1), px.clamp(0, off.shape[1] - 1)
    at = off[py, px].long()
    cy = level.ty + torch.div(at[:, 0], s, rounding_mode="floor")
    cx = level.tx + torch.div(at[:, 1], s, rounding_mode="floor")
    h, w = level.shape
    inside = (cy >= 0) & (cy < h) & (cx >= 0) & (cx < w)
    ok = inside & level.valid[cy.clamp(0, h - 1), cx.clamp(0, w - 1)]
    return torch.where(ok, cy, ry), torch.where(ok, cx, rx)


def _upsample_field(coarse: _Level, fine: _Level, sy: torch.Tensor, sx: torch.Tensor, generator: torch.Generator
                    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(sy, sx, carried): the finer level's NNF from the coarser one, offsets doubled, each source re-validated
    at the finer level (a source may touch the hole there); where none carries over (invalid, or the hole had
    vanished above: a thin stroke beside a blob) a random source, and ``carried`` False."""
    fy, fx = fine.ty - RADIUS, fine.tx - RADIUS                  # unpadded fine coordinates
    cy, cx = fy // 2 + RADIUS, fx // 2 + RADIUS                   # the coarse pixel above
    ch, cw = coarse.shape
    q = coarse.index[cy.clamp(0, ch - 1), cx.clamp(0, cw - 1)]
    has = q >= 0
    q = q.clamp(min=0)
    ny = 2 * (sy[q] - RADIUS) + fy % 2 + RADIUS
    nx = 2 * (sx[q] - RADIUS) + fx % 2 + RADIUS
    h, w = fine.shape
    inside = (ny >= 0) & (ny < h) & (nx >= 0) & (nx < w)
    ok = has & inside & fine.valid[ny.clamp(0, h - 1), nx.clamp(0, w - 1)]
    ry, rx = _random_valid(fine, len(fine.ty), generator)
    return torch.where(ok, ny, ry), torch.where(ok, nx, rx), ok


def _result(level: _Level, source: torch.Tensor, anchor: torch.Tensor, sy: torch.Tensor, sx: torch.Tensor,
            shape: tuple[int, int]) -> Synthesis:
    h, w = shape
    image = level.photo[:, RADIUS:RADIUS + h, RADIUS:RADIUS + w].permute(1, 2, 0).cpu().numpy()
    hy, hx = (level.hy - RADIUS).cpu().numpy(), (level.hx - RADIUS).cpu().numpy()
    own = level.index[level.hy, level.hx]

    def on_hole(rows: torch.Tensor, outside: int = -1, dtype: type = np.int32) -> np.ndarray:
        box = np.full(shape, outside, dtype)
        box[hy, hx] = rows.cpu().numpy()
        return box

    width = level.shape[1]
    source_y, source_x = torch.div(source, width, rounding_mode="floor"), source % width
    anchor_y, anchor_x = torch.div(anchor, width, rounding_mode="floor"), anchor % width
    return Synthesis(image=np.ascontiguousarray(image),
                     source_y=on_hole(source_y - RADIUS), source_x=on_hole(source_x - RADIUS),
                     match_y=on_hole(sy[own] - RADIUS), match_x=on_hole(sx[own] - RADIUS),
                     patch_dy=on_hole(anchor_y - source_y, 0, np.int8),
                     patch_dx=on_hole(anchor_x - source_x, 0, np.int8))
