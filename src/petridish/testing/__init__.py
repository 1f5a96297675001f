"""Contract test kits: reusable pytest suites for every plug-in point of petridish.

Each kit is a pytest base class (as optuna ships its storage and sampler suites). A plug-in
author subclasses the kit in a test module (its name starting with ``Test``), provides the
kit's abstract fixtures, and pytest runs every contract test of the kit over the
implementation::

    from petridish.testing import MotifKindKit

    class TestMyMotif(MotifKindKit):
        @pytest.fixture(scope="class")
        @classmethod
        def motif_kind(cls):
            return MyMotif
        ...  # and the fixtures sample_motifs, invalid_payloads

The kits and the fixtures they ask for (each kit's module docstring has the details):

* ``MotifKindKit``: a ``petridish.motifs.base.Motif`` subclass (``motif_kind``,
  ``sample_motifs``, ``invalid_payloads``, optionally ``equal_variants``);
* ``EvaluatorKit``: a ``petridish.evaluators.base.Evaluator`` (``evaluator``, ``motifs``);
* ``StrategyKit``: a ``petridish.search.strategies.Strategy`` (``strategy``, ``space``);
* ``SpaceKit``: a ``petridish.search.spaces.SpaceSpec`` and its ``SearchSpace``
  (``space_spec``, ``ground_truth_request``);
* ``PredictorKit``: a ``petridish.predictor.Predictor`` (``predictor_factory``,
  ``training_set``, optionally ``query_set``).

The kits import ``pytest`` (a test-time dependency, not a runtime one of the library): import
``petridish.testing`` only from tests. Nothing in the library imports it. Fixtures a kit asks
for are class-scoped (the kit caches expensive results, e.g. a fit, once per subclass), so
the fixtures you provide must be ``scope="class"`` or wider (written, as pytest asks of
class-scoped fixtures in a class, as ``@classmethod`` under ``@pytest.fixture``). The
README's "Testing a plug-in" shows a complete example.
"""

from petridish.testing.evaluator import EvaluatorKit
from petridish.testing.motif_kind import MotifKindKit
from petridish.testing.predictor import PredictorKit
from petridish.testing.space import SpaceKit
from petridish.testing.strategy import StrategyKit

__all__ = ["EvaluatorKit", "MotifKindKit", "PredictorKit", "SpaceKit", "StrategyKit"]
