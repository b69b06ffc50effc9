"""Validate one load table: GX runs the template's suite in the warehouse, we turn its verdict into findings.

Order of work for one file (see the package docstring for why this is the fast way):

1. file-level checks in Python: a required column missing (reason_code ``missing_column``), no rows;
2. GX validates the load table through the warehouse data source, every expectation pushed down as
   SQL (``BOOLEAN_ONLY`` + ``return_unexpected_index_query``: the column map expectations are bundled
   into one aggregate scan, each rows expectation is its own query);
3. for the expectations that failed, one set-based query fetches the failing ``_source_row`` values:
   GX's own ``unexpected_index_query`` for the column map expectations, the rule's SQL with ``{batch}``
   replaced by the load table for the rows expectations (the same text GX ran);
4. severities from validation.yaml decide: a failing reject_file rule or more than the configured share
   of rows failing reject_row rules rejects the file; a 上报说明 accepts the warn findings;
5. the GX result (row numbers only, never values: ID numbers and names stay in raw) is stored for Data
   Docs.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import psycopg
from psycopg import sql

from lowincome.config import Settings
from lowincome.errors import UserError
from lowincome.quality.context import LOAD_SCHEMA, runner
from lowincome.quality.outcome import ExpectationResult, RowFinding, ValidationOutcome
from lowincome.quality.policy import Policy, policy
from lowincome.quality.results import store_validation_result
from lowincome.quality.rules import Rule
from lowincome.quality.suites import build_suite
from lowincome.speedups.gx_validation import memoised_configurations
from lowincome.templates import template as get_template

log = logging.getLogger(__name__)

RESULT_FORMAT = {
    "result_format": "BOOLEAN_ONLY",
    "return_unexpected_index_query": True,
    "unexpected_index_column_names": ["_source_row"],
}
_LOAD_NAME = re.compile(r'^(?:"?(?P<schema>[a-z_][a-z0-9_]*)"?\.)?"?(?P<table>[A-Za-z0-9_]+)"?$')


def split_load_table(load_table: str) -> tuple[str, str]:
    """``ops."load_x"`` / ``ops.load_x`` / ``load_x`` -> (``ops``, ``load_x``); only ops tables."""
    match = _LOAD_NAME.match(load_table.strip())
    schema = (match.group("schema") or LOAD_SCHEMA) if match else None
    if not match or schema != LOAD_SCHEMA:
        raise UserError(f"load table {load_table!r} is not a table in schema {LOAD_SCHEMA}; "
                        "validation reads only ops.load_* tables")
    return schema, match.group("table")


def validate_load_table(
    cfg: Settings,
    *,
    load_table: str,
    template: str,
    county_code: str,
    year: int,
    columns: list[str],
    explanation: str | None,
) -> ValidationOutcome:
    """Validate a committed load table against its template's suite; reads only, writes nothing."""
    started = time.perf_counter()
    pol = policy()
    tpl = get_template(template)
    schema, table = split_load_table(load_table)
    present = frozenset(columns)

    missing = [c for c in tpl.columns if c.required and c.name not in present]
    if missing:
        return _missing_columns(template, missing, pol)

    with _connect(cfg) as conn:
        total = conn.execute(sql.SQL("select count(*) from {}.{}").format(
            sql.Identifier(schema), sql.Identifier(table))).fetchone()[0]
        if total == 0:
            return ValidationOutcome(suite=template, file_rejected=True, reason_code="no_rows",
                                     reason=pol.reason("no_rows"),
                                     results=[ExpectationResult("no_rows", None, pol.severity("no_rows"),
                                                                False, 0, "0 rows")])
        suite, rules = build_suite(template, present)
        gx_result = _run_suite(cfg, suite, table, template, county_code, year)
        verdicts = _verdicts(gx_result, rules)
        failing_rows = _failing_rows(conn, [v for v in verdicts if not v.success], schema, table)

    outcome = _decide(template, verdicts, failing_rows, total, pol, explanation)
    store_validation_result(cfg, gx_result, verdicts=verdicts, failing_rows=failing_rows, total=total,
                            template=template, county_code=county_code, year=year)
    log.info("validated %s (%s %s %s): %d rows, %d expectations, %d failing, %.2fs", table, template,
             county_code, year, total, len(verdicts), sum(not v.success for v in verdicts),
             time.perf_counter() - started)
    return outcome


# --- steps ---------------------------------------------------------------------------------------

class Verdict:
    """One expectation's outcome, tied back to the rule that made it."""

    __slots__ = ("rule", "success", "index_query", "result")

    def __init__(self, rule: Rule, success: bool, index_query: str | None, result: Any):
        self.rule, self.success, self.index_query, self.result = rule, success, index_query, result


@contextlib.contextmanager
def _connect(cfg: Settings) -> Iterator[psycopg.Connection]:
    """A read-only transaction on a pooled connection of the runner's engine (search_path ops, JIT off).

    Read-only by construction: validation must never change what it validates. Borrowed from the pool
    GX validates through rather than opened per file (a handshake per file, ~540 files a night); the
    pool rolls the transaction back when the connection returns to it.
    """
    with runner(cfg).datasource.get_engine().connect() as pooled:
        conn = pooled.connection.driver_connection
        conn.execute("set transaction read only")
        yield conn


