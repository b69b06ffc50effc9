"""Incremental facts: a night with resubmissions touches only their county-years, and the result equals
a full refresh, table by table, row by row."""

from __future__ import annotations

import re

import pytest
import raw_fixture
from fixtures.dbt_selection import WAREHOUSE_ONLY
from raw_fixture import QUJIANG, XIAOSHAN, income_rows, load_submission, register_rows

from lowincome import speedups
from lowincome.transform.project import run_dir

pytestmark = pytest.mark.slow

INCREMENTAL_FACTS = ("fct_household_income", "fct_relocation", "fct_program_participation",
                     "fct_village_economy", "fct_household_status_change")


def _row_versions(warehouse, table: str) -> dict[tuple, str]:
    """(county_code, year, row) -> xmin: a row rewritten by a run gets a new xmin."""
    with warehouse.connect() as conn:
        rows = conn.execute(f"select county_code, year, t::text, xmin::text from warehouse.{table} t").fetchall()
    return {(c, y, r): x for c, y, r, x in rows}


def _touched_county_years(before: dict, after: dict) -> set[tuple[str, int]]:
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    return {(c, y) for c, y, _ in changed}


def test_incremental_run_equals_full_refresh_and_touches_only_resubmitted_county_years(new_warehouse):
    warehouse = new_warehouse()
    with warehouse.connect() as conn:
        raw_fixture.load_demo(conn, years=(2012, 2013, 2014))
    warehouse.dbt("build", *WAREHOUSE_ONLY)
    before = {t: _row_versions(warehouse, t) for t in INCREMENTAL_FACTS}

    with warehouse.connect() as conn:
        # 衢江 corrects its 2014 income file, one household fewer
        load_submission(conn, "household_income", QUJIANG, 2014, income_rows(QUJIANG, 2014, scale=1.1)[:-1])
        # 萧山 corrects its 2013 register: X02 was lifted out (so 2014 becomes a return to poverty)
        load_submission(conn, "households", XIAOSHAN, 2013,
                        register_rows(XIAOSHAN, 2013, overrides={"X02": {"status": "脱贫"}}))
        # 衢江 resubmits its 2013 relocations and every row is rejected: nothing of 2013 remains
        load_submission(conn, "relocations", QUJIANG, 2013, [])
    results = warehouse.dbt("build", *WAREHOUSE_ONLY)
    assert all(r["status"] in ("success", "pass", "no-op") for r in results["results"])
    after = {t: _row_versions(warehouse, t) for t in INCREMENTAL_FACTS}
    # dbt's delete+insert, the new rows analyzed first (macros/speedups/delete_insert.sql): the delete finds the
    # rebuilt county-years through the index instead of reading every row of the fact
    executed = (run_dir(warehouse.cfg) / "target" / "run" / "lowincome" / "models" / "warehouse"
                / "fct_household_income.sql").read_text()
    analyzed = re.match(r'\s*analyze "fct_household_income__dbt_tmp\d+";\s*delete from ', executed)
    assert bool(analyzed) == speedups.enabled(), executed[:300]

    assert _touched_county_years(before["fct_household_income"], after["fct_household_income"]) == {
        (QUJIANG, 2014), (XIAOSHAN, 2013)}
    assert _touched_county_years(before["fct_relocation"], after["fct_relocation"]) == {(QUJIANG, 2013)}
    assert _touched_county_years(before["fct_program_participation"], after["fct_program_participation"]) == set()
    assert _touched_county_years(before["fct_village_economy"], after["fct_village_economy"]) == set()
    assert _touched_county_years(before["fct_household_status_change"], after["fct_household_status_change"]) == {
        (XIAOSHAN, 2013), (XIAOSHAN, 2014)}

    # then a new year arrives
    with warehouse.connect() as conn:
        raw_fixture.load_year(conn, 2015)
    warehouse.dbt("build", *WAREHOUSE_ONLY)

    incremental = {t: warehouse.rows(t) for t in warehouse.tables("warehouse")}
    warehouse.dbt("build", "--full-refresh", *WAREHOUSE_ONLY)
    refreshed = {t: warehouse.rows(t) for t in warehouse.tables("warehouse")}
    assert incremental.keys() == refreshed.keys()
    for table in incremental:
        assert incremental[table] == refreshed[table], f"{table}: incremental differs from a full refresh"
    assert not any(r for r in refreshed["warehouse.fct_relocation"] if QUJIANG in r and 2013 in r)


def test_a_second_run_with_nothing_new_changes_nothing(built_warehouse):
    before = {t: _row_versions(built_warehouse, t) for t in INCREMENTAL_FACTS}
    built_warehouse.dbt("run", "--select", *INCREMENTAL_FACTS)
    after = {t: _row_versions(built_warehouse, t) for t in INCREMENTAL_FACTS}
    assert before == after


def test_a_county_year_built_from_two_sources_fails_its_test(built_warehouse):
    """The incremental steps read what a county-year was built from off its first row
    (macros/incremental_vintages.sql, macros/county_partials.sql); one_source_per_county_year guards it."""
    from lowincome.errors import UserError

    select = ["test", "--select", "fct_household_income,test_name:one_source_per_county_year"]
    built_warehouse.dbt(*select)
    with built_warehouse.connect() as conn:
        key, register = conn.execute(
            "select income_key, register_submission_id from warehouse.fct_household_income "
            "where register_submission_id is not null order by income_key limit 1").fetchone()
        conn.execute("update warehouse.fct_household_income set register_submission_id = null where income_key = %s",
                     (key,))
    try:
        with pytest.raises(UserError, match="one_source_per_county_year"):
            built_warehouse.dbt(*select)
    finally:
        with built_warehouse.connect() as conn:
            conn.execute("update warehouse.fct_household_income set register_submission_id = %s where income_key = %s",
                         (register, key))


@pytest.mark.skipif(not speedups.enabled(), reason="a speed-up: off with LOWINCOME_SPEEDUPS=0")
def test_an_incremental_run_rewrites_only_the_comments_that_differ(built_warehouse):
    """macros/speedups/persist_docs.sql: the fact's unchanged comments are not written again (COMMENT waits for
    autovacuum's lock); a changed or missing one is written, as dbt's own macro would."""
    def comments(conn) -> dict[int, tuple[str, str]]:
        return {sub: (text, xmin) for sub, text, xmin in conn.execute(
            "select objsubid, description, xmin::text from pg_description where classoid = 'pg_class'::regclass"
            " and objoid = 'warehouse.fct_household_income'::regclass").fetchall()}

    with built_warehouse.connect() as conn:
        before = comments(conn)
        position = {name: num for name, num in conn.execute(
            "select attname, attnum from pg_attribute where attrelid = 'warehouse.fct_household_income'::regclass"
            " and attnum > 0").fetchall()}
        conn.execute("comment on column warehouse.fct_household_income.net_income is null")
        conn.execute("comment on column warehouse.fct_household_income.year is 'stale'")
    built_warehouse.dbt("run", "--select", "fct_household_income")
    with built_warehouse.connect() as conn:
        after = comments(conn)
    assert {sub: text for sub, (text, _) in after.items()} == {sub: text for sub, (text, _) in before.items()}
    rewritten = {sub for sub in before if before[sub][1] != after[sub][1]}
    assert rewritten == {position["net_income"], position["year"]}
    assert 0 in before  # the table's own comment, unchanged and not rewritten
