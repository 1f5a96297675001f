"""``Dish``: fit synthetic data to ground truth (paper Section 3.1), then rank new motifs
by training them on it (Section 3.2).

Contract: ``fit(motifs, losses, seed=)`` takes motifs of one kind and their ground-truth
losses (lower is better; pass ``1 - accuracy`` for accuracies) and learns the synthetic
train and validation inputs; ``predict(motifs)`` returns a ``Prediction`` whose
``scores`` are lower for motifs predicted better. The same seed gives the same result.
"""

from __future__ import annotations

import math
import os
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
from petridish.dish.io import read_dish_file, write_dish_file
from petridish.dish.outer import (
    STATS,
    AnyFrame,
    Learned,
    OuterSettings,
    Synthetic,
    TeacherFrame,
    compiled,
    draw_frame,
    materialise,
    outer_step,
    outer_steps,
)
from petridish.dish.prediction import Prediction
from petridish.dish.record import FitRecord, Member
from petridish.dish.tasks import teacher_draw, teacher_sequences
from petridish.motifs.base import Motif, motif_family, motif_kinds
from petridish.nets.base import MotifNet, Params
from petridish.nets.registry import build_network
from petridish.predictor import NotFittedError

ProgressFn = Callable[[int, int, float], None]  # (step done, total steps, outer loss)


@dataclass(frozen=True)
class _Attempt:
    """One attempt's outcome inside ``Dish.fit``."""

    member: Member
    outer_losses: tuple[float, ...]
    val_losses: tuple[float, ...]
    best_step: int | None
    train_scores: np.ndarray  # (train motifs,)
    start: Member  # the attempt's initial draw (its random data)
    selection: float  # lower = better: min validation z-MSE, else training z-MSE
    train_spearman: float


def _rank_corr(scores: np.ndarray, targets: np.ndarray, fn: Callable[..., float]) -> float:
    """A rank correlation made total: non-finite scores count as worst (tied); a constant
    prediction has no ranking and counts as 0."""
    scores = np.asarray(scores, dtype=np.float64)
    bad = ~np.isfinite(scores)
    if bad.all():
        return 0.0
    if bad.any():
        scores = np.where(bad, scores[~bad].max() + 1.0, scores)
    if np.ptp(scores) == 0:
        return 0.0
    return float(fn(scores, targets))


def attempt_seed(seed: int, attempt: int) -> int:
    """The seed of fit attempt ``attempt``: ``seed`` itself for attempt 0."""
    return seed if attempt == 0 else restart_seed(seed, attempt)


def restart_seed(seed: int, restart: int) -> int:
    """A seed for restart ``restart`` > 0, independent of ``seed + k`` of other fits."""
    return int(np.random.SeedSequence([seed, restart]).generate_state(1)[0] & 0x7FFFFFFF)


def build_net(config: DishConfig) -> MotifNet:
    """The motif-network blueprint named by ``config.network`` (``petridish.nets.registry``)."""
    return build_network(config.network, config)


def encode(config: DishConfig, kind: type[Motif], motifs: Sequence[Motif]) -> np.ndarray:
    """Motif codes ``(motifs, ...)`` in the fixed shape the configured network compiles for
    (``MotifNet.codes``), so every batch reuses one compiled program; motifs the network
    cannot run (another kind than ``kind``, too big) are a ``ValueError`` naming the limit.
    """
    family = motif_family(motifs)
    if family is not kind:
        raise ValueError(f"expected {kind.__name__} motifs, got {family.__name__}")
    return build_net(config).codes(motifs)


