"""Attention offsets as colours: the Middlebury colour wheel, the way the official DeepFill v1 code draws it.

The official code passes (row, col) offsets where Middlebury expects (u = horizontal, v = vertical), so the
wheel is mirrored about the diagonal: a pixel that copies from below is red, from the right yellow, from above
sky blue, from the left violet; white means it copies from itself. The arithmetic below keeps the official order
of operations (float64, floor to uint8) so the colours match the official images exactly.
"""
from __future__ import annotations

import numpy as np

# Middlebury wheel: (segment length, start colour, end colour); colours move linearly in 255/n steps.
_SEGMENTS = (
    (15, "RY"), (6, "YG"), (4, "GC"), (11, "CB"), (13, "BM"), (6, "MR"),
)


def color_wheel() -> np.ndarray:
    """``[55, 3]`` float64 wheel, values 0..255."""
    rows = []
    for n, name in _SEGMENTS:
        ramp = np.floor(255 * np.arange(n) / n)
        full, zero = np.full(n, 255.0), np.zeros(n)
        rows.append({
            "RY": (full, ramp, zero),
            "YG": (255 - ramp, full, zero),
            "GC": (zero, full, ramp),
            "CB": (zero, 255 - ramp, full),
            "BM": (ramp, zero, full),
            "MR": (full, zero, 255 - ramp),
        }[name])
    return np.concatenate([np.stack(r, axis=1) for r in rows], axis=0)


_WHEEL = color_wheel()


def colorize(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Normalised displacement (|(u, v)| <= 1 is faded towards white) -> uint8 ``[..., 3]`` RGB."""
    u = np.nan_to_num(np.asarray(u, dtype=np.float64))
    v = np.nan_to_num(np.asarray(v, dtype=np.float64))
    ncols = _WHEEL.shape[0]
    rad = np.sqrt(u ** 2 + v ** 2)
    angle = np.arctan2(-v, -u) / np.pi
    fk = (angle + 1) / 2 * (ncols - 1) + 1
    k0 = np.floor(fk).astype(int)
    k1 = k0 + 1
    k1[k1 == ncols + 1] = 1
    frac = fk - k0
    out = np.empty(u.shape + (3,), dtype=np.uint8)
    inside = rad <= 1
    for ch in range(3):
        col = (1 - frac) * (_WHEEL[k0 - 1, ch] / 255) + frac * (_WHEEL[k1 - 1, ch] / 255)
        col[inside] = 1 - rad[inside] * (1 - col[inside])
        col[~inside] *= 0.75
        out[..., ch] = np.floor(255 * col).astype(np.uint8)
    return out


def offsets_to_rgb(offsets: np.ndarray) -> np.ndarray:
    """``[N, 2, h, w]`` integer (row, col) offsets -> ``[N, h, w, 3]`` uint8 colours.

    Each image is normalised by the largest displacement seen so far in the batch (a running maximum, as the
    official code does), so a single image is normalised by its own longest arrow.
    """
    offsets = np.asarray(offsets)
    images = []
    max_radius = -1.0
    for dy, dx in offsets:
        dy = np.where(np.abs(dy) > 1e7, 0, dy)
        dx = np.where(np.abs(dx) > 1e7, 0, dx)
        max_radius = max(max_radius, float(np.max(np.sqrt(dy.astype(np.float64) ** 2 + dx.astype(np.float64) ** 2))))
        scale = max_radius + np.finfo(float).eps
        images.append(colorize(dy / scale, dx / scale))
    return np.stack(images)


def wheel_legend(size: int = 128) -> np.ndarray:
    """``[size, size, 3]`` uint8 legend: the colour of an offset pointing from the centre to each pixel.

    Outside the unit circle the image is white. Read it as "a pixel of this colour copies from that side".
    """
    coords = (np.arange(size) + 0.5) / size * 2 - 1
    dy, dx = np.meshgrid(coords, coords, indexing="ij")
    legend = colorize(dy, dx)
    legend[np.sqrt(dy ** 2 + dx ** 2) > 1] = 255
    return legend
