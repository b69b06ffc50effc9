"""The real DAGs, run through Airflow's dag.test() against the session's warehouse."""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_ingest_dag_runs_green(run_dag, cfg):
    run = run_dag("ingest_county_submissions")
    assert str(getattr(run.state, "value", run.state)) == "success"
