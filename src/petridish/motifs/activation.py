"""Activation-function motifs: expressions over ``x`` from a small grammar.

The third motif kind (issue 18): the hidden activation of the MLP blueprint is searched as
an expression, as in the activation-function search literature (e.g. swish,
``x * sigmoid(beta * x)``).

Grammar (text form)
-------------------
::

    expr := "x"
          | UNARY "(" expr ")"            UNARY in neg abs square sigmoid tanh relu
          |                                        softplus sin erf exp identity
          | "scale" "(" NUMBER "," expr ")"    NUMBER finite, |NUMBER| <= MAX_CONST
          | BINARY "(" expr "," expr ")"  BINARY in add sub mul max min

``exp`` clips its argument to ``[-EXP_CLIP, EXP_CLIP]`` so it stays finite. Examples:
swish ``mul(x, sigmoid(scale(1.5, x)))``, ReLU ``relu(x)``, tanh ``tanh(x)``, the sigmoid
slope ``sigmoid(scale(0.5, x))`` (``SigmoidSlope(0.5)``'s function).

Contract
--------
* ``Activation(text)`` parses, validates and canonicalises ``text``; ``expr`` is then the
  canonical text, so equal canonical forms are equal motifs (same hash, same ``digest``).
  Bad input is one ``ValueError`` naming the bad part (unknown op, wrong arity, bad or
  out-of-range constant, too many nodes or too deep, trailing text).
* Limits, on the canonical expression: at most ``MAX_NODES`` nodes (every op and every
  ``x`` counts one) and depth at most ``MAX_DEPTH`` (``x`` has depth 0).
* Canonicalisation, bottom-up, applies exactly these rules: ``identity(e) -> e``;
  ``scale(1, e) -> e``; ``scale(-1, e) -> neg(e)``; ``neg(neg(e)) -> e``;
  ``abs(abs(e)) -> abs(e)``, ``relu(relu(e)) -> relu(e)``; ``abs(neg(e)) -> abs(e)``,
  ``square(neg(e)) -> square(e)``, ``square(abs(e)) -> square(e)``; ``max(e, e)`` and
  ``min(e, e) -> e``; the arguments of ``add``, ``mul``, ``max``, ``min`` are sorted by their
  canonical text; constants print as Python's ``repr`` of the float (``-0.0`` as ``0.0``).
  NOT canonicalised (these stay distinct motifs though the functions are equal): algebra
  across ops (``add(x, x)`` vs ``scale(2.0, x)``, ``sub(x, x)`` vs ``scale(0.0, x)``,
  ``relu(x)`` vs ``max(x, scale(0.0, x))``), nested scales (``scale(2.0, scale(3.0, x))``),
  associativity (``add(add(a, b), c)`` vs ``add(a, add(b, c))``) and identities of the
  functions themselves (``tanh(x)`` vs ``sub(scale(2.0, sigmoid(scale(2.0, x))), ...)``).
* ``encode_many`` gives float32 ``(motifs, MAX_NODES, 4)``: a postfix program, one row per
  node ``[op id, first argument row, second argument row, constant]``; argument rows point
  to earlier rows; rows after the root copy the row before (op ``identity``), so the last
  row holds the value. ``activation(code, x)`` interprets one program with no Python
  control flow on ``code`` (a ``fori_loop`` over rows, every op computed, one selected),
  so it runs under ``vmap`` over motifs; finite for finite ``x`` unless the expression
  itself overflows float32 (e.g. ``square`` nested four times on large inputs).
* ``numpy(x)`` evaluates the expression in float64 NumPy: the reference the interpreter
  is tested against.
* ``random_activation(rng, ...)`` and ``mutate_activation(motif, rng, ...)`` draw and
  perturb expressions; randomness only through ``rng``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from petridish.motifs.base import Motif

__all__ = [
    "BINARY_OPS",
    "EXP_CLIP",
    "MAX_CONST",
    "MAX_DEPTH",
    "MAX_NODES",
    "OPS",
    "UNARY_OPS",
    "Activation",
    "CONSTANTS",
    "Node",
    "interpret",
    "mutate_activation",
    "random_activation",
]

MAX_NODES = 16
MAX_DEPTH = 8
MAX_CONST = 10.0
EXP_CLIP = 20.0  # exp(20) ~ 4.9e8: finite in float32, and so is its gradient
_MAX_TEXT = 2000  # characters; bounds the parser's recursion before any other check

# Op ids are the interpreter's branch order: never reorder (stored codes would change).
OPS: tuple[str, ...] = (
    "x",
    "identity",
    "neg",
    "abs",
    "square",
    "sigmoid",
    "tanh",
    "relu",
    "softplus",
    "sin",
    "erf",
    "exp",
    "scale",
    "add",
    "sub",
    "mul",
    "max",
    "min",
)
UNARY_OPS: tuple[str, ...] = OPS[1:13]  # "scale" included: one expression argument
BINARY_OPS: tuple[str, ...] = OPS[13:]
_COMMUTATIVE = frozenset({"add", "mul", "max", "min"})
_OP_ID = {name: i for i, name in enumerate(OPS)}
_IDEMPOTENT = frozenset({"abs", "relu"})


class Node(NamedTuple):
    """One expression node: ``op``, its expression arguments and (``scale`` only) ``const``."""

    op: str
    args: tuple[Node, ...] = ()
    const: float | None = None

    def text(self) -> str:
        if self.op == "x":
            return "x"
        inner = ", ".join(a.text() for a in self.args)
        if self.op == "scale":
            return f"scale({self.const!r}, {inner})"
        return f"{self.op}({inner})"

    @property
    def size(self) -> int:
        return 1 + sum(a.size for a in self.args)

    @property
    def depth(self) -> int:
        return 1 + max(a.depth for a in self.args) if self.args else 0


# ------------------------------------------------------------------------------ parsing

_TOKEN = re.compile(
    r"\s*(?:(?P<num>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)|(?P<name>[A-Za-z_]\w*)|(?P<sym>[(),]))"
)


def _tokens(text: str) -> list[str]:
    tokens: list[str] = []
    pos = 0
    stripped = text.rstrip()
    while pos < len(stripped):
        m = _TOKEN.match(stripped, pos)
        if m is None or m.end() == pos:
            raise ValueError(f"activation {text!r}: unexpected character at {stripped[pos:]!r}")
        tokens.append(m.group("num") or m.group("name") or m.group("sym"))
        pos = m.end()
    return tokens


def _constant(token: str, where: str) -> float:
    try:
        value = float(token)
    except ValueError:
        raise ValueError(f"{where}: constant {token!r} is not a number") from None
    if not math.isfinite(value) or abs(value) > MAX_CONST:
        raise ValueError(f"{where}: constant {token!r} must be finite and in [-10, 10]")
    return value + 0.0  # -0.0 -> 0.0


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None:
            want = f"{expected!r}" if expected else "more"
            raise ValueError(f"activation {self.text!r}: ended early, expected {want}")
        if expected is not None and token != expected:
            raise ValueError(f"activation {self.text!r}: expected {expected!r}, got {token!r}")
        self.pos += 1
        return token

    def expr(self, depth: int) -> Node:
        if depth > 4 * MAX_DEPTH:
            raise ValueError(f"activation {self.text!r}: nested deeper than {MAX_DEPTH}")
        name = self.take()
        if name == "x":
            return Node("x")
        if name not in _OP_ID:
            raise ValueError(f"activation {self.text!r}: unknown op {name!r}; known: {OPS}")
        self.take("(")
        args: list[Node] = []
        const = None
        if name == "scale":
            const = _constant(self.take(), f"activation {self.text!r}, scale")
            self.take(",")
        while True:
            args.append(self.expr(depth + 1))
            if self.peek() != ",":
                break
            self.take(",")
        self.take(")")
        want = 2 if name in BINARY_OPS else 1
        if len(args) != want:
            extra = " plus its constant" if name == "scale" else ""
            raise ValueError(
                f"activation {self.text!r}: op {name!r} takes {want} expression "
                f"argument(s){extra}, got {len(args)}"
            )
        return Node(name, tuple(args), const)


def parse(text: str) -> Node:
    """The expression tree of ``text`` as written (not canonicalised); ``ValueError``."""
    if not isinstance(text, str):
        raise ValueError(f"an activation is a text expression, got {type(text).__name__}")
    if len(text) > _MAX_TEXT:
        raise ValueError(f"activation text is {len(text)} characters; at most {_MAX_TEXT}")
    parser = _Parser(text)
    if not parser.tokens:
        raise ValueError("activation text is empty")
    node = parser.expr(0)
    if parser.peek() is not None:
        raise ValueError(f"activation {text!r}: unexpected {parser.peek()!r} after the end")
    return node


# --------------------------------------------------------------------- canonical form


def canonicalize(node: Node) -> Node:
    """Apply the module docstring's canonicalisation rules, bottom-up."""
    if node.op == "x":
        return node
    args = tuple(canonicalize(a) for a in node.args)
    op, const = node.op, node.const
    if op == "identity" or (op == "scale" and const == 1.0):
        return args[0]
    if op == "scale" and const == -1.0:
        op, const = "neg", None
    (first, *_) = args
    if op == "neg" and first.op == "neg":
        return first.args[0]
    if op in _IDEMPOTENT and first.op == op:
        return first
    if op == "abs" and first.op == "neg":
        return canonicalize(Node("abs", first.args))
    if op == "square" and first.op in ("neg", "abs"):
        return canonicalize(Node("square", first.args))
    if op in ("max", "min") and args[0] == args[1]:
        return args[0]
    if op in _COMMUTATIVE:
        args = tuple(sorted(args, key=Node.text))
    return Node(op, args, const)


