"""The build_warehouse DAG, run for real through dag.test() on a warehouse of its own."""

from __future__ import annotations

import psycopg
import pytest
import raw_fixture

from lowincome import speedups

pytestmark = pytest.mark.slow


def test_dag_is_one_task_per_node_scheduled_on_the_raw_asset(cfg):
    from lowincome.assets import RAW, WAREHOUSE
    from lowincome.pipeline import load_dags

    dag = load_dags(cfg)["build_warehouse"]
    assert [asset.uri for asset in dag.timetable.asset_condition.objects] == [RAW.uri]
    ids = {t.task_id for t in dag.tasks}
    assert {"dbt.fct_household_income_model_build", "dbt.dim_household_model_build",
            "dbt.snp_household_register_snapshot_build", "dbt.counties_seed_build", "grant_readers"} <= ids
    assert not any(".geography" in i or "target_attainment" in i for i in ids)     # marts: publish DAG
    assert not any("relationships_" in i for i in ids)          # tests of two relations: cross_model_tests
    assert dag.get_task("cross_model_tests").upstream_task_ids >= {"dbt.dim_household_model_build",
                                                                   "dbt.fct_household_income_model_build",
                                                                   "build_together"}
    # the branch decides between the node tasks and building a small plan together
    assert dag.get_task("skip_unplanned").downstream_task_ids >= {"build_together", "dbt.counties_seed_build"}
    assert all(getattr(t, "indirect_selection", "cautious") == "cautious" for t in dag.tasks)
    snapshot = dag.get_task("dbt.snp_household_register_snapshot_build")
    assert "dbt.int_households_filtered_to_current_model_build" in snapshot.upstream_task_ids
    assert [o.uri for o in dag.get_task("grant_readers").outlets] == [WAREHOUSE.uri]
    assert all(t.retries >= 1 and t.owner == "data-engineering" for t in dag.tasks)


def _states(run) -> dict[str, str]:
    return {ti.task_id: str(getattr(ti.state, "value", ti.state)) for ti in run.get_task_instances()}


def _tries(run) -> dict[str, int]:
    return {ti.task_id: ti.try_number for ti in run.get_task_instances()}


