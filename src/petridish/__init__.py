"""petridish: cheap neural architecture search with the Synthetic Petri Dish.

Rawal, Lehman, Such, Clune, Stanley (2020), arXiv 2005.13092.

>>> from petridish import Dish, DishConfig
>>> from petridish.motifs import SigmoidSlope
"""

from petridish.dish import Dish, DishConfig, FitRecord, Prediction
from petridish.dish.devices import use_cpu_cores

__version__ = "0.1.0"
__all__ = ["Dish", "DishConfig", "FitRecord", "Prediction", "__version__", "use_cpu_cores"]
