"""Tiny language-model fixtures: a synthetic corpus, a tiny protocol, a few cells."""

from __future__ import annotations

import numpy as np
import pytest

from petridish.data.corpora import Corpus
from petridish.motifs.cell import Cell
from petridish.truth.lm import LMProtocol

# Hand-written LSTM (states h = h_new_0, c = h_new_1), GRU and Elman cells.
LSTM = {
    "i": {"op": "linear", "input": ["x", "h_prev_0"]},
    "i_act": {"op": "activation_sigm", "input": ["i"]},
    "f": {"op": "linear", "input": ["x", "h_prev_0"]},
    "f_act": {"op": "activation_sigm", "input": ["f"]},
    "o": {"op": "linear", "input": ["x", "h_prev_0"]},
    "o_act": {"op": "activation_sigm", "input": ["o"]},
    "g": {"op": "linear", "input": ["x", "h_prev_0"]},
    "g_act": {"op": "activation_tanh", "input": ["g"]},
    "keep": {"op": "elementwise_prod", "input": ["f_act", "h_prev_1"]},
    "write": {"op": "elementwise_prod", "input": ["i_act", "g_act"]},
    "h_new_1": {"op": "elementwise_sum", "input": ["keep", "write"]},
    "c_act": {"op": "activation_tanh", "input": ["h_new_1"]},
    "h_new_0": {"op": "elementwise_prod", "input": ["c_act", "o_act"]},
}
GRU = {
    "r": {"op": "linear", "input": ["x", "h_prev_0"]},
    "r_act": {"op": "activation_sigm", "input": ["r"]},
    "z": {"op": "linear", "input": ["x", "h_prev_0"]},
    "z_act": {"op": "activation_sigm", "input": ["z"]},
    "rh": {"op": "elementwise_prod", "input": ["r_act", "h_prev_0"]},
    "n": {"op": "linear", "input": ["x", "rh"]},
    "n_act": {"op": "activation_tanh", "input": ["n"]},
    "h_new_0": {"op": "blend", "input": ["z_act", "h_prev_0", "n_act"]},
}
ELMAN = {
    "a": {"op": "linear", "input": ["x", "h_prev_0"]},
    "h_new_0": {"op": "activation_tanh", "input": ["a"]},
}
# Overflows within a few steps whatever its weights: q = 2 h + sigmoid(.) > 0 and h = q * q,
# so h grows doubly exponentially once it passes 1 (0.25, 1, 6, 169, 1e5, 5e10, 1e22, inf).
BOMB = {
    "s_lin": {"op": "linear", "input": ["x"]},
    "s": {"op": "activation_sigm", "input": ["s_lin"]},
    "q": {"op": "elementwise_sum", "input": ["h_prev_0", "h_prev_0", "s"]},
    "h_new_0": {"op": "elementwise_prod", "input": ["q", "q"]},
}

VOCAB = 40


@pytest.fixture(scope="session")
def tiny_corpus() -> Corpus:
    """A learnable synthetic text: a noisy cycle through the vocabulary."""
    rng = np.random.default_rng(0)

    def text(n: int) -> np.ndarray:
        steps = np.where(rng.random(n) < 0.8, 1, rng.integers(0, VOCAB, n))
        out = (np.cumsum(steps) % VOCAB).astype(np.int32)
        out.flags.writeable = False
        return out

    return Corpus(
        name="tiny",
        vocab=tuple(f"w{i}" for i in range(VOCAB)),
        train=text(4000),
        valid=text(600),
        test=text(600),
    )


@pytest.fixture(scope="session")
def tiny_protocol() -> LMProtocol:
    return LMProtocol(
        name="tiny_test",
        embedding=8,
        hidden=8,
        layers=1,
        batch=4,
        bptt=5,
        epochs=2,
        optimizer="adam",
        lr=0.05,
        clip=1.0,
        tokens_per_epoch=4 * 5 * 12,
        val_tokens=200,
        eval_batch=4,
    )


@pytest.fixture(scope="session")
def cells() -> dict[str, Cell]:
    return {
        "lstm": Cell.from_recipe(LSTM),
        "gru": Cell.from_recipe(GRU),
        "elman": Cell.from_recipe(ELMAN),
        "bomb": Cell.from_recipe(BOMB),
    }
