"""Each run's GX validation result, kept for Data Docs (in ``$LOWINCOME_DATA_DIR/gx/validations``), the
newest :data:`KEEP_RESULTS_PER_FILE` of each file.

What is stored is GX's own result object with its ``result`` part replaced by counts and row
numbers: no cell value is ever kept (the household register's names and ID numbers stay in raw), nor
GX's SQL text (it names scratch tables that are gone after the load).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from lowincome.config import Settings
from lowincome.quality.context import gx, project_context

log = logging.getLogger(__name__)
PARTIAL_ROWS = 20
# The newest validation results kept for each file (a template's file of a county and year): the
# night's and the two it superseded. Older ones leave the store, and GX's index build then removes
# their pages, so the Data Docs grow with the files, not with the nights (the ledger in ops keeps every
# submission's outcome).
KEEP_RESULTS_PER_FILE = 3


def store_validation_result(cfg: Settings, gx_result: Any, *, verdicts: list, failing_rows: dict[str, list],
                            total: int, template: str, county_code: str, year: int) -> None:
    for verdict in verdicts:
        rows = [r for r in failing_rows.get(verdict.rule.key, []) if r is not None]
        res = verdict.result
        count = 0 if verdict.success else max(len(rows), 1)
        summary: dict[str, Any] = {"observed_value": count}
        if verdict.rule.kind == "column_values":
            summary = {
                "element_count": total, "unexpected_count": count,
                "unexpected_percent": round(100.0 * count / total, 2) if total else 0.0,
                "partial_unexpected_list": [],
                "unexpected_index_column_names": ["_source_row"],
                "partial_unexpected_index_list": [{"_source_row": r} for r in rows[:PARTIAL_ROWS]],
            }
        res.result = summary
    meta = dict(gx_result.meta or {})
    # GX's most severe failure (critical, warning, info; None: nothing failed), kept so that the Data
    # Docs index tells a run whose failures are warnings from a failed one without loading every result
    most_severe = gx_result.get_max_severity_failure()
    meta["lowincome"] = {"template": template, "county_code": county_code, "year": year, "rows": total,
                         "max_failure_severity": most_severe.value if most_severe is not None else None}
    gx_result.meta = meta
    ge = gx()
    core = ge.core
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    run_id = core.RunIdentifier(run_name=f"{county_code}_{template}_{year}",
                                run_time=dt.datetime.now(dt.UTC))
    key = ValidationResultIdentifier(
        expectation_suite_identifier=ExpectationSuiteIdentifier(name=template),
        run_id=run_id,
        batch_identifier=f"{county_code}_{year}",
    )
    gx_result.meta["run_id"] = run_id
    store = project_context(cfg).validation_results_store
    store.store_backend.set(store.key_to_tuple(key), serialized(gx_result))
    keep_newest_results(store, template, run_id.run_name)


def keep_newest_results(store: Any, suite: str, run_name: str, keep: int = KEEP_RESULTS_PER_FILE) -> int:
    """Remove all but the ``keep`` newest stored results of one file (its suite and run name, the first
    two parts of GX's key); returns how many went. Lists that file's folder only, not the store."""
    keys = [key for key in store.store_backend.list_keys(prefix=(suite, run_name)) if len(key) == 4]
    keys.sort(key=lambda key: key[2])   # GX's run time text, %Y%m%dT%H%M%S.%fZ: its order is time's
    superseded = keys[:-keep] if keep > 0 else keys
    for key in superseded:
        store.remove_key(key)
    return len(superseded)


def serialized(gx_result: Any) -> str:
    """The text GX's validation results store writes for this result, without its second pass.

    The store's ``serialize`` dumps ``to_json_dict()`` through the marshmallow schema again, which
    hands back the same structure (that dict is the schema's own output): the same JSON text, made
    once instead of twice (measured: benchmarks/RESULTS.md, history, run T). ``tests/quality`` compares the
    two texts on stored results of every template.
    """
    return json.dumps(gx_result.to_json_dict(), indent=2, sort_keys=True)
