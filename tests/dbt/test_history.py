"""History: the yearly type-2 dimension, the lifecycle trail, backfills, and corrections across vintages."""

from __future__ import annotations

import pytest
import raw_fixture
from fixtures.dbt_selection import WAREHOUSE_ONLY
from raw_fixture import QUJIANG, load_submission, register_rows

from lowincome.pseudonym import keyed_hash

pytestmark = pytest.mark.slow


def household(code: str) -> str:
    return keyed_hash(raw_fixture.KEY, QUJIANG, code)


def versions(warehouse, code: str) -> list[tuple]:
    with warehouse.connect() as conn:
        return conn.execute(
            "select valid_from_year, valid_to_year, is_current, status, household_size from warehouse.dim_household"
            " where household_key = %s order by valid_from_year", (household(code),)).fetchall()


def trail(warehouse, code: str) -> list[tuple]:
    with warehouse.connect() as conn:
        return conn.execute(
            "select year, previous_status, status, change_type from warehouse.fct_household_status_change"
            " where household_key = %s order by year", (household(code),)).fetchall()


def test_scd2_across_exit_and_re_entry(built_warehouse):
    # H002: 在册 2012, 退出 2013, absent 2014, 新增 2015
    assert versions(built_warehouse, "H002") == [
        (2012, 2012, False, "在册", 4), (2013, 2013, False, "退出", 4), (2015, None, True, "新增", 4)]
    assert trail(built_warehouse, "H002") == [
        (2012, None, "在册", "entered"), (2013, "在册", "退出", "removed"), (2015, "退出", "新增", "re_entered")]


def test_scd2_lifted_out_returned_and_changed(built_warehouse):
    assert versions(built_warehouse, "H001") == [(2012, 2013, False, "在册", 4), (2014, None, True, "脱贫", 4)]
    assert [t[3] for t in trail(built_warehouse, "H004")] == ["entered", "lifted_out", "returned_to_poverty",
                                                              "unchanged"]
    assert versions(built_warehouse, "H005") == [(2012, 2013, False, "在册", 4), (2014, None, True, "在册", 5)]
    assert versions(built_warehouse, "H006") == [(2012, None, True, "在册", 4)]
    assert trail(built_warehouse, "H003")[0] == (2013, None, "新增", "entered")


def test_a_year_loaded_late_gives_the_same_history(new_warehouse, built_warehouse):
    warehouse = new_warehouse()
    with warehouse.connect() as conn:
        for year in (2013, 2014, 2015):
            raw_fixture.load_year(conn, year)
    warehouse.dbt("build", *WAREHOUSE_ONLY)
    assert trail(warehouse, "H001")[0] == (2013, None, "在册", "entered")

    with warehouse.connect() as conn:
        raw_fixture.load_year(conn, 2012)          # the backfill
    warehouse.dbt("build", *WAREHOUSE_ONLY)        # incremental

    assert warehouse.rows("warehouse.dim_household") == built_warehouse.rows("warehouse.dim_household")
    lineage = ("submission_id", "vintage")
    assert (warehouse.rows("warehouse.fct_household_status_change", exclude=lineage)
            == built_warehouse.rows("warehouse.fct_household_status_change", exclude=lineage))


def test_snapshot_records_a_resubmissions_correction(new_warehouse):
    warehouse = new_warehouse()
    with warehouse.connect() as conn:
        first = load_submission(conn, "households", QUJIANG, 2014, register_rows(QUJIANG, 2014))
    warehouse.dbt("build", "--select", "+snp_household_register")

    with warehouse.connect() as conn:
        # the same file again changes nothing; then a correction: H005 has 6 members, not 5
        load_submission(conn, "households", QUJIANG, 2014, register_rows(QUJIANG, 2014))
    warehouse.dbt("snapshot")
    with warehouse.connect() as conn:
        corrected = load_submission(conn, "households", QUJIANG, 2014,
                                    register_rows(QUJIANG, 2014, overrides={"H005": {"household_size": 6}}))
        vintages = dict(conn.execute("select id, received_at from ops.submissions where id in (%s, %s)",
                                     (first, corrected)).fetchall())
    warehouse.dbt("snapshot")

    with warehouse.connect() as conn:
        h005 = conn.execute(
            "select household_size, submission_id, dbt_valid_from, dbt_valid_to from snapshots.snp_household_register"
            " where household_key = %s and year = 2014 order by dbt_valid_from", (household("H005"),)).fetchall()
        others = conn.execute(
            "select count(*), count(distinct household_key) from snapshots.snp_household_register"
            " where household_key <> %s", (household("H005"),)).fetchone()
    assert h005 == [(5, first, vintages[first], vintages[corrected]), (6, corrected, vintages[corrected], None)]
    assert others[0] == others[1]       # unchanged households keep one version
