"""Shared fixtures: paths to the read-only shared data, float64 mode for gradient checks, and
a persistent JAX compilation cache for the test run.

Where ``shared/`` is found (``$PETRIDISH_SHARED_DIR``, else beside ``$PETRIDISH_DATA_DIR``,
else beside the checkout) is decided once, in ``shared_paths``; test modules import
``SHARED``, ``SHARED_DATA`` and ``SHARED_REFERENCE`` from there, not from this file.

The suite's time is mostly XLA compilation. Compiled programs are kept on disk in
``.jax_cache/`` at the repository root (git-ignored), or in ``$PETRIDISH_TEST_JAX_CACHE``;
set that variable to ``off`` (or empty) to compile everything afresh. The settings are also
exported as ``JAX_*`` environment variables, so test subprocesses (CLI runs, crash and Ray
workers) share the cache. A cached program is the one XLA would compile: results do not
depend on the cache.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import jax
import pytest

from shared_paths import REPO_ROOT, SHARED, SHARED_DATA, SHARED_REFERENCE

__all__ = ["JAX_CACHE", "PAPER_TABLE", "ROOT", "SHARED", "SHARED_DATA", "SHARED_REFERENCE"]

ROOT = REPO_ROOT
JAX_CACHE_ENV = "PETRIDISH_TEST_JAX_CACHE"
# Most test programs are tiny and compile in well under JAX's default threshold of 1 s, so
# that default would cache almost nothing; below ~0.1 s a disk read saves little.
JAX_CACHE_MIN_COMPILE_SECONDS = 0.1


def _enable_compilation_cache() -> Path | None:
    setting = os.environ.get(JAX_CACHE_ENV, str(ROOT / ".jax_cache"))
    if setting.strip().lower() in ("", "0", "off", "none", "false"):
        return None
    cache = Path(setting).expanduser().resolve()
    cache.mkdir(parents=True, exist_ok=True)
    # Environment first: subprocesses started by tests read these when they import jax.
    os.environ["JAX_COMPILATION_CACHE_DIR"] = str(cache)
    os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = str(JAX_CACHE_MIN_COMPILE_SECONDS)
    jax.config.update("jax_compilation_cache_dir", str(cache))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", JAX_CACHE_MIN_COMPILE_SECONDS)
    return cache


JAX_CACHE = _enable_compilation_cache()

XLA_OPT_ENV = "PETRIDISH_TEST_XLA_OPT"
_FAST_FLAG = "--xla_backend_optimization_level=0"


def pytest_configure(config: pytest.Config) -> None:
    """Compile test programs with XLA's backend optimisation off, unless the run selects the
    slow tests (which train on real data, so their run time matters more than compile time)
    or ``$PETRIDISH_TEST_XLA_OPT`` is ``full``. The default tests are compile-bound and
    check numbers against tolerances or against a second program compiled the same way;
    on 2 cores this cut ``tests/dish/test_cell_dish.py`` from 47 s to 37 s. Runs before any
    test module is imported (XLA reads the flags when its backend starts); subprocesses
    inherit them through the environment."""
    setting = os.environ.get(XLA_OPT_ENV, "").strip().lower()
    if not setting:
        marks = str(config.getoption("markexpr", "") or "")
        setting = "full" if "slow" in marks and "not slow" not in marks else "fast"
    flags = os.environ.get("XLA_FLAGS", "")
    if setting == "fast" and "xla_backend_optimization_level" not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} {_FAST_FLAG}".strip()


def pytest_report_header() -> str:
    where = "off" if JAX_CACHE is None else str(JAX_CACHE)
    opt = "off" if _FAST_FLAG in os.environ.get("XLA_FLAGS", "") else "on"
    return (
        f"petridish: JAX compilation cache {where} (${JAX_CACHE_ENV}); "
        f"XLA backend optimisation {opt} (${XLA_OPT_ENV})"
    )


PAPER_TABLE = SHARED_REFERENCE / "sigmoid_slope_mnist.csv"


@pytest.fixture
def x64() -> Iterator[None]:
    """Run a test with float64 enabled, restoring the previous setting afterwards."""
    before = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    try:
        yield
    finally:
        jax.config.update("jax_enable_x64", before)


@pytest.fixture
def paper_table_path() -> Path:
    if not PAPER_TABLE.is_file():
        pytest.skip(f"paper reference table not found at {PAPER_TABLE} (optional resource)")
    return PAPER_TABLE


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Isolate a loader from the user's environment: no data dir, a private empty cache root."""
    monkeypatch.delenv("PETRIDISH_DATA_DIR", raising=False)
    cache_root = tmp_path / "cache_root"
    monkeypatch.setenv("PETRIDISH_CACHE_DIR", str(cache_root))
    return cache_root
