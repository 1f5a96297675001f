"""Seconds per cell of every language-model protocol, from a measured per-window rate.

Run: ``python benchmarks/bench_lm_protocols.py [--protocols nao darts_search nasbench_nlp
cpu] [--windows 4] [--out results/bench_lm_protocols.json]``.

The full protocols take hours to days per cell on a CPU, so each is timed on a short run and
extrapolated: one cell (a 12-node NAO genotype on the protocol's corpus; PTB for ``nao`` and
``darts_search``, WikiText-2 for ``nasbench_nlp``, both for ``cpu``) trains ``--windows``
BPTT windows of the protocol's own sizes (embedding, hidden, layers, batch, BPTT, dropouts,
optimiser, vocabulary) and scores ``--windows`` evaluation windows, twice; the second
(compiled) call gives seconds per training window and per evaluation window. The estimate is
``windows per epoch * epochs * train rate + validation windows * epochs * eval rate`` (plus
one test pass); the compile time is reported beside it. Every figure is a measurement on
this machine except the multiplication.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from petridish.data.corpora import Corpus, load_corpus
from petridish.motifs.cell import Cell, random_genotype
from petridish.truth.lm import LMProtocol, get_protocol, train_cells
from petridish.truth.lm.trainer import capped_splits

_CORPUS = {"nao": "ptb", "darts_search": "ptb", "nasbench_nlp": "wikitext2"}


def _steady(cell: Cell, proto: LMProtocol, corpus: Corpus, train_w: int, eval_w: int) -> float:
    """Seconds of the second (compiled) call training ``train_w`` windows and scoring
    ``eval_w`` validation and ``eval_w`` test windows; the first call's time is logged."""
    short = proto.with_(
        name=f"{proto.name}_bench",
        epochs=1,
        tokens_per_epoch=train_w * proto.batch * proto.bptt,
        val_tokens=eval_w * proto.eval_batch * proto.bptt,
    )
    times = []
    for _ in range(2):
        t0 = time.perf_counter()
        train_cells([cell], short, corpus, 0)
        times.append(time.perf_counter() - t0)
    return times[1]


def measure(cell: Cell, proto: LMProtocol, corpus: Corpus, w: int) -> dict[str, float]:
    """Per-window rates of ``proto`` and the extrapolated seconds for one cell."""
    t0 = time.perf_counter()
    base = _steady(cell, proto, corpus, w, w)  # w train windows, w val + w test windows
    more_train = _steady(cell, proto, corpus, 2 * w, w)
    more_eval = _steady(cell, proto, corpus, w, 2 * w)
    wall = time.perf_counter() - t0
    train_rate = max(more_train - base, 0.0) / w
    eval_rate = max(more_eval - base, 0.0) / (2 * w)  # w more val and w more test windows
    overhead = max(base - w * train_rate - 2 * w * eval_rate, 0.0)
    train_ids, valid_ids, test_ids, _ = capped_splits(corpus, proto.vocab_cap)
    per_epoch = len(train_ids) // (proto.batch * proto.bptt)
    if proto.tokens_per_epoch is not None:
        per_epoch = min(per_epoch, proto.tokens_per_epoch // (proto.batch * proto.bptt))
    span = proto.eval_batch * proto.bptt
    val_w = (len(valid_ids) if proto.val_tokens is None else proto.val_tokens) // span
    test_w = (len(test_ids) if proto.val_tokens is None else proto.val_tokens) // span
    estimate = (
        per_epoch * proto.epochs * train_rate
        + (val_w * proto.epochs + test_w) * eval_rate
        + overhead
    )
    return {
        "train_windows_per_epoch": per_epoch,
        "epochs": proto.epochs,
        "val_windows": val_w,
        "test_windows": test_w,
        "seconds_per_train_window": train_rate,
        "seconds_per_eval_window": eval_rate,
        "fixed_seconds": overhead,
        "estimated_seconds_per_cell": estimate,
        "estimated_hours_per_cell": estimate / 3600.0,
        "benchmark_wall_seconds": wall,
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--protocols", nargs="+", default=["nao", "darts_search", "nasbench_nlp", "cpu"]
    )
    ap.add_argument("--windows", type=int, default=4)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--out", default="results/bench_lm_protocols.json")
    args = ap.parse_args(argv)
    cell = Cell.from_genotype(random_genotype(np.random.default_rng(0), 12))
    rows = []
    for name in args.protocols:
        proto = get_protocol(name)
        for corpus_name in [_CORPUS[name]] if name in _CORPUS else ["ptb", "wikitext2"]:
            corpus = load_corpus(corpus_name, args.data_dir)
            row = {
                "protocol": name,
                "corpus": corpus_name,
                **measure(cell, proto, corpus, args.windows),
            }
            rows.append(row)
            print(
                f"{name:>13} on {corpus_name:<9}: {row['seconds_per_train_window']:.3f} s per "
                f"training window, {row['seconds_per_eval_window']:.3f} s per evaluation window "
                f"-> {row['estimated_seconds_per_cell']:.0f} s "
                f"({row['estimated_hours_per_cell']:.2f} h) per cell",
                flush=True,
            )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    record = {"cpu_count": os.cpu_count(), "cell": "12-node NAO genotype (seed 0)", "rows": rows}
    out.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
