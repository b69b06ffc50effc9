"""The configuration memo (lowincome.quality.memo) changes how fast GX validates, never what it finds."""

from __future__ import annotations

import contextlib
import dataclasses
import threading

import pytest
from conftest import COUNTY, YEAR, columns_of, good_row

import lowincome.quality.validation as validation
from lowincome.quality import validate_load_table
from lowincome.quality.context import gx
from lowincome.quality.memo import memoised_configurations
from lowincome.templates import template, templates


def _expectation():
    return gx().expectations.ExpectColumnValuesToNotBeNull(column="county_code", meta={"n": 1})


def test_inside_the_block_a_configuration_is_built_once_and_outside_every_time():
    expectation = _expectation()
    assert expectation.configuration is not expectation.configuration  # GX as shipped
    with memoised_configurations():
        first = expectation.configuration
        assert expectation.configuration is first
        expectation.column = "year"  # an assignment drops the memo
        assert expectation.configuration is not first and expectation.configuration.kwargs["column"] == "year"
    assert expectation.configuration is not expectation.configuration


def test_the_memo_belongs_to_the_thread_that_entered_the_block():
    expectation = _expectation()
    seen: list[bool] = []
    with memoised_configurations():
        assert expectation.configuration is expectation.configuration
        other = threading.Thread(target=lambda: seen.append(expectation.configuration is expectation.configuration))
        other.start()
        other.join()
    assert seen == [False]


def _messy_rows(template_name: str) -> list[dict[str, str | None]]:
    """Clean rows, a row with every column garbled, one with every number out of range, a duplicate."""
    numeric = {c.name for c in template(template_name).columns if c.type in ("int", "money", "number", "year")}
    garbled = {k: (v if k in ("county_code", "year") else "？x") for k, v in good_row(template_name, 2).items()}
    extreme = {k: ("-99999999" if k in numeric - {"year"} else v) for k, v in good_row(template_name, 3).items()}
    return [good_row(template_name, 1), garbled, extreme, good_row(template_name, 1), good_row(template_name, 4)]


@pytest.mark.parametrize("template_name", sorted(templates()))
def test_every_suite_finds_the_same_with_and_without_the_memo(cfg, load_table, template_name, monkeypatch):
    table = load_table(template_name, _messy_rows(template_name))

    def validate() -> dict:
        outcome = validate_load_table(cfg, load_table=table, template=template_name, county_code=COUNTY, year=YEAR,
                                      columns=columns_of(template_name), explanation=None)
        return dataclasses.asdict(outcome)

    with_memo = validate()
    monkeypatch.setattr(validation, "memoised_configurations", contextlib.nullcontext)
    without = validate()
    assert with_memo == without
    failed = {r["expectation"] for r in with_memo["results"] if not r["success"]}
    assert len(failed) >= 3, "the rows should break rules of several kinds"
