"""Training masks (official box rule, strokes, the mix) and the user-mask clean-up."""
from __future__ import annotations

import numpy as np
import pytest

from inpaint_core.masks import (Box, TrainingMasks, bbox_to_mask, box_around, box_mask, clean_user_mask, disk,
                                random_bbox, stroke_mask)


def _hole_rect(mask: np.ndarray) -> tuple[int, int, int, int]:
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return rows[0], rows[-1], cols[0], cols[-1]


def test_box_follows_the_official_rule_at_256():
    rng = np.random.default_rng(0)
    tops, lefts, deltas = set(), set(), set()
    for _ in range(3000):
        mask, box = box_mask((256, 256), (128, 128), (32, 32), rng)
        assert (box.height, box.width) == (128, 128)
        top, bottom, left, right = _hole_rect(mask)
        assert mask.sum() == (bottom - top + 1) * (right - left + 1)  # one filled rectangle
        dh, dw = top - box.top, left - box.left
        assert box.top + box.height - 1 - bottom == dh and box.left + box.width - 1 - right == dw  # centred
        assert 0 <= dh <= 16 and 0 <= dw <= 16
        tops.add(box.top), lefts.add(box.left), deltas.update((dh, dw))
    assert tops == set(range(128)) and lefts == set(range(128))  # [0, 256 - 128): upper end excluded
    assert deltas == set(range(17))


def test_box_margin_and_bad_sizes():
    rng = np.random.default_rng(1)
    boxes = [random_bbox((64, 64), (16, 16), (8, 4), rng) for _ in range(500)]
    assert min(b.top for b in boxes) == 8 and max(b.top for b in boxes) == 64 - 8 - 16 - 1
    assert min(b.left for b in boxes) == 4 and max(b.left for b in boxes) == 64 - 4 - 16 - 1
    with pytest.raises(ValueError):
        random_bbox((64, 64), (64, 64), (0, 0), rng)


def test_zero_delta_fills_the_whole_box():
    mask = bbox_to_mask(Box(3, 5, 8, 6), (20, 20), (0, 0), np.random.default_rng(0))
    expected = np.zeros((20, 20), bool)
    expected[3:11, 5:11] = True
    np.testing.assert_array_equal(mask, expected)


def test_strokes_are_non_empty_bounded_and_seeded():
    for seed in range(50):
        mask = stroke_mask((64, 96), np.random.default_rng(seed))
        assert mask.shape == (64, 96) and mask.dtype == bool
        assert 0 < mask.mean() <= 0.5
    a = stroke_mask((64, 64), np.random.default_rng(7))
    b = stroke_mask((64, 64), np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)


def test_local_box_of_strokes_is_inside_and_centred():
    mask = np.zeros((64, 64), bool)
    mask[2:6, 50:62] = True  # near the top-right corner: the box must be shifted inside
    assert box_around(mask, (32, 32)) == Box(0, 32, 32, 32)
    mask = np.zeros((64, 64), bool)
    mask[30:34, 20:40] = True
    assert box_around(mask, (16, 16)) == Box(24, 22, 16, 16)


def test_local_box_holds_hole_pixels_when_the_strokes_leave_the_middle_empty():
    mask = np.zeros((128, 128), bool)
    mask[:, :6] = mask[:, -6:] = True  # two strokes at the borders, nothing in the middle
    box = box_around(mask, (64, 64))
    assert mask[box.top:box.top + 64, box.left:box.left + 64].any()


def test_every_sampled_local_box_holds_hole_pixels():
    """The local critic's gradient penalty is taken over the hole inside its box: an empty box gives NaN."""
    masks = TrainingMasks(size=128, box_size=64, max_delta=16, stroke_prob=1.0)
    rng = np.random.default_rng(0)
    for _ in range(1500):
        mask, box = masks.sample(rng)
        assert mask[box.top:box.top + 64, box.left:box.left + 64].any()


def test_mix_ratio_and_crop_boxes():
    masks = TrainingMasks(size=64, box_size=32, max_delta=8, stroke_prob=0.3)
    rng = np.random.default_rng(3)
    strokes = 0
    n = 2000
    for _ in range(n):
        mask, box = masks.sample(rng)
        assert mask.any() and (box.height, box.width) == (32, 32)
        assert 0 <= box.top <= 32 and 0 <= box.left <= 32
        top, bottom, left, right = _hole_rect(mask)
        strokes += mask.sum() != (bottom - top + 1) * (right - left + 1)
    assert abs(strokes / n - 0.3) < 0.04  # about 4 standard deviations


def test_training_masks_always_leave_known_pixels():
    """The known-region loss divides by the known share and the critics need context: a box hole never fills the
    image, even the largest box the official rule allows, and strokes are redrawn while they cover too much."""
    rng = np.random.default_rng(5)
    largest_box = TrainingMasks(size=64, box_size=63, max_delta=0, stroke_prob=0.0)  # random_bbox: box < size
    assert all(0 < largest_box.sample(rng)[0].mean() < 1 for _ in range(20))
    # The coverage rule is what keeps strokes under the limit: unchecked draws at 32 px often exceed 0.3 and
    # now and then 0.5 (0.8 % of draws, so 500 samples would show one with 98 % probability).
    assert max(stroke_mask((32, 32), rng, max_coverage=1.0).mean() for _ in range(200)) > 0.3
    assert all(stroke_mask((32, 32), rng, max_coverage=0.3).mean() <= 0.3 for _ in range(200))
    strokes = TrainingMasks(size=32, box_size=16, max_delta=4, stroke_prob=1.0)
    assert all(strokes.sample(rng)[0].mean() <= 0.5 for _ in range(500))


def test_clean_user_mask_dilates_by_a_disk():
    mask = np.zeros((21, 21), bool)
    mask[10, 10] = True
    grown = clean_user_mask(mask, dilate_px=3)
    np.testing.assert_array_equal(grown[7:14, 7:14], disk(3).astype(bool))
    assert grown.sum() == disk(3).sum() == 29
    assert clean_user_mask(mask) is not mask and clean_user_mask(mask).sum() == 1
    edge = np.zeros((5, 5), bool)
    edge[0, 0] = True
    assert clean_user_mask(edge, 1).sum() == 3  # clipped at the border
    with pytest.raises(ValueError):
        clean_user_mask(mask.astype(np.uint8))
    with pytest.raises(ValueError):
        clean_user_mask(mask, -1)
