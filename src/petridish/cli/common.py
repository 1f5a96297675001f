"""Shared helpers of the command line: the user-error type, progress bars, the results
store, and parsing of dish settings and seed lists.

The command modules (``petridish.cli.slope``, ``.search``, ``.predictors``) import this
module; it imports none of them. Every user error is a ``CliError``: ``main`` prints it as
one line on stderr and exits with code 2.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import json
import logging
import math
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from petridish.dish.config import DishConfig

if TYPE_CHECKING:
    from petridish.execution import Executor
    from petridish.search.spaces import SpaceSpec
    from petridish.store import Store

__all__ = [
    "DEFAULT_STORE",
    "CliError",
    "MNIST_HINT",
    "LogHandler",
    "add_dish_options",
    "add_executor_options",
    "add_quiet",
    "add_store_option",
    "bar",
    "dish_config_from_args",
    "dish_keys",
    "executor_from_args",
    "executor_request",
    "no_ground_truth",
    "open_store",
    "parse_overrides",
    "resolve_protocol",
    "seed_count",
]

DEFAULT_STORE = "runs/petridish.db"
"""The results database of every command that stores ground truth."""


class CliError(Exception):
    """A user error reported as one line on stderr, exit code 2."""


# -- output --------------------------------------------------------------------------------


class LogHandler(logging.Handler):
    """Log records on stderr, written through tqdm so that they do not tear a progress bar."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            tqdm.write(self.format(record), file=sys.stderr)
        except Exception:
            self.handleError(record)


# -- progress ------------------------------------------------------------------------------


def new_bar(
    total: int | None, desc: str, quiet: bool, *, unit: str = "it", position: int = 0
) -> Any:
    """A tqdm bar on stderr that leaves no line behind (``quiet``: a disabled bar)."""
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        disable=quiet,
        file=sys.stderr,
        leave=False,
        position=position,
    )


@contextmanager
def bar(total: int, desc: str, quiet: bool) -> Iterator[Callable[[int, int], None]]:
    """A progress bar fed by ``progress(done, total)`` callbacks; closed on exit."""
    handle = new_bar(total, desc, quiet)

    def update(done: int, _total: int) -> None:
        handle.total = _total
        handle.n = done
        handle.refresh()

    try:
        yield update
    finally:
        handle.close()


# -- dish settings -------------------------------------------------------------------------


def dish_keys() -> tuple[str, ...]:
    """The names ``--set``/``--dish-set`` accept: the fields of ``DishConfig``."""
    return tuple(f.name for f in dataclasses.fields(DishConfig))


def parse_overrides(items: Sequence[str], option: str = "--set") -> dict[str, Any]:
    """``KEY=VALUE`` pairs; values are Python literals (numbers, tuples) or plain strings.

    A key that is not a ``DishConfig`` field is a ``CliError`` listing the valid keys.
    """
    keys = dish_keys()
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise CliError(f"{option} expects KEY=VALUE, got {item!r}")
        if key not in keys:
            raise CliError(
                f"unknown dish setting {key!r} in {option} {item}; valid keys: {', '.join(keys)}"
            )
        try:
            out[key] = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            out[key] = raw  # a plain string, e.g. network=cell
    return out


def _read_config(path: str, option: str) -> DishConfig:
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise CliError(f"cannot read {option} {path}: {exc}") from None
    if not isinstance(data, dict):
        raise CliError(f"{option} {path} holds no dish settings (a JSON object)")
    data = data.get("config", data)  # accept a `petridish select` output file
    try:
        return DishConfig.from_json(data)
    except (TypeError, ValueError) as exc:
        raise CliError(f"bad dish settings in {option} {path}: {exc}") from None


def dish_config_from_args(
    args: argparse.Namespace,
    default: DishConfig,
    *,
    set_option: str = "--set",
    config_option: str = "--config",
) -> DishConfig:
    """The dish settings of ``args``: ``default`` (or the ``--config`` file), then every
    ``--set KEY=VALUE`` on top. Errors name the option (``CliError``)."""
    dest_set = set_option.lstrip("-").replace("-", "_")
    dest_config = config_option.lstrip("-").replace("-", "_")
    items = getattr(args, dest_set, None) or []
    overrides = parse_overrides(items, set_option)
    path = getattr(args, dest_config, None)
    base = _read_config(path, config_option) if path else default
    try:
        return base.replace(**overrides)
    except (TypeError, ValueError) as exc:
        given = " ".join(f"{set_option} {item}" for item in items)
        raise CliError(f"bad dish setting ({given}): {exc}") from None


