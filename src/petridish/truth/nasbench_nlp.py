"""NAS-Bench-NLP training logs (WikiText-2): one recurrent cell per log, 50 epochs each.

The logs come from NAS-Bench-NLP (Klyuchnikov et al., 2020; Apache-2.0): each JSON log
records one recurrent-cell architecture trained as a 3-layer language model on WikiText-2.
They are the ground truth against which the Synthetic Petri Dish ranks cells.

Contract:

* ``load_nasbench_nlp`` finds the zip of logs (``FILE_NAME``) in, in order: the
  ``path_or_dir`` argument (or, when it is ``None``, the path named by the environment
  variable ``PETRIDISH_DATA_DIR``), which may be the zip itself or a directory holding it
  directly or in its ``reference/`` or ``nasbench_nlp/`` subfolder; then the cache directory
  (``$PETRIDISH_CACHE_DIR/nasbench_nlp``, default ``~/.cache/petridish/nasbench_nlp``).
  A path ending in ``.zip`` that does not exist is an error (never silently substituted).
* Found nowhere, the zip is downloaded, when ``download`` is true, from ``URLS`` (or the
  ``urls`` argument; the upstream file is ``train_logs_wikitext-2/logs.zip`` of the
  NAS-Bench-NLP GitHub repository) into the cache directory. A download is written to a
  temporary file in that directory, fully validated (and checked against ``sha256`` when
  given), then renamed into place, so a bad or partial download never lands under the final
  name. If nothing works, ``NasBenchNLPUnavailableError`` (a ``FileNotFoundError``) says
  where the file was looked for and how to provide it.
* Validation: the archive must be a readable zip holding at least one ``*.json`` member
  (directories, ``__MACOSX/`` and ``._*`` entries are ignored); every log must parse as a
  JSON object with the keys ``REQUIRED_KEYS`` of the right types, a recipe that is a JSON
  object of nodes ``{"op": str, "input": [str, ...]}``, and per-epoch lists of equal length.
  A problem raises ``NasBenchNLPFormatError`` (a ``ValueError``) naming the zip and the
  member. With ``strict=False`` a malformed *log* is skipped, logged and recorded in
  ``NasBenchNLP.skipped``; a damaged *archive* (unreadable zip or member) always raises.
  A file found on disk that fails validation is never replaced by a download.
* Losses are cross-entropies in nats (perplexity is ``exp(loss)``); epochs are 1-based;
  ``wall_times`` are seconds per epoch (not cumulative). NaN losses are kept as recorded.
* A log is *complete* (``CellLog.ok``) when its status is ``"OK"``, it ran all its planned
  epochs (the log's ``epochs`` setting, 50 here) and every train/val/test loss is finite.
  ``NasBenchNLP.complete()`` holds those, ``diverged()`` the rest.
* Everything returned is immutable except the ``recipe`` dicts (plain dicts, as the rest of
  the library expects); ``recipe_json`` is the recorded string and the canonical copy, and
  ``NasBenchNLP.targets`` hands out fresh dicts decoded from it.
* Some recipes occur more than once (independent re-runs); ``targets(merge_duplicates=True)``
  gives one row per distinct recipe with the mean final validation loss of its complete runs.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import math
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from petridish._logging import logger
from petridish._validation import integer, nonnegative_int, positive_int
from petridish.data.mnist import CACHE_DIR_ENV, DATA_DIR_ENV

__all__ = [
    "EPOCHS",
    "FILE_NAME",
    "REFERENCE_SHA256",
    "REQUIRED_KEYS",
    "URLS",
    "CellLog",
    "NasBenchNLP",
    "NasBenchNLPFormatError",
    "NasBenchNLPUnavailableError",
    "default_cache_dir",
    "load_nasbench_nlp",
    "parse_log",
    "read_nasbench_nlp_zip",
]

FILE_NAME = "nasbench_nlp_wikitext2_logs.zip"
"""Name the zip is looked for under (and cached as)."""

_UPSTREAM_PATH = "fmsnew/nas-bench-nlp-release/master/train_logs_wikitext-2/logs.zip"
URLS: tuple[str, ...] = (
    "https://github.com/fmsnew/nas-bench-nlp-release/raw/master/train_logs_wikitext-2/logs.zip",
    f"https://raw.githubusercontent.com/{_UPSTREAM_PATH}",
    f"https://media.githubusercontent.com/media/{_UPSTREAM_PATH}",
)
"""Tried in order; each must serve the zip of WikiText-2 logs itself."""

REFERENCE_SHA256 = "f5052d6bea6398001e32c986322a243e8cdedffa906caf242eb0a62ee105aa12"
"""sha256 of the 345-log copy this module was checked against (pass as ``sha256=`` to pin it;
the upstream archive may differ byte-wise, so it is not enforced by default)."""

EPOCHS = 50
"""Planned epochs per run in NAS-Bench-NLP (used when a log does not record ``epochs``)."""

REQUIRED_KEYS: tuple[str, ...] = (
    "recepie",
    "num_params",
    "train_losses",
    "val_losses",
    "test_losses",
    "wall_times",
    "status",
)
"""Keys every log must hold (``recepie`` is the upstream spelling)."""

_SUBFOLDERS = ("reference", "nasbench_nlp")
_CACHE_SUBDIR = "nasbench_nlp"
_STATUS_OK = "OK"
_DOWNLOAD_TIMEOUT_S = 60.0
_CHUNK = 1 << 16


class NasBenchNLPFormatError(ValueError):
    """The zip or one of its logs is damaged, malformed or not a NAS-Bench-NLP log."""


class NasBenchNLPUnavailableError(FileNotFoundError):
    """The zip of logs is neither on disk nor downloadable."""


@dataclass(frozen=True)
class CellLog:
    """One training log: a recurrent cell and its per-epoch losses (nats) and times (s)."""

    name: str
    recipe: dict[str, Any] = field(compare=False, repr=False)
    recipe_json: str
    num_params: int
    train_losses: tuple[float, ...]
    val_losses: tuple[float, ...]
    test_losses: tuple[float, ...]
    wall_times: tuple[float, ...]
    status: str
    planned_epochs: int = EPOCHS

    def __post_init__(self) -> None:
        lengths = {
            len(self.train_losses),
            len(self.val_losses),
            len(self.test_losses),
            len(self.wall_times),
        }
        if len(lengths) != 1:
            raise NasBenchNLPFormatError(
                f"log {self.name!r}: train_losses, val_losses, test_losses and wall_times have "
                f"lengths {len(self.train_losses)}, {len(self.val_losses)}, "
                f"{len(self.test_losses)} and {len(self.wall_times)}; they must be equal"
            )
        if self.planned_epochs < 1:
            raise NasBenchNLPFormatError(
                f"log {self.name!r}: planned epochs {self.planned_epochs} is not positive"
            )

    @property
    def epochs(self) -> int:
        """Number of epochs recorded (fewer than planned for a run that stopped early)."""
        return len(self.val_losses)

    @property
    def ok(self) -> bool:
        """Complete: status ``OK``, all planned epochs recorded, every loss finite."""
        return (
            self.status == _STATUS_OK
            and self.epochs == self.planned_epochs
            and all(
                math.isfinite(x)
                for losses in (self.train_losses, self.val_losses, self.test_losses)
                for x in losses
            )
        )

    @property
    def final_val_loss(self) -> float:
        """Validation loss (nats) at the last recorded epoch (may be NaN if not ``ok``)."""
        if not self.val_losses:
            raise ValueError(f"log {self.name!r} records no epochs")
        return self.val_losses[-1]

    @property
    def final_val_perplexity(self) -> float:
        """``exp(final_val_loss)``."""
        return math.exp(self.final_val_loss)

    def val_loss_at(self, epoch: int) -> float:
        """Validation loss after ``epoch`` epochs (1-based), e.g. for early-stopping baselines."""
        epoch = integer(epoch, "epoch", error=TypeError)
        if not 1 <= epoch <= self.epochs:
            raise ValueError(
                f"epoch {epoch} out of range for log {self.name!r}, which records epochs "
                f"1..{self.epochs}"
            )
        return self.val_losses[epoch - 1]

    def cost_seconds(self, epochs: int | None = None) -> float:
        """Training wall time (s) of the first ``epochs`` epochs (all recorded ones if None)."""
        n = self.epochs if epochs is None else epochs
        n = integer(n, "epochs", error=TypeError)
        if not 0 <= n <= self.epochs:
            raise ValueError(
                f"epochs {n} out of range for log {self.name!r}, which records {self.epochs}"
            )
        return math.fsum(self.wall_times[:n])

    def canonical_recipe(self) -> str:
        """The recipe as JSON with sorted keys and no spaces: equal cells, equal strings."""
        return _canonical(self.recipe_json)


@dataclass(frozen=True)
class NasBenchNLP:
    """All logs of one archive, in archive order; ``skipped`` lists ``"member: reason"``."""

    logs: tuple[CellLog, ...]
    skipped: tuple[str, ...] = ()
    source: str = ""

    def __len__(self) -> int:
        return len(self.logs)

    def __iter__(self) -> Iterator[CellLog]:
        return iter(self.logs)

    def complete(self) -> tuple[CellLog, ...]:
        """The complete logs (``CellLog.ok``)."""
        return tuple(log for log in self.logs if log.ok)

    def diverged(self) -> tuple[CellLog, ...]:
        """The logs that are not complete (NaN losses, failed status or stopped early)."""
        return tuple(log for log in self.logs if not log.ok)

    def targets(self, *, merge_duplicates: bool = False) -> tuple[list[dict[str, Any]], np.ndarray]:
        """``(recipes, final validation losses)`` of the complete logs, in archive order.

        Recipes are fresh dicts; losses a float64 array in nats. With ``merge_duplicates``,
        logs of the same recipe (same canonical JSON) become one row, at the place of its
        first complete run, with the mean final validation loss of its complete runs.
        """
        done = self.complete()
        if not merge_duplicates:
            recipes = [json.loads(log.recipe_json) for log in done]
            return recipes, np.array([log.final_val_loss for log in done], dtype=np.float64)
        groups: dict[str, list[float]] = {}
        first: dict[str, str] = {}
        for log in done:
            key = log.canonical_recipe()
            groups.setdefault(key, []).append(log.final_val_loss)
            first.setdefault(key, log.recipe_json)
        recipes = [json.loads(first[key]) for key in groups]
        losses = np.array([math.fsum(v) / len(v) for v in groups.values()], dtype=np.float64)
        return recipes, losses


def _canonical(recipe_json: str) -> str:
    return json.dumps(json.loads(recipe_json), sort_keys=True, separators=(",", ":"))


def default_cache_dir() -> Path:
    """``$PETRIDISH_CACHE_DIR/nasbench_nlp`` if set, else ``~/.cache/petridish/nasbench_nlp``."""
    root = os.environ.get(CACHE_DIR_ENV)
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "petridish"
    return base / _CACHE_SUBDIR


# ---------------------------------------------------------------------------------- parsing


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _float_list(data: Mapping[str, Any], key: str, name: str) -> tuple[float, ...]:
    value = data[key]
    if not isinstance(value, list):
        raise NasBenchNLPFormatError(
            f"log {name!r}: {key!r} must be a list of numbers, got {type(value).__name__}"
        )
    out: list[float] = []
    for i, item in enumerate(value):
        number = _number(item)
        if number is None:
            raise NasBenchNLPFormatError(f"log {name!r}: {key!r}[{i}] = {item!r} is not a number")
        out.append(number)
    return tuple(out)


def _recipe(value: object, name: str) -> tuple[dict[str, Any], str]:
    if isinstance(value, str):
        text = value
        try:
            recipe = json.loads(text)
        except ValueError as err:
            raise NasBenchNLPFormatError(
                f"log {name!r}: 'recepie' is not valid JSON ({err})"
            ) from err
    elif isinstance(value, dict):
        recipe, text = value, json.dumps(value)
    else:
        raise NasBenchNLPFormatError(
            f"log {name!r}: 'recepie' must be a JSON string or object, got {type(value).__name__}"
        )
    if not isinstance(recipe, dict) or not recipe:
        raise NasBenchNLPFormatError(f"log {name!r}: 'recepie' must be a non-empty JSON object")
    for node, spec in recipe.items():
        if (
            not isinstance(spec, dict)
            or not isinstance(spec.get("op"), str)
            or not isinstance(spec.get("input"), list)
            or not all(isinstance(x, str) for x in spec["input"])
        ):
            raise NasBenchNLPFormatError(
                f"log {name!r}: recipe node {node!r} must be {{'op': str, 'input': [str, ...]}},"
                f" got {spec!r}"
            )
    return recipe, text


def parse_log(data: object, name: str) -> CellLog:
    """Validate one decoded log (a JSON object) and build its ``CellLog``.

    Raises ``NasBenchNLPFormatError`` naming ``name`` and the problem.
    """
    if not isinstance(data, dict):
        raise NasBenchNLPFormatError(
            f"log {name!r}: expected a JSON object, got {type(data).__name__}"
        )
    missing = [key for key in REQUIRED_KEYS if key not in data]
    if missing:
        raise NasBenchNLPFormatError(f"log {name!r}: missing required key(s) {missing}")
    recipe, recipe_json = _recipe(data["recepie"], name)
    num_params = data["num_params"]
    if isinstance(num_params, float) and num_params.is_integer():
        num_params = int(num_params)
    num_params = nonnegative_int(
        num_params, f"log {name!r}: 'num_params'", error=NasBenchNLPFormatError
    )
    status = data["status"]
    if not isinstance(status, str):
        raise NasBenchNLPFormatError(f"log {name!r}: 'status' must be a string, got {status!r}")
    planned = data.get("epochs", EPOCHS)
    planned = positive_int(planned, f"log {name!r}: 'epochs'", error=NasBenchNLPFormatError)
    wall_times = _float_list(data, "wall_times", name)
    bad = [t for t in wall_times if not (math.isfinite(t) and t >= 0.0)]
    if bad:
        raise NasBenchNLPFormatError(
            f"log {name!r}: 'wall_times' must be finite and non-negative, got {bad[0]!r}"
        )
    return CellLog(
        name=name,
        recipe=recipe,
        recipe_json=recipe_json,
        num_params=num_params,
        train_losses=_float_list(data, "train_losses", name),
        val_losses=_float_list(data, "val_losses", name),
        test_losses=_float_list(data, "test_losses", name),
        wall_times=wall_times,
        status=status,
        planned_epochs=planned,
    )


def _is_log_member(info: zipfile.ZipInfo) -> bool:
    parts = info.filename.split("/")
    return (
        not info.is_dir()
        and info.filename.lower().endswith(".json")
        and "__MACOSX" not in parts
        and not parts[-1].startswith("._")
    )


def read_nasbench_nlp_zip(path: str | os.PathLike[str], *, strict: bool = True) -> NasBenchNLP:
    """Read and validate the logs in one zip (no searching, no download).

    Each ``CellLog.name`` is the member's file name without directories and ``.json``.
    """
    zip_path = Path(path)
    hint = "it is corrupt or truncated; delete it and provide a good copy"
    if not zip_path.is_file():  # not "corrupt": say it is missing
        raise NasBenchNLPUnavailableError(f"NAS-Bench-NLP logs not found: no file {zip_path}")
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as err:
        raise NasBenchNLPFormatError(
            f"NAS-Bench-NLP file {zip_path} is not a readable zip archive ({err}); {hint}"
        ) from err
    logs: list[CellLog] = []
    skipped: list[str] = []
    with archive:
        members = [info for info in archive.infolist() if _is_log_member(info)]
        if not members:
            raise NasBenchNLPFormatError(
                f"NAS-Bench-NLP file {zip_path} holds no *.json training logs; it is not the "
                f"NAS-Bench-NLP log archive"
            )
        for info in members:
            try:
                raw = archive.read(info)
            except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as err:
                raise NasBenchNLPFormatError(
                    f"NAS-Bench-NLP file {zip_path}: member {info.filename!r} cannot be read "
                    f"({err}); {hint}"
                ) from err
            name = info.filename.rsplit("/", 1)[-1][: -len(".json")]
            try:
                try:
                    data = json.loads(raw)
                except ValueError as err:  # JSONDecodeError and UnicodeDecodeError
                    raise NasBenchNLPFormatError(f"log {name!r}: not valid JSON ({err})") from err
                logs.append(parse_log(data, name))
            except NasBenchNLPFormatError as err:
                message = f"NAS-Bench-NLP file {zip_path}, member {info.filename!r}: {err}"
                if strict:
                    raise NasBenchNLPFormatError(message) from err
                logger.warning("skipping malformed log: %s", message)
                skipped.append(f"{info.filename}: {err}")
    if not logs:
        raise NasBenchNLPFormatError(
            f"NAS-Bench-NLP file {zip_path}: all {len(members)} logs are malformed "
            f"(first: {skipped[0]})"
        )
    logger.debug("read %d NAS-Bench-NLP logs from %s", len(logs), zip_path)
    return NasBenchNLP(logs=tuple(logs), skipped=tuple(skipped), source=str(zip_path))


# ------------------------------------------------------------------------- finding/loading


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_sha256(path: Path, expected: str | None) -> None:
    if expected is None:
        return
    found = _sha256(path)
    if found != expected.lower():
        raise NasBenchNLPFormatError(
            f"NAS-Bench-NLP file {path} has sha256 {found}, expected {expected}; it is not "
            f"the pinned copy"
        )


def _candidates(
    path_or_dir: str | os.PathLike[str] | None, cache_dir: Path
) -> tuple[Path | None, list[Path]]:
    """``(explicit zip file or None, directories to search in order)``."""
    given: str | os.PathLike[str] | None = path_or_dir
    origin = "path_or_dir"
    if given is None:
        given = os.environ.get(DATA_DIR_ENV) or None
        origin = DATA_DIR_ENV
    dirs: list[Path] = []
    if given is not None:
        root = Path(given).expanduser()
        if root.is_file():
            return root, []
        if root.suffix.lower() == ".zip" and not root.exists():
            raise NasBenchNLPUnavailableError(
                f"NAS-Bench-NLP log archive {root} (from {origin}) does not exist. "
                + _how_to_provide(cache_dir)
            )
        dirs += [root, *(root / sub for sub in _SUBFOLDERS)]
    dirs.append(cache_dir)
    return None, dirs


def _how_to_provide(cache_dir: Path) -> str:
    return (
        f"Provide the zip of NAS-Bench-NLP WikiText-2 training logs (upstream "
        f"train_logs_wikitext-2/logs.zip, e.g. {URLS[0]}) by passing its path, or a "
        f"directory holding it as {FILE_NAME!r} (directly or in 'reference/' or "
        f"'nasbench_nlp/'), to load_nasbench_nlp; or set {DATA_DIR_ENV} to such a path; or "
        f"save it as {cache_dir / FILE_NAME}."
    )


def _download(
    urls: Sequence[str], cache_dir: Path, *, strict: bool, sha256: str | None
) -> NasBenchNLP:
    """Fetch the zip from the first URL that serves a valid copy; atomic write into the cache."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    target = cache_dir / FILE_NAME
    failures: list[str] = []
    for url in urls:
        logger.info("downloading %s", url)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{FILE_NAME}.", suffix=".part", dir=cache_dir)
        tmp = Path(tmp_name)
        try:
            try:
                with (
                    os.fdopen(fd, "wb") as handle,
                    urllib.request.urlopen(url, timeout=_DOWNLOAD_TIMEOUT_S) as response,
                ):
                    shutil.copyfileobj(response, handle, _CHUNK)
            except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as err:
                failures.append(f"{url}: {err}")
                logger.warning("download of %s failed: %s", url, err)
                continue
            try:
                _check_sha256(tmp, sha256)
                bench = read_nasbench_nlp_zip(tmp, strict=strict)
            except NasBenchNLPFormatError as err:
                failures.append(f"{url}: bad content ({err})")
                logger.warning("%s served a bad copy of the NAS-Bench-NLP logs: %s", url, err)
                continue
            os.replace(tmp, target)
            logger.info("saved %d NAS-Bench-NLP logs to %s", len(bench), target)
            return replace(bench, source=str(target))
        finally:
            if tmp.exists():
                tmp.unlink()
    tried = "; ".join(failures) if failures else "no URLs given"
    raise NasBenchNLPUnavailableError(
        f"NAS-Bench-NLP logs not found on disk and not downloadable ({tried}). "
        + _how_to_provide(cache_dir)
    )


def load_nasbench_nlp(
    path_or_dir: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
    urls: Sequence[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    strict: bool = True,
    sha256: str | None = None,
) -> NasBenchNLP:
    """Find (or download), validate and read the NAS-Bench-NLP WikiText-2 logs.

    See the module docstring for the search order and validation. ``urls`` replaces ``URLS``;
    ``cache_dir`` replaces the cache directory for this call; ``strict=False`` skips malformed
    logs (recorded in ``NasBenchNLP.skipped``); ``sha256`` pins the archive's checksum.
    """
    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    explicit, dirs = _candidates(path_or_dir, cache)
    found = explicit or next((d / FILE_NAME for d in dirs if (d / FILE_NAME).is_file()), None)
    if found is not None:
        logger.debug("using NAS-Bench-NLP logs at %s", found)
        _check_sha256(found, sha256)
        return read_nasbench_nlp_zip(found, strict=strict)
    if not download:
        raise NasBenchNLPUnavailableError(
            f"NAS-Bench-NLP logs not found (searched {[str(d) for d in dirs]}; download "
            f"disabled). " + _how_to_provide(cache)
        )
    return _download(tuple(URLS if urls is None else urls), cache, strict=strict, sha256=sha256)
