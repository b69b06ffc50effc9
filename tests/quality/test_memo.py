"""The configuration memo (lowincome.quality.memo) changes how fast GX validates, never what it finds."""

from __future__ import annotations

import contextlib
import dataclasses
import threading

import pytest
from conftest import COUNTY, YEAR, columns_of, good_row
from hypothesis import given, settings
from hypothesis import strategies as st

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


def _id_values():
    import datetime as dt
    import enum
    import math

    class Colour(enum.Enum):
        RED = "red"

    scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8),
                        st.floats(allow_nan=True, allow_infinity=False),
                        st.sampled_from([math.nan, dt.date(2014, 1, 2), Colour.RED, b"x"]))
    nested = st.recursive(scalars, lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(st.one_of(st.text(max_size=4), st.integers()), inner, max_size=3)), max_leaves=8)
    return st.dictionaries(st.text(min_size=1, max_size=6), nested, min_size=0, max_size=5)


@settings(max_examples=400, deadline=None)
@given(values=_id_values())
def test_metric_ids_are_gx_ids(values):
    """The plain-JSON id is GX's own id for every value (NaN, dates, enums, bytes, int keys take GX's path)."""
    from great_expectations.core.id_dict import IDDict

    gx()  # installs the memo and the id
    assert hasattr(IDDict.to_id, "shipped")
    kwargs = IDDict(values)
    assert kwargs.to_id() == IDDict.to_id.shipped(kwargs)
    if len(values) > 1:
        nested = IDDict({"outer": IDDict(values), "n": 1})
        assert nested.to_id() == IDDict.to_id.shipped(nested)
