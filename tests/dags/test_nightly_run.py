"""The real DAGs, run through Airflow's dag.test() against the session's warehouse."""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_ingest_dag_runs_green(run_dag, cfg):
    run = run_dag("ingest_county_submissions")
    assert str(getattr(run.state, "value", run.state)) == "success"


def test_second_nightly_run_refuses_while_the_warehouse_lock_is_held(cfg, conn):
    from lowincome.errors import UserError
    from lowincome.pipeline import run_nightly
    from lowincome.warehouse import nightly_lock

    with nightly_lock(conn) as held:
        assert held
        with pytest.raises(UserError, match="another nightly run holds the warehouse lock"):
            run_nightly(cfg)
