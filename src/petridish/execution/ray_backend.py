"""The Ray executor: evaluations as Ray tasks, on a local Ray started for the run or on an
existing cluster.

How work reaches the workers: the evaluator object itself is pickled (cloudpickle) and put
in Ray's object store once per executor; each task gets it with a batch of motifs and the
seed, and runs ``run_batch`` (one ``evaluate_many`` call). Evaluators are therefore meant
to be light when pickled: they hold a data folder, not data, and load what they need on
the worker on first use (``MnistSlopeEvaluator`` loads MNIST lazily from its
``data_dir``, once per worker process). The folder must exist on every worker node (a
shared file system, or the same path on each machine), and ``petridish`` must be
importable there (installed in the workers' Python, or ``runtime_env``).

Resources: each task asks for ``num_cpus`` CPUs and ``num_gpus`` GPUs; with
``num_gpus > 0`` Ray places tasks on nodes with a GPU and sets ``CUDA_VISIBLE_DEVICES``
for them, so a worker's JAX (with CUDA) trains its batch on that GPU.

Fault tolerance: a worker process that dies during a task (killed, out of memory, node
lost) has its task run again by Ray, up to ``max_retries`` times; after that the batch's
jobs are ``failed`` outcomes naming the Ray error (the store runs failed ones again on a
later request). Exceptions raised by the evaluator are ``failed`` outcomes made on the
worker (see ``petridish.execution.base``); ``GroundTruthUnavailable`` on a worker is raised
again on the driver.

Authentication: recent Ray turns token authentication on for a new local Ray
(``ray.init``), writing ``~/.ray/auth_token``; a cluster started with ``ray start`` uses
it when that file exists. A driver joining a cluster with tokens needs the token as Ray
documents (``RAY_AUTH_MODE=token`` and ``RAY_AUTH_TOKEN`` or the file).

Ray is imported only when a ``RayExecutor`` is made (``pip install 'petridish[ray]'``).
"""

from __future__ import annotations

import math
import os
import socket
import time
from collections.abc import Mapping, Sequence
from contextlib import suppress
from typing import Any

from petridish._logging import logger
from petridish._validation import nonnegative_int, positive_int
from petridish.evaluators.base import (
    Evaluator,
    GroundTruthUnavailable,
    Outcome,
    has_evaluate_many,
)
from petridish.execution.base import Completed, Executor, ExecutorUnavailable, Job, run_batch
from petridish.motifs.base import Motif

__all__ = ["RayExecutor", "check_address"]

# An evaluator above this pickled size is logged: it carries data it could load on workers.
HEAVY_EVALUATOR_BYTES = 10_000_000

# What a task returns: ("ok", timed outcomes) or ("unavailable", message, remedy).
Reply = tuple[Any, ...]


def _remote_batch(evaluator: Evaluator, motifs: Sequence[Motif], seed: int) -> Reply:
    """The body of one Ray task (runs on a worker)."""
    try:
        return ("ok", run_batch(evaluator, motifs, seed))
    except GroundTruthUnavailable as exc:
        # Sent back as plain values: the driver raises it again, not as a Ray task error.
        return ("unavailable", str(exc), exc.remedy)


def check_address(address: str, timeout: float) -> None:
    """Raise ``ExecutorUnavailable`` naming ``address`` unless a Ray cluster answers at its
    ``HOST:PORT`` within ``timeout`` seconds (``ray.init`` itself can wait for minutes).

    A TCP connection must open, and, where ``grpc`` is installed (``petridish[ray]``
    installs it with ``ray[client]``), the head's GCS must answer one call
    (``NodeInfoGcsService/GetClusterId``); an answer that refuses us (authentication) still
    proves a GCS is there.
    """
    target = address.removeprefix("ray://")
    host, sep, port_text = target.rpartition(":")
    if not sep or not host or not port_text.isdigit():
        raise ExecutorUnavailable(
            f"Ray address {address!r} is not HOST:PORT (e.g. 10.0.0.1:6379)", address=address
        )
    try:
        with socket.create_connection((host, int(port_text)), timeout=timeout):
            pass
    except OSError as exc:
        raise ExecutorUnavailable(
            f"no Ray cluster at {address}: cannot connect within {timeout:g} s ({exc})",
            address=address,
        ) from None
    if target != address:
        return  # a Ray Client address: its server is not a GCS
    try:
        import grpc
    except ImportError:
        return
    channel = grpc.insecure_channel(target)
    try:
        # An empty GetClusterIdRequest serialises to no bytes; the reply is not decoded.
        call = channel.unary_unary("/ray.rpc.NodeInfoGcsService/GetClusterId")
        call(b"", timeout=timeout)
    except grpc.RpcError as exc:
        code = exc.code() if callable(getattr(exc, "code", None)) else None
        if code not in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED):
            raise ExecutorUnavailable(
                f"no Ray cluster at {address}: something listens there but does not answer "
                f"as a Ray head within {timeout:g} s ({code})",
                address=address,
            ) from None
    finally:
        channel.close()


