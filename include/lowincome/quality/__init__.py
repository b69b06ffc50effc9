"""Validation of county submissions with Great Expectations: the gate between landing and ``raw``.

Public entry points: :func:`validate_load_table` (called by ingestion for every file),
:func:`build_data_docs` (after each night), :func:`write_suites` (refresh the reviewed suite JSON in
``expectations/``), :func:`validate_rows_per_second` (a hook for the benchmarks).

Why this execution (measured; ``benchmarks/`` holds the province-scale numbers)
------------------------------------------------------------------------------
The file is already in the warehouse: ingestion streams it with ``COPY`` into an UNLOGGED text table
``ops."load_<token>"`` and commits it. Validating *there* (SQL pushdown) is the fast way:

* A pandas batch would first pull every row back out of PostgreSQL into a DataFrame (or parse the file
  a second time), then let GX evaluate each expectation row by row in Python. On this machine that
  read alone costs more than the COPY that loaded the rows, and pandas holds the whole file in memory
  (ingestion's peak-RSS target is flat in file size).
* In the warehouse the rows never move. GX bundles all column map expectations (not null, regex,
  value sets) of a suite into ONE aggregate query, and every rows expectation (types with ranges,
  cross-field, check digit, cross-file against ``raw``) is one query that returns only the failing
  ``_source_row`` values. With ``BOOLEAN_ONLY`` + ``return_unexpected_index_query`` GX fetches no
  values at all, and we run the row queries only for the expectations that failed (usually none or a
  handful) in one ``union all``.
* What was measured on the way (2 shared cores, embedded PostgreSQL 18, a 100,000-row household_income
  load table of 18 text columns; COPY of the same parsed rows: 0.12-0.27 s):
  - every rule as a GX ``UnexpectedRowsExpectation`` (casts in SQL): ~6-7 s, two scans per rule;
  - type and range rules as column map expectations (:mod:`lowincome.quality.expectations`, bundled
    into GX's one aggregate scan), the rest as ``UnexpectedRowsExpectation``: ~3.6 s;
  - plus rows rules that ask for the count only (:class:`UnexpectedRowsCountExpectation`, one scan
    instead of two): ~2.2-2.7 s, of which ~0.5 s is GX's Python (building the metric graph of ~60
    expectations), ~0.8-1.5 s the bundled scan (about 55 checks on every row) and ~1 s the dozen
    cross-field / cross-file queries. A 2,000-row file costs ~0.6 s, nearly all of it GX's Python.
  - Regex type checks cost 3-4x ``pg_input_is_valid`` per value; the type test of
    :mod:`lowincome.parsing` (a regex of the written form, then casts that cannot fail; it runs on
    PostgreSQL 15, which lacks ``pg_input_is_valid``) costs ~1.3x regex + ``pg_input_is_valid`` for an
    amount and less for an integer (300,000 values, one process). JIT compilation of the wide aggregate
    cost more than it saved at these sizes (off for validation connections).
  - PostgreSQL's regex engine expands a bounded repetition (``{1,32}``, ``{17}``) into states: the
    code patterns cost 3.5 s of the 6.4 s that the household register's bundled scan took in one
    process at 1,000,000 rows. ``ExpectColumnValuesToMatchPattern`` tests them as a length check plus
    an unbounded regex where the two are the same test: with the server's parallel workers the scan
    took 1.9 s instead of 3.3 s.
  The cost of a rule is one evaluation per row in PostgreSQL, i.e. of the same order as the loader's
  own ``insert … select`` with casts into raw; a pandas batch would add the read-back and Python-speed
  evaluation on top.
* Costs that do not scale with rows are kept per process, not per file: the GX import (~3-4 s) and the
  contexts and SQLAlchemy engine are created once (:mod:`lowincome.quality.context`); suites are
  cached per (template, columns present), and so is one table asset per template and thread, pointed
  at each load table in turn; the per-file GX overhead is then one validation call.
* In that call GX rebuilt each expectation's configuration ~70 times (:mod:`lowincome.speedups.gx_validation`
  builds it once per validation): 26 small files validated in 7.25 s without, 5.4 s with it, same
  results. GX then planned ~60 metric graphs per file, the same plan every time: the memo reuses it
  from file to file (the batch id repeats, as the asset does), which took the validation call of 30
  files of 2,000 rows from 4.4 s to 2.1-2.6 s. What remains per file is GX resolving the graph (its
  SQL and the Python around it) and storing the result for Data Docs.
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
