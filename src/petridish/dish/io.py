"""The dish file format: safetensors arrays plus JSON metadata, never pickle.

This module knows the file layout only; ``Dish.save``/``Dish.load`` give it meaning.

Version 2 (written): per member ``k`` (the fitted attempts the dish averages, best first)
tensors ``m<k>.x_train``, ``m<k>.x_val``, ``m<k>.labels`` and ``m<k>.theta.<i>`` (the
leaves of its initial network in tree order); metadata ``format`` (``petridish.dish``),
``version``, ``config`` (JSON of ``DishConfig``), ``motif_kind``, ``members`` (JSON list of
``{"attempt", "center", "scale"}``) and ``record`` (JSON of the ``FitRecord``). Version 1
(read): one member, tensors ``x_train``, ``x_val``, ``labels``, ``theta.<i>``. Reading
checks all of these and names what is wrong.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax
import numpy as np
from safetensors import SafetensorError, safe_open
from safetensors.numpy import save

from petridish._files import atomic_write
from petridish.dish.config import DishConfig
from petridish.dish.record import FitRecord, Member

FORMAT = "petridish.dish"
VERSION = 2
READABLE_VERSIONS = ("1", "2")


@dataclass(frozen=True)
class MemberArrays:
    """One member as read from a file: NumPy arrays and its standardisation."""

    x_train: np.ndarray
    x_val: np.ndarray
    labels: np.ndarray
    theta: tuple[np.ndarray, ...]  # leaves of the initial network, in tree order
    attempt: int = 0
    center: float = 0.0
    scale: float = 1.0


@dataclass(frozen=True)
class DishFile:
    """The content of a dish file."""

    config: DishConfig
    motif_kind: str
    members: tuple[MemberArrays, ...]
    record: dict[str, Any] | None


def write_dish_file(
    path: str | os.PathLike[str],
    config: DishConfig,
    motif_kind: str,
    members: tuple[Member, ...],
    record: FitRecord | None,
) -> None:
    """Write a dish to ``path`` atomically (``petridish._files.atomic_write``: the file
    gets the mode the user's umask gives a new file)."""
    if not members:
        raise ValueError("a dish file needs at least one member")
    tensors: dict[str, np.ndarray] = {}
    for k, m in enumerate(members):
        tensors[f"m{k}.x_train"] = np.asarray(m.synthetic["x_train"])
        tensors[f"m{k}.x_val"] = np.asarray(m.synthetic["x_val"])
        tensors[f"m{k}.labels"] = np.asarray(m.labels)
        for i, leaf in enumerate(jax.tree_util.tree_leaves(m.theta_init)):
            tensors[f"m{k}.theta.{i}"] = np.asarray(leaf)
    meta = {
        "format": FORMAT,
        "version": str(VERSION),
        "config": json.dumps(config.to_json()),
        "motif_kind": motif_kind,
        "members": json.dumps(
            [{"attempt": m.attempt, "center": m.center, "scale": m.scale} for m in members]
        ),
        "record": json.dumps(dataclasses.asdict(record) if record else None),
    }
    atomic_write(path, save(tensors, metadata=meta))


def _member(tensors: dict[str, np.ndarray], prefix: str, path: Path, **extra: Any) -> MemberArrays:
    names = [f"{prefix}x_train", f"{prefix}x_val", f"{prefix}labels"]
    missing = [k for k in names if k not in tensors]
    n_theta = 0
    while f"{prefix}theta.{n_theta}" in tensors:
        n_theta += 1
    if missing or n_theta == 0:
        raise ValueError(f"{path}: missing tensors {missing or [prefix + 'theta.0']}")
    return MemberArrays(
        x_train=tensors[names[0]],
        x_val=tensors[names[1]],
        labels=tensors[names[2]],
        theta=tuple(tensors[f"{prefix}theta.{i}"] for i in range(n_theta)),
        **extra,
    )


def read_dish_file(path: str | os.PathLike[str]) -> DishFile:
    """Read a file written by ``write_dish_file`` (or version 1); a foreign or damaged file
    is a ``ValueError``, a missing one ``FileNotFoundError``."""
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
    version = meta.get("version")
    if version not in READABLE_VERSIONS:
        raise ValueError(f"{path}: unsupported dish format version {version!r}")
    try:
        config = DishConfig.from_json(json.loads(meta["config"]))
        record = json.loads(meta.get("record", "null"))
        if version == "1":
            members: tuple[MemberArrays, ...] = (_member(tensors, "", path),)
        else:
            info = json.loads(meta["members"])
            members = tuple(
                _member(
                    tensors,
                    f"m{k}.",
                    path,
                    attempt=int(m["attempt"]),
                    center=float(m["center"]),
                    scale=float(m["scale"]),
                )
                for k, m in enumerate(info)
            )
    except (KeyError, TypeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: damaged dish metadata ({exc})") from exc
    if not members:
        raise ValueError(f"{path}: the dish file holds no member")
    return DishFile(config, str(meta.get("motif_kind")), members, record)
