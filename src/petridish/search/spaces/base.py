"""The space specification: everything the search needs to know about one searched space.

Contract
--------
A ``SpaceSpec`` is a frozen record, registered once by name (``registry``):

* ``load(GroundTruthRequest)`` builds the space and its ground truth: a ``GroundTruth``
  with the ``SearchSpace``, the ``Evaluator`` and, for a tabular space, the oracle whose
  best motifs are known (``compare`` needs it). It raises ``ValueError`` or
  ``FileNotFoundError`` with a message a user can act on (bad protocol, missing data);
  it never prompts and never downloads unless ``request.download``.
* ``evaluators`` names the evaluators the space can be searched with (``Evaluator.name``).
* ``default_predictor`` names the predictor that filters a search by default (a name of
  ``petridish.search.predictors``; ``"none"``: the strategy alone); ``default_dish()``
  is the ``DishConfig`` a dish needs on this space's motifs.
* ``default_strategy`` names the strategy that proposes motifs when a search names none (a
  name of ``petridish.search.strategies``): the paper's ``"ga"`` unless another generator
  measured better on the space (``"mixed"`` on the NAS-Bench-NLP pool, README "Search").
* ``protocols`` lists the ground-truth protocols ``--protocol`` may name (empty: the option
  does not apply); ``downloads`` says whether ``--download`` applies; ``data_hint`` is
  the one-line advice printed when the ground truth cannot be had.
* ``truth`` names the kind of ground truth (``"mnist"``: MNIST training, ``"table"``: a
  measured table, ``"lm"``: language-model training), what ``search --truth`` checks;
  ``corpora`` lists the corpora a language-model space trains on (the first is the default
  one, which a protocol without a ``CORPUS:`` prefix means), what ``--corpus`` may name.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from petridish.dish.config import DishConfig
    from petridish.evaluators.base import Evaluator
    from petridish.search.space import SearchSpace

__all__ = ["GroundTruth", "GroundTruthRequest", "SpaceSpec"]


@dataclass(frozen=True)
class GroundTruthRequest:
    """Where a space's ground truth comes from: a data path (None: the space's default,
    e.g. ``$PETRIDISH_DATA_DIR``), a protocol name (None: the space's default) and whether
    a missing download may be fetched."""

    data_dir: str | os.PathLike[str] | None = None
    protocol: str | None = None
    download: bool = False


@dataclass(frozen=True)
class GroundTruth:
    """A space with its evaluator; ``oracle`` is the tabular oracle (best motifs known) or
    None for a space whose ground truth is trained."""

    space: SearchSpace
    evaluator: Evaluator
    oracle: Any = None


@dataclass(frozen=True)
class SpaceSpec:
    """One searchable space; see the module docstring for each field's contract."""

    name: str
    summary: str
    load: Callable[[GroundTruthRequest], GroundTruth]
    evaluators: tuple[str, ...]
    default_dish: Callable[[], DishConfig]
    default_predictor: str = "dish"
    default_strategy: str = "ga"
    protocols: tuple[str, ...] = ()
    default_protocol: str | None = None
    downloads: bool = False
    tabular: bool = False
    data_hint: str = "provide the data with --data-dir"
    truth: str = "trained"
    corpora: tuple[str, ...] = ()

    @property
    def runs_cells(self) -> bool:
        """Whether the space's motifs are recurrent cells: its default dish runs a cell
        network (``CellNet`` or a subclass such as the genotype network)."""
        from petridish.nets.cell import CellNet
        from petridish.nets.registry import build_network

        dish = self.default_dish()
        return isinstance(build_network(dish.network, dish), CellNet)
