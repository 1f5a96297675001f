"""What is searched: motif value objects (validated, hashable, canonical JSON)."""

from petridish.motifs.base import Motif, motif_family, motif_from_json
from petridish.motifs.cell import Cell, CellBatch, CellError
from petridish.motifs.slope import SigmoidSlope

__all__ = [
    "Cell",
    "CellBatch",
    "CellError",
    "Motif",
    "SigmoidSlope",
    "motif_family",
    "motif_from_json",
]
