"""What a fit leaves behind: ``FitRecord`` (how the fit went and how well it fits) and
``Member`` (one fitted attempt kept by the dish). Plain frozen records, no JAX code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Synthetic = dict[str, Any]  # {"x_train": (n, ...), "x_val": (n, ...)} jax arrays
Params = Any  # a pytree of jax arrays


@dataclass(frozen=True)
class FitRecord:
    """What a fit did and how well it fits: per-step outer losses, timings, sizes, the
    dish's ranking of its own training motifs (and of the validation motifs, when any),
    and the attempts it took.

    ``train_spearman``/``train_kendall`` rank the fitted dish's scores of the training
    motifs against their losses; ``zmse_start``/``zmse_end`` are the z-scored MSE on the
    training motifs of the kept attempt's initial random data and of the fitted dish (4 =
    a perfectly inverted ranking, 2 = no correlation, 0 = perfect). ``fit_ok`` is False
    when no attempt reached ``DishConfig.min_train_spearman``; ``notes`` say why each
    retry was made. ``outer_losses``, ``val_losses`` and ``best_step`` are those of the
    kept attempt ``restart`` (the best of the members).
    """

    seed: int
    n_motifs: int  # motifs the outer loop trained on (held-out validation motifs excluded)
    outer_losses: tuple[float, ...]
    fit_seconds: float  # wall time of the whole fit, compile included
    compile_seconds: float  # part of fit_seconds spent compiling (0 when cached)
    # With validation motifs: z-scored MSE on them after each step (index 0 = initial data)
    # and the step whose synthetic data was kept (the one with the lowest validation MSE).
    val_losses: tuple[float, ...] = ()
    best_step: int | None = None
    restart: int = 0  # which attempt was kept as the dish's primary member
    n_validation: int = 0  # validation motifs (given, or held out by config.val_fraction)
    train_spearman: float | None = None
    train_kendall: float | None = None
    zmse_start: float | None = None
    zmse_end: float | None = None
    val_spearman: float | None = None
    val_kendall: float | None = None
    attempts: int = 1  # attempts run, over all rounds
    rounds: int = 1  # rounds run (1 + retries used)
    members: tuple[int, ...] = (0,)  # attempts averaged by the dish, best first
    failed_attempts: tuple[int, ...] = ()  # attempts below the training-Spearman threshold
    fit_ok: bool = True
    notes: tuple[str, ...] = ()
    # How far the kept attempt's synthetic inputs moved from their random start:
    # ``||x_end - x_start|| / ||x_start||`` (0 = the random-data dish). None in records
    # written before they existed.
    moved_train: float | None = None
    moved_val: float | None = None

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> FitRecord:
        """Inverse of ``dataclasses.asdict`` after a JSON round trip (lists -> tuples)."""
        fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
        return cls(**fields)


@dataclass(frozen=True)
class Member:
    """One fitted attempt kept by the dish: its synthetic data, labels and initial network,
    and the mean and std of its scores on the training motifs (to average members on one
    scale). ``attempt`` is its index among the fit's attempts."""

    synthetic: Synthetic
    labels: Any  # jax array (n, out) or (n, T, out), fixed random binary
    theta_init: Params  # (inits, ...) stacked initial weights
    attempt: int = 0
    center: float = 0.0
    scale: float = 1.0
