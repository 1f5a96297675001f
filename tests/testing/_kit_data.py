"""Shared, cached resources of the kit tests: the NAS-Bench-NLP logs and oracle, MNIST.

Each loader runs once per test session (``functools.cache``) and skips the calling test,
saying why, when its optional resource is absent.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest

from fake_tables import write_fake_nao_table
from petridish.dish.config import DishConfig
from petridish.motifs import Cell, SigmoidSlope
from petridish.motifs.cell import random_cell
from petridish.search.oracle import TabularOracle
from petridish.truth.nasbench_nlp import NasBenchNLP, load_nasbench_nlp
from shared_paths import SHARED_DATA, SHARED_REFERENCE

REFERENCE = SHARED_REFERENCE
NLP_ZIP = REFERENCE / "nasbench_nlp_wikitext2_logs.zip"

# The tiniest slope dish that still learns a monotone target (measured: Spearman 1.0 on
# held-out slopes; about 5 s to compile on 2 CPU cores, then milliseconds per fit).
TINY_SLOPE_DISH = DishConfig.for_slopes(
    restarts=1, ensemble=1, retries=0, outer_steps=20, inner_steps=50
)


def require_nlp_logs() -> Path:
    if not NLP_ZIP.is_file():
        pytest.skip(f"NAS-Bench-NLP logs not found at {NLP_ZIP} (optional resource)")
    return REFERENCE


@functools.cache
def _bench() -> NasBenchNLP:
    return load_nasbench_nlp(REFERENCE, download=False)


def nlp_bench() -> NasBenchNLP:
    require_nlp_logs()
    return _bench()


@functools.cache
def _oracle() -> TabularOracle:
    return TabularOracle.from_benchmark(_bench())


def nlp_oracle() -> TabularOracle:
    require_nlp_logs()
    return _oracle()


@functools.cache
def fake_nao_table_dir() -> Path:
    """A folder holding a fake 40-cell ``nao_ptb.csv`` (two diverged cells), made once per
    session and removed at exit: the ``nao_ptb`` space's ground truth in the kit runs."""
    folder = Path(tempfile.mkdtemp(prefix="petridish_nao_ptb_"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    write_fake_nao_table(folder)
    return folder


def _data_root() -> Path:
    """``$PETRIDISH_DATA_DIR`` when set, else the shared data."""
    env = os.environ.get("PETRIDISH_DATA_DIR")
    return Path(env) if env else SHARED_DATA


def mnist_dir() -> Path:
    """The directory holding MNIST (``$PETRIDISH_DATA_DIR`` or the shared data)."""
    root = _data_root()
    if not (root / "mnist").is_dir() and not any(root.glob("train-images*")):
        pytest.skip(f"MNIST not found under {root} (optional resource)")
    return root


def wikitext2_dir() -> Path:
    """The directory holding ``wikitext-2/`` (``$PETRIDISH_DATA_DIR`` or the shared data)."""
    root = _data_root()
    if not (root / "wikitext-2" / "wiki.train.tokens").is_file():
        pytest.skip(f"WikiText-2 not found under {root} (optional resource)")
    return root


def ptb_dir() -> Path:
    """The directory holding ``ptb/`` (``$PETRIDISH_DATA_DIR`` or the shared data)."""
    root = _data_root()
    if not (root / "ptb" / "ptb.train.txt").is_file():
        pytest.skip(f"PTB not found under {root} (optional resource)")
    return root


# ----------------------------------------------------------------- toy training sets


def slope_set(slopes: tuple[float, ...]) -> tuple[list[SigmoidSlope], np.ndarray]:
    """Slopes with the toy loss ``slope`` (strictly monotone in the slope)."""
    motifs = [SigmoidSlope(s) for s in slopes]
    return motifs, np.array(slopes, np.float64)


SLOPE_TRAIN = (0.1, 0.3, 0.6, 1.0, 1.5, 2.0)
SLOPE_QUERY = (0.2, 0.8, 1.2, 1.8)


def cell_set(sizes: tuple[int, ...], seed: int) -> tuple[list[Cell], np.ndarray]:
    """Random cells with ``sizes`` nodes and the toy loss ``n_nodes`` (monotone in size)."""
    rng = np.random.default_rng(seed)
    cells = [random_cell(rng, n_nodes=n) for n in sizes]
    return cells, np.array([c.n_nodes for c in cells], np.float64)


CELL_TRAIN = (2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
CELL_QUERY = (2, 4, 6, 8, 10, 12)


def pool_set(start: int, stop: int) -> tuple[list[Cell], np.ndarray]:
    """Pool cells ``start:stop`` of the NAS-Bench-NLP oracle with their final val loss."""
    entries = nlp_oracle().entries[start:stop]
    return [e.cell for e in entries], np.array([e.loss for e in entries], np.float64)
