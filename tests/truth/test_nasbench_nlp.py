"""NAS-Bench-NLP log loader: real-data facts, search order, offline download, bad archives."""

from __future__ import annotations

import copy
import functools
import http.server
import json
import math
import shutil
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from petridish.truth.nasbench_nlp import (
    FILE_NAME,
    REFERENCE_SHA256,
    CellLog,
    NasBenchNLP,
    NasBenchNLPFormatError,
    NasBenchNLPUnavailableError,
    load_nasbench_nlp,
    parse_log,
    read_nasbench_nlp_zip,
)
from shared_paths import SHARED_REFERENCE

REAL_ZIP = SHARED_REFERENCE / FILE_NAME
_ABSENT = f"NAS-Bench-NLP logs not found at {REAL_ZIP} (shared reference data absent)"

needs_real = pytest.mark.skipif(not REAL_ZIP.is_file(), reason=_ABSENT)


@pytest.fixture(scope="module")
def bench() -> NasBenchNLP:
    if not REAL_ZIP.is_file():
        pytest.skip(_ABSENT)
    return load_nasbench_nlp(REAL_ZIP, download=False)


def _log(**overrides: Any) -> dict[str, Any]:
    """A small valid log in the upstream format (3 epochs)."""
    recipe = {
        "f": {"op": "linear", "input": ["x", "h_prev_0"]},
        "h_new_0": {"op": "activation_tanh", "input": ["f"]},
    }
    data: dict[str, Any] = {
        "recepie": json.dumps(recipe),
        "num_params": 1234,
        "epochs": 3,
        "train_losses": [6.0, 5.5, 5.2],
        "val_losses": [5.9, 5.6, 5.4],
        "test_losses": [5.8, 5.5, 5.3],
        "wall_times": [10.0, 11.0, 12.0],
        "status": "OK",
    }
    data.update(overrides)
    return data


