"""The membrane that spreads border corrections over a hole, and the composite computed around the hole only: both
read what they need at the hole's pixels instead of making images the size of a large photo's box. The boundary
match: a guess made at the border does not spread through the hole."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from inpaint_core.seams import match_boundary, membrane_at, membrane_of_points
from inpaint_core.texture import Synthesis, depth_in_hole
from inpaint_core.texture_stage import composite_in_hole


@pytest.mark.parametrize("shape", [(2, 7), (3, 3), (5, 5), (7, 9), (64, 97), (301, 220)])
def test_a_membrane_from_scattered_points_is_the_one_from_their_image(shape) -> None:
    """The points' first pyramid step is scattered with pyrDown's taps and reflected border; values up to 100 in
    float32, summed in another order: equal to about 1e-5, where a tap or a reflection off by one is off by
    whole units."""
    rng = np.random.default_rng(sum(shape))
    known = rng.random(shape) < 0.1
    known[0, 0] = True
    py, px = np.nonzero(known)
    values = (rng.random((len(py), 3)) * 100).astype(np.float32)
    image = np.zeros((*shape, 3), np.float32)
    image[py, px] = values
    ys, xs = np.nonzero(np.ones(shape, bool))
    scattered = membrane_of_points(shape, py, px, values, ys, xs)
    assert np.abs(scattered - membrane_at(image, known.astype(np.float32), ys, xs)).max() < 1e-3
    if min(shape) > 2:  # (below that there is no pyramid: every pixel gets the known pixels' mean)
        assert np.array_equal(scattered[known.reshape(-1)], values)  # a known pixel keeps its value


def test_the_composite_around_the_hole_is_the_one_over_the_whole_box() -> None:
    """A stroke and a blob at its end in the middle of a 420 x 420 box, seen at half scale (the reach is then 37
    px: the cut's spread and blur). The copy is coherent along the stroke and scattered in the blob, whose edge
    is the hole's bounding box's, so the trust's cut and the band's blur both matter there: on the hole's
    bounding box grown by the reach the composite is the one over the whole box, on the bounding box itself it is
    not (the band's blur then reflects the blob off the crop's edge: 3.9 grey levels off)."""
    rng = np.random.default_rng(5)
    size = 420
    photo = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
    stroke = np.zeros((size, size), np.uint8)
    cv2.line(stroke, (160, 150), (290, 260), 1, 12)
    hole = np.zeros((size, size), np.uint8)
    cv2.circle(hole, (160, 150), 30, 1, -1)
    hole = (hole > 0) | (stroke > 0)
    ys, xs = np.mgrid[:size, :size]
    source_y = np.where(hole, rng.integers(0, size, (size, size)), -1).astype(np.int32)
    source_x = np.where(hole, rng.integers(0, size, (size, size)), -1).astype(np.int32)
    along = (stroke > 0) & ((ys - 150) ** 2 + (xs - 160) ** 2 > 30 ** 2)
    source_y[along], source_x[along] = ys[along] - 120, xs[along] + 90
    centred = np.zeros((size, size), np.int8)
    synthesis = Synthesis(image=rng.uniform(0, 255, (size, size, 3)).astype(np.float32), source_y=source_y,
                          source_x=source_x, match_y=source_y, match_x=source_x, patch_dy=centred, patch_dx=centred)
    network = cv2.GaussianBlur(photo, (0, 0), 6).astype(np.float32)
    trust = rng.uniform(0, 1, (size, size)).astype(np.float32)
    args = (photo, hole, network[hole], synthesis, trust, depth_in_hole(hole), 0.5)
    whole = composite_in_hole(*args, reach=size)
    assert np.abs(composite_in_hole(*args) - whole).max() < 1e-3
    assert np.abs(composite_in_hole(*args, reach=0) - whole).max() > 1.0


def test_a_dark_line_beside_a_stroke_darkens_its_border_not_a_band_through_it() -> None:
    """A flat wall (150) with a one-pixel dark line (60) just left of a 16 px stroke, the fill already right (150).
    The continued gradient asks for 60 + (60 - 150) = -30 on the left border (a step like the photo's there);
    that correction spread over the hole turned its left half black (-30 to -7 at 1-7 px in). Now the border
    keeps it but the rest of the hole takes the broad, limited one: nowhere 6 px or more inside is darker than
    the line, less the fading detail's 8 % (exp(-5 / 2)) of the 90 levels between the two, and the right border,
    where the wall continues flat, stays as it is."""
    photo = np.full((64, 64, 3), 150, np.uint8)
    photo[:, 21] = 60
    hole = np.zeros((64, 64), bool)
    hole[8:56, 22:38] = True
    ys, xs = np.nonzero(hole)
    depth = depth_in_hole(hole)
    matched = np.full((64, 64), np.nan)
    matched[ys, xs] = match_boundary(photo, hole, np.full((len(ys), 3), 150, np.float32), depth[ys, xs])[:, 0]
    rows = slice(16, 48)  # away from the corners, where the top and bottom borders (flat wall) also count
    assert np.allclose(matched[rows, 22], -30.0, atol=1.0)
    inside = matched[rows][depth[rows] >= 6]
    assert inside.min() >= 60 - 0.1 * 90
    assert np.allclose(matched[rows, 37], 150.0, atol=2.0)
