"""A first load of several years is planned on the real sizes (issue 22).

A first night of three years of the province took 31 minutes, 23 of them in fct_household_income: raw and
the ledger had no statistics yet (autovacuum had not come by), the current-submission filter
(``row_number() ... = 1``) was estimated at one row whatever the ledger held, and PostgreSQL joined the
income rows to the registers in nested loops, quadratic in the rows. Here a fresh warehouse is loaded
the way a first night loads it (with autovacuum off on the tables read, so that nothing analyses them
behind the test's back), and the staging build then finds statistics to plan with: its pre-hook analyses
the stale sources (macros/statistics.sql), the current submissions are estimated as the ledger's groups
(models/intermediate/submissions/int_submissions_filtered_to_current.sql), and the income fact's full
build runs no plan node once per row.
"""

from __future__ import annotations

import json

import pytest
import raw_fixture

from lowincome.transform.project import run_dir

pytestmark = pytest.mark.slow

COUNTIES = ("330803", "330109", "330324", "330522", "331021", "331181")
YEARS = (2012, 2013, 2014)
HOUSEHOLDS = 40
READ = ("raw.households", "raw.household_income", "ops.submissions")
# the staging views (whose pre-hook analyses the sources) and the rows of the current files over them
STAGING = ("stg_ops__submissions", "stg_raw__households", "stg_raw__household_income",
           "int_submissions_filtered_to_current", "int_households_filtered_to_current",
           "int_household_income_filtered_to_current")


def register(county: str, year: int) -> list[dict]:
    return [{"township_name": "樟潭街道", "village_code": f"{county}100001", "village_name": "沙湾村",
             "household_id": f"H{n:03d}", "head_name": "王建华", "head_id_number": f"{county}19600115{n:03d}X",
             "household_size": 4, "labour_count": 2, "is_dibao": n % 7 == 0, "identified_year": 2012,
             "poverty_cause": "因病", "status": "在册"} for n in range(HOUSEHOLDS)]


def incomes(county: str, year: int) -> list[dict]:
    return [{"household_id": f"H{n:03d}", "household_size": 4, "wage_income": 9000 + n, "business_income": 3000,
             "property_income": 200, "transfer_income": 800, "net_income": 13000 + n,
             "per_capita_net_income": (13000 + n) / 4, "consumption_expenditure": 12000,
             "education_expenditure": 1500, "medical_expenditure": 2500, "education_aid": 300, "medical_aid": 700,
             "employed_labour": 2, "trained_persons": 1} for n in range(HOUSEHOLDS)]


def never_analysed(conn) -> list[str]:
    return [name for name in READ if conn.execute(
        "select reltuples < 0 from pg_class where oid = %s::regclass", (name,)).fetchone()[0]]


def estimate_and_count(conn, query: str) -> tuple[float, int]:
    plan = conn.execute("explain (format json) " + query).fetchone()[0][0]["Plan"]
    return plan["Plan Rows"], conn.execute(f"select count(*) from ({query}) as counted").fetchone()[0]


def nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


@pytest.fixture(scope="module")
def first_night(new_warehouse):
    """Three years of six counties loaded into a fresh warehouse; nothing analysed yet."""
    warehouse = new_warehouse()
    with warehouse.connect() as conn:
        for name in READ:
            conn.execute(f"alter table {name} set (autovacuum_enabled = false)")
        for year in YEARS:
            for county in COUNTIES:
                raw_fixture.load_submission(conn, "households", county, year, register(county, year))
                raw_fixture.load_submission(conn, "household_income", county, year, incomes(county, year))
        assert never_analysed(conn) == list(READ)     # what a first night leaves before autovacuum comes
    warehouse.dbt("run", "-s", *STAGING)
    return warehouse


def test_the_staging_build_analyses_the_sources_a_load_left_without_statistics(first_night):
    with first_night.connect() as conn:
        assert never_analysed(conn) == []
        modified = dict(conn.execute(
            "select schemaname || '.' || relname, n_mod_since_analyze from pg_stat_user_tables "
            "where schemaname || '.' || relname = any(%s)", (list(READ),)).fetchall())
    assert modified == dict.fromkeys(READ, 0)


def test_current_submissions_are_estimated_as_the_ledgers_groups_not_one_row(first_night):
    with first_night.connect() as conn:
        for query in ("select * from intermediate.int_household_income_filtered_to_current",
                      "select * from intermediate.int_households_filtered_to_current"):
            estimated, rows = estimate_and_count(conn, query)
            assert rows == len(COUNTIES) * len(YEARS) * HOUSEHOLDS
            assert rows / 3 <= estimated <= rows * 3, (query, estimated, rows)


def test_the_income_facts_first_build_runs_no_plan_node_once_per_row(first_night):
    """EXPLAIN ANALYZE of the model's full-build query: every node runs at most once per current submission
    (an index probe per file is fine; a scan of the registers per income row was the 23 minutes)."""
    first_night.dbt("compile", "-s", "fct_household_income")
    compiled = next((run_dir(first_night.cfg) / "target" / "compiled").rglob("fct_household_income.sql"))
    with first_night.connect() as conn:
        plan = conn.execute("explain (analyze, format json) " + compiled.read_text()).fetchone()[0][0]["Plan"]
    files = len(COUNTIES) * len(YEARS)
    assert plan["Actual Rows"] == files * HOUSEHOLDS
    repeated = [(n["Node Type"], n["Actual Loops"]) for n in nodes(plan) if n["Actual Loops"] > files]
    assert repeated == [], json.dumps(plan)[:2000]
