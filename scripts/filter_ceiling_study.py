"""How good must the filter be? Searches on the NAS-Bench-NLP pool with a synthetic ranker.

Issue 4's goal asks the dish-filtered GA to find a top-3 cell in at most half the evaluations
random search needs. This study separates the two parts of that pipeline: the proposals (GA
or random) and the filter's ranking quality. In place of the dish, each iteration's
candidates are ranked by a *noisy oracle*: the normal score of each candidate's true rank
among the candidates (``Phi^-1(r / (n + 1))``, r = 1 best) plus ``sigma`` times standard
normal noise from the iteration's selection generator (so every run is reproducible).
``sigma = 0`` is a perfect filter: the best the proposals allow. For each sigma the
realised Kendall tau-b between scores and true losses is measured on every iteration's
candidates, next to the number of evaluations to the first top-3 cell (median, quartiles,
misses) over the seeds. Everything else is the search loop as ``petridish compare`` runs it
(same schedule, realisation, warm-up and budget); no dish is fitted.

Usage: python scripts/filter_ceiling_study.py [--schedule pool] [--seeds 20]
       [--sigmas 0 0.25 0.5 1 1.5 2 3] [--out results/search_nasbench/filter_ceiling]
       python scripts/filter_ceiling_study.py --report PART.json [PART.json ...] --out DIR
       python scripts/filter_ceiling_study.py --dish-tau STORE.db [STORE.db ...]
(the second form merges the rows of runs made in parts into one table; misses count as
budget + 1 in the medians, and the bracket is a 95% bootstrap interval of the median over
seeds, 10,000 resamples, generator seed 0. The third reads the iteration logs of dish-filtered
searches in results databases and prints the Kendall tau-b between the dish's scores and
the true losses on each iteration's candidates, the number to set beside the table)
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.special import ndtri
from scipy.stats import kendalltau

from petridish.motifs.base import motif_from_json
from petridish.search.compare import SCHEDULES, censored_hits
from petridish.search.loop import SearchConfig, evals_to_hit, run_search
from petridish.search.oracle import TabularOracle
from petridish.search.space import CellPoolSpace
from petridish.search.strategies.base import History, Strategy
from petridish.search.strategies.ga import GAStrategy
from petridish.search.strategies.random_search import RandomStrategy
from petridish.store import Store

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"


@dataclass(frozen=True)
class NoisyOracleRanker:
    """``base``'s proposals, ranked by true rank normal scores plus ``sigma`` noise."""

    base: str
    sigma: float
    _strategy: Strategy = field(compare=False, repr=False)
    _loss_of: dict[bytes, float] = field(compare=False, repr=False)
    _taus: list[float] = field(compare=False, repr=False, default_factory=list)

    @property
    def name(self) -> str:
        return self._strategy.name

    def propose(
        self,
        space: CellPoolSpace,
        history: History,
        n: int,
        rng: np.random.Generator,
        *,
        exclude: Collection[str] = (),
    ) -> np.ndarray:
        return self._strategy.propose(space, history, n, rng, exclude=exclude)

    def rank(
        self,
        space: CellPoolSpace,
        history: History,
        candidates: np.ndarray,
        rng: np.random.Generator,
    ) -> np.ndarray:
        true = np.array([self._loss_of[row.tobytes()] for row in candidates])  # (n,)
        n = len(true)
        ranks = np.empty(n)
        ranks[np.argsort(true, kind="stable")] = np.arange(1, n + 1)
        scores = ndtri(ranks / (n + 1)) + self.sigma * rng.standard_normal(n)
        if n >= 2:
            self._taus.append(float(kendalltau(scores, true).statistic))
        return scores


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--schedule", default="pool", choices=sorted(SCHEDULES))
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--sigmas", type=float, nargs="+", default=[0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0])
    ap.add_argument("--out", default="results/search_nasbench/filter_ceiling")
    ap.add_argument("--report", nargs="+", help="merge these study JSON files, run nothing")
    ap.add_argument("--dish-tau", nargs="+", help="read dish-filtered runs from these stores")
    args = ap.parse_args()
    if args.dish_tau:
        dish_tau([Path(p) for p in args.dish_tau])
        return
    if args.report:
        write_report([json.loads(Path(p).read_text()) for p in args.report], Path(args.out))
        return
    sched = SCHEDULES[args.schedule]
    oracle = TabularOracle.load(REFERENCE)
    space = oracle.space()
    genes = space.genes
    loss_of = {genes[i].tobytes(): oracle.loss(c) for i, c in enumerate(space.pool)}
    targets = oracle.best_digests(3)
    rows = []
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "study.sqlite") as store:
        for base, make in (("ga", GAStrategy), ("random", RandomStrategy)):
            for sigma in args.sigmas:
                ranker = NoisyOracleRanker(base, sigma, make(), loss_of)
                hits: list[int | None] = []
                for seed in range(args.seeds):
                    config = SearchConfig(
                        space=space.name,
                        strategy=ranker.name,
                        use_dish=False,
                        budget_evals=sched.budget,
                        seed=seed,
                        warmup=sched.warmup,
                        proposals=sched.proposals,
                        per_iteration=sched.per_iteration,
                    )
                    res = run_search(
                        config,
                        space=space,
                        strategy=ranker,  # type: ignore[arg-type]
                        evaluator=oracle,
                        store=store,
                        run_id=f"{base}-{sigma}-{seed}",
                    )
                    hits.append(evals_to_hit(res, targets))
                q1, med, q3 = np.quantile(censored_hits(hits, sched.budget), [0.25, 0.5, 0.75])
                row = {
                    "proposals": base,
                    "sigma": sigma,
                    "mean_tau": round(statistics.fmean(ranker._taus), 3),
                    "median_evals": float(med),
                    "q1": float(q1),
                    "q3": float(q3),
                    "misses": sum(h is None for h in hits),
                    "hits": hits,
                }
                rows.append(row)
                print(
                    f"{base:6s} sigma {sigma:4.1f}  tau {row['mean_tau']:.3f}  median {med:6.1f}"
                    f"  IQR {q1:.1f}-{q3:.1f}  misses {row['misses']}",
                    flush=True,
                )
    report = {
        "schedule": vars(sched),
        "seeds": args.seeds,
        "pool": len(space.pool),
        "targets": "top 3 cells by final validation loss",
        "wall_seconds": round(time.perf_counter() - t0, 1),
        "rows": rows,
    }
    write_report([report], Path(args.out))