def _write_zip(path: Path, members: dict[str, str | bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


# ------------------------------------------------------------------------------ real data


def test_counts_and_split(bench: NasBenchNLP) -> None:
    assert len(bench) == 345
    assert len(bench.complete()) == 341
    assert len(bench.diverged()) == 4
    assert bench.skipped == ()
    assert all(log.status != "OK" for log in bench.diverged())
    assert all(log.epochs == 50 and log.ok for log in bench.complete())


def test_targets_match_reported_perplexities(bench: NasBenchNLP) -> None:
    recipes, losses = bench.targets()
    assert len(recipes) == len(losses) == 341
    assert losses.dtype == np.float64
    assert np.all(np.isfinite(losses)) and np.all(losses > 0)
    best, median = math.exp(losses.min()), math.exp(float(np.median(losses)))
    assert 95.0 < best < 98.0  # measured 96.49
    assert 255.0 < median < 275.0  # measured 264.84
    # Recipes are plain dicts of nodes, and fresh copies each call.
    assert all(isinstance(r, dict) and "h_new_0" in r for r in recipes)
    recipes[0]["tampered"] = {"op": "linear", "input": []}
    assert "tampered" not in bench.targets()[0][0]
    assert "tampered" not in bench.complete()[0].recipe


def test_merge_duplicates(bench: NasBenchNLP) -> None:
    recipes, losses = bench.targets(merge_duplicates=True)
    assert len(recipes) == len(losses) == 289  # 341 complete runs of 289 distinct cells
    keys = {json.dumps(r, sort_keys=True) for r in recipes}
    assert len(keys) == 289
    assert math.exp(losses.min()) == pytest.approx(96.49, abs=0.1)


def test_early_epochs_and_costs(bench: NasBenchNLP) -> None:
    log = bench.complete()[0]
    assert log.val_loss_at(1) == log.val_losses[0]
    assert log.val_loss_at(50) == log.final_val_loss
    for epoch in (1, 3, 5):
        values = np.array([c.val_loss_at(epoch) for c in bench.complete()])
        assert np.all(np.isfinite(values)) and np.all(values > 0)
    assert log.cost_seconds(3) == pytest.approx(sum(log.wall_times[:3]))
    assert log.cost_seconds() == pytest.approx(sum(log.wall_times))
    assert 0 < log.cost_seconds(1) < log.cost_seconds(5) < log.cost_seconds()
    with pytest.raises(ValueError, match="out of range"):
        log.val_loss_at(0)
    with pytest.raises(ValueError, match="out of range"):
        log.val_loss_at(51)
    with pytest.raises(ValueError, match="out of range"):
        log.cost_seconds(51)


def test_diverged_logs(bench: NasBenchNLP) -> None:
    for log in bench.diverged():
        assert log.status == "loss is nan!"
        assert math.isnan(log.final_val_loss)
        assert 1 <= log.epochs < 50
    short = min(bench.diverged(), key=lambda log: log.epochs)
    with pytest.raises(ValueError, match="records epochs 1..1"):
        short.val_loss_at(3)


def test_log_fields(bench: NasBenchNLP) -> None:
    log = bench.logs[0]
    assert log.name.startswith("log_stats_model_")
    assert json.loads(log.recipe_json) == log.recipe
    assert isinstance(log.num_params, int) and log.num_params > 0
    assert isinstance(log.train_losses, tuple) and isinstance(log.wall_times[0], float)
    hash(log)  # frozen and hashable despite the dict field
    assert log == copy.copy(log)


@needs_real
def test_search_order_env_and_subfolders(monkeypatch: pytest.MonkeyPatch, no_env: Path) -> None:
    # A directory holding the zip directly, and the parent of a reference/ folder.
    assert len(load_nasbench_nlp(SHARED_REFERENCE, download=False)) == 345
    monkeypatch.setenv("PETRIDISH_DATA_DIR", str(SHARED_REFERENCE.parent))
    assert len(load_nasbench_nlp(download=False)) == 345
    # Pinned checksum of the reference copy.
    assert len(load_nasbench_nlp(REAL_ZIP, download=False, sha256=REFERENCE_SHA256)) == 345
    with pytest.raises(NasBenchNLPFormatError, match="sha256"):
        load_nasbench_nlp(REAL_ZIP, download=False, sha256="0" * 64)


@needs_real
def test_cache_dir_and_nasbench_nlp_subfolder(tmp_path: Path, no_env: Path) -> None:
    cache = no_env / "nasbench_nlp"
    cache.mkdir(parents=True)
    shutil.copy(REAL_ZIP, cache / FILE_NAME)
    assert load_nasbench_nlp(download=False).source == str(cache / FILE_NAME)
    data = tmp_path / "data" / "nasbench_nlp"
    data.mkdir(parents=True)
    small = _write_zip(data / FILE_NAME, {"a.json": json.dumps(_log())})
    # The data dir's nasbench_nlp/ subfolder wins over the cache.
    assert load_nasbench_nlp(tmp_path / "data", download=False).source == str(small)


def test_missing_without_download(tmp_path: Path, no_env: Path) -> None:
    with pytest.raises(NasBenchNLPUnavailableError, match="PETRIDISH_DATA_DIR") as info:
        load_nasbench_nlp(tmp_path / "empty", download=False)
    assert FILE_NAME in str(info.value)
    with pytest.raises(NasBenchNLPUnavailableError, match="does not exist"):
        load_nasbench_nlp(tmp_path / "nope.zip", download=True, urls=["http://127.0.0.1:9/x"])


# ------------------------------------------------------------------------ offline download


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Path]]:
    """A local HTTP server on a random port serving a fresh directory: (base URL, dir)."""
    for var in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(served))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", served
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def test_download_falls_back_and_is_atomic(
    server: tuple[str, Path], tmp_path: Path, no_env: Path
) -> None:
    base, served = server
    if REAL_ZIP.is_file():
        shutil.copy(REAL_ZIP, served / "logs.zip")
        expected = 345
    else:  # still exercise the download path without the shared data
        _write_zip(served / "logs.zip", {"logs/a.json": json.dumps(_log())})
        expected = 1
    (served / "garbage.zip").write_bytes(b"<html>not a zip</html>")
    cache = tmp_path / "cache"
    urls = [f"{base}/missing.zip", f"{base}/garbage.zip", f"{base}/logs.zip"]
    bench = load_nasbench_nlp(tmp_path / "empty", urls=urls, cache_dir=cache)
    assert len(bench) == expected
    assert bench.source == str(cache / FILE_NAME)
    assert sorted(p.name for p in cache.iterdir()) == [FILE_NAME]  # no .part leftovers
    # Second call reads the cache; no server needed.
    assert len(load_nasbench_nlp(download=False, cache_dir=cache)) == expected


