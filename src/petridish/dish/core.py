"""``Dish``: fit synthetic data to ground truth (paper Section 3.1), then rank new motifs
by training them on it (Section 3.2).

Contract: ``fit(motifs, losses, seed=)`` takes motifs of one kind and their ground-truth
losses (lower is better; pass ``1 - accuracy`` for accuracies) and learns the synthetic
train and validation inputs; ``predict(motifs)`` returns a ``Prediction`` whose
``scores`` are lower for motifs predicted better. The same seed gives the same result.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from petridish import metrics
from petridish._logging import logger
from petridish.dish.config import DishConfig
from petridish.dish.devices import motif_shards
from petridish.dish.inner import InnerSettings, score_motifs
from petridish.dish.outer import STATS, OuterSettings, Synthetic, compiled, outer_step
from petridish.dish.prediction import Prediction
from petridish.motifs.base import Motif, motif_family
from petridish.nets.base import MotifNet, Params
from petridish.nets.cell import CellNet
from petridish.nets.mlp import SlopeMLP

ProgressFn = Callable[[int, int, float], None]  # (step done, total steps, outer loss)


@dataclass(frozen=True)
class FitRecord:
    """What a fit did: per-step outer losses, timings and its inputs' sizes."""

    seed: int
    n_motifs: int  # motifs the outer loop trained on (held-out validation motifs excluded)
    outer_losses: tuple[float, ...]
    fit_seconds: float  # wall time of the whole fit, compile included
    compile_seconds: float  # part of fit_seconds spent compiling (0 when cached)
    # With validation motifs: z-scored MSE on them after each step (index 0 = initial data)
    # and the step whose synthetic data was kept (the one with the lowest validation MSE).
    val_losses: tuple[float, ...] = ()
    best_step: int | None = None
    restart: int = 0  # which of config.restarts fits was kept
    n_validation: int = 0  # validation motifs (given, or held out by config.val_fraction)


@dataclass(frozen=True)
class _Run:
    outer_losses: tuple[float, ...]
    val_losses: tuple[float, ...]
    best_step: int | None


def restart_seed(seed: int, restart: int) -> int:
    """A seed for restart ``restart`` > 0, independent of ``seed + k`` of other fits."""
    return int(np.random.SeedSequence([seed, restart]).generate_state(1)[0] & 0x7FFFFFFF)


def build_net(config: DishConfig) -> MotifNet:
    """The motif-network blueprint named by ``config.network``."""
    if config.network == "slope_mlp":
        return SlopeMLP(config.layer_sizes)
    if config.network == "cell":
        n_in, hidden, n_out = config.layer_sizes
        return CellNet(
            input_dim=n_in,
            hidden=hidden,
            output_dim=n_out,
            max_nodes=config.max_nodes,
            max_slots=config.max_slots,
        )
    raise ValueError(f"unknown network {config.network!r}")


def encode(config: DishConfig, kind: type[Motif], motifs: Sequence[Motif]) -> np.ndarray:
    """Motif codes ``(motifs, ...)`` in the fixed shape the configured network compiles for.

    Cells are padded to the network's ``max_nodes``/``max_slots`` (a cell that does not fit
    is a ``ValueError`` naming the limit), so every batch reuses one compiled program.
    """
    net = build_net(config)
    if isinstance(net, CellNet):
        return net.codes(motifs)
    return np.asarray(kind.encode_many(motifs))


def inner_settings(config: DishConfig) -> InnerSettings:
    return InnerSettings(
        net=build_net(config),
        lr=config.inner_lr,
        l2=config.inner_l2,
        steps=config.inner_steps,
        eps_root=config.inner_eps_root,
        shards=motif_shards(config.network),
    )


def outer_settings(config: DishConfig) -> OuterSettings:
    return OuterSettings(
        lr=config.outer_lr,
        decay=config.outer_decay,
        decay_first=config.outer_decay_first,
        decay_every=config.outer_decay_every,
        l2=config.outer_l2,
        learn_validation=config.learn_validation,
        loss=config.outer_loss,
    )


