"""What is searched: motif value objects (validated, hashable, canonical JSON)."""

from petridish.motifs.base import Motif, motif_family, motif_from_json
from petridish.motifs.slope import SigmoidSlope

__all__ = ["Motif", "SigmoidSlope", "motif_family", "motif_from_json"]
