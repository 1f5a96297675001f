"""Measure a table of language-model losses for random cells of a space, through the store.

Run: ``python scripts/measure_lm_table.py [--n 200] [--space-seed 0] [--seed 0]
[--corpus ptb] [--protocol cpu] [--nodes 12] [--store runs/lm_table.db]
[--out src/petridish/truth/nao_ptb.csv]``.

A thin wrapper around ``petridish.search.tables.measure_space_table`` (the command line
``petridish truth --space nao`` is the other): the ``--n`` cells are random NAO/ENAS
genotypes (``GenotypeSpace(n_nodes)``, drawn with ``--space-seed``), trained with
``LanguageModelEvaluator(corpus, protocol)`` and training seed ``--seed``. Every evaluation
goes through the store, so a rerun (after an interruption, or with a larger ``--n``: the
first cells are the same) trains only what is missing. The CSV and its JSON record
(protocol fields, seeds, space, corpus, seconds) are rewritten at the end;
``petridish.truth.cell_table("nao_ptb")`` reads the bundled one.
"""

from __future__ import annotations

import argparse
import logging

from petridish.search.spaces.nao import GenotypeSpace
from petridish.search.tables import measure_space_table
from petridish.store import Store
from petridish.truth.lm import LanguageModelEvaluator


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--space-seed", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--corpus", default="ptb", choices=("ptb", "wikitext2"))
    ap.add_argument("--protocol", default="cpu")
    ap.add_argument("--nodes", type=int, default=12)
    ap.add_argument("--chunk", type=int, default=8, help="cells trained in one program")
    ap.add_argument("--store", default="runs/lm_table.db")
    ap.add_argument("--out", default=None, help="CSV path (default src/petridish/truth/...)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    space = GenotypeSpace(n_nodes=args.nodes)
    evaluator = LanguageModelEvaluator(args.corpus, args.protocol, chunk=args.chunk)
    name = f"nao{args.nodes if args.nodes != 12 else ''}_{args.corpus}"
    with Store(args.store) as store:
        table = measure_space_table(
            space,
            evaluator,
            store,
            args.n,
            space_seed=args.space_seed,
            seed=args.seed,
            name=name,
            batch_size=args.chunk,
            progress=lambda done, total: print(f"{done}/{total} cells", flush=True),
        )
    csv_path, meta_path = table.write(args.out or f"src/petridish/truth/{name}.csv")
    ok = table.statuses.get("ok", 0)
    print(f"wrote {csv_path} and {meta_path}: {ok}/{len(table.rows)} cells trained through")


if __name__ == "__main__":
    main()
