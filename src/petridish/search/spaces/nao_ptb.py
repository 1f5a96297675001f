"""The paper's own space as a table: ``nao_ptb``, 12-node NAO/ENAS genotypes with their
measured Penn Treebank losses (``petridish.truth.cell_table("nao_ptb")``).

The space is a ``TablePoolSpace`` over ``GenotypeSpace(12)``: genes are the paper's
genotype strings (so GA and NAO search the same encoding as on ``nao``), and every proposal
maps to the nearest free table cell. Ground truth is a ``CellTableOracle`` (a look-up; a
cell that diverged when the table was measured is a ``"diverged"`` outcome), so ``petridish
compare --space nao_ptb`` runs the Figure 3 analogue in the paper's space.

The table is the bundled one unless ``--data-dir`` names a table CSV or a folder holding
``nao_ptb.csv`` (e.g. one just measured by ``petridish truth --space nao``). Without either
the load is a ``FileNotFoundError`` saying how to measure it.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from petridish.search.spaces.base import GroundTruth, GroundTruthRequest, SpaceSpec
from petridish.search.spaces.nao import NAO, GenotypeSpace
from petridish.search.spaces.registry import register_space

__all__ = ["MEASURE_NAO_PTB", "NAO_PTB", "bundled_table_exists"]

MEASURE_NAO_PTB = (
    "petridish truth --space nao --protocol cpu --n 200 --out src/petridish/truth/nao_ptb.csv"
)
"""The command that measures the table (about 15-60 s per cell on CPU; resumable)."""

_NAME = "nao_ptb"


def _table_path(data_dir: str | os.PathLike[str]) -> Path:
    """The CSV ``data_dir`` names: itself, or ``nao_ptb.csv`` in it."""
    path = Path(data_dir)
    if path.is_dir():
        path = path / f"{_NAME}.csv"
    if not path.is_file():
        raise FileNotFoundError(
            f"no {_NAME} table at {path}; measure one with `{MEASURE_NAO_PTB}` (or --out "
            "another CSV) and pass it, or its folder, as --data-dir"
        )
    return path


def bundled_table_exists() -> bool:
    """Whether the package holds ``petridish/truth/nao_ptb.csv``."""
    return resources.files("petridish").joinpath("truth", f"{_NAME}.csv").is_file()


def _load(request: GroundTruthRequest) -> GroundTruth:
    """``TablePoolSpace`` over ``GenotypeSpace(12)`` with its ``CellTableOracle``."""
    from petridish.search.oracle import CellTableOracle
    from petridish.truth.cell_tables import cell_table

    if request.protocol is not None:
        raise ValueError(f"the {_NAME} table has no protocols (it was measured with one)")
    base = GenotypeSpace()
    if request.data_dir is not None:
        oracle = CellTableOracle.from_csv(_table_path(request.data_dir), base, space_name=_NAME)
    else:
        if not bundled_table_exists():
            raise FileNotFoundError(
                f"the bundled {_NAME} table (petridish/truth/{_NAME}.csv) is missing; "
                f"measure it with `{MEASURE_NAO_PTB}`, or pass --data-dir with a table CSV "
                "(or its folder)"
            )
        cells, losses = cell_table(_NAME)  # a malformed file: ValueError naming it
        oracle = CellTableOracle(cells, losses, base, space_name=_NAME)
    return GroundTruth(oracle.space(), oracle, oracle)


NAO_PTB = register_space(
    SpaceSpec(
        name=_NAME,
        summary="NAO/ENAS genotypes (12 nodes) with measured PTB losses, a tabular oracle",
        load=_load,
        evaluators=(f"{_NAME}_table",),
        # The same motifs as nao (12-node genotypes), so the same dish.
        default_dish=NAO.default_dish,
        default_predictor="dish",
        downloads=False,
        tabular=True,
        truth="table",
        data_hint=f"measure the table with `{MEASURE_NAO_PTB}`, or pass --data-dir with one",
    )
)
