"""The space kit over every registered space (one line per space in REQUESTS: where its
ground truth comes from in the test run)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from _kit_data import fake_nao_table_dir, mnist_dir, ptb_dir, require_nlp_logs

from petridish.search.spaces import GroundTruthRequest, SpaceSpec, space_names, space_spec
from petridish.testing import SpaceKit

# Loading the slope space builds its evaluator without touching MNIST (it loads on the
# first evaluation), so the request only has to name a directory.
REQUESTS: dict[str, Callable[[], GroundTruthRequest]] = {
    "activation": lambda: GroundTruthRequest(data_dir=mnist_dir()),
    "slope": lambda: GroundTruthRequest(data_dir=mnist_dir()),
    "nasbench_nlp": lambda: GroundTruthRequest(data_dir=require_nlp_logs()),
    # The shared data folder holds ptb/ too; the language-model evaluator reads it only on
    # its first evaluation, which the kit never runs.
    "nao": lambda: GroundTruthRequest(data_dir=mnist_dir()),
    # The open recipe space trains with the same evaluator, which the kit never runs either.
    "recipes": lambda: GroundTruthRequest(data_dir=ptb_dir()),
    # A fake 40-cell table (no training): the bundled one may not exist yet.
    "nao_ptb": lambda: GroundTruthRequest(data_dir=fake_nao_table_dir()),
}


def _kit_class(name: str) -> type[SpaceKit]:
    class Kit(SpaceKit):
        @pytest.fixture(scope="class")
        @classmethod
        def space_spec(cls) -> SpaceSpec:
            return space_spec(name)

        @pytest.fixture(scope="class")
        @classmethod
        def ground_truth_request(cls) -> GroundTruthRequest:
            return REQUESTS[name]()

    Kit.__name__ = Kit.__qualname__ = f"TestKit_{name}"
    return Kit


for _name in REQUESTS:
    globals()[f"TestKit_{_name}"] = _kit_class(_name)


def test_every_registered_space_runs_the_kit() -> None:
    """A registered space without a line in REQUESTS fails here."""
    missing = set(space_names()) - set(REQUESTS)
    assert not missing, f"spaces without a SpaceKit run: {sorted(missing)}"
    assert all(f"TestKit_{name}" in globals() for name in REQUESTS)
