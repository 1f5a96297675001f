"""The MLP blueprint on ``Activation`` motifs: the network ``"activation_mlp"``.

The whole plug-in is one registry line: ``MotifMLP`` runs any motif kind with the
``Motif.activation`` hook, here the expression interpreter of ``Activation``. A dish on
activations is ``DishConfig.for_slopes(network="activation_mlp")`` (the slope experiment's
blueprint and hyperparameters, the motif kind swapped; see
``petridish.search.spaces.activation.activation_dish``).
"""

from __future__ import annotations

from petridish.motifs.activation import Activation
from petridish.nets.mlp import mlp_network
from petridish.nets.registry import register_network

__all__ = ["ACTIVATION_NETWORK"]

ACTIVATION_NETWORK = "activation_mlp"

register_network(ACTIVATION_NETWORK, mlp_network(Activation))
