"""The CLI through ``main([...])`` writing into a temporary folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from petridish.cli import main
from shared_paths import SHARED_DATA

# Tiny dish settings so the CLI tests compile small programs quickly.
FAST = ["--set", "inner_steps=20", "--set", "outer_steps=4", "--set", "n_samples=6"]
FAST += ["--set", "restarts=1", "--set", "ensemble=1", "--set", "retries=0"]


def _table(tmp_path: Path) -> Path:
    import numpy as np

    slopes = np.linspace(0.05, 2.0, 80)
    acc = 0.97 - 0.03 * (slopes - 0.25) ** 2  # a peaked curve, like the MNIST table
    p = tmp_path / "table.csv"
    p.write_text(
        "slope,accuracy\n" + "\n".join(f"{s},{a}" for s, a in zip(slopes, acc, strict=True))
    )
    return p


def _run_slope(tmp_path: Path, out: Path) -> int:
    args = ["slope", "--table", str(_table(tmp_path)), "--seeds", "2", "--out", str(out)]
    return main([*args, "--quiet", *FAST])


def test_slope_command_writes_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert _run_slope(tmp_path, out) == 0
    for name in ("report.json", "report.md", "figure1.png", "figure4.png"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0
    data = json.loads((out / "report.json").read_text())
    assert data["n_seeds"] == 2 and len(data["per_seed"]) == 2
    assert set(data["aggregate"]) == {"dish", "random_dish", "nn_surrogate"}
    assert data["experiment"]["dish"]["inner_steps"] == 20
    assert "Spearman median" in capsys.readouterr().out
    # Same seeds, same numbers.
    out2 = tmp_path / "run2"
    assert _run_slope(tmp_path, out2) == 0
    again = json.loads((out2 / "report.json").read_text())

    def numbers(d: dict) -> dict:  # everything but wall-clock timings
        return {
            p: {k: v for k, v in m.items() if "seconds" not in k} for p, m in d["aggregate"].items()
        }

    assert numbers(again) == numbers(data)
    assert again["per_seed"][0]["metrics"] == data["per_seed"][0]["metrics"]


def test_bad_table_is_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("slope,accuracy\n0.1,0.9\n0.2,abc\n0.3,0.95\n")
    assert main(["slope", "--table", str(bad), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "abc" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_bad_setting_is_clear(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "slope",
            "--table",
            str(_table(tmp_path)),
            "--set",
            "inner_lr=-1",
            "--out",
            str(tmp_path / "o"),
            "--quiet",
        ]
    )
    assert code == 2 and "inner_lr" in capsys.readouterr().err
    code = main(
        [
            "slope",
            "--table",
            str(_table(tmp_path)),
            "--set",
            "nonsense=1",
            "--out",
            str(tmp_path / "o"),
            "--quiet",
        ]
    )
    assert code == 2 and "nonsense" in capsys.readouterr().err


def test_select_command(tmp_path: Path) -> None:
    out = tmp_path / "sel.json"
    code = main(
        [
            "select",
            "--table",
            str(_table(tmp_path)),
            "--grid",
            "n_samples=4,6",
            "--grid",
            "init_scale=1.0",
            "--grid",
            "inner_steps=20",
            "--seeds",
            "1",
            "--out",
            str(out),
            "--quiet",
            "--set",
            "outer_steps=3",
        ]
    )
    assert code == 0
    data = json.loads(out.read_text())
    assert len(data["trials"]) == 2
    assert data["overrides"]["n_samples"] in (4, 6)
    assert data["trials"][0]["holdout_mse"] <= data["trials"][1]["holdout_mse"]
    assert data["config"]["outer_steps"] == 3


@pytest.mark.slow
def test_truth_command_measures_a_readable_table(tmp_path: Path) -> None:
    data = SHARED_DATA
    if not (data / "mnist").is_dir():
        pytest.skip(f"MNIST not found under {data} (optional resource)")
    out = tmp_path / "t.csv"
    assert (
        main(
            [
                "truth",
                "--protocol",
                "tiny",
                "--n",
                "3",
                "--data-dir",
                str(data),
                "--out",
                str(out),
                "--store",
                str(tmp_path / "results.db"),
                "--quiet",
            ]
        )
        == 0
    )
    from petridish.store import Store
    from petridish.truth import read_slope_csv

    table = read_slope_csv(out)
    assert len(table) == 3 and table.accuracies.max() > 0.5
    with Store(tmp_path / "results.db") as store:
        assert len(store.evaluations(evaluator="mnist_mlp", protocol="tiny")) == 3  # 1 seed


def test_truth_command_rejects_unknown_protocol(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["truth", "--protocol", "nope", "--quiet"]) == 2
    assert "nope" in capsys.readouterr().err