def check_losses(losses: Sequence[float] | np.ndarray, n_motifs: int) -> np.ndarray:
    """Validate ground-truth losses against the motifs; returns float64 (motifs,)."""
    arr = np.asarray(losses, dtype=np.float64)
    if arr.ndim != 1 or arr.shape[0] != n_motifs:
        raise ValueError(f"need one loss per motif: {n_motifs} motifs, losses shape {arr.shape}")
    if n_motifs < 2:
        raise ValueError(f"need at least 2 motifs to fit a dish, got {n_motifs}")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise ValueError(f"ground-truth losses must be finite; index {bad[0]} is {arr[bad[0]]}")
    if np.ptp(arr) == 0:
        raise ValueError(f"ground-truth losses are all equal ({arr[0]}): nothing to rank")
    return arr


def selection_mse(scores: np.ndarray, targets: np.ndarray) -> float:
    """``metrics.zscored_mse`` for choosing between fits (validation early stopping,
    restarts, Appendix A.1), made total: non-finite scores (diverged motifs) count as
    worst, just above the worst finite score; no finite spread at all -> inf."""
    scores = np.asarray(scores, dtype=np.float64)
    bad = ~np.isfinite(scores)
    if bad.all():
        return float("inf")
    if bad.any():
        finite = scores[~bad]
        scores = np.where(bad, finite.max() + max(float(np.ptp(finite)), 1.0), scores)
    if np.ptp(scores) == 0:
        return float("inf")
    return metrics.zscored_mse(scores, targets)


