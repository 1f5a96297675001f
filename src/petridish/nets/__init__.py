"""Motif-networks: tiny blueprints whose motif part is data, batched with ``vmap``.

Importing this package registers the built-in networks (``petridish.nets.registry``): each
module below registers its own on import. A new network module gets one import line here.
"""

from petridish.nets import (
    activation_mlp,  # noqa: F401  (registers "activation_mlp")
    genotype_cell,  # noqa: F401  (registers "genotype_cell")
)
from petridish.nets.base import MotifNet, NetBase, Params
from petridish.nets.cell import CellNet, cell_codes
from petridish.nets.mlp import MotifMLP, SlopeMLP, mlp_network
from petridish.nets.numerics import bce_with_logits, isolate_nonfinite_grad, safe_mean_loss
from petridish.nets.registry import (
    build_network,
    network_names,
    register_network,
    unregister_network,
)

__all__ = [
    "CellNet",
    "MotifMLP",
    "MotifNet",
    "NetBase",
    "Params",
    "SlopeMLP",
    "bce_with_logits",
    "build_network",
    "cell_codes",
    "isolate_nonfinite_grad",
    "mlp_network",
    "network_names",
    "register_network",
    "safe_mean_loss",
    "unregister_network",
]