def add_dish_options(sp: argparse.ArgumentParser, what: str) -> None:
    """``--config FILE`` and ``--set KEY=VALUE`` (repeatable) for the dish ``what`` names."""
    sp.add_argument(
        "--config",
        metavar="FILE",
        help=f"dish settings JSON to start from instead of {what} (e.g. written by "
        "petridish select)",
    )
    sp.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override one dish setting (a DishConfig field), e.g. --set n_samples=20; repeatable",
    )


def add_quiet(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--quiet", action="store_true", help="no progress bars")


# -- the results store ---------------------------------------------------------------------


def add_store_option(sp: argparse.ArgumentParser) -> None:
    sp.add_argument(
        "--store",
        default=DEFAULT_STORE,
        metavar="DB",
        help=f"results database (SQLite; default {DEFAULT_STORE}); a rerun reads back what "
        "it holds",
    )


@contextmanager
def open_store(path: str) -> Iterator[Store]:
    """The store at ``path`` (its folder created); a file that is not a usable store is a
    ``CliError`` naming it."""
    from petridish.store import Store, StoreError

    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(f"cannot create the folder of --store {path}: {exc}") from None
    try:
        with Store(target) as store:
            yield store
    except StoreError as exc:
        # A foreign or damaged file, or a run id reused with another configuration.
        raise CliError(str(exc)) from None


# -- where ground truth runs ---------------------------------------------------------------


def add_executor_options(sp: argparse.ArgumentParser) -> None:
    """``--workers N``, ``--ray-address HOST:PORT`` and ``--gpus-per-task G``: run the
    ground truth on Ray (``petridish[ray]``) instead of in this process."""
    sp.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="train on a local Ray started for this command with N worker slots (needs "
        "petridish[ray]); default: in this process",
    )
    sp.add_argument(
        "--ray-address",
        default=None,
        metavar="HOST:PORT",
        help="train on the Ray cluster whose head listens there (ray start --head --port "
        "6379); default: $RAY_ADDRESS when set, else in this process",
    )
    sp.add_argument(
        "--gpus-per-task",
        type=float,
        default=0.0,
        metavar="G",
        help="GPUs each Ray task asks for (e.g. 1: one batch per GPU; default 0, CPU only)",
    )


def executor_request(args: argparse.Namespace) -> tuple[int | None, str | None, str, float]:
    """``(workers, address, option, gpus)`` the executor options ask for (``option``: the
    name an error about them uses), checked without starting anything: contradicting or
    bad values are a ``CliError`` naming the option. ``RAY_ADDRESS`` stands for
    ``--ray-address`` when neither ``--workers`` nor ``--ray-address`` is given."""
    workers = getattr(args, "workers", None)
    address = getattr(args, "ray_address", None)
    gpus = getattr(args, "gpus_per_task", 0.0)
    if workers is not None and address is not None:
        raise CliError("give --workers N (a local Ray) or --ray-address HOST:PORT, not both")
    if workers is not None and workers < 1:
        raise CliError(f"--workers must be >= 1, got {workers}")
    if not (math.isfinite(gpus) and gpus >= 0):
        raise CliError(f"--gpus-per-task must be a number >= 0, got {gpus}")
    option = "--workers" if workers is not None else "--ray-address"
    if workers is None and address is None and os.environ.get("RAY_ADDRESS"):
        address, option = os.environ["RAY_ADDRESS"], "RAY_ADDRESS (--ray-address)"
    if workers is None and address is None and gpus:
        raise CliError("--gpus-per-task applies with --workers or --ray-address only")
    return workers, address, option, float(gpus)


@contextmanager
def executor_from_args(args: argparse.Namespace) -> Iterator[Executor | None]:
    """The executor the options of ``add_executor_options`` ask for (None: in process; see
    ``executor_request``), closed on exit. Make it before the store is opened: an
    executor that cannot start (no Ray, no cluster at the address) is a ``CliError``
    naming the option, and nothing has been written."""
    workers, address, option, gpus = executor_request(args)
    if workers is None and address is None:
        yield None
        return
    from petridish.execution import ExecutorUnavailable, RayExecutor

    try:
        executor = RayExecutor(workers=workers, address=address, num_gpus=gpus)
    except ExecutorUnavailable as exc:
        raise CliError(f"{option}: {exc}") from None
    try:
        yield executor
    finally:
        executor.close()