def _pad_batch(
    codes: jax.Array, targets: np.ndarray, motif_batch: int
) -> tuple[jax.Array, np.ndarray]:
    """Pad a training batch to a multiple of 8 motifs (at most ``motif_batch``) so that a
    training set growing by a few motifs (a search refitting its dish every iteration)
    reuses one compiled outer step. Padding repeats the first code with a NaN target,
    which ``meta_loss`` leaves out of every statistic: the loss and gradient are unchanged.
    """
    n = codes.shape[0]
    size = max(n, min(motif_batch, -(-n // 8) * 8))
    if size == n:
        return codes, targets
    pad = size - n
    codes = jnp.concatenate([codes, jnp.repeat(codes[:1], pad, axis=0)])
    return codes, np.concatenate([targets, np.full(pad, np.nan)])


# Largest number of motifs scored by one call of the compiled inner loop in ``raw_scores``,
# per network (absent: no limit). Measured for the cell network on 2 CPU cores
# (``benchmarks/bench_cell_dish.py``, "predict chunk" rows): up to 64 cells per call cost
# about the same per cell, 128 at once more than twice as much per cell (the working set of
# the inner training runs falls out of cache), so larger requests run in chunks. The slope
# MLP is tiny and runs any request in one call.
PREDICT_CHUNK: dict[str, int] = {"cell": 64}


# Cell codes are cut to the longest cell they hold, rounded up to a multiple of this many
# nodes (``CellNet.trim``): the executor's node loop runs once per node row, padding rows
# included, so a chunk of small cells costs what its cells need. Measured side by side in
# ``benchmarks/bench_cell_dish.py`` (``predict_100_untrimmed_s``). Few buckets, few compiles.
NODE_BUCKET = 4


def holdout_split(
    motifs: list[Motif], targets: np.ndarray, fraction: float, seed: int
) -> tuple[list[Motif], np.ndarray, tuple[list[Motif], np.ndarray] | None]:
    """``(train motifs, train targets, validation or None)``: ``ceil(fraction * n)`` motifs
    (at least 2) drawn with ``seed`` become the validation set. None (all motifs train) when
    that would leave under 2 training motifs or validation losses without spread, which can
    rank nothing; the training motifs keep their order."""
    n = len(motifs)
    n_val = max(2, math.ceil(fraction * n))
    if n - n_val < 2:
        logger.info("dish fit: %d motifs are too few to hold out validation; fitting on all", n)
        return motifs, targets, None
    val_idx = np.sort(np.random.default_rng([seed, 2]).permutation(n)[:n_val])
    if np.ptp(targets[val_idx]) == 0:
        logger.info("dish fit: held-out losses are all equal; fitting on all motifs")
        return motifs, targets, None
    train_idx = np.setdiff1d(np.arange(n), val_idx)  # ascending: training order kept
    return (
        [motifs[i] for i in train_idx],
        targets[train_idx],
        ([motifs[i] for i in val_idx], targets[val_idx]),
    )


def trim_nodes(config: DishConfig, codes: np.ndarray) -> np.ndarray:
    """``codes`` with trailing all-padding node rows cut off (cell network only; see
    ``CellNet.trim``): the scores are unchanged."""
    return CellNet.trim(codes, NODE_BUCKET) if config.network == "cell" else codes


def _bucket(n: int, limit: int | None = None) -> int:
    """Pad motif counts to powers of two (>= 8, and <= ``limit`` when given) so predict
    compiles few shapes."""
    size = max(8, 1 << (n - 1).bit_length())
    return size if limit is None else min(limit, size)


class Dish:
    """A Synthetic Petri Dish. See the module docstring for the contract."""

    def __init__(self, config: DishConfig | None = None) -> None:
        self.config = config if config is not None else DishConfig.for_slopes()
        self.synthetic: Synthetic | None = None
        self.labels: jax.Array | None = None  # (n, out) fixed random binary
        self.theta_init: Params | None = None
        self.record: FitRecord | None = None
        self.kind: type[Motif] | None = None

    # -- state ------------------------------------------------------------------------
    @property
    def fitted(self) -> bool:
        return self.synthetic is not None

    def initialize(self, seed: int, kind: type[Motif]) -> Dish:
        """Draw theta_init, labels and the initial synthetic data from ``seed`` (no training).

        With no outer steps this is the paper's random-data dish (Figure 4).
        """
        cfg = self.config
        net = build_net(cfg)
        k_theta, k_x, k_y = jax.random.split(jax.random.PRNGKey(seed), 3)
        # (inits, ...) stacked initial weights; one set unless config.n_inits > 1.
        self.theta_init = jax.vmap(lambda k: net.init(k, cfg.init_scale))(
            jax.random.split(k_theta, cfg.n_inits)
        )
        # (n, in) for the slope MLP, (n, T, in) sequences for cells.
        x = jax.random.normal(k_x, (cfg.n_samples, *cfg.input_shape))
        # Validation inputs start equal to train inputs; both are learned.
        self.synthetic = {"x_train": x, "x_val": x}
        shape = (cfg.n_samples, *cfg.label_shape)  # (n, out) or (n, T, out): one label per step
        self.labels = jax.random.bernoulli(k_y, 0.5, shape).astype(x.dtype)
        self.kind = kind
        return self

    # -- fit --------------------------------------------------------------------------
    def fit(
        self,
        motifs: Sequence[Motif],
        losses: Sequence[float] | np.ndarray,
        *,
        seed: int = 0,
        validation: tuple[Sequence[Motif], Sequence[float] | np.ndarray] | None = None,
        progress: ProgressFn | None = None,
    ) -> Dish:
        """Learn the synthetic data so dish scores rank ``motifs`` like ``losses``.

        With ``validation=(motifs, losses)``, the synthetic data of the outer step with the
        lowest z-scored MSE on those motifs is kept (early stopping); otherwise the last.
        Without it, ``config.val_fraction > 0`` holds that fraction of ``motifs`` out as the
        validation set (``holdout_split``) and fits on the rest. With validation and
        ``config.patience > 0`` the outer loop stops once ``patience`` steps in a row have
        not lowered the validation loss. ``progress(step, total, outer loss)`` is called
        after every outer step; on such an early stop its last call has ``step == total``.
        With ``config.restarts > 1``, that many fits from different initial draws are run
        and the one with the lowest selection loss is kept (validation MSE, or the outer
        loss on the training motifs without validation). Restart 0 uses ``seed`` itself.
        """
        kind = motif_family(motifs)
        targets = check_losses(losses, len(motifs))
        val: tuple[list[Motif], np.ndarray] | None = None
        if validation is not None:
            val_motifs = list(validation[0])
            if motif_family(val_motifs) is not kind:
                raise ValueError(
                    "validation motifs must be of the same kind as the training motifs"
                )
            val = (val_motifs, check_losses(validation[1], len(val_motifs)))
        cfg = self.config
        motifs = list(motifs)
        if val is None and cfg.val_fraction > 0:
            motifs, targets, val = holdout_split(motifs, targets, cfg.val_fraction, seed)
        t0 = time.perf_counter()
        compile_before = STATS.compile_seconds
        codes = jnp.asarray(trim_nodes(cfg, encode(cfg, kind, motifs)))  # (motifs, ...)
        best: tuple[float, int, dict[str, Any], _Run] | None = None
        for restart in range(cfg.restarts):
            run_seed = seed if restart == 0 else restart_seed(seed, restart)
            run = self._fit_once(run_seed, kind, codes, targets, val, progress)
            if val is not None:
                selection = min(run.val_losses)
            elif cfg.restarts > 1:
                selection = selection_mse(self.raw_scores(motifs), targets)
            else:  # nothing to choose between: skip scoring the training motifs again
                selection = 0.0
            if best is None or selection < best[0]:
                best = (selection, restart, self._state(), run)
        assert best is not None
        _, chosen, state, run = best
        self.__dict__.update(state)
        fit_seconds = time.perf_counter() - t0
        self.record = FitRecord(
            seed=seed,
            n_motifs=len(motifs),
            outer_losses=run.outer_losses,
            fit_seconds=fit_seconds,
            compile_seconds=STATS.compile_seconds - compile_before,
            val_losses=run.val_losses,
            best_step=run.best_step,
            restart=chosen,
            n_validation=0 if val is None else len(val[0]),
        )
        logger.info(
            "dish fit: %d motifs, %d outer steps x %d restarts, %.2fs (compile %.2fs), "
            "kept restart %d",
            len(motifs),
            cfg.outer_steps,
            cfg.restarts,
            fit_seconds,
            self.record.compile_seconds,
            chosen,
        )
        return self

    def _state(self) -> dict[str, Any]:
        return {
            "synthetic": self.synthetic,
            "labels": self.labels,
            "theta_init": self.theta_init,
            "kind": self.kind,
        }

    def _fit_once(
        self,
        seed: int,
        kind: type[Motif],
        codes_all: jax.Array,
        targets_all: np.ndarray,
        val: tuple[list[Motif], np.ndarray] | None,
        progress: ProgressFn | None,
    ) -> _Run:
        """One outer-loop run from the draws of ``seed``; leaves its result on ``self``."""
        cfg = self.config
        self.initialize(seed, kind)
        assert self.synthetic is not None and self.labels is not None
        inner, outer = inner_settings(cfg), outer_settings(cfg)
        synthetic = self.synthetic
        opt_state = outer.optimizer().init(synthetic)
        # Batch sampling (Appendix A.3.2) uses its own stream so it never shifts the init.
        rng = np.random.default_rng([seed, 1])
        n = codes_all.shape[0]
        losses_hist: list[float] = []
        val_hist: list[float] = []
        best: tuple[float, int, Synthetic] | None = None

        def validate(step: int) -> None:
            nonlocal best
            assert val is not None
            self.synthetic = synthetic
            mse = selection_mse(self.raw_scores(val[0]), val[1])
            val_hist.append(mse)
            if best is None or mse <= best[0]:
                best = (mse, step, synthetic)

        if val is not None:
            validate(0)
        for step in range(cfg.outer_steps):
            if n > cfg.motif_batch:
                idx = np.sort(rng.choice(n, cfg.motif_batch, replace=False))
                codes, targets = codes_all[idx], targets_all[idx]
            else:
                codes, targets = codes_all, targets_all
            codes, targets = _pad_batch(codes, targets, cfg.motif_batch)
            synthetic, opt_state, loss = compiled(
                "outer_step",
                outer_step,
                (inner, outer),
                synthetic,
                opt_state,
                self.theta_init,
                codes,
                jnp.asarray(targets, dtype=synthetic["x_train"].dtype),
                self.labels,
            )
            losses_hist.append(float(loss))
            if val is not None:
                validate(step + 1)
            best_at = None if best is None else best[1]
            stop = bool(cfg.patience) and best_at is not None and step + 1 - best_at >= cfg.patience
            if progress is not None:
                # An early stop ends the fit here: its total becomes the steps run, so a
                # progress bar fed by this callback ends full rather than short.
                progress(step + 1, step + 1 if stop else cfg.outer_steps, losses_hist[-1])
            if stop:
                logger.info(
                    "dish fit: early stop after %d outer steps (validation best at step %d)",
                    step + 1,
                    best_at,
                )
                break
        best_step = None
        if best is not None:
            _, best_step, synthetic = best
        self.synthetic = synthetic
        return _Run(tuple(losses_hist), tuple(val_hist), best_step)

    # -- predict ----------------------------------------------------------------------
    def raw_scores(self, motifs: Sequence[Motif]) -> np.ndarray:
        """Dish scores (synthetic-validation BCE) of ``motifs``, shape (motifs,)."""
        if not self.fitted:
            raise RuntimeError("this Dish is not fitted: call fit() (or load()) first")
        assert self.synthetic is not None and self.labels is not None
        kind = motif_family(motifs)
        if self.kind is not None and kind is not self.kind:
            raise ValueError(f"dish was fitted on {self.kind.__name__} motifs, got {kind.__name__}")
        codes = encode(self.config, kind, motifs)
        limit = PREDICT_CHUNK.get(self.config.network)
        step = limit if limit is not None else codes.shape[0]
        # Largest cells first (stable), so that chunks group cells of similar size and
        # ``trim_nodes`` can cut each chunk short; the last, padded chunk holds the smallest.
        order = np.arange(codes.shape[0])
        if self.config.network == "cell":
            order = np.argsort(-CellNet.node_counts(codes), kind="stable")
        chunks = []  # scores, in ``order``
        for start in range(0, codes.shape[0], step):
            chunk = trim_nodes(self.config, codes[order[start : start + step]])  # (<= step, ...)
            n = chunk.shape[0]
            pad = _bucket(n, limit) - n
            padded = np.concatenate([chunk, np.repeat(chunk[:1], pad, axis=0)])
            scores = compiled(
                "score_motifs",
                score_motifs,
                (inner_settings(self.config),),
                self.theta_init,
                jnp.asarray(padded),
                self.synthetic["x_train"],
                self.synthetic["x_val"],
                self.labels,
            )
            chunks.append(np.asarray(scores)[:n])
        ranked = np.concatenate(chunks)
        out = np.empty_like(ranked)
        out[order] = ranked  # back to the caller's order
        return out

    def query(self, motifs: Sequence[Motif]) -> np.ndarray:
        """The ``Predictor`` protocol: dish scores, lower = better, always finite.

        A motif whose score is not finite (a cell that diverged on the synthetic data) is
        scored worst: just above the worst finite score (all such motifs tie), so rank
        metrics can be computed on the result. ``predict`` keeps them flagged instead.
        """
        raw = self.raw_scores(motifs).astype(np.float64)
        bad = ~np.isfinite(raw)
        if bad.any():
            finite = raw[~bad]
            worst = float(finite.max()) + max(float(np.ptp(finite)), 1.0) if finite.size else 0.0
            raw = np.where(bad, worst, raw)
        return raw

    def predict(self, motifs: Sequence[Motif]) -> Prediction:
        """Train and score each motif on the learned data; lower score = predicted better."""
        return Prediction.from_scores(tuple(motifs), self.raw_scores(motifs))

    # -- persistence --------------------------------------------------------------------
    def save(self, path: str) -> None:
        """Write the fitted dish as safetensors (no code runs on load)."""
        from petridish.dish.io import save_dish

        save_dish(self, path)

    @classmethod
    def load(cls, path: str) -> Dish:
        from petridish.dish.io import load_dish

        return load_dish(path)
