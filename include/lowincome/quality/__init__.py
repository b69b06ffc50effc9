"""Validation of county submissions with Great Expectations: the gate between landing and ``raw``.

Public entry points: :func:`validate_load_table` (called by ingestion for every file),
:func:`build_data_docs` (after each night), :func:`write_suites` (refresh the reviewed suite JSON in
``expectations/``), :func:`validate_rows_per_second` (a hook for the benchmarks).

Why in the warehouse
--------------------
The file is already in the warehouse: ingestion streams it with ``COPY`` into an UNLOGGED text table
``ops."load_<token>"``. Validating *there* (SQL pushdown) leaves the rows where they are: GX bundles
the column map expectations of a suite (not null, patterns, value sets, types with ranges:
:mod:`lowincome.quality.expectations`) into one aggregate query, and every row rule (cross-field,
check digit, cross-file against ``raw``) is one query returning only a count or the failing
``_source_row`` values; the failing rows are fetched only for the rules that failed. A pandas batch
would read every row back out and hold the whole file in memory, and ingestion's peak memory must stay
flat in file size. What does not scale with rows is kept per process, not per file: the GX import, the
contexts and engine (:mod:`lowincome.quality.context`), the suites per (template, columns present).
The measurements behind these choices: docs/decisions/0015-validation-in-the-warehouse.md; the
province-scale figures: benchmarks/RESULTS.md.
"""

from __future__ import annotations

import time

from lowincome.config import Settings
from lowincome.quality.docs import build_data_docs
from lowincome.quality.outcome import ExpectationResult, RowFinding, ValidationOutcome
from lowincome.quality.suites import write_suites
from lowincome.quality.validation import validate_load_table

__all__ = [
    "ExpectationResult",
    "RowFinding",
    "ValidationOutcome",
    "build_data_docs",
    "validate_load_table",
    "validate_rows_per_second",
    "write_suites",
]


def validate_rows_per_second(cfg: Settings, *, load_table: str, template: str, county_code: str, year: int,
                             columns: list[str], repeats: int = 1) -> dict[str, float]:
    """Benchmark hook: validate an existing load table ``repeats`` times; rows/s of the best run."""
    best = float("inf")
    outcome = None
    for _ in range(repeats):
        started = time.perf_counter()
        outcome = validate_load_table(cfg, load_table=load_table, template=template, county_code=county_code,
                                      year=year, columns=columns, explanation=None)
        best = min(best, time.perf_counter() - started)
    rows = outcome.rows_checked if outcome else 0
    return {"rows": float(rows), "seconds": best, "rows_per_second": rows / best if best else 0.0}
