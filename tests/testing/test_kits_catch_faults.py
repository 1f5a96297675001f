"""The kits fail on broken plug-ins: each kit runs (in a nested pytest session) over a
deliberately faulty implementation, and exactly the checks of the broken promises fail."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from petridish.motifs.base import _REGISTRY

HEADER = """
from dataclasses import dataclass
from typing import Any
import numpy as np
import pytest
from petridish.evaluators.base import Outcome
from petridish.motifs import SigmoidSlope
from petridish.motifs.base import Motif
from petridish.predictor import NotFittedError
from petridish.search.space import SlopeSpace
from petridish.search.spaces import GroundTruth, GroundTruthRequest, SpaceSpec, SLOPE
from petridish.testing import (
    EvaluatorKit, MotifKindKit, PredictorKit, SpaceKit, StrategyKit,
)
"""

# A motif kind whose from_payload validates nothing and whose encode_many sorts its rows.
MOTIF = """
@dataclass(frozen=True)
class Sloppy(Motif):
    value: float
    kind = "_kit_fault_sloppy"

    def payload(self) -> dict[str, Any]:
        return {"value": self.value}

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> "Sloppy":
        return cls(payload.get("value", 0.0))

    @classmethod
    def encode_many(cls, motifs):
        return np.sort(np.array([m.value for m in motifs], np.float32))

class TestSloppy(MotifKindKit):
    @pytest.fixture(scope="class")
    @classmethod
    def motif_kind(cls):
        return Sloppy

    @pytest.fixture(scope="class")
    @classmethod
    def sample_motifs(cls):
        return lambda rng: [Sloppy(3.0), Sloppy(1.0), Sloppy(2.0)]

    @pytest.fixture(scope="class")
    @classmethod
    def invalid_payloads(cls):
        return [{"value": "not a number"}]
"""

# An evaluator that drifts with every call and whose batch comes back reversed.
EVALUATOR = """
class Drifting:
    name = "drifting"
    protocol = "p"

    def __init__(self):
        self.calls = 0

    def evaluate(self, motif, seed):
        self.calls += 1
        return Outcome("ok", motif.slope + self.calls)

    def evaluate_many(self, motifs, seed):
        return [self.evaluate(m, seed) for m in motifs][::-1]

class TestDrifting(EvaluatorKit):
    @pytest.fixture(scope="class")
    @classmethod
    def evaluator(cls):
        return Drifting()

    @pytest.fixture(scope="class")
    @classmethod
    def motifs(cls):
        return [SigmoidSlope(0.5), SigmoidSlope(1.0)]
"""

# A strategy that ignores n, uses global randomness and writes into the history it reads.
STRATEGY = """
class Careless:
    name = "careless"

    def propose(self, space, history, n, rng, *, exclude=()):
        for genes, _ in history:
            genes[0] = 0
        return space.random_genes(np.random.default_rng(), max(n, 1))

    def rank(self, space, history, candidates, rng):
        return None

class TestCareless(StrategyKit):
    @pytest.fixture(scope="class")
    @classmethod
    def strategy(cls):
        return Careless()

    @pytest.fixture(scope="class")
    @classmethod
    def space(cls):
        return SlopeSpace()
"""

# A space whose realize ignores exclude and repeats motifs.
SPACE = """
class Repeating(SlopeSpace):
    def realize(self, genes, exclude):
        k = self.index(genes)
        return [SigmoidSlope(self.slope_at(int(i))) for i in k]

def _load(request):
    if request.protocol is not None:
        raise ValueError("no protocols")
    return GroundTruth(Repeating(), SLOPE.load(GroundTruthRequest()).evaluator)

BROKEN = SpaceSpec(
    name="slope", summary="slopes, badly", load=_load, evaluators=("mnist_mlp",),
    default_dish=SLOPE.default_dish,
)

class TestRepeating(SpaceKit):
    @pytest.fixture(scope="class")
    @classmethod
    def space_spec(cls):
        return BROKEN

    @pytest.fixture(scope="class")
    @classmethod
    def ground_truth_request(cls):
        return GroundTruthRequest()
"""

# A predictor that answers before fit, returns None from fit and remembers old fits.
PREDICTOR = """
class Forgetful:
    def __init__(self):
        self.table = {}

    def fit(self, motifs, losses, *, seed=0):
        for m, y in zip(motifs, losses):
            self.table[m] = self.table.get(m, 0.0) + float(y)

    def query(self, motifs):
        return np.array([self.table.get(m, 0.0) for m in motifs], np.float64)

class TestForgetful(PredictorKit):
    @pytest.fixture(scope="class")
    @classmethod
    def predictor_factory(cls):
        return Forgetful

    @pytest.fixture(scope="class")
    @classmethod
    def training_set(cls):
        slopes = [0.1, 0.5, 1.0, 2.0]
        return [SigmoidSlope(s) for s in slopes], np.array(slopes)
"""


class _Outcomes:
    """A pytest plugin recording each test's outcome by test function name."""

    def __init__(self) -> None:
        self.failed: set[str] = set()
        self.passed: set[str] = set()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        name = report.nodeid.split("::")[-1].split("[")[0]
        if report.failed:
            self.failed.add(name)
        elif report.passed and report.when == "call":
            self.passed.add(name)


def _run(tmp_path: Path, name: str, body: str) -> _Outcomes:
    path = tmp_path / f"test_fault_{name}.py"
    path.write_text(textwrap.dedent(HEADER) + textwrap.dedent(body))
    outcomes = _Outcomes()
    # The nested session registers its fake motif kind and imports its module in this
    # process: take both out again afterwards.
    kinds_before = set(_REGISTRY)
    args = [
        str(path),
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",
        "--rootdir",
        str(tmp_path),
    ]
    try:
        pytest.main(args, plugins=[outcomes])
    finally:
        for kind in set(_REGISTRY) - kinds_before:
            del _REGISTRY[kind]
        sys.modules.pop(path.stem, None)
    return outcomes


@pytest.mark.parametrize(
    ("name", "body", "must_fail", "must_pass"),
    [
        (
            "motif",
            MOTIF,
            {"test_invalid_payloads_raise_value_error", "test_encode_many_shape_and_order"},
            {"test_json_round_trip", "test_equality_and_hashing"},
        ),
        (
            "evaluator",
            EVALUATOR,
            {"test_deterministic_per_seed", "test_many_equals_one_by_one_in_order"},
            {"test_name_and_protocol", "test_outcomes_are_valid"},
        ),
        (
            "strategy",
            STRATEGY,
            {
                "test_count_is_honoured",
                "test_deterministic_per_rng_seed",
                "test_inputs_are_not_modified",
            },
            {"test_name", "test_rank_scores_candidates"},
        ),
        (
            "space",
            SPACE,
            {
                "test_realize_excludes_and_never_repeats",
                "test_realize_gives_none_when_nothing_is_left",
            },
            {"test_spec_fields", "test_alphabet", "test_membership"},
        ),
        (
            "predictor",
            PREDICTOR,
            {
                "test_query_before_fit_raises",
                "test_fit_returns_self",
                "test_refit_starts_from_scratch",
            },
            {"test_follows_the_protocol"},
        ),
    ],
)
def test_kit_fails_a_broken_plugin(
    tmp_path: Path, name: str, body: str, must_fail: set[str], must_pass: set[str]
) -> None:
    outcomes = _run(tmp_path, name, body)
    assert must_fail <= outcomes.failed, f"kit missed: {sorted(must_fail - outcomes.failed)}"
    assert must_pass <= outcomes.passed, f"kit over-reached: {sorted(must_pass - outcomes.passed)}"