# ------------------------------------------------------------------------------ motif


@dataclass(frozen=True)
class Activation(Motif):
    """An activation function ``x -> expr(x)``; ``expr`` is its canonical text (see module).

    ``Activation("mul(sigmoid(x), x)") == Activation("mul(x, sigmoid(x))")``.
    """

    expr: str
    tree: Node = field(init=False, repr=False, compare=False, hash=False)
    kind = "activation"

    def __post_init__(self) -> None:
        tree = canonicalize(parse(self.expr))
        text = tree.text()
        if tree.size > MAX_NODES:
            raise ValueError(
                f"activation {text!r} has {tree.size} nodes (ops and x's); at most {MAX_NODES}"
            )
        if tree.depth > MAX_DEPTH:
            raise ValueError(f"activation {text!r} is {tree.depth} ops deep; at most {MAX_DEPTH}")
        object.__setattr__(self, "expr", text)
        object.__setattr__(self, "tree", tree)

    @classmethod
    def from_tree(cls, tree: Node) -> Activation:
        """The motif of an expression tree (validated and canonicalised like text)."""
        return cls(tree.text())

    def __str__(self) -> str:
        return self.expr

    def payload(self) -> dict[str, Any]:
        return {"expr": self.expr}

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Activation:
        if set(payload) != {"expr"}:
            raise ValueError(f"activation payload needs exactly 'expr', got {sorted(payload)}")
        return cls(payload["expr"])

    def program(self) -> np.ndarray:
        """float32 ``(MAX_NODES, 4)``: the postfix program (see the module contract)."""
        rows: list[tuple[float, float, float, float]] = []

        def emit(node: Node) -> int:
            refs = [emit(a) for a in node.args]
            a = refs[0] if refs else 0
            b = refs[1] if len(refs) > 1 else a
            rows.append((_OP_ID[node.op], a, b, node.const or 0.0))
            return len(rows) - 1

        emit(self.tree)
        while len(rows) < MAX_NODES:
            # Copies of the previous row: the last row holds the root's value.
            rows.append((_OP_ID["identity"], len(rows) - 1, len(rows) - 1, 0.0))
        return np.asarray(rows, np.float32)

    @classmethod
    def encode_many(cls, motifs: Sequence[Motif]) -> np.ndarray:
        if not all(isinstance(m, Activation) for m in motifs):
            raise ValueError("encode_many got motifs that are not Activation")
        programs = [m.program() for m in motifs if isinstance(m, Activation)]
        if not programs:
            return np.zeros((0, MAX_NODES, 4), np.float32)
        return np.stack(programs)  # (motifs, MAX_NODES, 4)

    @staticmethod
    def activation(code: jax.Array, x: jax.Array) -> jax.Array:
        """The ``Motif.activation`` hook: run the program ``code`` ``(MAX_NODES, 4)`` on ``x``."""
        return interpret(code, x)

    def __call__(self, x: jax.Array) -> jax.Array:
        return interpret(jnp.asarray(self.program()), x)

    def numpy(self, x: Any) -> np.ndarray:
        """float64 NumPy evaluation of the expression (the interpreter's reference)."""
        return _numpy_eval(self.tree, np.asarray(x, np.float64))


