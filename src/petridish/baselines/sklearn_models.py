"""Tabular regressors on cell encodings: random forest, gradient-boosted trees, a GP.

Contract:

* ``SklearnPredictor(model_config)`` follows the ``Predictor`` protocol: ``fit`` encodes
  the cells (``petridish.baselines.encodings``, kind and ``max_nodes`` from the config),
  standardises the features with the training mean and population std (constant columns
  divided by 1; trees do not care, the GP's isotropic kernel does), turns the losses into
  targets (``transform_targets``, ``target`` of the config: rank-normal scores by default,
  or z-scores) and fits a fresh scikit-learn regressor seeded with ``random_state=seed``;
  ``query`` returns the predicted target, float64 ``(n,)``, lower = better. Same data and
  seed: equal predictions. Query before fit: ``NotFittedError``.
* Models (frozen configs; defaults are scikit-learn's own where it has one):

  - ``RandomForestConfig``: ``RandomForestRegressor``, 200 trees, ``max_features=1/3``
    (the regression default of Breiman's forests; sklearn's ``1.0`` is plain bagging).
  - ``GradientBoostingConfig``: ``GradientBoostingRegressor``, 200 stages of depth-3 trees,
    learning rate 0.05, subsample 0.8 (stochastic boosting, hence the seed matters).
  - ``GaussianProcessConfig``: ``GaussianProcessRegressor`` with
    ``Constant * Matern(nu) + White`` (isotropic length scale: with <= 160 points an ARD
    kernel over hundreds of features overfits its marginal likelihood), hyperparameters
    by maximum marginal likelihood with ``n_restarts`` random restarts.

* scikit-learn is an optional (dev/benchmark) dependency: it is imported on first ``fit``;
  if missing, ``ImportError`` says how to install it. Importing this module never needs it.
"""

from __future__ import annotations

import importlib
import logging
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from petridish._logging import logger
from petridish._validation import nonnegative_int, number, positive_int
from petridish.baselines.encodings import (
    DEFAULT_MAX_NODES,
    CellEncoder,
    EncodingKind,
    TargetKind,
    check_training_data,
    transform_targets,
)
from petridish.motifs import Motif
from petridish.predictor import NotFittedError

__all__ = [
    "GaussianProcessConfig",
    "GradientBoostingConfig",
    "ModelConfig",
    "RandomForestConfig",
    "SklearnPredictor",
    "gaussian_process",
    "gradient_boosting",
    "random_forest",
    "require_sklearn",
]