def test_download_env_cache_and_total_failure(server: tuple[str, Path], no_env: Path) -> None:
    base, served = server
    (served / "garbage.zip").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(NasBenchNLPUnavailableError) as info:
        load_nasbench_nlp(urls=[f"{base}/missing.zip", f"{base}/garbage.zip"])
    message = str(info.value)
    assert "404" in message and "bad content" in message and "PETRIDISH_DATA_DIR" in message
    cache = no_env / "nasbench_nlp"
    assert not (cache / FILE_NAME).exists()
    assert [p.name for p in cache.iterdir()] == []
    _write_zip(served / "logs.zip", {"a.json": json.dumps(_log())})
    assert load_nasbench_nlp(urls=[f"{base}/logs.zip"]).source == str(cache / FILE_NAME)


# ----------------------------------------------------------------------- damaged archives


def test_corrupt_zip(tmp_path: Path) -> None:
    bad = tmp_path / FILE_NAME
    bad.write_bytes(b"this is not a zip archive")
    with pytest.raises(NasBenchNLPFormatError, match="not a readable zip"):
        load_nasbench_nlp(bad, download=False)
    if REAL_ZIP.is_file():
        truncated = tmp_path / "truncated.zip"
        truncated.write_bytes(REAL_ZIP.read_bytes()[:50_000])
        with pytest.raises(NasBenchNLPFormatError, match="truncated"):
            read_nasbench_nlp_zip(truncated)


def test_corrupt_member_names_it(tmp_path: Path) -> None:
    path = _write_zip(tmp_path / "crc.zip", {"good.json": json.dumps(_log())})
    raw = bytearray(path.read_bytes())
    payload = json.dumps(_log()).encode()
    start = raw.index(payload[:20])  # stored uncompressed: flip a byte of the payload
    raw[start + 5] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(NasBenchNLPFormatError, match="'good.json' cannot be read"):
        read_nasbench_nlp_zip(path, strict=False)  # archive damage is fatal even when lenient


def test_no_logs_in_zip(tmp_path: Path) -> None:
    path = _write_zip(tmp_path / "empty.zip", {"README.md": "hi", "__MACOSX/._a.json": "x"})
    with pytest.raises(NasBenchNLPFormatError, match="no \\*.json training logs"):
        read_nasbench_nlp_zip(path)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "not valid JSON"),
        (json.dumps([1, 2]), "expected a JSON object"),
        (json.dumps({k: v for k, v in _log().items() if k != "val_losses"}), "val_losses"),
        (json.dumps(_log(recepie="{bad")), "'recepie' is not valid JSON"),
        (json.dumps(_log(recepie=json.dumps({"h": {"op": 1}}))), "recipe node 'h'"),
        (json.dumps(_log(num_params="many")), "num_params"),
        (json.dumps(_log(val_losses=[5.0, "x", 4.0])), r"'val_losses'\[1\]"),
        (json.dumps(_log(test_losses=[5.0])), "must be equal"),
        (json.dumps(_log(wall_times=[1.0, -2.0, 3.0])), "wall_times"),
        (json.dumps(_log(status=None)), "status"),
    ],
)
def test_malformed_log_named(tmp_path: Path, content: str, problem: str) -> None:
    path = _write_zip(
        tmp_path / "bad.zip", {"logs/good.json": json.dumps(_log()), "logs/bad.json": content}
    )
    with pytest.raises(NasBenchNLPFormatError, match=problem) as info:
        load_nasbench_nlp(path, download=False)
    assert "logs/bad.json" in str(info.value) and str(path) in str(info.value)
    lenient = load_nasbench_nlp(path, download=False, strict=False)
    assert [log.name for log in lenient] == ["good"]
    assert len(lenient.skipped) == 1 and lenient.skipped[0].startswith("logs/bad.json")


