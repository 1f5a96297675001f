"""What is searched: motif value objects (validated, hashable, canonical JSON)."""

from petridish.motifs.activation import Activation
from petridish.motifs.base import Motif, motif_family, motif_from_json
from petridish.motifs.cell import Cell, CellBatch, CellError
from petridish.motifs.slope import SigmoidSlope

__all__ = [
    "Activation",
    "Cell",
    "CellBatch",
    "CellError",
    "Motif",
    "SigmoidSlope",
    "motif_family",
    "motif_from_json",
]
