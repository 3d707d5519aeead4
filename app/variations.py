"""The variations of the last fill made with the texture stage: each is the texture stage re-run with another seed
over the same network output, kept as the pixels it gives the photo so stepping back and forth shows exactly what
was shown before."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .document import Document, FillEvidence, FillRequest
from .mask_ops import Crop

if TYPE_CHECKING:  # the engine's module imports torch, which the UI thread never loads
    from inpaint_core.pipeline import InpaintResult


# Bytes the variations of one fill may hold of their own (pixels, flow colours, sources; the network's output is
# shared): each holds about 16 bytes per pixel of the fill's box, 160 MB for a fill spanning a 10 MP photo, and
# clicking Another Variation must not fill the machine's memory. Past it the oldest are let go, never the fill.
MEMORY_BUDGET = 1 << 30


@dataclass(frozen=True)
class Variation:
    seed: int
    pixels: np.ndarray        # uint8 [h, w, 3]: the photo over evidence.box with this variation pasted
    evidence: FillEvidence
    result: InpaintResult     # its composite dropped: what the engine varies and the inspector reads

    def own_bytes(self) -> int:
        """Bytes only this variation holds: its pixels, its flow colours and its texture sources."""
        flow = self.evidence.texture_flow_rgb
        sources = sum(sum(a.nbytes for a in (group.source_y, group.source_x, group.patch_dy, group.patch_dx)
                          if a is not None) for group in self.result.texture)
        return self.pixels.nbytes + (0 if flow is None else flow.nbytes) + sources


@dataclass
class Variations:
    """The variations made so far of one fill, in the order they were made, and the one the photo shows."""

    document: Document
    request: FillRequest      # the fill's request: each variation is pasted over its photo
    weights: Crop | None      # how (feathered paste weights, or None: as it is)
    items: list[Variation] = field(default_factory=list)
    shown: int = 0

    @property
    def current(self) -> Variation:
        return self.items[self.shown]

    def add(self, variation: Variation) -> int:
        """Keep a new variation (shown next), letting go of the oldest ones while all hold more than
        MEMORY_BUDGET: never the fill itself, the one shown now or the new one. How many were let go."""
        self.items.append(variation)
        let_go = 0
        while sum(v.own_bytes() for v in self.items) > MEMORY_BUDGET:
            oldest = next((i for i in range(1, len(self.items) - 1) if i != self.shown), None)
            if oldest is None:
                break
            del self.items[oldest]
            if oldest < self.shown:
                self.shown -= 1
            let_go += 1
        return let_go

    def next_seed(self) -> int:
        return max(v.seed for v in self.items) + 1

    def can_step(self, step: int) -> bool:
        return 0 <= self.shown + step < len(self.items)

    def describe(self) -> str:
        return f"Variation {self.shown + 1} of {len(self.items)}"
