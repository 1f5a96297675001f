"""Sweep language-model protocol settings against NAS-Bench-NLP's WikiText-2 logs.

Run: ``python scripts/lm_protocol_sweep.py --base cpu --set lr=0.01 --set epochs=6
[--name NAME] [--n 30] [--select-seed 0] [--seed 0] [--store runs/lm_sweep.db]``.

Trains the same stratified cells as ``scripts/lm_fidelity.py`` (``--n`` cells spread over
the whole loss range of the logs) with the protocol ``--base`` changed by each ``--set
field=value``, through the store (resumable; the protocol's name, ``--name`` or one built
from the changes, is part of the store key). Because the optimiser has no schedule, the
validation curve's epoch ``k`` is what a ``k``-epoch protocol would give, so one run prints
the Kendall tau against NAS-Bench-NLP's 50-epoch validation losses after every epoch:
diverged cells left out (``tau``) and ranked worst (``tau_all``), the same against
NAS-Bench-NLP's own epoch-1 losses, and the seconds per cell.
Appends one JSON line per run to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
from lm_fidelity import _LOGS, select_logs  # type: ignore[import-not-found]

from petridish.metrics import kendall_tau_b
from petridish.motifs.cell import Cell
from petridish.store import Store
from petridish.truth.lm import LanguageModelEvaluator
from petridish.truth.lm.protocols import LMProtocol, get_protocol


def _value(field: str, text: str, base: LMProtocol) -> Any:
    current = getattr(base, field)
    if text == "None":
        return None
    if isinstance(current, bool):
        return text.lower() in ("1", "true", "yes")
    if isinstance(current, int) or (current is None and field != "lr"):
        return int(float(text))
    if isinstance(current, float):
        return float(text)
    return text


def build(base_name: str, sets: list[str], name: str | None) -> LMProtocol:
    base = get_protocol(base_name)
    changes: dict[str, Any] = {}
    for item in sets:
        field, _, text = item.partition("=")
        if not hasattr(base, field):
            raise SystemExit(f"--set {item!r}: LMProtocol has no field {field!r}")
        changes[field] = _value(field, text, base)
    auto = base.name + "".join(f"+{k}={v}" for k, v in sorted(changes.items()))
    return base.with_(name=name or f"sweep:{auto}", source=f"sweep of {auto}", **changes)


def taus(curves: np.ndarray, ref: np.ndarray) -> list[dict[str, float]]:
    """Kendall tau after each epoch; ``curves (cells, epochs)`` with NaN once diverged."""
    out = []
    for e in range(curves.shape[1]):
        ours = curves[:, e]
        ok = np.isfinite(ours)
        tau = kendall_tau_b(ours[ok], ref[ok]) if ok.sum() > 2 else math.nan
        worst = np.where(ok, ours, np.nanmax(ours[ok]) + 1.0 if ok.any() else 0.0)
        out.append(
            {
                "epoch": e + 1,
                "tau": float(tau),
                "tau_all": float(kendall_tau_b(worst, ref)),
                "diverged": int((~ok).sum()),
            }
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", default="cpu")
    ap.add_argument("--set", action="append", default=[], dest="sets")
    ap.add_argument("--name", default=None)
    ap.add_argument("--n", type=int, default=30)
    ap.add_argument("--select-seed", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--chunk", type=int, default=8)
    ap.add_argument("--corpus", default="wikitext2")
    ap.add_argument("--store", default="runs/lm_sweep.db")
    ap.add_argument("--logs", default=_LOGS)
    ap.add_argument("--out", default="results/lm_protocol_sweep.jsonl")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    protocol = build(args.base, args.sets, args.name)
    logs = select_logs(args.n, args.select_seed, args.logs)
    cells = [Cell.from_recipe(g.recipe) for g in logs]
    ref = np.asarray([g.final_val_loss for g in logs])
    ref1 = np.asarray([g.val_loss_at(1) for g in logs])  # NAS-Bench-NLP's own epoch 1
    evaluator = LanguageModelEvaluator(args.corpus, protocol, chunk=args.chunk)
    Path(args.store).parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with Store(args.store) as store:
        evs = store.evaluate_many(cells, evaluator, args.seed, batch_size=args.chunk)
    wall = time.perf_counter() - t0
    epochs = protocol.epochs
    curves = np.full((len(cells), epochs), np.nan)
    for i, ev in enumerate(evs):
        c = np.asarray(ev.curve, dtype=float)[:epochs]
        curves[i, : len(c)] = c
    rows = taus(curves, ref)
    for r, r1 in zip(rows, taus(curves, ref1), strict=True):
        r["tau_vs_nb_epoch1"] = r1["tau"]
    nb1 = float(kendall_tau_b(ref1, ref))
    secs = float(np.mean([ev.wall_seconds for ev in evs]))
    record = {
        "protocol": protocol.name,
        "fields": protocol.as_dict(),
        "corpus": args.corpus,
        "n_cells": len(cells),
        "select_seed": args.select_seed,
        "seed": args.seed,
        "seconds_per_cell": secs,
        "wall_this_run": wall,
        "by_epoch": rows,
        "nb_epoch1_vs_final": nb1,
    }
    for r in rows:
        print(
            f"{protocol.name} epoch {r['epoch']}: tau {r['tau']:.3f} "
            f"(diverged ranked worst {r['tau_all']:.3f}, {r['diverged']} diverged; "
            f"vs NAS-Bench-NLP epoch 1 {r['tau_vs_nb_epoch1']:.3f})",
            flush=True,
        )
    print(f"{secs:.1f} s per cell ({epochs} epochs); NAS-Bench-NLP epoch 1 vs final: {nb1:.3f}")
    with open(args.out, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
