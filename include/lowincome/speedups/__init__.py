"""Every place the platform replaces a third-party library's internals for speed: here, behind one switch.

The rest of the code uses Great Expectations and dbt through their public APIs only; a test
(``tests/unit/test_speedups_inventory.py``) reads every module and fails on a patch outside this
package. Each speed-up here is checked against the library versions it was written for and is not
installed on another version (slower, never wrong).

The switch: ``LOWINCOME_SPEEDUPS=0`` (also ``off``, ``false``, ``no``) turns every one of them off,
for the whole process: the libraries then run as shipped. CI runs dbt's tests and a whole night on
PostgreSQL 15 with the switch off, and everything on PostgreSQL 18 with it on.
The dbt half lives in ``dbt_project/macros/speedups/``: each macro there falls back to dbt's own
implementation when the same variable is off.

:data:`PATCHES` lists them, with what each replaces and what it was measured to save; the README's
speed-up table is the same list.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

SWITCH = "LOWINCOME_SPEEDUPS"
_OFF = {"0", "off", "false", "no"}


def enabled() -> bool:
    """Whether the speed-ups are on (``LOWINCOME_SPEEDUPS`` unset or anything but 0/off/false/no)."""
    return os.environ.get(SWITCH, "1").strip().lower() not in _OFF


@dataclass(frozen=True)
class Patch:
    where: str        # the module (or dbt macro file) that holds it
    replaces: str     # the library internal it replaces
    gain: str         # what it was measured to save, and how
    checked_for: str  # the library versions it is installed on


PATCHES = (
    Patch("lowincome.speedups.gx_validation", "great_expectations Expectation.configuration and __setattr__ "
          "(the configuration built once per validation)", "about a third of GX's validate time on small files "
          "(cProfile)", "great_expectations 1.24.x"),
    Patch("lowincome.speedups.gx_validation", "great_expectations IDDict.to_id (plain JSON ids without "
          "convert_to_json_serializable)", "~80,000 calls per 30 small files (cProfile)", "great_expectations 1.24.x"),
    Patch("lowincome.speedups.gx_validation", "great_expectations MetricsCalculator.build_metric_dependency_graph "
          "and every Expectation's get_validation_dependencies (the plan reused from file to file)",
          "30 files of 2,000 rows: 4.4 s -> 2.1-2.6 s of validation", "great_expectations 1.24.x"),
    Patch("lowincome.speedups.gx_validation", "one table asset per thread and template, its private table_name "
          "pointed at each load table, with the execution engine's private _caching/_metric_cache off",
          "0.19-0.21 -> 0.13-0.15 s per file beyond row cost (with the plan memo)", "great_expectations 1.24.x"),
    Patch("lowincome.speedups.gx_validation", "the ephemeral context's private _save_project_config (renders the "
          "whole configuration to YAML after every data-source change; nothing reads it)",
          "3 saves a file avoided (part of the line above)", "great_expectations 1.24.x"),
    Patch("lowincome.speedups.gx_docs", "great_expectations' site build: the results store's list_keys answered "
          "from one listing, run_identifier.parse cached, RenderedContent.rendered_content_dict_to_json copying "
          "each level once, the context's get_validation_result reading a result's success and meta only",
          "five-year warehouse (2,556 results): ~7 s of each night's index build, growing with the history",
          "great_expectations 1.24.x"),
    Patch("lowincome.speedups.dbt_flags", "dbt_common BehaviorFlagRendered._default_source (inspect.stack() per "
          "behaviour flag)", "~0.45 s per cosmos task, ~50 tasks a night (cProfile)", "dbt-common 1.39.x"),
    Patch("lowincome.speedups.two_cores", "no library: a second Python process (python -P -m "
          "lowincome.speedups.two_cores, its job pickled through its stdin; never os.fork() inside the ingest "
          "task) parsing the second half of a CSV or sheet above 32 MB", "about 1.6x on a big file's parse when a "
          "second core is free (measured with the earlier forked helper; the fresh interpreter adds ~0.3 s CPU "
          "and ~40 MB per big file)", "CPython 3.11+ on Linux"),
    Patch("dbt_project/macros/speedups/persist_docs.sql", "dbt's postgres__persist_docs: only changed comments "
          "are written", "no COMMENT lock waits behind autovacuum on kept incremental tables", "dbt-postgres 1.11.x"),
    Patch("dbt_project/macros/speedups/delete_insert.sql", "dbt's postgres__get_delete_insert_merge_sql: the new "
          "rows ANALYZEd first", "one-county correction of fct_household_income: ~0.6 s -> under 1 ms delete",
          "dbt-postgres 1.11.x"),
    Patch("dbt_project/macros/speedups/test_scope.sql", "dbt's get_where_subquery: data tests of a night read only "
          "the rows of that night's counties", "~1.8 s -> ~5 ms per test on five years of the province",
          "dbt-core 1.11.x"),
)
