"""The process's long-lived heap kept out of the cyclic garbage collector's way during a long run.

A night (``lowincome run``: Airflow, dbt, Great Expectations and cosmos in one process) or a folder of
files (``lowincome ingest``) imports modules and builds caches that stay for the process's life: ~1
million objects after a night's imports. Every full collection walked all of them, whatever the run
had allocated since, and a fresh process's night runs a dozen. Frozen (``gc.freeze()``, as Airflow's
DAG processor freezes its own heap), they are not walked; objects created afterwards are collected as
before. Measured: benchmarks/RESULTS.md, sections incremental and perfile (runs AE, AF, AG).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def frozen() -> Iterator[None]:
    """What the process holds now is frozen for the block (freeze again inside to add what the block
    imported since: :func:`lowincome.pipeline.run_nightly` does before each DAG).

    Unfrozen at the end unless the caller had frozen its own, so garbage left uncollected at a freeze
    is collected afterwards (the next full collection walks everything once); a process that runs one
    night after another freezes again as the next one starts, so that walk is not the next night's.
    """
    frozen_by_caller = gc.get_freeze_count()
    gc.freeze()
    try:
        yield
    finally:
        if not frozen_by_caller:
            gc.unfreeze()
