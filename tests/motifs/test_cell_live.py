"""``live_part``: a cell restricted to the states its output depends on, through time."""

from __future__ import annotations

import pytest

from petridish.motifs.cell import Cell, live_part
from petridish.truth.nasbench_nlp import read_nasbench_nlp_zip
from shared_paths import SHARED_REFERENCE

LOGS_ZIP = SHARED_REFERENCE / "nasbench_nlp_wikitext2_logs.zip"

# h_new_0 reads only x; state 1 squares itself (overflows within steps) and feeds nothing
# that reaches h_new_0.
DEAD_STATE = {
    "a": {"op": "linear", "input": ["x"]},
    "h_new_0": {"op": "activation_leaky_relu", "input": ["a"]},
    "s_lin": {"op": "linear", "input": ["x"]},
    "s": {"op": "activation_sigm", "input": ["s_lin"]},
    "q": {"op": "elementwise_sum", "input": ["h_prev_1", "h_prev_1", "s"]},
    "h_new_1": {"op": "elementwise_prod", "input": ["q", "q"]},
}
# h_new_0 reads h_prev_2 (so state 2 is live), state 1 is dead: state 2 becomes state 1.
RENUMBER = {
    "a": {"op": "linear", "input": ["x", "h_prev_0", "h_prev_2"]},
    "h_new_0": {"op": "activation_tanh", "input": ["a"]},
    "b": {"op": "linear", "input": ["x", "h_prev_1"]},
    "h_new_1": {"op": "activation_sigm", "input": ["b"]},
    "c": {"op": "linear", "input": ["h_prev_2", "x"]},
    "h_new_2": {"op": "activation_tanh", "input": ["c"]},
}
# State 1 matters only through state 2's chain: h_new_0 <- h_prev_2 <- h_new_2 <- h_prev_1.
CHAIN = {
    "a": {"op": "linear", "input": ["x", "h_prev_2"]},
    "h_new_0": {"op": "activation_tanh", "input": ["a"]},
    "b": {"op": "linear", "input": ["x", "h_prev_1"]},
    "h_new_2": {"op": "activation_tanh", "input": ["b"]},
    "c": {"op": "linear", "input": ["x", "h_prev_0"]},
    "h_new_1": {"op": "activation_sigm", "input": ["c"]},
}


def test_a_dead_state_and_its_nodes_are_removed() -> None:
    live = live_part(Cell.from_recipe(DEAD_STATE))
    assert live == Cell.from_recipe(
        {
            "a": {"op": "linear", "input": ["x"]},
            "h_new_0": {"op": "activation_leaky_relu", "input": ["a"]},
        }
    )


def test_live_states_are_renumbered_in_order() -> None:
    live = live_part(Cell.from_recipe(RENUMBER))
    assert live.n_states == 2
    assert live == Cell.from_recipe(
        {
            "a": {"op": "linear", "input": ["x", "h_prev_0", "h_prev_1"]},
            "h_new_0": {"op": "activation_tanh", "input": ["a"]},
            "c": {"op": "linear", "input": ["h_prev_1", "x"]},
            "h_new_1": {"op": "activation_tanh", "input": ["c"]},
        }
    )


def test_states_reached_through_other_states_stay() -> None:
    cell = Cell.from_recipe(CHAIN)
    assert live_part(cell) is cell


def test_benchmark_cells_keep_their_output_part() -> None:
    """On the NAS-Bench-NLP pool: idempotent, never grows, and most cells (every state
    read by the output's chain) come back unchanged (13 of the 263 distinct ones lose a
    state)."""
    if not LOGS_ZIP.is_file():
        pytest.skip(f"NAS-Bench-NLP logs not found at {LOGS_ZIP} (optional resource)")
    cells = {Cell.from_recipe(g.recipe) for g in read_nasbench_nlp_zip(LOGS_ZIP).complete()}
    changed = 0
    for cell in cells:
        live = live_part(cell)
        assert live_part(live) is live
        assert live.n_nodes <= cell.n_nodes and live.n_states <= cell.n_states
        changed += live is not cell
    assert 0 < changed < len(cells) // 10
