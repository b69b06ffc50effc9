"""The county-year partial sums the marts roll up (models/intermediate/publication/partials/) are kept between
publications: a publication recomputes only the county-years whose inputs changed, and what it keeps
equals a full recomputation."""

from __future__ import annotations

import hashlib
from pathlib import Path

import psycopg
import pytest
from fixture_data import COUNTIES, A, B, C, E
from marts_harness import FIRST_PUBLICATION, SECOND_PUBLICATION, load_fixture

from lowincome.publish import refresh_marts
from lowincome.transform import run_dbt

pytestmark = pytest.mark.slow

INCOME = "int_household_income_summed_to_county_years"
REGISTER = "int_household_register_summed_to_county_years"
PARTICIPATION = "int_program_participation_summed_to_county_years"
PARTIALS = (INCOME, REGISTER, PARTICIPATION)


def _versions(warehouse, table: str) -> dict[tuple, tuple]:
    """(county_code, year) -> (xmin, row): a recomputed row gets a new xmin."""
    with psycopg.connect(warehouse.warehouse_url()) as conn:
        rows = conn.execute(f"select county_code, year, xmin::text, t::text from intermediate.{table} t").fetchall()
    return {(c, y): (x, r) for c, y, x, r in rows}


def _recomputed(before: dict, after: dict) -> set[tuple]:
    return {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}


def _rows(warehouse, table: str) -> list[tuple]:
    with psycopg.connect(warehouse.warehouse_url()) as conn:
        return conn.execute(f"select t::text from intermediate.{table} t order by 1").fetchall()


def test_a_publication_recomputes_only_changed_county_years_and_equals_a_full_recomputation(fresh_warehouse):
    w = fresh_warehouse
    load_fixture(w)
    refresh_marts(w, FIRST_PUBLICATION)
    before = {t: _versions(w, t) for t in PARTIALS}
    assert {c for c, _ in before[INCOME]} == set(COUNTIES)

    # nothing new: nothing recomputed
    refresh_marts(w, SECOND_PUBLICATION)
    assert {t: _versions(w, t) for t in PARTIALS} == before

    with psycopg.connect(w.warehouse_url(), autocommit=True) as conn:
        # A resubmits its 2017 incomes (every row of the county-year from the new file)
        conn.execute("""update warehouse.fct_household_income set net_income = net_income + 100,
            submission_id = 99, vintage = '2018-05-20 09:00+08' where county_code = %s and year = 2017""", (A,))
        # C's 2016 register is corrected: one household leaves the monitoring scope
        conn.execute("""update warehouse.fct_household_status_change set status = '退出'
            where ctid = (select ctid from warehouse.fct_household_status_change
                          where county_code = %s and year = 2016 and status = '在册' limit 1)""", (C,))
        conn.execute("""update warehouse.fct_household_status_change set submission_id = 98
            where county_code = %s and year = 2016""", (C,))
        # B's 2017 programme file is replaced by one whose every row was rejected: the county-year leaves
        conn.execute("delete from warehouse.fct_program_participation where county_code = %s and year = 2017", (B,))
        # the province's 2017 figures are resubmitted: every county's 2017 loans are judged again
        conn.execute("""update warehouse.fct_province_indicator set submission_id = 97,
            benchmark_rate_pct = benchmark_rate_pct + 1 where year = 2017""")
    refresh_marts(w, SECOND_PUBLICATION.replace(day=20))
    after = {t: _versions(w, t) for t in PARTIALS}

    assert _recomputed(before[INCOME], after[INCOME]) == {(A, 2017)}
    assert _recomputed(before[REGISTER], after[REGISTER]) == {(C, 2016)}
    participation_2017 = {k for k in before[PARTICIPATION] if k[1] == 2017}
    assert _recomputed(before[PARTICIPATION], after[PARTICIPATION]) == participation_2017
    assert (B, 2017) not in after[PARTICIPATION]
    assert (E, 2017) in after[PARTICIPATION]

    kept = {t: _rows(w, t) for t in PARTIALS}
    run_dbt(w, ["run", "--full-refresh", "--select", *PARTIALS])
    for table in PARTIALS:
        assert _rows(w, table) == kept[table], f"{table}: kept partials differ from a full recomputation"


def test_rows_computed_from_other_inputs_are_recomputed(fresh_warehouse):
    """A row names its inputs, the model's code among them (an md5 of it): rows whose recorded inputs
    no longer match, as after a deployment that changed the formula, are all recomputed."""
    w = fresh_warehouse
    load_fixture(w)
    refresh_marts(w, FIRST_PUBLICATION)
    code = Path(__file__).parents[2] / "dbt_project" / "models" / "intermediate" / "publication" / "partials" / f"{REGISTER}.sql"
    # dbt's local_md5 of the model's raw code (the file without its surrounding blank space)
    digest = hashlib.md5(code.read_text(encoding="utf-8").strip().encode()).hexdigest()  # noqa: S324
    before = _versions(w, REGISTER)
    assert all(row.endswith(f"code {digest}") for row in _inputs(w, REGISTER))
    with psycopg.connect(w.warehouse_url(), autocommit=True) as conn:
        conn.execute(f"update intermediate.{REGISTER} set inputs = replace(inputs, 'code ', 'code old-')")
    refresh_marts(w, SECOND_PUBLICATION)
    after = _versions(w, REGISTER)
    assert before.keys() == after.keys()
    assert _recomputed(before, after) == set(before)
    assert all(row.endswith(f"code {digest}") for row in _inputs(w, REGISTER))


def _inputs(warehouse, table: str) -> list[str]:
    with psycopg.connect(warehouse.warehouse_url()) as conn:
        return [r[0] for r in conn.execute(f"select inputs from intermediate.{table}").fetchall()]
