"""Recurrent-cell motifs: validation, canonical form, genotypes, sampling and array codes."""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import zipfile
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from petridish.motifs.base import motif_family, motif_from_json
from petridish.motifs.cell import (
    DARTS_V1,
    DARTS_V2,
    ENAS,
    GRAPH_INPUTS,
    N_GRAPH_INPUTS,
    NASBENCH_OPS,
    OP_ID,
    OPS,
    OUTPUTS,
    Cell,
    CellError,
    adjacency_onehot,
    adjacency_onehot_size,
    genotype_recipe,
    mutate,
    mutate_genotype,
    op_counts,
    random_cell,
    random_genotype,
    random_recipe,
    reference_step,
)
from petridish.motifs.slope import SigmoidSlope
from shared_paths import SHARED_REFERENCE

LOGS_ZIP = SHARED_REFERENCE / "nasbench_nlp_wikitext2_logs.zip"
Recipe = dict[str, dict[str, Any]]


@functools.cache
def _load_logs() -> tuple[dict[str, Any], ...]:
    with zipfile.ZipFile(LOGS_ZIP) as zf:
        return tuple(json.loads(zf.read(n)) for n in sorted(zf.namelist()) if n.endswith(".json"))


@pytest.fixture
def real_logs() -> tuple[dict[str, Any], ...]:
    if not LOGS_ZIP.is_file():
        reason = f"NAS-Bench-NLP logs not found at {LOGS_ZIP} (optional resource)"
        print(reason)
        pytest.skip(reason)
    return _load_logs()


def _isomorphic(a: Recipe, b: Recipe) -> bool:
    """Brute-force recipe isomorphism (independent of the library's canonical labelling).

    Maps a's nodes in topological order onto b's: same op, outputs onto the same output,
    mapped inputs equal as a list (blend) or a multiset (commutative ops).
    """
    if len(a) != len(b):
        return False
    order: list[str] = []
    done = set(GRAPH_INPUTS)
    while len(order) < len(a):
        for name, spec in a.items():
            if name not in done and all(i in done for i in spec["input"]):
                order.append(name)
                done.add(name)
    mapping = {t: t for t in GRAPH_INPUTS}
    used: set[str] = set()

    def match(k: int) -> bool:
        if k == len(order):
            return True
        u = order[k]
        su = a[u]
        mapped = [mapping[i] for i in su["input"]]
        for v, sv in b.items():
            if v in used or sv["op"] != su["op"] or ((u in OUTPUTS or v in OUTPUTS) and u != v):
                continue
            same = (
                mapped == sv["input"]
                if su["op"] == "blend"
                else sorted(mapped) == sorted(sv["input"])
            )
            if same:
                mapping[u] = v
                used.add(v)
                if match(k + 1):
                    return True
                del mapping[u]
                used.discard(v)
        return False

    return match(0)


def _scramble(recipe: Recipe, rng: np.random.Generator) -> Recipe:
    """Rename intermediate nodes, shuffle dict order and commutative input orders."""
    names = list(recipe)
    fresh = [f"q{int(i)}" for i in rng.permutation(len(names))]
    rename = {n: (n if n in OUTPUTS else f) for n, f in zip(names, fresh, strict=True)}
    out: Recipe = {}
    for t in rng.permutation(len(names)):
        name = names[int(t)]
        spec = recipe[name]
        ins = [rename.get(i, i) for i in spec["input"]]
        if spec["op"] != "blend":
            ins = [ins[int(j)] for j in rng.permutation(len(ins))]
        out[rename[name]] = {"op": spec["op"], "input": ins}
    return out


# ------------------------------------------------------------------------ real recipes


def test_all_real_recipes_validate_and_round_trip(real_logs: tuple[dict[str, Any], ...]) -> None:
    assert len(real_logs) == 345
    for log in real_logs:
        raw = json.loads(log["recepie"])
        cell = Cell.from_recipe(log["recepie"])
        assert cell == Cell.from_recipe(raw)
        back = motif_from_json(json.loads(json.dumps(cell.to_json())))
        assert back == cell and back.digest == cell.digest and back.canonical() == cell.canonical()
        assert Cell(cell.nodes) == cell  # the validating constructor agrees
        assert cell.n_states == sum(1 for n in raw if n in OUTPUTS)
        assert cell.n_nodes == len(raw)
        assert _isomorphic(raw, cell.to_recipe())