class RayExecutor(Executor):
    """Evaluations as Ray tasks.

    Args:
        workers: start a local Ray for this executor with this many CPUs (task slots);
            it is shut down by ``close``. Not with ``address``.
        address: an existing cluster's ``HOST:PORT`` (the head's GCS port, as printed by
            ``ray start --head``); None and no ``workers``: the ``RAY_ADDRESS`` variable.
            The cluster is left running by ``close``.
        batch_size: motifs per task (one ``evaluate_many`` call); None: the jobs submitted
            together are split evenly over the cluster's task slots, each batch rounded up
            to whole chunks for an evaluator with an int ``chunk`` (models per compiled
            program, as ``MnistSlopeEvaluator`` has); one task per job for an evaluator
            without ``evaluate_many``.
        num_cpus, num_gpus: resources each task asks for.
        max_retries: how many times Ray runs a task again when its worker dies.
        connect_timeout: seconds to wait for the address to answer before giving up.
        runtime_env: passed to ``ray.init`` (e.g. ``{"env_vars": {...}}``).

    Raises ``ExecutorUnavailable`` (a ``ValueError``) naming the address when no cluster
    answers there, or when Ray is not installed.
    """

    def __init__(
        self,
        *,
        workers: int | None = None,
        address: str | None = None,
        batch_size: int | None = None,
        num_cpus: float = 1.0,
        num_gpus: float = 0.0,
        max_retries: int = 3,
        connect_timeout: float = 5.0,
        runtime_env: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(batch_size=batch_size)
        if workers is not None:
            workers = positive_int(workers, "workers")
        if workers is not None and address is not None:
            raise ValueError("give either workers (a local Ray) or address (a cluster), not both")
        if address is None and workers is None:
            address = os.environ.get("RAY_ADDRESS") or None
            if address is None:
                raise ValueError("RayExecutor needs workers, an address or RAY_ADDRESS")
        for what, value in (("num_cpus", num_cpus), ("num_gpus", num_gpus)):
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{what} must be a finite number >= 0, got {value!r}")
        if num_cpus == 0 and num_gpus == 0:
            raise ValueError("a task must ask for some CPUs or GPUs")
        max_retries = nonnegative_int(max_retries, "max_retries")
        if not (math.isfinite(connect_timeout) and connect_timeout > 0):
            raise ValueError(f"connect_timeout must be > 0 seconds, got {connect_timeout!r}")
        self.workers = workers
        self.address = address
        self.num_cpus = float(num_cpus)
        self.num_gpus = float(num_gpus)
        self.max_retries = max_retries
        try:
            import ray
        except ImportError:
            raise ExecutorUnavailable(
                "Ray is not installed: pip install 'petridish[ray]'", address=address
            ) from None
        self._ray = ray
        if address is not None and address != "auto":
            check_address(address, connect_timeout)
        self._owned = not ray.is_initialized()
        if self._owned:
            options: dict[str, Any] = {
                "log_to_driver": False,
                "configure_logging": False,
                "runtime_env": None if runtime_env is None else dict(runtime_env),
            }
            if address is None:
                options.update(address="local", num_cpus=workers, include_dashboard=False)
            else:
                options.update(address=address)
            try:
                ray.init(**options)
            except Exception as exc:
                where = "a local Ray" if address is None else f"the Ray cluster at {address}"
                raise ExecutorUnavailable(
                    f"cannot start or join {where}: {type(exc).__name__}: {exc}", address=address
                ) from exc
        else:
            logger.info("RayExecutor: using the Ray this process already joined")
        resources = ray.cluster_resources()
        per_task = [
            resources.get(name, 0.0) / need
            for name, need in (("CPU", self.num_cpus), ("GPU", self.num_gpus))
            if need > 0
        ]
        self.slots = max(1, int(min(per_task)))
        self._remote = ray.remote(_remote_batch).options(
            num_cpus=self.num_cpus,
            num_gpus=self.num_gpus,
            max_retries=max_retries,
            retry_exceptions=False,
        )
        self._evaluators: dict[int, tuple[Evaluator, Any]] = {}  # id -> (object, ObjectRef)
        self._running: dict[Any, list[Job]] = {}  # ObjectRef of a task -> its jobs
        logger.info(
            "RayExecutor: %s, %d task slots (%g CPU, %g GPU per task)",
            "local Ray" if address is None else f"cluster {address}",
            self.slots,
            self.num_cpus,
            self.num_gpus,
        )

    def __repr__(self) -> str:
        where = f"workers={self.workers!r}" if self.address is None else f"{self.address!r}"
        return f"RayExecutor({where}, slots={self.slots})"

    def _split(self, n: int, evaluator: Evaluator) -> int:
        if self.batch_size is not None:
            return self.batch_size
        if not has_evaluate_many(evaluator):
            return 1  # nothing to gain from batching: one task per job keeps workers fed
        step = math.ceil(n / min(n, self.slots))
        chunk = getattr(evaluator, "chunk", None)
        if isinstance(chunk, int) and not isinstance(chunk, bool) and chunk > 1:
            # A trainer that compiles programs of ``chunk`` models (and pads a batch to
            # whole chunks, e.g. MnistSlopeEvaluator) gains nothing from a smaller batch:
            # whole chunks take fewer workers for the same wall time.
            step = math.ceil(step / chunk) * chunk
        return step

    def _evaluator_ref(self, evaluator: Evaluator) -> Any:
        # Keep the object with its ref: its id stays unique while it is cached.
        cached = self._evaluators.get(id(evaluator))
        if cached is None:
            size = len(self._ray.cloudpickle.dumps(evaluator))
            if size > HEAVY_EVALUATOR_BYTES:
                # E.g. an MnistSlopeEvaluator that already loaded MNIST on the driver: the
                # data travels to every node instead of being read there.
                logger.warning(
                    "RayExecutor: evaluator %r pickles to %.0f MB; workers load data lazily "
                    "from their data folder when given a fresh evaluator",
                    evaluator,
                    size / 1e6,
                )
            cached = (evaluator, self._ray.put(evaluator))
            self._evaluators[id(evaluator)] = cached
        return cached[1]

    def _start(self, evaluator: Evaluator, jobs: Sequence[Job]) -> None:
        ref = self._remote.remote(
            self._evaluator_ref(evaluator), [job.motif for job in jobs], jobs[0].seed
        )
        self._running[ref] = list(jobs)

    def _wait(self) -> list[Completed]:
        ray = self._ray
        ready, _ = ray.wait(list(self._running), num_returns=1)
        completions: list[Completed] = []
        for ref in ready:
            jobs = self._running.pop(ref)
            try:
                reply = ray.get(ref)
            except ray.exceptions.RayError as exc:
                # The task's retries are spent (or Ray failed otherwise): these jobs failed.
                reason = f"{type(exc).__name__}: {exc}".splitlines()[0]
                logger.warning("RayExecutor: a batch of %d jobs failed: %s", len(jobs), reason)
                now = time.time()
                failed = Outcome("failed", reason=reason)
                completions.extend(Completed(job, failed, 0.0, now) for job in jobs)
                continue
            if reply[0] == "unavailable":
                raise GroundTruthUnavailable(reply[1], remedy=reply[2])
            for job, (outcome, wall, started) in zip(jobs, reply[1], strict=True):
                completions.append(Completed(job, outcome, wall, started))
        return completions

    def _drop(self) -> None:
        for ref in self._running:
            with suppress(Exception):
                self._ray.cancel(ref, force=True)
        self._running.clear()

    def _shutdown(self) -> None:
        self._evaluators.clear()
        if self._owned:
            self._ray.shutdown()