def _run_suite(cfg: Settings, suite: Any, table: str, template: str, county_code: str, year: int) -> Any:
    with runner(cfg).batch(template, table) as batch, memoised_configurations():
        return batch.validate(suite, result_format=RESULT_FORMAT, expectation_parameters={
            "file_county_code": [county_code], "file_year": [str(year)]})


def _verdicts(gx_result: Any, rules: tuple[Rule, ...]) -> list[Verdict]:
    by_key = {r.key: r for r in rules}
    verdicts = []
    for res in gx_result.results:
        meta = res.expectation_config.meta or {}
        rule = by_key[meta["key"]]
        info = res.exception_info or {}
        if info.get("raised_exception"):
            # A rule that cannot run is our bug, not the county's: fail the task so Airflow retries/alerts.
            raise RuntimeError(f"validation rule {rule.key} of {rule.description!r} could not run: "
                               f"{str(info.get('exception_message'))[:500]}")
        index_query = (res.result or {}).get("unexpected_index_query")
        verdicts.append(Verdict(rule, bool(res.success), index_query, res))
    return verdicts


def _failing_rows(conn: psycopg.Connection, failed: list[Verdict], schema: str, table: str) -> dict[str, list]:
    """One set-based query: the failing source rows of every failed expectation, by rule key."""
    if not failed:
        return {}
    relation = f'{schema}."{table}"'
    parts = []
    for number, verdict in enumerate(failed):
        if verdict.rule.kind == "rows":
            query = verdict.rule.query.format(batch=relation)
        elif verdict.index_query:
            query = verdict.index_query.strip().rstrip(";")
        else:
            raise RuntimeError(f"GX gave no unexpected_index_query for {verdict.rule.key}")
        parts.append(f"select {number} as rule_no, x._source_row from ({query}) as x")
    rows: dict[str, list] = defaultdict(list)
    for rule_no, source_row in conn.execute(" union all ".join(parts)).fetchall():
        rows[failed[rule_no].rule.key].append(source_row)
    for key in rows:
        rows[key] = sorted(set(rows[key]), key=lambda r: (r is not None, r or 0))
    return dict(rows)


def _decide(template: str, verdicts: list[Verdict], failing_rows: dict[str, list], total: int, pol: Policy,
            explanation: str | None) -> ValidationOutcome:
    findings: list[RowFinding] = []
    results: list[ExpectationResult] = []
    file_rule: Rule | None = None
    accepted = bool(explanation and explanation.strip())
    for verdict in verdicts:
        rule = verdict.rule
        severity = pol.severity(rule.rule)
        rows = failing_rows.get(rule.key, [])
        if not verdict.success and not rows:
            rows = [None]  # GX saw a failure the row query cannot place: report it on the file
        if not verdict.success and severity == "reject_file" and file_rule is None:
            file_rule = rule
        results.append(ExpectationResult(
            expectation=rule.rule, column=rule.column, severity=severity, success=verdict.success,
            unexpected_count=0 if verdict.success else len(rows),
            observed_value=_observed(verdict.success, rows, total)))
        if verdict.success or severity == "reject_file":
            continue
        reason = rule.reason(pol)
        findings += [RowFinding(source_row=row, column=rule.column, rule=rule.rule, reason=reason,
                                severity=severity, accepted=accepted and severity == "warn") for row in rows]

    outcome = ValidationOutcome(suite=template, file_rejected=False, reason_code=None, reason=None,
                                findings=findings, results=results, rows_checked=total)
    if file_rule is not None:
        outcome.file_rejected, outcome.reason_code = True, file_rule.rule
        outcome.reason = file_rule.reason(pol)
        return outcome
    share = pol.threshold("reject_file_row_share")
    bad = len(outcome.rejected_rows)
    passed = bad <= share * total
    outcome.results.append(ExpectationResult(
        "too_many_bad_rows", None, pol.severity("too_many_bad_rows"), passed, 0 if passed else bad,
        f"{bad} of {total} rows fail a reject_row rule (limit {share:.0%})"))
    if not passed:
        outcome.file_rejected, outcome.reason_code = True, "too_many_bad_rows"
        outcome.reason = pol.reason("too_many_bad_rows", bad=bad, total=total, percent=round(100 * bad / total, 1),
                                    share=round(100 * share))
    return outcome


def _observed(success: bool, rows: list, total: int) -> str:
    if success:
        return f"0 of {total} rows"
    if rows == [None]:
        return "the file as a whole"
    shown = ", ".join(str(r) for r in rows[:10] if r is not None)
    more = " …" if len(rows) > 10 else ""
    return f"{len(rows)} of {total} rows (rows {shown}{more})"


def _missing_columns(template: str, missing: list, pol: Policy) -> ValidationOutcome:
    names = "”、“".join(c.zh for c in missing)
    results = [ExpectationResult("missing_column", c.name, pol.severity("missing_column"), False, 1, "column absent")
               for c in missing]
    return ValidationOutcome(suite=template, file_rejected=True, reason_code="missing_column",
                             reason=pol.reason("missing_column", column_zh=names), results=results)
