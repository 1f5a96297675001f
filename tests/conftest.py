"""Shared fixtures: paths to the read-only shared data, and float64 mode for gradient checks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import jax
import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
PAPER_TABLE = SHARED / "reference" / "sigmoid_slope_mnist.csv"


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
