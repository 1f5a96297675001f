"""The results database: every ground-truth evaluation, every search run, on SQLite.

>>> from petridish.store import Store
>>> with Store("results.db") as store:          # doctest: +SKIP
...     ev = store.evaluate(motif, evaluator, seed=0)
"""

from petridish.store.records import Evaluation, IterationRecord, RunRecord, StoreError
from petridish.store.sqlite import FORMAT_NAME, FORMAT_VERSION, Store

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "Evaluation",
    "IterationRecord",
    "RunRecord",
    "Store",
    "StoreError",
]
