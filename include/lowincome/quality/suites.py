"""GX expectation suites, one per template, built from the rules (never written by hand)."""

from __future__ import annotations

import itertools
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from lowincome.config import Settings
from lowincome.quality.context import gx, project_context
from lowincome.quality.expectations import (
    ExpectColumnValuesToBeBetweenOnceParsed,
    ExpectColumnValuesToMatchPattern,
    ExpectColumnValuesToParseAs,
    UnexpectedRowsCountExpectation,
)
from lowincome.quality.policy import policy
from lowincome.quality.rules import Rule, rules_for
from lowincome.templates import templates

# GX's own failure severity, shown in Data Docs; ours (reject_file/reject_row/warn) is in the meta.
GX_SEVERITY = {"reject_file": "critical", "reject_row": "critical", "warn": "warning"}


_JOIN = re.compile(r"\bjoin\b", re.IGNORECASE)


def aliased_batch(query: str) -> str:
    """A rows rule's SQL as GX needs it on every PostgreSQL the warehouse supports.

    GX puts the batch in for ``{batch}`` as ``(subquery) AS subselect``, except in a query that joins:
    there it writes ``(subquery)`` and leaves the alias to the query's author (GX's documented rule for
    ``unexpected_rows_query``). PostgreSQL 16 accepts a subquery in FROM without an alias; 15 refuses it,
    and every cross-file rule then failed as an error. So a joining query names each batch itself.
    """
    if not _JOIN.search(query):
        return query
    numbers = itertools.count(1)
    return re.sub(r"\{batch\}", lambda _: f"{{batch}} as batch_{next(numbers)}", query)


def expectation_for(rule: Rule) -> Any:
    gxe = gx().expectations
    pol = policy()
    severity = pol.severity(rule.rule)
    common: dict[str, Any] = {
        "meta": {"rule": rule.rule, "column": rule.column, "key": rule.key, "severity": severity},
        "description": f"{rule.description} ({severity}: {rule.reason(pol)})",
        "severity": GX_SEVERITY[severity],
    }
    if rule.kind == "rows":
        return UnexpectedRowsCountExpectation(unexpected_rows_query=aliased_batch(rule.query), **common)
    if rule.gx_type == "length_at_most":
        return gxe.ExpectColumnValueLengthsToBeBetween(column=rule.column, max_value=rule.gx_kwargs["max_value"],
                                                       **common)
    if rule.gx_type == "not_null":
        return gxe.ExpectColumnValuesToNotBeNull(column=rule.column, **common)
    if rule.gx_type == "match_regex":
        return ExpectColumnValuesToMatchPattern(column=rule.column, regex=rule.gx_kwargs["regex"], **common)
    if rule.gx_type == "parses_as":
        return ExpectColumnValuesToParseAs(column=rule.column, pg_type=rule.gx_kwargs["pg_type"], **common)
    if rule.gx_type == "between":
        return ExpectColumnValuesToBeBetweenOnceParsed(column=rule.column, **rule.gx_kwargs, **common)
    if rule.gx_type == "in_set":
        return gxe.ExpectColumnValuesToBeInSet(column=rule.column, value_set=rule.gx_kwargs["value_set"], **common)
    raise ValueError(f"rule {rule.key}: unknown GX expectation type {rule.gx_type!r}")


def build_suite(template_name: str, columns: frozenset[str] | None = None) -> tuple[Any, tuple[Rule, ...]]:
    """The suite of a template, restricted to the rules whose columns the file carries."""
    return _build_suite(template_name, columns)


@lru_cache(maxsize=64)
def _build_suite(template_name: str, columns: frozenset[str] | None) -> tuple[Any, tuple[Rule, ...]]:
    rules = tuple(r for r in rules_for(template_name) if columns is None or set(r.needs) <= columns)
    # Built in one go: ExpectationSuite.add_expectation would look for a saved copy in a context's store.
    suite = gx().ExpectationSuite(name=template_name, meta={"template": template_name},
                                  expectations=[expectation_for(rule) for rule in rules])
    return suite, rules


def suite_file(cfg: Settings, name: str) -> Path:
    """Where the project context's expectations store keeps the suite ``name`` (great_expectations.yml)."""
    return cfg.expectations_dir / "expectations" / f"{name}.json"


def write_suites(cfg: Settings) -> list[str]:
    """Write the seven reference suites into ``expectations/expectations/`` (reviewable JSON)."""
    context = project_context(cfg)
    written = []
    for name in templates():
        rules = rules_for(name)
        stored = suite_file(cfg, name)
        before = stored.read_text(encoding="utf-8") if stored.is_file() else None
        suite = gx().ExpectationSuite(name=name, meta={"template": name},
                                      expectations=[expectation_for(rule) for rule in rules])
        context.suites.add_or_update(suite)
        if before is not None:
            _keep_ids(stored, before)
        written.append(name)
    return written


def _keep_ids(stored: Path, before: str) -> None:
    """Unchanged expectations keep the ids they had (GX draws new ones): a rewrite shows only real changes."""
    def key(config: dict) -> tuple:
        return (config["type"], json.dumps(config["kwargs"], sort_keys=True),
                json.dumps(config.get("meta"), sort_keys=True))

    old = json.loads(before)
    new = json.loads(stored.read_text(encoding="utf-8"))
    ids = {key(e): e["id"] for e in old["expectations"] if e.get("id")}
    for expectation in new["expectations"]:
        expectation["id"] = ids.get(key(expectation), expectation.get("id"))
    new["id"] = old.get("id", new.get("id"))
    text = json.dumps(new, indent=2, sort_keys=True) + "\n"
    stored.write_text(before if json.loads(before) == new else text, encoding="utf-8")