# -- ground truth --------------------------------------------------------------------------

MNIST_HINT = (
    "put the four MNIST files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
    "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) in a folder and pass --data-dir "
    "DIR or set PETRIDISH_DATA_DIR=DIR"
)


def no_ground_truth(exc: Exception, hint: str) -> CliError:
    """The one line for ground truth that cannot be had at all (``GroundTruthUnavailable``)."""
    return CliError(
        f"no ground truth: {exc}. To provide it, {hint}; then run the same command again "
        "(it resumes; nothing stored is lost)"
    )


# -- numbers -------------------------------------------------------------------------------


def seed_count(text: str, option: str = "--seeds") -> tuple[int, ...]:
    """The seeds of a ``--seeds`` option, in the user's order: ``10`` is a count (seeds
    0..9), ``3,5,8`` a list (``3,`` is seed 3 alone) and ``0-9`` an inclusive range. Every
    command that takes seeds parses them here, so the forms mean the same everywhere."""
    try:
        if "," in text:
            seeds = tuple(int(s) for s in text.split(",") if s.strip())
        elif "-" in text.strip().lstrip("-"):
            lo, hi = (int(s) for s in text.split("-", 1))
            if hi < lo:
                raise ValueError
            seeds = tuple(range(lo, hi + 1))
        else:
            n = int(text)
            if n == 0:
                raise CliError(
                    f"{option} 0 asks for no seeds (a lone number is a count); for seed 0 "
                    f"alone write {option} 0-0 or {option} 0,"
                )
            seeds = tuple(range(n))
    except ValueError:
        raise CliError(
            f"{option} must be a count like 10, a list like 3,5,8 or a range like 0-9, got {text!r}"
        ) from None
    if not seeds or min(seeds) < 0 or len(set(seeds)) != len(seeds):
        raise CliError(f"{option} must give distinct seeds >= 0, got {text!r}")
    return seeds


def drop_partial(folder: Path, names: Iterable[str]) -> None:
    """Remove the partial report files ``names`` from ``folder`` once the full report is
    written (the folder too when that leaves it empty)."""
    for name in names:
        (folder / name).unlink(missing_ok=True)
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()


def resolve_protocol(
    spec: SpaceSpec, protocol: str | None, truth: str | None, corpus: str | None
) -> str | None:
    """The protocol a search (or a cell table) on ``spec`` trains with, from ``--protocol``,
    ``--truth`` and ``--corpus`` (a CliError naming the option that does not fit the space).

    ``--truth`` must name the space's kind of ground truth; ``--corpus`` picks a language
    model's corpus, the same as ``--protocol CORPUS:PROTOCOL`` (the default corpus leaves the
    protocol as written, so a run keeps its identity either way)."""
    from petridish.search.spaces import space_specs

    if truth is not None and truth != spec.truth:
        having = sorted(s.name for s in space_specs() if s.truth == truth)
        known = sorted({s.truth for s in space_specs()})
        if not having:
            raise CliError(f"unknown --truth {truth!r}; known: {', '.join(known)}")
        raise CliError(
            f"--truth {truth} does not apply to --space {spec.name} (its ground truth: "
            f"{spec.truth}); spaces with {truth}: {', '.join(having)}"
        )
    if protocol is None:
        protocol = spec.default_protocol
    if corpus is None:
        return protocol
    if not spec.corpora:
        with_corpora = sorted(s.name for s in space_specs() if s.corpora)
        raise CliError(f"--corpus applies to --space {' or '.join(with_corpora)} only")
    if corpus not in spec.corpora:
        raise CliError(f"unknown --corpus {corpus!r}; known: {', '.join(spec.corpora)}")
    if protocol is not None and ":" in protocol:
        named = protocol.split(":", 1)[0]
        if named != corpus:
            raise CliError(f"--corpus {corpus} contradicts --protocol {protocol}")
        return protocol
    if corpus == spec.corpora[0]:
        return protocol
    return f"{corpus}:{protocol}"
