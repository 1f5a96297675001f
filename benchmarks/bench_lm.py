"""Throughput of the language-model trainer: K cells batched vs. the same K one at a time.

Run: ``python benchmarks/bench_lm.py [--cells K] [--corpus ptb] [--tokens N] [--epochs E]``.

Both paths train the same K cells (an LSTM, a GRU, an Elman cell and random NAS-Bench-NLP-
style recipes, seeded) with the same protocol (``cpu`` with a smaller token budget by
default, so the run takes minutes) through ``petridish.truth.lm.train_cells``: "batched" is
one compiled program over all K cells, "one at a time" K calls with one cell each, all
padded to the batch's sizes so that one compiled program serves them (compile time then
counts once for each path). Each path runs twice: the first call includes compilation, the
second is the steady state. Also prints the unigram perplexity of the validation split and
each cell's validation perplexity, as a sanity check that training works.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from petridish.data.corpora import load_corpus
from petridish.motifs.cell import Cell, random_cell
from petridish.truth.lm import PROTOCOLS, train_cells, unigram_perplexity
from petridish.truth.lm.trainer import program_sizes

LSTM = {
    "i": {"op": "linear", "input": ["x", "h_prev_0"]},
    "i_act": {"op": "activation_sigm", "input": ["i"]},
    "f": {"op": "linear", "input": ["x", "h_prev_0"]},
    "f_act": {"op": "activation_sigm", "input": ["f"]},
    "o": {"op": "linear", "input": ["x", "h_prev_0"]},
    "o_act": {"op": "activation_sigm", "input": ["o"]},
    "g": {"op": "linear", "input": ["x", "h_prev_0"]},
    "g_act": {"op": "activation_tanh", "input": ["g"]},
    "keep": {"op": "elementwise_prod", "input": ["f_act", "h_prev_1"]},
    "write": {"op": "elementwise_prod", "input": ["i_act", "g_act"]},
    "h_new_1": {"op": "elementwise_sum", "input": ["keep", "write"]},
    "c_act": {"op": "activation_tanh", "input": ["h_new_1"]},
    "h_new_0": {"op": "elementwise_prod", "input": ["c_act", "o_act"]},
}
GRU = {
    "r": {"op": "linear", "input": ["x", "h_prev_0"]},
    "r_act": {"op": "activation_sigm", "input": ["r"]},
    "z": {"op": "linear", "input": ["x", "h_prev_0"]},
    "z_act": {"op": "activation_sigm", "input": ["z"]},
    "rh": {"op": "elementwise_prod", "input": ["r_act", "h_prev_0"]},
    "n": {"op": "linear", "input": ["x", "rh"]},
    "n_act": {"op": "activation_tanh", "input": ["n"]},
    "h_new_0": {"op": "blend", "input": ["z_act", "h_prev_0", "n_act"]},
}
ELMAN = {
    "a": {"op": "linear", "input": ["x", "h_prev_0"]},
    "h_new_0": {"op": "activation_tanh", "input": ["a"]},
}


def bench_cells(k: int, seed: int) -> list[Cell]:
    """An LSTM, a GRU, an Elman cell, then seeded random recipes of up to 12 nodes."""
    rng = np.random.default_rng(seed)
    fixed = [Cell.from_recipe(r) for r in (LSTM, GRU, ELMAN)]
    return (fixed + [random_cell(rng) for _ in range(max(0, k - 3))])[:k]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", type=int, default=8)
    ap.add_argument("--corpus", default="ptb", choices=["ptb", "wikitext2"])
    ap.add_argument("--protocol", default="cpu")
    ap.add_argument("--tokens", type=int, default=20_000, help="training tokens per epoch")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--val-tokens", type=int, default=5_000)
    ap.add_argument("--skip-single", action="store_true", help="time the batched path only")
    ap.add_argument("--data-dir", default=None)
    args = ap.parse_args(argv)

    corpus = load_corpus(args.corpus, args.data_dir)
    proto = PROTOCOLS[args.protocol].with_(
        name=f"{args.protocol}_bench",
        tokens_per_epoch=args.tokens,
        epochs=args.epochs,
        val_tokens=args.val_tokens,
    )
    cells = bench_cells(args.cells, seed=0)
    sizes = program_sizes(cells, corpus.vocab_size)
    print(
        f"corpus {args.corpus}: unigram validation perplexity "
        f"{unigram_perplexity(corpus):.1f}; protocol {proto.as_dict()}"
    )
    print(f"{len(cells)} cells, padded sizes {sizes._asdict()}")

    def batched() -> list[float]:
        return [r.val_loss for r in train_cells(cells, proto, corpus, 0, sizes=sizes)]

    def single() -> list[float]:
        return [train_cells([c], proto, corpus, 0, sizes=sizes)[0].val_loss for c in cells]

    paths = [("batched", batched)] + ([] if args.skip_single else [("one at a time", single)])
    warm: dict[str, float] = {}
    losses: dict[str, list[float]] = {}
    for label, fn in paths:
        t0 = time.perf_counter()
        fn()
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        losses[label] = fn()
        warm[label] = time.perf_counter() - t0
        print(
            f"{label:>14}: first call {first:7.1f} s (compile {max(first - warm[label], 0):.1f} s),"
            f" steady {warm[label]:7.1f} s = {len(cells) / warm[label]:.3f} cells/s, "
            f"{warm[label] / len(cells):.1f} s per cell"
        )
    if len(warm) == 2:
        print(f"batched speed-up: {warm['one at a time'] / warm['batched']:.2f}x")
        diff = np.nanmax(np.abs(np.subtract(losses["batched"], losses["one at a time"])))
        print(f"largest |batched - one at a time| validation loss: {diff:.2e}")
    ppl = ", ".join(f"{math.exp(v):.1f}" for v in losses["batched"])
    print(f"validation perplexities: {ppl}")


if __name__ == "__main__":
    main()