def test_real_recipes_equal_iff_isomorphic(real_logs: tuple[dict[str, Any], ...]) -> None:
    raws = {json.dumps(json.loads(log["recepie"]), sort_keys=True) for log in real_logs}
    by_cell: dict[Cell, list[Recipe]] = defaultdict(list)
    for text in sorted(raws):
        by_cell[Cell.from_recipe(text)].append(json.loads(text))
    assert len(raws) == 291 and len(by_cell) == 265  # the benchmark repeats some cells
    for group in by_cell.values():
        assert all(_isomorphic(group[0], other) for other in group[1:])
    # Different cells of the same size and op multiset are really different graphs.
    by_shape: dict[tuple[float, ...], list[Recipe]] = defaultdict(list)
    for cell, group in by_cell.items():
        by_shape[tuple(op_counts(cell))].append(group[0])
    for group in by_shape.values():
        for a, b in itertools.combinations(group, 2):
            assert not _isomorphic(a, b)


def test_renaming_gives_equal_motif_real(real_logs: tuple[dict[str, Any], ...]) -> None:
    rng = np.random.default_rng(0)
    for log in real_logs:
        raw = json.loads(log["recepie"])
        cell = Cell.from_recipe(raw)
        other = Cell.from_recipe(_scramble(raw, rng))
        assert other == cell and hash(other) == hash(cell) and other.digest == cell.digest
        assert other.canonical() == cell.canonical()


def test_lstm_canonical_form(real_logs: tuple[dict[str, Any], ...]) -> None:
    (lstm,) = {log["recepie"] for log in real_logs if "h_new_1_act" in log["recepie"]}
    recipe = Cell.from_recipe(lstm).to_recipe()
    assert set(recipe) == {f"n{i}" for i in range(11)} | {"h_new_0", "h_new_1"}
    seen = set(GRAPH_INPUTS)
    for name, spec in recipe.items():  # listed in topological order
        assert all(i in seen for i in spec["input"])
        seen.add(name)
    assert recipe["h_new_0"]["op"] == "elementwise_prod"
    assert any("h_new_1" in spec["input"] for spec in recipe.values())


# ------------------------------------------------------------------- canonical form


def test_structure_is_not_merged() -> None:
    shared = {
        "p": {"op": "linear", "input": ["x", "h_prev_0"]},
        "h_new_0": {"op": "elementwise_prod", "input": ["p", "p"]},
    }
    split = {
        "p": {"op": "linear", "input": ["x", "h_prev_0"]},
        "q": {"op": "linear", "input": ["x", "h_prev_0"]},
        "h_new_0": {"op": "elementwise_prod", "input": ["p", "q"]},
    }
    assert Cell.from_recipe(shared) != Cell.from_recipe(split)
    base = {
        "z": {"op": "linear", "input": ["x", "h_prev_0"]},
        "a": {"op": "activation_tanh", "input": ["z"]},
    }
    ab = Cell.from_recipe({**base, "h_new_0": {"op": "blend", "input": ["z", "a", "h_prev_0"]}})
    ba = Cell.from_recipe({**base, "h_new_0": {"op": "blend", "input": ["z", "h_prev_0", "a"]}})
    assert ab != ba and ab.digest != ba.digest
    # Commutative inputs: order does not matter.
    s1 = Cell.from_recipe({**base, "h_new_0": {"op": "elementwise_sum", "input": ["a", "z"]}})
    s2 = Cell.from_recipe({**base, "h_new_0": {"op": "elementwise_sum", "input": ["z", "a"]}})
    assert s1 == s2


