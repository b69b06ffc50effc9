"""A night, the warehouse moved (another database of the same server), the next night: both succeed (issue 22).

Both nights write into the session's one Airflow metadata database, as two warehouses sharing a server's
``airflow`` database do, or an office that moved its warehouse to another host, port or database name.
Each night is ``lowincome run`` in a process of its own, configured only through the environment as an
operator's shell would be: the Assets are computed in each process, from the configuration it reads.
Before the Assets named the layers, the second night failed in ``publish_raw``
(AirflowInactiveAssetInInletOrOutletException): the asset of the first warehouse held the name.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from fixtures.county_files import households, incomes, table, write_csv
from psycopg import sql

from lowincome.config import with_database

COUNTY, YEAR = "330825", 2015
NIGHT_TIMEOUT = 900


def night(url: str, data: Path) -> subprocess.CompletedProcess:
    landing = data / "landing"
    write_csv(landing / f"{COUNTY}_households_{YEAR}.csv", table(households(6, county=COUNTY, year=YEAR), "households"))
    write_csv(landing / f"{COUNTY}_household_income_{YEAR}.csv",
              table(incomes(6, county=COUNTY, year=YEAR), "household_income"))
    # The Airflow database, home and HMAC key stay the session's; everything Airflow-side is derived afresh.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(LOWINCOME_WAREHOUSE_URL=url, LOWINCOME_DATA_DIR=str(data))
    return subprocess.run([str(Path(sys.executable).with_name("lowincome")), "run"], env=env, capture_output=True,
                          text=True, timeout=NIGHT_TIMEOUT)


@pytest.mark.slow
def test_the_night_after_the_warehouse_moved_runs(airflow_ready, tmp_path):
    names = [f"lowincome_moved_{uuid.uuid4().hex[:8]}_{n}" for n in (1, 2)]
    admin_url = with_database(airflow_ready.warehouse_url(), "postgres")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        for name in names:
            admin.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    try:
        for number, name in enumerate(names, start=1):
            done = night(with_database(airflow_ready.warehouse_url(), name), tmp_path / f"data{number}")
            assert done.returncode == 0, f"night {number}: {done.stdout[-1500:]} {done.stderr[-1500:]}"
            with psycopg.connect(with_database(airflow_ready.warehouse_url(), name)) as conn:
                loaded = conn.execute("select count(*) from warehouse.fct_household_income").fetchone()[0]
                published = conn.execute("select count(*) from marts.target_attainment").fetchone()[0]
            assert (loaded, published > 0) == (6, True), f"night {number}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            for name in names:
                admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
