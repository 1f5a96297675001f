"""The Markdown report: its ```json settings block is JSON."""

from __future__ import annotations

import json
import re

import pytest

from petridish.experiments.slope import SlopeReport
from petridish.report import slope_markdown


def _json_block(text: str) -> str:
    blocks = re.findall(r"```json\n(.*?)\n```", text, flags=re.DOTALL)
    assert len(blocks) == 1
    return blocks[0]


def test_dish_settings_block_is_json(report: SlopeReport) -> None:
    text = slope_markdown(report)
    assert "## Dish settings" in text
    assert json.loads(_json_block(text)) == report.experiment.dish.to_json()


def test_non_finite_settings_stay_strict_json(
    report: SlopeReport, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = {"outer_l2": float("inf"), "lr": float("nan"), "layer_sizes": (10, 1)}
    monkeypatch.setattr(type(report.experiment.dish), "to_json", lambda self: settings)

    def refuse(name: str) -> None:
        raise ValueError(name)

    parsed = json.loads(_json_block(slope_markdown(report)), parse_constant=refuse)
    assert parsed == {"outer_l2": "inf", "lr": "nan", "layer_sizes": [10, 1]}