def require_sklearn(module: str = "sklearn") -> Any:
    """Import ``module`` of scikit-learn, or raise an ``ImportError`` saying how to get it."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise ImportError(
            f"the tree and Gaussian-process baselines need scikit-learn ({module} failed to "
            f"import: {err}); install it with `pip install scikit-learn` or "
            f"`pip install 'petridish[dev]'`"
        ) from err


def _check_inputs(encoding: EncodingKind, max_nodes: int, target: TargetKind) -> None:
    CellEncoder(encoding, max_nodes)  # validates both, naming a bad value
    transform_targets(np.arange(2.0), target)  # validates the name


def _int_field(
    config: object, name: str, check: Callable[[object, str], int] = positive_int
) -> None:
    """Check ``config.name`` with ``check`` and store it as a plain ``int`` (frozen configs)."""
    value = check(getattr(config, name), f"{type(config).__name__}.{name}")
    object.__setattr__(config, name, value)


def _in_range(owner: str, name: str, value: float, lo: float, hi: float) -> None:
    x = number(value, f"{owner}.{name}")
    if not (math.isfinite(x) and lo < x <= hi):
        raise ValueError(f"{owner}.{name} must be in ({lo}, {hi}], got {value!r}")


@dataclass(frozen=True)
class RandomForestConfig:
    """Random forest regressor on a cell encoding."""

    n_estimators: int = 200
    max_features: float = 1.0 / 3.0
    min_samples_leaf: int = 1
    encoding: EncodingKind = "op_counts"
    max_nodes: int = DEFAULT_MAX_NODES
    target: TargetKind = "rank_normal"

    def __post_init__(self) -> None:
        _int_field(self, "n_estimators")
        _int_field(self, "min_samples_leaf")
        _in_range("RandomForestConfig", "max_features", self.max_features, 0.0, 1.0)
        _check_inputs(self.encoding, self.max_nodes, self.target)

    def build(self, seed: int) -> Any:
        ensemble = require_sklearn("sklearn.ensemble")
        return ensemble.RandomForestRegressor(
            n_estimators=self.n_estimators,
            max_features=self.max_features,
            min_samples_leaf=self.min_samples_leaf,
            random_state=seed,
            n_jobs=1,  # the benchmark machine is shared; parallelism belongs to the caller
        )


@dataclass(frozen=True)
class GradientBoostingConfig:
    """Gradient-boosted regression trees on a cell encoding."""

    n_estimators: int = 200
    learning_rate: float = 0.05
    max_depth: int = 3
    subsample: float = 0.8
    encoding: EncodingKind = "op_counts"
    max_nodes: int = DEFAULT_MAX_NODES
    target: TargetKind = "rank_normal"

    def __post_init__(self) -> None:
        _int_field(self, "n_estimators")
        _int_field(self, "max_depth")
        _in_range("GradientBoostingConfig", "learning_rate", self.learning_rate, 0.0, 1.0)
        _in_range("GradientBoostingConfig", "subsample", self.subsample, 0.0, 1.0)
        _check_inputs(self.encoding, self.max_nodes, self.target)

    def build(self, seed: int) -> Any:
        ensemble = require_sklearn("sklearn.ensemble")
        return ensemble.GradientBoostingRegressor(
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            max_depth=self.max_depth,
            subsample=self.subsample,
            random_state=seed,
        )


@dataclass(frozen=True)
class GaussianProcessConfig:
    """Gaussian-process regression (Matern kernel plus noise) on a cell encoding."""

    nu: float = 2.5  # Matern smoothness: 0.5, 1.5 or 2.5 (closed forms)
    n_restarts: int = 2
    encoding: EncodingKind = "op_counts"
    max_nodes: int = DEFAULT_MAX_NODES
    target: TargetKind = "rank_normal"

    def __post_init__(self) -> None:
        if self.nu not in (0.5, 1.5, 2.5):
            raise ValueError(f"GaussianProcessConfig.nu must be 0.5, 1.5 or 2.5, got {self.nu!r}")
        _int_field(self, "n_restarts", nonnegative_int)
        _check_inputs(self.encoding, self.max_nodes, self.target)

    def build(self, seed: int) -> Any:
        gp = require_sklearn("sklearn.gaussian_process")
        kernels = require_sklearn("sklearn.gaussian_process.kernels")
        # Features are standardised, so a length scale of a few units is the natural start;
        # the bounds keep the optimiser away from degenerate (all-noise / interpolating) fits.
        kernel = kernels.ConstantKernel(1.0, (1e-2, 1e2)) * kernels.Matern(
            length_scale=10.0, length_scale_bounds=(1e-1, 1e3), nu=self.nu
        ) + kernels.WhiteKernel(0.1, (1e-4, 1e1))
        return gp.GaussianProcessRegressor(
            kernel=kernel,
            normalize_y=False,  # targets arrive z-scored
            n_restarts_optimizer=self.n_restarts,
            random_state=seed,
        )


ModelConfig = RandomForestConfig | GradientBoostingConfig | GaussianProcessConfig


class SklearnPredictor:
    """A scikit-learn regressor on a cell encoding (see module docstring)."""

    def __init__(self, model: ModelConfig) -> None:
        if not isinstance(
            model, RandomForestConfig | GradientBoostingConfig | GaussianProcessConfig
        ):
            raise ValueError(f"model must be one of the model configs, got {model!r}")
        self.model = model
        self._encoder = CellEncoder(model.encoding, model.max_nodes)
        self._estimator: Any = None
        self._mean: np.ndarray | None = None  # (features,)
        self._std: np.ndarray | None = None  # (features,)

    def __repr__(self) -> str:
        return f"SklearnPredictor({self.model!r})"

    def fit(
        self, motifs: Sequence[Motif], losses: Sequence[float] | np.ndarray, *, seed: int = 0
    ) -> SklearnPredictor:
        """Train a fresh regressor on ``motifs`` and their ``losses`` (lower = better)."""
        y = transform_targets(check_training_data(motifs, losses, seed), self.model.target)
        x = self._encoder(motifs)  # (n, features)
        mean = x.mean(axis=0)
        std = x.std(axis=0)
        std = np.where(std > 0, std, 1.0)
        # sklearn seeds are 32-bit: fold larger seeds in rather than fail on them.
        estimator = self.model.build(int(seed) % (2**32))
        exceptions = require_sklearn("sklearn.exceptions")
        with warnings.catch_warnings(record=True) as caught:
            # The GP's optimiser warns when a hyperparameter sits on its bound (common with
            # 10 points); that is a property of the data, not an error: log, do not print.
            warnings.simplefilter("always", exceptions.ConvergenceWarning)
            estimator.fit((x - mean) / std, y)
        for w in caught:
            benign = issubclass(w.category, exceptions.ConvergenceWarning)
            level = logging.DEBUG if benign else logging.WARNING
            logger.log(level, "%s fit: %s", type(self.model).__name__, w.message)
        self._estimator, self._mean, self._std = estimator, mean, std
        return self

    def query(self, motifs: Sequence[Motif]) -> np.ndarray:
        """Predicted z-scored loss, float64 ``(len(motifs),)``; lower = better."""
        if self._estimator is None or self._mean is None or self._std is None:
            raise NotFittedError(f"{self!r}.query called before fit; call fit first")
        x = (self._encoder(motifs) - self._mean) / self._std  # (n, features)
        return np.asarray(self._estimator.predict(x), dtype=np.float64)


def random_forest(**overrides: Any) -> SklearnPredictor:
    """``SklearnPredictor(RandomForestConfig(**overrides))``."""
    return SklearnPredictor(RandomForestConfig(**overrides))


def gradient_boosting(**overrides: Any) -> SklearnPredictor:
    """``SklearnPredictor(GradientBoostingConfig(**overrides))``."""
    return SklearnPredictor(GradientBoostingConfig(**overrides))


def gaussian_process(**overrides: Any) -> SklearnPredictor:
    """``SklearnPredictor(GaussianProcessConfig(**overrides))``."""
    return SklearnPredictor(GaussianProcessConfig(**overrides))
