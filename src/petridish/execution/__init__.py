"""Where ground truth runs: in this process (the default) or on a Ray cluster.

An ``Executor`` takes ``(evaluator, motifs, seed)`` work and hands back ``Completed``
outcomes as they finish; ``evaluate_many`` does the store's job through one (stored results
are read back, the rest submitted, each outcome recorded by this process, the driver, as it
arrives). ``RayExecutor`` needs the optional extra ``petridish[ray]``; Ray is imported only
when one is made. The search (``run_search(executor=...)``), ``compare_strategies`` and the
``petridish search|truth|compare --workers N / --ray-address HOST:PORT`` commands use it.

>>> from petridish.execution import InProcessExecutor, evaluate_many
>>> with InProcessExecutor() as ex:                              # doctest: +SKIP
...     evaluations = evaluate_many(store, motifs, evaluator, seed=0, executor=ex)
"""

from petridish.execution.base import Completed, Executor, ExecutorUnavailable, Job, run_batch
from petridish.execution.driver import ExecutingStore, evaluate_many, evaluate_seeds
from petridish.execution.inprocess import InProcessExecutor
from petridish.execution.ray_backend import RayExecutor, check_address

__all__ = [
    "Completed",
    "Executor",
    "ExecutingStore",
    "ExecutorUnavailable",
    "InProcessExecutor",
    "Job",
    "RayExecutor",
    "check_address",
    "evaluate_many",
    "evaluate_seeds",
    "run_batch",
]
