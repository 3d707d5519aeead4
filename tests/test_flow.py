"""Attention flow colours: the official (row, col) Middlebury wheel, and its legend."""
from __future__ import annotations

import numpy as np
import pytest

from inpaint_core.flow import colorize, offsets_to_rgb, wheel_legend


@pytest.mark.parametrize("direction,rgb", [
    ((-1, 0), (0, 209, 255)),    # source above: sky blue
    ((0, 1), (255, 229, 0)),     # right: yellow
    ((1, 0), (255, 0, 0)),       # below: red
    ((0, -1), (88, 0, 255)),     # left: violet
    ((0, 0.5), (255, 242, 127)),  # half the longest arrow to the right: pale yellow
    ((0, 0), (255, 255, 255)),   # itself: white
])
def test_directions_have_the_official_colours(direction, rgb) -> None:
    dy, dx = direction
    assert tuple(colorize(np.array([dy]), np.array([dx]))[0]) == rgb


def test_each_image_is_normalised_by_the_longest_arrow_so_far() -> None:
    offsets = np.zeros((2, 2, 1, 2), np.int64)
    offsets[0, 1, 0, 1] = 4   # image 0: one arrow of length 4 to the right
    offsets[1, 1, 0, 1] = 2   # image 1: length 2, normalised by the running maximum 4 -> half length
    rgb = offsets_to_rgb(offsets)
    assert tuple(rgb[0, 0, 1]) == (255, 229, 0)
    assert tuple(rgb[1, 0, 1]) == (255, 242, 127)
    assert tuple(rgb[0, 0, 0]) == (255, 255, 255)


def test_legend_shows_the_wheel_inside_a_white_surround() -> None:
    legend = wheel_legend(65)
    assert legend.shape == (65, 65, 3) and legend.dtype == np.uint8
    assert tuple(legend[32, 32]) == (255, 255, 255)       # centre: no displacement
    assert tuple(legend[0, 0]) == (255, 255, 255)         # outside the circle
    right, below = legend[32, 63].astype(int), legend[63, 32].astype(int)
    assert right[0] > 240 and right[1] > 200 and right[2] < 30    # yellow
    assert below[0] > 240 and below[1] < 30 and below[2] < 30     # red