def test_all_malformed_is_an_error(tmp_path: Path) -> None:
    path = _write_zip(tmp_path / "bad.zip", {"a.json": "[]", "b.json": "{}"})
    with pytest.raises(NasBenchNLPFormatError, match="all 2 logs are malformed"):
        read_nasbench_nlp_zip(path, strict=False)


# ------------------------------------------------------------------------------ semantics


def test_complete_definition() -> None:
    ok = parse_log(_log(), "ok")
    assert ok.ok and ok.epochs == 3 and ok.final_val_loss == 5.4
    assert ok.final_val_perplexity == pytest.approx(math.exp(5.4))
    nan_status_ok = parse_log(_log(train_losses=[6.0, float("nan"), 5.0]), "nan")
    assert not nan_status_ok.ok
    early = parse_log(
        _log(train_losses=[6.0], val_losses=[5.9], test_losses=[5.8], wall_times=[1.0]), "early"
    )
    assert not early.ok  # status OK but stopped after 1 of 3 planned epochs
    failed = parse_log(_log(status="loss is nan!"), "failed")
    assert not failed.ok
    bench = NasBenchNLP(logs=(ok, nan_status_ok, early, failed))
    assert bench.complete() == (ok,)
    assert len(bench.diverged()) == 3
    recipes, losses = bench.targets()
    assert recipes == [ok.recipe] and losses.tolist() == [5.4]


def test_recipe_as_object_and_no_epochs_key() -> None:
    data = _log()
    data["recepie"] = json.loads(data["recepie"])
    del data["epochs"]
    log = parse_log(data, "obj")
    assert json.loads(log.recipe_json) == log.recipe
    assert log.planned_epochs == 50 and not log.ok  # 3 of 50 planned epochs


def test_celllog_checks_lengths() -> None:
    with pytest.raises(NasBenchNLPFormatError, match="must be equal"):
        CellLog("x", {}, "{}", 1, (1.0,), (1.0, 2.0), (1.0,), (1.0,), "OK")


def test_epoch_arguments_are_ints_not_bools() -> None:
    log = parse_log(_log(), "ok")
    assert log.val_loss_at(np.int64(2)) == 5.6  # type: ignore[arg-type]
    assert log.cost_seconds(np.int32(2)) == 21.0  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="epoch must be an int, got True"):
        log.val_loss_at(True)
    with pytest.raises(TypeError, match="epochs must be an int, got 1.0"):
        log.cost_seconds(1.0)  # type: ignore[arg-type]
    for field, bad, rule in (
        ("num_params", True, "an int >= 0"),
        ("num_params", -1, "an int >= 0"),
        ("epochs", 0, "a positive int"),
        ("epochs", False, "a positive int"),
    ):
        with pytest.raises(NasBenchNLPFormatError, match=f"log 'bad': '{field}' must be {rule}"):
            parse_log(_log(**{field: bad}), "bad")
    assert parse_log(_log(num_params=1234.0), "float").num_params == 1234  # JSON may say 1234.0


def test_a_missing_zip_is_named_missing_not_corrupt(tmp_path: Path) -> None:
    from petridish.truth.nasbench_nlp import NasBenchNLPUnavailableError

    with pytest.raises(NasBenchNLPUnavailableError, match="not found: no file .*nope.zip"):
        read_nasbench_nlp_zip(tmp_path / "nope.zip")