def interpret(code: jax.Array, x: jax.Array) -> jax.Array:
    """Value of the postfix program ``code`` ``(MAX_NODES, 4)`` at ``x`` (any shape)."""
    code = jnp.asarray(code)
    ops = code[:, 0].astype(jnp.int32)  # (MAX_NODES,)
    first = code[:, 1].astype(jnp.int32)
    second = code[:, 2].astype(jnp.int32)
    consts = code[:, 3].astype(x.dtype)

    def row(i: jax.Array, buf: jax.Array) -> jax.Array:
        # buf: (MAX_NODES, *x.shape), rows < i computed; u, v: x.shape
        u, v = buf[first[i]], buf[second[i]]
        # Every op on (u, v), in OPS order; the row's op picks one (a gather: the other
        # branches get zero cotangent, and each is finite, so their gradients stay finite).
        branches = jnp.stack(
            [
                x,
                u,
                -u,
                jnp.abs(u),
                u * u,
                jax.nn.sigmoid(u),
                jnp.tanh(u),
                jax.nn.relu(u),
                jax.nn.softplus(u),
                jnp.sin(u),
                jax.lax.erf(u),
                jnp.exp(jnp.clip(u, -EXP_CLIP, EXP_CLIP)),
                consts[i] * u,
                u + v,
                u - v,
                u * v,
                jnp.maximum(u, v),
                jnp.minimum(u, v),
            ]
        )  # (len(OPS), *x.shape)
        return buf.at[i].set(branches[ops[i]])

    buf = jnp.zeros((MAX_NODES, *x.shape), x.dtype)
    buf = jax.lax.fori_loop(0, MAX_NODES, row, buf)
    return buf[MAX_NODES - 1]


