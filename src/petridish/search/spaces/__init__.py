"""Searchable spaces: one ``SpaceSpec`` per space, each registered by its own module.

``base`` holds the contract (``SpaceSpec``, ``GroundTruth``), ``registry`` the table;
``slope``, ``activation``, ``nasbench_nlp``, ``nao``, ``recipes`` and ``nao_ptb`` (the ``nao``
genotypes in a measured table) are the built-in spaces. A new space: a new module here that
calls ``register_space`` plus its import line below.
"""

from petridish.search.spaces.activation import ACTIVATION
from petridish.search.spaces.base import GroundTruth, GroundTruthRequest, SpaceSpec
from petridish.search.spaces.nao import NAO, GenotypeSpace
from petridish.search.spaces.nao_ptb import NAO_PTB
from petridish.search.spaces.nasbench_nlp import NASBENCH_NLP, SEARCH_CELL_DISH
from petridish.search.spaces.recipes import RECIPES, RecipeSpace
from petridish.search.spaces.registry import (
    register_space,
    space_names,
    space_spec,
    space_specs,
)
from petridish.search.spaces.slope import SLOPE

__all__ = [
    "ACTIVATION",
    "NAO",
    "NAO_PTB",
    "NASBENCH_NLP",
    "RECIPES",
    "SEARCH_CELL_DISH",
    "SLOPE",
    "GenotypeSpace",
    "GroundTruth",
    "GroundTruthRequest",
    "RecipeSpace",
    "SpaceSpec",
    "register_space",
    "space_names",
    "space_spec",
    "space_specs",
]
