"""The evaluator kit over every evaluator of the library (one line per evaluator in CASES):
the MNIST slope evaluator (its cheapest protocol, two slopes), the NAS-Bench-NLP table, a
cell table (a fake ``nao_ptb``), and a fake that shows the kit's contract on the smallest
possible evaluator."""

from __future__ import annotations

import hashlib
import importlib
import inspect
import pkgutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pytest
from _kit_data import fake_nao_table_dir, mnist_dir, nlp_oracle, ptb_dir, wikitext2_dir

import petridish.evaluators
import petridish.truth
from petridish.evaluators import MnistSlopeEvaluator, Outcome, TabularEvaluator
from petridish.evaluators.base import Evaluator
from petridish.evaluators.tabular import CellTableEvaluator
from petridish.motifs import SigmoidSlope
from petridish.motifs.base import Motif
from petridish.motifs.cell import random_cell
from petridish.search.oracle import CellTableOracle
from petridish.search.spaces import GenotypeSpace, space_specs
from petridish.testing import EvaluatorKit
from petridish.truth.lm import LanguageModelEvaluator, LMProtocol


class FakeEvaluator:
    """A pure function of ``(motif, seed)``: the loss is a hash of both, scaled to [0, 1)."""

    name = "fake"
    protocol = "hash"

    def evaluate(self, motif: Motif, seed: int) -> Outcome:
        digest = hashlib.sha256(f"{motif.digest}:{seed}".encode()).digest()
        loss = int.from_bytes(digest[:4], "big") / 2**32
        return Outcome("ok", loss, metrics={"seed": float(seed)}, curve=(loss + 1.0, loss))


@dataclass(frozen=True)
class EvaluatorCase:
    """An evaluator class, a factory (called lazily: it may skip when its data is absent),
    the motifs it is checked on, and the tolerance of its repeat and batched-vs-single
    comparisons."""

    cls: type
    make: Callable[[], Evaluator]
    motifs: Callable[[], Sequence[Motif]]
    rtol: float = 0.0
    atol: float = 0.0
    volatile: frozenset[str] = frozenset()


def _slopes() -> list[Motif]:
    return [SigmoidSlope(0.5), SigmoidSlope(1.0)]


def _small_cells() -> list[Motif]:
    # Two cells of one shape (2 nodes, 1 state): one compiled language model serves both.
    rng = np.random.default_rng(0)
    return [random_cell(rng, n_nodes=2, n_states=1) for _ in range(2)]


# The cheapest language model that still trains: about 10 s on 2 cores (one compilation).
LM_KIT = LMProtocol(
    name="kit_tiny",
    embedding=8,
    hidden=8,
    layers=1,
    batch=4,
    bptt=5,
    epochs=1,
    optimizer="adam",
    lr=0.05,
    clip=1.0,
    tokens_per_epoch=240,
    val_tokens=200,
    eval_batch=4,
)


def _pool_cells() -> list[Motif]:
    return [e.cell for e in nlp_oracle().entries[:3]]


def _nao_table() -> CellTableOracle:
    return CellTableOracle.from_csv(
        fake_nao_table_dir() / "nao_ptb.csv", GenotypeSpace(), space_name="nao_ptb"
    )


def _table_cells() -> list[Motif]:
    return list(_nao_table().pool[4:7])  # row 5 diverged when the fake table was "measured"


# chunk=1: every call, batched or single, runs one compiled program (one model per batch),
# so repeated, batched and single evaluations agree exactly (measured; the tolerance is 0).
CASES: dict[str, EvaluatorCase] = {
    "mnist_mlp": EvaluatorCase(
        MnistSlopeEvaluator,
        lambda: MnistSlopeEvaluator(mnist_dir(), "tiny", chunk=1),
        _slopes,
        0.0,
        0.0,
    ),
    "nasbench_nlp_wt2": EvaluatorCase(TabularEvaluator, nlp_oracle, _pool_cells),
    "nao_ptb_table": EvaluatorCase(CellTableEvaluator, _nao_table, _table_cells),
    "lm_ptb": EvaluatorCase(
        LanguageModelEvaluator,
        lambda: LanguageModelEvaluator("ptb", LM_KIT, ptb_dir(), chunk=1, download=False),
        _small_cells,
        volatile=frozenset({"seconds"}),  # wall-clock training time
    ),
    "lm_wikitext2": EvaluatorCase(
        LanguageModelEvaluator,
        lambda: LanguageModelEvaluator(
            "wikitext2", LM_KIT, wikitext2_dir(), chunk=1, download=False
        ),
        _small_cells,
        volatile=frozenset({"seconds"}),
    ),
    "fake": EvaluatorCase(FakeEvaluator, FakeEvaluator, _slopes),
}


def _kit_class(name: str, case: EvaluatorCase) -> type[EvaluatorKit]:
    class Kit(EvaluatorKit):
        rtol = case.rtol
        atol = case.atol
        volatile_metrics = case.volatile

        @pytest.fixture(scope="class")
        @classmethod
        def evaluator(cls) -> Evaluator:
            return case.make()

        @pytest.fixture(scope="class")
        @classmethod
        def motifs(cls) -> Sequence[Motif]:
            return case.motifs()

        def test_case_is_named_after_the_evaluator(self, evaluator: Evaluator) -> None:
            assert evaluator.name == name
            assert isinstance(evaluator, case.cls)

    Kit.__name__ = Kit.__qualname__ = f"TestKit_{name}"
    return Kit


for _name, _case in CASES.items():
    globals()[f"TestKit_{_name}"] = _kit_class(_name, _case)


def test_every_evaluator_of_every_space_runs_the_kit() -> None:
    """An evaluator named by a registered space without a line in CASES fails here."""
    named = {e for spec in space_specs() for e in spec.evaluators}
    assert named, "no space names an evaluator"
    missing = named - set(CASES)
    assert not missing, f"evaluators without an EvaluatorKit run: {sorted(missing)}"
    for name in CASES:
        assert f"TestKit_{name}" in globals()


def _library_evaluator_classes() -> set[type]:
    """Classes with an ``evaluate`` method defined in ``petridish.evaluators`` and
    ``petridish.truth`` (every module, subpackages included); protocols left out."""
    found: set[type] = set()
    for package in (petridish.evaluators, petridish.truth):
        for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            module = importlib.import_module(info.name)
            for _, obj in inspect.getmembers(module, inspect.isclass):
                if obj.__module__ != module.__name__ or getattr(obj, "_is_protocol", False):
                    continue
                if callable(getattr(obj, "evaluate", None)):
                    found.add(obj)
    return found


def test_every_evaluator_class_runs_the_kit() -> None:
    """An evaluator class of the library without a line in CASES fails here."""
    classes = _library_evaluator_classes()
    assert {MnistSlopeEvaluator, TabularEvaluator} <= classes
    covered = {c.cls for c in CASES.values()}
    missing = sorted(cls.__qualname__ for cls in classes - covered)
    assert not missing, f"evaluator classes without an EvaluatorKit run: {missing}"
