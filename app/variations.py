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


@dataclass(frozen=True)
class Variation:
    seed: int
    pixels: np.ndarray        # uint8 [h, w, 3]: the photo over evidence.box with this variation pasted
    evidence: FillEvidence
    result: InpaintResult     # its composite dropped: what the engine varies and the inspector reads


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

    def next_seed(self) -> int:
        return max(v.seed for v in self.items) + 1

    def can_step(self, step: int) -> bool:
        return 0 <= self.shown + step < len(self.items)

    def describe(self) -> str:
        return f"Variation {self.shown + 1} of {len(self.items)}"
