"""Motif-networks: tiny blueprints whose motif part is data, batched with ``vmap``."""

from petridish.nets.base import MotifNet, Params
from petridish.nets.cell import CellNet, cell_codes
from petridish.nets.mlp import SlopeMLP, bce_with_logits

__all__ = ["CellNet", "MotifNet", "Params", "SlopeMLP", "bce_with_logits", "cell_codes"]