def _two_regular(edges: list[tuple[int, int]]) -> Recipe:
    """Six identical linear nodes, one product per edge, all products summed.

    For a 6-cycle and for two triangles every node sees the same colours, so colour
    refinement alone cannot tell them apart: the labelling search has to.
    """
    recipe: Recipe = {f"l{i}": {"op": "linear", "input": ["x", "h_prev_0"]} for i in range(6)}
    for e, (a, b) in enumerate(edges):
        recipe[f"p{e}"] = {"op": "elementwise_prod", "input": [f"l{a}", f"l{b}"]}
    recipe["h_new_0"] = {"op": "elementwise_sum", "input": [f"p{e}" for e in range(len(edges))]}
    return recipe


def test_refinement_blind_spot_is_resolved() -> None:
    hexagon = _two_regular([(i, (i + 1) % 6) for i in range(6)])
    triangles = _two_regular([(0, 1), (1, 2), (2, 0), (3, 4), (4, 5), (5, 3)])
    assert not _isomorphic(hexagon, triangles)
    a, b = Cell.from_recipe(hexagon), Cell.from_recipe(triangles)
    assert a != b
    rng = np.random.default_rng(7)
    for _ in range(20):
        assert Cell.from_recipe(_scramble(hexagon, rng)) == a
        assert Cell.from_recipe(_scramble(triangles, rng)) == b


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_renaming_gives_equal_motif_sampled(seed: int) -> None:
    rng = np.random.default_rng(seed)
    raw = random_recipe(rng)
    cell = Cell.from_recipe(raw)
    other = Cell.from_recipe(_scramble(raw, rng))
    assert other == cell and other.digest == cell.digest
    assert Cell.from_recipe(cell.to_recipe()).nodes == cell.nodes  # canonical form is a fixed point
    assert _isomorphic(raw, cell.to_recipe())


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_equal_iff_isomorphic_on_mutants(seed: int) -> None:
    rng = np.random.default_rng(seed)
    cell = random_cell(rng, n_nodes=int(rng.integers(2, 9)))
    other = mutate(cell, rng)
    # A second mutation often undoes the first or lands on an isomorphic cell.
    again = mutate(other, rng)
    assert (again == cell) == _isomorphic(again.to_recipe(), cell.to_recipe())
    assert not _isomorphic(other.to_recipe(), cell.to_recipe())


# ---------------------------------------------------------------------------- errors

_LIN = {"op": "linear", "input": ["x", "h_prev_0"]}


@pytest.mark.parametrize(
    ("recipe", "match"),
    [
        ({}, "empty recipe"),
        ("[1, 2]", "JSON object"),
        ("{nope", "not valid JSON"),
        ({"h_new_0": {"op": "conv", "input": ["x"]}}, r"'h_new_0'.*unknown op 'conv'"),
        ({"a": _LIN, "h_new_0": {"op": "blend", "input": ["a", "x"]}}, r"'h_new_0'.*exactly 3"),
        ({"a": _LIN, "h_new_0": {"op": "activation_tanh", "input": ["a", "x"]}}, "'h_new_0'"),
        ({"h_new_0": {"op": "elementwise_sum", "input": ["x"]}}, r"'h_new_0'.*at least 2"),
        ({"h_new_0": {"op": "linear", "input": []}}, r"'h_new_0'.*at least 1"),
        ({"a": _LIN, "h_new_0": {"op": "linear", "input": ["a", "ghost"]}}, r"'h_new_0'.*'ghost'"),
        ({"a": _LIN, "b": {"op": "activation_tanh", "input": ["a"]}}, r"missing output.*'h_new_0'"),
        (
            {
                "a": {"op": "linear", "input": ["x", "b"]},
                "b": {"op": "activation_tanh", "input": ["a"]},
                "h_new_0": {"op": "linear", "input": ["b", "h_prev_0"]},
            },
            r"node '[ab]' is on a cycle",
        ),
        ({"h_new_0": {"op": "linear", "input": ["x", "h_new_0"]}}, "'h_new_0' is on a cycle"),
        ({"h_new_0": ["linear", "x"]}, r"'h_new_0'.*expected an object"),
        ({"h_new_0": {"op": "linear"}}, r"'h_new_0'.*missing key 'input'"),
        ({"h_new_0": {"op": "linear", "input": "x"}}, r"'h_new_0'.*must be a list"),
        ({"h_new_0": {"op": "linear", "input": ["x", 3]}}, r"'h_new_0'.*not a name"),
        ({"h_new_0": {**_LIN, "w": 1}}, r"'h_new_0'.*unknown keys"),
        ({"x": _LIN, "h_new_0": _LIN}, r"'x'.*reserved"),
        ({7: _LIN, "h_new_0": _LIN}, r"node 7"),
        ({"dead": _LIN, "h_new_0": _LIN}, r"'dead' does not feed any output"),
        ({"h_new_0": {"op": "linear", "input": ["x", "h_prev_1"]}}, r"'h_new_0' reads 'h_prev_1'"),
        ({"h_new_0": _LIN, "h_new_1": _LIN}, r"'h_new_1' writes hidden state 1"),
        (
            {"h_new_0": {"op": "linear", "input": ["x", "h_prev_2"]}, "h_new_2": _LIN},
            r"'h_new_2'.*contiguously",
        ),
    ],
)
def test_validation_errors_name_the_node(recipe: Any, match: str) -> None:
    with pytest.raises(CellError, match=match):
        Cell.from_recipe(recipe)


