"""Where contextual attention matches, in image pixels. No torch here: the editor's UI thread reads it too.

The generator's attention branch works at 1/4 of the input resolution (two stride-2 convs) and matches patches
at half of that (the attention's rate), so one cell of the matching grid covers 8x8 input pixels. Inputs are
a whole number of cells (the pipeline pads to it); offsets, attention weights, the flow picture and the
source heat maps are all on that grid.
"""
from __future__ import annotations

RATE = 2  # contextual attention matches at 1/RATE of the feature resolution
MATCHING_CELL = 4 * RATE  # input pixels per side of one matching-grid cell (the encoder's stride 4, times the rate)
