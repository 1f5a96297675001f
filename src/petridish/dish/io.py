"""Save and load a fitted dish as safetensors: arrays plus JSON metadata, never pickle.

File layout: tensors ``x_train``, ``x_val``, ``labels`` and ``theta.<i>`` (the leaves of
``theta_init`` in tree order); metadata ``format`` (``petridish.dish``), ``version``,
``config`` (JSON of ``DishConfig``), ``motif_kind`` and ``record`` (JSON of the fit
record). Loading checks all of these and names what is wrong.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from safetensors import SafetensorError, safe_open
from safetensors.numpy import save_file

from petridish.dish.config import DishConfig
from petridish.dish.core import Dish, FitRecord
from petridish.motifs.base import _REGISTRY

FORMAT = "petridish.dish"
VERSION = 1


def save_dish(dish: Dish, path: str | os.PathLike[str]) -> None:
    """Write ``dish`` to ``path`` atomically (temp file + rename)."""
    if not dish.fitted:
        raise RuntimeError("cannot save an unfitted Dish: call fit() first")
    assert dish.synthetic is not None and dish.labels is not None and dish.kind is not None
    tensors = {
        "x_train": np.asarray(dish.synthetic["x_train"]),
        "x_val": np.asarray(dish.synthetic["x_val"]),
        "labels": np.asarray(dish.labels),
    }
    for i, leaf in enumerate(jax.tree_util.tree_leaves(dish.theta_init)):
        tensors[f"theta.{i}"] = np.asarray(leaf)
    meta = {
        "format": FORMAT,
        "version": str(VERSION),
        "config": json.dumps(dish.config.to_json()),
        "motif_kind": dish.kind.kind,
        "record": json.dumps(dataclasses.asdict(dish.record) if dish.record else None),
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    os.close(fd)
    try:
        save_file(tensors, tmp, metadata=meta)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def load_dish(path: str | os.PathLike[str]) -> Dish:
    """Read a dish written by ``save_dish``; a foreign or damaged file is a ``ValueError``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no dish file at {path}")
    try:
        with safe_open(str(path), framework="numpy") as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (not a dict)
    except (SafetensorError, OSError, ValueError) as exc:
        raise ValueError(f"{path} is not a readable safetensors dish file: {exc}") from exc
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path} is not a petridish dish file (format={meta.get('format')!r})")
    if meta.get("version") != str(VERSION):
        raise ValueError(f"{path}: unsupported dish format version {meta.get('version')!r}")
    kind_name = meta.get("motif_kind")
    if kind_name not in _REGISTRY:
        raise ValueError(f"{path}: unknown motif kind {kind_name!r}")
    config = DishConfig.from_json(json.loads(meta["config"]))
    dish = Dish(config)
    dish.initialize(0, _REGISTRY[kind_name])  # gives the parameter tree structure
    treedef = jax.tree_util.tree_structure(dish.theta_init)
    n_leaves = len(jax.tree_util.tree_leaves(dish.theta_init))
    missing = [
        k
        for k in ["x_train", "x_val", "labels"] + [f"theta.{i}" for i in range(n_leaves)]
        if k not in tensors
    ]
    if missing:
        raise ValueError(f"{path}: missing tensors {missing}")
    dish.theta_init = jax.tree_util.tree_unflatten(
        treedef, [jnp.asarray(tensors[f"theta.{i}"]) for i in range(n_leaves)]
    )
    dish.synthetic = {
        "x_train": jnp.asarray(tensors["x_train"]),
        "x_val": jnp.asarray(tensors["x_val"]),
    }
    dish.labels = jnp.asarray(tensors["labels"])
    record = json.loads(meta.get("record", "null"))
    if record is not None:
        record["outer_losses"] = tuple(record["outer_losses"])
        record["val_losses"] = tuple(record.get("val_losses", ()))
        dish.record = FitRecord(**record)
    return dish
