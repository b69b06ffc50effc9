"""`dbt build` of the whole project on the fixture: every model builds and every data test passes."""

from __future__ import annotations

import pytest
import raw_fixture

from lowincome import speedups
from lowincome.pseudonym import keyed_hash

pytestmark = pytest.mark.slow

WAREHOUSE_MODELS = {
    "dim_county", "dim_year", "dim_program", "dim_village", "dim_household", "fct_household_income",
    "fct_relocation", "fct_program_participation", "fct_village_economy", "fct_county_indicator",
    "fct_province_indicator", "fct_household_status_change", "fct_project_fund",
}


def test_build_passes_every_test(built_warehouse):
    results = built_warehouse.results["results"]
    failed = [(r["unique_id"], r["status"], r["message"]) for r in results
              if r["status"] not in ("success", "pass", "no-op")]      # exposures are no-ops
    assert failed == []
    assert sum(r["unique_id"].startswith("test.") for r in results) > 100


def test_warehouse_holds_exactly_the_contract_models(built_warehouse):
    assert {t.split(".")[1] for t in built_warehouse.tables("warehouse")} == WAREHOUSE_MODELS


def test_staging_keeps_only_the_current_vintage(built_warehouse):
    """衢江 sent its 2013 income twice; only the corrected (second) file counts."""
    with built_warehouse.connect() as conn:
        current = conn.execute(
            "select id from ops.submissions where county_code = %s and template = 'household_income'"
            " and year = 2013 and status = 'loaded'", (raw_fixture.QUJIANG,)).fetchone()[0]
        used = conn.execute(
            "select distinct submission_id, sum(net_income) over () from warehouse.fct_household_income"
            " where county_code = %s and year = 2013", (raw_fixture.QUJIANG,)).fetchall()
    expected = sum(r["net_income"] for r in raw_fixture.income_rows(raw_fixture.QUJIANG, 2013))
    assert [(u[0], float(u[1])) for u in used] == [(current, expected)]


def test_income_carries_the_status_of_its_years_register(built_warehouse):
    key = keyed_hash(raw_fixture.KEY, raw_fixture.QUJIANG, "H004")
    with built_warehouse.connect() as conn:
        rows = conn.execute(
            "select year, status, is_monitored, real_edu_med_spending from warehouse.fct_household_income"
            " where household_key = %s order by year", (key,)).fetchall()
    assert [(y, s, m) for y, s, m, _ in rows] == [(2012, "在册", True), (2013, "脱贫", True),
                                                  (2014, "在册", True), (2015, "在册", True)]
    assert {float(r[3]) for r in rows} == {1500 + 2500 - 300 - 700}


def test_household_keys_are_the_loaders_keyed_hashes(built_warehouse):
    """Stable: the warehouse key is the HMAC the loader wrote; another key gives other identifiers."""
    with built_warehouse.connect() as conn:
        keys = {r[0] for r in conn.execute("select household_key from warehouse.dim_household")}
    expected = keyed_hash(raw_fixture.KEY, raw_fixture.QUJIANG, "H001")
    assert expected in keys
    assert keyed_hash("another-key", raw_fixture.QUJIANG, "H001") not in keys


def test_every_relation_and_column_has_a_postgres_comment(built_warehouse):
    with built_warehouse.connect() as conn:
        missing = conn.execute(
            """
            select c.table_schema || '.' || c.table_name || '.' || c.column_name
            from information_schema.columns c
            join pg_class k on k.relname = c.table_name
            join pg_namespace n on n.oid = k.relnamespace and n.nspname = c.table_schema
            where c.table_schema in ('staging', 'warehouse', 'snapshots')
              and coalesce(col_description(k.oid, c.ordinal_position), '') = ''
            """).fetchall()
        uncommented = conn.execute(
            """
            select n.nspname || '.' || k.relname from pg_class k join pg_namespace n on n.oid = k.relnamespace
            where n.nspname in ('staging', 'warehouse', 'snapshots') and k.relkind in ('r', 'v')
              and coalesce(obj_description(k.oid), '') = ''
            """).fetchall()
    assert missing == []
    assert uncommented == []


def test_readers_see_what_their_role_allows_after_a_build(built_warehouse):
    from lowincome.warehouse import reapply_grants

    with built_warehouse.connect() as conn:
        reapply_grants(conn)
        roles = {r[0] for r in conn.execute("select rolname from pg_roles where rolname like 'lowincome_%'")}
        if not {"lowincome_bi", "lowincome_analyst"} <= roles:
            pytest.skip("the server refused to create the reader roles")

        def can_read(role: str, relation: str) -> bool:
            return conn.execute("select has_table_privilege(%s, %s, 'select')", (role, relation)).fetchone()[0]

        assert can_read("lowincome_analyst", "warehouse.fct_household_income")
        assert not can_read("lowincome_bi", "warehouse.fct_household_income")
        assert not can_read("lowincome_bi", "staging.stg_raw__households")
        assert not can_read("lowincome_analyst", "staging.stg_raw__households")


@pytest.mark.parametrize("in_process", [False, True], ids=["child process", "in process"])
def test_a_failing_test_is_reported_in_one_line(new_warehouse, monkeypatch, in_process):
    """Two rows of one household in one register: the build stops with one line naming the failed test,
    whether dbt ran as a child process or in this one (as the DAGs' tasks run it); an in-process run
    leaves this process's environment and working directory as it found them."""
    import os

    from lowincome.errors import UserError
    from lowincome.transform import run_dbt
    from lowincome.transform.project import TEST_COUNTIES_ENV, run_dir

    warehouse = new_warehouse()
    rows = raw_fixture.register_rows(raw_fixture.QUJIANG, 2014)
    with warehouse.connect() as conn:
        raw_fixture.load_submission(conn, "households", raw_fixture.QUJIANG, 2014, rows + rows[:1])
    # the caller's own run variable never reaches dbt (it would scope the tests to no county and pass)
    monkeypatch.setenv(TEST_COUNTIES_ENV, "999999")
    environment, cwd = dict(os.environ), os.getcwd()
    with pytest.raises(UserError) as failure:
        run_dbt(warehouse.cfg, ["build", "--select", "stg_raw__households"], in_process=in_process)
    assert dict(os.environ) == environment and os.getcwd() == cwd
    message = str(failure.value)
    assert "\n" not in message
    assert "unique_combination_stg_raw__households" in message and "failed: " in message and "full log:" in message
    assert raw_fixture.NAMES["H001"] not in message
    if not speedups.enabled():
        return   # tests scoped to a build's counties are a speed-up (macros/speedups/test_scope.sql)
    # the same scope given to the run: the county's rows are not tested, the build passes
    results = run_dir(warehouse.cfg) / "target" / "run_results.json"
    results.unlink(missing_ok=True)
    run_dbt(warehouse.cfg, ["build", "--select", "stg_raw__households"], env={TEST_COUNTIES_ENV: "999999"},
            in_process=in_process)
    assert dict(os.environ) == environment
    assert results.exists() is not in_process     # in process, dbt writes no JSON artifacts
    with warehouse.connect() as conn:
        assert conn.execute("select count(*) from staging.stg_raw__households").fetchone()[0] == len(rows) + 1
