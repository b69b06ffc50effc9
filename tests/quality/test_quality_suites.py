"""The suites are data built from the contract: complete, reviewed, and the JSON in expectations/ is current."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lowincome.quality.policy import SEVERITIES, policy
from lowincome.quality.rules import rules_for
from lowincome.quality.suites import build_suite
from lowincome.templates import templates

SUITES = Path(__file__).resolve().parents[2] / "expectations" / "expectations"


@pytest.mark.parametrize("name", sorted(templates()))
def test_every_column_is_checked(name):
    tpl = templates()[name]
    checked = {r.column for r in rules_for(name)} | {c for r in rules_for(name) for c in r.needs}
    assert {c.name for c in tpl.columns} <= checked | {c.name for c in tpl.columns if c.type == "text" and c.nullable}


def test_every_rule_has_a_severity_and_a_chinese_reason():
    pol = policy()
    for name in templates():
        for rule in rules_for(name):
            assert pol.severity(rule.rule) in SEVERITIES
            reason = rule.reason(pol)
            assert reason and any("\u4e00" <= ch <= "\u9fff" for ch in reason), rule.key


def test_type_and_range_rules_reject_rows():
    """Rows that pass reject_row rules are cast into typed raw columns: these rules must not be warn."""
    pol = policy()
    for rule in ("type_int", "type_number", "type_year", "type_date", "type_bool", "value_set", "range",
                 "range_min", "range_max", "pattern", "not_null"):
        assert pol.severity(rule) != "warn", rule


def _comparable(expectations: list[dict]) -> list[tuple]:
    return [(e["type"], json.dumps(e["kwargs"], sort_keys=True), json.dumps(e["meta"], sort_keys=True))
            for e in expectations]


@pytest.mark.parametrize("name", sorted(templates()))
def test_suite_json_in_expectations_is_current(name):
    """expectations/expectations/<template>.json is what the code builds (run write_suites after a change)."""
    stored = json.loads((SUITES / f"{name}.json").read_text(encoding="utf-8"))
    suite, _ = build_suite(name)
    built = [e.configuration.to_json_dict() for e in suite.expectations]
    assert _comparable(stored["expectations"]) == _comparable(built)
