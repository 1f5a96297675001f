"""``petridish truth --space SPACE``: measure a cell table (random cells of a space,
trained with the space's evaluator) through the results store.

The default ``petridish truth`` (no ``--space``) is the slope table (``petridish.cli.slope``);
this module is the cell-table path it dispatches to. The space and its evaluator come from
the space's ``SpaceSpec.load`` with ``--protocol`` and ``--data-dir``, exactly as
``petridish search --space`` builds them (for ``nao``: ``parse_lm_protocol``, so
``--protocol wikitext2:cpu`` measures on WikiText-2). Every check runs before the executor
starts and before the store is opened: bad input writes nothing.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from petridish.cli.common import (
    CliError,
    bar,
    executor_from_args,
    executor_request,
    no_ground_truth,
    open_store,
    resolve_protocol,
)

if TYPE_CHECKING:
    from petridish.search.spaces.base import SpaceSpec

__all__ = ["DEFAULT_TABLE_CELLS", "cell_space_names", "check_slope_args", "cmd_truth_table"]

DEFAULT_TABLE_CELLS = 200
"""``--n`` of a cell table when not given (the paper-space table ``nao_ptb`` has 200)."""

# Options of the slope table only (argparse default None: "not given").
SLOPE_ONLY = ("--low", "--high")
# Options of the cell table only.
TABLE_ONLY = ("--space-seed", "--seed", "--download", "--corpus")


def _is_cell_spec(spec: SpaceSpec) -> bool:
    # A trained space whose dish runs cells: what a cell table can be measured on (the
    # tabular spaces already are tables; slope and activation motifs are not cells).
    return not spec.tabular and spec.runs_cells


def cell_space_names() -> tuple[str, ...]:
    """The registered spaces ``petridish truth --space`` measures (trained cell spaces)."""
    from petridish.search.spaces import space_specs

    return tuple(s.name for s in space_specs() if _is_cell_spec(s))


def _given(args: argparse.Namespace, option: str) -> bool:
    value = getattr(args, option.lstrip("-").replace("-", "_"), None)
    return value is not None and value is not False


def check_slope_args(args: argparse.Namespace) -> None:
    """Without ``--space``: the cell-table options are a ``CliError`` (not silently ignored)."""
    given = [o for o in TABLE_ONLY if _given(args, o)]
    if given:
        raise CliError(
            f"{given[0]} applies with --space only (a cell table); without --space "
            "petridish truth measures the slope table"
        )


def cmd_truth_table(args: argparse.Namespace) -> int:
    """Measure the cell table ``args`` describe; 0 when every cell has a result, 1 when some
    failed (the table is written; the same command retries them), 2 for a user error."""
    from petridish.evaluators import GroundTruthUnavailable
    from petridish.search.spaces import GroundTruthRequest, space_spec
    from petridish.search.tables import measure_space_table

    cell_spaces = cell_space_names()
    try:
        spec = space_spec(args.space)
    except KeyError:
        raise CliError(
            f"--space: unknown space {args.space!r}; cell tables are measured on "
            f"{', '.join(cell_spaces)}"
        ) from None
    if spec.name not in cell_spaces:
        raise CliError(
            f"--space {spec.name} is not a trained cell space; cell tables are measured on "
            f"{', '.join(cell_spaces)} (without --space, petridish truth measures the slope "
            "table)"
        )
    given = [o for o in SLOPE_ONLY if _given(args, o)]
    if given:
        raise CliError(f"{given[0]} applies to the slope table only (without --space)")
    n = DEFAULT_TABLE_CELLS if args.n is None else args.n
    if n < 1:
        raise CliError(f"--n must be an integer >= 1 (cells in the table), got {n}")
    space_seed = 0 if args.space_seed is None else args.space_seed
    seed = 0 if args.seed is None else args.seed
    if space_seed < 0:
        raise CliError(f"--space-seed must be an integer >= 0, got {space_seed}")
    if seed < 0:
        raise CliError(f"--seed must be an integer >= 0, got {seed}")
    if args.download and not spec.downloads:
        raise CliError(f"--download does not apply to --space {spec.name}")
    workers, address, _, _ = executor_request(args)
    protocol = resolve_protocol(spec, args.protocol, None, args.corpus)
    request = GroundTruthRequest(args.data_dir, protocol, bool(args.download))
    try:
        truth = spec.load(request)
    except ValueError as exc:
        if spec.protocols:
            raise CliError(f"--protocol: {exc}") from None
        raise CliError(f"cannot load the ground truth of {spec.name}: {exc}") from None
    except FileNotFoundError as exc:
        raise CliError(f"cannot load the ground truth of {spec.name}: {exc}") from None
    corpus = getattr(truth.evaluator, "corpus", None)
    name = spec.name if corpus is None else f"{spec.name}_{corpus}"
    out = Path(args.out or f"runs/{name}.csv")
    # In this process each batch is recorded when it returns: the evaluator's own chunk
    # (cells per compiled program) keeps an interruption from losing more than one batch.
    # An executor splits the work itself.
    in_process = workers is None and address is None
    batch_size = getattr(truth.evaluator, "chunk", None) if in_process else None
    # The executor before the store: a cluster that cannot be reached writes nothing.
    with (
        executor_from_args(args) as executor,
        open_store(args.store) as store,
        bar(n, f"training {name} ({truth.evaluator.protocol})", args.quiet) as progress,
    ):
        try:
            table = measure_space_table(
                truth.space,
                truth.evaluator,
                store,
                n,
                space_seed=space_seed,
                seed=seed,
                name=name,
                batch_size=batch_size,
                executor=executor,
                progress=progress,
            )
        except GroundTruthUnavailable as exc:
            raise no_ground_truth(exc, spec.data_hint) from None
    csv_path, meta_path = table.write(out)
    counts = table.statuses
    print(
        f"wrote {csv_path} and {meta_path}: {n} cells of {spec.name}, protocol "
        f"{truth.evaluator.protocol}, {counts.get('ok', 0)} ok, {counts.get('diverged', 0)} "
        f"diverged, {counts.get('failed', 0)} failed; evaluations in {args.store}"
    )
    if counts.get("failed"):
        print(
            f"{counts['failed']} cells failed (not results; their val_loss is NaN in the "
            "CSV): run the same command again to retry them"
        )
        return 1
    return 0
