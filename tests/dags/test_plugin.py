"""The listener plugin records real DAG runs in ops.pipeline_runs."""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_dag_run_is_recorded(run_dag, cfg, conn):
    cfg.landing_dir.mkdir(parents=True, exist_ok=True)   # a night without its landing folder fails
    run = run_dag("ingest_county_submissions")
    row = conn.execute(
        "select outcome, finished_at is not null from ops.pipeline_runs where run_id = %s", (run.run_id,)
    ).fetchone()
    assert row == ("success", True)
