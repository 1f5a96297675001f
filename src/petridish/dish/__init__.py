"""The dish: synthetic data, the pure inner loop, the outer meta-step, fit/predict/save/load."""

from petridish.dish.config import DishConfig
from petridish.dish.core import Dish
from petridish.dish.prediction import Prediction
from petridish.dish.record import FitRecord, Member

__all__ = ["Dish", "DishConfig", "FitRecord", "Member", "Prediction"]
