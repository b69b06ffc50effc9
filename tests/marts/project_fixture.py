"""The projects of the 公告公示 tests (tests/marts/test_project_disclosure.py, tests/browser): rows written
straight into warehouse.fct_project_fund, and a warehouse with project_disclosure built from them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
from fixture_data import A, B

from lowincome.config import Settings

VINTAGE = datetime(2018, 3, 1, tzinfo=UTC)
# id, county, year, village (suffix), type, source, allocated, disbursed, households, announced, ends
PROJECTS = [
    ("P1", A, 2017, "100001", "产业发展", "省级", 500000, 500000, 35, date(2017, 4, 1), date(2017, 4, 10)),
    ("P2", A, 2017, None, "培训", "县级", 300000, 120000, 800, None, None),
    ("P3", A, 2017, "100002", "基础设施", "中央", 200000, 0, None, None, None),
    ("P4", A, 2017, "100001", "村级集体经济", "市级", 100000, 50000, 20, date(2017, 12, 28), date(2018, 1, 7)),
    ("P5", A, 2017, "100001", "农家乐", "结对帮扶", 80000, 80000, 12, date(2017, 12, 31), date(2017, 12, 31)),
    ("P6", A, 2017, "100003", "其他", "社会帮扶", 10000, 1, 3, date(2018, 1, 5), None),
    ("P7", A, 2017, None, "金融扶贫", "省级", 0, 0, None, date(2017, 3, 1), date(2017, 3, 8)),
    ("Q1", B, 2016, "100001", "基础设施", "县级", 60000, 30000, 40, date(2016, 5, 1), date(2016, 5, 8)),
]


def load_projects(conn: psycopg.Connection) -> None:
    conn.execute("truncate warehouse.fct_project_fund")
    for pid, county, year, village, kind, source, allocated, disbursed, households, announced, ends in PROJECTS:
        code = None if village is None else county + village
        conn.execute(
            """insert into warehouse.fct_project_fund (project_fund_key, county_code, year, project_id, project_name,
                   project_type, village_code, fund_source, amount_allocated, amount_disbursed, beneficiary_households,
                   announced_on, announcement_ends_on, submission_id, vintage)
               values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            (f"{county}-{year}-{pid}", county, year, pid, f"项目{pid}<b>", kind, code, source, allocated, disbursed,
             households, announced, ends, year, VINTAGE))
    # the village ledger names A's first village in 2017 (the others are in no ledger: no name)
    conn.execute("""insert into warehouse.dim_village (village_key, village_code, county_code, year, village_name,
                        is_key_village, is_weak_village, in_village_ledger)
                    values (%s, %s, %s, 2017, '塔山村', true, false, true)""", (f"{A}100001-2017", f"{A}100001", A))


def disclosed_warehouse(cfg: Settings, scratch: Path) -> Settings:
    """A fresh copy of the built warehouse with the projects above, the mart built (dbt, enforced contract)
    after the fact's and staging's data tests, row security on."""
    import marts_harness

    from lowincome.publish import refresh_grants
    from lowincome.transform import run_dbt

    warehouse = marts_harness.new_warehouse(cfg, scratch)
    with psycopg.connect(warehouse.warehouse_url(), autocommit=True) as conn:
        load_projects(conn)
    run_dbt(warehouse, ["test", "--select", "stg_raw__project_funds", "fct_project_fund"])
    run_dbt(warehouse, ["run", "--select", "project_disclosure"])
    refresh_grants(warehouse)
    return warehouse