@pytest.mark.skipif(not speedups.enabled(), reason="tests scoped to a build's counties are a speed-up: off with LOWINCOME_SPEEDUPS=0")
def test_dag_runs_green_then_only_what_a_correction_touches(empty_warehouse, run_dag, monkeypatch):
    import lowincome.transform.plan as planning

    with psycopg.connect(empty_warehouse.warehouse_url(), autocommit=True) as conn:
        raw_fixture.load_demo(conn, years=(2012, 2013))
    run = run_dag("build_warehouse")
    assert str(getattr(run.state, "value", run.state)) == "success"
    with psycopg.connect(empty_warehouse.warehouse_url(), autocommit=True) as conn:
        households = conn.execute("select count(distinct household_key) from warehouse.dim_household").fetchone()[0]
        snapshot_rows = conn.execute("select count(*) from snapshots.snp_household_register").fetchone()[0]
    assert households == len(raw_fixture.LIFECYCLES) + len(raw_fixture.XIAOSHAN_HOUSEHOLDS)
    assert snapshot_rows > 0
    first = _states(run)
    assert first.pop("build_together") == "skipped" and all(state == "success" for state in first.values())

    # one county corrects its 2013 income file: the next build runs the nodes that read it, skips the rest;
    # first in a task per node (as a plan bigger than TOGETHER_LIMIT is run)
    limit = planning.TOGETHER_LIMIT
    monkeypatch.setattr(planning, "TOGETHER_LIMIT", 0)
    with psycopg.connect(empty_warehouse.warehouse_url(), autocommit=True) as conn:
        raw_fixture.load_submission(conn, "household_income", raw_fixture.QUJIANG, 2013,
                                    raw_fixture.income_rows(raw_fixture.QUJIANG, 2013, scale=2))
        # a Xiaoshan row the build does not bring: its tests must not read it (LOWINCOME_TEST_COUNTIES
        # reached dbt in the task), or not_null on the staged incomes fails the run
        conn.execute("update raw.household_income set household_key = null where ctid = (select ctid from "
                     "raw.household_income where county_code = %s limit 1)", (raw_fixture.XIAOSHAN,))
    second = run_dag("build_warehouse")
    states = _states(second)
    ran = {t for t, state in states.items() if state == "success"}
    assert {"plan_build", "dbt.stg_raw__household_income_model_build", "dbt.stg_ops__submissions_model_build",
            "dbt.int_submissions_filtered_to_current_model_build",
            "dbt.int_household_income_filtered_to_current_model_build",
            "dbt.fct_household_income_model_build", "cross_model_tests", "record_build", "grant_readers"} <= ran
    assert {states[t] for t in ("dbt.dim_village_model_build", "dbt.fct_relocation_model_build",
                                "dbt.snp_household_register_snapshot_build", "dbt.counties_seed_build")} == {"skipped"}
    # the other templates' current rows are views on the current submissions: created again after them
    assert "dbt.int_villages_filtered_to_current_model_build" in ran
    assert set(states.values()) == {"success", "skipped"} and len(ran) < len(states) / 2
    assert states["build_together"] == "skipped"
    # the nodes left out were never started (no try): the branch marked them skipped; except, as
    # Airflow's branching does, those downstream of a node that runs, which skip themselves
    from lowincome.config import settings
    from lowincome.pipeline import load_dags

    dag = load_dags(settings())["build_warehouse"]
    tries = _tries(second)
    skipped = {t for t, state in states.items() if state == "skipped"}
    started = {t for t in skipped if tries[t]}
    assert all(dag.get_task(t).get_flat_relative_ids(upstream=True) & (ran - {"plan_build", "skip_unplanned"})
               for t in started), started
    assert len(started) < len(skipped) / 2 and all(tries[t] >= 1 for t in ran)
    with psycopg.connect(empty_warehouse.warehouse_url(), autocommit=True) as conn:
        builds = conn.execute("select scope, test_counties, finished_at is not null from ops.warehouse_builds "
                              "order by id").fetchall()
        wage = conn.execute("select sum(wage_income) from warehouse.fct_household_income "
                            "where county_code = %s and year = 2013", (raw_fixture.QUJIANG,)).fetchone()[0]
    assert builds == [("all", "*", True), ("changes", raw_fixture.QUJIANG, True)]   # tests read Qujiang's rows
    expected = sum(r["wage_income"] for r in raw_fixture.income_rows(raw_fixture.QUJIANG, 2013, scale=2))
    assert wage == expected

    # corrected again: a plan of three models is built together, in one dbt run; no node task starts
    monkeypatch.setattr(planning, "TOGETHER_LIMIT", limit)
    with psycopg.connect(empty_warehouse.warehouse_url(), autocommit=True) as conn:
        raw_fixture.load_submission(conn, "household_income", raw_fixture.QUJIANG, 2013,
                                    raw_fixture.income_rows(raw_fixture.QUJIANG, 2013, scale=3))
    third = run_dag("build_warehouse")
    states, tries = _states(third), _tries(third)
    ran = {t for t, state in states.items() if state == "success"}
    assert ran == {"plan_build", "skip_unplanned", "build_together", "cross_model_tests", "record_build",
                   "grant_readers"}
    nodes = {t for t in states if t.startswith("dbt.")}
    assert {states[t] for t in nodes} == {"skipped"} and not any(tries[t] for t in nodes)
    with psycopg.connect(empty_warehouse.warehouse_url(), autocommit=True) as conn:
        last = conn.execute("select scope, test_counties, finished_at is not null, reason from ops.warehouse_builds "
                            "order by id desc limit 1").fetchone()
        wage = conn.execute("select sum(wage_income) from warehouse.fct_household_income "
                            "where county_code = %s and year = 2013", (raw_fixture.QUJIANG,)).fetchone()[0]
    assert last[:3] == ("changes", raw_fixture.QUJIANG, True) and "built together" in last[3]
    assert wage == sum(r["wage_income"] for r in raw_fixture.income_rows(raw_fixture.QUJIANG, 2013, scale=3))
    # the Xiaoshan row broken above is still there: the together build's tests read Qujiang's rows only
