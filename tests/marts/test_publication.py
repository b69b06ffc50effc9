"""Observation status, the publication history, the revision log and "as published on" queries."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import psycopg
import pytest
from fixture_data import A
from marts_harness import FIRST_PUBLICATION, SECOND_PUBLICATION, load_fixture, query

from lowincome.publish import indicator_values_as_of, refresh_marts, target_attainment_as_of
from lowincome.transform import run_dbt

# every test here reads marts that dbt built for the fixture
pytestmark = pytest.mark.slow

AFTER_MAY = datetime.fromisoformat("2018-05-11T12:00:00+08:00")
RESUBMITTED = datetime.fromisoformat("2018-06-01T12:00:00+08:00")


def _t1(warehouse, geography: str = A, year: int = 2017) -> dict:
    return query(warehouse, """select * from marts.target_attainment
        where target_id = 'T1' and geography_code = %s and year = %s""", (geography, year))[0]


def test_status_history_revisions_and_as_of(fresh_warehouse):
    w = fresh_warehouse
    load_fixture(w)

    # 15 Feb 2018: the 2017 income files are due by 31 March -> provisional; 2016 is final
    refresh_marts(w, FIRST_PUBLICATION)
    assert _t1(w)["obs_status"] == "P"
    assert _t1(w, year=2016)["obs_status"] == "A"

    # 10 May 2018: every 2017 deadline has passed -> final, a new version with the reason
    refresh_marts(w, SECOND_PUBLICATION)
    assert _t1(w)["obs_status"] == "A"
    versions = query(w, "select count(*) as n from marts.target_attainment_history")[0]["n"]

    # publishing again with nothing new changes nothing
    refresh_marts(w, AFTER_MAY)
    assert query(w, "select count(*) as n from marts.target_attainment_history")[0]["n"] == versions

    # A resubmits its 2017 incomes (+1,200 yuan per monitored household, a later vintage): as the
    # warehouse build would leave it, every row of the county-year now comes from the new file
    with psycopg.connect(w.warehouse_url(), autocommit=True) as conn:
        conn.execute("""update warehouse.fct_household_income
            set net_income = net_income + case when is_monitored then 1200 else 0 end,
                per_capita_net_income = per_capita_net_income + case when is_monitored then 600 else 0 end,
                vintage = '2018-05-20 09:00+08', submission_id = 99
            where county_code = %s and year = 2017""", (A,))
    refresh_marts(w, RESUBMITTED)
    now = _t1(w)
    assert (now["value"], now["obs_status"], now["met"]) == (Decimal("10600"), "R", True)   # 127200 / 12
    t2 = query(w, """select value, met, obs_status from marts.target_attainment
        where target_id = 'T2' and geography_code = 'group29' and year = 2017""")[0]
    assert (t2["value"], t2["met"], t2["obs_status"]) == (Decimal("71.4"), True, "R")       # 15 / 21

    log = query(w, """select changed_at, previous_value, value, previous_met, met, obs_status, change_reason
        from marts.revision_log where subject = 'target' and subject_id = %s and geography_code = %s
        and year = 2017 order by changed_at""", ("T2", "group29"))
    assert [(r["previous_value"], r["value"], r["previous_met"], r["met"], r["change_reason"]) for r in log] == [
        (Decimal("66.7"), Decimal("66.7"), False, False, "final: the reporting deadline passed"),
        (Decimal("66.7"), Decimal("71.4"), False, True, "revised: new data received (a resubmission)"),
    ]
    assert log[1]["changed_at"] == RESUBMITTED

    # as published at a given time, in SQL and from Python
    with psycopg.connect(w.warehouse_url()) as conn:
        in_february = target_attainment_as_of(conn, datetime.fromisoformat("2018-02-20T00:00:00+08:00"), "T1")
        in_may = target_attainment_as_of(conn, datetime.fromisoformat("2018-05-20T00:00:00+08:00"), "T1")
        in_june = target_attainment_as_of(conn, datetime.fromisoformat("2018-06-02T00:00:00+08:00"), "T1")
        figures = indicator_values_as_of(conn, datetime.fromisoformat("2018-05-20T00:00:00+08:00"),
                                         "li_per_capita_net_income")
    pick = {"geography_code": A, "year": 2017}

    def one(rows):
        return next(r for r in rows if all(r[k] == v for k, v in pick.items()))
    assert (one(in_february)["value"], one(in_february)["obs_status"]) == (Decimal("10000"), "P")
    assert (one(in_may)["value"], one(in_may)["obs_status"]) == (Decimal("10000"), "A")
    assert (one(in_june)["value"], one(in_june)["obs_status"]) == (Decimal("10600"), "R")
    assert one(figures)["value"] == Decimal("10000")
    before_first = query(w, "select count(*) as n from marts.target_attainment_as_of('2018-01-01 00:00+08')")
    assert before_first[0]["n"] == 0

    # one open version per row, and the history survives a full refresh
    open_versions = query(w, """select count(*) as n from (select 1 from marts.target_attainment_history
        where valid_to is null group by plan, target_id, geography_level, geography_code, year
        having count(*) > 1) as doubled""")
    assert open_versions[0]["n"] == 0
    total = query(w, "select count(*) as n from marts.indicator_history")[0]["n"]
    run_dbt(w, ["run", "--select", "indicator_history", "target_attainment_history", "--full-refresh"])
    assert query(w, "select count(*) as n from marts.indicator_history")[0]["n"] == total


def test_once_revised_a_figure_stays_revised(published):
    """The shared warehouse was never resubmitted: nothing in it is 'R'."""
    assert query(published, "select count(*) as n from marts.target_attainment where obs_status = 'R'")[0]["n"] == 0


def test_a_mart_that_breaks_its_contract_is_not_published(fresh_warehouse):
    """The marts' keys and allowed values are constraints of their tables (PostgreSQL checks each row as
    the new table is filled, before it replaces the published one): a build that breaks one fails with a
    line naming the mart, and readers keep the last good publication, downstream marts included."""
    from lowincome.errors import UserError

    w = fresh_warehouse
    load_fixture(w)
    refresh_marts(w, FIRST_PUBLICATION)
    with psycopg.connect(w.warehouse_url(), autocommit=True) as conn:
        kinds = dict(conn.execute(
            "select c.relname, string_agg(distinct k.contype::text, '' order by k.contype::text) from pg_constraint k "
            "join pg_class c on c.oid = k.conrelid join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = 'marts' and k.contype <> 'n' group by c.relname").fetchall())
        published = conn.execute("select count(*) from marts.geography").fetchone()[0]
        attained = conn.execute("select count(*), count(*) filter (where obs_status = 'P') from marts.target_attainment").fetchone()
        # a county listed twice in the warehouse: the geography mart would list it twice
        conn.execute("insert into warehouse.dim_county select * from warehouse.dim_county where county_code = %s", (A,))
    assert kinds["target_attainment"] == "cp" and kinds["indicator_values"] == "cp"   # check, primary key
    assert kinds["geography"] == "cu" and kinds["plan_targets"] == "p"
    try:
        # geography and submission_completeness both list counties: whichever dbt's threads finish first
        # is named (on PostgreSQL 15 the latter, more often than not)
        with pytest.raises(UserError, match=r"dbt build failed: model\.lowincome\.(geography|submission_completeness) "
                                            r"error: .*duplicate key value"):
            refresh_marts(w, SECOND_PUBLICATION)
        with psycopg.connect(w.warehouse_url(), autocommit=True) as conn:
            assert conn.execute("select count(*) from marts.geography").fetchone()[0] == published
            assert conn.execute("select count(*), count(*) filter (where obs_status = 'P') from marts.target_attainment").fetchone() == attained
    finally:
        with psycopg.connect(w.warehouse_url(), autocommit=True) as conn:
            conn.execute("delete from warehouse.dim_county d where county_code = %s and ctid <> "
                         "(select min(ctid) from warehouse.dim_county where county_code = %s)", (A, A))
    assert attained[1] > 0      # the first publication's provisional figures: the second made them final
    refresh_marts(w, SECOND_PUBLICATION)
    assert query(w, "select count(*) filter (where obs_status = 'P') as n from marts.target_attainment")[0]["n"] < attained[1]


def test_the_plans_seeds_are_reloaded_only_when_the_warehouse_was_not_built_from_this_project(fresh_warehouse):
    """refresh_marts reloads targets and reporting_calendar unless the last finished warehouse build was of
    the project as it is (that build loaded them): a warehouse without a recorded build gets them back."""
    from lowincome.transform import ensure_manifest
    from lowincome.transform.plan import built_as_project, plan_build, record_build

    w = fresh_warehouse
    load_fixture(w)
    targets = "select count(*) as n from intermediate.targets"
    seeded = query(w, targets)[0]["n"]
    assert not built_as_project(w)
    with psycopg.connect(w.warehouse_url(), autocommit=True) as conn:
        conn.execute("delete from intermediate.targets where id = 'T1'")
    refresh_marts(w, FIRST_PUBLICATION)                 # no build on record: reloaded
    assert query(w, targets)[0]["n"] == seeded
    record_build(w, plan_build(w, ensure_manifest(w), scope="all", run_id="built elsewhere"))
    assert built_as_project(w)
    with psycopg.connect(w.warehouse_url(), autocommit=True) as conn:
        conn.execute("delete from intermediate.targets where id = 'T1'")
    refresh_marts(w, SECOND_PUBLICATION)                # built from this project: read as the build left them
    assert query(w, targets)[0]["n"] < seeded
    assert not query(w, "select 1 from marts.target_attainment where target_id = 'T1'")
