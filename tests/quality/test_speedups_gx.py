"""The GX speed-ups (lowincome.speedups.gx_validation) change how fast GX validates, never what it finds.

The tests of the speed-ups' own machinery are skipped when the process runs with them off
(LOWINCOME_SPEEDUPS=0, as CI's PostgreSQL 15 run does); the comparisons with GX as shipped run either way.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from quality_rows import COUNTY, OTHER_COUNTY, YEAR, columns_of, good_row

import lowincome.quality.validation as validation
from lowincome import speedups
from lowincome.quality import validate_load_table
from lowincome.quality.context import gx, runner
from lowincome.quality.suites import build_suite
from lowincome.speedups.gx_validation import memoised_configurations
from lowincome.templates import template, templates

speedups_on = pytest.mark.skipif(not speedups.enabled(), reason="the speed-ups are off (LOWINCOME_SPEEDUPS=0)")


def _expectation():
    return gx().expectations.ExpectColumnValuesToNotBeNull(column="county_code", meta={"n": 1})


@speedups_on
def test_inside_the_block_a_configuration_is_built_once_and_outside_every_time():
    expectation = _expectation()
    assert expectation.configuration is not expectation.configuration  # GX as shipped
    with memoised_configurations():
        first = expectation.configuration
        assert expectation.configuration is first
        expectation.column = "year"  # an assignment drops the memo
        assert expectation.configuration is not first and expectation.configuration.kwargs["column"] == "year"
    assert expectation.configuration is not expectation.configuration


@speedups_on
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


def _validate(cfg, table: str, template_name: str, county: str = COUNTY) -> dict:
    outcome = validate_load_table(cfg, load_table=table, template=template_name, county_code=county, year=YEAR,
                                  columns=columns_of(template_name), explanation=None)
    return dataclasses.asdict(outcome)


def _failed(result: dict) -> set[tuple[str, str | None]]:
    return {(r["expectation"], r["column"]) for r in result["results"] if not r["success"]}


@pytest.mark.parametrize("template_name", sorted(templates()))
def test_every_suite_finds_the_same_with_and_without_the_speedups(cfg, load_table, template_name, monkeypatch):
    table = load_table(template_name, _messy_rows(template_name))
    with_memo = _validate(cfg, table, template_name)
    # GX as shipped: an asset of its own for the table (added and removed), no memo
    monkeypatch.setenv(speedups.SWITCH, "0")
    monkeypatch.setattr(validation, "memoised_configurations", contextlib.nullcontext)
    without = _validate(cfg, table, template_name)
    assert not any(asset.name.endswith(table) for asset in runner(cfg).datasource.assets)
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


@speedups_on
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


# --- the plan memo: one asset per (thread, template), GX's plan reused, never what it computed -------

@pytest.mark.parametrize("template_name", ["households", "household_income"])
def test_files_validated_in_turn_each_get_their_own_findings(cfg, load_table, template_name, monkeypatch):
    """Same thread, same template, same batch id: messy, clean, messy again, each as GX finds it alone."""
    messy = load_table(template_name, _messy_rows(template_name))
    clean = load_table(template_name, [good_row(template_name, n) for n in (1, 2, 3)])
    in_turn = [_validate(cfg, table, template_name) for table in (messy, clean, messy, clean)]
    monkeypatch.setattr(validation, "memoised_configurations", contextlib.nullcontext)
    alone = [_validate(cfg, table, template_name) for table in (messy, clean)]
    assert in_turn == alone + alone
    assert _failed(in_turn[0]) - _failed(in_turn[1])
    assert in_turn[1]["rows_checked"] == 3 and in_turn[0]["rows_checked"] == 5


@speedups_on
def test_the_plan_is_reused_from_file_to_file_and_keyed_by_the_batch(cfg, load_table, monkeypatch):
    from lowincome.speedups import gx_validation as memo

    monkeypatch.setattr(memo, "_plans", {})
    first = load_table("households", [good_row("households", 1)])
    second = load_table("households", [good_row("households", 2), good_row("households", 3)])
    _validate(cfg, first, "households")
    planned = dict(memo._plans)
    _validate(cfg, second, "households")
    assert memo._plans.keys() == planned.keys(), "a second file of the same county and year plans nothing new"
    assert all(memo._plans[key] is planned[key] for key in planned)
    dependencies = [key for key in planned if key[0] == "dependencies"]
    assert len(dependencies) >= len(build_suite("households")[0].expectations)
    assert all('"batch_id": "warehouse-households-' in key[3] for key in dependencies)
    # another county: the rules that carry the file's county are planned again, the others are not
    _validate(cfg, second, "households", county=OTHER_COUNTY)
    new = memo._plans.keys() - planned.keys()
    assert new and all(OTHER_COUNTY in key[3] for key in new if key[0] == "dependencies")


def test_threads_validate_different_files_of_one_template_at_once(cfg, load_table):
    """Each thread has its own asset (its own batch id), so neither reads the other's table."""
    messy = load_table("households", _messy_rows("households"))
    clean = load_table("households", [good_row("households", n) for n in (1, 2, 3)])
    expected = {messy: _validate(cfg, messy, "households"), clean: _validate(cfg, clean, "households")}
    found: dict[str, list[dict]] = {messy: [], clean: []}
    start = threading.Barrier(2)

    def work(table: str) -> None:
        start.wait()
        for _ in range(3):
            found[table].append(_validate(cfg, table, "households"))

    threads = [threading.Thread(target=work, args=(table,)) for table in (messy, clean)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert found == {table: [expected[table]] * 3 for table in expected}


def test_outside_a_validation_gx_plans_as_shipped():
    from great_expectations.validator.validator import ValidationDependencies

    from lowincome.speedups import gx_validation as memo

    gx()
    expectation = _expectation()
    before = len(memo._plans)
    dependencies = expectation.get_validation_dependencies(runtime_configuration={})
    assert isinstance(dependencies, ValidationDependencies) and len(memo._plans) == before


@speedups_on
def test_the_engine_keeps_no_metric_values_between_files(cfg, load_table):
    table = load_table("households", [good_row("households", 1)])
    _validate(cfg, table, "households")
    engine = runner(cfg).datasource.execution_engine
    assert engine._caching is False and not isinstance(engine._metric_cache, dict)


def test_validation_reads_through_a_read_only_transaction(cfg, load_table):
    import psycopg

    table = load_table("households", [good_row("households", 1)])
    with validation._connect(cfg) as conn:
        assert conn.execute(f"select count(*) from {table}").fetchone()[0] == 1
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute(f"delete from {table}")
    with validation._connect(cfg) as conn:  # the pool rolled the failed transaction back
        assert conn.execute(f"select count(*) from {table}").fetchone()[0] == 1


@pytest.mark.parametrize("template_name", sorted(templates()))
def test_a_stored_result_is_the_text_gx_s_store_writes(cfg, load_table, template_name, monkeypatch):
    """results.serialized skips the store's second marshmallow pass; the text must not change."""
    from lowincome.quality import results
    from lowincome.quality.context import project_context

    written: list[tuple[object, str]] = []
    shipped = results.serialized
    monkeypatch.setattr(results, "serialized", lambda value: written.append((value, shipped(value))) or written[-1][1])
    for rows in (_messy_rows(template_name), [good_row(template_name, 1)]):
        _validate(cfg, load_table(template_name, rows), template_name)
    store = project_context(cfg).validation_results_store
    assert len(written) == 2
    for value, text in written:
        assert text == store.serialize(value)
    assert any(not result.success for result in written[0][0].results)