def test_cell_error_is_value_error_and_payload_checked() -> None:
    assert issubclass(CellError, ValueError)
    with pytest.raises(CellError, match="payload"):
        motif_from_json({"kind": "cell", "recipe": {"h_new_0": _LIN}, "extra": 1})
    with pytest.raises(CellError, match="h_new_0"):
        motif_from_json({"kind": "cell", "recipe": {"a": _LIN}})
    with pytest.raises(CellError):
        Cell((("h_new_0", "linear"),))  # type: ignore[arg-type]
    with pytest.raises(CellError, match="defined twice"):
        Cell((("h_new_0", "linear", ("x",)), ("h_new_0", "linear", ("x",))))
    # Direct construction canonicalises.
    direct = Cell((("a", "linear", ("h_prev_0", "x")), ("h_new_0", "activation_tanh", ("a",))))
    assert direct.nodes[0] == ("n0", "linear", ("x", "h_prev_0"))


_NAMES = [
    "a",
    "b",
    "c",
    "h_new_0",
    "h_new_1",
    "h_new_2",
    "x",
    "h_prev_0",
    "h_prev_1",
    "h_new_1_act",
]
_junk = st.one_of(
    st.none(), st.integers(-2, 2), st.text(max_size=3), st.lists(st.integers(), max_size=2)
)
_name_or_junk = st.one_of(st.sampled_from(_NAMES + ["h_prev_2", "h_prev_3"]), _junk)
_spec = st.one_of(
    st.fixed_dictionaries(
        {
            "op": st.one_of(st.sampled_from([*OPS, "bogus"]), _junk),
            "input": st.one_of(
                st.lists(st.sampled_from(_NAMES), max_size=4),
                st.lists(_name_or_junk, max_size=3),
                _junk,
            ),
        },
        optional={"extra": _junk},
    ),
    st.fixed_dictionaries({"op": st.sampled_from(OPS)}),
    _junk,
)
_recipes = st.one_of(
    st.dictionaries(st.one_of(st.sampled_from(_NAMES), st.integers(0, 3)), _spec, max_size=6),
    st.dictionaries(
        st.sampled_from(_NAMES[:6]), _spec.filter(lambda s: isinstance(s, dict)), max_size=5
    ),
    _junk,
    st.text(max_size=12),
)


