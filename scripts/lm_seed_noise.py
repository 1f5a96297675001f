"""Seed noise of a language-model protocol: Kendall tau between two stored runs of the same
cells (e.g. training seeds 0 and 1), per epoch of their validation curves.

Run: ``python scripts/lm_seed_noise.py --a PROTOCOL_KEY:SEED --b PROTOCOL_KEY:SEED
[--n 30] [--select-seed 0] [--store runs/lm_sweep.db] [--exclude-changed]``.

Reads the evaluations of the ``--n`` stratified NAS-Bench-NLP cells (``lm_fidelity``'s
selection) from the store, as stored under each protocol key (``name@digest``, or a bare
name for results stored before keys had digests) and seed, and prints the tau between the
two runs at every epoch both have, over the cells finite in both, and each run's tau
against NAS-Bench-NLP's 50-epoch losses on the same cells. ``--exclude-changed`` leaves out
the cells whose ``live_part`` differs from the cell (their training changed with trainer
revision 2), for comparing runs stored by different trainer revisions.
"""

from __future__ import annotations

import argparse
import json
import sqlite3

import numpy as np
from lm_fidelity import _LOGS, select_logs  # type: ignore[import-not-found]

from petridish.metrics import kendall_tau_b
from petridish.motifs.cell import Cell, live_part


def curves(db: str, key: str, seed: int, cells: list[Cell]) -> np.ndarray:
    """``(cells, epochs)`` validation curves (NaN where diverged or missing)."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    rows = {
        h: json.loads(c) if c else []
        for h, c in con.execute(
            "select motif_hash, curve from evaluations where protocol = ? and seed = ?",
            (key, seed),
        )
    }
    width = max((len(v) for v in rows.values()), default=0)
    out = np.full((len(cells), width), np.nan)
    for i, cell in enumerate(cells):
        c = [np.nan if v is None else v for v in rows.get(cell.digest, [])]
        out[i, : len(c)] = c
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--a", required=True)
    ap.add_argument("--b", required=True)
    ap.add_argument("--n", type=int, default=30)
    ap.add_argument("--select-seed", type=int, default=0)
    ap.add_argument("--store", default="runs/lm_sweep.db")
    ap.add_argument("--logs", default=_LOGS)
    ap.add_argument("--exclude-changed", action="store_true")
    args = ap.parse_args()
    logs = select_logs(args.n, args.select_seed, args.logs)
    cells = [Cell.from_recipe(g.recipe) for g in logs]
    ref = np.asarray([g.final_val_loss for g in logs])
    keep = np.ones(len(cells), bool)
    if args.exclude_changed:
        keep = np.asarray([live_part(c) is c for c in cells])
    runs = []
    for spec in (args.a, args.b):
        key, _, seed = spec.rpartition(":")
        runs.append(curves(args.store, key, int(seed), cells))
    epochs = min(r.shape[1] for r in runs)
    for e in range(epochs):
        a, b = runs[0][:, e], runs[1][:, e]
        ok = keep & np.isfinite(a) & np.isfinite(b)
        print(
            f"epoch {e + 1}: tau between the runs {kendall_tau_b(a[ok], b[ok]):.3f} "
            f"({int(ok.sum())} cells); against NAS-Bench-NLP: "
            f"{kendall_tau_b(a[ok], ref[ok]):.3f} and {kendall_tau_b(b[ok], ref[ok]):.3f}"
        )


if __name__ == "__main__":
    main()
