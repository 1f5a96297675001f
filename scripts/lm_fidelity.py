"""Fidelity of a language-model protocol against NAS-Bench-NLP's WikiText-2 logs.

Run: ``python scripts/lm_fidelity.py [--n 60] [--select-seed 0] [--more-select-seeds 1]
[--seeds 0 1] [--protocol cpu] [--store runs/lm_fidelity.db] [--logs PATH]``.

Picks ``--n`` complete NAS-Bench-NLP cells spread over the whole loss range (the logs
sorted by final validation loss, cut into ``n`` equal strata, one cell drawn per stratum
with ``--select-seed``), trains them on WikiText-2 with ``--protocol`` for each training
seed through the store (resumable: a rerun trains only what is missing), and prints the
Kendall tau of our validation losses against NAS-Bench-NLP's 50-epoch validation losses
(diverged cells left out, counted), the tau between the first two seeds (seed noise) and
the seconds per cell.
"""

from __future__ import annotations

import argparse
import logging

import numpy as np

from petridish.metrics import kendall_tau_b
from petridish.motifs.cell import Cell
from petridish.search.tables import measure_cell_table
from petridish.store import Store
from petridish.truth.lm import LanguageModelEvaluator
from petridish.truth.nasbench_nlp import CellLog, read_nasbench_nlp_zip

_LOGS = "../shared/reference/nasbench_nlp_wikitext2_logs.zip"


def select_logs(
    n: int, seed: int, logs_path: str, exclude: set[str] | None = None
) -> list[CellLog]:
    """``n`` distinct cells' logs stratified over the final-loss range (the logs sorted by
    final validation loss, cut into ``n`` equal strata, one distinct cell drawn from each),
    none of them a cell whose digest is in ``exclude``."""
    logs = sorted(read_nasbench_nlp_zip(logs_path).complete(), key=lambda g: g.final_val_loss)
    rng = np.random.default_rng(seed)
    chosen: list[CellLog] = []
    seen: set[str] = set(exclude or ())
    for stratum in np.array_split(np.arange(len(logs)), n):
        for i in rng.permutation(stratum):
            cell = Cell.from_recipe(logs[int(i)].recipe)
            if cell.digest not in seen:  # the logs hold duplicate cells
                seen.add(cell.digest)
                chosen.append(logs[int(i)])
                break
    return chosen


def select(
    n: int, seed: int, logs_path: str, more_seeds: tuple[int, ...] = ()
) -> tuple[list[Cell], np.ndarray]:
    """``n`` cells stratified over the final-loss range and their 50-epoch losses; each of
    ``more_seeds`` draws ``n`` more distinct cells the same way (one more per stratum)."""
    chosen = select_logs(n, seed, logs_path)
    for extra in more_seeds:
        taken = {Cell.from_recipe(g.recipe).digest for g in chosen}
        chosen += select_logs(n, extra, logs_path, exclude=taken)
    cells = [Cell.from_recipe(g.recipe) for g in chosen]
    return cells, np.asarray([g.final_val_loss for g in chosen])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=60)
    ap.add_argument("--select-seed", type=int, default=0)
    ap.add_argument(
        "--more-select-seeds",
        type=int,
        nargs="*",
        default=[],
        help="draw --n more cells (one more per stratum) with each of these select seeds",
    )
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--protocol", default="cpu")
    ap.add_argument("--chunk", type=int, default=8)
    ap.add_argument("--store", default="runs/lm_fidelity.db")
    ap.add_argument("--logs", default=_LOGS)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    cells, ref = select(args.n, args.select_seed, args.logs, tuple(args.more_select_seeds))
    evaluator = LanguageModelEvaluator("wikitext2", args.protocol, chunk=args.chunk)
    losses = []
    with Store(args.store) as store:
        for seed in args.seeds:
            rows = measure_cell_table(cells, evaluator, store, seed, batch_size=args.chunk)
            ours = np.array([r.val_loss for r in rows])
            ok = np.isfinite(ours)
            tau = kendall_tau_b(ours[ok], ref[ok]) if ok.sum() > 2 else float("nan")
            secs = float(np.mean([r.seconds for r in rows]))
            print(
                f"seed {seed}: {args.protocol} on WikiText-2, {len(cells)} cells, "
                f"{int((~ok).sum())} diverged; Kendall tau vs NAS-Bench-NLP 50-epoch "
                f"validation loss {tau:.3f}; {secs:.1f} s per cell",
                flush=True,
            )
            losses.append(ours)
    if len(losses) >= 2:
        both = np.isfinite(losses[0]) & np.isfinite(losses[1])
        print(
            f"seed noise: Kendall tau between seeds {args.seeds[0]} and {args.seeds[1]} = "
            f"{kendall_tau_b(losses[0][both], losses[1][both]):.3f} ({int(both.sum())} cells)"
        )


if __name__ == "__main__":
    main()