def dish_tau(stores: list[Path]) -> None:
    """Per run in ``stores``: mean Kendall tau-b of the dish's scores against the true losses
    of the candidates over its dish-ranked iterations; then the mean over runs."""
    oracle = TabularOracle.load(REFERENCE)
    per_run: list[float] = []
    for path in stores:
        with Store(path) as store:
            for run in store.runs():
                taus = []
                for it in store.iterations(run.run_id):
                    if it.predicted is None or len(it.proposed) < 2:
                        continue
                    true = [oracle.loss(motif_from_json(json.loads(m))) for m in it.proposed]
                    taus.append(float(kendalltau(it.predicted, true).statistic))
                if taus:
                    search = run.config["search"]
                    per_run.append(statistics.fmean(taus))
                    print(
                        f"{path.name} {search['strategy']} seed {search['seed']}: "
                        f"{len(taus)} iterations, mean tau {per_run[-1]:.3f}"
                    )
    if per_run:
        print(f"mean over {len(per_run)} runs: {statistics.fmean(per_run):.3f}")


def median_interval(hits: list[int | None], budget: int) -> tuple[float, float, float]:
    """Median of ``hits`` (misses as ``budget + 1``) and its 95% bootstrap interval."""
    x = censored_hits(hits, budget)  # (seeds,)
    boot = np.random.default_rng(0).choice(x, size=(10_000, len(x)), replace=True)
    lo, hi = np.quantile(np.median(boot, axis=1), [0.025, 0.975])
    return float(np.median(x)), float(lo), float(hi)


def write_report(reports: list[dict], out: Path) -> None:
    """``ceiling_<schedule>.json`` and ``.md`` in ``out`` from one or more study reports."""
    sched = reports[0]["schedule"]
    if any(r["schedule"] != sched for r in reports):
        raise SystemExit("error: the parts were run on different schedules")
    rows = [row for r in reports for row in r["rows"]]
    seeds = sorted({len(row["hits"]) for row in rows})
    merged = {**reports[0], "seeds": seeds, "rows": rows}
    merged["wall_seconds"] = round(sum(r["wall_seconds"] for r in reports), 1)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"ceiling_{sched['name']}.json").write_text(json.dumps(merged, indent=1))
    lines = [
        f"# Filter ceiling, {sched['name']} schedule ({sched['warmup']} warm-up, "
        f"{sched['proposals']} proposed, {sched['per_iteration']} evaluated, budget "
        f"{sched['budget']})",
        "",
        "Candidates ranked by their true rank's normal score plus sigma x N(0, 1) noise "
        "(scripts/filter_ceiling_study.py). Evaluations to the first top-3 cell.",
        "",
        "| proposals | noise sigma | seeds | mean Kendall tau on candidates | median [95% CI] "
        "| IQR | misses |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in sorted(rows, key=lambda r: (r["proposals"], r["sigma"])):
        med, lo, hi = median_interval(r["hits"], sched["budget"])
        lines.append(
            f"| {r['proposals']} | {r['sigma']} | {len(r['hits'])} | {r['mean_tau']:.3f} "
            f"| {med:.1f} [{lo:.1f}, {hi:.1f}] | {r['q1']:.1f}-{r['q3']:.1f} | {r['misses']} |"
        )
    (out / f"ceiling_{sched['name']}.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
