"""Spreading the motif axis of the inner loop over local devices (CPU cores, GPUs).

The cell dish is bound by the length of its chain of tiny sequential kernels (inner steps
x time steps x cell nodes), not by arithmetic: one CPU core runs it and the others idle.
Split across devices, each device runs the same chain on its share of the motifs, in
parallel. On CPU that needs one JAX device per core, which JAX only creates when asked
before its first operation.

Contract
--------
* ``use_cpu_cores(n=None)`` asks JAX for ``n`` CPU devices (default: every core of this
  machine). It must run before JAX's first operation; afterwards it changes nothing and
  returns the count in effect (a warning on the ``petridish`` logger says so). The CLI
  calls it at start-up; library users call it right after ``import petridish`` if they
  want the speed-up. It changes no result beyond float summation order.
* ``motif_shards(net)`` is how many devices the inner loop of the motif-network ``net``
  spreads its motifs over: the local device count if ``net.shard_motifs``, otherwise 1.
* ``spread(fn, shards, params0, codes, *shared)`` runs ``fn(params0, codes, *shared)``
  with ``codes`` (and the result's leading axis) split over ``shards`` devices; ``params0`` and
  ``shared`` are replicated. ``codes`` is padded to a multiple of ``shards`` with copies of
  its first row, whose results are dropped. Gradients flow to every argument as for
  ``fn`` itself (the replicated arguments' gradients are summed over devices).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh
from jax.sharding import PartitionSpec as P

from petridish._logging import logger
from petridish._validation import positive_int
from petridish.nets.base import MotifNet

__all__ = ["motif_shards", "spread", "use_cpu_cores"]

_AXIS = "motifs"
_WARNED: set[int] = set()  # counts already warned about (once per process is enough)


def use_cpu_cores(n: int | None = None) -> int:
    """Ask JAX for ``n`` CPU devices (default ``os.cpu_count()``); see the module contract.

    Returns the number of CPU devices in effect afterwards.
    """
    want = positive_int(n if n is not None else (os.cpu_count() or 1), "use_cpu_cores(n)")
    try:
        jax.config.update("jax_num_cpu_devices", want)
    except RuntimeError:
        have = len(jax.devices("cpu"))
        if have != want and want not in _WARNED:
            _WARNED.add(want)
            logger.warning(
                "JAX already started with %d CPU device(s); asked for %d: call "
                "petridish.use_cpu_cores() before any JAX operation",
                have,
                want,
            )
        return have
    return len(jax.devices("cpu"))


def motif_shards(net: MotifNet) -> int:
    """Devices the inner loop of ``net`` spreads its motifs over (1 = no split); whether to
    split is the network's own measured choice (``MotifNet.shard_motifs``)."""
    return jax.local_device_count() if net.shard_motifs else 1


def spread(
    fn: Callable[..., jax.Array],
    shards: int,
    params0: Any,
    codes: jax.Array,
    *shared: jax.Array,
) -> jax.Array:
    """``fn(params0, codes, *shared)`` with the motif axis split over ``shards`` devices."""
    n = codes.shape[0]
    if shards <= 1:
        return fn(params0, codes, *shared)
    devices = jax.local_devices()
    if shards > len(devices):
        raise ValueError(f"{shards} shards asked for, only {len(devices)} local devices")
    pad = -n % shards
    if pad:
        codes = jnp.concatenate([codes, jnp.repeat(codes[:1], pad, axis=0)])
    mesh = Mesh(np.array(devices[:shards]), (_AXIS,))
    split = jax.shard_map(
        fn,
        mesh=mesh,
        in_specs=(P(), P(_AXIS), *(P() for _ in shared)),
        out_specs=P(_AXIS),
        # The inner loop's scans start from replicated carries (theta_init) that become
        # per-motif: JAX's replication checker rejects that without casts on every carry.
        # Unchecked, gradients of the replicated arguments are still summed over devices
        # (tests/dish/test_devices.py pins them to the one-device gradient).
        check_vma=False,
    )
    return split(params0, codes, *shared)[:n]
