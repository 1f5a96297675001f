"""The paper's NN surrogate on fixed cell encodings (the cell variant of ``NNSurrogate``).

Why a variant: ``NNSurrogate`` feeds the MLP ``Motif.encode_many``, which for ``Cell`` is
the executor's padded integer program ``(N, M, 2 + K)`` -- padded to the *batch* maximum, so
training and query batches can differ in width, and its integers (op ids, table rows) are
not meaningful magnitudes. This class feeds the same MLP a fixed-width encoding from
``petridish.baselines.encodings`` instead.

Contract (as ``NNSurrogate``, whose MLP, optimiser and compiled training loop it reuses):
features are standardised with the training mean and population std (constant columns are
divided by 1, which is most adjacency columns at small training sizes), targets are the
transformed training losses (``transform_targets``: rank-normal scores by default, or
z-scores), ``query`` returns the predicted target (lower = better).

The default encoding is ``"op_counts"`` (12 features), not ``"concat"`` (477): the paper's
10-10 MLP on hundreds of features from 10-160 cells overfits (4-seed pilot on NAS-Bench-NLP
at 160 cells, rank-normal targets: Kendall tau 0.28 with op counts, 0.11 with concat).
The same cells and seed give bit-equal predictions. Query before fit: ``NotFittedError``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from petridish.baselines.encodings import (
    DEFAULT_MAX_NODES,
    CellEncoder,
    EncodingKind,
    TargetKind,
    check_training_data,
    transform_targets,
)
from petridish.baselines.nn_surrogate import (
    NNSurrogateConfig,
    mlp_predictor,
    mlp_trainer,
)
from petridish.motifs import Motif
from petridish.predictor import NotFittedError

__all__ = ["EncodedNNSurrogate", "EncodedNNSurrogateConfig"]


@dataclass(frozen=True)
class EncodedNNSurrogateConfig:
    """The MLP's settings (paper Table 3 by default) and the cell encoding it reads."""

    network: NNSurrogateConfig = field(default_factory=NNSurrogateConfig)
    encoding: EncodingKind = "op_counts"
    max_nodes: int = DEFAULT_MAX_NODES
    target: TargetKind = "rank_normal"

    def __post_init__(self) -> None:
        CellEncoder(self.encoding, self.max_nodes)  # validates both fields
        transform_targets(np.arange(2.0), self.target)  # validates the name


class EncodedNNSurrogate:
    """MLP from a fixed cell encoding to z-scored loss (see module docstring)."""

    def __init__(self, config: EncodedNNSurrogateConfig | None = None) -> None:
        self.config = config if config is not None else EncodedNNSurrogateConfig()
        self._encoder = CellEncoder(self.config.encoding, self.config.max_nodes)
        self._params: list[dict[str, np.ndarray]] | None = None
        self._mean: np.ndarray | None = None  # (features,)
        self._std: np.ndarray | None = None  # (features,)

    def fit(
        self, motifs: Sequence[Motif], losses: Sequence[float] | np.ndarray, *, seed: int = 0
    ) -> EncodedNNSurrogate:
        """Train from scratch on ``motifs`` and their measured ``losses`` (lower = better)."""
        y_raw = check_training_data(motifs, losses, seed)
        y = transform_targets(y_raw, self.config.target).astype(np.float32)  # (n,)
        x = self._encoder(motifs)  # (n, features)
        mean = x.mean(axis=0)
        std = x.std(axis=0)
        std = np.where(std > 0, std, 1.0)
        xs = ((x - mean) / std).astype(np.float32)
        params = mlp_trainer(self.config.network)(
            jax.random.key(int(seed)), jnp.asarray(xs), jnp.asarray(y)
        )
        self._params = jax.device_get(params)
        self._mean, self._std = mean, std
        return self

    def query(self, motifs: Sequence[Motif]) -> np.ndarray:
        """Predicted z-scored loss, float64 ``(len(motifs),)``; lower = better."""
        if self._params is None or self._mean is None or self._std is None:
            raise NotFittedError("EncodedNNSurrogate.query called before fit; call fit first")
        xs = ((self._encoder(motifs) - self._mean) / self._std).astype(np.float32)
        pred = mlp_predictor(self.config.network.activation)(self._params, jnp.asarray(xs))
        return np.asarray(pred, dtype=np.float64)
