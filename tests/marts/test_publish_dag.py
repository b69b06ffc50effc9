"""The real publish_monitoring DAG, run through dag.test() on a warehouse holding the fixture."""

from __future__ import annotations

import psycopg
import pytest
from fixture_data import A
from marts_harness import load_fixture, query

pytestmark = pytest.mark.slow


def test_publish_dag_builds_secures_documents_and_reports(fresh_warehouse, run_dag, monkeypatch):
    warehouse = fresh_warehouse
    load_fixture(warehouse)
    monkeypatch.setenv("LOWINCOME_WAREHOUSE_URL", warehouse.warehouse_url())
    monkeypatch.setenv("LOWINCOME_DATA_DIR", str(warehouse.data_dir))

    run = run_dag("publish_monitoring")

    assert str(getattr(run.state, "value", run.state)) == "success"
    assert (warehouse.reports_dir / "index.html").exists()
    assert (warehouse.docs_dir / "dbt" / "index.html").exists()
    assert (warehouse.docs_dir / "validation" / "index.html").exists()
    row = query(warehouse, """select value, met from marts.target_attainment
        where target_id = 'T1' and geography_code = %s and year = 2017""", (A,))[0]
    assert row["met"] is True
    with psycopg.connect(warehouse.warehouse_url()) as conn:
        secured = conn.execute("select relrowsecurity from pg_class where oid = 'marts.target_attainment'::regclass")
        assert secured.fetchone()[0] is True
    # the run's time stamps the publication
    published = query(warehouse, "select max(valid_from) as at from marts.target_attainment_history")[0]["at"]
    assert published == run.run_after