def _perturb(seed: int, edits: list[tuple[int, int]]) -> Any:
    """A sampled valid recipe with a few random edits (most break it, some do not)."""
    rng = np.random.default_rng(seed)
    recipe: dict[Any, Any] = random_recipe(rng, n_nodes=int(rng.integers(1, 8)))
    pool = [*_NAMES, "h_prev_2", "h_prev_3", "ghost", *recipe]
    for kind, r in edits:
        names = list(recipe)
        if not names:
            break
        name = names[r % len(names)]
        spec = recipe[name]
        if kind == 0:  # another op, keeping the inputs
            recipe[name] = {**spec, "op": [*OPS, "bogus"][r % (len(OPS) + 1)]}
        elif kind == 1 and spec["input"]:  # another input name
            ins = list(spec["input"])
            ins[r % len(ins)] = pool[r % len(pool)]
            recipe[name] = {**spec, "input": ins}
        elif kind == 2:  # one input more
            recipe[name] = {**spec, "input": [*spec["input"], pool[r % len(pool)]]}
        elif kind == 3:  # one input less
            recipe[name] = {**spec, "input": spec["input"][1:]}
        elif kind == 4:  # drop a node
            del recipe[name]
        elif kind == 5:  # an extra node, maybe dead, maybe an output
            recipe[pool[r % len(pool)]] = {
                "op": "linear",
                "input": ["x", pool[(r // 7) % len(pool)]],
            }
        elif kind == 6:  # rename a node without fixing its readers
            recipe[f"{name}_"] = recipe.pop(name)
    return recipe


_perturbed = st.builds(
    _perturb,
    st.integers(0, 2**32 - 1),
    st.lists(st.tuples(st.integers(0, 7), st.integers(0, 10**6)), max_size=2),
)


@settings(max_examples=300, deadline=None)
@given(recipe=st.one_of(_perturbed, _recipes))
def test_any_recipe_validates_or_raises_cell_error(recipe: Any) -> None:
    try:
        cell = Cell.from_recipe(recipe)
    except CellError as err:
        assert str(err)
        return
    assert motif_from_json(cell.to_json()) == cell
    assert cell.nodes[-1][0] in OUTPUTS  # something is computed


def test_property_strategy_reaches_both_outcomes() -> None:
    """Guard against a vacuous property test: perturbed recipes are sometimes still valid."""
    outcomes = set()
    for seed in range(40):
        try:
            Cell.from_recipe(_perturb(seed, [(seed % 8, seed * 7919)]))
            outcomes.add("valid")
        except CellError:
            outcomes.add("error")
    assert outcomes == {"valid", "error"}


# ----------------------------------------------------------------- sampling, mutation


def test_sampled_and_mutated_cells_validate() -> None:
    rng = np.random.default_rng(1)
    for _ in range(150):
        n = int(rng.integers(1, 16))
        s = int(rng.integers(1, min(3, n) + 1))
        raw = random_recipe(rng, n_nodes=n, n_states=s)
        assert len(raw) == n
        cell = Cell.from_recipe(raw)
        assert cell.n_states == s and set(cell.to_recipe()) >= set(OUTPUTS[:s])
        assert all(op in NASBENCH_OPS for _, op, _ in cell.nodes)
        child = mutate(cell, rng)
        assert child != cell and child.n_nodes == cell.n_nodes
        # One change: the op multiset moves by at most one node.
        assert np.abs(op_counts(child) - op_counts(cell)).sum() <= 2
    extra = random_cell(rng, n_nodes=6, ops=("linear", "activation_relu", "elementwise_mean"))
    assert {op for _, op, _ in extra.nodes} <= {"linear", "activation_relu", "elementwise_mean"}


def test_sampling_is_reproducible_and_checks_arguments() -> None:
    a = random_recipe(np.random.default_rng(5), n_nodes=7)
    b = random_recipe(np.random.default_rng(5), n_nodes=7)
    assert a == b
    with pytest.raises(ValueError, match="n_states"):
        random_recipe(np.random.default_rng(0), n_nodes=2, n_states=3)
    with pytest.raises(ValueError, match="ops"):
        random_recipe(np.random.default_rng(0), ops=("conv",))


# ------------------------------------------------------------------------- genotypes


def _darts_step(
    genotype: tuple[tuple[str, int], ...],
    concat: list[int],
    x: np.ndarray,
    h: np.ndarray,
    u: np.ndarray,
    w: np.ndarray,
) -> np.ndarray:
    """DARTS's recurrent cell written from its equations, all W_x = u and all W_h = w."""

    def sig(v: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-v))

    acts: dict[str, Callable[[Any], Any]] = {
        "tanh": np.tanh,
        "relu": lambda v: np.maximum(v, 0),
        "sigmoid": sig,
        "identity": lambda v: v,
    }
    pre = x @ u + h @ w
    states = [h + sig(pre) * (np.tanh(pre) - h)]
    for act, j in genotype:
        s = states[j]
        states.append(s + sig(s @ w) * (acts[act](s @ w) - s))
    return np.mean([states[i] for i in concat], axis=0)


@pytest.mark.parametrize(
    ("genotype", "concat", "picked"),
    [
        (DARTS_V1, "all", list(range(1, 9))),
        (DARTS_V2, "all", list(range(1, 9))),
        (ENAS, "leaves", [2, 5, 6, 9, 10, 11]),
        ((("tanh", 0),), "all", [1]),
    ],
)
def test_genotype_cell_computes_darts_cell(genotype: Any, concat: Any, picked: list[int]) -> None:
    cell = Cell.from_genotype(genotype, concat)
    assert motif_from_json(cell.to_json()) == cell and cell.n_states == 1
    rng = np.random.default_rng(0)
    d_x, d_h, batch = 3, 4, 5
    u = rng.normal(size=(d_x, d_h)) * 0.5
    w = rng.normal(size=(d_h, d_h)) * 0.5
    x = rng.normal(size=(batch, d_x))
    h_prev = np.zeros((3, batch, d_h))
    h_prev[0] = rng.normal(size=(batch, d_h))
    prog = Cell.program([cell])
    reads_x = prog.inputs[0][prog.weight_slot[0] >= 0] == 0  # slots in weight-slot order
    weights = [u if rx else w for rx in reads_x]
    new = reference_step(cell, x, h_prev, weights, np.zeros((cell.n_nodes, d_h)))
    want = _darts_step(tuple(genotype), picked, x, h_prev[0], u, w)
    np.testing.assert_allclose(new[0], want, rtol=1e-10, atol=1e-12)
    assert not new[1:].any()


def test_genotype_op_mapping() -> None:
    recipe = genotype_recipe(DARTS_V2)
    ops = [spec["op"] for spec in recipe.values()]
    # s0: 2 linear + sigm + tanh + blend; each node: 2 linear + sigm (+ act) + blend; mean.
    assert ops.count("linear") == 2 + 2 * 8 and ops.count("blend") == 9
    assert ops.count("activation_relu") == 3 and ops.count("elementwise_mean") == 1
    assert ops.count("activation_sigm") == 1 + 8 + 2  # gates + two 'sigmoid' nodes
    assert len(recipe) == 5 + 8 * 5 - 1 + 1  # one identity node has no activation
    assert recipe["h_new_0"]["input"] == [f"s{i}" for i in range(1, 9)]


def test_random_and_mutated_genotypes() -> None:
    rng = np.random.default_rng(2)
    for _ in range(30):
        g = random_genotype(rng, n_nodes=int(rng.integers(1, 12)))
        assert all(0 <= pred <= i for i, (_, pred) in enumerate(g))
        m = mutate_genotype(g, rng)
        assert sum(a != b for a, b in zip(g, m, strict=True)) == 1
        for geno in (g, m):
            for concat in ("all", "leaves"):
                assert Cell.from_genotype(geno, concat).n_states == 1


@pytest.mark.parametrize(
    ("genotype", "match"),
    [
        ([], "non-empty"),
        ([("tanh", 0), ("gelu", 1)], "node 2: unknown activation 'gelu'"),
        ([("tanh", 0), ("relu", 2)], "node 2: predecessor 2"),
        ([("tanh", 0), ("relu", -1)], "node 2: predecessor -1"),
        ([("tanh", 1.0)], "node 1: predecessor must be an int"),
        ([("tanh",)], "node 1: expected"),
        ("tanh", "non-empty sequence"),
    ],
)
def test_bad_genotypes(genotype: Any, match: str) -> None:
    with pytest.raises(CellError, match=match):
        Cell.from_genotype(genotype)


# ------------------------------------------------------------------------ array forms


def _evaluate_by_name(
    recipe: Recipe, values: dict[str, np.ndarray], params: dict[Any, Any]
) -> dict[str, np.ndarray]:
    """Evaluate a canonical recipe by node name (independent of ``Cell.program``)."""
    funcs: dict[str, Callable[[Any], Any]] = {
        "activation_tanh": np.tanh,
        "activation_sigm": lambda v: 1 / (1 + np.exp(-v)),
        "activation_leaky_relu": lambda v: np.where(v > 0, v, 0.01 * v),
        "activation_relu": lambda v: np.maximum(v, 0),
    }
    vals: dict[str, Any] = dict(values)
    for name, spec in recipe.items():
        args = [vals[i] for i in spec["input"]]
        op = spec["op"]
        if op == "linear":
            vals[name] = params[name] + sum(a @ params[name, j] for j, a in enumerate(args))
        elif op == "blend":
            vals[name] = args[0] * args[1] + (1 - args[0]) * args[2]
        elif op == "elementwise_sum":
            vals[name] = sum(args)
        elif op == "elementwise_prod":
            vals[name] = functools.reduce(np.multiply, args)
        elif op == "elementwise_mean":
            vals[name] = sum(args) / len(args)
        else:
            vals[name] = funcs[op](args[0])
    return vals


def test_reference_step_matches_recipe_semantics(real_logs: tuple[dict[str, Any], ...]) -> None:
    rng = np.random.default_rng(3)
    d_x, d_h, batch = 2, 3, 4
    for log in real_logs[::15]:
        cell = Cell.from_recipe(log["recepie"])
        recipe = cell.to_recipe()
        params: dict[Any, Any] = {}
        weights = []
        biases = np.zeros((cell.n_nodes, d_h))
        for i, (name, spec) in enumerate(recipe.items()):  # weight slots: node, then input
            if spec["op"] == "linear":
                biases[i] = params[name] = rng.normal(size=d_h)
                for j, inp in enumerate(spec["input"]):
                    weights.append(rng.normal(size=(d_x if inp == "x" else d_h, d_h)) * 0.5)
                    params[name, j] = weights[-1]
        x = rng.normal(size=(batch, d_x))
        h_prev = rng.normal(size=(3, batch, d_h))
        new = reference_step(cell, x, h_prev, weights, biases)
        named = {"x": x, **{f"h_prev_{k}": h_prev[k] for k in range(3)}}
        vals = _evaluate_by_name(recipe, named, params)
        for k in range(3):
            want = vals[OUTPUTS[k]] if k < cell.n_states else np.zeros((batch, d_h))
            np.testing.assert_allclose(new[k], want, rtol=1e-12)


def test_program_and_encode_many_shapes() -> None:
    rng = np.random.default_rng(4)
    cells = [random_cell(rng) for _ in range(6)] + [Cell.from_genotype(ENAS, "leaves")]
    prog = Cell.program(cells)
    m = max(c.n_nodes for c in cells)
    k = max(len(ins) for c in cells for _, _, ins in c.nodes)
    assert prog.op.shape == prog.state_of.shape == (7, m) and k == 6  # ENAS mean of 6 leaves
    assert prog.inputs.shape == prog.weight_slot.shape == (7, m, k)
    assert prog.outputs.shape == (7, 3) and prog.packed().shape == (7, m, 2 + k)
    assert all(a.dtype == np.int32 for a in (prog.op, prog.inputs, prog.outputs, prog.packed()))
    np.testing.assert_array_equal(Cell.encode_many(cells), prog.packed())
    for b, cell in enumerate(cells):
        n = cell.n_nodes
        assert prog.n_nodes[b] == n and prog.n_weights[b] == cell.n_weights
        assert (prog.op[b, n:] == -1).all() and (prog.op[b, :n] >= 0).all()
        rows = np.arange(m)[:, None] + N_GRAPH_INPUTS
        assert (prog.inputs[b] < rows).all()  # topological: only earlier rows are read
        assert prog.outputs[b, 0] == N_GRAPH_INPUTS + int(np.flatnonzero(prog.state_of[b] == 0)[0])
        assert (prog.outputs[b, cell.n_states :] == -1).all()
        linear = prog.op[b] == OP_ID["linear"]
        assert ((prog.weight_slot[b] >= 0) == (linear[:, None] & (prog.inputs[b] >= 0))).all()
        assert sorted(prog.weight_slot[b][prog.weight_slot[b] >= 0]) == list(range(cell.n_weights))
    fixed = Cell.program(cells[:2], max_nodes=40, max_inputs=8)
    assert fixed.max_nodes == 40 and fixed.max_inputs == 8
    with pytest.raises(ValueError, match="max_nodes"):
        Cell.program(cells, max_nodes=2)
    with pytest.raises(ValueError):
        Cell.encode_many([SigmoidSlope(1.0)])
    assert motif_family(cells) is Cell


def test_baseline_encodings_have_fixed_length() -> None:
    rng = np.random.default_rng(6)
    cells = [random_cell(rng) for _ in range(20)] + [Cell.from_genotype(DARTS_V2)]
    size = adjacency_onehot_size(50)
    for cell in cells:
        code = adjacency_onehot(cell, 50)
        assert code.shape == (size,) and code.dtype == np.float32
        counts = op_counts(cell)
        assert counts.shape == (len(OPS),) and counts.sum() == cell.n_nodes
        ops_part = code[(N_GRAPH_INPUTS + 50) * 50 :][: 50 * len(OPS)]
        assert ops_part.sum() == cell.n_nodes
        adj_part = code[: (N_GRAPH_INPUTS + 50) * 50]
        assert adj_part.sum() == sum(len(ins) for _, _, ins in cell.nodes)
    assert (adjacency_onehot(cells[0], 50) == adjacency_onehot(Cell(cells[0].nodes), 50)).all()
    with pytest.raises(ValueError, match="max_nodes"):
        adjacency_onehot(cells[-1], 10)


# ------------------------------------------------------------------ pinned byte identity


def _stream_digest() -> str:
    """sha256 over canonical forms, codes, mutations and samples of one seeded stream."""
    h = hashlib.sha256()
    rng = np.random.default_rng(2024)
    for i in range(20):
        cell = random_cell(rng)
        h.update(cell.canonical().encode())
        h.update(adjacency_onehot(cell, 12).tobytes())
        h.update(op_counts(cell).tobytes())
        h.update(Cell.encode_many([cell]).tobytes())
        h.update(mutate(cell, rng).canonical().encode())
        h.update(repr(mutate_genotype(random_genotype(rng, 1 + i % 8), rng)).encode())
        h.update(json.dumps(random_recipe(rng, ops=OPS)).encode())
    return h.hexdigest()


def test_canonical_forms_codes_and_samplers_are_pinned() -> None:
    # Store keys are cell digests and seeded searches replay these streams: any change to
    # the canonical labelling, the encodings or the samplers' use of the RNG shows here.
    # (Values from the single-module cell.py, before it became a package.)
    assert _stream_digest() == "a12aae945066a87589777bf5f28b4d08a2066576092577e53c63dc970780cccd"
    assert Cell.from_genotype(DARTS_V1).digest == "d44c6aae8c58e496"
    assert Cell.from_genotype(DARTS_V2).digest == "845487c69d36fe37"
    assert Cell.from_genotype(ENAS, concat="leaves").digest == "193525a845fcd915"


def test_package_exports_every_public_name() -> None:
    import petridish.motifs.cell as package

    for name in package.__all__:
        assert getattr(package, name) is not None, name
    # Each concern lives in its own module; the package re-exports the very same objects.
    from petridish.motifs.cell import genotype, ops, value

    assert package.Cell is value.Cell and package.CellError is ops.CellError
    assert package.genotype_recipe is genotype.genotype_recipe
