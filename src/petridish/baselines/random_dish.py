"""The random-data dish (paper Figure 4): the same motif-networks, trained and scored on
the synthetic data as initialised, with no outer loop.

It isolates what the learned data adds: any ranking skill it has comes from the
motif-network's own inductive bias, not from fitting the ground truth.
"""

from __future__ import annotations

from petridish.dish.config import DishConfig
from petridish.dish.core import Dish


def random_data_dish(config: DishConfig | None = None) -> Dish:
    """A ``Dish`` whose ``fit`` draws data from its seed and runs zero outer steps.

    Restarts are switched off too: choosing among random draws by their fit to the ground
    truth would be a (crude) outer loop.
    """
    base = config if config is not None else DishConfig.for_slopes()
    return Dish(base.replace(outer_steps=0, restarts=1))