_erf = np.vectorize(math.erf, otypes=[np.float64])

_NUMPY: dict[str, Callable[..., np.ndarray]] = {
    "identity": lambda u: u,
    "neg": lambda u: -u,
    "abs": np.abs,
    "square": lambda u: u * u,
    "sigmoid": lambda u: 1.0 / (1.0 + np.exp(-u)),
    "tanh": np.tanh,
    "relu": lambda u: np.maximum(u, 0.0),
    "softplus": lambda u: np.logaddexp(u, 0.0),
    "sin": np.sin,
    "erf": _erf,
    "exp": lambda u: np.exp(np.clip(u, -EXP_CLIP, EXP_CLIP)),
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "max": np.maximum,
    "min": np.minimum,
}


def _numpy_eval(node: Node, x: np.ndarray) -> np.ndarray:
    if node.op == "x":
        return x
    args = [_numpy_eval(a, x) for a in node.args]
    if node.op == "scale":
        return float(node.const or 0.0) * args[0]
    return _NUMPY[node.op](*args)


# ----------------------------------------------------------------- sampling, mutation

# Constants the samplers draw for ``scale`` (1 and -1 are left out: they canonicalise away).
CONSTANTS: tuple[float, ...] = (-2.0, -0.5, 0.1, 0.25, 0.5, 1.5, 2.0, 3.0, 5.0)
# Ops the samplers draw ("identity" is left out: it canonicalises away).
SAMPLED_UNARY: tuple[str, ...] = tuple(op for op in UNARY_OPS if op != "identity")


def random_tree(
    rng: np.random.Generator, max_depth: int, leaf_p: float = 0.3, *, root: bool = True
) -> Node:
    """A random expression tree of depth at most ``max_depth``: the root is an op (when
    ``max_depth > 0``), below it a node is ``x`` with probability ``leaf_p``, else an op
    uniform among the sampled ones (``scale`` with a constant uniform in ``CONSTANTS``)."""
    if max_depth <= 0 or (not root and rng.random() < leaf_p):
        return Node("x")
    n_unary = len(SAMPLED_UNARY)
    pick = int(rng.integers(n_unary + len(BINARY_OPS)))
    if pick < n_unary:
        op = SAMPLED_UNARY[pick]
        const = float(CONSTANTS[int(rng.integers(len(CONSTANTS)))]) if op == "scale" else None
        return Node(op, (random_tree(rng, max_depth - 1, leaf_p, root=False),), const)
    kids = tuple(random_tree(rng, max_depth - 1, leaf_p, root=False) for _ in range(2))
    return Node(BINARY_OPS[pick - n_unary], kids)


def random_activation(rng: np.random.Generator, max_depth: int = 3) -> Activation:
    """A random valid ``Activation`` (``random_tree`` canonicalised; retried if too big)."""
    for _ in range(100):
        try:
            return Activation.from_tree(random_tree(rng, max_depth))
        except ValueError:
            continue
    return Activation("x")  # pragma: no cover - a depth-limited tree always fits


def _subtrees(node: Node, path: tuple[int, ...] = ()) -> list[tuple[int, ...]]:
    out = [path]
    for i, a in enumerate(node.args):
        out += _subtrees(a, (*path, i))
    return out


def _replace(node: Node, path: tuple[int, ...], new: Node) -> Node:
    if not path:
        return new
    args = list(node.args)
    args[path[0]] = _replace(args[path[0]], path[1:], new)
    return node._replace(args=tuple(args))


def mutate_activation(
    motif: Activation, rng: np.random.Generator, max_depth: int = 2
) -> Activation:
    """A different valid ``Activation``: one random subtree of ``motif`` replaced by a random
    tree of depth at most ``max_depth``."""
    paths = _subtrees(motif.tree)
    for _ in range(100):
        path = paths[int(rng.integers(len(paths)))]
        try:
            new = random_tree(rng, max_depth, root=not path)
            child = Activation.from_tree(_replace(motif.tree, path, new))
        except ValueError:
            continue
        if child != motif:
            return child
    return random_activation(rng)  # pragma: no cover - 100 unchanged draws in a row