def inner_settings(config: DishConfig) -> InnerSettings:
    net = build_net(config)
    return InnerSettings(
        net=net,
        lr=config.inner_lr,
        l2=config.inner_l2,
        steps=config.inner_steps,
        eps_root=config.inner_eps_root,
        shards=motif_shards(net),
        task=config.task,
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
        learn_train=config.learn_train,
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
    """``codes`` cut by the configured network's ``MotifNet.trim`` (e.g. trailing
    all-padding node rows of cells): the scores are unchanged."""
    return build_net(config).trim(codes)


def _bucket(n: int, limit: int | None = None) -> int:
    """Pad motif counts to powers of two (>= 8, and <= ``limit`` when given) so predict
    compiles few shapes."""
    size = max(8, 1 << (n - 1).bit_length())
    return size if limit is None else min(limit, size)


def _stack(trees: list[Any]) -> Any:
    """Stack pytrees along a new leading (attempts,) axis."""
    return jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *trees)


def _index(tree: Any, i: int) -> Any:
    """Entry ``i`` of a stacked pytree's leading axis."""
    return jax.tree_util.tree_map(lambda x: x[i], tree)


def _scale_of(scores: np.ndarray) -> tuple[float, float]:
    """Mean and std of the finite ``scores`` (std 1 when there is no spread)."""
    finite = np.asarray(scores, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return 0.0, 1.0
    std = float(finite.std())
    return float(finite.mean()), std if std > 0 else 1.0


def _average(per_member: list[np.ndarray], members: tuple[Member, ...]) -> np.ndarray:
    """Median over members of their scores standardised by their training mean and std.

    The median, not the mean: members that fit the training motifs equally well can
    extrapolate differently, and a minority that turns away outside the training range
    moves a mean but not a median (README, "A fit that can be trusted"). A motif whose
    score is not finite in any member gets NaN (flagged by ``predict``).
    """
    z = np.stack(
        [
            (np.asarray(s, np.float64) - m.center) / m.scale
            for s, m in zip(per_member, members, strict=True)
        ]
    )  # (members, motifs)
    out = np.median(z, axis=0)
    return np.asarray(np.where(np.isfinite(z).all(axis=0), out, np.nan))


def attempts_side_by_side() -> bool:
    """Whether a fit's attempts run as one vmapped program (else a Python loop of single
    outer steps). Measured on 2 CPU cores (``benchmarks/bench_dish_fit.py``, machine idle):
    4 noiseless slope attempts side by side 3.03 s, as a loop 3.01 s; the 6 default attempts
    4.42 s and 4.72 s. CPUs loop (the loop is the paper's single fit repeated, and results
    were measured with it); an accelerator, where the batched program fills the device, runs
    them side by side (not measured: no GPU was lent).
    """
    return jax.default_backend() != "cpu"


def _attempts_step(
    inner: InnerSettings,
    outer: OuterSettings,
    n_attempts: int,
    synthetic: Learned,
    opt_state: Any,
    theta: Params,
    codes: jax.Array,
    targets: jax.Array,
    labels: jax.Array,
    noise: Synthetic | None = None,
    frame: AnyFrame | None = None,
) -> tuple[Learned, Any, jax.Array]:
    """One outer step of every attempt; state leaves carry a leading (attempts,) axis,
    ``codes`` and ``targets`` are shared. ``synthetic`` is the learned state (the inputs,
    or their coordinates in ``frame``: see ``outer.outer_step``). Returns the loss per
    attempt, (attempts,).

    One attempt runs the plain compiled ``outer_step`` (the paper's single fit, bit for bit
    as without attempts). Several run as one vmapped program where ``attempts_side_by_side``
    says so, else one after another (as does a network split over devices).
    """
    if n_attempts == 1 or inner.shards > 1 or not attempts_side_by_side():
        outs = [
            compiled(
                "outer_step",
                outer_step,
                (inner, outer),
                _index(synthetic, a),
                _index(opt_state, a),
                _index(theta, a),
                codes,
                targets,
                _index(labels, a),
                None if noise is None else _index(noise, a),
                None if frame is None else _index(frame, a),
            )
            for a in range(n_attempts)
        ]
        syn, opt, loss = zip(*outs, strict=True)
        return _stack(list(syn)), _stack(list(opt)), jnp.stack(loss)
    return compiled(
        "outer_steps",
        outer_steps,
        (inner, outer),
        synthetic,
        opt_state,
        theta,
        codes,
        targets,
        labels,
        noise,
        frame,
    )


def _moved(start: Synthetic, end: Synthetic) -> dict[str, float]:
    """How far each synthetic tensor moved in the fit: ``||end - start|| / ||start||``."""
    out = {}
    for name in sorted(start):
        x0 = np.asarray(start[name], np.float64)
        x1 = np.asarray(end[name], np.float64)
        out[name] = float(np.linalg.norm(x1 - x0) / max(float(np.linalg.norm(x0)), 1e-30))
    return out


class Dish:
    """A Synthetic Petri Dish. See the module docstring for the contract."""

    def __init__(self, config: DishConfig | None = None) -> None:
        self.config = config if config is not None else DishConfig.for_slopes()
        self.members: tuple[Member, ...] = ()
        self.record: FitRecord | None = None
        self.kind: type[Motif] | None = None

    # -- state ------------------------------------------------------------------------
    def _set_state(
        self, members: tuple[Member, ...], kind: type[Motif], record: FitRecord | None
    ) -> None:
        """Install a fitted (or drawn, or loaded) state: every state field, by name."""
        if not members:
            raise ValueError("a dish state needs at least one member")
        self.members = members
        self.kind = kind
        self.record = record

    @property
    def fitted(self) -> bool:
        return bool(self.members)

    # The primary member's state (the best attempt): what a single-fit dish holds.
    @property
    def synthetic(self) -> Synthetic | None:
        return self.members[0].synthetic if self.members else None

    @property
    def labels(self) -> jax.Array | None:
        """(n, out) or (n, T, out) fixed random binary labels of the primary member (drawn
        but not used with ``config.task == "next_step"``: its targets come from the data)."""
        return self.members[0].labels if self.members else None

    @property
    def theta_init(self) -> Params | None:
        return self.members[0].theta_init if self.members else None

    def _draw(self, seed: int) -> Member:
        """Initial network, synthetic data and labels drawn from ``seed``."""
        cfg = self.config
        net = build_net(cfg)
        k_theta, k_y = self._keys(seed)
        k_x = self._data_key(seed)
        # (inits, ...) stacked initial weights; one set unless config.n_inits > 1.
        theta = jax.vmap(lambda k: net.init(k, cfg.init_scale))(
            jax.random.split(k_theta, cfg.n_inits)
        )
        # (n, *input_shape): (n, in) for the MLP, (n, T, in) sequences for cells.
        if cfg.data_init == "teacher":
            # Two independent sets of sequences of one random teacher RNN (``dish.tasks``).
            x, x_val = teacher_sequences(k_x, cfg.n_samples, *net.input_shape)
        else:
            # The paper: validation inputs start equal to train inputs; both are learned.
            x = jax.random.normal(k_x, (cfg.n_samples, *net.input_shape))
            x_val = x
        shape = (cfg.n_samples, *net.label_shape)  # (n, out) or (n, T, out): one label per step
        # Drawn for every task, so the other draws stay put; "next_step" does not read them.
        labels = jax.random.bernoulli(k_y, 0.5, shape).astype(x.dtype)
        return Member(synthetic={"x_train": x, "x_val": x_val}, labels=labels, theta_init=theta)

    @staticmethod
    def _keys(seed: int) -> tuple[jax.Array, jax.Array]:
        """The keys of the initial networks and of the labels of attempt ``seed``."""
        k_theta, _, k_y = jax.random.split(jax.random.PRNGKey(seed), 3)
        return k_theta, k_y

    @staticmethod
    def _data_key(seed: int) -> jax.Array:
        """The key of the initial synthetic data of attempt ``seed`` (the teacher's too)."""
        return jax.random.split(jax.random.PRNGKey(seed), 3)[1]

    def _teacher_frame(self, seed: int) -> tuple[TeacherFrame, Learned]:
        """``DishConfig.data_param == "teacher"``: the fixed noise and the starting weights of
        the teacher that ``_draw`` drew attempt ``seed``'s sequences from (the same key, so
        step 0 is exactly the teacher-start random-data dish)."""
        cfg = self.config
        net = build_net(cfg)
        weights, eps = teacher_draw(self._data_key(seed), cfg.n_samples, *net.input_shape)
        return TeacherFrame(eps=eps), weights

    @staticmethod
    def _frame_key(seed: int) -> jax.Array:
        """The key of the data frame's basis (``DishConfig.data_rank``) of attempt ``seed``:
        folded off the attempt's key, so the draws of ``_draw`` stay as they were."""
        return jax.random.fold_in(jax.random.PRNGKey(seed), 0x0DA7A)

    def initialize(self, seed: int, kind: type[Motif]) -> Dish:
        """Draw theta_init, labels and the initial synthetic data from ``seed`` (no training).

        With no outer steps this is the paper's random-data dish (Figure 4).
        """
        self._set_state((self._draw(seed),), kind, None)
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
        not lowered the validation loss.

        Attempts: each round runs ``config.restarts`` attempts from different draws as one
        compiled program (attempt 0 uses ``seed`` itself, attempt k its own seed stream).
        An attempt passes when its dish ranks its training motifs at Spearman >=
        ``config.min_train_spearman``; a round in which none passes is followed by a new
        round from fresh draws, at most ``config.retries`` times. The dish keeps up to
        ``config.ensemble`` passing attempts with the lowest selection loss (validation
        MSE, else training z-MSE) and takes the median of their standardised scores; when no attempt
        passes it keeps the best ones anyway, sets ``record.fit_ok = False`` and logs a
        warning. ``record`` says how well the dish ranks its training (and validation)
        motifs and why retries were made.

        ``progress(step, total, outer loss)`` is called after every outer step (the best
        loss over the round's attempts); steps count on over rounds, and an early stop
        ends a round with ``step == total``.
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
        # A fit without outer steps (the random-data dish) learns nothing: nothing to retry.
        judged = cfg.outer_steps > 0
        rounds = 1 + (cfg.retries if judged else 0)
        done: list[_Attempt] = []
        notes: list[str] = []
        for r in range(rounds):
            ids = list(range(r * cfg.restarts, (r + 1) * cfg.restarts))
            batch = self._run_attempts(ids, seed, codes, motifs, targets, val, progress, r)
            done.extend(batch)
            if not judged or any(a.train_spearman >= cfg.min_train_spearman for a in batch):
                break
            notes.append(
                f"round {r + 1}: no attempt ranked its training motifs at Spearman >= "
                f"{cfg.min_train_spearman} (best "
                f"{max(a.train_spearman for a in batch):.3f})"
                + ("; retrying from fresh draws" if r + 1 < rounds else "")
            )
            logger.info("dish fit: %s", notes[-1])
        passed = [a for a in done if not judged or a.train_spearman >= cfg.min_train_spearman]
        fit_ok = bool(passed)
        pool = passed if passed else done
        ranked = sorted(pool, key=lambda a: (a.selection, a.member.attempt))
        kept = ranked[: cfg.ensemble]
        # The new state replaces the old one only now: a fit that raises keeps the old dish.
        self._set_state(tuple(a.member for a in kept), kind, None)
        primary = kept[0]
        train_scores = (
            primary.train_scores
            if len(kept) == 1
            else _average([a.train_scores for a in kept], self.members)
        )
        val_rank: tuple[float | None, float | None] = (None, None)
        if val is not None:
            v = self.raw_scores(val[0])
            val_rank = (
                _rank_corr(v, val[1], metrics.spearman),
                _rank_corr(v, val[1], metrics.kendall_tau_b),
            )
        fit_seconds = time.perf_counter() - t0
        moved = _moved(primary.start.synthetic, primary.member.synthetic)
        self.record = FitRecord(
            seed=seed,
            n_motifs=len(motifs),
            outer_losses=primary.outer_losses,
            fit_seconds=fit_seconds,
            compile_seconds=STATS.compile_seconds - compile_before,
            val_losses=primary.val_losses,
            best_step=primary.best_step,
            restart=primary.member.attempt,
            n_validation=0 if val is None else len(val[0]),
            train_spearman=_rank_corr(train_scores, targets, metrics.spearman),
            train_kendall=_rank_corr(train_scores, targets, metrics.kendall_tau_b),
            # Only the kept attempt's random start is scored: the record reports that one.
            zmse_start=(
                selection_mse(self._member_scores(primary.start, motifs), targets)
                if cfg.outer_steps
                else selection_mse(primary.train_scores, targets)
            ),
            zmse_end=selection_mse(train_scores, targets),
            val_spearman=val_rank[0],
            val_kendall=val_rank[1],
            attempts=len(done),
            rounds=len(done) // cfg.restarts,
            members=tuple(a.member.attempt for a in kept),
            failed_attempts=tuple(
                a.member.attempt
                for a in done
                if judged and a.train_spearman < cfg.min_train_spearman
            ),
            fit_ok=fit_ok,
            notes=tuple(notes),
            moved_train=moved["x_train"],
            moved_val=moved["x_val"],
        )
        logger.info(
            "dish fit: %d motifs, %d attempts in %d round(s), %d kept, training Spearman "
            "%.3f, %.2fs (compile %.2fs)",
            len(motifs),
            self.record.attempts,
            self.record.rounds,
            len(kept),
            self.record.train_spearman,
            fit_seconds,
            self.record.compile_seconds,
        )
        if not fit_ok:
            logger.warning(
                "dish fit failed: after %d attempts no fit ranked its %d training motifs at "
                "Spearman >= %s (best %.3f); the dish kept the best attempts, but its "
                "ranking should not be trusted. Try more attempts (restarts, retries) or "
                "more outer steps.",
                len(done),
                len(motifs),
                cfg.min_train_spearman,
                max(a.train_spearman for a in done),
            )
        return self

    def _run_attempts(
        self,
        ids: list[int],
        seed: int,
        codes_all: jax.Array,
        motifs: list[Motif],
        targets_all: np.ndarray,
        val: tuple[list[Motif], np.ndarray] | None,
        progress: ProgressFn | None,
        round_index: int,
    ) -> list[_Attempt]:
        """Outer-loop runs for attempts ``ids``, side by side (one compiled program)."""
        cfg = self.config
        inner, outer = inner_settings(cfg), outer_settings(cfg)
        starts = [self._draw(attempt_seed(seed, i)) for i in ids]
        n_att = len(ids)
        # Stacked state: every leaf gets a leading (attempts,) axis.
        synthetic = _stack([m.synthetic for m in starts])  # (attempts, n, ...)
        labels = _stack([m.labels for m in starts])
        theta = _stack([m.theta_init for m in starts])
        # What the optimiser learns (``outer.outer_step``): the inputs themselves, or with
        # ``data_rank`` k their (attempts, k) coordinates in a fixed random frame around
        # the initial draw, one basis per attempt from its own seed.
        frame: AnyFrame | None = None
        learned: Learned = synthetic
        frames: list[tuple[AnyFrame, Learned]] = []
        if cfg.data_param == "teacher":
            # (attempts, ...) the teachers' weights; their noise is the fixed frame.
            frames = [self._teacher_frame(attempt_seed(seed, i)) for i in ids]
        elif cfg.data_rank > 0:
            frames = [
                draw_frame(self._frame_key(attempt_seed(seed, i)), m.synthetic, cfg.data_rank)
                for i, m in zip(ids, starts, strict=True)
            ]
        if frames:
            frame = _stack([f for f, _ in frames])
            learned = _stack([a for _, a in frames])
        opt_state = jax.vmap(outer.optimizer().init)(learned)
        # Batch sampling (Appendix A.3.2) uses its own stream so it never shifts the init;
        # the attempts of a round share it, so attempt 0 is exactly the paper's single fit.
        rng = np.random.default_rng([attempt_seed(seed, ids[0]), 1])
        # Outer-step noise (``config.outer_noise``): one stream per attempt, fresh each step.
        noise_rngs = [np.random.default_rng([attempt_seed(seed, i), 3]) for i in ids]
        n = codes_all.shape[0]
        hist: list[np.ndarray] = []  # (attempts,) outer loss per step
        val_hist: list[list[float]] = [[] for _ in ids]
        best: list[tuple[float, int, Synthetic] | None] = [None] * n_att

        def member(a: int, syn: Synthetic) -> Member:
            return Member(syn, starts[a].labels, starts[a].theta_init, ids[a])

        def validate(step: int, val: tuple[list[Motif], np.ndarray]) -> None:
            for a in range(n_att):
                syn = _index(synthetic, a)
                mse = selection_mse(self._member_scores(member(a, syn), val[0]), val[1])
                val_hist[a].append(mse)
                prev = best[a]
                if prev is None or mse <= prev[0]:
                    best[a] = (mse, step, syn)

        if val is not None:
            validate(0, val)
        total = cfg.outer_steps * (round_index + 1)
        offset = cfg.outer_steps * round_index
        for step in range(cfg.outer_steps):
            if n > cfg.motif_batch:
                idx = np.sort(rng.choice(n, cfg.motif_batch, replace=False))
                codes, targets = codes_all[idx], targets_all[idx]
            else:
                codes, targets = codes_all, targets_all
            codes, targets = _pad_batch(codes, targets, cfg.motif_batch)
            noise = None
            if cfg.outer_noise > 0:
                noise = {
                    k: jnp.asarray(
                        np.stack(
                            [cfg.outer_noise * r.standard_normal(v.shape[1:]) for r in noise_rngs]
                        ),
                        dtype=v.dtype,
                    )
                    for k, v in synthetic.items()
                }  # (attempts, n, ...) like the synthetic data
            learned, opt_state, loss = _attempts_step(
                inner,
                outer,
                n_att,
                learned,
                opt_state,
                theta,
                codes,
                jnp.asarray(targets, dtype=synthetic["x_train"].dtype),
                labels,
                noise,
                frame,
            )
            # (attempts, n, ...) inputs for validation, noise shapes and the members.
            synthetic = learned if frame is None else jax.vmap(materialise)(learned, frame)
            hist.append(np.asarray(loss, dtype=np.float64))
            if val is not None:
                validate(step + 1, val)
            stalled = [b is not None and step + 1 - b[1] >= cfg.patience for b in best]
            stop = bool(cfg.patience) and val is not None and all(stalled)
            if progress is not None:
                # An early stop ends the round here: its total becomes the steps run, so a
                # progress bar fed by this callback ends full rather than short.
                progress(
                    offset + step + 1,
                    offset + step + 1 if stop else total,
                    float(np.nanmin(hist[-1])) if np.isfinite(hist[-1]).any() else np.nan,
                )
            if stop:
                logger.info("dish fit: early stop after %d outer steps", step + 1)
                break
        losses = np.stack(hist, axis=1) if hist else np.zeros((n_att, 0))  # (attempts, steps)
        out = []
        for a in range(n_att):
            kept_best = best[a]
            syn = _index(synthetic, a) if kept_best is None else kept_best[2]
            m = member(a, syn)
            scores = self._member_scores(m, motifs)
            center, scale = _scale_of(scores)
            m = Member(m.synthetic, m.labels, m.theta_init, m.attempt, center, scale)
            out.append(
                _Attempt(
                    member=m,
                    outer_losses=tuple(float(x) for x in losses[a]),
                    val_losses=tuple(val_hist[a]),
                    best_step=None if kept_best is None else kept_best[1],
                    train_scores=scores,
                    start=starts[a],
                    selection=(
                        min(val_hist[a]) if val is not None else selection_mse(scores, targets_all)
                    ),
                    train_spearman=_rank_corr(scores, targets_all, metrics.spearman),
                )
            )
        return out

    # -- predict ----------------------------------------------------------------------
    def raw_scores(self, motifs: Sequence[Motif]) -> np.ndarray:
        """Dish scores of ``motifs``, shape (motifs,): lower = predicted better.

        With one member: its synthetic-validation BCE after inner training. With several
        (``config.ensemble > 1``): the median over members of each member's BCE
        standardised by that member's mean and std on the training motifs (a non-finite
        score in any member makes the motif's score NaN).
        """
        if not self.fitted:
            raise NotFittedError("this Dish is not fitted: call fit() (or load()) first")
        kind = motif_family(motifs)
        if self.kind is not None and kind is not self.kind:
            raise ValueError(f"dish was fitted on {self.kind.__name__} motifs, got {kind.__name__}")
        if len(self.members) == 1:
            return self._member_scores(self.members[0], motifs)
        per_member = [self._member_scores(m, motifs) for m in self.members]
        return _average(per_member, self.members)

    def _member_scores(self, member: Member, motifs: Sequence[Motif]) -> np.ndarray:
        """One member's synthetic-validation BCE of ``motifs``, shape (motifs,)."""
        net = build_net(self.config)
        codes = encode(self.config, motif_family(motifs), motifs)  # (motifs, ...)
        limit = net.predict_chunk
        step = limit if limit is not None else codes.shape[0]
        # Costliest motifs first (stable), so that chunks group motifs of similar cost and
        # ``MotifNet.trim`` can cut each chunk short (e.g. padding rows of small cells); the
        # last, padded chunk holds the cheapest. Equal costs keep the caller's order.
        order = np.argsort(-net.motif_cost(codes), kind="stable")
        chunks = []  # scores, in ``order``
        for start in range(0, codes.shape[0], step):
            chunk = net.trim(codes[order[start : start + step]])  # (<= step, ...)
            n = chunk.shape[0]
            pad = _bucket(n, limit) - n
            padded = np.concatenate([chunk, np.repeat(chunk[:1], pad, axis=0)])
            scores = compiled(
                "score_motifs",
                score_motifs,
                (inner_settings(self.config),),
                member.theta_init,
                jnp.asarray(padded),
                member.synthetic["x_train"],
                member.synthetic["x_val"],
                member.labels,
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
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the fitted dish as safetensors (no code runs on load), atomically."""
        if not self.fitted or self.kind is None:
            raise NotFittedError("cannot save an unfitted Dish: call fit() first")
        write_dish_file(path, self.config, self.kind.kind, self.members, self.record)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Dish:
        """Read a dish written by ``save``; a foreign or damaged file is a ``ValueError``."""
        content = read_dish_file(path)
        kind = motif_kinds().get(content.motif_kind)
        if kind is None:
            raise ValueError(f"{path}: unknown motif kind {content.motif_kind!r}")
        dish = cls(content.config)
        treedef = jax.tree_util.tree_structure(dish._draw(0).theta_init)
        n_leaves = len(jax.tree_util.tree_leaves(dish._draw(0).theta_init))
        members = []
        for m in content.members:
            if len(m.theta) != n_leaves:
                raise ValueError(
                    f"{path}: {len(m.theta)} initial-network tensors, the config's network "
                    f"has {n_leaves}"
                )
            members.append(
                Member(
                    synthetic={"x_train": jnp.asarray(m.x_train), "x_val": jnp.asarray(m.x_val)},
                    labels=jnp.asarray(m.labels),
                    theta_init=jax.tree_util.tree_unflatten(
                        treedef, [jnp.asarray(t) for t in m.theta]
                    ),
                    attempt=m.attempt,
                    center=m.center,
                    scale=m.scale,
                )
            )
        record = None if content.record is None else FitRecord.from_json(content.record)
        dish._set_state(tuple(members), kind, record)
        return dish
